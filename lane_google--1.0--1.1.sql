/* lane_google--1.0--1.1.sql: the legacy schema plus this round's objects that work at the legacy version */

\echo Use "ALTER EXTENSION lane_google UPDATE TO '1.1'" to load this file. \quit

-- Adds objects and changes no row.  Each capability adds its objects in a
-- block of its own below.  (Objects in both 1.1 and 2.1 are created here and
-- in lane_google--2.0--2.1.sql; objects only in 1.1 also in
-- lane_google--2.1--1.1.sql.)

-- ---------------------------------------------------------------------------
-- Online conversion (src/online.c; README "Online conversion"): only in 1.1,
-- where the legacy tables are.  Created here and in lane_google--2.1--1.1.sql,
-- dropped in lane_google--1.1--1.0.sql and lane_google--1.1--2.1.sql.
-- ---------------------------------------------------------------------------

-- The capture trigger the legacy tables get at online_start()
CREATE FUNCTION @extschema@._online_capture()
RETURNS trigger
AS 'MODULE_PATHNAME', 'lg_online_capture'
LANGUAGE C;
REVOKE ALL ON FUNCTION @extschema@._online_capture() FROM PUBLIC;

CREATE FUNCTION @extschema@.online_start()
RETURNS void
AS 'MODULE_PATHNAME', 'lg_online_start'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.online_start() FROM PUBLIC;

CREATE FUNCTION @extschema@.online_abort()
RETURNS void
AS 'MODULE_PATHNAME', 'lg_online_abort'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.online_abort() FROM PUBLIC;

-- The backfill's steps, each in the caller's transaction
CREATE FUNCTION @extschema@._online_copy_batch(batch_rows integer)
RETURNS boolean
AS 'MODULE_PATHNAME', 'lg_online_copy_batch'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@._online_copy_batch(integer) FROM PUBLIC;

CREATE FUNCTION @extschema@._online_apply()
RETURNS bigint
AS 'MODULE_PATHNAME', 'lg_online_apply'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@._online_apply() FROM PUBLIC;

CREATE FUNCTION @extschema@._online_finish()
RETURNS void
AS 'MODULE_PATHNAME', 'lg_online_finish'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@._online_finish() FROM PUBLIC;

-- Copies in batches, each committed with its progress; then applies the
-- captured changes and, once everything is copied, builds the shadows'
-- indexes.  Stopped at any moment, it resumes where it stopped.  (A
-- procedure with transaction control can have no SET clause: operators are
-- qualified instead.)
CREATE PROCEDURE @extschema@.online_backfill(batch_rows integer DEFAULT 10000,
                                             pause interval DEFAULT '0')
LANGUAGE plpgsql
AS $backfill$
DECLARE
    applied bigint;
BEGIN
    IF batch_rows IS NULL OR batch_rows OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'batch_rows must be at least 1'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    WHILE @extschema@._online_copy_batch(batch_rows) LOOP
        COMMIT;
        IF pause OPERATOR(pg_catalog.>) interval '0' THEN
            PERFORM pg_catalog.pg_sleep_for(pause);
        END IF;
    END LOOP;
    COMMIT;
    LOOP
        applied := @extschema@._online_apply();
        COMMIT;
        EXIT WHEN applied OPERATOR(pg_catalog.<) batch_rows;
    END LOOP;
    PERFORM @extschema@._online_finish();
    COMMIT;
END
$backfill$;
REVOKE ALL ON PROCEDURE @extschema@.online_backfill(integer, interval) FROM PUBLIC;

CREATE FUNCTION @extschema@.online_status()
RETURNS TABLE (table_name text, state text, rows_copied bigint,
               rows_estimated bigint, changes_captured bigint,
               changes_pending bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $status$
BEGIN
    IF pg_catalog.to_regclass('lane_google_online.progress') IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY EXECUTE $q$
        SELECT p.table_name,
               CASE WHEN s.phase = 'complete' THEN 'complete'
                    WHEN p.copied THEN 'copied'
                    WHEN p.batches > 0 THEN 'copying'
                    ELSE 'waiting' END,
               p.rows_copied, p.rows_estimated,
               p.changes_applied + coalesce(c.n, 0), coalesce(c.n, 0)
          FROM lane_google_online.progress AS p
         CROSS JOIN lane_google_online.state AS s
          LEFT JOIN (SELECT tab, count(*) AS n FROM lane_google_online.changes
                      GROUP BY tab) AS c ON c.tab = p.ord
         ORDER BY p.ord $q$;
END
$status$;
REVOKE ALL ON FUNCTION @extschema@.online_status() FROM PUBLIC;
