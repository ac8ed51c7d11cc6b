UPDATE models.registry
SET status = %(status)s, reason = %(reason)s, metrics = metrics || %(metrics)s, decided_at = now()
WHERE model_id = %(model_id)s;
