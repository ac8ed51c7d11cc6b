-- Every gated model per day (newest first): the verdict, and whether the day's publish uses it / is live.
SELECT d.ds, d.model_id, d.blessed, d.metric, d.candidate, d.best_baseline, d.baseline, d.reason, d.decided_at,
       (p.model_id IS NOT NULL) AS published, (c.ds IS NOT NULL) AS live
FROM eval.gate_decisions d
LEFT JOIN recs.published p ON p.ds = d.ds AND p.model_id = d.model_id
LEFT JOIN recs.current c ON c.ds = p.ds AND c.publish_id = p.publish_id
ORDER BY d.ds DESC, d.decided_at DESC
LIMIT %(limit)s;
