/* lane_google--1.1--1.0.sql: back to the released legacy schema */

\echo Use "ALTER EXTENSION lane_google UPDATE TO '1.0'" to load this file. \quit

-- Drops what lane_google--1.0--1.1.sql added and changes no row of the 11
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
-- Online conversion (src/online.c): refused while one is in progress, then
-- its functions dropped.
-- ---------------------------------------------------------------------------
DO $online$
BEGIN
    IF pg_catalog.to_regnamespace('lane_google_online') IS NOT NULL THEN
        RAISE EXCEPTION 'an online conversion is in progress'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'SELECT lane_google.online_abort() first.';
    END IF;
END
$online$;
DROP PROCEDURE @extschema@.online_backfill(integer, interval);
DROP FUNCTION @extschema@.online_status();
DROP FUNCTION @extschema@._online_finish();
DROP FUNCTION @extschema@._online_apply();
DROP FUNCTION @extschema@._online_copy_batch(integer);
DROP FUNCTION @extschema@.online_abort();
DROP FUNCTION @extschema@.online_start();
DROP FUNCTION @extschema@._online_capture();
