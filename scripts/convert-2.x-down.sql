
-- the way back from 2.2: the functions of convert-2.x.sql
DROP FUNCTION @extschema@.convert_legacy_missing(name, jsonb, text[], jsonb, text);
