-- The replay's catalogue numbering: idx (item_id order) -> item_id.
SELECT idx, item_id FROM search_eval_items ORDER BY idx;
