-- Event-type and top-category mix of the day's accepted events vs the trailing window (for PSI).
WITH days AS (
    SELECT e.ds, e.event_type, coalesce(split_part(i.category, ' > ', 1), '(unknown)') AS top_category
    FROM clean.events e
    LEFT JOIN clean.items i ON i.ds = e.ds AND i.item_id = e.item_id
    WHERE e.ds BETWEEN %(ds)s - %(window_days)s AND %(ds)s
)
SELECT 'event_type' AS dimension, event_type AS key,
       count(*) FILTER (WHERE ds = %(ds)s) AS today, count(*) FILTER (WHERE ds < %(ds)s) AS trailing
FROM days GROUP BY event_type
UNION ALL
SELECT 'category', top_category,
       count(*) FILTER (WHERE ds = %(ds)s), count(*) FILTER (WHERE ds < %(ds)s)
FROM days WHERE event_type <> 'search' GROUP BY top_category;
