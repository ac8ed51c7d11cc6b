-- The users with rows in the refresh's staging table.
SELECT DISTINCT user_id FROM pg_temp.refresh_staged ORDER BY 1;
