-- Histogram of one scoring attempt's scores per source, on common bins over [lo, hi] of all its scores.
-- bucket is 1..%(bins)s (the maximum score falls in the last bucket). The bounds are scalar subqueries
-- (computed once) so that a freshly loaded, not yet analysed partition cannot get a per-row re-aggregation.
WITH scored AS MATERIALIZED (
    SELECT source, score::double precision AS score
    FROM recs.results
    WHERE ds = %(ds)s AND publish_id = %(publish_id)s
), bounds AS MATERIALIZED (
    SELECT min(score) AS lo, CASE WHEN max(score) > min(score) THEN max(score) ELSE min(score) + 1 END AS hi
    FROM scored
)
SELECT s.source,
       least(width_bucket(s.score, (SELECT lo FROM bounds), (SELECT hi FROM bounds), %(bins)s), %(bins)s) AS bucket,
       count(*) AS n, (SELECT lo FROM bounds) AS lo, (SELECT hi FROM bounds) AS hi
FROM scored s
GROUP BY s.source, 2
ORDER BY s.source, 2;
