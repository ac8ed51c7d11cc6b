-- Users' sequences of the day (optionally one hash shard), read with COPY: each array as space-separated numbers,
-- parsed into one numpy array per column and split by the per-user lengths `n`.
SELECT user_id, cardinality(item_idx) AS n,
       array_to_string(item_idx, ' ') AS item_idx,
       array_to_string(event_type, ' ') AS event_type,
       array_to_string(ts, ' ') AS ts
FROM features.user_sequences
WHERE ds = %(ds)s
  AND (%(shards)s = 1 OR mod(abs(hashtext(user_id)), %(shards)s) = %(shard)s)
ORDER BY user_id;
