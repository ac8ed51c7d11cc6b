DELETE FROM eval.online_metrics WHERE ds = %(ds)s;
DELETE FROM eval.online_lift WHERE ds = %(ds)s;
