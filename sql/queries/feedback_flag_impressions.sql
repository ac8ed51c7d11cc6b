-- Validate the day's landed impressions: one row per landed row with every reason that applies.
-- Duplicates: the first row (by load, line) of a (request_id, position) or (request_id, item_id) is kept; an
-- exact copy of a kept row is duplicate_row, any other reuse duplicate_impression. The list's source and model
-- come from the publish: the published row of that user and item (model | trending), else trending (a fallback
-- list); the group is the user's hashed holdout bucket, and a holdout user's list is trending by contract (an
-- item that is also in their unseen model list is not credited to the model). Creates temp table feedback_impressions_flagged.
CREATE TEMP TABLE feedback_impressions_flagged ON COMMIT DROP AS
WITH src AS (
    SELECT r.*,
           nullif(btrim(r.request_id), '') AS request_id_n,
           nullif(btrim(r.user_id), '') AS user_id_n,
           nullif(btrim(r.item_id), '') AS item_id_n,
           nullif(btrim(r.surface), '') AS surface_n,
           CASE WHEN btrim(r.position) ~ '^\d{1,3}$' AND btrim(r.position)::int BETWEEN 1 AND 500
                THEN btrim(r.position)::smallint END AS position_n,
           CASE WHEN btrim(r.publish_id) ~ '^\d{1,18}$' THEN btrim(r.publish_id)::bigint END AS publish_id_n,
           dq.try_timestamptz(r.shown_at) AS ts_n
    FROM raw.impressions r
    WHERE r.ds = %(ds)s
), publishes AS (
    -- a known publish: published (recs.published), or still holding its rows (a superseded or rolled-back day)
    SELECT ids.publish_id,
           coalesce((SELECT p.model_id FROM recs.published p WHERE p.publish_id = ids.publish_id LIMIT 1),
                    (SELECT r.model_id FROM recs.results r WHERE r.publish_id = ids.publish_id LIMIT 1)) AS model_id
    FROM (SELECT DISTINCT publish_id_n AS publish_id FROM src WHERE publish_id_n IS NOT NULL) ids
), ranked AS (
    SELECT s.*,
           row_number() OVER (PARTITION BY request_id_n, position_n ORDER BY load_id, line_no) AS pos_rank,
           row_number() OVER (PARTITION BY request_id_n, item_id_n ORDER BY load_id, line_no) AS item_rank,
           row_number() OVER (PARTITION BY row(s.request_id, s.user_id, s.item_id, s.position, s.publish_id,
                                               s.shown_at, s.surface)::text ORDER BY load_id, line_no) AS copy_rank,
           p.model_id AS publish_model
    FROM src s
    LEFT JOIN publishes p ON p.publish_id = s.publish_id_n
), flagged AS (
    SELECT ranked.*,
           array_remove(ARRAY[
               CASE WHEN malformed THEN 'malformed_line' END,
               CASE WHEN request_id_n IS NULL THEN 'missing_request_id' END,
               CASE WHEN user_id_n IS NULL THEN 'missing_user_id' END,
               CASE WHEN item_id_n IS NULL THEN 'missing_item_id' END,
               CASE WHEN nullif(btrim(position), '') IS NULL OR position_n IS NULL THEN 'bad_position' END,
               CASE WHEN nullif(btrim(publish_id), '') IS NULL THEN 'missing_publish_id' END,
               CASE WHEN nullif(btrim(publish_id), '') IS NOT NULL AND publish_model IS NULL THEN 'unknown_publish' END,
               CASE WHEN nullif(btrim(shown_at), '') IS NULL THEN 'missing_ts' END,
               CASE WHEN nullif(btrim(shown_at), '') IS NOT NULL AND ts_n IS NULL THEN 'bad_ts' END,
               CASE WHEN ts_n < %(day_start)s::timestamptz - make_interval(hours => %(lateness_hours)s)
                    THEN 'ts_too_early' END,
               CASE WHEN ts_n >= %(day_end)s::timestamptz AND ts_n <= now() THEN 'ts_after_day' END,
               CASE WHEN ts_n > now() THEN 'ts_in_future' END,
               CASE WHEN surface_n IS NULL THEN 'missing_surface' END,
               CASE WHEN length(request_id) > %(max_id_len)s OR length(user_id) > %(max_id_len)s
                      OR length(item_id) > %(max_id_len)s OR length(position) > %(max_id_len)s
                      OR length(publish_id) > %(max_id_len)s OR length(shown_at) > %(max_id_len)s
                      OR length(surface) > %(max_id_len)s THEN 'too_long' END,
               CASE WHEN concat_ws(' ', request_id, user_id, item_id, position, publish_id, shown_at, surface)
                         ~ '[\x01-\x1f\x7f-\x9f]' THEN 'control_chars' END,
               CASE WHEN copy_rank > 1 THEN 'duplicate_row' END,
               CASE WHEN copy_rank = 1 AND request_id_n IS NOT NULL
                         AND ((position_n IS NOT NULL AND pos_rank > 1) OR (item_id_n IS NOT NULL AND item_rank > 1))
                    THEN 'duplicate_impression' END
           ], NULL) AS reasons
    FROM ranked
)
SELECT f.*,
       CASE WHEN clean.holdout_bucket(f.user_id_n) < %(holdout_pct)s THEN 'trending'
            ELSE coalesce(res.source, 'trending') END AS source,
       CASE WHEN clean.holdout_bucket(f.user_id_n) < %(holdout_pct)s THEN 'holdout' ELSE 'treatment' END AS grp
FROM flagged f
LEFT JOIN LATERAL (
    SELECT r.source FROM recs.results r
    WHERE r.publish_id = f.publish_id_n AND r.user_id = f.user_id_n AND r.item_id = f.item_id_n
    LIMIT 1
) res ON cardinality(f.reasons) = 0;
