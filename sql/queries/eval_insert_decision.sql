INSERT INTO eval.gate_decisions (ds, model_id, blessed, metric, candidate, best_baseline, baseline,
                                 last_blessed, reason)
VALUES (%(ds)s, %(model_id)s, %(blessed)s, %(metric)s, %(candidate)s, %(best_baseline)s, %(baseline)s,
        %(last_blessed)s, %(reason)s);
