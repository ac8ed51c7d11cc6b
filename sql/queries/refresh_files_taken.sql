-- Which of these micro-batch files an earlier refresh took already.
SELECT file_path FROM raw.intake_files WHERE file_path = ANY (%(paths)s::text[]);
