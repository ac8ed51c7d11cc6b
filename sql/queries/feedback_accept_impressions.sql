INSERT INTO clean.impressions (ds, request_id, position, user_id, item_id, publish_id, shown_at, surface,
                               model_id, source, grp, load_id, line_no)
SELECT ds, request_id_n, position_n, user_id_n, item_id_n, publish_id_n, ts_n, surface_n,
       publish_model, source, grp, load_id, line_no
FROM feedback_impressions_flagged
WHERE cardinality(reasons) = 0;
