INSERT INTO raw.loads (ds, source, format, target, path, rows_landed, file_path, file_sha256)
VALUES (%(ds)s, %(source)s, 'canonical', %(target)s, %(path)s, %(rows)s, %(path)s, %(sha256)s)
RETURNING load_id;
