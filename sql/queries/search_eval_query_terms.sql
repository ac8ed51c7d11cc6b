-- Each distinct replayed word list's tsquery, built once (as search.run builds it once per call).
UPDATE search_eval_queries SET tsq = search.query(tokens);
ANALYZE search_eval_queries;
