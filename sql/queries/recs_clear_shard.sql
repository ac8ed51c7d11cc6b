-- A retried shard replaces its own rows, so retries never duplicate.
DELETE FROM recs.results WHERE ds = %(ds)s AND publish_id = %(publish_id)s AND shard = %(shard)s;
