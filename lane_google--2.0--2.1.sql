/* lane_google--2.0--2.1.sql: the UUID schema plus this round's functions */

\echo Use "ALTER EXTENSION lane_google UPDATE TO '2.1'" to load this file. \quit

-- Adds objects and changes no row.  Each capability adds its objects in a
-- block of its own below.  (Objects in both 1.1 and 2.1 are created here and
-- in lane_google--1.0--1.1.sql; objects only in 2.1 also in
-- lane_google--1.1--2.1.sql.)

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
    DROP SCHEMA lane_google_v1;
END
$drop$;
REVOKE ALL ON FUNCTION @extschema@.drop_compat() FROM PUBLIC;
