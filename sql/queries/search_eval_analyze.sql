-- Statistics for the replay's temp tables before the candidates join reads them: without them the planner
-- rebuilt a hash of the whole popularity table for every search instead of probing its primary key.
ANALYZE search_eval_queries;
ANALYZE search_eval_popularity;
