-- Start a scoring attempt for a day: make sure its partition exists, drop rows (and shard records) of
-- earlier attempts that were never published, and hand out a fresh publish_id.
SELECT recs.ensure_partition(%(ds)s);
DELETE FROM recs.results r
WHERE r.ds = %(ds)s
  AND r.publish_id IS DISTINCT FROM (SELECT p.publish_id FROM recs.published p WHERE p.ds = %(ds)s);
DELETE FROM recs.shard_writes w
WHERE w.ds = %(ds)s
  AND w.publish_id IS DISTINCT FROM (SELECT p.publish_id FROM recs.published p WHERE p.ds = %(ds)s);
SELECT nextval('recs.publish_id_seq');
