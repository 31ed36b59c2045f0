--
-- The compatibility views (schema lane_google_v1) read and write as the
-- role that uses them (issue 17, finding 3): its privileges on the tables
-- under them and their row-level security policies apply, before the swap
-- (views over the 1.x tables) and after it (views over the 2.x tables, with
-- the INSTEAD OF INSERT trigger).  The application's role is granted on the
-- views as the README says; a policy on campaigns lets it see only the
-- campaign named 'Spring'.
--
\set VERBOSITY terse
-- the swap's NOTICE (with its timings) is said at the session's own level
SELECT current_database() AS db \gset
ALTER DATABASE :"db" SET client_min_messages = warning;
\c
\set VERBOSITY terse

CREATE EXTENSION lane_google VERSION '1.1';

-- Runs a statement; says how it failed: SQLSTATE and message
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

INSERT INTO lane_google.users (id, email, username, password_hash, salt, first_name, last_name)
VALUES (1, 'a@example.com', 'a', 'h', 's', 'Ann', 'A'),
       (2, 'b@example.com', 'b', 'h', 's', 'Bob', 'B');
INSERT INTO lane_google.accounts (id, name, google_customer_id) VALUES (1, 'Acme', '123-456-7890');
INSERT INTO lane_google.campaigns (id, account_id, created_by_id, name, customer_id, status)
VALUES (10, 1, 1, 'Spring', '123-456-7890', 'active'),
       (20, 1, 2, 'Brand', '123-456-7890', 'draft');
SELECT setval(pg_get_serial_sequence('lane_google.campaigns', 'id'), 20);

CREATE ROLE regress_lg_app;
ALTER TABLE lane_google.campaigns ENABLE ROW LEVEL SECURITY;
CREATE POLICY app_spring ON lane_google.campaigns TO regress_lg_app
    USING (name = 'Spring') WITH CHECK (name = 'Spring');

SELECT lane_google.online_start();
-- not definer's rights views
SELECT c.relname, c.reloptions FROM pg_class c
 WHERE c.relnamespace = 'lane_google_v1'::regnamespace AND c.relname IN ('campaigns', 'users')
 ORDER BY 1;
-- what the README says to grant
GRANT USAGE ON SCHEMA lane_google_v1 TO regress_lg_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA lane_google_v1 TO regress_lg_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA lane_google_v1 TO regress_lg_app;

--
-- Before the swap.  Without privileges on the tables: refused
--
SET ROLE regress_lg_app;
SELECT pg_temp.try('SELECT count(*) FROM lane_google_v1.campaigns');
SELECT pg_temp.try($$UPDATE lane_google_v1.campaigns SET name = name || '!'$$);
RESET ROLE;
SELECT id, name FROM lane_google.campaigns ORDER BY id;
-- with them: the policy's rows only
GRANT USAGE ON SCHEMA lane_google TO regress_lg_app;
GRANT SELECT, UPDATE ON lane_google.campaigns TO regress_lg_app;
SET ROLE regress_lg_app;
SELECT id, name FROM lane_google_v1.campaigns ORDER BY id;
UPDATE lane_google_v1.campaigns SET status = 'paused';
SELECT pg_temp.try($$UPDATE lane_google_v1.campaigns SET name = 'Autumn' WHERE id = 10$$);
RESET ROLE;
SELECT id, name, status FROM lane_google.campaigns ORDER BY id;

--
-- The swap
--
CALL lane_google.online_backfill();
ALTER EXTENSION lane_google UPDATE TO '2.1';
SELECT c.relname, c.reloptions FROM pg_class c
 WHERE c.relnamespace = 'lane_google_v1'::regnamespace AND c.relname IN ('campaigns', 'users')
 ORDER BY 1;
-- the policy went with the table; the grants on the views are those on
-- the views they replace
SELECT polname, pg_get_expr(polqual, polrelid) FROM pg_policy
 WHERE polrelid = 'lane_google.campaigns'::regclass;
SELECT c.relname,
       has_table_privilege('regress_lg_app', c.oid, 'SELECT, INSERT, UPDATE, DELETE') AS app_granted
  FROM pg_class c
 WHERE c.relnamespace = 'lane_google_v1'::regnamespace AND c.relname IN ('campaigns', 'users')
 ORDER BY 1;

--
-- After the swap.  Reading the views needs the tables their ids come from:
-- the foreign keys are read through the parents' legacy_id
--
SET ROLE regress_lg_app;
SELECT pg_temp.try('SELECT count(*) FROM lane_google_v1.campaigns');
RESET ROLE;
GRANT SELECT ON lane_google.users, lane_google.accounts TO regress_lg_app;
SET ROLE regress_lg_app;
SELECT id, account_id, created_by_id, name, status FROM lane_google_v1.campaigns ORDER BY id;
UPDATE lane_google_v1.campaigns SET status = 'active';
SELECT pg_temp.try($$UPDATE lane_google_v1.campaigns SET name = 'Autumn' WHERE id = 10$$);
-- without DELETE on the table: refused; with it, Brand is not the role's
-- to delete: no row
DELETE FROM lane_google_v1.campaigns WHERE id = 20;
RESET ROLE;
GRANT DELETE ON lane_google.campaigns TO regress_lg_app;
SET ROLE regress_lg_app;
DELETE FROM lane_google_v1.campaigns WHERE id = 20;
-- inserts through _compat_write(): the caller's INSERT, the policy's WITH CHECK
SELECT pg_temp.try($$INSERT INTO lane_google_v1.campaigns (account_id, created_by_id, name, customer_id)
                     VALUES (1, 1, 'Spring', '123-456-7890')$$);
RESET ROLE;
GRANT INSERT ON lane_google.campaigns TO regress_lg_app;
GRANT EXECUTE ON FUNCTION lane_google.legacy_uuid(text, bigint) TO regress_lg_app;
SET ROLE regress_lg_app;
SELECT pg_temp.try($$INSERT INTO lane_google_v1.campaigns (account_id, created_by_id, name, customer_id)
                     VALUES (1, 1, 'Brand', '123-456-7890')$$);
INSERT INTO lane_google_v1.campaigns (account_id, created_by_id, name, customer_id)
VALUES (1, 1, 'Spring', '123-456-7890');
SELECT id, name, status FROM lane_google_v1.campaigns ORDER BY id;
RESET ROLE;
SELECT legacy_id, name, status FROM lane_google.campaigns ORDER BY legacy_id;

-- cleanup
SELECT lane_google.drop_compat();
DROP EXTENSION lane_google;
DROP SCHEMA IF EXISTS lane_google CASCADE;
DROP ROLE regress_lg_app;
ALTER DATABASE :"db" RESET client_min_messages;
