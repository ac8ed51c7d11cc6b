-- Items users dismissed ("not interested") on days [since, through]: explicit negatives for training.
SELECT DISTINCT user_id, item_id
FROM clean.feedback_events
WHERE event_type = 'dismiss' AND ds BETWEEN %(since)s AND %(through)s
ORDER BY user_id, item_id;
