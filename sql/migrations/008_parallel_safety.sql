-- Parallel safety declared truthfully. On servers before PostgreSQL 16, dq.try_timestamptz and dq.try_float
-- are PL/pgSQL with an exception block: each call starts a subtransaction, which PostgreSQL forbids while a
-- query runs in parallel mode (in workers and in the leader alike), so PARALLEL SAFE (003) made any day big
-- enough for a parallel plan fail with "cannot start subtransactions during a parallel operation".
-- PARALLEL UNSAFE keeps such queries serial. The PostgreSQL 16+ versions (SQL over pg_input_is_valid, no
-- subtransaction) stay PARALLEL SAFE. Any other function of ours with an exception block is made UNSAFE too.
DO $mig$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure
        FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        JOIN pg_language l ON l.oid = p.prolang
        WHERE n.nspname IN ('raw', 'clean', 'dq', 'features', 'models', 'recs', 'eval')
          AND l.lanname = 'plpgsql'
          AND p.prosrc ~* '\mexception\M'
          AND p.proparallel <> 'u'
    LOOP
        EXECUTE format('ALTER FUNCTION %s PARALLEL UNSAFE', f);
    END LOOP;
END
$mig$;
