-- The gate metric per evaluated day up to ds: the model's value and the best baseline's (name and value).
-- One model per day: the reported model on ds itself, otherwise the most recently gated model of that day.
WITH runs AS (
    SELECT DISTINCT ON (d.ds) d.ds, d.model_id, d.blessed
    FROM eval.gate_decisions d
    WHERE d.ds <= %(ds)s
    ORDER BY d.ds, (d.ds = %(ds)s AND d.model_id = %(model_id)s) DESC, d.decided_at DESC
)
SELECT r.ds, r.model_id, r.blessed,
       max(m.value) FILTER (WHERE m.method = 'model') AS model_value,
       (array_agg(m.method ORDER BY m.value DESC, m.method) FILTER (WHERE m.method <> 'model'))[1] AS best_baseline,
       max(m.value) FILTER (WHERE m.method <> 'model') AS baseline_value
FROM runs r
JOIN eval.metrics m ON m.ds = r.ds AND m.model_id = r.model_id AND m.metric = %(metric)s AND m.k = %(k)s
GROUP BY r.ds, r.model_id, r.blessed
ORDER BY r.ds;
