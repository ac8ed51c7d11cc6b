-- Serve the staged lists: keep them under this refresh, then repoint each of their users at it, in the
-- refresh's transaction (a reader sees a user's previous list or this one, whole).
INSERT INTO recs.refresh_results (refresh_id, publish_id, ds, model_id, user_id, rank, item_id, score,
                                  reason_item_id, reason_score, refreshed_at)
SELECT %(refresh_id)s, s.publish_id, s.ds, s.model_id, s.user_id, s.rank, s.item_id, s.score,
       s.reason_item_id, s.reason_score, %(refreshed_at)s
FROM pg_temp.refresh_staged s;
INSERT INTO recs.refresh_current (publish_id, user_id, refresh_id, refreshed_at)
SELECT DISTINCT s.publish_id, s.user_id, %(refresh_id)s::bigint, %(refreshed_at)s::timestamptz
FROM pg_temp.refresh_staged s
ON CONFLICT (publish_id, user_id) DO UPDATE
SET refresh_id = EXCLUDED.refresh_id, refreshed_at = EXCLUDED.refreshed_at;
