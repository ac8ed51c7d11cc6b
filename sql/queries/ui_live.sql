-- What recs.latest serves now: the day, its publish, model and counts, and since when it is live (its publish,
-- or the last roll back / promote that pointed recs.current at it, whichever is later).
SELECT c.ds, c.publish_id, p.model_id, p.users, p.rows_published, p.published_at,
       greatest(p.published_at, a.at) AS live_since,
       a.actor AS republished_by, a.reason AS republish_reason
FROM recs.current c
LEFT JOIN recs.published p ON p.ds = c.ds AND p.publish_id = c.publish_id
LEFT JOIN LATERAL (
    SELECT au.at, au.actor, au.reason
    FROM recs.publish_audit au
    WHERE au.to_ds = c.ds AND au.to_publish_id = c.publish_id
    ORDER BY au.at DESC
    LIMIT 1
) a ON true;
