-- Items each user dismissed ("not interested") on days (ds - days, ds]: never shown to them again in that window.
SELECT user_id, array_agg(DISTINCT item_id ORDER BY item_id)
FROM clean.feedback_events
WHERE event_type = 'dismiss' AND ds > %(ds)s::date - %(days)s AND ds <= %(ds)s
GROUP BY user_id
ORDER BY user_id;
