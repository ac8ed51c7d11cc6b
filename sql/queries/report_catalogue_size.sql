-- Number of items in the day's feature catalogue (the denominator of coverage@10); 0 if features are missing.
SELECT count(*) FROM features.items WHERE ds = %(ds)s;
