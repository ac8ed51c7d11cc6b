-- The day's validated catalogue, in item_id order (that order defines the dense item index).
SELECT item_id, title, category, tags, brand, price, in_stock
FROM clean.items
WHERE ds = %(ds)s
ORDER BY item_id;
