-- The day's item features, read with COPY: arrays joined by the unit separator (a control character, which never
-- survives data quality), a NULL brand as ''.
SELECT item_idx, item_id,
       array_to_string(title_tokens, chr(31)) AS title_tokens,
       array_to_string(category_path, chr(31)) AS category_path,
       array_to_string(tags, chr(31)) AS tags,
       coalesce(brand, '') AS brand, price_bucket, in_stock
FROM features.items
WHERE ds = %(ds)s
ORDER BY item_idx;
