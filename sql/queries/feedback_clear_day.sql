-- Forget a day's impressions/feedback validation (only these targets), so rerunning it gives the same rows.
DELETE FROM clean.impressions WHERE ds = %(ds)s;
DELETE FROM clean.feedback_events WHERE ds = %(ds)s;
DELETE FROM dq.rejects WHERE ds = %(ds)s AND target IN ('impressions', 'feedback');
DELETE FROM dq.load_audit WHERE ds = %(ds)s AND target IN ('impressions', 'feedback');
