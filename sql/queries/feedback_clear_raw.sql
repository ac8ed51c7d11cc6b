-- Replace what an earlier landing of the day put into raw for this target (landing a day again replaces it).
DELETE FROM raw.impressions WHERE ds = %(ds)s AND %(target)s = 'impressions';
DELETE FROM raw.feedback_events WHERE ds = %(ds)s AND %(target)s = 'feedback';
DELETE FROM raw.loads WHERE ds = %(ds)s AND target = %(target)s;
