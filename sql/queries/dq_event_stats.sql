-- Day-level numbers the dataset checks need from the flagged events (accepted and rejected are counted
-- from what the accept and reject inserts actually wrote, so landed = accepted + rejected is a real check).
SELECT count(*) AS landed,
       count(*) FILTER (WHERE unknown_item AND cardinality(reasons) = 0) AS accepted_unknown_items
FROM dq_events_flagged;
