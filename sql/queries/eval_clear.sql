DELETE FROM eval.metrics WHERE ds = %(ds)s AND model_id = %(model_id)s;
DELETE FROM eval.gate_decisions WHERE ds = %(ds)s AND model_id = %(model_id)s;
