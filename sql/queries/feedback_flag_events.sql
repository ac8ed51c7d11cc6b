-- Validate the day's landed feedback events (dismiss = "not interested"); creates temp table
-- feedback_events_flagged. Duplicates as for events: the first row of an event_id is kept.
CREATE TEMP TABLE feedback_events_flagged ON COMMIT DROP AS
WITH src AS (
    SELECT r.*,
           nullif(btrim(r.event_id), '') AS event_id_n,
           nullif(btrim(r.user_id), '') AS user_id_n,
           nullif(btrim(r.item_id), '') AS item_id_n,
           lower(nullif(btrim(r.event_type), '')) AS event_type_n,
           nullif(btrim(r.request_id), '') AS request_id_n,
           dq.try_timestamptz(r.ts) AS ts_n
    FROM raw.feedback_events r
    WHERE r.ds = %(ds)s
), ranked AS (
    SELECT s.*,
           row_number() OVER w AS id_rank,
           (row(s.user_id, s.item_id, s.event_type, s.ts, s.request_id)::text
               = first_value(row(s.user_id, s.item_id, s.event_type, s.ts, s.request_id)::text) OVER w) AS same_as_first
    FROM src s
    WINDOW w AS (PARTITION BY event_id_n ORDER BY load_id, line_no)
)
SELECT ranked.*,
       array_remove(ARRAY[
           CASE WHEN malformed THEN 'malformed_line' END,
           CASE WHEN event_id_n IS NULL THEN 'missing_event_id' END,
           CASE WHEN user_id_n IS NULL THEN 'missing_user_id' END,
           CASE WHEN item_id_n IS NULL THEN 'missing_item_id' END,
           CASE WHEN event_type_n IS DISTINCT FROM 'dismiss' THEN 'unknown_event_type' END,
           CASE WHEN nullif(btrim(ts), '') IS NULL THEN 'missing_ts' END,
           CASE WHEN nullif(btrim(ts), '') IS NOT NULL AND ts_n IS NULL THEN 'bad_ts' END,
           CASE WHEN ts_n < %(day_start)s::timestamptz - make_interval(hours => %(lateness_hours)s)
                THEN 'ts_too_early' END,
           CASE WHEN ts_n >= %(day_end)s::timestamptz AND ts_n <= now() THEN 'ts_after_day' END,
           CASE WHEN ts_n > now() THEN 'ts_in_future' END,
           CASE WHEN length(event_id) > %(max_id_len)s OR length(user_id) > %(max_id_len)s
                  OR length(item_id) > %(max_id_len)s OR length(event_type) > %(max_id_len)s
                  OR length(ts) > %(max_id_len)s OR length(request_id) > %(max_id_len)s THEN 'too_long' END,
           CASE WHEN concat_ws(' ', event_id, user_id, item_id, event_type, ts, request_id)
                     ~ '[\x01-\x1f\x7f-\x9f]' THEN 'control_chars' END,
           CASE WHEN event_id_n IS NOT NULL AND id_rank > 1 AND same_as_first THEN 'duplicate_row' END,
           CASE WHEN event_id_n IS NOT NULL AND id_rank > 1 AND NOT same_as_first THEN 'duplicate_event_id' END
       ], NULL) AS reasons
FROM ranked;
