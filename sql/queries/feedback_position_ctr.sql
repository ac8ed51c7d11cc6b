-- Observed click-through by position over shown days [since, through]: the position-bias propensity source.
SELECT i.position, count(*) AS shown,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM eval.attributions a WHERE a.impression_ds = i.ds
                                      AND a.request_id = i.request_id AND a.position = i.position
                                      AND a.event_type = 'click')) AS clicked
FROM clean.impressions i
WHERE i.ds BETWEEN %(since)s AND %(through)s
GROUP BY i.position
ORDER BY i.position;
