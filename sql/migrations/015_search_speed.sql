-- Personalised search at catalogue scale (issue 16: p95 <= 50 ms over 50k items on 2 cores). Same results as 011:
--   * search.run builds the shopper's tsquery once per call (a materialised CTE read through scalar
--     subqueries, i.e. InitPlans) instead of once per matching row: with 011's inlined CTE, search.query() ran
--     again for every GIN match in the recheck and in ts_rank (about 5 us a row; 8,000 matches = 40 ms);
--   * the shop's own frequent queries (search.queries: the last 30 days' queries at least two users searched)
--     keep their candidates, built with the index (search_build_cache.sql): the 1,000 best text matches in
--     search.run's order with their ts_rank. A search whose words are those of such a query reads them instead
--     of ranking every GIN match (a broad query matches 10,000 of 50,000 items); the blend, the cosine and the
--     rows that come back are the same;
--   * recs.search and recs.search_text are PL/pgSQL wrappers with plan_cache_mode = force_generic_plan: a SQL
--     function with SET clauses is never inlined and its body was planned again on every call (7 ms for the
--     inlined search.run); PL/pgSQL keeps the plan for the session, and runtime partition pruning on the
--     live publish_id (an InitPlan over recs.current) keeps it right across publishes.
ALTER TABLE search.queries
    ADD COLUMN IF NOT EXISTS tokens text[],      -- search.tokens(query): what a search with these words matches
    ADD COLUMN IF NOT EXISTS cand_items text[],  -- the 1,000 best text matches, in search.run's candidate order
    ADD COLUMN IF NOT EXISTS cand_tr real[];     -- their ts_rank
CREATE INDEX IF NOT EXISTS queries_publish_id_tokens_idx ON search.queries (publish_id, tokens);

CREATE OR REPLACE FUNCTION search.run(p_mode text, p_user_id text, p_query text, p_n integer)
RETURNS TABLE (
    rank integer, item_id text, title text, category text, score double precision,
    text_score double precision, similarity double precision, popularity double precision,
    matched_terms text[], interest text, personalised boolean, ds date
)
LANGUAGE sql STABLE AS $$
    WITH live AS MATERIALIZED (
        SELECT c.publish_id, c.ds, s.w_cos, s.w_pop, s.w_pop_cold
        FROM recs.current c JOIN search.config s ON s.publish_id = c.publish_id
    ),
    tq AS MATERIALIZED (
        SELECT t.tokens, search.query(t.tokens) AS query FROM (SELECT search.tokens(p_query) AS tokens) t
    ),
    usr AS MATERIALIZED (
        SELECT u.vec FROM search.users u
        WHERE p_mode = 'personalised' AND u.publish_id = (SELECT publish_id FROM live) AND u.user_id = p_user_id
    ),
    hit AS MATERIALIZED (
        SELECT q.cand_items, q.cand_tr FROM search.queries q
        WHERE q.publish_id = (SELECT publish_id FROM live) AND q.tokens = (SELECT tokens FROM tq)
          AND q.cand_items IS NOT NULL
        LIMIT 1
    ),
    cand AS (
        SELECT i.item_id, i.title, i.category, i.popularity::double precision AS popularity, i.doc, i.vec,
               h.tr::double precision AS tr
        FROM hit, unnest(hit.cand_items, hit.cand_tr) AS h(item_id, tr)
        JOIN search.items i ON i.publish_id = (SELECT publish_id FROM live) AND i.item_id = h.item_id
        WHERE (SELECT cardinality(tokens) FROM tq) > 0
        UNION ALL
        (SELECT i.item_id, i.title, i.category, i.popularity::double precision, i.doc, i.vec,
                ts_rank(i.doc, (SELECT query FROM tq))::double precision AS tr
         FROM search.items i
         WHERE NOT EXISTS (SELECT 1 FROM hit) AND i.publish_id = (SELECT publish_id FROM live)
           AND (SELECT cardinality(tokens) FROM tq) > 0 AND i.doc @@ (SELECT query FROM tq)
         ORDER BY tr DESC, i.popularity DESC, i.item_id
         LIMIT 1000)
    ),
    scored AS (
        SELECT c.*, coalesce(c.tr / nullif(max(c.tr) OVER (), 0), 0) AS text_norm,
               CASE WHEN (SELECT vec FROM usr) IS NULL THEN NULL
                    ELSE coalesce(search.dot(c.vec, (SELECT vec FROM usr)), 0) END AS cos
        FROM cand c
    ),
    ranked AS (
        SELECT s.*,
               s.text_norm + CASE WHEN p_mode = 'text' THEN 0
                                  WHEN s.cos IS NULL THEN l.w_pop_cold * s.popularity
                                  ELSE l.w_cos * s.cos + l.w_pop * s.popularity END AS blended,
               CASE WHEN p_mode = 'text' THEN 0 ELSE s.popularity END AS tiebreak
        FROM scored s, live l
        ORDER BY blended DESC, tiebreak DESC, s.item_id
        LIMIT greatest(0, least(coalesce(p_n, 10), 100))
    )
    SELECT (row_number() OVER (ORDER BY r.blended DESC, r.tiebreak DESC, r.item_id))::integer,
           r.item_id, r.title, r.category, r.blended, r.text_norm, r.cos, r.popularity,
           search.matched(r.doc, (SELECT tokens FROM tq)),
           CASE WHEN p_mode = 'text' THEN NULL
                WHEN r.cos IS NULL THEN 'popular with shoppers (no history of yours yet)'
                WHEN best.category IS NOT NULL
                THEN format('your interest in %s (%s%% of your activity)', best.category, round(best.share * 100))
                ELSE format('similar to what you interacted with (cosine %s)', to_char(r.cos, 'FM0.00')) END,
           r.cos IS NOT NULL,
           (SELECT ds FROM live)
    FROM ranked r
    LEFT JOIN LATERAL (
        SELECT it.category, it.share FROM search.interests it
        WHERE r.cos IS NOT NULL AND it.publish_id = (SELECT publish_id FROM live) AND it.user_id = p_user_id
          AND search.category_match(it.category, r.category) > 0
        ORDER BY search.category_match(it.category, r.category) DESC, it.share DESC, it.category
        LIMIT 1
    ) best ON true
    ORDER BY 1
$$;

CREATE OR REPLACE FUNCTION recs.search(p_user_id text, p_query text, p_n integer DEFAULT 10)
RETURNS TABLE (
    rank integer, item_id text, title text, category text, score double precision,
    text_score double precision, similarity double precision, popularity double precision,
    matched_terms text[], interest text, personalised boolean, ds date
)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    RETURN QUERY SELECT * FROM search.run('personalised', p_user_id, p_query, p_n);
END
$$;

CREATE OR REPLACE FUNCTION recs.search_text(p_query text, p_n integer DEFAULT 10)
RETURNS TABLE (rank integer, item_id text, title text, category text, score double precision,
               matched_terms text[], ds date)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    RETURN QUERY SELECT r.rank, r.item_id, r.title, r.category, r.score, r.matched_terms, r.ds
                 FROM search.run('text', NULL, p_query, p_n) r;
END
$$;
