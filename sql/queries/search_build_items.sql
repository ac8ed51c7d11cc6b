-- The day's catalogue as searched under a publish_id: its text document, popularity over the days
-- since..through, and the model's item vector at unit length (NULL where the model has none).
INSERT INTO search.items (publish_id, item_id, title, category, in_stock, popularity, doc, vec)
SELECT %(publish_id)s, i.item_id, i.title, i.category, i.in_stock, coalesce(p.popularity, 0),
       search.document(i.title, i.brand, i.category, i.tags), search.to_vec(search.unit(e.vector))
FROM clean.items i
LEFT JOIN search.popularity(%(since)s, %(through)s, %(event_types)s, %(weights)s) p ON p.item_id = i.item_id
LEFT JOIN features.item_embeddings e ON e.ds = i.ds AND e.model_id = %(model_id)s AND e.item_id = i.item_id
WHERE i.ds = %(ds)s;
