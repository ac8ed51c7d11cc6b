SELECT event_type, count(*) FROM eval.attributions WHERE ds = %(ds)s GROUP BY event_type ORDER BY event_type;
