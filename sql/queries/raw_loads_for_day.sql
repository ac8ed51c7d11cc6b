SELECT target, count(*) AS loads, coalesce(sum(rows_landed), 0) AS rows_landed
FROM raw.loads
WHERE ds = %(ds)s
GROUP BY target;
