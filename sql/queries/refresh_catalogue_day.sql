-- The newest catalogue snapshot up to the day: what a refresh checks item ids against.
SELECT max(ds) FROM clean.items WHERE ds <= %(ds)s;
