-- Every metric of one evaluated model for a day: one row per (method, metric, k); k = 0 means no cutoff.
SELECT method, metric, k, value, users
FROM eval.metrics
WHERE ds = %(ds)s AND model_id = %(model_id)s
ORDER BY method, metric, k;
