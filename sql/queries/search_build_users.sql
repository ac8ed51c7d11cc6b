-- The model's user vectors of the day at unit length, under a publish_id.
INSERT INTO search.users (publish_id, user_id, vec)
SELECT %(publish_id)s, u.user_id, search.to_vec(search.unit(u.vector))
FROM features.user_embeddings u
WHERE u.ds = %(ds)s AND u.model_id = %(model_id)s;
