-- Forget a day's validation results so that rerunning it gives the same rows, never duplicates.
DELETE FROM clean.events WHERE ds = %(ds)s;
DELETE FROM clean.items WHERE ds = %(ds)s;
-- Only the events' and items' quarantine: impressions and feedback have their own stage (recpipeline.feedback).
DELETE FROM dq.rejects WHERE ds = %(ds)s AND target IN ('events', 'items');
DELETE FROM dq.load_audit WHERE ds = %(ds)s AND target IN ('events', 'items');
DELETE FROM dq.check_results WHERE ds = %(ds)s;
DELETE FROM dq.repairs WHERE ds = %(ds)s;
