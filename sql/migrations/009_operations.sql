-- Operating the product: 95% confidence intervals beside each metric (bootstrap over the evaluated users;
-- NULL where a metric is not a per-user mean), and an audit row for every explicit publish decision
-- (a roll back or promote re-points recs.current at an earlier published day).
ALTER TABLE eval.metrics ADD COLUMN IF NOT EXISTS ci_low double precision;
ALTER TABLE eval.metrics ADD COLUMN IF NOT EXISTS ci_high double precision;

CREATE TABLE IF NOT EXISTS recs.publish_audit (
    audit_id        bigserial PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    actor           text NOT NULL,
    action          text NOT NULL CHECK (action IN ('republish')),
    reason          text NOT NULL CHECK (btrim(reason) <> ''),
    from_ds         date,
    from_publish_id bigint,
    to_ds           date NOT NULL,
    to_publish_id   bigint NOT NULL
);
GRANT SELECT ON recs.publish_audit TO recpipeline_reader;
