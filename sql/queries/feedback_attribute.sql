-- Last-touch attribution of the day's clicks, carts and purchases: an event of a user on an item is credited to
-- the latest impression of that item to that user with shown_at <= ts < shown_at + window (ties: the lower
-- position, then request_id). Events without such an impression are not credited.
INSERT INTO eval.attributions (ds, event_id, event_type, user_id, item_id, ts, value, impression_ds, request_id,
                               position, publish_id, model_id, source, grp, shown_at, window_hours)
SELECT e.ds, e.event_id, e.event_type, e.user_id, e.item_id, e.ts,
       coalesce(e.value, ci.price), imp.ds, imp.request_id, imp.position, imp.publish_id, imp.model_id,
       imp.source, imp.grp, imp.shown_at, %(window_hours)s
FROM clean.events e
CROSS JOIN LATERAL (
    SELECT i.* FROM clean.impressions i
    WHERE i.user_id = e.user_id AND i.item_id = e.item_id
      AND i.shown_at <= e.ts AND e.ts < i.shown_at + make_interval(hours => %(window_hours)s)
      AND i.ds BETWEEN %(since)s AND e.ds
    ORDER BY i.shown_at DESC, i.position, i.request_id
    LIMIT 1
) imp
LEFT JOIN clean.items ci ON ci.ds = e.ds AND ci.item_id = e.item_id
WHERE e.ds = %(ds)s AND e.event_type = ANY (%(event_types)s::text[]) AND e.item_id IS NOT NULL;
