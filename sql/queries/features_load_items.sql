SELECT item_idx, item_id, title_tokens, category_path, tags, brand, price_bucket, in_stock
FROM features.items
WHERE ds = %(ds)s
ORDER BY item_idx;
