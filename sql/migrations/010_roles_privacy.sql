-- The reader's explanations and a user's erasure.
-- recs.explain() reads clean.events (the verb: viewed / bought ...), which recpipeline_reader may not read:
-- it runs with its owner's rights, on a fixed search_path (every name in it is schema-qualified), so the
-- reader gets explanations of what is published and still no access to raw or clean.
ALTER FUNCTION recs.explain(text) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- `recpipeline forget --user ID`: every erasure leaves one row here, with counts per table and the SHA-256 of
-- the erased id (not the id itself), so an auditor can confirm a request was served without keeping the data.
CREATE TABLE IF NOT EXISTS dq.erasures (
    erasure_id     bigserial PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    actor          text NOT NULL,
    subject_sha256 text NOT NULL,
    rows_erased    jsonb NOT NULL
);
