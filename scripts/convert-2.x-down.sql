
-- the way back from 2.2: the functions of convert-2.x.sql; 2.1's
-- convert_legacy and convert_legacy_problems follow, taken by the Makefile
-- from the released lane_google--2.0--2.1.sql as they are
DROP FUNCTION @extschema@.convert_legacy_missing(name, jsonb, text[], jsonb, text, name[]);
DROP FUNCTION @extschema@.convert_legacy(name, text, boolean, text, jsonb, text[], jsonb, text, text, name[]);
DROP FUNCTION @extschema@.convert_legacy_problems(name, jsonb, text[], jsonb, text, name[]);
