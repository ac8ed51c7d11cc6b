-- Store the blend weights fitted for a model (a refit replaces them).
INSERT INTO models.search_blend (model_id, ds, w_cos, w_pop, w_pop_cold, fit_from, fit_to, searches,
                                 mrr_personalised, mrr_text_pop, mrr_text)
VALUES (%(model_id)s, %(ds)s, %(w_cos)s, %(w_pop)s, %(w_pop_cold)s, %(fit_from)s, %(fit_to)s, %(searches)s,
        %(mrr_personalised)s, %(mrr_text_pop)s, %(mrr_text)s)
ON CONFLICT (model_id) DO UPDATE
SET ds = EXCLUDED.ds, w_cos = EXCLUDED.w_cos, w_pop = EXCLUDED.w_pop, w_pop_cold = EXCLUDED.w_pop_cold,
    fit_from = EXCLUDED.fit_from, fit_to = EXCLUDED.fit_to, searches = EXCLUDED.searches,
    mrr_personalised = EXCLUDED.mrr_personalised, mrr_text_pop = EXCLUDED.mrr_text_pop,
    mrr_text = EXCLUDED.mrr_text, fitted_at = now();
