-- Of these users, those recs.latest serves no model list now (trending, or nothing at all).
SELECT u.user_id
FROM unnest(%(users)s::text[]) AS u (user_id)
WHERE NOT EXISTS (SELECT 1 FROM recs.latest l WHERE l.user_id = u.user_id AND l.source IN ('model', 'refresh'));
