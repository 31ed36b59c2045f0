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
DROP FUNCTION @extschema@.convert_legacy(name, text, boolean, text, jsonb, text[], jsonb, text, text);
CREATE FUNCTION @extschema@.convert_legacy(
    source_schema name,
    on_orphan text DEFAULT 'error',
    dry_run boolean DEFAULT false)
RETURNS TABLE (table_name name, rows_read bigint, rows_converted bigint,
               rows_quarantined bigint, seconds double precision)
AS 'MODULE_PATHNAME', 'lg_convert_legacy'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.convert_legacy(name, text, boolean) FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- dependents (issue 9)
-- ---------------------------------------------------------------------------
-- A registration would be lost, and the next conversion would leave its
-- column unconverted: refuse while any is left.
DO $dependents$
DECLARE
    regs text;
BEGIN
    SELECT pg_catalog.string_agg(pg_catalog.format('%s.%I -> %s', r.tab, r.col, r.referenced), ', ')
      INTO regs FROM @extschema@.legacy_references AS r WHERE NOT r.declared;
    IF regs IS NOT NULL THEN
        RAISE EXCEPTION 'lane_google has registered references, which the released versions do not know'
            USING ERRCODE = 'dependent_objects_still_exist', DETAIL = regs,
                  HINT = 'Nothing was changed.  Remove the registrations with lane_google.remove_legacy_reference() first: only versions 1.1 and 2.1 carry them across a key conversion.';
    END IF;
END
$dependents$;
DROP FUNCTION @extschema@._lg_dependents_legacy_id(regclass, uuid);
DROP FUNCTION @extschema@._lg_dependents_attach();
DROP FUNCTION @extschema@._lg_dependents_convert(text);
DROP FUNCTION @extschema@._lg_dependents_detach();
DROP FUNCTION @extschema@.suggest_legacy_references(name);
DROP FUNCTION @extschema@.remove_legacy_reference(regclass, name);
DROP FUNCTION @extschema@.add_legacy_reference(regclass, name, text);
DROP FUNCTION @extschema@.conversion_plan();
ALTER EXTENSION lane_google DROP TABLE @extschema@.legacy_references;
DROP TABLE @extschema@.legacy_references;
-- end of dependents

-- ---------------------------------------------------------------------------
-- Online conversion's compatibility views (src/online.c): refused while schema
-- lane_google_v1 exists, then dropped.
-- ---------------------------------------------------------------------------
DO $compat$
BEGIN
    IF pg_catalog.to_regnamespace('lane_google_v1') IS NOT NULL THEN
        RAISE EXCEPTION 'the compatibility schema lane_google_v1 still exists'
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = 'Its views read and write the 2.x tables through lane_google._compat_write().',
                  HINT = 'SELECT lane_google.drop_compat() first.';
    END IF;
END
$compat$;
DROP FUNCTION @extschema@.drop_compat();
DROP FUNCTION @extschema@._compat_write();

-- ---------------------------------------------------------------------------
-- convert_legacy's carry (issue 9 point 6)
-- ---------------------------------------------------------------------------
DROP FUNCTION @extschema@.conversion_plan(name);
-- end of convert_legacy's carry
