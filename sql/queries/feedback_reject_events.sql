-- Quarantine the day's flagged feedback events with every reason and its readable message.
INSERT INTO dq.rejects (ds, load_id, target, line_no, payload, reasons, message)
SELECT f.ds, f.load_id, 'feedback', f.line_no,
       jsonb_build_object('event_id', f.event_id, 'user_id', f.user_id, 'item_id', f.item_id,
                          'event_type', f.event_type, 'ts', f.ts, 'request_id', f.request_id),
       f.reasons,
       (SELECT string_agg(coalesce(rc.description, u.code), '; ' ORDER BY u.ord)
          FROM unnest(f.reasons) WITH ORDINALITY u(code, ord)
          LEFT JOIN dq.reason_codes rc ON rc.code = u.code AND rc.target = 'feedback')
FROM feedback_events_flagged f
WHERE cardinality(f.reasons) > 0;
