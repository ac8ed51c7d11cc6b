REFRESH MATERIALIZED VIEW recs.category_top;
SELECT count(*), count(DISTINCT top_category) FROM recs.category_top;
