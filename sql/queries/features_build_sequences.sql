-- Per-user chronological interactions inside the history window, on items of the day's catalogue.
-- Event codes are positions in %(event_types)s (recpipeline.events.EVENT_TYPES, so EVENT_CODES); only
-- %(item_events)s enter sequences.
INSERT INTO features.user_sequences (ds, user_id, item_idx, event_type, ts)
SELECT %(ds)s, e.user_id,
       array_agg(i.item_idx ORDER BY e.ts, e.event_id),
       array_agg(array_position(%(event_types)s::text[], e.event_type)::smallint ORDER BY e.ts, e.event_id),
       array_agg(extract(epoch FROM e.ts)::bigint ORDER BY e.ts, e.event_id)
FROM clean.events e
JOIN features.items i ON i.ds = %(ds)s AND i.item_id = e.item_id
WHERE e.ds BETWEEN %(window_start)s AND %(ds)s
  AND e.ts < %(day_end)s
  AND e.event_type = ANY (%(item_events)s::text[])
GROUP BY e.user_id;
