
-- the way back from 2.2: the functions of convert-2.x.sql; 2.1's
-- convert_legacy and convert_legacy_problems follow, taken by the Makefile
-- from the released lane_google--2.0--2.1.sql as they are, then
-- convert-2.x-down-end.sql carries the users' grants to them and drops 2.2's
CREATE FUNCTION @extschema@._lg_carry_grants(from_fn regprocedure, to_fn regprocedure)
RETURNS void AS 'MODULE_PATHNAME', 'lg_carry_grants' LANGUAGE C STRICT;
REVOKE ALL ON FUNCTION @extschema@._lg_carry_grants(regprocedure, regprocedure) FROM PUBLIC;
DROP FUNCTION @extschema@.convert_legacy_missing(name, jsonb, text[], jsonb, text, name[]);
