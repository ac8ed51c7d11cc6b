-- A micro-batch file is taken once: recorded in the transaction that lands it.
INSERT INTO raw.intake_files (file_path, file_sha256, ds, load_id, rows_landed, refresh_id)
SELECT l.file_path, l.file_sha256, l.ds, l.load_id, l.rows_landed, %(refresh_id)s
FROM raw.loads l WHERE l.load_id = %(load_id)s;
