SELECT model_id, blessed, metric, candidate, best_baseline, baseline, last_blessed, reason
FROM eval.gate_decisions
WHERE ds = %(ds)s
ORDER BY decided_at DESC
LIMIT 1;
