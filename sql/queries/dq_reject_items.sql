INSERT INTO dq.rejects (ds, load_id, target, line_no, payload, reasons, message)
SELECT f.ds, f.load_id, 'items', f.line_no,
       jsonb_build_object('item_id', f.item_id, 'title', f.title, 'category', f.category, 'tags', f.tags,
                          'brand', f.brand, 'price', f.price, 'in_stock', f.in_stock,
                          'updated_at', f.updated_at),
       f.reasons,
       (SELECT string_agg(rc.description, '; ' ORDER BY u.ord)
          FROM unnest(f.reasons) WITH ORDINALITY u(code, ord)
          JOIN dq.reason_codes rc ON rc.code = u.code AND rc.target = 'items')
FROM dq_items_flagged f
WHERE cardinality(f.reasons) > 0;
