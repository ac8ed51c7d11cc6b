-- The day's validated catalogue, in item_id order (that order defines the dense item index). Read with COPY:
-- text NULLs become '' (the features treat both alike), tags are joined by '|' (TAG_SEPARATOR, never inside a tag).
SELECT item_id, title, coalesce(category, '') AS category, array_to_string(tags, '|') AS tags,
       coalesce(brand, '') AS brand, price, in_stock
FROM clean.items
WHERE ds = %(ds)s
ORDER BY item_id;
