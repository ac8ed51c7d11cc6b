SELECT model_id, ds, cell, params, metrics, artifact_uri, status, reason
FROM models.registry
WHERE model_id = %(model_id)s;
