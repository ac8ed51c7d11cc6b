-- Accepted events per day over the trailing window before ds (for the volume check).
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY accepted) AS median, count(*) AS days
FROM dq.load_audit
WHERE target = 'events' AND ds < %(ds)s AND ds >= %(ds)s - %(window_days)s;
