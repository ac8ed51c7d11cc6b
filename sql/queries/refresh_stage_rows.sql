-- A staging table shaped like recs.results, for the binary COPY of publish.result_rows (dropped at commit).
DROP TABLE IF EXISTS pg_temp.refresh_staged;
CREATE TEMP TABLE refresh_staged (LIKE recs.results) ON COMMIT DROP;
