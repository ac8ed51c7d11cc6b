-- Every transaction with an id below this has ended, so the intake rows below it are final: no writer can add one.
SELECT pg_snapshot_xmin(pg_current_snapshot())::text;
