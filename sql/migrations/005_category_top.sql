-- Per-category most recommended items of what is published now; refreshed by the example consumer DAG
-- `recpipeline_category_top`, which runs whenever `publish` emits the recs/latest asset.
CREATE MATERIALIZED VIEW recs.category_top AS
WITH counted AS (
    SELECT coalesce(split_part(i.category, ' > ', 1), '(none)') AS top_category,
           l.item_id, count(*) AS users, avg(l.score)::real AS mean_score
    FROM recs.latest l
    LEFT JOIN clean.items i ON i.ds = l.ds AND i.item_id = l.item_id
    GROUP BY 1, 2
)
SELECT top_category, item_id, users, mean_score,
       rank() OVER (PARTITION BY top_category ORDER BY users DESC, item_id) AS category_rank
FROM counted
WITH NO DATA;
CREATE UNIQUE INDEX ON recs.category_top (top_category, item_id);
GRANT SELECT ON recs.category_top TO recpipeline_reader;
