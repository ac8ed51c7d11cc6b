-- A scoring shard's user vectors, replaced on every (re)run of the shard.
DELETE FROM features.user_embeddings
WHERE ds = %(ds)s AND model_id = %(model_id)s
  AND (%(shards)s = 1 OR mod(abs(hashtext(user_id)), %(shards)s) = %(shard)s);
