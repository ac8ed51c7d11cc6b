-- Impressions shown before the day (in the look-back) with whether each was clicked and when: the training
-- feedback (ignored -> negative for that user, clicked -> weighted positive).
SELECT i.user_id, i.item_id, i.position, extract(epoch FROM i.shown_at)::bigint AS shown_at,
       EXISTS (SELECT 1 FROM eval.attributions a WHERE a.impression_ds = i.ds AND a.request_id = i.request_id
               AND a.position = i.position AND a.event_type = 'click') AS clicked,
       (SELECT min(extract(epoch FROM a.ts))::bigint FROM eval.attributions a WHERE a.impression_ds = i.ds
               AND a.request_id = i.request_id AND a.position = i.position AND a.event_type = 'click') AS clicked_at
FROM clean.impressions i
WHERE i.ds BETWEEN %(since)s AND %(through)s
ORDER BY i.user_id, i.shown_at, i.position;
