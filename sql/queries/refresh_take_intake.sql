-- Take the intake rows of [xid_from, xid_to) out of the intake into raw.events as one load of the landing day
-- (line_no in insert order), exactly as sent; the load is only created when there are rows.
-- Returns the load_id (NULL when nothing was taken) and the rows moved.
WITH taken AS (
    DELETE FROM raw.intake_events i
    WHERE i.xid >= %(xid_from)s::xid8 AND i.xid < %(xid_to)s::xid8
    RETURNING i.*
), load AS (
    INSERT INTO raw.loads (ds, source, format, target, path, rows_landed)
    SELECT %(ds)s, 'intake', 'intake', 'events', 'raw.intake_events', count(*)
    FROM taken
    HAVING count(*) > 0
    RETURNING load_id
), moved AS (
    INSERT INTO raw.events (ds, load_id, line_no, event_id, user_id, item_id, event_type, ts, session_id, query, value)
    SELECT %(ds)s, l.load_id, row_number() OVER (ORDER BY t.xid, t.intake_id),
           t.event_id, t.user_id, t.item_id, t.event_type, t.ts, t.session_id, t.query, t.value
    FROM taken t CROSS JOIN load l
    RETURNING 1
)
SELECT (SELECT load_id FROM load), (SELECT count(*) FROM moved);
