-- How many rows a feature repair rule touched on a day (one row per day and rule; a rerun replaces it).
INSERT INTO dq.repairs (ds, rule, touched) VALUES (%(ds)s, %(rule)s, %(touched)s)
ON CONFLICT (ds, rule) DO UPDATE SET touched = EXCLUDED.touched;
