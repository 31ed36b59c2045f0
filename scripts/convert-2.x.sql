
-- Cut-over completeness (2.2): the target rows whose source row is gone,
-- listed with the legacy id they had; a catch-up's rows_missing counts them.
CREATE FUNCTION @extschema@.convert_legacy_missing(
    source_schema name,
    column_map jsonb DEFAULT '{}',
    ignore_columns text[] DEFAULT '{}',
    value_map jsonb DEFAULT '{}',
    source_timezone text DEFAULT 'UTC')
RETURNS TABLE (table_name name, id uuid, legacy_id bigint)
AS 'MODULE_PATHNAME', 'lg_convert_legacy_missing'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.convert_legacy_missing(name, jsonb, text[], jsonb, text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.convert_legacy_missing(name, jsonb, text[], jsonb, text) IS 'The target rows with a legacy id that no source row maps to any more (deleted at the source), without writing: what to delete at the cut-over.';
