-- RecPipeline schema: one schema per concern (see DESIGN.md "Canonical data").
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS clean;
CREATE SCHEMA IF NOT EXISTS dq;
CREATE SCHEMA IF NOT EXISTS features;
CREATE SCHEMA IF NOT EXISTS models;
CREATE SCHEMA IF NOT EXISTS recs;
CREATE SCHEMA IF NOT EXISTS eval;

-- raw: rows exactly as landed, all text. One load = one file (or file part) landed for a ds.
CREATE TABLE raw.loads (
    load_id     bigserial PRIMARY KEY,
    ds          date NOT NULL,
    source      text NOT NULL,          -- a name for where rows came from (e.g. demo, taobao)
    format      text NOT NULL,          -- canonical | taobao | seqfile | recbole
    target      text NOT NULL CHECK (target IN ('events', 'items')),
    path        text NOT NULL,
    rows_landed bigint NOT NULL,
    loaded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON raw.loads (ds, target);

CREATE TABLE raw.events (
    ds         date NOT NULL,
    load_id    bigint NOT NULL,         -- raw.loads; no FK: checking 2M rows per load doubles landing time
    line_no    integer NOT NULL,
    malformed  boolean NOT NULL DEFAULT false,  -- the line had the wrong number of fields
    event_id   text,
    user_id    text,
    item_id    text,
    event_type text,
    ts         text,
    session_id text,
    query      text,
    value      text
);
CREATE INDEX ON raw.events (ds);
CREATE INDEX ON raw.events (load_id);

CREATE TABLE raw.items (
    ds         date NOT NULL,
    load_id    bigint NOT NULL,
    line_no    integer NOT NULL,
    malformed  boolean NOT NULL DEFAULT false,
    item_id    text,
    title      text,
    category   text,
    tags       text,
    brand      text,
    price      text,
    in_stock   text,
    updated_at text
);
CREATE INDEX ON raw.items (ds);
CREATE INDEX ON raw.items (load_id);

-- clean: typed, validated rows. events keyed by the ds they landed under; items are a daily snapshot.
CREATE TABLE clean.events (
    ds         date NOT NULL,
    event_id   text NOT NULL,
    user_id    text NOT NULL,
    item_id    text,                    -- NULL only for search events
    event_type text NOT NULL,
    ts         timestamptz NOT NULL,
    session_id text,
    query      text,
    value      double precision,
    load_id    bigint NOT NULL,
    line_no    integer NOT NULL,
    PRIMARY KEY (ds, event_id)
);
CREATE INDEX ON clean.events (user_id, ts);
CREATE INDEX ON clean.events (ts);

CREATE TABLE clean.items (
    ds         date NOT NULL,
    item_id    text NOT NULL,
    title      text NOT NULL,
    category   text,                    -- path, levels separated by ' > '
    tags       text[] NOT NULL DEFAULT '{}',
    brand      text,
    price      double precision,
    in_stock   boolean NOT NULL DEFAULT true,
    updated_at timestamptz,
    PRIMARY KEY (ds, item_id)
);

-- dq: quarantine and check results. For every load: landed = accepted + rejected (dq.load_audit).
CREATE TABLE dq.rejects (
    ds       date NOT NULL,
    load_id  bigint NOT NULL,
    target   text NOT NULL,
    line_no  integer NOT NULL,
    payload  jsonb NOT NULL,            -- the raw row exactly as landed
    reasons  text[] NOT NULL,           -- machine codes, all that apply
    message  text NOT NULL,             -- readable explanation
    PRIMARY KEY (ds, target, load_id, line_no)
);

CREATE TABLE dq.load_audit (
    ds        date NOT NULL,
    target    text NOT NULL,
    landed    bigint NOT NULL,
    accepted  bigint NOT NULL,
    rejected  bigint NOT NULL,
    checked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ds, target),
    CHECK (landed = accepted + rejected)
);

CREATE TABLE dq.check_results (
    ds         date NOT NULL,
    check_name text NOT NULL,
    target     text NOT NULL,
    severity   text NOT NULL CHECK (severity IN ('error', 'warn')),
    status     text NOT NULL CHECK (status IN ('pass', 'warn', 'fail')),
    observed   double precision,
    threshold  text,
    details    jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (ds, check_name, target)
);

CREATE TABLE dq.repairs (
    ds      date NOT NULL,
    rule    text NOT NULL,
    touched bigint NOT NULL,
    PRIMARY KEY (ds, rule)
);

-- features: model inputs and learned vectors, keyed by ds (dense indices are per ds).
CREATE TABLE features.items (
    ds            date NOT NULL,
    item_idx      integer NOT NULL,     -- dense index, 1..n (0 is padding)
    item_id       text NOT NULL,
    title_tokens  text[] NOT NULL,
    category_path text[] NOT NULL,
    tags          text[] NOT NULL,
    brand         text,
    price         double precision,
    price_bucket  smallint NOT NULL,
    in_stock      boolean NOT NULL,
    PRIMARY KEY (ds, item_idx),
    UNIQUE (ds, item_id)
);

CREATE TABLE features.user_sequences (
    ds          date NOT NULL,
    user_id     text NOT NULL,
    item_idx    integer[] NOT NULL,     -- chronological interactions inside the history window
    event_type  smallint[] NOT NULL,    -- codes: see recpipeline.features.EVENT_CODES
    ts          bigint[] NOT NULL,      -- unix seconds
    PRIMARY KEY (ds, user_id)
);

CREATE TABLE features.user_embeddings (
    ds       date NOT NULL,
    model_id text NOT NULL,
    user_id  text NOT NULL,
    vector   real[] NOT NULL,
    PRIMARY KEY (ds, model_id, user_id)
);

CREATE TABLE features.item_embeddings (
    ds       date NOT NULL,
    model_id text NOT NULL,
    item_id  text NOT NULL,
    vector   real[] NOT NULL,
    PRIMARY KEY (ds, model_id, item_id)
);

-- models: the registry.
CREATE TABLE models.registry (
    model_id     text PRIMARY KEY,
    ds           date NOT NULL,
    cell         text NOT NULL,
    params       jsonb NOT NULL,
    train_from   timestamptz,
    train_to     timestamptz,
    metrics      jsonb NOT NULL DEFAULT '{}',
    artifact_uri text NOT NULL,
    status       text NOT NULL DEFAULT 'candidate' CHECK (status IN ('candidate', 'blessed', 'rejected')),
    reason       text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    decided_at   timestamptz
);
CREATE INDEX ON models.registry (ds);

-- recs: every scored row lives in recs.results (partitioned by ds) under a publish_id; only the
-- publish_id that recs.current points at is visible through recs.latest, so a swap is one UPDATE.
CREATE SEQUENCE recs.publish_id_seq;

CREATE TABLE recs.results (
    ds             date NOT NULL,
    publish_id     bigint NOT NULL,
    shard          integer NOT NULL,
    model_id       text NOT NULL,
    user_id        text NOT NULL,
    rank           smallint NOT NULL,
    item_id        text NOT NULL,
    score          real NOT NULL,
    reason_item_id text,
    reason_score   real,
    source         text NOT NULL CHECK (source IN ('model', 'trending'))
) PARTITION BY LIST (ds);
CREATE INDEX ON recs.results (publish_id, user_id, rank);

CREATE TABLE recs.published (
    ds           date PRIMARY KEY,
    publish_id   bigint NOT NULL,
    model_id     text NOT NULL,
    users        bigint NOT NULL,
    rows_published bigint NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE recs.current (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    ds         date NOT NULL,
    publish_id bigint NOT NULL
);

CREATE VIEW recs.latest AS
SELECT r.ds, r.model_id, r.user_id, r.rank, r.item_id, r.score, r.reason_item_id, r.reason_score, r.source
FROM recs.results r
WHERE r.ds = (SELECT ds FROM recs.current)
  AND r.publish_id = (SELECT publish_id FROM recs.current);

CREATE VIEW recs.recommendations AS
SELECT r.ds, r.model_id, r.user_id, r.rank, r.item_id, r.score, r.reason_item_id, r.reason_score, r.source
FROM recs.results r
JOIN recs.published p ON p.ds = r.ds AND p.publish_id = r.publish_id;

-- eval: metrics per ds, model and method (the model and each baseline).
CREATE TABLE eval.metrics (
    ds       date NOT NULL,
    model_id text NOT NULL,
    method   text NOT NULL,             -- model | popularity | trending | cooccurrence
    metric   text NOT NULL,
    k        integer NOT NULL,          -- 0 for metrics without a cutoff
    value    double precision NOT NULL,
    users    bigint NOT NULL,
    PRIMARY KEY (ds, model_id, method, metric, k)
);

CREATE TABLE eval.gate_decisions (
    ds         date NOT NULL,
    model_id   text NOT NULL,
    blessed    boolean NOT NULL,
    metric     text NOT NULL,
    candidate  double precision NOT NULL,
    best_baseline text NOT NULL,
    baseline   double precision NOT NULL,
    last_blessed double precision,
    reason     text NOT NULL,
    decided_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ds, model_id)
);
