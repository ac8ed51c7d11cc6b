-- Refreshed lists of attempts that are no longer published (a rerun of their day replaced them) go with them.
WITH stale AS (
    DELETE FROM recs.refresh_current u
    WHERE NOT EXISTS (SELECT 1 FROM recs.published p WHERE p.publish_id = u.publish_id)
    RETURNING u.publish_id
)
DELETE FROM recs.refresh_results f
WHERE f.publish_id = ANY (ARRAY(SELECT DISTINCT s.publish_id FROM stale s));
