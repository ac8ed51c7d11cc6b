SELECT user_id, item_idx, event_type, ts
FROM features.user_sequences
WHERE ds = %(ds)s
  AND (%(shards)s = 1 OR mod(abs(hashtext(user_id)), %(shards)s) = %(shard)s)
ORDER BY user_id;
