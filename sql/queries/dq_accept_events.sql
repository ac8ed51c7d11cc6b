INSERT INTO clean.events (ds, event_id, user_id, item_id, event_type, ts, session_id, query, value,
                          load_id, line_no)
SELECT ds, event_id_n, user_id_n, item_id_n, event_type_n, ts_n,
       nullif(btrim(session_id), ''), nullif(btrim(query), ''), value_n, load_id, line_no
FROM dq_events_flagged
WHERE cardinality(reasons) = 0;
