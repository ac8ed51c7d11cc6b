-- A few users served now, per source (the model and the trending fallback), as examples to look up.
SELECT source, user_id
FROM (
    SELECT l.source, l.user_id, row_number() OVER (PARTITION BY l.source ORDER BY l.user_id) AS n
    FROM recs.latest l
    WHERE l.rank = 1
) s
WHERE n <= %(per_source)s
ORDER BY source, user_id;
