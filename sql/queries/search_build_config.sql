-- Record a built search index: the weights it serves with and its sizes (counted from its partitions).
INSERT INTO search.config (publish_id, ds, model_id, w_cos, w_pop, w_pop_cold, blend_from, items, users, queries)
SELECT %(publish_id)s, %(ds)s, %(model_id)s, %(w_cos)s, %(w_pop)s, %(w_pop_cold)s, %(blend_from)s,
       (SELECT count(*) FROM search.items WHERE publish_id = %(publish_id)s),
       (SELECT count(*) FROM search.users WHERE publish_id = %(publish_id)s),
       (SELECT count(*) FROM search.queries WHERE publish_id = %(publish_id)s)
RETURNING items, users, queries;
