-- The behaviour sequences of the day for the users of the replayed searches (their vectors before each
-- searched day are encoded from these).
SELECT user_id, item_idx, event_type, ts
FROM features.user_sequences
WHERE ds = %(ds)s AND user_id = ANY (%(users)s::text[])
ORDER BY user_id;
