-- The gate decision of the day's model: the one that went live with the day (recs.published), else the most
-- recently evaluated one.
SELECT d.model_id, d.blessed, d.metric, d.candidate, d.best_baseline, d.baseline, d.last_blessed, d.reason
FROM eval.gate_decisions d
LEFT JOIN recs.published p ON p.ds = d.ds AND p.model_id = d.model_id
WHERE d.ds = %(ds)s
ORDER BY (p.model_id IS NOT NULL) DESC, d.decided_at DESC
LIMIT 1;
