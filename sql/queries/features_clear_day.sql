DELETE FROM features.items WHERE ds = %(ds)s;
DELETE FROM features.user_sequences WHERE ds = %(ds)s;
