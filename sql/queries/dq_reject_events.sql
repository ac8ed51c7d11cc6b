INSERT INTO dq.rejects (ds, load_id, target, line_no, payload, reasons, message)
SELECT f.ds, f.load_id, 'events', f.line_no,
       jsonb_build_object('event_id', f.event_id, 'user_id', f.user_id, 'item_id', f.item_id,
                          'event_type', f.event_type, 'ts', f.ts, 'session_id', f.session_id,
                          'query', f.query, 'value', f.value),
       f.reasons,
       (SELECT string_agg(rc.description, '; ' ORDER BY u.ord)
          FROM unnest(f.reasons) WITH ORDINALITY u(code, ord)
          JOIN dq.reason_codes rc ON rc.code = u.code AND rc.target = 'events')
FROM dq_events_flagged f
WHERE cardinality(f.reasons) > 0;
