-- Every metric of one evaluated model on a day, per method, with its 95 percent confidence interval when recorded.
SELECT method, metric, k, value, ci_low, ci_high, users
FROM eval.metrics
WHERE ds = %(ds)s AND model_id = %(model_id)s
ORDER BY metric, k, method;
