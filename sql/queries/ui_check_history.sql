-- Check results of the most recent %(days)s checked days, oldest first (the trends of the Data quality page).
SELECT r.ds, r.check_name, r.target, r.severity, r.status, r.observed, r.threshold
FROM dq.check_results r
WHERE r.ds IN (SELECT DISTINCT ds FROM dq.check_results ORDER BY ds DESC LIMIT %(days)s)
ORDER BY r.ds, r.check_name, r.target;
