
-- The whole convert_legacy() call for a source schema (and the schemas
-- searched after it, also_from), every decision a program can propose
-- filled in and commented (2.2).
CREATE FUNCTION @extschema@.convert_legacy_suggest(
    source_schema name,
    also_from name[] DEFAULT '{}')
RETURNS text
AS 'MODULE_PATHNAME', 'lg_convert_legacy_suggest'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.convert_legacy_suggest(name, name[]) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.convert_legacy_suggest(name, name[]) IS 'The convert_legacy() call for a source schema (and also_from, the schemas searched after it), as text ready to run as a dry run: columns read, column_map, ignore_columns (with row counts and samples), value_map, on_orphan and on_error proposed, each decision commented on its own line. Changes nothing.';
