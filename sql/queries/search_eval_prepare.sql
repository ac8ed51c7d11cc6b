-- Scratch tables for offline evaluation (this transaction only): the catalogue's text documents with a GIN
-- index, the searches to replay, and per replayed day the item popularity that day's search would have seen.
CREATE TEMP TABLE search_eval_items ON COMMIT DROP AS
SELECT i.item_id, search.document(i.title, i.brand, i.category, i.tags) AS doc
FROM clean.items i WHERE i.ds = %(catalogue)s;
CREATE INDEX ON search_eval_items USING gin (doc);
CREATE TEMP TABLE search_eval_queries (search_id integer PRIMARY KEY, day date NOT NULL, q text) ON COMMIT DROP;
CREATE TEMP TABLE search_eval_popularity (day date, item_id text, popularity real, PRIMARY KEY (day, item_id))
ON COMMIT DROP;
ANALYZE search_eval_items;
