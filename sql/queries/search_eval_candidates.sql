-- Per distinct replayed word list, every text match that can be among search.run's `cap` candidates on any
-- day: the best `cap` by ts_rank with ties at the cut (which popularity, a per-day figure, then orders; the
-- replay applies that cut per searched day). ts_rank is computed once per word list, not once per search.
SELECT q.query_id, c.idx, c.tr
FROM search_eval_queries q
CROSS JOIN LATERAL (
    SELECT i.idx, ts_rank(i.doc, q.tsq)::double precision AS tr
    FROM search_eval_items i
    WHERE cardinality(q.tokens) > 0 AND i.doc @@ q.tsq
    ORDER BY tr DESC
    FETCH FIRST %(cap)s ROWS WITH TIES
) c
ORDER BY q.query_id, c.idx;
