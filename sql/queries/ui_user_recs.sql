-- A user's live recommendations (recs.latest) with recs.explain's sentence, titles and categories of the item
-- and of the history item that explains it.
SELECT l.rank, l.item_id, i.title, i.category, l.score, l.source, x.explanation,
       l.reason_item_id, ri.title AS reason_title, l.reason_score, l.ds, l.model_id
FROM recs.latest l
JOIN recs.explain(%(user_id)s) x ON x.rank = l.rank
LEFT JOIN clean.items i ON i.ds = l.ds AND i.item_id = l.item_id
LEFT JOIN clean.items ri ON ri.ds = l.ds AND ri.item_id = l.reason_item_id
WHERE l.user_id = %(user_id)s
ORDER BY l.rank;
