-- The day's impressions with what each earned (attributed events up to now): one row per impression.
SELECT i.request_id, i.user_id, i.item_id, i.position, i.publish_id, i.model_id, i.source, i.grp,
       count(*) FILTER (WHERE a.event_type = 'click') > 0 AS clicked,
       count(*) FILTER (WHERE a.event_type = 'cart') > 0 AS carted,
       count(*) FILTER (WHERE a.event_type = 'purchase') > 0 AS purchased,
       coalesce(sum(a.value) FILTER (WHERE a.event_type = 'purchase'), 0) AS revenue
FROM clean.impressions i
LEFT JOIN eval.attributions a
       ON a.impression_ds = i.ds AND a.request_id = i.request_id AND a.position = i.position
WHERE i.ds = %(ds)s
GROUP BY i.request_id, i.user_id, i.item_id, i.position, i.publish_id, i.model_id, i.source, i.grp
ORDER BY i.request_id, i.position;
