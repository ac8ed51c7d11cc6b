-- The popularity a search on `day` sees: the 7 days before it (as the index published the night before).
INSERT INTO search_eval_popularity (day, item_id, popularity)
SELECT %(day)s, p.item_id, p.popularity
FROM search.popularity(%(since)s, %(through)s, %(event_types)s, %(weights)s) p;
