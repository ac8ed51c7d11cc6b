-- Erase one user from every schema (the search index included; its query log only keeps queries 2+ users searched) in one statement (one transaction) and record the erasure.
-- raw keeps rows exactly as landed, so the id is compared trimmed there and in quarantined payloads.
-- dq.load_audit keeps its counts: landed = accepted + rejected held when the day was validated.
WITH raw_events AS (
    DELETE FROM raw.events WHERE btrim(user_id) = %(user_id)s RETURNING 1
), clean_events AS (
    DELETE FROM clean.events WHERE user_id = %(user_id)s RETURNING 1
), rejects AS (
    DELETE FROM dq.rejects WHERE target = 'events' AND btrim(payload ->> 'user_id') = %(user_id)s RETURNING 1
), sequences AS (
    DELETE FROM features.user_sequences WHERE user_id = %(user_id)s RETURNING 1
), embeddings AS (
    DELETE FROM features.user_embeddings WHERE user_id = %(user_id)s RETURNING 1
), recommendations AS (
    DELETE FROM recs.results WHERE user_id = %(user_id)s RETURNING 1
), intake AS (
    DELETE FROM raw.intake_events WHERE btrim(user_id) = %(user_id)s RETURNING 1
), refreshed AS (
    DELETE FROM recs.refresh_results WHERE user_id = %(user_id)s RETURNING 1
), refresh_pointer AS (
    DELETE FROM recs.refresh_current WHERE user_id = %(user_id)s RETURNING 1
), search_users AS (
    DELETE FROM search.users WHERE user_id = %(user_id)s RETURNING 1
), search_interests AS (
    DELETE FROM search.interests WHERE user_id = %(user_id)s RETURNING 1
)
INSERT INTO dq.erasures (actor, subject_sha256, rows_erased)
SELECT %(actor)s, encode(sha256(convert_to(%(user_id)s, 'UTF8')), 'hex'), jsonb_build_object(
    'raw.events', (SELECT count(*) FROM raw_events),
    'clean.events', (SELECT count(*) FROM clean_events),
    'dq.rejects', (SELECT count(*) FROM rejects),
    'features.user_sequences', (SELECT count(*) FROM sequences),
    'features.user_embeddings', (SELECT count(*) FROM embeddings),
    'recs.results', (SELECT count(*) FROM recommendations),
    'raw.intake_events', (SELECT count(*) FROM intake),
    'recs.refresh_results', (SELECT count(*) FROM refreshed),
    'recs.refresh_current', (SELECT count(*) FROM refresh_pointer),
    'search.users', (SELECT count(*) FROM search_users),
    'search.interests', (SELECT count(*) FROM search_interests))
RETURNING erasure_id, rows_erased;
