-- A day without a catalogue file keeps the latest earlier snapshot, so every day is self-contained.
INSERT INTO clean.items (ds, item_id, title, category, tags, brand, price, in_stock, updated_at)
SELECT %(ds)s, item_id, title, category, tags, brand, price, in_stock, updated_at
FROM clean.items
WHERE ds = (SELECT max(ds) FROM clean.items WHERE ds < %(ds)s);
