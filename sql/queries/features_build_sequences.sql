-- Per-user chronological interactions inside the history window, on items of the day's catalogue.
INSERT INTO features.user_sequences (ds, user_id, item_idx, event_type, ts)
SELECT %(ds)s, e.user_id,
       array_agg(i.item_idx ORDER BY e.ts, e.event_id),
       array_agg(CASE e.event_type WHEN 'view' THEN 1 WHEN 'click' THEN 2 WHEN 'fav' THEN 3
                                   WHEN 'cart' THEN 4 WHEN 'purchase' THEN 5 END::smallint
                 ORDER BY e.ts, e.event_id),
       array_agg(extract(epoch FROM e.ts)::bigint ORDER BY e.ts, e.event_id)
FROM clean.events e
JOIN features.items i ON i.ds = %(ds)s AND i.item_id = e.item_id
WHERE e.ds BETWEEN %(window_start)s AND %(ds)s
  AND e.ts < %(day_end)s
  AND e.event_type IN ('view', 'click', 'fav', 'cart', 'purchase')
GROUP BY e.user_id;
