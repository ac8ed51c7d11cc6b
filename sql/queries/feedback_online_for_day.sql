SELECT ds, publish_id, model_id, source, grp, metric, k, value, n
FROM eval.online_metrics WHERE ds = %(ds)s ORDER BY grp DESC, source, metric, k;
