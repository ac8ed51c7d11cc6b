-- Catalogue rows landed for the day (accepted and rejected come from the inserts' row counts), and how many
-- of them are nothing but exact copies of a kept row (several files of one day repeat the same items).
SELECT count(*) AS landed,
       count(*) FILTER (WHERE reasons = ARRAY['duplicate_row']) AS exact_copies
FROM dq_items_flagged;
