-- Statistics of the day's item features just copied in, before the sequences join on (ds, item_id) reads them.
ANALYZE features.items;
