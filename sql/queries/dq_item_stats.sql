-- Catalogue rows landed for the day (accepted and rejected come from the inserts' row counts).
SELECT count(*) AS landed
FROM dq_items_flagged;
