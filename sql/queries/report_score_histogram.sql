-- Histogram of one scoring attempt's scores per source, on common bins over [lo, hi] of all its scores.
-- bucket is 1..%(bins)s (the maximum score falls in the last bucket).
WITH scored AS (
    SELECT source, score::double precision AS score
    FROM recs.results
    WHERE ds = %(ds)s AND publish_id = %(publish_id)s
), bounds AS (
    SELECT min(score) AS lo, CASE WHEN max(score) > min(score) THEN max(score) ELSE min(score) + 1 END AS hi
    FROM scored
)
SELECT s.source, least(width_bucket(s.score, b.lo, b.hi, %(bins)s), %(bins)s) AS bucket, count(*) AS n, b.lo, b.hi
FROM scored s CROSS JOIN bounds b
GROUP BY s.source, 2, b.lo, b.hi
ORDER BY s.source, 2;
