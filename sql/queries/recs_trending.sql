-- Trending items: interactions over the last days up to the end of ds, weighted by event type,
-- in-stock items of the day's catalogue only; ties by item_id.
SELECT e.item_id, sum(CASE e.event_type WHEN 'purchase' THEN 5 WHEN 'cart' THEN 3 WHEN 'fav' THEN 2
                                        ELSE 1 END) AS weight
FROM clean.events e
JOIN clean.items i ON i.ds = %(ds)s AND i.item_id = e.item_id AND i.in_stock
WHERE e.ds BETWEEN %(since)s AND %(ds)s AND e.item_id IS NOT NULL
GROUP BY e.item_id
ORDER BY weight DESC, e.item_id
LIMIT %(k)s;
