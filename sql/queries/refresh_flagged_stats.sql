-- What the refresh's validation found: rows, accepted, rejected, and the users with accepted events.
SELECT count(*), count(*) FILTER (WHERE cardinality(reasons) = 0), count(*) FILTER (WHERE cardinality(reasons) > 0),
       coalesce(array_agg(DISTINCT user_id_n) FILTER (WHERE cardinality(reasons) = 0), '{}')
FROM dq_events_flagged;
