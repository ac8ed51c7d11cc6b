-- Within-day micro-batch refresh (recpipeline.refresh): an intake the shop's services INSERT events into, a
-- watermark that hands each intake row to exactly one refresh, and an overlay on the live publish so that
-- recs.latest shows, per user, the newest refreshed list instead of the published one.
--
-- Exactly once: every intake row records the id of the transaction that inserted it (xid8). A refresh takes
-- the rows with watermark <= xid < xmin of its snapshot (every transaction below xmin has ended, so that set
-- is final; a row committed late by a slow writer is never skipped the way a serial id would be), and moves
-- the watermark to that xmin in the same transaction as the rows it lands, validates and scores.

-- Intake: rows exactly as the services send them (all text, the canonical landing columns), like raw.events.
CREATE TABLE raw.intake_events (
    intake_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    text,
    user_id     text,
    item_id     text,
    event_type  text,
    ts          text,
    session_id  text,
    query       text,
    value       text,
    received_at timestamptz NOT NULL DEFAULT now(),
    xid         xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX ON raw.intake_events (xid);

-- Where each stream stands: every intake row with xid < xid_before has been taken by a refresh.
CREATE TABLE raw.intake_watermark (
    stream     text PRIMARY KEY,
    xid_before xid8 NOT NULL,
    refresh_id bigint,
    moved_at   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO raw.intake_watermark (stream, xid_before) VALUES ('intake', '0') ON CONFLICT DO NOTHING;

-- Micro-batch files taken from <landing>/<ds>/microbatch/ (each once, by path, in the refresh's transaction).
CREATE TABLE raw.intake_files (
    file_path   text PRIMARY KEY,
    file_sha256 text,
    ds          date NOT NULL,
    load_id     bigint NOT NULL,
    rows_landed bigint NOT NULL,
    refresh_id  bigint NOT NULL,
    taken_at    timestamptz NOT NULL DEFAULT now()
);

-- Services write events and nothing else: INSERT on the event columns of the intake (no RETURNING, which
-- would need SELECT; no choosing their own xid or receive time).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'recpipeline_writer') THEN
        CREATE ROLE recpipeline_writer LOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA raw TO recpipeline_writer;
GRANT INSERT (event_id, user_id, item_id, event_type, ts, session_id, query, value)
    ON raw.intake_events TO recpipeline_writer;

-- One row per refresh that committed: what it took, what it changed, against which publish.
CREATE TABLE recs.refreshes (
    refresh_id      bigserial PRIMARY KEY,
    refreshed_at    timestamptz NOT NULL,
    landing_ds      date NOT NULL,
    ds              date,                -- the live publish it overlays (NULL: nothing was published yet)
    publish_id      bigint,
    model_id        text,
    xid_from        xid8 NOT NULL,
    xid_to          xid8 NOT NULL,
    intake_rows     bigint NOT NULL DEFAULT 0,
    files           integer NOT NULL DEFAULT 0,
    file_rows       bigint NOT NULL DEFAULT 0,
    accepted        bigint NOT NULL DEFAULT 0,
    rejected        bigint NOT NULL DEFAULT 0,
    users_refreshed bigint NOT NULL DEFAULT 0,
    users_were_cold bigint NOT NULL DEFAULT 0,  -- served trending (or nothing) before, model rows now
    rows_written    bigint NOT NULL DEFAULT 0,
    seconds         real
);

-- Refreshed lists, kept per refresh (history); keyed to the publish they overlay, so a publish that moves
-- recs.current leaves them behind (the daily run replaces refreshed rows) and they can never revive it.
CREATE TABLE recs.refresh_results (
    refresh_id     bigint NOT NULL,
    publish_id     bigint NOT NULL,
    ds             date NOT NULL,
    model_id       text NOT NULL,
    user_id        text NOT NULL,
    rank           smallint NOT NULL,
    item_id        text NOT NULL,
    score          real NOT NULL,
    reason_item_id text,
    reason_score   real,
    refreshed_at   timestamptz NOT NULL,
    PRIMARY KEY (refresh_id, user_id, rank)
);
CREATE INDEX ON recs.refresh_results (publish_id);

-- Per publish and user, the refresh whose list is live: repointed in the refresh's transaction, so a reader
-- sees a user's previous list or the new one, whole.
CREATE TABLE recs.refresh_current (
    publish_id   bigint NOT NULL,
    user_id      text NOT NULL,
    refresh_id   bigint NOT NULL,
    refreshed_at timestamptz NOT NULL,
    PRIMARY KEY (publish_id, user_id)
);

-- recs.latest: the live publish, with each refreshed user's newest refreshed list in place of the published
-- one (source 'refresh', refreshed_at set; NULL for published rows). Both parts read one snapshot.
CREATE OR REPLACE VIEW recs.latest AS
SELECT r.ds, r.model_id, r.user_id, r.rank, r.item_id, r.score, r.reason_item_id, r.reason_score, r.source,
       NULL::timestamptz AS refreshed_at
FROM recs.results r
WHERE r.ds = (SELECT ds FROM recs.current)
  AND r.publish_id = (SELECT publish_id FROM recs.current)
  AND NOT EXISTS (SELECT 1 FROM recs.refresh_current u WHERE u.publish_id = r.publish_id AND u.user_id = r.user_id)
UNION ALL
SELECT f.ds, f.model_id, f.user_id, f.rank, f.item_id, f.score, f.reason_item_id, f.reason_score,
       'refresh'::text, f.refreshed_at
FROM recs.refresh_current u
JOIN recs.refresh_results f ON f.refresh_id = u.refresh_id AND f.user_id = u.user_id
WHERE u.publish_id = (SELECT publish_id FROM recs.current);

-- recs.recommendations: every published day, plus every list a refresh served on it (refreshed_at says when).
CREATE OR REPLACE VIEW recs.recommendations AS
SELECT r.ds, r.model_id, r.user_id, r.rank, r.item_id, r.score, r.reason_item_id, r.reason_score, r.source,
       NULL::timestamptz AS refreshed_at
FROM recs.results r
JOIN recs.published p ON p.ds = r.ds AND p.publish_id = r.publish_id
UNION ALL
SELECT f.ds, f.model_id, f.user_id, f.rank, f.item_id, f.score, f.reason_item_id, f.reason_score,
       'refresh'::text, f.refreshed_at
FROM recs.refresh_results f
JOIN recs.published p ON p.ds = f.ds AND p.publish_id = f.publish_id;

GRANT SELECT ON recs.refreshes, recs.refresh_results, recs.refresh_current, recs.latest, recs.recommendations
    TO recpipeline_reader;
