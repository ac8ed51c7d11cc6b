-- Forget a day's validation results so that rerunning it gives the same rows, never duplicates.
DELETE FROM clean.events WHERE ds = %(ds)s;
DELETE FROM clean.items WHERE ds = %(ds)s;
DELETE FROM dq.rejects WHERE ds = %(ds)s;
DELETE FROM dq.load_audit WHERE ds = %(ds)s;
DELETE FROM dq.check_results WHERE ds = %(ds)s;
DELETE FROM dq.repairs WHERE ds = %(ds)s;
