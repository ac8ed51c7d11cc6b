-- The door (recpipeline.sources): what reading a line found wrong, and which file a load came from.
-- raw.*.defects: reason codes noted while reading (invalid_utf8, nul_byte, too_long, unbalanced_quote);
-- the data-quality stage quarantines such rows with these codes. NULL = nothing found.
ALTER TABLE raw.events ADD COLUMN IF NOT EXISTS defects text[];
ALTER TABLE raw.items ADD COLUMN IF NOT EXISTS defects text[];

-- raw.loads.file_path / file_sha256: the resolved path and content digest of the landed file. Sources
-- without event ids append one load per (ds, file); landing the same file again (same path or same bytes)
-- replaces its earlier load instead of adding one.
ALTER TABLE raw.loads ADD COLUMN IF NOT EXISTS file_path text;
ALTER TABLE raw.loads ADD COLUMN IF NOT EXISTS file_sha256 text;
CREATE INDEX IF NOT EXISTS loads_ds_source_target_idx ON raw.loads (ds, source, target);

INSERT INTO dq.reason_codes (code, target, description) VALUES
    ('invalid_utf8',     'events', 'a field is not valid UTF-8 (the payload keeps the bytes, backslash-escaped)'),
    ('nul_byte',         'events', 'a field holds a NUL byte (the payload keeps the bytes, backslash-escaped)'),
    ('unbalanced_quote', 'events', 'the line has an unterminated quote; it was read on its own'),
    ('ts_implausible',   'events', 'timestamp is before the earliest plausible date'),
    ('invalid_utf8',     'items',  'a field is not valid UTF-8 (the payload keeps the bytes, backslash-escaped)'),
    ('nul_byte',         'items',  'a field holds a NUL byte (the payload keeps the bytes, backslash-escaped)'),
    ('unbalanced_quote', 'items',  'the line has an unterminated quote; it was read on its own'),
    ('duplicate_row',    'items',  'exact copy of an earlier catalogue row of the day')
ON CONFLICT DO NOTHING;
UPDATE dq.reason_codes SET description = 'a field is longer than allowed (or than the field-size limit at the door)'
WHERE code = 'too_long';
