-- Each replayed search's candidates exactly as search.run picks them: the best `cap` text matches by
-- ts_rank, then popularity, then item_id.
SELECT s.search_id, c.item_id, c.tr, c.popularity
FROM search_eval_queries s
CROSS JOIN LATERAL (
    SELECT i.item_id, ts_rank(i.doc, search.query(search.tokens(s.q)))::double precision AS tr,
           coalesce(p.popularity, 0)::double precision AS popularity
    FROM search_eval_items i
    LEFT JOIN search_eval_popularity p ON p.day = s.day AND p.item_id = i.item_id
    WHERE i.doc @@ search.query(search.tokens(s.q)) AND cardinality(search.tokens(s.q)) > 0
    ORDER BY tr DESC, popularity DESC, i.item_id
    LIMIT %(cap)s
) c
ORDER BY s.search_id, c.tr DESC, c.popularity DESC, c.item_id;
