INSERT INTO clean.feedback_events (ds, event_id, user_id, item_id, event_type, ts, request_id, load_id, line_no)
SELECT ds, event_id_n, user_id_n, item_id_n, event_type_n, ts_n, request_id_n, load_id, line_no
FROM feedback_events_flagged
WHERE cardinality(reasons) = 0;
