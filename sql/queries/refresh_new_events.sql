-- The users' accepted item events landed after the live day (through the refresh's landing day), as dense
-- indices of the live day's catalogue, in the order features_build_sequences.sql uses (ts, event_id). Events on
-- items outside that catalogue are left out, as the daily sequences leave them out.
SELECT e.user_id,
       array_agg(i.item_idx ORDER BY e.ts, e.event_id),
       array_agg(array_position(%(event_types)s::text[], e.event_type)::smallint ORDER BY e.ts, e.event_id),
       array_agg(extract(epoch FROM e.ts)::bigint ORDER BY e.ts, e.event_id)
FROM clean.events e
JOIN features.items i ON i.ds = %(ds)s AND i.item_id = e.item_id
WHERE e.user_id = ANY (%(users)s::text[])
  AND e.ds > %(ds)s AND e.ds <= %(through)s
  AND e.event_type = ANY (%(item_events)s::text[])
GROUP BY e.user_id
ORDER BY e.user_id;
