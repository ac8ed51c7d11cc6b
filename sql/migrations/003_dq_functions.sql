-- Safe casts for set-based validation: NULL instead of an error for text that does not parse.
-- Timestamps must start with an ISO date: PostgreSQL's special inputs ('now', 'yesterday', 'epoch') are rejected.
-- PostgreSQL 16+ has pg_input_is_valid (no subtransaction per row); older servers fall back to an
-- exception block. The choice is made once, here. The SQL versions are STABLE (as the casts are) so the
-- planner inlines them: a function call per row would cost more than the whole validation.
DO $mig$
BEGIN
    IF current_setting('server_version_num')::int >= 160000 THEN
        EXECUTE $f$
        CREATE OR REPLACE FUNCTION dq.try_timestamptz(t text) RETURNS timestamptz
        LANGUAGE sql STABLE PARALLEL SAFE AS
        'SELECT CASE WHEN t ~ ''^\s*\d{4}-\d{2}-\d{2}'' AND pg_input_is_valid(t, ''timestamptz'')
                     THEN t::timestamptz END'$f$;
        EXECUTE $f$
        CREATE OR REPLACE FUNCTION dq.try_float(t text) RETURNS double precision
        LANGUAGE sql STABLE PARALLEL SAFE AS
        'SELECT CASE WHEN pg_input_is_valid(t, ''double precision'') THEN t::double precision END'$f$;
    ELSE
        EXECUTE $f$
        CREATE OR REPLACE FUNCTION dq.try_timestamptz(t text) RETURNS timestamptz
        LANGUAGE plpgsql STABLE PARALLEL SAFE AS
        'BEGIN IF t !~ ''^\s*\d{4}-\d{2}-\d{2}'' THEN RETURN NULL; END IF;
               RETURN t::timestamptz; EXCEPTION WHEN others THEN RETURN NULL; END'$f$;
        EXECUTE $f$
        CREATE OR REPLACE FUNCTION dq.try_float(t text) RETURNS double precision
        LANGUAGE plpgsql STABLE PARALLEL SAFE AS
        'BEGIN RETURN t::double precision; EXCEPTION WHEN others THEN RETURN NULL; END'$f$;
    END IF;
END
$mig$;

-- Reason codes for quarantined rows, with the readable message shown to operators.
CREATE TABLE dq.reason_codes (
    code        text NOT NULL,
    target      text NOT NULL,
    description text NOT NULL,
    PRIMARY KEY (target, code)
);
INSERT INTO dq.reason_codes (code, target, description) VALUES
    ('missing_event_id',    'events', 'event_id is empty'),
    ('missing_user_id',     'events', 'user_id is empty'),
    ('missing_item_id',     'events', 'item_id is empty on an item event'),
    ('missing_event_type',  'events', 'event_type is empty'),
    ('unknown_event_type',  'events', 'event_type is not one of view, click, fav, cart, purchase, search'),
    ('missing_ts',          'events', 'timestamp is empty'),
    ('bad_ts',              'events', 'timestamp does not parse'),
    ('ts_too_early',        'events', 'timestamp is before the day minus the allowed lateness'),
    ('ts_after_day',        'events', 'timestamp is after the end of the day'),
    ('ts_in_future',        'events', 'timestamp is in the future'),
    ('missing_query',       'events', 'search event without query text'),
    ('bad_value',           'events', 'value is not a number'),
    ('negative_value',      'events', 'value is negative'),
    ('absurd_value',        'events', 'value is above the plausibility limit'),
    ('too_long',            'events', 'a field is longer than allowed'),
    ('control_chars',       'events', 'a field holds control characters'),
    ('unknown_item',        'events', 'item_id is not in the day''s catalogue'),
    ('duplicate_row',       'events', 'exact duplicate of an earlier row'),
    ('duplicate_event_id',  'events', 'event_id already used by an earlier row with different content'),
    ('malformed_line',      'events', 'the line had the wrong number of fields'),
    ('missing_item_id',     'items',  'item_id is empty'),
    ('missing_title',       'items',  'title is empty'),
    ('bad_price',           'items',  'price is not a number'),
    ('nonpositive_price',   'items',  'price is zero or negative'),
    ('absurd_price',        'items',  'price is above the plausibility limit'),
    ('bad_in_stock',        'items',  'in_stock is not true/false'),
    ('bad_updated_at',      'items',  'updated_at does not parse'),
    ('too_long',            'items',  'a field is longer than allowed'),
    ('control_chars',       'items',  'a field holds control characters'),
    ('duplicate_item_id',   'items',  'item_id already appeared earlier in the day''s catalogue'),
    ('malformed_line',      'items',  'the line had the wrong number of fields')
ON CONFLICT DO NOTHING;
