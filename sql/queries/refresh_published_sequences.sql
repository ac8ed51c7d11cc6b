-- The live day's behaviour sequences of the users being refreshed.
SELECT user_id, item_idx, event_type, ts
FROM features.user_sequences
WHERE ds = %(ds)s AND user_id = ANY (%(users)s::text[])
ORDER BY user_id;
