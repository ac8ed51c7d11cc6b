-- Quarantine the day's flagged impressions with every reason and its readable message.
INSERT INTO dq.rejects (ds, load_id, target, line_no, payload, reasons, message)
SELECT f.ds, f.load_id, 'impressions', f.line_no,
       jsonb_build_object('request_id', f.request_id, 'user_id', f.user_id, 'item_id', f.item_id,
                          'position', f.position, 'publish_id', f.publish_id, 'shown_at', f.shown_at,
                          'surface', f.surface),
       f.reasons,
       (SELECT string_agg(coalesce(rc.description, u.code), '; ' ORDER BY u.ord)
          FROM unnest(f.reasons) WITH ORDINALITY u(code, ord)
          LEFT JOIN dq.reason_codes rc ON rc.code = u.code AND rc.target = 'impressions')
FROM feedback_impressions_flagged f
WHERE cardinality(f.reasons) > 0;
