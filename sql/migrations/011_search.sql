-- Personalised search (recpipeline.search): a full-text index of each published day's catalogue with the
-- model's item vectors, the user interests and the shop's search log, all keyed by publish_id in the schema
-- `search` (which the reader cannot read), and two SECURITY DEFINER functions the reader may call:
--   recs.search(user_id, query, n)   text candidates (prefix match over title, brand, category, tags),
--                                    re-ranked by text + w_cos * cosine(user, item) + w_pop * popularity
--   recs.suggest(user_id, prefix, n) completions from the search log, re-ranked by the user's categories
-- Both read recs.current once, in one statement, so a search during a publish sees the old day or the new one.
--
-- Vectors: a pgvector `vector` column where the extension is available (the embedded PostgreSQL 16 ships
-- 0.6), else plain real[] with a SQL dot product (unnest); search.dot / search.to_vec hide the difference.
CREATE SCHEMA IF NOT EXISTS search;
REVOKE ALL ON SCHEMA search FROM PUBLIC;

DO $$
DECLARE
    vec_schema text;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
        CREATE EXTENSION IF NOT EXISTS vector SCHEMA search;  -- its functions stay out of the reader's reach
        SELECT n.nspname INTO vec_schema
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'vector';
        EXECUTE format('CREATE DOMAIN search.vec AS %I.vector', vec_schema);
        -- inlinable (no SET, no FROM): the planner calls pgvector's operator directly
        EXECUTE format(
            'CREATE FUNCTION search.dot(a search.vec, b search.vec) RETURNS double precision '
            'LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
            format('SELECT -(a::%1$I.vector OPERATOR(%1$I.<#>) b::%1$I.vector)', vec_schema));
        EXECUTE format(
            'CREATE FUNCTION search.to_vec(v real[]) RETURNS search.vec '
            'LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
            format('SELECT v::%I.vector::search.vec', vec_schema));
    ELSE
        CREATE DOMAIN search.vec AS real[];
        CREATE FUNCTION search.dot(a search.vec, b search.vec) RETURNS double precision
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
        'SELECT sum(x::double precision * y) FROM unnest(a::real[], b::real[]) AS t(x, y)';
        CREATE FUNCTION search.to_vec(v real[]) RETURNS search.vec
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT v::search.vec';
    END IF;
END
$$;

-- 'pgvector' or 'real[]': what this database stores vectors as (logged by the index build, checked by tests).
CREATE FUNCTION search.vector_kind() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN t.typbasetype = 'real[]'::regtype THEN 'real[]' ELSE 'pgvector' END
    FROM pg_type t WHERE t.oid = 'search.vec'::regtype
$$;

-- The vector scaled to unit length (cosine = dot product of unit vectors); NULL stays NULL.
CREATE FUNCTION search.unit(v real[]) RETURNS real[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_agg((x / nullif(n.norm, 0))::real ORDER BY i)
    FROM (SELECT sqrt(sum(y::double precision * y)) AS norm FROM unnest(v) AS y) n,
         unnest(v) WITH ORDINALITY AS t(x, i)
$$;

-- What full-text search sees of an item: title and brand (weight A), category levels (B), tags (C).
CREATE FUNCTION search.document(title text, brand text, category text, tags text[]) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, coalesce(brand, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, replace(coalesce(category, ''), ' > ', ' ')), 'B')
        || setweight(to_tsvector('english'::regconfig, array_to_string(coalesce(tags, '{}'), ' ')), 'C')
$$;

-- A shopper's text as at most 8 lower-case alphanumeric words: every other character (operators, quotes,
-- semicolons, SQL) is a separator, so nothing typed can reach to_tsquery's syntax.
CREATE FUNCTION search.tokens(q text) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(t ORDER BY i), '{}')
    FROM (
        SELECT t, i FROM regexp_split_to_table(lower(left(coalesce(q, ''), 200)), '[^[:alnum:]]+')
                         WITH ORDINALITY AS s(t, i)
        WHERE t <> '' ORDER BY i LIMIT 8
    ) w
$$;

-- Any of the words, each as a stemmed prefix ('moistur':* | 'organ':*); stop words drop out; '' if none.
CREATE FUNCTION search.query(tokens text[]) RETURNS tsquery LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN cardinality(tokens) = 0 THEN ''::tsquery
                ELSE to_tsquery('english'::regconfig,
                                (SELECT string_agg(t || ':*', ' | ') FROM unnest(tokens) AS t)) END
$$;

-- The words of `tokens` that match a document (the "why" of a search result).
CREATE FUNCTION search.matched(doc tsvector, tokens text[]) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(t ORDER BY i), '{}')
    FROM unnest(tokens) WITH ORDINALITY AS w(t, i)
    WHERE doc @@ search.query(ARRAY[t])
$$;

-- How close two category paths are: same leaf 1, same subcategory 0.5, same top category 0.25, else 0.
CREATE FUNCTION search.category_match(a text, b text) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN a = b THEN 1.0
                WHEN split_part(a, ' > ', 2) <> '' AND split_part(a, ' > ', 1) = split_part(b, ' > ', 1)
                     AND split_part(a, ' > ', 2) = split_part(b, ' > ', 2) THEN 0.5
                WHEN split_part(a, ' > ', 1) = split_part(b, ' > ', 1) THEN 0.25
                ELSE 0.0 END
$$;

-- A logged query as suggested: lower case, single spaces, trimmed.
CREATE FUNCTION search.normalise_query(q text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT btrim(regexp_replace(lower(coalesce(q, '')), '\s+', ' ', 'g'))
$$;

-- Item popularity for search: event-weighted interactions landed on days since..through, as
-- ln(1 + weight) / ln(1 + the largest weight), 0..1 (weights passed in from recpipeline.events).
CREATE FUNCTION search.popularity(since date, through date, event_types text[], weights double precision[])
RETURNS TABLE (item_id text, popularity real) LANGUAGE sql STABLE AS $$
    WITH w AS (
        SELECT e.item_id, sum(x.weight) AS weight
        FROM clean.events e
        JOIN unnest(event_types, weights) AS x(event_type, weight) ON x.event_type = e.event_type AND x.weight > 0
        WHERE e.ds BETWEEN since AND through AND e.item_id IS NOT NULL
        GROUP BY e.item_id
    )
    SELECT w.item_id, (ln(1 + w.weight) / nullif(ln(1 + max(w.weight) OVER ()), 0))::real FROM w
$$;

-- The search log of days since..through: each search event with the item clicked next in its session
-- (within 10 minutes; NULL if none), which is what the shop's search led to.
CREATE FUNCTION search.logged(since date, through date)
RETURNS TABLE (ds date, event_id text, user_id text, ts timestamptz, query text, item_id text)
LANGUAGE sql STABLE AS $$
    SELECT s.ds, s.event_id, s.user_id, s.ts, s.query, c.item_id
    FROM clean.events s
    LEFT JOIN LATERAL (
        SELECT e.item_id FROM clean.events e
        WHERE e.user_id = s.user_id AND e.ts >= s.ts AND e.ts < s.ts + interval '10 minutes'
          AND e.event_type = 'click' AND e.item_id IS NOT NULL AND e.session_id IS NOT DISTINCT FROM s.session_id
        ORDER BY e.ts, e.event_id
        LIMIT 1
    ) c ON true
    WHERE s.ds BETWEEN since AND through AND s.event_type = 'search' AND search.normalise_query(s.query) <> ''
$$;

-- The blend weights learned on validation days' search events, stored with the model they were fitted for.
CREATE TABLE models.search_blend (
    model_id         text PRIMARY KEY,
    ds               date NOT NULL,
    w_cos            double precision NOT NULL,  -- personalised: text + w_cos * cosine + w_pop * popularity
    w_pop            double precision NOT NULL,
    w_pop_cold       double precision NOT NULL,  -- users without a vector: text + w_pop_cold * popularity
    fit_from         date NOT NULL,              -- the validation days [fit_from, fit_to]
    fit_to           date NOT NULL,
    searches         bigint NOT NULL,
    mrr_personalised double precision NOT NULL,  -- MRR@10 on the validation searches at the fitted weights
    mrr_text_pop     double precision NOT NULL,
    mrr_text         double precision NOT NULL,
    fitted_at        timestamptz NOT NULL DEFAULT now()
);

-- One row per published search index: the weights it serves with and what it holds.
CREATE TABLE search.config (
    publish_id bigint PRIMARY KEY,
    ds         date NOT NULL,
    model_id   text NOT NULL,
    w_cos      double precision NOT NULL,
    w_pop      double precision NOT NULL,
    w_pop_cold double precision NOT NULL,
    blend_from text NOT NULL,                    -- the model_id whose fitted weights these are, or 'default'
    items      bigint NOT NULL,
    users      bigint NOT NULL,
    queries    bigint NOT NULL,
    built_at   timestamptz NOT NULL DEFAULT now()
);

-- The catalogue as searched, one partition (with its own GIN index) per publish_id.
CREATE TABLE search.items (
    publish_id bigint NOT NULL,
    item_id    text NOT NULL,
    title      text NOT NULL,
    category   text,
    in_stock   boolean NOT NULL,
    popularity real NOT NULL,                    -- ln(1 + weighted interactions, 7 days) / ln(1 + the most), 0..1
    doc        tsvector NOT NULL,
    vec        search.vec,                       -- the model's item vector at unit length (NULL: none)
    PRIMARY KEY (publish_id, item_id)
) PARTITION BY LIST (publish_id);
CREATE INDEX ON search.items USING gin (doc);

-- The live users' vectors (unit length) and their top categories by weighted interactions.
CREATE TABLE search.users (
    publish_id bigint NOT NULL,
    user_id    text NOT NULL,
    vec        search.vec NOT NULL,
    PRIMARY KEY (publish_id, user_id)
) PARTITION BY LIST (publish_id);

CREATE TABLE search.interests (
    publish_id bigint NOT NULL,
    user_id    text NOT NULL,
    category   text NOT NULL,
    share      real NOT NULL,                    -- of the user's weighted interactions in the window
    PRIMARY KEY (publish_id, user_id, category)
) PARTITION BY LIST (publish_id);

-- The shop's own search log: normalised queries, how often, and the category their clicks went to.
CREATE TABLE search.queries (
    publish_id bigint NOT NULL,
    query      text NOT NULL,
    searches   bigint NOT NULL,
    category   text,
    PRIMARY KEY (publish_id, query)
) PARTITION BY LIST (publish_id);
CREATE INDEX ON search.queries (publish_id, query text_pattern_ops);

-- Locking: readers hold ACCESS SHARE on the four parents. A new partition is created on its own and then
-- ATTACHed (SHARE UPDATE EXCLUSIVE on the parent: readers go on), and partitions are dropped one per
-- transaction (procedures that COMMIT; call them outside a transaction block), so a publish never holds one
-- parent exclusively while it waits for another: no deadlock with searches in flight.

-- Creates the four empty partitions of a publish_id (drop_index it first if an attempt left some).
CREATE FUNCTION search.prepare(p_publish_id bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['items', 'users', 'interests', 'queries'] LOOP
        EXECUTE format('CREATE TABLE search.%I (LIKE search.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                       t || '_' || p_publish_id, t);
        EXECUTE format('ALTER TABLE search.%I ATTACH PARTITION search.%I FOR VALUES IN (%s)',
                       t, t || '_' || p_publish_id, p_publish_id);
    END LOOP;
END
$$;

-- Drops a publish_id's search index: its config row, then each partition in a transaction of its own.
CREATE PROCEDURE search.drop_index(p_publish_id bigint) LANGUAGE plpgsql AS $$
DECLARE
    t text;
BEGIN
    DELETE FROM search.config WHERE publish_id = p_publish_id;
    COMMIT;
    FOREACH t IN ARRAY ARRAY['items', 'users', 'interests', 'queries'] LOOP
        EXECUTE format('DROP TABLE IF EXISTS search.%I', t || '_' || p_publish_id);
        COMMIT;
    END LOOP;
END
$$;

-- Drops the index of every publish_id whose day has since been published under a newer publish_id
-- (an attempt being built now is newer than what is published for its day, so it is kept).
CREATE PROCEDURE search.drop_superseded(INOUT dropped integer DEFAULT 0) LANGUAGE plpgsql AS $$
DECLARE
    pids bigint[];
    pid bigint;
BEGIN
    SELECT coalesce(array_agg(c.publish_id), '{}') INTO pids
    FROM search.config c
    WHERE EXISTS (SELECT 1 FROM recs.published p WHERE p.ds = c.ds AND p.publish_id > c.publish_id)
      AND c.publish_id <> coalesce((SELECT publish_id FROM recs.current), -1);
    dropped := 0;
    FOREACH pid IN ARRAY pids LOOP
        CALL search.drop_index(pid);
        dropped := dropped + 1;
    END LOOP;
END
$$;

-- Refreshes the planner statistics of a publish_id's partitions once they are filled.
CREATE FUNCTION search.analyze(p_publish_id bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['items', 'users', 'interests', 'queries'] LOOP
        EXECUTE format('ANALYZE search.%I', t || '_' || p_publish_id);
    END LOOP;
END
$$;

-- Rank the live day's catalogue for a query: candidates are the 1,000 best text matches (ts_rank, then
-- popularity), scored by mode: 'personalised' text + w_cos * cosine + w_pop * popularity for a user with a vector,
-- text + w_pop_cold * popularity otherwise; 'text' text relevance only (ties by item_id). Text is ts_rank over
-- the best candidate's. Reads recs.current once: the whole call sees one published day.
CREATE FUNCTION search.run(p_mode text, p_user_id text, p_query text, p_n integer)
RETURNS TABLE (
    rank integer, item_id text, title text, category text, score double precision,
    text_score double precision, similarity double precision, popularity double precision,
    matched_terms text[], interest text, personalised boolean, ds date
)
LANGUAGE sql STABLE AS $$
    WITH live AS (
        SELECT c.publish_id, c.ds, s.w_cos, s.w_pop, s.w_pop_cold
        FROM recs.current c JOIN search.config s ON s.publish_id = c.publish_id
    ),
    q AS (SELECT search.tokens(p_query) AS tokens),
    tq AS (SELECT q.tokens, search.query(q.tokens) AS query FROM q),
    usr AS (
        SELECT u.vec FROM search.users u
        WHERE p_mode = 'personalised' AND u.publish_id = (SELECT publish_id FROM live) AND u.user_id = p_user_id
    ),
    cand AS (
        SELECT i.item_id, i.title, i.category, i.popularity::double precision AS popularity, i.doc, i.vec,
               ts_rank(i.doc, tq.query)::double precision AS tr
        FROM search.items i, tq
        WHERE i.publish_id = (SELECT publish_id FROM live) AND cardinality(tq.tokens) > 0 AND i.doc @@ tq.query
        ORDER BY tr DESC, i.popularity DESC, i.item_id
        LIMIT 1000
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
           search.matched(r.doc, (SELECT tokens FROM q)),
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

-- Search the live day's catalogue for `p_query`, ranked for `p_user_id` (at most 100 rows; see search.run).
CREATE FUNCTION recs.search(p_user_id text, p_query text, p_n integer DEFAULT 10)
RETURNS TABLE (
    rank integer, item_id text, title text, category text, score double precision,
    text_score double precision, similarity double precision, popularity double precision,
    matched_terms text[], interest text, personalised boolean, ds date
)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning
AS $$ SELECT * FROM search.run('personalised', p_user_id, p_query, p_n) $$;

-- The same candidates by text relevance alone (ties by item_id): the unpersonalised reference.
CREATE FUNCTION recs.search_text(p_query text, p_n integer DEFAULT 10)
RETURNS TABLE (rank integer, item_id text, title text, category text, score double precision,
               matched_terms text[], ds date)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning
AS $$
    SELECT r.rank, r.item_id, r.title, r.category, r.score, r.matched_terms, r.ds
    FROM search.run('text', NULL, p_query, p_n) r
$$;

-- Complete `p_prefix` from the live day's search log: how often a query was searched, plus how well its
-- category fits the user's interest categories (same leaf 1, subcategory 0.5, top 0.25, times the share).
CREATE FUNCTION recs.suggest(p_user_id text, p_prefix text, p_n integer DEFAULT 5)
RETURNS TABLE (rank integer, query text, score double precision, searches bigint, category text, interest text, ds date)
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH live AS (SELECT c.publish_id, c.ds FROM recs.current c JOIN search.config s USING (publish_id)),
    p AS (
        SELECT replace(replace(replace(
                   ltrim(regexp_replace(lower(left(coalesce(p_prefix, ''), 100)), '\s+', ' ', 'g')),
                   '\', '\\'), '%', '\%'), '_', '\_') AS pattern
    ),
    matches AS (
        SELECT q.query, q.searches, q.category,
               ln(1 + q.searches) / nullif(ln(1 + max(q.searches) OVER ()), 0) AS frequency
        FROM search.queries q, p
        WHERE q.publish_id = (SELECT publish_id FROM live)
          AND (q.query LIKE p.pattern || '%' OR q.query LIKE '% ' || p.pattern || '%')
    ),
    scored AS (
        SELECT m.*, fit.category AS interest_category, coalesce(fit.fit, 0) AS fit,
               coalesce(m.frequency, 0) + coalesce(fit.fit, 0) AS score
        FROM matches m
        LEFT JOIN LATERAL (
            SELECT it.category, search.category_match(it.category, m.category) * it.share AS fit
            FROM search.interests it
            WHERE it.publish_id = (SELECT publish_id FROM live) AND it.user_id = p_user_id
              AND search.category_match(it.category, m.category) > 0
            ORDER BY 2 DESC, it.category
            LIMIT 1
        ) fit ON true
    )
    SELECT (row_number() OVER (ORDER BY s.score DESC, s.searches DESC, s.query))::integer, s.query, s.score,
           s.searches, s.category,
           CASE WHEN s.interest_category IS NULL THEN NULL
                ELSE format('fits your interest in %s', s.interest_category) END,
           (SELECT ds FROM live)
    FROM scored s
    ORDER BY s.score DESC, s.searches DESC, s.query
    LIMIT greatest(0, least(coalesce(p_n, 5), 50))
$$;

REVOKE ALL ON FUNCTION search.run(text, text, text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION recs.search(text, text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION recs.search_text(text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION recs.suggest(text, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION recs.search(text, text, integer) TO recpipeline_reader;
GRANT EXECUTE ON FUNCTION recs.suggest(text, text, integer) TO recpipeline_reader;
GRANT EXECUTE ON FUNCTION recs.search_text(text, integer) TO recpipeline_reader;
