-- A refresh's log row (its id tags the rows it lands and serves); counts are filled in by refresh_finish.
INSERT INTO recs.refreshes (refreshed_at, landing_ds, ds, publish_id, model_id, xid_from, xid_to)
VALUES (%(refreshed_at)s, %(landing_ds)s, %(ds)s, %(publish_id)s, %(model_id)s, %(xid_from)s::xid8, %(xid_to)s::xid8)
RETURNING refresh_id;
