/* lane_google--2.0--2.1.sql: the UUID schema plus this round's functions */

\echo Use "ALTER EXTENSION lane_google UPDATE TO '2.1'" to load this file. \quit

-- Adds objects and changes no row.  Each capability adds its objects in a
-- block of its own below.  (Objects in both 1.1 and 2.1 are created here and
-- in lane_google--1.0--1.1.sql; objects only in 2.1 also in
-- lane_google--1.1--2.1.sql.)

-- ---------------------------------------------------------------------------
-- uuid: drop-ins for pg_uuidv7 1.6 and PostgreSQL 18 (src/uuid.c)
-- ---------------------------------------------------------------------------

-- uuid_v7_to_timestamptz(uuid) becomes pg_uuidv7's: it decodes the first 48
-- bits of any UUID and is STABLE.  An index, generated column, partition key
-- or statistics expression on it needs it IMMUTABLE: refuse to update while
-- one exists, rather than leave a database whose dump does not restore.
DO $$
DECLARE
    users text;
BEGIN
    SELECT pg_catalog.string_agg(pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid),
                                 ', ' ORDER BY d.classid, d.objid)
      INTO users
      FROM pg_catalog.pg_depend d
     WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
       AND d.refobjid OPERATOR(pg_catalog.=)
           '@extschema@.uuid_v7_to_timestamptz(uuid)'::pg_catalog.regprocedure
       AND d.deptype OPERATOR(pg_catalog.<>) 'e'
       AND ((d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
             AND EXISTS (SELECT FROM pg_catalog.pg_class c
                          WHERE c.oid OPERATOR(pg_catalog.=) d.objid
                            AND c.relkind OPERATOR(pg_catalog.=) ANY ('{i,I,p}'::"char"[])))
         OR (d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_attrdef'::pg_catalog.regclass
             AND EXISTS (SELECT FROM pg_catalog.pg_attrdef ad
                           JOIN pg_catalog.pg_attribute a
                             ON a.attrelid OPERATOR(pg_catalog.=) ad.adrelid
                            AND a.attnum OPERATOR(pg_catalog.=) ad.adnum
                          WHERE ad.oid OPERATOR(pg_catalog.=) d.objid
                            AND a.attgenerated OPERATOR(pg_catalog.<>) ''))
         OR d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass);
    IF users IS NOT NULL THEN
        RAISE EXCEPTION 'cannot update lane_google: uuid_v7_to_timestamptz(uuid) is used by %', users
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = 'From versions 1.1 and 2.1 on, uuid_v7_to_timestamptz(uuid) is pg_uuidv7''s: '
                           'STABLE, and an index, generated column, partition key or statistics '
                           'expression needs an IMMUTABLE function.',
                  HINT = 'Drop it, update, and create it again on '
                         'lane_google.uuid_v7_to_timestamptz_strict(uuid), the IMMUTABLE function '
                         'with the old behaviour.';
    END IF;
END $$;

-- lane_google's strict decoder, under a name of its own: an error for
-- anything but an RFC 9562 version 7 UUID
CREATE FUNCTION @extschema@.uuid_v7_to_timestamptz_strict(uuid)
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'lg_uuid_v7_to_timestamptz'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- pg_uuidv7 1.6: its names, signatures and volatility
CREATE OR REPLACE FUNCTION @extschema@.uuid_v7_to_timestamptz(uuid)
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'lg_uuid_v7_unix_time'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.uuid_v7_to_timestamp(uuid)
RETURNS timestamp
AS 'MODULE_PATHNAME', 'lg_uuid_v7_unix_time'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.uuid_timestamptz_to_v7(timestamptz, zero boolean DEFAULT false)
RETURNS uuid
AS 'MODULE_PATHNAME', 'lg_uuid_time_to_v7'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.uuid_timestamp_to_v7(timestamp, zero boolean DEFAULT false)
RETURNS uuid
AS 'MODULE_PATHNAME', 'lg_uuid_time_to_v7'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- PostgreSQL 18: its names, signatures and volatility (on 18, pg_catalog's
-- own come first in the search path unless lane_google is put before it)
CREATE FUNCTION @extschema@.uuidv7()
RETURNS uuid
AS 'MODULE_PATHNAME', 'lg_uuid_generate_v7'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.uuidv7(shift interval)
RETURNS uuid
AS 'MODULE_PATHNAME', 'lg_uuidv7_interval'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

-- PostgreSQL 18's uuidv4() is gen_random_uuid() under another name: the
-- same built-in C function (in core since PostgreSQL 13)
CREATE FUNCTION @extschema@.uuidv4()
RETURNS uuid
AS 'gen_random_uuid'
LANGUAGE internal VOLATILE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.uuid_extract_version(uuid)
RETURNS smallint
AS 'MODULE_PATHNAME', 'lg_uuid_extract_version'
LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;

CREATE FUNCTION @extschema@.uuid_extract_timestamp(uuid)
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'lg_uuid_extract_timestamp'
LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;

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
    source_timezone text DEFAULT 'UTC',
    dependents text DEFAULT 'keep')
RETURNS TABLE (table_name name, rows_read bigint, rows_converted bigint,
               rows_quarantined bigint, seconds double precision,
               rows_nulled bigint, rows_unchanged bigint, rows_updated bigint,
               rows_missing bigint, note text)
AS 'MODULE_PATHNAME', 'lg_convert_legacy'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.convert_legacy(name, text, boolean, text, jsonb, text[], jsonb, text, text) FROM PUBLIC;

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

-- ---------------------------------------------------------------------------
-- dependents (issue 9): the plan, registered references, and the update's
-- steps that carry the objects around the 11 tables (src/dependents.c)
-- ---------------------------------------------------------------------------

-- Columns holding ids of the 11 tables without a constraint, registered by
-- add_legacy_reference(); and, with declared = true, the integer type each
-- foreign-key column had before the update made it uuid, for the way back.
CREATE TABLE @extschema@.legacy_references (
    tab regclass NOT NULL,
    col name NOT NULL,
    referenced text NOT NULL,
    legacy_type regtype,
    declared boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tab, col)
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.legacy_references', '');
REVOKE ALL ON @extschema@.legacy_references FROM PUBLIC;

CREATE FUNCTION @extschema@.conversion_plan()
RETURNS TABLE (object_type text, object text, depends_on text, action text, reason text)
AS 'MODULE_PATHNAME', 'lg_conversion_plan'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.conversion_plan() FROM PUBLIC;

CREATE FUNCTION @extschema@.add_legacy_reference(tab regclass, col name, referenced text)
RETURNS void
AS 'MODULE_PATHNAME', 'lg_add_legacy_reference'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.add_legacy_reference(regclass, name, text) FROM PUBLIC;

CREATE FUNCTION @extschema@.remove_legacy_reference(tab regclass, col name)
RETURNS boolean
LANGUAGE sql VOLATILE STRICT PARALLEL UNSAFE
BEGIN ATOMIC
    WITH d AS (DELETE FROM @extschema@.legacy_references AS r
                WHERE r.tab OPERATOR(pg_catalog.=) remove_legacy_reference.tab
                  AND r.col OPERATOR(pg_catalog.=) remove_legacy_reference.col
                  AND NOT r.declared
               RETURNING 1)
    SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 FROM d;
END;
REVOKE ALL ON FUNCTION @extschema@.remove_legacy_reference(regclass, name) FROM PUBLIC;

-- Candidates: integer and text columns (uuid columns at 2.x) of tables in
-- schema_name whose non-null values all fall among one table's keys, with the
-- fraction matched and what the column's name says.
CREATE FUNCTION @extschema@.suggest_legacy_references(schema_name name)
RETURNS TABLE (table_name regclass, column_name name, referenced text,
               values_total bigint, values_matched bigint, fraction double precision,
               name_evidence text)
LANGUAGE plpgsql STABLE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $suggest$
DECLARE
    c record;
    t text;
    stem text;
    total bigint;
    matched bigint;
    uuid_keys boolean;
BEGIN
    SELECT a.atttypid = 'uuid'::regtype INTO uuid_keys
      FROM pg_attribute a
     WHERE a.attrelid = '@extschema@.users'::regclass AND a.attname = 'id';
    FOR c IN
        SELECT cl.oid AS relid, a.attname, a.atttypid
          FROM pg_class cl
          JOIN pg_namespace n ON n.oid = cl.relnamespace
          JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE n.nspname = schema_name
           AND cl.relkind IN ('r', 'p')
           AND NOT EXISTS (SELECT FROM pg_depend d
                            WHERE d.classid = 'pg_class'::regclass AND d.objid = cl.oid
                              AND d.deptype = 'e')
           AND CASE WHEN uuid_keys THEN a.atttypid = 'uuid'::regtype
                    ELSE a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype,
                                        'text'::regtype, 'varchar'::regtype) END
           AND a.attname <> 'id'
           AND NOT EXISTS (SELECT FROM pg_constraint con
                            WHERE con.conrelid = cl.oid AND con.contype IN ('f', 'p')
                              AND a.attnum = ANY (con.conkey))
           AND NOT EXISTS (SELECT FROM @extschema@.legacy_references r
                            WHERE r.tab = cl.oid AND r.col = a.attname)
         ORDER BY 1, 2
    LOOP
        EXECUTE format('SELECT count(%I) FROM %s', c.attname, c.relid::regclass) INTO total;
        CONTINUE WHEN total = 0;
        FOREACH t IN ARRAY ARRAY['users', 'accounts', 'account_users', 'campaigns', 'ad_groups', 'ads',
                                 'analytics_snapshots', 'approval_requests', 'budget_alerts',
                                 'conversations', 'conversation_messages'] LOOP
            IF uuid_keys THEN
                EXECUTE format('SELECT count(*) FROM %s r WHERE EXISTS (SELECT FROM @extschema@.%I p WHERE p.id = r.%I)',
                               c.relid::regclass, t, c.attname) INTO matched;
            ELSIF c.atttypid IN ('text'::regtype, 'varchar'::regtype) THEN
                EXECUTE format('SELECT count(*) FROM %s r WHERE r.%I ~ ''^\s*-?[0-9]{1,18}\s*$'''
                               ' AND EXISTS (SELECT FROM @extschema@.%I p WHERE p.id = btrim(r.%I)::bigint)',
                               c.relid::regclass, c.attname, t, c.attname) INTO matched;
            ELSE
                EXECUTE format('SELECT count(*) FROM %s r WHERE EXISTS (SELECT FROM @extschema@.%I p WHERE p.id = r.%I)',
                               c.relid::regclass, t, c.attname) INTO matched;
            END IF;
            -- the singular of the table's name, as column names use it
            stem := CASE WHEN t = 'analytics_snapshots' THEN 'snapshot'
                         WHEN t = 'account_users' THEN 'account_user'
                         ELSE regexp_replace(t, 's$', '') END;
            IF matched = total OR (matched > 0 AND position(stem IN c.attname) > 0) THEN
                table_name := c.relid::regclass;
                column_name := c.attname;
                referenced := t;
                values_total := total;
                values_matched := matched;
                fraction := matched::double precision / total;
                name_evidence := CASE WHEN position(stem IN c.attname) > 0
                                      THEN format('the name contains "%s"', stem) END;
                RETURN NEXT;
            END IF;
        END LOOP;
    END LOOP;
END
$suggest$;
REVOKE ALL ON FUNCTION @extschema@.suggest_legacy_references(name) FROM PUBLIC;

-- The update's steps (called by lane_google--1.1--2.1.sql and --2.1--1.1.sql)
CREATE FUNCTION @extschema@._lg_dependents_detach()
RETURNS void AS 'MODULE_PATHNAME', 'lg_dependents_detach' LANGUAGE C STRICT;
CREATE FUNCTION @extschema@._lg_dependents_convert(set_aside_prefix text)
RETURNS void AS 'MODULE_PATHNAME', 'lg_dependents_convert' LANGUAGE C STRICT;
CREATE FUNCTION @extschema@._lg_dependents_attach()
RETURNS void AS 'MODULE_PATHNAME', 'lg_dependents_attach' LANGUAGE C STRICT;
CREATE FUNCTION @extschema@._lg_dependents_legacy_id(set_aside regclass, id uuid)
RETURNS bigint AS 'MODULE_PATHNAME', 'lg_dependents_legacy_id' LANGUAGE C STABLE STRICT;
REVOKE ALL ON FUNCTION @extschema@._lg_dependents_detach() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._lg_dependents_convert(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._lg_dependents_attach() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._lg_dependents_legacy_id(regclass, uuid) FROM PUBLIC;
-- end of dependents

-- ---------------------------------------------------------------------------
-- Online conversion's compatibility views (src/online.c; README "Online
-- conversion"): only in 2.1.  Created here and in lane_google--1.1--2.1.sql,
-- dropped in lane_google--2.1--1.1.sql and lane_google--2.1--2.0.sql.
-- ---------------------------------------------------------------------------

-- INSTEAD OF INSERT trigger of the views in schema lane_google_v1 (1.0
-- layout over the 2.x tables): the integer id (the view's default: the next
-- legacy id) and foreign keys in, legacy_uuid() keys out.  Updates and
-- deletes need no trigger: the views are automatically updatable, so an
-- UPDATE ... SET n = n + 1 through them re-reads a concurrently updated row
-- as it would on a table.  Runs as the caller, who needs INSERT on the 2.x
-- table and EXECUTE on legacy_uuid().
CREATE FUNCTION @extschema@._compat_write()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $compat$
DECLARE
    tab text := TG_TABLE_NAME;
    target regclass := pg_catalog.format('%I.%I', '@extschema@', TG_TABLE_NAME)::regclass;
    r jsonb;
    fk record;
    cols text;
BEGIN
    IF TG_OP <> 'INSERT' OR TG_LEVEL <> 'ROW' OR TG_WHEN <> 'INSTEAD OF' THEN
        RAISE EXCEPTION '_compat_write() must be fired INSTEAD OF INSERT, FOR EACH ROW'
            USING ERRCODE = 'triggered_action_exception';
    END IF;
    IF NEW.id IS NULL THEN
        RAISE EXCEPTION 'null value in column "id" of relation "%"', tab
            USING ERRCODE = 'not_null_violation';
    END IF;
    r := pg_catalog.to_jsonb(NEW)
         || pg_catalog.jsonb_build_object('id', @extschema@.legacy_uuid(tab, NEW.id),
                                          'legacy_id', NEW.id);
    FOR fk IN
        SELECT a.attname::text AS col, p.relname::text AS parent
          FROM pg_catalog.pg_constraint AS c
          JOIN pg_catalog.pg_attribute AS a
            ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
          JOIN pg_catalog.pg_class AS p ON p.oid = c.confrelid
         WHERE c.conrelid = target AND c.contype = 'f'
    LOOP
        r := pg_catalog.jsonb_set(r, ARRAY[fk.col],
                 coalesce(pg_catalog.to_jsonb(@extschema@.legacy_uuid(fk.parent, (r ->> fk.col)::bigint)),
                          'null'::jsonb));
    END LOOP;
    SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum)
      INTO cols
      FROM pg_catalog.pg_attribute AS a
     WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped;
    EXECUTE pg_catalog.format('INSERT INTO %1$s (%2$s) SELECT %2$s FROM pg_catalog.jsonb_populate_record(NULL::%1$s, $1)',
                              target, cols) USING r;
    RETURN NEW;
END
$compat$;
REVOKE ALL ON FUNCTION @extschema@._compat_write() FROM PUBLIC;

-- The contract step: once no application instance speaks integer ids.
CREATE FUNCTION @extschema@.drop_compat()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $drop$
DECLARE
    rels text;
BEGIN
    IF pg_catalog.to_regnamespace('lane_google_v1') IS NULL THEN
        RAISE NOTICE 'schema lane_google_v1 does not exist, skipping';
        RETURN;
    END IF;
    IF pg_catalog.to_regnamespace('lane_google_online') IS NOT NULL THEN
        RAISE EXCEPTION 'an online conversion is in progress'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'lane_google.online_abort() removes its views.';
    END IF;
    SELECT pg_catalog.string_agg(pg_catalog.format('lane_google_v1.%I', c.relname), ', ')
      INTO rels
      FROM pg_catalog.pg_class AS c
     WHERE c.relnamespace = 'lane_google_v1'::regnamespace AND c.relkind = 'v';
    IF rels IS NOT NULL THEN
        EXECUTE 'DROP VIEW ' || rels;
    END IF;
    SELECT pg_catalog.string_agg(pg_catalog.format('lane_google_v1.%I', c.relname), ', ')
      INTO rels
      FROM pg_catalog.pg_class AS c
     WHERE c.relnamespace = 'lane_google_v1'::regnamespace AND c.relkind = 'S';
    IF rels IS NOT NULL THEN
        EXECUTE 'DROP SEQUENCE ' || rels;
    END IF;
    -- the views' indexes on legacy_id (the online swap brings them in)
    SELECT pg_catalog.string_agg(pg_catalog.format('%I.%I', n.nspname, c.relname), ', ')
      INTO rels
      FROM pg_catalog.pg_class AS c
      JOIN pg_catalog.pg_namespace AS n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
     WHERE n.nspname OPERATOR(pg_catalog.=) '@extschema@' AND c.relkind OPERATOR(pg_catalog.=) 'i'
       AND c.relname OPERATOR(pg_catalog.~~) '\_lg\_compat\_%\_legacy\_id';
    IF rels IS NOT NULL THEN
        EXECUTE 'DROP INDEX ' || rels;
    END IF;
    DROP SCHEMA lane_google_v1;
END
$drop$;
REVOKE ALL ON FUNCTION @extschema@.drop_compat() FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- convert_legacy's carry (issue 9 point 6): the plan of what
-- convert_legacy(source_schema, dependents => 'carry') does with the objects
-- depending on the application's legacy tables (src/dependents.c).  Only in
-- 2.1: created here and in lane_google--1.1--2.1.sql, dropped in lane_google--2.1--1.1.sql and
-- lane_google--2.1--2.0.sql.
-- ---------------------------------------------------------------------------
CREATE FUNCTION @extschema@.conversion_plan(source_schema name)
RETURNS TABLE (object_type text, object text, depends_on text, action text, reason text)
AS 'MODULE_PATHNAME', 'lg_conversion_plan_source'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.conversion_plan(name) FROM PUBLIC;
-- end of convert_legacy's carry
