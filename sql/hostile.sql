--
-- Hostile and bad input: each case fails with a clear error (SQLSTATE and a
-- message naming the thing) and changes nothing, or works as it should.
-- Identifiers with quotes, spaces, semicolons, mixed case and the longest a
-- name can be; the extension's own schema as source; NULL for every
-- argument of every function; objects planted in public by an unprivileged
-- role under the names the scripts and functions use (search_path capture);
-- a schema of the extension's name created beforehand by such a role.
--
\set VERBOSITY terse

CREATE EXTENSION lane_google VERSION '1.0';
SELECT lane_google.set_legacy_namespace('6ba7b810-9dad-11d1-80b4-00c04fd430c8');
INSERT INTO lane_google.users (id, email, username, password_hash, salt, first_name, last_name)
VALUES (1, 'o''brien@example.com', 'o''brien', 'h', 's', 'Seán', 'O''Brien; DROP TABLE x; --'),
       (2, 'b@example.com', 'b', 'h', 's', 'B', 'B');
INSERT INTO lane_google.accounts (id, name, google_customer_id) VALUES (1, 'A "quoted" name', 'c-1');
INSERT INTO lane_google.account_users (id, account_id, user_id, invited_by) VALUES (1, 1, 1, 2);
INSERT INTO lane_google.campaigns (id, account_id, created_by_id, name, customer_id)
VALUES (1, 1, 1, 'C', 'c-1');
INSERT INTO lane_google.conversations (id, user_id, title) VALUES (1, 2, E'tab\there');
INSERT INTO lane_google.conversation_messages (id, conversation_id, role, content)
VALUES (1, 1, 'user', E'back\\slash ''quote'' "dq"');

-- A template of the legacy layout, with these rows
CREATE SCHEMA tpl;
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['users', 'accounts', 'account_users', 'campaigns', 'ad_groups', 'ads',
                             'analytics_snapshots', 'approval_requests', 'budget_alerts',
                             'conversations', 'conversation_messages'] LOOP
        EXECUTE format('CREATE TABLE tpl.%I AS SELECT * FROM lane_google.%I', t, t);
    END LOOP;
END $$;
ALTER EXTENSION lane_google UPDATE TO '2.0';
TRUNCATE lane_google.users, lane_google.accounts CASCADE;

-- A copy of the template in a schema of the given name
CREATE FUNCTION public.lg_source(nsp text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE t text;
BEGIN
    EXECUTE format('CREATE SCHEMA %I', nsp);
    FOREACH t IN ARRAY ARRAY['users', 'accounts', 'account_users', 'campaigns', 'ad_groups', 'ads',
                             'analytics_snapshots', 'approval_requests', 'budget_alerts',
                             'conversations', 'conversation_messages'] LOOP
        EXECUTE format('CREATE TABLE %I.%I AS SELECT * FROM tpl.%I', nsp, t, t);
    END LOOP;
END $$;

-- Runs a statement, and says how it failed: SQLSTATE and message
CREATE FUNCTION public.lg_try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- Progress NOTICEs off; errors with their DETAIL and HINT, and SQLSTATE
SET client_min_messages = warning;
\set VERBOSITY default
\set SHOW_CONTEXT never

-- Rows in the extension's tables and quarantine: "nothing changed" is 0
CREATE FUNCTION public.lg_rows() RETURNS bigint LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM lane_google.users) + (SELECT count(*) FROM lane_google.accounts)
         + (SELECT count(*) FROM lane_google.account_users) + (SELECT count(*) FROM lane_google.campaigns)
         + (SELECT count(*) FROM lane_google.conversations)
         + (SELECT count(*) FROM lane_google.conversation_messages)
         + (SELECT count(*) FROM lane_google.legacy_quarantine)
$$;

--
-- Hostile schema names convert like any other (dry runs), and one for real
--
SELECT public.lg_source('we"ird; sch ema');
SELECT public.lg_source('Mixed Case');
SELECT public.lg_source('x''); DROP TABLE lane_google.users; --');
SELECT public.lg_source(repeat('l', 63));
SELECT public.lg_source(repeat('ß', 31));
SELECT n.nspname, length(n.nspname) AS chars, octet_length(n.nspname) AS bytes,
       sum(c.rows_converted) AS rows
  FROM pg_namespace n,
       LATERAL lane_google.convert_legacy(n.nspname, dry_run => true) AS c
 WHERE n.nspname IN ('we"ird; sch ema', 'Mixed Case', 'x''); DROP TABLE lane_google.users; --',
                     repeat('l', 63), repeat('ß', 31))
 GROUP BY 1 ORDER BY 1;
SELECT public.lg_rows() AS rows_after_dry_runs;
-- a name longer than NAMEDATALEN-1 is truncated as every identifier is
SELECT sum(rows_converted) FROM lane_google.convert_legacy(repeat('l', 70), dry_run => true);
SELECT table_name, rows_read, rows_converted, rows_quarantined
  FROM lane_google.convert_legacy('we"ird; sch ema') ORDER BY 1;
SELECT count(*) AS keys_mapped FROM lane_google.users
 WHERE id = lane_google.legacy_uuid('users', legacy_id);
SELECT last_name FROM lane_google.users ORDER BY legacy_id;
SELECT content FROM lane_google.conversation_messages;
TRUNCATE lane_google.users, lane_google.accounts CASCADE;

--
-- Sources that cannot convert: one clear error, nothing changed
--
-- a mixed-case table where the lower-case one is expected
ALTER TABLE "Mixed Case".users RENAME TO "Users";
SELECT * FROM lane_google.convert_legacy('Mixed Case');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- a sequence where a table is expected (a view with the right layout is a
-- source like a table: sql/convert_sources.sql)
ALTER TABLE "Mixed Case"."Users" RENAME TO users;
ALTER TABLE "Mixed Case".ads RENAME TO ads_table;
CREATE VIEW "Mixed Case".ads AS SELECT * FROM "Mixed Case".ads_table;
ALTER TABLE "Mixed Case".accounts RENAME TO accounts_table;
CREATE SEQUENCE "Mixed Case".accounts;
SELECT * FROM lane_google.convert_legacy('Mixed Case');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- the extension's own schema, an absent one, one of the catalogs
SELECT * FROM lane_google.convert_legacy('lane_google');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM lane_google.convert_legacy('no such schema');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM lane_google.convert_legacy('pg_catalog');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- keys that are neither integers nor UUIDs, whatever they hold
ALTER TABLE "we""ird; sch ema".users ALTER COLUMN id TYPE text;
UPDATE "we""ird; sch ema".users SET id = '1''; DROP TABLE lane_google.users; --' WHERE id = '1';
SELECT * FROM lane_google.convert_legacy('we"ird; sch ema');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
UPDATE "we""ird; sch ema".users SET id = repeat('9', 200) WHERE id <> '2';
SELECT * FROM lane_google.convert_legacy('we"ird; sch ema');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- on_orphan values that are not one of the three
SELECT * FROM lane_google.convert_legacy('Mixed Case', 'error; DROP TABLE lane_google.users');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM lane_google.convert_legacy('Mixed Case', '');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM lane_google.convert_legacy('Mixed Case', 'QUARANTINE');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT public.lg_rows() AS rows_after_errors;

--
-- NULL for every argument of every function
--
SELECT * FROM lane_google.convert_legacy(NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM lane_google.convert_legacy('Mixed Case', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM lane_google.convert_legacy('Mixed Case', 'error', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT lane_google.legacy_uuid(NULL, 1) IS NULL AS legacy_uuid_null_table;
SELECT lane_google.legacy_uuid('users', NULL) IS NULL AS legacy_uuid_null_id;
SELECT lane_google.legacy_uuid('no such table', 1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT lane_google.legacy_uuid('Users', 1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT lane_google.legacy_id_of(NULL, '00000000-0000-0000-0000-000000000000') IS NULL AS legacy_id_of_null_table;
SELECT lane_google.legacy_id_of('users', NULL) IS NULL AS legacy_id_of_null_id;
SELECT lane_google.legacy_id_of('users; DROP TABLE x', '00000000-0000-0000-0000-000000000000');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT lane_google.uuid_v7_to_timestamptz(NULL) IS NULL AS v7_null;
SELECT count(*) FROM lane_google.validate_fk_integrity(NULL);
SELECT count(*) FROM lane_google.validate_fk_integrity('lane_google', NULL);
-- STRICT: a NULL namespace is no call at all; the namespace stays
SELECT lane_google.set_legacy_namespace(NULL);
SELECT lane_google.legacy_namespace();
SELECT public.lg_rows() AS rows_after_nulls;

--
-- Objects planted in public by an unprivileged role under the names the
-- scripts and functions use.  (PostgreSQL 15 no longer lets PUBLIC create
-- in schema public; a database that still does is the case to defend.)
--
CREATE ROLE regress_lg_hostile;
GRANT CREATE ON SCHEMA public TO regress_lg_hostile;
SET ROLE regress_lg_hostile;
CREATE TABLE public.captured (what text);
GRANT INSERT, SELECT ON public.captured TO PUBLIC;
CREATE FUNCTION public.lg_capture(what text) RETURNS boolean LANGUAGE sql AS
    $$ INSERT INTO public.captured VALUES (what) RETURNING true $$;
CREATE FUNCTION public.uuid_generate_v7() RETURNS uuid LANGUAGE sql AS
    $$ SELECT public.lg_capture('uuid_generate_v7'); SELECT '00000000-0000-0000-0000-000000000000'::uuid $$;
CREATE FUNCTION public.legacy_uuid(text, bigint) RETURNS uuid LANGUAGE sql AS
    $$ SELECT public.lg_capture('legacy_uuid'); SELECT '00000000-0000-0000-0000-000000000000'::uuid $$;
CREATE FUNCTION public.legacy_namespace() RETURNS uuid LANGUAGE sql AS
    $$ SELECT public.lg_capture('legacy_namespace'); SELECT '00000000-0000-0000-0000-000000000000'::uuid $$;
CREATE FUNCTION public.validate_fk_integrity(name) RETURNS SETOF record LANGUAGE sql AS
    $$ SELECT public.lg_capture('validate_fk_integrity'); SELECT NULL::record WHERE false $$;
CREATE FUNCTION public.gen_random_uuid() RETURNS uuid LANGUAGE sql AS
    $$ SELECT public.lg_capture('gen_random_uuid'); SELECT '00000000-0000-0000-0000-000000000000'::uuid $$;
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql AS
    $$ SELECT public.lg_capture('now'); SELECT 'epoch'::timestamptz $$;
CREATE FUNCTION public.clock_timestamp() RETURNS timestamptz LANGUAGE sql AS
    $$ SELECT public.lg_capture('clock_timestamp'); SELECT 'epoch'::timestamptz $$;
CREATE FUNCTION public.current_setting(text) RETURNS text LANGUAGE sql AS
    $$ SELECT public.lg_capture('current_setting'); SELECT 'read committed' $$;
CREATE FUNCTION public.format(text, text) RETURNS text LANGUAGE sql AS
    $$ SELECT public.lg_capture('format'); SELECT $1 $$;
CREATE FUNCTION public.setval(regclass, bigint, boolean) RETURNS bigint LANGUAGE sql AS
    $$ SELECT public.lg_capture('setval'); SELECT 1::bigint $$;
CREATE FUNCTION public.pg_get_serial_sequence(text, text) RETURNS text LANGUAGE sql AS
    $$ SELECT public.lg_capture('pg_get_serial_sequence'); SELECT NULL::text $$;
CREATE FUNCTION public.lg_eq(uuid, uuid) RETURNS boolean LANGUAGE sql AS
    $$ SELECT public.lg_capture('uuid = uuid') AND $1::text = $2::text $$;
CREATE OPERATOR public.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = public.lg_eq);
CREATE FUNCTION public.lg_eq(bigint, bigint) RETURNS boolean LANGUAGE sql AS
    $$ SELECT public.lg_capture('bigint = bigint') AND $1::text = $2::text $$;
CREATE OPERATOR public.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.lg_eq);
CREATE TABLE public.legacy_config (root_namespace uuid, set_at timestamptz);
INSERT INTO public.legacy_config VALUES ('00000000-0000-0000-0000-000000000000', 'epoch');
CREATE TABLE public.legacy_quarantine (id int, table_name text, reason text, row_data jsonb);
CREATE TABLE public.users (id int);
GRANT ALL ON public.legacy_config, public.legacy_quarantine, public.users TO PUBLIC;
RESET ROLE;

-- Every function and script run by a superuser whose search_path puts
-- public before pg_catalog: nothing planted is ever called or written
SET search_path = public, pg_catalog;
\set VERBOSITY terse
SELECT sum(rows_converted) FROM lane_google.convert_legacy('x''); DROP TABLE lane_google.users; --', dry_run => true);
SELECT sum(rows_converted) FROM lane_google.convert_legacy('x''); DROP TABLE lane_google.users; --', 'quarantine');
SELECT lane_google.legacy_namespace() OPERATOR(pg_catalog.=) '6ba7b810-9dad-11d1-80b4-00c04fd430c8' AS namespace_kept;
SELECT lane_google.legacy_uuid('users', 1) OPERATOR(pg_catalog.=) (SELECT id FROM lane_google.users
                                                    WHERE legacy_id OPERATOR(pg_catalog.=) 1) AS mapping_kept;
SELECT lane_google.legacy_id_of('users', lane_google.legacy_uuid('users', 1));
SELECT lane_google.legacy_id_of('users', '00000000-0000-0000-0000-000000000000') IS NULL AS unknown_uuid;
SELECT count(*) FROM lane_google.validate_fk_integrity();
ALTER EXTENSION lane_google UPDATE TO '1.0';
ALTER EXTENSION lane_google UPDATE TO '2.0';
INSERT INTO lane_google.accounts (name, google_customer_id) VALUES ('new', 'c-new');
DROP EXTENSION lane_google CASCADE;
CREATE EXTENSION lane_google VERSION '1.0';
ALTER EXTENSION lane_google UPDATE TO '2.0';
RESET search_path;
SELECT * FROM public.captured;
SELECT count(*) AS planted_namespace_untouched FROM public.legacy_config
 WHERE root_namespace = '00000000-0000-0000-0000-000000000000';
SELECT count(*) AS planted_tables_untouched
  FROM public.users, public.legacy_quarantine;
DROP EXTENSION lane_google CASCADE;
DROP SCHEMA IF EXISTS lane_google CASCADE;

\set VERBOSITY default
--
-- A schema of the extension's name, created beforehand by an unprivileged
-- role: its owner could drop and replace the extension's tables (the
-- namespace among them), so the extension refuses to install there
--
SELECT current_database() AS db \gset
GRANT CREATE ON DATABASE :"db" TO regress_lg_hostile;
SET ROLE regress_lg_hostile;
CREATE SCHEMA lane_google;
RESET ROLE;
CREATE EXTENSION lane_google;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
CREATE EXTENSION lane_google VERSION '1.0';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) AS installed FROM pg_extension WHERE extname = 'lane_google';
DROP SCHEMA lane_google;
REVOKE CREATE ON DATABASE :"db" FROM regress_lg_hostile;

\set VERBOSITY default
-- cleanup
DROP OWNED BY regress_lg_hostile CASCADE;
DROP ROLE regress_lg_hostile;
DROP FUNCTION public.lg_source(text), public.lg_try(text), public.lg_rows();
DO $$
DECLARE n text;
BEGIN
    FOREACH n IN ARRAY ARRAY['tpl', 'we"ird; sch ema', 'Mixed Case', 'x''); DROP TABLE lane_google.users; --',
                             repeat('l', 63), repeat('ß', 31)] LOOP
        EXECUTE format('DROP SCHEMA %I CASCADE', n);
    END LOOP;
END $$;
