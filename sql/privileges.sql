--
-- Privileges: what PUBLIC may do with lane_google, and that an unprivileged
-- role can neither read the legacy namespace (what makes legacy ids
-- unguessable) nor any row, nor run or steer a conversion.
--
\set VERBOSITY terse

CREATE EXTENSION lane_google VERSION '1.0';
INSERT INTO lane_google.users (id, email, username, password_hash, salt, first_name, last_name)
VALUES (1, 'a@example.com', 'a', 'secret-hash', 'salt', 'Ann', 'A');
CREATE SCHEMA legacy_src;
CREATE TABLE legacy_src.users AS SELECT * FROM lane_google.users;
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['accounts', 'account_users', 'campaigns', 'ad_groups', 'ads',
                             'analytics_snapshots', 'approval_requests', 'budget_alerts',
                             'conversations', 'conversation_messages'] LOOP
        EXECUTE format('CREATE TABLE legacy_src.%I AS SELECT * FROM lane_google.%I', t, t);
    END LOOP;
END $$;
ALTER EXTENSION lane_google UPDATE TO '2.0';
DELETE FROM lane_google.users;

CREATE ROLE regress_lg_nobody;
CREATE ROLE regress_lg_delegate;
GRANT USAGE ON SCHEMA legacy_src TO regress_lg_delegate;

-- Runs a statement, and says how it failed: SQLSTATE and message
CREATE FUNCTION public.lg_try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- The extension's functions an unprivileged role may execute: none that
-- reads or writes the namespace, converts, or validates
SELECT p.oid::regprocedure::text AS executable_by_public
  FROM pg_proc p
 WHERE p.pronamespace = 'lane_google'::regnamespace
   AND has_function_privilege('regress_lg_nobody', p.oid, 'EXECUTE')
 ORDER BY 1;

-- No SECURITY DEFINER function at all (so none without a pinned search_path)
SELECT p.oid::regprocedure, p.proconfig
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
   AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'lane_google')
   AND p.prosecdef;

-- No table, sequence or view of the extension grants anything to anyone but
-- its owner
SELECT c.oid::regclass::text AS granted_to_others
  FROM pg_class c
 WHERE c.relnamespace = 'lane_google'::regnamespace
   AND EXISTS (SELECT 1 FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner)
 ORDER BY 1;
SELECT c.relname, has_table_privilege('regress_lg_nobody', c.oid, 'SELECT') AS nobody_can_read
  FROM pg_class c
 WHERE c.relnamespace = 'lane_google'::regnamespace AND c.relkind = 'r'
   AND c.relname IN ('legacy_config', 'legacy_quarantine', 'users')
 ORDER BY 1;

--
-- An unprivileged role
--
SET ROLE regress_lg_nobody;
SELECT public.lg_try('SELECT * FROM lane_google.legacy_config');
SELECT public.lg_try('SELECT lane_google.legacy_namespace()');
SELECT public.lg_try($$SELECT lane_google.legacy_uuid('users', 1)$$);
SELECT public.lg_try($$SELECT lane_google.set_legacy_namespace('00000000-0000-0000-0000-000000000000')$$);
SELECT public.lg_try($$SELECT * FROM lane_google.convert_legacy('legacy_src')$$);
SELECT public.lg_try($$SELECT * FROM lane_google.convert_legacy('legacy_src', dry_run => true)$$);
SELECT public.lg_try('SELECT * FROM lane_google.validate_fk_integrity()');
SELECT public.lg_try('SELECT * FROM lane_google.users');
SELECT public.lg_try('SELECT * FROM lane_google.legacy_quarantine');
SELECT public.lg_try($$SELECT lane_google.legacy_id_of('users', '00000000-0000-0000-0000-000000000000')$$);
SELECT public.lg_try($$ALTER EXTENSION lane_google UPDATE TO '1.0'$$);
SELECT public.lg_try('DROP EXTENSION lane_google');
SELECT public.lg_try('CREATE TABLE lane_google.planted (x int)');
SELECT public.lg_try('CREATE FUNCTION lane_google.legacy_namespace(int) RETURNS int LANGUAGE sql AS $f$SELECT 1$f$');
SELECT public.lg_try('ALTER TABLE lane_google.legacy_config RENAME TO x');
SELECT public.lg_try('DROP TABLE lane_google.legacy_config');
-- what PUBLIC may use
SELECT lane_google.uuid_v7_to_timestamptz(lane_google.uuid_generate_v7()) IS NOT NULL AS v7_works;
RESET ROLE;

--
-- A role allowed to run convert_legacy still needs SELECT on every source
-- table and INSERT on every target; without them nothing changes
--
GRANT EXECUTE ON FUNCTION lane_google.convert_legacy(name, text, boolean) TO regress_lg_delegate;
SET ROLE regress_lg_delegate;
SELECT public.lg_try($$SELECT * FROM lane_google.convert_legacy('legacy_src')$$);
RESET ROLE;
GRANT SELECT ON ALL TABLES IN SCHEMA legacy_src TO regress_lg_delegate;
SET ROLE regress_lg_delegate;
SELECT public.lg_try($$SELECT * FROM lane_google.convert_legacy('legacy_src')$$);
-- and still cannot read the namespace or the rows it would write
SELECT public.lg_try('SELECT lane_google.legacy_namespace()');
SELECT public.lg_try('SELECT * FROM lane_google.legacy_config');
RESET ROLE;
SELECT count(*) AS rows_in_targets FROM lane_google.users;
SELECT count(*) AS namespaces FROM lane_google.legacy_config;

-- cleanup
DROP FUNCTION public.lg_try(text);
DROP EXTENSION lane_google CASCADE;
DROP SCHEMA IF EXISTS lane_google CASCADE;
DROP SCHEMA legacy_src CASCADE;
DROP ROLE regress_lg_nobody;
DROP ROLE regress_lg_delegate;
