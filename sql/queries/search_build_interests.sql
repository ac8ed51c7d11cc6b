-- Each user's top 5 leaf categories by event-weighted interactions on days since..through (categories of
-- the day's catalogue), with their share of the user's weight.
WITH w AS (
    SELECT e.user_id, i.category, sum(x.weight) AS weight
    FROM clean.events e
    JOIN unnest(%(event_types)s::text[], %(weights)s::float8[]) AS x(event_type, weight)
      ON x.event_type = e.event_type AND x.weight > 0
    JOIN clean.items i ON i.ds = %(ds)s AND i.item_id = e.item_id
    WHERE e.ds BETWEEN %(since)s AND %(through)s AND e.item_id IS NOT NULL AND i.category IS NOT NULL
    GROUP BY e.user_id, i.category
),
ranked AS (
    SELECT w.user_id, w.category, w.weight / sum(w.weight) OVER (PARTITION BY w.user_id) AS share,
           row_number() OVER (PARTITION BY w.user_id ORDER BY w.weight DESC, w.category) AS n
    FROM w
)
INSERT INTO search.interests (publish_id, user_id, category, share)
SELECT %(publish_id)s, r.user_id, r.category, r.share FROM ranked r WHERE r.n <= 5;
