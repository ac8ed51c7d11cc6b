-- The popularity a search on a day sees (the 7 days before it, as the index published the night before), by
-- the replay's item numbers; items without interactions are 0.
SELECT i.idx, p.popularity::double precision AS popularity
FROM search.popularity(%(since)s, %(through)s, %(event_types)s, %(weights)s) p
JOIN search_eval_items i ON i.item_id = p.item_id;
