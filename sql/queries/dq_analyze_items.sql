-- Statistics of the catalogue snapshot just written, before the event flagging reads it (autovacuum's analyze
-- lags behind a bulk write: without this the planner believes the day has one item).
ANALYZE clean.items;
