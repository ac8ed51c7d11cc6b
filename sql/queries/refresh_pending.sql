-- The newest committed intake row's transaction, and the xmin of the current snapshot (see refresh_horizon.sql):
-- while the first is not below the second, a transaction that began earlier is still open somewhere.
SELECT (SELECT max(i.xid) FROM raw.intake_events i)::text,
       pg_snapshot_xmin(pg_current_snapshot())::text,
       (SELECT max(i.xid) FROM raw.intake_events i) < pg_snapshot_xmin(pg_current_snapshot());
