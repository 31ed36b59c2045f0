/* lane_google--2.1--2.0.sql: back to the released UUID schema */

\echo Use "ALTER EXTENSION lane_google UPDATE TO '2.0'" to load this file. \quit

-- Drops what lane_google--2.0--2.1.sql added and changes no row of the 11
-- tables.  Each capability drops its objects in a block of its own below.

-- ---------------------------------------------------------------------------
-- uuid: drop-ins for pg_uuidv7 1.6 and PostgreSQL 18 (src/uuid.c)
-- ---------------------------------------------------------------------------

DROP FUNCTION @extschema@.uuid_extract_timestamp(uuid);
DROP FUNCTION @extschema@.uuid_extract_version(uuid);
DROP FUNCTION @extschema@.uuidv4();
DROP FUNCTION @extschema@.uuidv7(interval);
DROP FUNCTION @extschema@.uuidv7();
DROP FUNCTION @extschema@.uuid_timestamp_to_v7(timestamp, boolean);
DROP FUNCTION @extschema@.uuid_timestamptz_to_v7(timestamptz, boolean);
DROP FUNCTION @extschema@.uuid_v7_to_timestamp(uuid);

-- uuid_v7_to_timestamptz(uuid) is strict and IMMUTABLE again, as released
CREATE OR REPLACE FUNCTION @extschema@.uuid_v7_to_timestamptz(uuid)
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'lg_uuid_v7_to_timestamptz'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

DROP FUNCTION @extschema@.uuid_v7_to_timestamptz_strict(uuid);

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
