-- A user's most recent events with the item's title and category from that day's catalogue snapshot.
SELECT e.ts, e.ds, e.event_type, e.item_id, i.title, i.category, e.query, e.session_id
FROM clean.events e
LEFT JOIN clean.items i ON i.ds = e.ds AND i.item_id = e.item_id
WHERE e.user_id = %(user_id)s
ORDER BY e.ts DESC, e.event_id DESC
LIMIT %(limit)s;
