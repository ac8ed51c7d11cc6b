-- A refresh's candidates for the event row rules (dq_flag_events.sql, the same statement the daily run uses):
-- the rows it landed (loads %(load_ids)s, all of day %(ds)s, in_batch) and the earlier rows of the same
-- event_ids, because a refresh sees only part of the day:
--   * duplicates: the first occurrence is looked for among this batch, the rows earlier refreshes landed for
--     the day, and the day's accepted rows of other loads (clean.events' key);
--   * unknown_item: against the newest catalogue up to the day (refresh_catalogue_day.sql; the day's own has
--     usually not landed yet).
-- The daily run of the day validates all of raw again, these rows included, and is the authority.
DROP TABLE IF EXISTS pg_temp.dq_events_flagged;  -- a refresh validates each of its days in one transaction
DROP VIEW IF EXISTS pg_temp.dq_event_candidates;
CREATE TEMP VIEW dq_event_candidates AS
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
)
SELECT * FROM candidates;
