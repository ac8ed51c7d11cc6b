-- The most recently gated model for a day (the one `eval report` shows).
SELECT model_id FROM eval.gate_decisions WHERE ds = %(ds)s ORDER BY decided_at DESC LIMIT 1;
