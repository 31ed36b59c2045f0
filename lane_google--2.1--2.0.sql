/* lane_google--2.1--2.0.sql: back to the released UUID schema */

\echo Use "ALTER EXTENSION lane_google UPDATE TO '2.0'" to load this file. \quit

-- Drops what lane_google--2.0--2.1.sql added and changes no row of the 11
-- tables.  Each capability drops its objects in a block of its own below.

-- ---------------------------------------------------------------------------
-- convert_legacy: back to the 2.0 signature
-- ---------------------------------------------------------------------------
DROP FUNCTION @extschema@.convert_legacy_problems(name, jsonb, text[], jsonb, text);
DROP FUNCTION @extschema@.convert_legacy(name, text, boolean, text, jsonb, text[], jsonb, text);
CREATE FUNCTION @extschema@.convert_legacy(
    source_schema name,
    on_orphan text DEFAULT 'error',
    dry_run boolean DEFAULT false)
RETURNS TABLE (table_name name, rows_read bigint, rows_converted bigint,
               rows_quarantined bigint, seconds double precision)
AS 'MODULE_PATHNAME', 'lg_convert_legacy'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.convert_legacy(name, text, boolean) FROM PUBLIC;
