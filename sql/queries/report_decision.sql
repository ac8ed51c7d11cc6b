-- The publish-gate decision for one evaluated model on a day (no row if the model was never gated).
SELECT blessed, metric, candidate, best_baseline, baseline, last_blessed, reason
FROM eval.gate_decisions
WHERE ds = %(ds)s AND model_id = %(model_id)s;
