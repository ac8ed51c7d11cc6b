-- Sample rejected rows (the payload exactly as landed), newest day first; optionally one reason code / day.
SELECT r.ds, r.target, r.load_id, r.line_no, r.payload, r.reasons, r.message
FROM dq.rejects r
WHERE (%(reason)s::text IS NULL OR %(reason)s::text = ANY (r.reasons))
  AND (%(ds)s::date IS NULL OR r.ds = %(ds)s::date)
ORDER BY r.ds DESC, r.target, r.load_id, r.line_no
LIMIT %(limit)s;
