-- The event row rules, the one copy the daily run and the refresh share: one row per candidate of the temp
-- view dq_event_candidates (raw.events columns + in_batch; dq_event_candidates_day.sql for the daily run,
-- refresh_event_candidates.sql for a refresh) with every reason that applies; rows with in_batch = false only
-- decide which row of an event_id was first. Duplicates: the first occurrence (by load, line) is kept; exact
-- copies of it are duplicate_row, other rows reusing its event_id are duplicate_event_id (kept_load_id /
-- kept_line_no name the kept row). Defects found at the door (raw.events.defects: invalid_utf8, nul_byte,
-- too_long, unbalanced_quote) come first. Control characters (C0, DEL, C1) are refused in every field; query
-- text may hold tabs and line breaks. unknown_item: not in the catalogue of %(catalogue_ds)s.
-- Creates temp table dq_events_flagged (dropped at commit). Statistics of clean.items are fresh (dq_analyze_items).
CREATE TEMP TABLE dq_events_flagged ON COMMIT DROP AS
WITH src AS (
    SELECT r.*,
           nullif(btrim(r.event_id), '') AS event_id_n,
           nullif(btrim(r.user_id), '') AS user_id_n,
           nullif(btrim(r.item_id), '') AS item_id_n,
           lower(nullif(btrim(r.event_type), '')) AS event_type_n,
           dq.try_timestamptz(r.ts) AS ts_n,
           dq.try_float(r.value) AS value_n
    FROM pg_temp.dq_event_candidates r
), ranked AS (
    -- one sort: rank within the event_id, and whether the row is a verbatim copy of the first occurrence
    SELECT s.*,
           row_number() OVER w AS id_rank,
           (row(s.user_id, s.item_id, s.event_type, s.ts, s.session_id, s.query, s.value)::text
               = first_value(row(s.user_id, s.item_id, s.event_type, s.ts, s.session_id, s.query, s.value)::text) OVER w)
               AS same_as_first,
           first_value(s.load_id) OVER w AS kept_load_id,
           first_value(s.line_no) OVER w AS kept_line_no,
           -- a probe of clean.items' (ds, item_id) key per event (or one hash of the day's items), never a
           -- comparison of every event with every item, whatever the statistics say about the day
           s.item_id_n IS NOT NULL
               AND NOT EXISTS (SELECT FROM clean.items c WHERE c.ds = %(catalogue_ds)s AND c.item_id = s.item_id_n)
               AS unknown_item
    FROM src s
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
