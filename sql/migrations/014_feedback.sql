-- Closing the loop (issue 14): what shoppers were shown (impressions) and did with it (attribution), and the
-- online metrics per day, publish, model, source and group (treatment / holdout).
--
-- Landing: <landing>/<ds>/impressions.csv (request_id, user_id, item_id, position, publish_id, shown_at, surface)
-- and <landing>/<ds>/feedback.csv (event_id, user_id, item_id, event_type, ts, request_id; event_type 'dismiss'
-- = "not interested"). Both land into raw (all text), are validated by recpipeline.feedback.quality with the
-- reason codes below into clean, and the rest is quarantined in dq.rejects (targets 'impressions', 'feedback')
-- with landed = accepted + rejected in dq.load_audit.
--
-- Attribution (eval.attributions): a click, cart or purchase in clean.events by the same user on the same item
-- within the attribution window after an impression (shown_at <= ts < shown_at + window) is credited to the
-- latest such impression (last touch; ties broken by the lower position). An event without a matching
-- impression is not credited; an item shown twice credits the later showing.

ALTER TABLE raw.loads DROP CONSTRAINT IF EXISTS loads_target_check;
ALTER TABLE raw.loads ADD CONSTRAINT loads_target_check
    CHECK (target IN ('events', 'items', 'impressions', 'feedback'));

CREATE TABLE raw.impressions (
    ds         date NOT NULL,
    load_id    bigint NOT NULL,
    line_no    integer NOT NULL,
    malformed  boolean NOT NULL DEFAULT false,
    request_id text,
    user_id    text,
    item_id    text,
    position   text,
    publish_id text,
    shown_at   text,
    surface    text
);
CREATE INDEX ON raw.impressions (ds);

CREATE TABLE raw.feedback_events (
    ds         date NOT NULL,
    load_id    bigint NOT NULL,
    line_no    integer NOT NULL,
    malformed  boolean NOT NULL DEFAULT false,
    event_id   text,
    user_id    text,
    item_id    text,
    event_type text,
    ts         text,
    request_id text
);
CREATE INDEX ON raw.feedback_events (ds);

-- The one holdout definition: bucket 0..99 of a user id (md5 of a salted id); bucket < 100 x holdout_share is
-- the holdout group. recpipeline.feedback.groups.holdout_bucket computes the same number in Python.
CREATE FUNCTION clean.holdout_bucket(user_id text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT (('x' || substr(md5('recpipeline-holdout:' || user_id), 1, 8))::bit(32)::bigint % 100)::integer $$;

CREATE TABLE clean.impressions (
    ds         date NOT NULL,
    request_id text NOT NULL,
    position   smallint NOT NULL,
    user_id    text NOT NULL,
    item_id    text NOT NULL,
    publish_id bigint NOT NULL,
    shown_at   timestamptz NOT NULL,
    surface    text NOT NULL,
    model_id   text NOT NULL,           -- the model of the publish the list was shown under
    source     text NOT NULL,           -- model | trending | refresh: the published row it matches, else trending
    grp        text NOT NULL CHECK (grp IN ('treatment', 'holdout')),
    load_id    bigint NOT NULL,
    line_no    integer NOT NULL,
    PRIMARY KEY (ds, request_id, position)
);
CREATE INDEX ON clean.impressions (user_id, item_id, shown_at);

CREATE TABLE clean.feedback_events (
    ds         date NOT NULL,
    event_id   text NOT NULL,
    user_id    text NOT NULL,
    item_id    text NOT NULL,
    event_type text NOT NULL CHECK (event_type IN ('dismiss')),
    ts         timestamptz NOT NULL,
    request_id text,
    load_id    bigint NOT NULL,
    line_no    integer NOT NULL,
    PRIMARY KEY (ds, event_id)
);
CREATE INDEX ON clean.feedback_events (user_id, ts);

CREATE TABLE eval.attributions (
    ds            date NOT NULL,        -- day of the credited event
    event_id      text NOT NULL,
    event_type    text NOT NULL,        -- click | cart | purchase
    user_id       text NOT NULL,
    item_id       text NOT NULL,
    ts            timestamptz NOT NULL,
    value         double precision,     -- revenue: the purchase value, else the item's price that day
    impression_ds date NOT NULL,
    request_id    text NOT NULL,
    position      smallint NOT NULL,
    publish_id    bigint NOT NULL,
    model_id      text NOT NULL,
    source        text NOT NULL,
    grp           text NOT NULL,
    shown_at      timestamptz NOT NULL,
    window_hours  integer NOT NULL,
    PRIMARY KEY (ds, event_id)
);
CREATE INDEX ON eval.attributions (impression_ds, request_id, position);

-- Long format like eval.metrics: metric in (impressions, lists, users, ctr, ctr_at_position, cart_rate,
-- purchase_rate, revenue_per_mille, clicked_coverage, satisfaction); k = cut-off or position, 0 for none.
CREATE TABLE eval.online_metrics (
    ds         date NOT NULL,           -- day the impressions were shown
    publish_id bigint NOT NULL,
    model_id   text NOT NULL,
    source     text NOT NULL,           -- model | trending | refresh | all
    grp        text NOT NULL,           -- treatment | holdout
    metric     text NOT NULL,
    k          integer NOT NULL,
    value      double precision NOT NULL,
    n          bigint NOT NULL,         -- impressions (or users for satisfaction) behind the value
    PRIMARY KEY (ds, publish_id, model_id, source, grp, metric, k)
);

-- Treatment over holdout per day and metric, with a 95% bootstrap interval over users.
CREATE TABLE eval.online_lift (
    ds         date NOT NULL,
    metric     text NOT NULL,
    k          integer NOT NULL,
    treatment  double precision NOT NULL,
    holdout    double precision NOT NULL,
    lift       double precision,        -- treatment / holdout; NULL when the holdout is 0
    ci_low     double precision,
    ci_high    double precision,
    users_treatment bigint NOT NULL,
    users_holdout   bigint NOT NULL,
    PRIMARY KEY (ds, metric, k)
);
GRANT SELECT ON eval.online_metrics, eval.online_lift TO recpipeline_reader;

INSERT INTO dq.reason_codes (code, target, description) VALUES
    ('malformed_line',        'impressions', 'the line had the wrong number of fields'),
    ('missing_request_id',    'impressions', 'request_id is empty'),
    ('missing_user_id',       'impressions', 'user_id is empty'),
    ('missing_item_id',       'impressions', 'item_id is empty'),
    ('bad_position',          'impressions', 'position is not a whole number between 1 and 500'),
    ('missing_publish_id',    'impressions', 'publish_id is empty'),
    ('unknown_publish',       'impressions', 'publish_id was never published'),
    ('missing_ts',            'impressions', 'shown_at is empty'),
    ('bad_ts',                'impressions', 'shown_at does not parse'),
    ('ts_too_early',          'impressions', 'shown_at is before the day minus the allowed lateness'),
    ('ts_after_day',          'impressions', 'shown_at is after the end of the day'),
    ('ts_in_future',          'impressions', 'shown_at is in the future'),
    ('missing_surface',       'impressions', 'surface is empty'),
    ('too_long',              'impressions', 'a field is longer than allowed'),
    ('control_chars',         'impressions', 'a field holds control characters'),
    ('duplicate_row',         'impressions', 'exact duplicate of an earlier row'),
    ('duplicate_impression',  'impressions', 'request_id and position (or request_id and item) already used by an earlier row'),
    ('malformed_line',        'feedback', 'the line had the wrong number of fields'),
    ('missing_event_id',      'feedback', 'event_id is empty'),
    ('missing_user_id',       'feedback', 'user_id is empty'),
    ('missing_item_id',       'feedback', 'item_id is empty'),
    ('unknown_event_type',    'feedback', 'event_type is not dismiss'),
    ('missing_ts',            'feedback', 'timestamp is empty'),
    ('bad_ts',                'feedback', 'timestamp does not parse'),
    ('ts_too_early',          'feedback', 'timestamp is before the day minus the allowed lateness'),
    ('ts_after_day',          'feedback', 'timestamp is after the end of the day'),
    ('ts_in_future',          'feedback', 'timestamp is in the future'),
    ('too_long',              'feedback', 'a field is longer than allowed'),
    ('control_chars',         'feedback', 'a field holds control characters'),
    ('duplicate_row',         'feedback', 'exact duplicate of an earlier row'),
    ('duplicate_event_id',    'feedback', 'event_id already used by an earlier row with different content')
ON CONFLICT DO NOTHING;
