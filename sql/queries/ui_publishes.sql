-- Every published day (what a roll back / promote can make live again), newest first, with its model's status.
SELECT p.ds, p.publish_id, p.model_id, p.users, p.rows_published, p.published_at, m.status, m.reason,
       (c.ds IS NOT NULL) AS live
FROM recs.published p
LEFT JOIN models.registry m ON m.model_id = p.model_id
LEFT JOIN recs.current c ON c.ds = p.ds AND c.publish_id = p.publish_id
ORDER BY p.ds DESC;
