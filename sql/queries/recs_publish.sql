-- Swap a day in: one transaction; readers of recs.latest see the old or the new day, never a mixture.
-- Serialise publishers on the pointer row first. Counts are what the shards recorded as they wrote.
SELECT 1 FROM recs.current FOR UPDATE;
INSERT INTO recs.published (ds, publish_id, model_id, users, rows_published)
SELECT %(ds)s, %(publish_id)s, %(model_id)s, coalesce(sum(w.users), 0), coalesce(sum(w.rows_written), 0)
FROM recs.shard_writes w WHERE w.ds = %(ds)s AND w.publish_id = %(publish_id)s
ON CONFLICT (ds) DO UPDATE
SET publish_id = EXCLUDED.publish_id, model_id = EXCLUDED.model_id, users = EXCLUDED.users,
    rows_published = EXCLUDED.rows_published, published_at = now();
INSERT INTO recs.current (singleton, ds, publish_id)
SELECT true, %(ds)s, %(publish_id)s
WHERE %(ds)s >= coalesce((SELECT ds FROM recs.current), '-infinity'::date)
ON CONFLICT (singleton) DO UPDATE SET ds = EXCLUDED.ds, publish_id = EXCLUDED.publish_id;
SELECT p.users, p.rows_published,
       (SELECT count(*) FROM recs.shard_writes w WHERE w.ds = %(ds)s AND w.publish_id = %(publish_id)s)
FROM recs.published p WHERE p.ds = %(ds)s;
