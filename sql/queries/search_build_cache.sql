-- The candidates of the index's frequent queries (search.queries, just built): per distinct word list the 1,000
-- best text matches of the publish_id's catalogue by ts_rank, popularity, item_id (search.run's order), so a
-- search with those words reads them instead of ranking every match.
WITH words AS (
    SELECT DISTINCT search.tokens(q.query) AS tokens
    FROM search.queries q WHERE q.publish_id = %(publish_id)s
),
top AS (
    SELECT w.tokens,
           coalesce(array_agg(c.item_id ORDER BY c.tr DESC, c.popularity DESC, c.item_id)
                    FILTER (WHERE c.item_id IS NOT NULL), '{}') AS cand_items,
           coalesce(array_agg(c.tr ORDER BY c.tr DESC, c.popularity DESC, c.item_id)
                    FILTER (WHERE c.item_id IS NOT NULL), '{}') AS cand_tr
    FROM words w
    CROSS JOIN LATERAL (SELECT search.query(w.tokens) AS query OFFSET 0) tq
    LEFT JOIN LATERAL (
        SELECT i.item_id, ts_rank(i.doc, tq.query) AS tr, i.popularity
        FROM search.items i
        WHERE i.publish_id = %(publish_id)s AND cardinality(w.tokens) > 0 AND i.doc @@ tq.query
        ORDER BY 2 DESC, i.popularity DESC, i.item_id
        LIMIT 1000
    ) c ON true
    GROUP BY w.tokens
)
UPDATE search.queries q
SET tokens = t.tokens, cand_items = t.cand_items, cand_tr = t.cand_tr
FROM top t
WHERE q.publish_id = %(publish_id)s AND search.tokens(q.query) = t.tokens;
