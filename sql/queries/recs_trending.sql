-- The trending list (recpipeline.trending): item interactions landed on the days since..through, each
-- weighted by its event type (weights passed in from recpipeline.events), in-stock items of through's
-- catalogue only; best first, ties by item_id. The same list is served to cold users and judged by the gate.
SELECT e.item_id, sum(w.weight) AS weight
FROM clean.events e
JOIN unnest(%(event_types)s::text[], %(weights)s::float8[]) AS w(event_type, weight)
  ON w.event_type = e.event_type AND w.weight > 0
JOIN clean.items i ON i.ds = %(through)s AND i.item_id = e.item_id AND i.in_stock
WHERE e.ds BETWEEN %(since)s AND %(through)s AND e.item_id IS NOT NULL
GROUP BY e.item_id
ORDER BY weight DESC, e.item_id
LIMIT %(k)s;
