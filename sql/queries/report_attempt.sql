-- The model's scoring attempt for a day in recs.results: the published one if it is this model's,
-- else the latest; with its row and user counts per source. No rows when the day has no scores yet.
WITH attempt AS MATERIALIZED (
    SELECT r.publish_id, bool_or(p.publish_id IS NOT NULL) AS published
    FROM recs.results r
    LEFT JOIN recs.published p ON p.ds = r.ds AND p.publish_id = r.publish_id
    WHERE r.ds = %(ds)s AND r.model_id = %(model_id)s
    GROUP BY r.publish_id
    ORDER BY published DESC, r.publish_id DESC
    LIMIT 1
)
SELECT a.publish_id, a.published, r.source, count(*) AS rows, count(DISTINCT r.user_id) AS users,
       max(r.rank) AS max_rank
FROM attempt a
JOIN recs.results r ON r.ds = %(ds)s AND r.publish_id = a.publish_id
GROUP BY a.publish_id, a.published, r.source
ORDER BY r.source;
