-- Quarantine the day's flagged events rows; a duplicate's message names the row that was kept.
INSERT INTO dq.rejects (ds, load_id, target, line_no, payload, reasons, message)
SELECT f.ds, f.load_id, 'events', f.line_no,
       jsonb_build_object('event_id', f.event_id, 'user_id', f.user_id, 'item_id', f.item_id,
                          'event_type', f.event_type, 'ts', f.ts, 'session_id', f.session_id,
                          'query', f.query, 'value', f.value),
       f.reasons,
       concat((SELECT string_agg(coalesce(rc.description, u.code), '; ' ORDER BY u.ord)
                 FROM unnest(f.reasons) WITH ORDINALITY u(code, ord)
                 LEFT JOIN dq.reason_codes rc ON rc.code = u.code AND rc.target = 'events'),
              CASE WHEN f.reasons && ARRAY['duplicate_row', 'duplicate_event_id'] THEN format(' (kept: load %%s line %%s)', f.kept_load_id, f.kept_line_no) END)
FROM dq_events_flagged f
WHERE cardinality(f.reasons) > 0;
