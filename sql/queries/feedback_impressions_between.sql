-- Impressions shown on days [since, through] with what each earned: the units of a multi-day lift.
SELECT i.ds, i.user_id, i.position, i.grp,
       EXISTS (SELECT 1 FROM eval.attributions a WHERE a.impression_ds = i.ds AND a.request_id = i.request_id
               AND a.position = i.position AND a.event_type = 'click') AS clicked
FROM clean.impressions i
WHERE i.ds BETWEEN %(since)s AND %(through)s;
