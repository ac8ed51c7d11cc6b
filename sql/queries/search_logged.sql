-- Logged searches of days since..through that led to a click on an item of `catalogue`'s day, at most
-- per_day a day (a fixed pseudo-random sample: md5 of the event id), in day and sample order.
SELECT l.ds, l.event_id, l.user_id, l.query, l.item_id
FROM (
    SELECT l.*, row_number() OVER (PARTITION BY l.ds ORDER BY md5(l.event_id), l.event_id) AS n
    FROM search.logged(%(since)s, %(through)s) l
    JOIN clean.items i ON i.ds = %(catalogue)s AND i.item_id = l.item_id
) l
WHERE l.n <= %(per_day)s
ORDER BY l.ds, l.n;
