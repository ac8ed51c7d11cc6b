-- What is live now for every user: the top positions of recs.latest, with the publish it belongs to.
SELECT l.user_id, l.item_id, l.rank, l.source, c.publish_id, c.ds
FROM recs.latest l
CROSS JOIN recs.current c
WHERE l.rank <= %(k)s
ORDER BY l.user_id, l.rank;
