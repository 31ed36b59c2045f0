
-- scripts/citus-3.x-down.sql: the first fragment of lane_google--3.0--2.2.sql
-- (see the Makefile).  While the 11 tables are Citus tables the way back
-- refuses before anything changes: its ALTER TABLEs would meet shells and
-- shards, and 2.2 has no undistribute().  Then distribute() and
-- undistribute() (scripts/citus-3.x.sql) go.
DO $distributed$
DECLARE
    n_citus bigint;
BEGIN
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN;
    END IF;
    EXECUTE 'SELECT pg_catalog.count(*) FROM pg_catalog.pg_dist_partition AS p'
            ' JOIN pg_catalog.pg_class AS c ON c.oid OPERATOR(pg_catalog.=) p.logicalrelid'
            ' WHERE c.relnamespace OPERATOR(pg_catalog.=) ''@extschema@''::pg_catalog.regnamespace'
       INTO n_citus;
    IF n_citus OPERATOR(pg_catalog.>) 0 THEN
        RAISE EXCEPTION 'cannot update extension lane_google to 2.2 while its tables are distributed'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('%s tables of schema @extschema@ are Citus tables (pg_dist_partition).', n_citus),
                  HINT = 'Nothing was changed.  Run SELECT lane_google.undistribute() on the coordinator first: it brings every row back to the coordinator''s tables; then update.';
    END IF;
END
$distributed$;

DROP FUNCTION @extschema@.undistribute();
DROP FUNCTION @extschema@.distribute(integer);
DROP FUNCTION @extschema@._lg_citus_require(text, boolean);
DROP FUNCTION @extschema@._lg_citus_relids();
DROP FUNCTION @extschema@._lg_citus_tables();
