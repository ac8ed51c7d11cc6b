-- The daily run's candidates for the event row rules (dq_flag_events.sql): every row landed for the day.
DROP VIEW IF EXISTS pg_temp.dq_event_candidates;
CREATE TEMP VIEW dq_event_candidates AS
SELECT r.*, true AS in_batch
FROM raw.events r
WHERE r.ds = %(ds)s;
