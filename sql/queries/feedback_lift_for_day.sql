SELECT metric, k, treatment, holdout, lift, ci_low, ci_high, users_treatment, users_holdout
FROM eval.online_lift WHERE ds = %(ds)s ORDER BY metric, k;
