-- The model registry, newest first, with whether each model's day is published and live now.
SELECT m.model_id, m.ds, m.cell, m.params, m.train_from, m.train_to, m.metrics, m.artifact_uri, m.status, m.reason,
       m.created_at, m.decided_at,
       (p.model_id IS NOT NULL) AS published,
       (c.ds IS NOT NULL) AS live
FROM models.registry m
LEFT JOIN recs.published p ON p.ds = m.ds AND p.model_id = m.model_id
LEFT JOIN recs.current c ON c.ds = p.ds AND c.publish_id = p.publish_id
ORDER BY m.ds DESC, m.created_at DESC
LIMIT %(limit)s;
