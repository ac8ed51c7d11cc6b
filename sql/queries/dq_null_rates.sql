-- Null rates of optional fields among the day's accepted events (each over the events it applies to).
SELECT 'session_id' AS field, avg((session_id IS NULL)::int)::float8 AS rate FROM clean.events WHERE ds = %(ds)s
UNION ALL
SELECT 'purchase_value', avg((value IS NULL)::int)::float8 FROM clean.events
WHERE ds = %(ds)s AND event_type = 'purchase';
