-- How many users are active in the history window (the users features_active_users lists), to size shards.
SELECT count(DISTINCT user_id)
FROM clean.events
WHERE ds BETWEEN %(window_start)s AND %(ds)s;
