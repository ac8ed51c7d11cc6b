-- The day's metrics for the most recently evaluated model, one row per (metric, k), methods as columns.
WITH latest AS (
    SELECT model_id FROM eval.gate_decisions WHERE ds = %(ds)s ORDER BY decided_at DESC LIMIT 1
)
SELECT m.metric, m.k, m.method, m.value, m.users, m.model_id
FROM eval.metrics m JOIN latest USING (model_id)
WHERE m.ds = %(ds)s
ORDER BY m.metric, m.k, m.method;
