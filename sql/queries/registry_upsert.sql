-- Register a trained model as a candidate. A rerun of the same day and parameters trains the same model_id:
-- it replaces a candidate or rejected entry, but a blessed model (possibly live) keeps its status and
-- artifact until an explicit decision changes them. Returns the row when it was written, nothing otherwise.
INSERT INTO models.registry (model_id, ds, cell, params, train_from, train_to, metrics, artifact_uri, status)
VALUES (%(model_id)s, %(ds)s, %(cell)s, %(params)s, %(train_from)s, %(train_to)s, %(metrics)s,
        %(artifact_uri)s, 'candidate')
ON CONFLICT (model_id) DO UPDATE
SET params = EXCLUDED.params, train_from = EXCLUDED.train_from, train_to = EXCLUDED.train_to,
    metrics = EXCLUDED.metrics, artifact_uri = EXCLUDED.artifact_uri, status = 'candidate',
    reason = NULL, created_at = now(), decided_at = NULL
WHERE models.registry.status <> 'blessed'
RETURNING model_id;
