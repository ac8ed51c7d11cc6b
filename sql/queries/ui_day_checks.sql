-- The data-quality checks of one day, failures first, with their thresholds and details.
SELECT check_name, target, severity, status, observed, threshold, details
FROM dq.check_results
WHERE ds = %(ds)s
ORDER BY CASE status WHEN 'fail' THEN 0 WHEN 'warn' THEN 1 ELSE 2 END, check_name, target;
