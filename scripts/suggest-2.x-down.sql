-- the way back from 2.2: the function of suggest-2.x.sql
DROP FUNCTION @extschema@.convert_legacy_suggest(name, name[]);
