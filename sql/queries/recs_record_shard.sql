-- A shard's counts for its attempt, in the same transaction as its COPY (a retried shard replaces them).
INSERT INTO recs.shard_writes (ds, publish_id, shard, users, rows_written)
VALUES (%(ds)s, %(publish_id)s, %(shard)s, %(users)s, %(rows)s)
ON CONFLICT (publish_id, shard) DO UPDATE
SET users = EXCLUDED.users, rows_written = EXCLUDED.rows_written, written_at = now();
