-- Validate the events a refresh landed (loads %(load_ids)s, all of day %(ds)s) with the daily rules and reason
-- codes of dq_flag_events.sql, into the same temp table dq_events_flagged, so that dq_accept_events.sql and
-- dq_reject_events.sql write them to clean.events / dq.rejects unchanged. Keep the rule list in step with
-- dq_flag_events.sql (tests/test_refresh_intake.py checks both give the same reasons on the same rows).
-- Differences, because a refresh sees only part of the day:
--   * duplicates: the first occurrence is looked for among this batch, the rows earlier refreshes landed for
--     the day, and the day's accepted rows of other loads (clean.events' key);
--   * unknown_item: against the newest catalogue up to the day (the day's own has usually not landed yet).
-- The daily run of the day validates all of raw again, these rows included, and is the authority.
DROP TABLE IF EXISTS pg_temp.dq_events_flagged;
CREATE TEMP TABLE dq_events_flagged ON COMMIT DROP AS
WITH batch_ids AS (
    SELECT DISTINCT nullif(btrim(r.event_id), '') AS event_id_n
    FROM raw.events r
    WHERE r.load_id = ANY (%(load_ids)s::bigint[])
), candidates AS (
    SELECT r.*, r.load_id = ANY (%(load_ids)s::bigint[]) AS in_batch
    FROM raw.events r
    WHERE r.ds = %(ds)s AND r.load_id = ANY (%(load_ids)s::bigint[])
    UNION ALL
    SELECT r.*, false
    FROM raw.loads l
    JOIN raw.events r ON r.load_id = l.load_id
    WHERE l.ds = %(ds)s AND l.target = 'events' AND l.source IN ('intake', 'microbatch')
      AND NOT (l.load_id = ANY (%(load_ids)s::bigint[]))
      AND nullif(btrim(r.event_id), '') IN (SELECT b.event_id_n FROM batch_ids b)
    UNION ALL
    SELECT r.*, false
    FROM clean.events c
    JOIN raw.loads l ON l.load_id = c.load_id AND l.source NOT IN ('intake', 'microbatch')
    JOIN raw.events r ON r.load_id = c.load_id AND r.line_no = c.line_no
    WHERE c.ds = %(ds)s AND c.event_id IN (SELECT b.event_id_n FROM batch_ids b)
), src AS (
    SELECT r.*,
           nullif(btrim(r.event_id), '') AS event_id_n,
           nullif(btrim(r.user_id), '') AS user_id_n,
           nullif(btrim(r.item_id), '') AS item_id_n,
           lower(nullif(btrim(r.event_type), '')) AS event_type_n,
           dq.try_timestamptz(r.ts) AS ts_n,
           dq.try_float(r.value) AS value_n
    FROM candidates r
), ranked AS (
    SELECT s.*,
           row_number() OVER w AS id_rank,
           (row(s.user_id, s.item_id, s.event_type, s.ts, s.session_id, s.query, s.value)::text
               = first_value(row(s.user_id, s.item_id, s.event_type, s.ts, s.session_id, s.query, s.value)::text) OVER w)
               AS same_as_first,
           first_value(s.load_id) OVER w AS kept_load_id,
           first_value(s.line_no) OVER w AS kept_line_no,
           c.item_id IS NULL AND s.item_id_n IS NOT NULL AS unknown_item
    FROM src s
    LEFT JOIN clean.items c
      ON c.ds = (SELECT max(ci.ds) FROM clean.items ci WHERE ci.ds <= %(ds)s) AND c.item_id = s.item_id_n
    WINDOW w AS (PARTITION BY event_id_n ORDER BY load_id, line_no)
)
SELECT ranked.*,
       coalesce(defects, '{}') || array_remove(ARRAY[
           CASE WHEN malformed THEN 'malformed_line' END,
           CASE WHEN event_id_n IS NULL THEN 'missing_event_id' END,
           CASE WHEN user_id_n IS NULL THEN 'missing_user_id' END,
           CASE WHEN event_type_n IS NULL THEN 'missing_event_type' END,
           CASE WHEN event_type_n <> ALL (%(event_types)s::text[]) THEN 'unknown_event_type' END,
           CASE WHEN item_id_n IS NULL AND event_type_n = ANY (%(item_events)s::text[])
                THEN 'missing_item_id' END,
           CASE WHEN event_type_n = 'search' AND nullif(btrim(query), '') IS NULL THEN 'missing_query' END,
           CASE WHEN nullif(btrim(ts), '') IS NULL THEN 'missing_ts' END,
           CASE WHEN nullif(btrim(ts), '') IS NOT NULL AND ts_n IS NULL THEN 'bad_ts' END,
           CASE WHEN ts_n < %(earliest)s::timestamptz THEN 'ts_implausible' END,
           CASE WHEN ts_n < %(day_start)s::timestamptz - make_interval(hours => %(lateness_hours)s)
                THEN 'ts_too_early' END,
           CASE WHEN ts_n >= %(day_end)s::timestamptz AND ts_n <= now() THEN 'ts_after_day' END,
           CASE WHEN ts_n > now() THEN 'ts_in_future' END,
           CASE WHEN nullif(btrim(value), '') IS NOT NULL AND value_n IS NULL THEN 'bad_value' END,
           CASE WHEN value_n < 0 THEN 'negative_value' END,
           CASE WHEN value_n > %(max_price)s OR value_n = 'Infinity'::float8 THEN 'absurd_value' END,
           CASE WHEN (length(event_id) > %(max_id_len)s OR length(user_id) > %(max_id_len)s
                  OR length(item_id) > %(max_id_len)s OR length(session_id) > %(max_id_len)s
                  OR length(event_type) > %(max_id_len)s OR length(ts) > %(max_id_len)s
                  OR length(value) > %(max_id_len)s OR length(query) > %(max_text_len)s)
                  AND NOT coalesce('too_long' = ANY (defects), false) THEN 'too_long' END,
           CASE WHEN concat_ws(' ', event_id, user_id, item_id, event_type, ts, session_id, value)
                     ~ '[\x01-\x1f\x7f-\x9f]'
                  OR query ~ '[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]' THEN 'control_chars' END,
           CASE WHEN %(reject_unknown_items)s AND unknown_item THEN 'unknown_item' END,
           CASE WHEN event_id_n IS NOT NULL AND id_rank > 1 AND same_as_first THEN 'duplicate_row' END,
           CASE WHEN event_id_n IS NOT NULL AND id_rank > 1 AND NOT same_as_first THEN 'duplicate_event_id' END
       ], NULL) AS reasons
FROM ranked
WHERE in_batch;
ALTER TABLE pg_temp.dq_events_flagged DROP COLUMN in_batch;
