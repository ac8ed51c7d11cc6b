-- Validate the day's landed catalogue rows: one row per landed row with every reason that applies.
-- The first row of an item_id (by load, line) is kept; an exact copy of it is duplicate_row, another row
-- with its id duplicate_item_id. Door defects (raw.items.defects) come first; control characters (C0,
-- DEL, C1) are refused in every field. Creates temp table dq_items_flagged (dropped at commit).
CREATE TEMP TABLE dq_items_flagged ON COMMIT DROP AS
WITH src AS (
    SELECT r.*,
           nullif(btrim(r.item_id), '') AS item_id_n,
           nullif(btrim(r.title), '') AS title_n,
           dq.try_float(r.price) AS price_n,
           lower(nullif(btrim(r.in_stock), '')) AS in_stock_n,
           dq.try_timestamptz(r.updated_at) AS updated_at_n
    FROM raw.items r
    WHERE r.ds = %(ds)s
), ranked AS (
    SELECT s.*,
           row_number() OVER w AS id_rank,
           row(s.title, s.category, s.tags, s.brand, s.price, s.in_stock, s.updated_at)::text
               = first_value(row(s.title, s.category, s.tags, s.brand, s.price, s.in_stock, s.updated_at)::text)
                 OVER w AS same_as_first,
           first_value(s.load_id) OVER w AS kept_load_id,
           first_value(s.line_no) OVER w AS kept_line_no
    FROM src s
    WINDOW w AS (PARTITION BY item_id_n ORDER BY load_id, line_no)
)
SELECT ranked.*,
       coalesce(defects, '{}') || array_remove(ARRAY[
           CASE WHEN malformed THEN 'malformed_line' END,
           CASE WHEN item_id_n IS NULL THEN 'missing_item_id' END,
           CASE WHEN title_n IS NULL THEN 'missing_title' END,
           CASE WHEN nullif(btrim(price), '') IS NOT NULL AND price_n IS NULL THEN 'bad_price' END,
           CASE WHEN price_n <= 0 THEN 'nonpositive_price' END,
           CASE WHEN price_n > %(max_price)s OR price_n = 'Infinity'::float8 THEN 'absurd_price' END,
           CASE WHEN in_stock_n IS NOT NULL AND in_stock_n NOT IN ('true', 'false', '1', '0', 't', 'f')
                THEN 'bad_in_stock' END,
           CASE WHEN nullif(btrim(updated_at), '') IS NOT NULL AND updated_at_n IS NULL THEN 'bad_updated_at' END,
           CASE WHEN (length(item_id) > %(max_id_len)s OR length(title) > %(max_text_len)s
                  OR length(category) > %(max_text_len)s OR length(tags) > %(max_text_len)s
                  OR length(brand) > %(max_id_len)s OR length(price) > %(max_id_len)s
                  OR length(in_stock) > %(max_id_len)s OR length(updated_at) > %(max_id_len)s)
                  AND NOT coalesce('too_long' = ANY (defects), false) THEN 'too_long' END,
           CASE WHEN concat_ws(' ', item_id, title, category, tags, brand, price, in_stock, updated_at)
                     ~ '[\x01-\x1f\x7f-\x9f]' THEN 'control_chars' END,
           CASE WHEN item_id_n IS NOT NULL AND id_rank > 1 AND same_as_first THEN 'duplicate_row' END,
           CASE WHEN item_id_n IS NOT NULL AND id_rank > 1 AND NOT same_as_first THEN 'duplicate_item_id' END
       ], NULL) AS reasons
FROM ranked;
