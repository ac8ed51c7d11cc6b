-- How much history a user has in clean.events.
SELECT count(*) AS events, count(DISTINCT e.item_id) AS distinct_items, min(e.ts) AS first_seen, max(e.ts) AS last_seen
FROM clean.events e
WHERE e.user_id = %(user_id)s;
