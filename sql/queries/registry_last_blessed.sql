-- The most recent blessed model trained for a day before ds (to compare against on today's users).
SELECT model_id, ds, artifact_uri
FROM models.registry
WHERE status = 'blessed' AND ds < %(ds)s
ORDER BY ds DESC, decided_at DESC
LIMIT 1;
