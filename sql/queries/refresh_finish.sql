-- Move the watermark past the rows this refresh took, and record what it did: same transaction as the rows.
UPDATE raw.intake_watermark
SET xid_before = greatest(xid_before, %(xid_to)s::xid8), refresh_id = %(refresh_id)s, moved_at = %(refreshed_at)s
WHERE stream = 'intake';
UPDATE recs.refreshes
SET intake_rows = %(intake_rows)s, files = %(files)s, file_rows = %(file_rows)s, accepted = %(accepted)s,
    rejected = %(rejected)s, users_refreshed = %(users_refreshed)s, users_were_cold = %(users_were_cold)s,
    rows_written = %(rows_written)s, seconds = %(seconds)s
WHERE refresh_id = %(refresh_id)s;
