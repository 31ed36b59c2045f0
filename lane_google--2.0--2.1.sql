/* lane_google--2.0--2.1.sql: the UUID schema plus this round's functions */

\echo Use "ALTER EXTENSION lane_google UPDATE TO '2.1'" to load this file. \quit

-- Adds objects and changes no row.  Each capability adds its objects in a
-- block of its own below.  (Objects in both 1.1 and 2.1 are created here and
-- in lane_google--1.0--1.1.sql; objects only in 2.1 also in
-- lane_google--1.1--2.1.sql.)

-- ---------------------------------------------------------------------------
-- convert_legacy: a new signature (the 2.0 one is dropped), and
-- convert_legacy_problems
-- ---------------------------------------------------------------------------
DROP FUNCTION @extschema@.convert_legacy(name, text, boolean);

-- convert_legacy: the application's real layouts (column_map, ignore_columns,
-- value_map, source_timezone), every row problem in one pass (on_error), and
-- catch-up runs; convert_legacy_problems lists a dry run's problems as rows.
CREATE FUNCTION @extschema@.convert_legacy(
    source_schema name,
    on_orphan text DEFAULT 'error',
    dry_run boolean DEFAULT false,
    on_error text DEFAULT 'error',
    column_map jsonb DEFAULT '{}',
    ignore_columns text[] DEFAULT '{}',
    value_map jsonb DEFAULT '{}',
    source_timezone text DEFAULT 'UTC')
RETURNS TABLE (table_name name, rows_read bigint, rows_converted bigint,
               rows_quarantined bigint, seconds double precision,
               rows_nulled bigint, rows_unchanged bigint, rows_updated bigint,
               rows_missing bigint, note text)
AS 'MODULE_PATHNAME', 'lg_convert_legacy'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.convert_legacy(name, text, boolean, text, jsonb, text[], jsonb, text) FROM PUBLIC;

CREATE FUNCTION @extschema@.convert_legacy_problems(
    source_schema name,
    column_map jsonb DEFAULT '{}',
    ignore_columns text[] DEFAULT '{}',
    value_map jsonb DEFAULT '{}',
    source_timezone text DEFAULT 'UTC')
RETURNS TABLE (table_name name, column_name name, problem text, rows bigint,
               sample_keys text[], sample_values text[])
AS 'MODULE_PATHNAME', 'lg_convert_legacy_problems'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.convert_legacy_problems(name, jsonb, text[], jsonb, text) FROM PUBLIC;
