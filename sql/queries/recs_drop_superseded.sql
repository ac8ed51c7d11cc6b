-- After a swap commits: delete rows of this day's other attempts, found through recs.shard_writes so the
-- delete is an index lookup on publish_id (readers still inside an older snapshot keep their rows).
WITH superseded AS (
    DELETE FROM recs.shard_writes w
    WHERE w.ds = %(ds)s AND w.publish_id <> %(publish_id)s
    RETURNING w.publish_id
)
DELETE FROM recs.results r
WHERE r.ds = %(ds)s
  AND r.publish_id = ANY (ARRAY(SELECT DISTINCT s.publish_id FROM superseded s));
