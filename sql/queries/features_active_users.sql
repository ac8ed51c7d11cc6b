-- Users active in the history window (any event, searches included): who gets recommendations.
SELECT DISTINCT user_id
FROM clean.events
WHERE ds BETWEEN %(window_start)s AND %(ds)s
  AND (%(shards)s = 1 OR mod(abs(hashtext(user_id)), %(shards)s) = %(shard)s)
ORDER BY user_id;
