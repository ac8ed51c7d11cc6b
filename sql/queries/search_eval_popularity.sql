-- The popularity a search on each of `days` sees (as search.popularity over the 7 days before it, the index
-- published the night before), by the replay's item numbers, in one pass over the events: weighted
-- interactions per item and day once, then each searched day's window summed (integer weights: the same sums).
-- Items without interactions are left out (0).
WITH daily AS (
    SELECT e.ds, e.item_id, sum(x.weight) AS weight
    FROM clean.events e
    JOIN unnest(%(event_types)s::text[], %(weights)s::float8[]) AS x(event_type, weight)
      ON x.event_type = e.event_type AND x.weight > 0
    WHERE e.ds BETWEEN %(first)s AND %(last)s AND e.item_id IS NOT NULL
    GROUP BY e.ds, e.item_id
),
windowed AS (
    SELECT d.day, w.item_id, sum(w.weight) AS weight
    FROM unnest(%(days)s::date[]) AS d(day)
    JOIN daily w ON w.ds BETWEEN d.day - %(window)s AND d.day - 1
    GROUP BY d.day, w.item_id
),
scaled AS (
    SELECT w.day, w.item_id, (ln(1 + w.weight) / nullif(ln(1 + max(w.weight) OVER (PARTITION BY w.day)), 0))::real AS p
    FROM windowed w
)
SELECT s.day, i.idx, s.p::double precision AS popularity
FROM scaled s
JOIN search_eval_items i ON i.item_id = s.item_id;
