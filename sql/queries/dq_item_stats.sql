SELECT count(*) AS landed,
       count(*) FILTER (WHERE cardinality(reasons) = 0) AS accepted,
       count(*) FILTER (WHERE cardinality(reasons) > 0) AS rejected
FROM dq_items_flagged;
