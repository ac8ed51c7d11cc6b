-- The blend weights to serve a model with: its own fit, else the latest fit of a model of an earlier day.
SELECT model_id, w_cos, w_pop, w_pop_cold
FROM models.search_blend
WHERE model_id = %(model_id)s OR ds < %(ds)s
ORDER BY model_id = %(model_id)s DESC, ds DESC, fitted_at DESC
LIMIT 1;
