
-- More than one source schema (2.2): convert_legacy and
-- convert_legacy_problems take also_from, the schemas searched after
-- source_schema for a table it lacks (a schema of views for the reshaped
-- tables, layered on the application's).  A new signature: the 2.1 one is
-- dropped (an overload with defaults would make every call ambiguous), once
-- the EXECUTE privileges users granted on it are carried to the new one, as
-- the user's own grants, not the extension's (pg_dump keeps dumping them).
CREATE FUNCTION @extschema@._lg_carry_grants(from_fn regprocedure, to_fn regprocedure)
RETURNS void AS 'MODULE_PATHNAME', 'lg_carry_grants' LANGUAGE C STRICT;
REVOKE ALL ON FUNCTION @extschema@._lg_carry_grants(regprocedure, regprocedure) FROM PUBLIC;

CREATE FUNCTION @extschema@.convert_legacy(
    source_schema name,
    on_orphan text DEFAULT 'error',
    dry_run boolean DEFAULT false,
    on_error text DEFAULT 'error',
    column_map jsonb DEFAULT '{}',
    ignore_columns text[] DEFAULT '{}',
    value_map jsonb DEFAULT '{}',
    source_timezone text DEFAULT 'UTC',
    dependents text DEFAULT 'keep',
    also_from name[] DEFAULT '{}')
RETURNS TABLE (table_name name, rows_read bigint, rows_converted bigint,
               rows_quarantined bigint, seconds double precision,
               rows_nulled bigint, rows_unchanged bigint, rows_updated bigint,
               rows_missing bigint, note text)
AS 'MODULE_PATHNAME', 'lg_convert_legacy'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.convert_legacy(name, text, boolean, text, jsonb, text[], jsonb, text, text, name[]) FROM PUBLIC;
SELECT @extschema@._lg_carry_grants('@extschema@.convert_legacy(name, text, boolean, text, jsonb, text[], jsonb, text, text)',
    '@extschema@.convert_legacy(name, text, boolean, text, jsonb, text[], jsonb, text, text, name[])');
DROP FUNCTION @extschema@.convert_legacy(name, text, boolean, text, jsonb, text[], jsonb, text, text);

CREATE FUNCTION @extschema@.convert_legacy_problems(
    source_schema name,
    column_map jsonb DEFAULT '{}',
    ignore_columns text[] DEFAULT '{}',
    value_map jsonb DEFAULT '{}',
    source_timezone text DEFAULT 'UTC',
    also_from name[] DEFAULT '{}')
RETURNS TABLE (table_name name, column_name name, problem text, rows bigint,
               sample_keys text[], sample_values text[])
AS 'MODULE_PATHNAME', 'lg_convert_legacy_problems'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.convert_legacy_problems(name, jsonb, text[], jsonb, text, name[]) FROM PUBLIC;
SELECT @extschema@._lg_carry_grants('@extschema@.convert_legacy_problems(name, jsonb, text[], jsonb, text)',
    '@extschema@.convert_legacy_problems(name, jsonb, text[], jsonb, text, name[])');
DROP FUNCTION @extschema@.convert_legacy_problems(name, jsonb, text[], jsonb, text);
DROP FUNCTION @extschema@._lg_carry_grants(regprocedure, regprocedure);

-- Cut-over completeness (2.2): the target rows whose source row is gone,
-- listed with the legacy id they had; a catch-up's rows_missing counts them.
CREATE FUNCTION @extschema@.convert_legacy_missing(
    source_schema name,
    column_map jsonb DEFAULT '{}',
    ignore_columns text[] DEFAULT '{}',
    value_map jsonb DEFAULT '{}',
    source_timezone text DEFAULT 'UTC',
    also_from name[] DEFAULT '{}')
RETURNS TABLE (table_name name, id uuid, legacy_id bigint)
AS 'MODULE_PATHNAME', 'lg_convert_legacy_missing'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.convert_legacy_missing(name, jsonb, text[], jsonb, text, name[]) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.convert_legacy_missing(name, jsonb, text[], jsonb, text, name[]) IS 'The target rows with a legacy id that no source row maps to any more (deleted at the source), without writing: what to delete at the cut-over.';
