-- Creates the recs.results partition for a day if it is missing (identifier built safely with %I).
CREATE OR REPLACE FUNCTION recs.ensure_partition(day date) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    part text := 'results_' || to_char(day, 'YYYYMMDD');
BEGIN
    IF to_regclass(format('recs.%I', part)) IS NULL THEN
        EXECUTE format('CREATE TABLE recs.%I PARTITION OF recs.results FOR VALUES IN (%L)', part, day);
    END IF;
    RETURN 'recs.' || part;
END
$$;

-- "recommended X because you viewed/bought Y", for one user, from what is published now.
CREATE OR REPLACE FUNCTION recs.explain(p_user_id text)
RETURNS TABLE (rank smallint, item_id text, score real, source text, explanation text)
LANGUAGE sql STABLE AS $$
    SELECT l.rank, l.item_id, l.score, l.source,
           CASE WHEN l.source = 'trending'
                THEN format('recommended %s because it is trending (you have no usable history yet)', l.item_id)
                ELSE format('recommended %s because you %s %s (similarity %s)', l.item_id,
                            coalesce(h.verb, 'interacted with'), l.reason_item_id,
                            to_char(l.reason_score, 'FM0.000'))
           END
    FROM recs.latest l
    LEFT JOIN LATERAL (
        SELECT CASE e.event_type WHEN 'purchase' THEN 'bought' WHEN 'cart' THEN 'added to cart'
                                 WHEN 'fav' THEN 'saved' ELSE 'viewed' END AS verb
        FROM clean.events e
        WHERE e.user_id = l.user_id AND e.item_id = l.reason_item_id
        ORDER BY CASE e.event_type WHEN 'purchase' THEN 0 WHEN 'cart' THEN 1 WHEN 'fav' THEN 2 ELSE 3 END,
                 e.ts DESC
        LIMIT 1
    ) h ON true
    WHERE l.user_id = p_user_id
    ORDER BY l.rank;
$$;
GRANT EXECUTE ON FUNCTION recs.explain(text) TO recpipeline_reader;
