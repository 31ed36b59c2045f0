/* lane_google--2.1--2.0.sql: back to the released UUID schema */

\echo Use "ALTER EXTENSION lane_google UPDATE TO '2.0'" to load this file. \quit

-- Drops what lane_google--2.0--2.1.sql added and changes no row of the 11
-- tables.  Each capability drops its objects in a block of its own below.

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
