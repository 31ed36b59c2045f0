
-- the way back from 1.2 and 2.2: the functions of online-common.sql
DROP FUNCTION @extschema@.online_readiness();
DROP FUNCTION @extschema@.compat_sessions();
