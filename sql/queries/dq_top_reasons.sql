SELECT target, reason, count(*) AS n
FROM dq.rejects, unnest(reasons) AS reason
WHERE ds = %(ds)s
GROUP BY target, reason
ORDER BY n DESC, target, reason;
