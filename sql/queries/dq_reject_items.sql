-- Quarantine the day's flagged items rows; a duplicate's message names the row that was kept.
INSERT INTO dq.rejects (ds, load_id, target, line_no, payload, reasons, message)
SELECT f.ds, f.load_id, 'items', f.line_no,
       jsonb_build_object('item_id', f.item_id, 'title', f.title, 'category', f.category, 'tags', f.tags,
                          'brand', f.brand, 'price', f.price, 'in_stock', f.in_stock,
                          'updated_at', f.updated_at),
       f.reasons,
       concat((SELECT string_agg(coalesce(rc.description, u.code), '; ' ORDER BY u.ord)
                 FROM unnest(f.reasons) WITH ORDINALITY u(code, ord)
                 LEFT JOIN dq.reason_codes rc ON rc.code = u.code AND rc.target = 'items'),
              CASE WHEN f.reasons && ARRAY['duplicate_row', 'duplicate_item_id'] THEN format(' (kept: load %%s line %%s)', f.kept_load_id, f.kept_line_no) END)
FROM dq_items_flagged f
WHERE cardinality(f.reasons) > 0;
