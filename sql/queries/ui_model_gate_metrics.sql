-- The gate metric of each given model against each method on the model's evaluation day.
SELECT m.model_id, m.method, m.value, m.ci_low, m.ci_high, m.users
FROM eval.metrics m
JOIN eval.gate_decisions d ON d.ds = m.ds AND d.model_id = m.model_id
WHERE m.model_id = ANY (%(model_ids)s)
  AND m.metric || '@' || m.k = d.metric
ORDER BY m.model_id, m.method;
