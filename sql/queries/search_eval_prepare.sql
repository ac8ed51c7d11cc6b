-- Scratch tables for offline evaluation (this transaction only): the catalogue's text documents with a GIN
-- index, each item numbered in item_id order (the order search.run breaks ties in), and the distinct word
-- lists of the replayed searches (their tsquery filled by search_eval_query_terms).
CREATE TEMP TABLE search_eval_items ON COMMIT DROP AS
SELECT (row_number() OVER (ORDER BY i.item_id) - 1)::integer AS idx, i.item_id,
       search.document(i.title, i.brand, i.category, i.tags) AS doc
FROM clean.items i WHERE i.ds = %(catalogue)s;
CREATE INDEX ON search_eval_items USING gin (doc);
CREATE UNIQUE INDEX ON search_eval_items (item_id);
CREATE TEMP TABLE search_eval_queries (query_id integer PRIMARY KEY, tokens text[] NOT NULL, tsq tsquery)
ON COMMIT DROP;
ANALYZE search_eval_items;
