/* lane_google--1.0--1.1.sql: the legacy schema plus this round's objects that work at the legacy version */

\echo Use "ALTER EXTENSION lane_google UPDATE TO '1.1'" to load this file. \quit

-- Adds objects and changes no row.  Each capability adds its objects in a
-- block of its own below.  (Objects in both 1.1 and 2.1 are created here and
-- in lane_google--2.0--2.1.sql; objects only in 1.1 also in
-- lane_google--2.1--1.1.sql.)

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
