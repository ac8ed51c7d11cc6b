-- The search log of days since..through as suggestions: normalised queries searched by at least
-- min_users different users (no one's lone query is shown to others), how often, and the leaf category
-- their clicks went to most.
INSERT INTO search.queries (publish_id, query, searches, category)
SELECT %(publish_id)s, search.normalise_query(l.query), count(*), mode() WITHIN GROUP (ORDER BY i.category)
FROM search.logged(%(since)s, %(through)s) l
LEFT JOIN clean.items i ON i.ds = %(ds)s AND i.item_id = l.item_id
GROUP BY search.normalise_query(l.query)
HAVING count(DISTINCT l.user_id) >= %(min_users)s;
