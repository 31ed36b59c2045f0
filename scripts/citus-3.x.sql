
-- scripts/citus-3.x.sql: distribute() and undistribute(), the 3.0 tables on
-- a Citus cluster (doc/citus.md, sections 3 and 4): a fragment of
-- lane_google--2.2--3.0.sql (see the Makefile); citus-3.x-down.sql drops
-- it on the way back, after refusing while the tables are distributed.
-- Citus is not required to install it: its functions are called only once
-- a check found Citus there, and always schema-qualified.

-- _lg_citus_tables(): what distribute() makes of each of the 11 tables,
-- written once for both functions: reference tables first, then each
-- co-location group's first table (by shard_count), the tables co-located
-- with it.  undistribute() goes the other way.
CREATE FUNCTION @extschema@._lg_citus_tables()
RETURNS TABLE (step integer, table_name name, citus_kind text,
               distribution_column name, colocate_with name)
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $tables$
    VALUES (1, 'users'::name, 'reference'::text, NULL::name, NULL::name),
           (2, 'accounts', 'reference', NULL, NULL),
           (3, 'campaigns', 'distributed', 'account_id', NULL),
           (4, 'account_users', 'distributed', 'account_id', 'campaigns'),
           (5, 'ad_groups', 'distributed', 'account_id', 'campaigns'),
           (6, 'ads', 'distributed', 'account_id', 'campaigns'),
           (7, 'analytics_snapshots', 'distributed', 'account_id', 'campaigns'),
           (8, 'approval_requests', 'distributed', 'account_id', 'campaigns'),
           (9, 'budget_alerts', 'distributed', 'account_id', 'campaigns'),
           (10, 'conversations', 'distributed', 'user_id', NULL),
           (11, 'conversation_messages', 'distributed', 'user_id', 'conversations')
$tables$;

-- _lg_citus_require(function, distributed): the refusals both functions
-- share: Citus installed, this node its coordinator, a worker registered,
-- no foreign key between the 11 tables and a table outside them, and the
-- 11 tables distributed already (distributed = true) or not at all
-- (distributed = false).
CREATE FUNCTION @extschema@._lg_citus_require(function_name text, distributed boolean)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $require$
DECLARE
    n_citus integer;
    n_workers bigint;
    group_id integer;
    outside text;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension AS e WHERE e.extname OPERATOR(pg_catalog.=) 'citus') THEN
        RAISE EXCEPTION 'lane_google.%() needs Citus, which is not installed in this database', function_name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'The extension citus does not exist in database ' || pg_catalog.current_database() || '.',
                  HINT = 'Install Citus on every node (shared_preload_libraries = ''citus''), CREATE EXTENSION citus in this database on each, register the workers with citus_add_node() on the coordinator, then call it again there.';
    END IF;
    EXECUTE 'SELECT g.groupid FROM pg_catalog.pg_dist_local_group AS g' INTO group_id;
    IF group_id IS DISTINCT FROM 0 THEN
        RAISE EXCEPTION 'lane_google.%() runs on the Citus coordinator, and this node is a worker', function_name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('This node''s Citus group is %s; the coordinator''s is 0.', group_id),
                  HINT = 'Connect to the coordinator and call it there.';
    END IF;
    EXECUTE 'SELECT pg_catalog.count(*) FROM pg_catalog.pg_dist_node AS d'
            ' WHERE d.groupid OPERATOR(pg_catalog.<>) 0 AND d.isactive'
            ' AND d.noderole OPERATOR(pg_catalog.=) ''primary'''
       INTO n_workers;
    IF n_workers OPERATOR(pg_catalog.=) 0 THEN
        RAISE EXCEPTION 'lane_google.%() needs a Citus worker, and none is registered', function_name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'pg_dist_node lists no active primary worker.',
                  HINT = 'Register each worker on the coordinator: SELECT citus_add_node(''host'', port).';
    END IF;

    -- a foreign key between one of the 11 tables and another table: Citus
    -- would turn the other table into a Citus table with them (or refuse)
    SELECT pg_catalog.string_agg(pg_catalog.format('%s on %s', co.conname, co.conrelid::pg_catalog.regclass),
                                 ', ' ORDER BY co.conname COLLATE "C")
      INTO outside
      FROM pg_catalog.pg_constraint AS co
     WHERE co.contype OPERATOR(pg_catalog.=) 'f'
       AND ((co.conrelid OPERATOR(pg_catalog.=) ANY (@extschema@._lg_citus_relids()))
            OPERATOR(pg_catalog.<>) (co.confrelid OPERATOR(pg_catalog.=) ANY (@extschema@._lg_citus_relids())));
    IF outside IS NOT NULL THEN
        RAISE EXCEPTION 'lane_google.%() cannot move the 11 tables: other tables have foreign keys with them', function_name
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = 'Foreign keys: ' || outside || '.',
                  HINT = 'Nothing was changed.  Drop these foreign keys, call it again, then make the other tables Citus tables (create_distributed_table or create_reference_table) and add them again.';
    END IF;

    EXECUTE 'SELECT pg_catalog.count(*) FROM pg_catalog.pg_dist_partition AS p'
            ' WHERE p.logicalrelid OPERATOR(pg_catalog.=) ANY ($1)'
       INTO n_citus USING @extschema@._lg_citus_relids();
    IF distributed AND n_citus OPERATOR(pg_catalog.<>) 11 THEN
        RAISE EXCEPTION 'the tables of lane_google are not distributed'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('%s of the 11 tables are Citus tables (pg_dist_partition).', n_citus),
                  HINT = CASE WHEN n_citus OPERATOR(pg_catalog.=) 0
                         THEN 'Nothing to undo: lane_google.distribute() makes them Citus tables.'
                         ELSE 'Some were made Citus tables by hand: undistribute_table() makes each a plain table again.' END;
    ELSIF NOT distributed AND n_citus OPERATOR(pg_catalog.<>) 0 THEN
        RAISE EXCEPTION 'the tables of lane_google are already distributed'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('%s of the 11 tables are Citus tables (pg_dist_partition).', n_citus),
                  HINT = 'lane_google.undistribute() makes them plain tables again, with every row on the coordinator.';
    END IF;
END
$require$;

-- _lg_citus_relids(): the 11 tables, in distribute()'s order
CREATE FUNCTION @extschema@._lg_citus_relids()
RETURNS pg_catalog.regclass[]
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $relids$
    SELECT pg_catalog.array_agg(pg_catalog.format('@extschema@.%I', t.table_name)::pg_catalog.regclass
                                ORDER BY t.step)
      FROM @extschema@._lg_citus_tables() AS t
$relids$;

-- distribute(shard_count): the 11 tables made reference and distributed
-- tables, co-located, in the caller's transaction (doc/citus.md, section 4
-- step 5).  The unsafe-trigger setting covers set_updated_at() and
-- set_tenant_key(), which change only the row they fire for; sequential
-- mode because the distributed tables have foreign keys to reference
-- tables (Citus uses one connection per node then).  No NOTICE: Citus's
-- about copying the rows (and removing them, which this function does) and
-- those of the DROP CONSTRAINT IF EXISTS below would only mislead.
CREATE FUNCTION @extschema@.distribute(shard_count integer DEFAULT 32)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
SET citus.enable_unsafe_triggers = on
SET citus.multi_shard_modify_mode = 'sequential'
SET client_min_messages = warning
AS $distribute$
DECLARE
    my_version text;
    my_namespace uuid;
    problems text;
    fks record;
    t record;
    rel pg_catalog.regclass;
    relids pg_catalog.regclass[] := @extschema@._lg_citus_relids();
    rows_check text;
BEGIN
    IF shard_count OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'shard_count must be at least 1, not %', shard_count
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM @extschema@._lg_citus_require('distribute', false);

    -- every worker reachable, at this version, with the coordinator's
    -- legacy namespace and no rows of its own in the 11 tables; each runs
    -- in a session of its own (run_command_on_workers)
    SELECT e.extversion INTO my_version FROM pg_catalog.pg_extension AS e
     WHERE e.extname OPERATOR(pg_catalog.=) 'lane_google';
    SELECT pg_catalog.string_agg(pg_catalog.format('%s:%s: %s', w.nodename, w.nodeport, w.result),
                                 E'\n' ORDER BY w.nodename, w.nodeport)
      INTO problems
      FROM pg_catalog.run_command_on_workers(
               $$SELECT e.extversion FROM pg_catalog.pg_extension AS e WHERE e.extname OPERATOR(pg_catalog.=) 'lane_google'$$) AS w
     WHERE NOT w.success;
    IF problems IS NOT NULL THEN
        RAISE EXCEPTION 'cannot distribute the tables of lane_google: a worker cannot be reached'
            USING ERRCODE = 'connection_failure',
                  DETAIL = problems,
                  HINT = 'Nothing was changed.  Start the worker, or remove it with citus_remove_node(), and call lane_google.distribute() again.';
    END IF;
    SELECT pg_catalog.string_agg(pg_catalog.format('%s:%s has lane_google %s', w.nodename, w.nodeport,
                                                   COALESCE(NULLIF(w.result, ''), 'not installed')),
                                 E'\n' ORDER BY w.nodename, w.nodeport)
      INTO problems
      FROM pg_catalog.run_command_on_workers(
               $$SELECT e.extversion FROM pg_catalog.pg_extension AS e WHERE e.extname OPERATOR(pg_catalog.=) 'lane_google'$$) AS w
     WHERE w.result IS DISTINCT FROM my_version;
    IF problems IS NOT NULL THEN
        RAISE EXCEPTION 'cannot distribute the tables of lane_google: a worker has another version of the extension'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format(E'The coordinator has lane_google %s.\n%s', my_version, problems),
                  HINT = pg_catalog.format('Nothing was changed.  Bring every worker to %s: on that worker, SET citus.enable_ddl_propagation = off; ALTER EXTENSION lane_google UPDATE TO ''%s''; then call lane_google.distribute() again.',
                                           my_version, my_version);
    END IF;

    my_namespace := @extschema@.legacy_namespace();
    SELECT pg_catalog.string_agg(pg_catalog.format('%s:%s has %s', w.nodename, w.nodeport, w.result),
                                 E'\n' ORDER BY w.nodename, w.nodeport)
      INTO problems
      FROM pg_catalog.run_command_on_workers(
               $$SELECT pg_catalog.string_agg(c.root_namespace::pg_catalog.text, ',') FROM @extschema@.legacy_config AS c$$) AS w
     WHERE NOT w.success OR w.result IS DISTINCT FROM my_namespace::text;
    IF problems IS NOT NULL THEN
        RAISE EXCEPTION 'cannot distribute the tables of lane_google: a worker''s legacy namespace is not the coordinator''s'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format(E'The coordinator has %s.\n%s', my_namespace, problems),
                  HINT = 'Nothing was changed.  On the coordinator, SELECT lane_google.set_legacy_namespace(lane_google.legacy_namespace()) sets every worker''s; then call lane_google.distribute() again.';
    END IF;

    SELECT pg_catalog.string_agg(
               pg_catalog.format('SELECT %L AS t, pg_catalog.count(*) AS n FROM @extschema@.%I', l.table_name, l.table_name),
               ' UNION ALL ' ORDER BY l.step)
      INTO rows_check
      FROM @extschema@._lg_citus_tables() AS l;
    rows_check := 'SELECT pg_catalog.string_agg(pg_catalog.format(''lane_google.%s holds %s rows'', x.t, x.n), ''; '')'
                  ' FROM (' OPERATOR(pg_catalog.||) rows_check OPERATOR(pg_catalog.||) ') AS x'
                  ' WHERE x.n OPERATOR(pg_catalog.>) 0';
    SELECT pg_catalog.string_agg(pg_catalog.format('%s:%s: %s', w.nodename, w.nodeport, w.result),
                                 E'\n' ORDER BY w.nodename, w.nodeport)
      INTO problems
      FROM pg_catalog.run_command_on_workers(rows_check) AS w
     WHERE NOT w.success OR COALESCE(w.result, '') OPERATOR(pg_catalog.<>) '';
    IF problems IS NOT NULL THEN
        RAISE EXCEPTION 'cannot distribute the tables of lane_google: a worker''s own copies of the tables hold rows'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = problems,
                  HINT = 'Nothing was changed.  Once the tables are distributed these rows would be invisible: move them into the coordinator''s tables, or remove them on the worker (TRUNCATE lane_google.<table> CASCADE there), then call lane_google.distribute() again.';
    END IF;

    -- the foreign keys among the 11 tables, with their comments: dropped
    -- (Citus cannot distribute a table that a local table references) and
    -- added again once every table is distributed
    CREATE TEMP TABLE _lg_distribute_fks ON COMMIT DROP AS
    SELECT co.conrelid::pg_catalog.regclass AS fk_table, co.conname AS fk_name,
           pg_catalog.pg_get_constraintdef(co.oid) AS fk_def,
           pg_catalog.obj_description(co.oid, 'pg_constraint') AS fk_comment
      FROM pg_catalog.pg_constraint AS co
     WHERE co.contype OPERATOR(pg_catalog.=) 'f'
       AND co.conrelid OPERATOR(pg_catalog.=) ANY (relids);
    FOR fks IN SELECT * FROM pg_temp._lg_distribute_fks AS f ORDER BY f.fk_table::pg_catalog.oid, f.fk_name LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', fks.fk_table, fks.fk_name);
    END LOOP;

    FOR t IN SELECT * FROM @extschema@._lg_citus_tables() ORDER BY step LOOP
        rel := pg_catalog.format('@extschema@.%I', t.table_name)::pg_catalog.regclass;
        IF t.citus_kind OPERATOR(pg_catalog.=) 'reference' THEN
            PERFORM pg_catalog.create_reference_table(rel);
        ELSIF t.colocate_with IS NULL THEN
            PERFORM pg_catalog.create_distributed_table(rel, t.distribution_column,
                                                        colocate_with => 'none', shard_count => shard_count);
        ELSE
            PERFORM pg_catalog.create_distributed_table(rel, t.distribution_column,
                                                        colocate_with => pg_catalog.format('@extschema@.%I', t.colocate_with));
        END IF;
        -- the rows are in the shards now: the coordinator's own storage of
        -- the table (the shell) keeps none
        PERFORM pg_catalog.truncate_local_data_after_distributing_table(rel);
    END LOOP;

    -- each worker's copy of a table is its shell (Citus creates none for a
    -- table an extension owns) and still has the extension's foreign keys:
    -- dropped there (IF EXISTS: Citus sends the command to every shell and
    -- shard), then added again everywhere, one per ALTER TABLE
    FOR fks IN SELECT * FROM pg_temp._lg_distribute_fks AS f ORDER BY f.fk_table::pg_catalog.oid, f.fk_name LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I', fks.fk_table, fks.fk_name);
        EXECUTE pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I %s', fks.fk_table, fks.fk_name, fks.fk_def);
        IF fks.fk_comment IS NOT NULL THEN
            EXECUTE pg_catalog.format('COMMENT ON CONSTRAINT %I ON %s IS %L', fks.fk_name, fks.fk_table, fks.fk_comment);
        END IF;
    END LOOP;
    DROP TABLE pg_temp._lg_distribute_fks;
END
$distribute$;
REVOKE ALL ON FUNCTION @extschema@.distribute(integer) FROM PUBLIC;

-- undistribute(): the way back, in the caller's transaction.  Citus's
-- undistribute_table() refuses a table an extension owns ("cannot alter
-- table because an extension depends on it": it would create a new table
-- and drop the extension's), so the rows are read into temporary tables,
-- each table's Citus metadata and shards are removed as Citus's own
-- DROP TABLE trigger does (the coordinator's and each worker's table stay:
-- Citus drops no extension's table), and the rows are written back into
-- the coordinator's tables, whose keys and foreign keys never left.
CREATE FUNCTION @extschema@.undistribute()
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET citus.multi_shard_modify_mode = 'sequential'
AS $undistribute$
DECLARE
    t record;
    rel pg_catalog.regclass;
    tg record;
    role_before text := pg_catalog.current_setting('session_replication_role');
BEGIN
    PERFORM @extschema@._lg_citus_require('undistribute', true);

    FOR t IN SELECT * FROM @extschema@._lg_citus_tables() ORDER BY step LOOP
        EXECUTE pg_catalog.format('CREATE TEMP TABLE %I ON COMMIT DROP AS SELECT * FROM @extschema@.%I',
                                  '_lg_undistribute_' OPERATOR(pg_catalog.||) t.table_name, t.table_name);
    END LOOP;

    FOR t IN SELECT * FROM @extschema@._lg_citus_tables() ORDER BY step DESC LOOP
        rel := pg_catalog.format('@extschema@.%I', t.table_name)::pg_catalog.regclass;
        PERFORM pg_catalog.master_remove_distributed_table_metadata_from_workers(rel, '@extschema@', t.table_name);
        PERFORM pg_catalog.citus_drop_all_shards(rel, '@extschema@', t.table_name, false);
        PERFORM pg_catalog.master_remove_partition_metadata(rel, '@extschema@', t.table_name);
        FOR tg IN SELECT g.tgname FROM pg_catalog.pg_trigger AS g
                   WHERE g.tgrelid OPERATOR(pg_catalog.=) rel
                     AND g.tgfoid OPERATOR(pg_catalog.=) 'pg_catalog.citus_truncate_trigger()'::pg_catalog.regprocedure LOOP
            EXECUTE pg_catalog.format('DROP TRIGGER %I ON %s', tg.tgname, rel);
        END LOOP;
    END LOOP;

    -- the rows as they were, parents first; no trigger fires (nothing is
    -- written anew, so no updated_at and no application trigger changes):
    -- the foreign keys were kept on the coordinator and held on the shards
    PERFORM pg_catalog.set_config('session_replication_role', 'replica', true);
    FOR t IN SELECT * FROM @extschema@._lg_citus_tables() ORDER BY step LOOP
        EXECUTE pg_catalog.format('INSERT INTO @extschema@.%I SELECT * FROM pg_temp.%I',
                                  t.table_name, '_lg_undistribute_' OPERATOR(pg_catalog.||) t.table_name);
        EXECUTE pg_catalog.format('DROP TABLE pg_temp.%I', '_lg_undistribute_' OPERATOR(pg_catalog.||) t.table_name);
    END LOOP;
    PERFORM pg_catalog.set_config('session_replication_role', role_before, true);
END
$undistribute$;
REVOKE ALL ON FUNCTION @extschema@.undistribute() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._lg_citus_require(text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._lg_citus_relids() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._lg_citus_tables() FROM PUBLIC;
