-- Remove a model's search metrics for a day (the search methods only; evaluate's own rows stay).
DELETE FROM eval.metrics WHERE ds = %(ds)s AND model_id = %(model_id)s AND method = ANY(%(methods)s);
