-- Serialise refreshes on the intake's watermark row (created if a truncate removed it); returns where it stands.
INSERT INTO raw.intake_watermark (stream, xid_before) VALUES ('intake', '0') ON CONFLICT DO NOTHING;
SELECT w.xid_before::text FROM raw.intake_watermark w WHERE w.stream = 'intake' FOR UPDATE;
