-- The gate metric of the most recent blessed model before this day (NULL when there is none).
SELECT m.model_id, m.value
FROM models.registry r
JOIN eval.metrics m ON m.model_id = r.model_id AND m.ds = r.ds AND m.method = 'model'
WHERE r.status = 'blessed' AND r.ds < %(ds)s AND m.metric = %(metric)s AND m.k = %(k)s
ORDER BY r.ds DESC, r.decided_at DESC
LIMIT 1;
