INSERT INTO clean.items (ds, item_id, title, category, tags, brand, price, in_stock, updated_at)
SELECT ds, item_id_n, title_n,
       nullif(btrim(category), ''),
       coalesce(array_remove(array(SELECT btrim(t) FROM unnest(string_to_array(tags, '|')) t), ''), '{}'),
       nullif(btrim(brand), ''),
       price_n,
       coalesce(in_stock_n IN ('true', '1', 't'), true),
       updated_at_n
FROM dq_items_flagged
WHERE cardinality(reasons) = 0;
