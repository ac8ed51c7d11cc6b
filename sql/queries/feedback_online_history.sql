-- The treatment / holdout CTR@k lift of the `days` days with impressions up to ds, newest first (report, UI).
SELECT ds, treatment, holdout, lift, ci_low, ci_high, users_treatment, users_holdout
FROM eval.online_lift
WHERE metric = 'ctr' AND k = %(k)s AND ds <= %(ds)s
ORDER BY ds DESC
LIMIT %(days)s;
