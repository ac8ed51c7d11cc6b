-- Register (or re-register, on a rerun of the same day and params) a trained model as a candidate.
INSERT INTO models.registry (model_id, ds, cell, params, train_from, train_to, metrics, artifact_uri, status)
VALUES (%(model_id)s, %(ds)s, %(cell)s, %(params)s, %(train_from)s, %(train_to)s, %(metrics)s,
        %(artifact_uri)s, 'candidate')
ON CONFLICT (model_id) DO UPDATE
SET params = EXCLUDED.params, train_from = EXCLUDED.train_from, train_to = EXCLUDED.train_to,
    metrics = EXCLUDED.metrics, artifact_uri = EXCLUDED.artifact_uri, status = 'candidate',
    reason = NULL, created_at = now(), decided_at = NULL;
