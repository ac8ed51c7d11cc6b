-- Days that have landed rows in raw (any source), oldest first.
SELECT DISTINCT ds FROM raw.loads ORDER BY ds;
