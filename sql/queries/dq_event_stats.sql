-- Day-level numbers the dataset checks need (from the events flagged for the day).
SELECT count(*) AS landed,
       count(*) FILTER (WHERE cardinality(reasons) = 0) AS accepted,
       count(*) FILTER (WHERE cardinality(reasons) > 0) AS rejected,
       count(*) FILTER (WHERE unknown_item AND cardinality(reasons) = 0) AS accepted_unknown_items,
       count(*) FILTER (WHERE unknown_item) AS unknown_items
FROM dq_events_flagged;
