-- What each scoring shard wrote for an attempt, recorded in the shard's own COPY transaction. Publishing
-- sums these instead of recounting millions of rows under the pointer lock, refuses an attempt with a
-- missing shard, and finds superseded attempts through them (an index lookup, not a partition scan).
CREATE TABLE recs.shard_writes (
    ds           date NOT NULL,
    publish_id   bigint NOT NULL,
    shard        integer NOT NULL,
    users        bigint NOT NULL,
    rows_written bigint NOT NULL,
    written_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (publish_id, shard)
);
CREATE INDEX ON recs.shard_writes (ds);

-- Attempts written before this table existed.
INSERT INTO recs.shard_writes (ds, publish_id, shard, users, rows_written)
SELECT ds, publish_id, shard, count(DISTINCT user_id), count(*)
FROM recs.results
GROUP BY ds, publish_id, shard;
