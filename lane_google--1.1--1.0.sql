/* lane_google--1.1--1.0.sql: back to the released legacy schema */

\echo Use "ALTER EXTENSION lane_google UPDATE TO '1.0'" to load this file. \quit

-- Drops what lane_google--1.0--1.1.sql added and changes no row of the 11
-- tables.  Each capability drops its objects in a block of its own below.

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
