-- The day's metrics for the model that went live with the day (recs.published), else for the most recently
-- evaluated model of the day; one row per (metric, k, method).
WITH chosen AS (
    SELECT coalesce(
        (SELECT p.model_id FROM recs.published p WHERE p.ds = %(ds)s),
        (SELECT d.model_id FROM eval.gate_decisions d WHERE d.ds = %(ds)s ORDER BY d.decided_at DESC LIMIT 1)
    ) AS model_id
)
SELECT m.metric, m.k, m.method, m.value, m.users, m.model_id
FROM eval.metrics m JOIN chosen USING (model_id)
WHERE m.ds = %(ds)s
ORDER BY m.metric, m.k, m.method;
