-- Explicit publish decisions (roll back / promote), newest first.
SELECT audit_id, at, actor, action, reason, from_ds, from_publish_id, to_ds, to_publish_id
FROM recs.publish_audit
ORDER BY at DESC, audit_id DESC
LIMIT %(limit)s;
