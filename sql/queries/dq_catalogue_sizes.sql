-- Accepted catalogue size of the day and of the previous day with a catalogue.
SELECT (SELECT count(*) FROM clean.items WHERE ds = %(ds)s) AS today,
       (SELECT count(*) FROM clean.items WHERE ds = (SELECT max(ds) FROM clean.items WHERE ds < %(ds)s)) AS previous;
