-- Erase one user from impressions, feedback events, their quarantine and attributions (one statement); the
-- rows erased per table. Called inside privacy.forget_user's transaction.
WITH raw_impressions AS (
    DELETE FROM raw.impressions WHERE btrim(user_id) = %(user_id)s RETURNING 1
), raw_feedback AS (
    DELETE FROM raw.feedback_events WHERE btrim(user_id) = %(user_id)s RETURNING 1
), clean_impressions AS (
    DELETE FROM clean.impressions WHERE user_id = %(user_id)s RETURNING 1
), clean_feedback AS (
    DELETE FROM clean.feedback_events WHERE user_id = %(user_id)s RETURNING 1
), rejects AS (
    DELETE FROM dq.rejects WHERE target IN ('impressions', 'feedback') AND btrim(payload ->> 'user_id') = %(user_id)s
    RETURNING 1
), attributions AS (
    DELETE FROM eval.attributions WHERE user_id = %(user_id)s RETURNING 1
)
SELECT jsonb_build_object(
    'raw.impressions', (SELECT count(*) FROM raw_impressions),
    'raw.feedback_events', (SELECT count(*) FROM raw_feedback),
    'clean.impressions', (SELECT count(*) FROM clean_impressions),
    'clean.feedback_events', (SELECT count(*) FROM clean_feedback),
    'dq.rejects (feedback)', (SELECT count(*) FROM rejects),
    'eval.attributions', (SELECT count(*) FROM attributions));
