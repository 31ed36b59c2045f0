
-- The online conversion checks itself (1.2 and 2.2): one row saying where it
-- is (one row), what is left, when the copy should end, whether the swap can go now and
-- the next command; and the sessions still using the compatibility views.
-- The same body serves 1.x (before the swap) and 2.x (after it).
CREATE FUNCTION @extschema@.online_readiness()
RETURNS TABLE (phase text, tables_copied integer, tables_total integer,
               rows_copied bigint, rows_estimated bigint, changes_pending bigint,
               started_at timestamptz, estimated_finish timestamptz,
               ready_to_swap boolean, compat_sessions integer, next_step text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $ready$
DECLARE
    version text;
    copied_phase text;
BEGIN
    SELECT e.extversion INTO version
      FROM pg_catalog.pg_extension AS e WHERE e.extname OPERATOR(pg_catalog.=) 'lane_google';
    tables_total := 11;
    ready_to_swap := false;
    changes_pending := 0;
    compat_sessions := 0;
    IF pg_catalog.to_regnamespace('lane_google_v1') IS NOT NULL THEN
        SELECT pg_catalog.count(*)::integer INTO compat_sessions
          FROM @extschema@.compat_sessions();
    END IF;
    IF pg_catalog.to_regclass('lane_google_online.progress') IS NULL THEN
        -- no online conversion in progress
        tables_copied := CASE WHEN pg_catalog.left(version, 1) OPERATOR(pg_catalog.<>) '1' THEN 11 ELSE 0 END;
        IF pg_catalog.left(version, 1) OPERATOR(pg_catalog.=) '1' THEN
            phase := 'not started';
            next_step := 'SELECT lane_google.online_start();';
        ELSIF pg_catalog.to_regnamespace('lane_google_v1') IS NOT NULL THEN
            phase := 'swapped, compatibility views in place';
            next_step := CASE WHEN compat_sessions OPERATOR(pg_catalog.>) 0
                              THEN 'wait: sessions still use lane_google_v1 (SELECT * FROM lane_google.compat_sessions())'
                              ELSE 'SELECT lane_google.drop_compat();  -- the point of no return of the integer-id code'
                         END;
        ELSE
            phase := 'converted';
            next_step := 'none';
        END IF;
        RETURN NEXT;
        RETURN;
    END IF;
    EXECUTE $q$
        SELECT s.phase, s.started_at,
               pg_catalog.count(*) FILTER (WHERE p.copied)::integer,
               pg_catalog.sum(p.rows_copied)::bigint, pg_catalog.sum(p.rows_estimated)::bigint,
               (SELECT pg_catalog.count(*) FROM lane_google_online.changes)
          FROM lane_google_online.progress AS p CROSS JOIN lane_google_online.state AS s
         GROUP BY s.phase, s.started_at $q$
      INTO copied_phase, started_at, tables_copied, rows_copied, rows_estimated, changes_pending;
    IF copied_phase OPERATOR(pg_catalog.=) 'complete' THEN
        phase := 'ready to swap';
        ready_to_swap := true;
        -- 1.N's online conversion swaps in the update to 2.N
        next_step := pg_catalog.format(
            'ALTER EXTENSION lane_google UPDATE TO %L;  -- at a quiet moment; CALL lane_google.online_backfill() first if changes_pending is large',
            '2' OPERATOR(pg_catalog.||) pg_catalog.substr(version, 2));
    ELSE
        phase := CASE WHEN tables_copied OPERATOR(pg_catalog.<) tables_total THEN 'copying'
                      ELSE 'applying changes' END;
        next_step := 'CALL lane_google.online_backfill();  -- resumes where it stopped';
        -- the copy's pace so far, for the rows it has left
        IF rows_copied OPERATOR(pg_catalog.>) 0 AND tables_copied OPERATOR(pg_catalog.<) tables_total THEN
            estimated_finish := pg_catalog.clock_timestamp() OPERATOR(pg_catalog.+)
                ((pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) started_at)
                 OPERATOR(pg_catalog.*) (GREATEST(rows_estimated OPERATOR(pg_catalog.-) rows_copied, 0)::double precision
                                         OPERATOR(pg_catalog./) rows_copied::double precision));
        END IF;
    END IF;
    RETURN NEXT;
END
$ready$;
REVOKE ALL ON FUNCTION @extschema@.online_readiness() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.online_readiness() IS 'Where the online conversion is, in one row: phase, what is left, the estimated end of the copy, whether the swap can go now, the sessions on lane_google_v1 and the next command.';

-- Sessions holding a lock on a compatibility view (lane_google_v1) now: those
-- in a transaction that uses the views.  Run it a few times over a period
-- that covers the application's jobs before drop_compat().
CREATE FUNCTION @extschema@.compat_sessions()
RETURNS TABLE (pid integer, usename name, application_name text, client_addr inet,
               backend_start timestamptz, xact_start timestamptz, state text, query text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $compat$
    SELECT a.pid, a.usename, a.application_name, a.client_addr, a.backend_start, a.xact_start,
           a.state, a.query
      FROM pg_catalog.pg_stat_activity AS a
     WHERE a.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()
       AND EXISTS (SELECT 1
                     FROM pg_catalog.pg_locks AS l
                     JOIN pg_catalog.pg_class AS c ON c.oid OPERATOR(pg_catalog.=) l.relation
                     JOIN pg_catalog.pg_namespace AS n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
                    WHERE l.pid OPERATOR(pg_catalog.=) a.pid
                      AND l.locktype OPERATOR(pg_catalog.=) 'relation'
                      AND l.database OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database AS d
                                                              WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
                      AND n.nspname OPERATOR(pg_catalog.=) 'lane_google_v1')
     ORDER BY a.xact_start, a.pid
$compat$;
REVOKE ALL ON FUNCTION @extschema@.compat_sessions() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.compat_sessions() IS 'The sessions using the compatibility views of schema lane_google_v1 now (holding a lock on one): check before drop_compat().';
