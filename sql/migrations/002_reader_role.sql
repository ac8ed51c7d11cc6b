-- Read-only role for services and analysts: SELECT on recs and eval, nothing else.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'recpipeline_reader') THEN
        CREATE ROLE recpipeline_reader LOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA recs, eval TO recpipeline_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA recs, eval TO recpipeline_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA recs, eval GRANT SELECT ON TABLES TO recpipeline_reader;
