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
    source_timezone text DEFAULT 'UTC')
RETURNS TABLE (table_name name, rows_read bigint, rows_converted bigint,
               rows_quarantined bigint, seconds double precision,
               rows_nulled bigint, rows_unchanged bigint, rows_updated bigint,
               rows_missing bigint, note text)
AS 'MODULE_PATHNAME', 'lg_convert_legacy'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.convert_legacy(name, text, boolean, text, jsonb, text[], jsonb, text) FROM PUBLIC;

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
