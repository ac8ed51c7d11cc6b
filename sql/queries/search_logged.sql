-- Logged searches of days since..through that led to a click on an item of `catalogue`'s day: a fixed
-- pseudo-random sample (md5 of the event id) of at most test_cap searches of the catalogue's own day and at
-- most fit_cap a day of the earlier days, in day and sample order, with the words search.run would search for.
SELECT l.ds, l.event_id, l.user_id, l.query, l.item_id, search.tokens(l.query) AS tokens
FROM (
    SELECT l.*, row_number() OVER (PARTITION BY l.ds ORDER BY md5(l.event_id), l.event_id) AS n
    FROM search.logged(%(since)s, %(through)s) l
    JOIN clean.items i ON i.ds = %(catalogue)s AND i.item_id = l.item_id
) l
WHERE l.n <= CASE WHEN l.ds = %(catalogue)s THEN %(test_cap)s ELSE %(fit_cap)s END
ORDER BY l.ds, l.n;
