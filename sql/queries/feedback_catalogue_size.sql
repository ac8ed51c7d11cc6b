SELECT count(*) FROM clean.items WHERE ds = %(ds)s;
