-- Overview: the most recent days (up to %(days)s) with landed / accepted / rejected rows per target, the
-- day's check counts, the gate verdict of the day's model (the published one, else the latest gated) and
-- whether the day is published and live now.
WITH days AS (
    SELECT ds FROM dq.load_audit
    UNION SELECT ds FROM eval.gate_decisions
    UNION SELECT ds FROM recs.published
    ORDER BY ds DESC
    LIMIT %(days)s
), audit AS (
    SELECT ds,
           max(landed) FILTER (WHERE target = 'events') AS events_landed,
           max(accepted) FILTER (WHERE target = 'events') AS events_accepted,
           max(rejected) FILTER (WHERE target = 'events') AS events_rejected,
           max(landed) FILTER (WHERE target = 'items') AS items_landed,
           max(accepted) FILTER (WHERE target = 'items') AS items_accepted,
           max(rejected) FILTER (WHERE target = 'items') AS items_rejected
    FROM dq.load_audit
    WHERE ds IN (SELECT ds FROM days)
    GROUP BY ds
), checks AS (
    SELECT ds,
           count(*) FILTER (WHERE status = 'pass') AS checks_pass,
           count(*) FILTER (WHERE status = 'warn') AS checks_warn,
           count(*) FILTER (WHERE status = 'fail') AS checks_fail
    FROM dq.check_results
    WHERE ds IN (SELECT ds FROM days)
    GROUP BY ds
), decision AS (
    SELECT DISTINCT ON (d.ds) d.ds, d.model_id, d.blessed, d.metric, d.candidate, d.best_baseline, d.baseline,
           d.reason, d.decided_at
    FROM eval.gate_decisions d
    LEFT JOIN recs.published p ON p.ds = d.ds AND p.model_id = d.model_id
    WHERE d.ds IN (SELECT ds FROM days)
    ORDER BY d.ds, (p.model_id IS NOT NULL) DESC, d.decided_at DESC
)
SELECT days.ds,
       a.events_landed, a.events_accepted, a.events_rejected, a.items_landed, a.items_accepted, a.items_rejected,
       coalesce(c.checks_pass, 0) AS checks_pass, coalesce(c.checks_warn, 0) AS checks_warn,
       coalesce(c.checks_fail, 0) AS checks_fail,
       d.model_id, d.blessed, d.metric, d.candidate, d.best_baseline, d.baseline, d.reason, d.decided_at,
       p.model_id AS published_model_id, p.published_at,
       (cur.ds IS NOT NULL) AS live
FROM days
LEFT JOIN audit a ON a.ds = days.ds
LEFT JOIN checks c ON c.ds = days.ds
LEFT JOIN decision d ON d.ds = days.ds
LEFT JOIN recs.published p ON p.ds = days.ds
LEFT JOIN recs.current cur ON cur.ds = days.ds AND cur.publish_id = p.publish_id
ORDER BY days.ds DESC;
