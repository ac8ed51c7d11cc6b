-- Rejected rows per target and reason code over the days from %(since)s (every reason a row carries counts),
-- with the days they occurred on and a readable example message.
SELECT r.target, reason, count(*) AS n, count(DISTINCT r.ds) AS days, max(r.ds) AS last_ds,
       min(r.message) AS example
FROM dq.rejects r, unnest(r.reasons) AS reason
WHERE r.ds >= %(since)s
GROUP BY r.target, reason
ORDER BY n DESC, r.target, reason;
