-- How many model recommendations (source = 'model') each recommended item got in one scoring attempt,
-- most recommended first (items never recommended are absent).
SELECT count(*) AS n
FROM recs.results
WHERE ds = %(ds)s AND publish_id = %(publish_id)s AND source = 'model'
GROUP BY item_id
ORDER BY n DESC;
