-- Make an earlier published day live again (roll back / promote): one transaction, serialised with publish
-- on the pointer row, so readers of recs.latest see the old or the re-published day, never a mixture.
-- Returns nothing when the day was never published (or its rows are gone). The pointer row is locked by a
-- statement of its own first: a FOR UPDATE inside the same statement as the UPDATE would skip the row the
-- statement itself changes, and the audit would lose the day that was live before.
SELECT 1 FROM recs.current FOR UPDATE;
WITH target AS (
    SELECT p.ds, p.publish_id, p.model_id, p.users, p.rows_published
    FROM recs.published p
    WHERE p.ds = %(ds)s
      AND EXISTS (SELECT 1 FROM recs.results r WHERE r.ds = p.ds AND r.publish_id = p.publish_id)
), previous AS (
    SELECT c.ds, c.publish_id FROM recs.current c
), moved AS (
    INSERT INTO recs.current (singleton, ds, publish_id)
    SELECT true, t.ds, t.publish_id FROM target t
    ON CONFLICT (singleton) DO UPDATE SET ds = EXCLUDED.ds, publish_id = EXCLUDED.publish_id
    RETURNING ds, publish_id
), audited AS (
    INSERT INTO recs.publish_audit (actor, action, reason, from_ds, from_publish_id, to_ds, to_publish_id)
    SELECT %(actor)s, 'republish', %(reason)s, (SELECT ds FROM previous), (SELECT publish_id FROM previous),
           m.ds, m.publish_id
    FROM moved m
    RETURNING audit_id
)
SELECT t.ds, t.publish_id, t.model_id, t.users, t.rows_published, (SELECT audit_id FROM audited)
FROM target t;
