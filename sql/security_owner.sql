--
-- Whose rights a source's code runs with (issue 17, finding 2).  A
-- low-privilege role owns the source schema and plants its own code where
-- convert_legacy() will run it: a view calling its function, a cast from
-- its column type, a cast of its type to json (the quarantine's row).  A
-- superuser's conversion, in every mode, and conversion_plan() must run it
-- as its owner (never as the superuser: the planted code would make its
-- owner a superuser), or not at all.  A caller that neither has the owner's
-- privileges nor is trusted by the owner's is refused, by name.
--
\set VERBOSITY terse
SET client_min_messages = warning;

CREATE EXTENSION lane_google;

-- Runs a statement; says how it failed: SQLSTATE, message, hint (the
-- superuser running the test named <superuser>, whatever its name)
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    msg text;
    hint text;
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
    RETURN replace(SQLSTATE || ': ' || msg || CASE WHEN hint <> '' THEN E'\nHINT: ' || hint ELSE '' END,
                   'role ' || quote_ident(session_user), 'role <superuser>');
END $$;

CREATE ROLE regress_lg_lowpriv;
CREATE SCHEMA lp AUTHORIZATION regress_lg_lowpriv;

SET ROLE regress_lg_lowpriv;
-- The planted code: says whose rights it runs with; given a superuser's, it
-- makes its owner one
CREATE FUNCTION lp.plant(what text) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RAISE WARNING 'planted % ran as %, search_path %', what,
        CASE WHEN current_user = 'regress_lg_lowpriv' THEN 'its owner' ELSE 'another role' END,
        pg_catalog.current_setting('search_path');
    IF (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
        EXECUTE 'ALTER ROLE regress_lg_lowpriv SUPERUSER';
    END IF;
    RETURN true;
END $$;
-- users: a view calling it, read through the executor
CREATE TABLE lp.users_data (id int, email varchar(255), username varchar(100),
                            password_hash varchar(255), salt varchar(32),
                            first_name varchar(100), last_name varchar(100));
INSERT INTO lp.users_data VALUES (1, 'a@example.com', 'a', 'h', 's', 'Ann', 'A'),
                                 (2, 'b@example.com', 'b', 'h', 's', 'Bob', 'B');
CREATE VIEW lp.users AS SELECT * FROM lp.users_data WHERE lp.plant('view');
-- conversations: a plain table (a heap scan), whose title is of the owner's
-- type, with the owner's assignment cast to the target's varchar and the
-- owner's cast to json (what the quarantine's row_to_json() calls)
CREATE TYPE lp.mood AS ENUM ('calm', 'angry');
CREATE FUNCTION lp.mood_text(m lp.mood) RETURNS varchar LANGUAGE plpgsql AS $$
BEGIN
    PERFORM lp.plant('cast');
    RETURN m::text;
END $$;
CREATE CAST (lp.mood AS varchar) WITH FUNCTION lp.mood_text(lp.mood) AS ASSIGNMENT;
CREATE FUNCTION lp.mood_json(m lp.mood) RETURNS json LANGUAGE plpgsql AS $$
BEGIN
    PERFORM lp.plant('json cast');
    RETURN pg_catalog.to_json(m::text);
END $$;
CREATE CAST (lp.mood AS json) WITH FUNCTION lp.mood_json(lp.mood);
CREATE TABLE lp.conversations (id int, user_id int, title lp.mood);
INSERT INTO lp.conversations VALUES (5, 2, 'calm');
RESET ROLE;

-- Who is a superuser, and what the targets hold
CREATE FUNCTION pg_temp.state() RETURNS TABLE (lowpriv_is_superuser boolean, users bigint,
                                               conversations bigint, quarantined bigint)
LANGUAGE sql AS $$
    SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_lg_lowpriv'),
           (SELECT count(*) FROM lane_google.users),
           (SELECT count(*) FROM lane_google.conversations),
           (SELECT count(*) FROM lane_google.legacy_quarantine)
$$;
CREATE FUNCTION pg_temp.empty_targets() RETURNS void LANGUAGE sql AS $$
    TRUNCATE lane_google.users, lane_google.accounts, lane_google.account_users,
             lane_google.campaigns, lane_google.ad_groups, lane_google.ads,
             lane_google.analytics_snapshots, lane_google.approval_requests,
             lane_google.budget_alerts, lane_google.conversations,
             lane_google.conversation_messages, lane_google.legacy_quarantine
$$;

--
-- A superuser converts the role's schema: every planted function runs as
-- its owner, with the restricted search_path of a security-restricted
-- operation
--
-- the plan: reads no row, runs none of it
SELECT object_type, object FROM lane_google.conversion_plan('lp') ORDER BY 1, 2;
SELECT * FROM pg_temp.state();
-- a dry run, and the problems
SELECT table_name, rows_read, rows_converted
  FROM lane_google.convert_legacy('lp', dry_run => true)
 WHERE table_name IN ('users', 'conversations') ORDER BY 1;
SELECT * FROM pg_temp.state();
SELECT * FROM lane_google.convert_legacy_problems('lp');
SELECT * FROM pg_temp.state();
-- on_orphan 'error' (the default): conversation 5's user is there
SELECT table_name, rows_read, rows_converted, rows_quarantined
  FROM lane_google.convert_legacy('lp') WHERE table_name IN ('users', 'conversations') ORDER BY 1;
SELECT * FROM pg_temp.state();
SELECT pg_temp.empty_targets();
-- an orphan: conversation 6's user 9 is missing; 'error' reads it all, then refuses
INSERT INTO lp.conversations VALUES (6, 9, 'angry');
SELECT pg_temp.try($$SELECT * FROM lane_google.convert_legacy('lp')$$);
SELECT * FROM pg_temp.state();
-- 'quarantine' and 'null' (a NOT NULL key: quarantined too) keep the row as
-- jsonb: the owner's cast to json
SELECT table_name, rows_read, rows_converted, rows_quarantined
  FROM lane_google.convert_legacy('lp', on_orphan => 'quarantine')
 WHERE table_name IN ('users', 'conversations') ORDER BY 1;
SELECT * FROM pg_temp.state();
SELECT reason, row_data FROM lane_google.legacy_quarantine;
SELECT pg_temp.empty_targets();
SELECT table_name, rows_read, rows_converted, rows_quarantined
  FROM lane_google.convert_legacy('lp', on_orphan => 'null')
 WHERE table_name IN ('users', 'conversations') ORDER BY 1;
SELECT * FROM pg_temp.state();
SELECT pg_temp.empty_targets();
DELETE FROM lp.conversations WHERE id = 6;
-- dependents => 'carry': a view of the role's over a source is carried
-- (re-created: no row of it is read)
SET ROLE regress_lg_lowpriv;
CREATE VIEW lp.conversation_titles AS SELECT id, title FROM lp.conversations WHERE lp.plant('carried view');
RESET ROLE;
SELECT object_type, object, action FROM lane_google.conversion_plan('lp') ORDER BY 1, 2;
SELECT * FROM pg_temp.state();
SELECT table_name, rows_read, rows_converted
  FROM lane_google.convert_legacy('lp', dependents => 'carry')
 WHERE table_name IN ('users', 'conversations') ORDER BY 1;
SELECT * FROM pg_temp.state();
SELECT pg_catalog.pg_get_userbyid(c.relowner) AS owner, pg_catalog.pg_get_viewdef(c.oid) LIKE '%lane_google.conversations%' AS reads_target
  FROM pg_class c WHERE c.oid = 'lp.conversation_titles'::regclass;
DROP VIEW lp.conversation_titles;
SELECT pg_temp.empty_targets();
-- a table of the role's referencing a source: the carry changes its column
-- to uuid (that re-checks only the constraints on the column, which the
-- plan refuses), and sets a reference to a row that was not converted NULL
-- by an UPDATE, which fires the table's UPDATE triggers and checks every
-- CHECK constraint, and keeps the row in the quarantine by to_jsonb(),
-- which calls its column types' casts to json: each with the caller's
-- rights.  One of the role's code is refused, named, nothing converted
SET ROLE regress_lg_lowpriv;
ALTER TABLE lp.conversations ADD PRIMARY KEY (id);
INSERT INTO lp.conversations VALUES (6, 9, 'angry');
CREATE TABLE lp.notes (id int, conversation_id int REFERENCES lp.conversations,
                       CONSTRAINT planted CHECK (lp.plant('check')));
INSERT INTO lp.notes VALUES (1, 5), (2, 6);
RESET ROLE;
SELECT object_type, object, reason FROM lane_google.conversion_plan('lp') ORDER BY 1, 2;
SELECT pg_temp.try($$SELECT * FROM lane_google.convert_legacy('lp', on_orphan => 'null', dependents => 'carry')$$);
SELECT * FROM pg_temp.state();
SET ROLE regress_lg_lowpriv;
ALTER TABLE lp.notes DROP CONSTRAINT planted;
CREATE FUNCTION lp.on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM lp.plant('update trigger');
    RETURN NEW;
END $$;
CREATE TRIGGER planted BEFORE UPDATE ON lp.notes FOR EACH ROW EXECUTE FUNCTION lp.on_update();
RESET ROLE;
SELECT pg_temp.try($$SELECT * FROM lane_google.convert_legacy('lp', on_orphan => 'null', dependents => 'carry')$$);
SELECT * FROM pg_temp.state();
SET ROLE regress_lg_lowpriv;
DROP TRIGGER planted ON lp.notes;
ALTER TABLE lp.notes ADD COLUMN mood lp.mood;
RESET ROLE;
SELECT pg_temp.try($$SELECT * FROM lane_google.convert_legacy('lp', on_orphan => 'null', dependents => 'carry')$$);
SELECT * FROM pg_temp.state();
SELECT * FROM lp.notes ORDER BY id;
-- without them: carried, the dangling reference set NULL, the row kept
SET ROLE regress_lg_lowpriv;
ALTER TABLE lp.notes DROP COLUMN mood;
RESET ROLE;
SELECT table_name, rows_read, rows_converted, rows_quarantined
  FROM lane_google.convert_legacy('lp', on_orphan => 'null', dependents => 'carry')
 WHERE table_name IN ('users', 'conversations') ORDER BY 1;
SELECT * FROM pg_temp.state();
SELECT id, conversation_id IS NOT NULL AS converted FROM lp.notes ORDER BY id;
SELECT table_name, reason FROM lane_google.legacy_quarantine ORDER BY 1;
SET ROLE regress_lg_lowpriv;
DROP TABLE lp.notes;
DELETE FROM lp.conversations WHERE id = 6;
ALTER TABLE lp.conversations DROP CONSTRAINT conversations_pkey;
RESET ROLE;
SELECT pg_temp.empty_targets();

--
-- The owner with FORCE ROW LEVEL SECURITY on a source read as the owner
-- through the executor (a table with inheritance children): a policy
-- would hide rows from the owner, refused
--
SET ROLE regress_lg_lowpriv;
CREATE TABLE lp.accounts (id int, name varchar(255), google_customer_id varchar(20));
CREATE TABLE lp.accounts_more () INHERITS (lp.accounts);
INSERT INTO lp.accounts VALUES (1, 'Acme', '123-456-7890');
INSERT INTO lp.accounts_more VALUES (2, 'More', '123-456-7891');
ALTER TABLE lp.accounts ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY only_acme ON lp.accounts USING (id = 1);
RESET ROLE;
SELECT pg_temp.try($$SELECT * FROM lane_google.convert_legacy('lp', dry_run => true)$$);
SET ROLE regress_lg_lowpriv;
ALTER TABLE lp.accounts NO FORCE ROW LEVEL SECURITY;
RESET ROLE;
SELECT table_name, rows_read FROM lane_google.convert_legacy('lp', dry_run => true)
 WHERE table_name = 'accounts';
SET ROLE regress_lg_lowpriv;
DROP TABLE lp.accounts CASCADE;
RESET ROLE;

--
-- A role with TRIGGER on a target adds a trigger calling its code: the
-- conversion's inserts would fire it with the caller's rights.  Refused,
-- naming it; SECURITY DEFINER (its owner's rights), it fires
--
GRANT USAGE ON SCHEMA lane_google TO regress_lg_lowpriv;
GRANT TRIGGER ON lane_google.users, lane_google.legacy_quarantine TO regress_lg_lowpriv;
SET ROLE regress_lg_lowpriv;
CREATE FUNCTION lp.on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM lp.plant('trigger');
    RETURN NULL;
END $$;
CREATE TRIGGER planted AFTER INSERT ON lane_google.users
    FOR EACH STATEMENT EXECUTE FUNCTION lp.on_insert();
RESET ROLE;
SELECT pg_temp.try($$SELECT * FROM lane_google.convert_legacy('lp', dry_run => true)$$);
SELECT * FROM pg_temp.state();
SET ROLE regress_lg_lowpriv;
ALTER FUNCTION lp.on_insert() SECURITY DEFINER;
RESET ROLE;
SELECT table_name, rows_read FROM lane_google.convert_legacy('lp', dry_run => true)
 WHERE table_name = 'users';
DROP TRIGGER planted ON lane_google.users;
-- the quarantine is written by an INSERT: its triggers too
SET ROLE regress_lg_lowpriv;
ALTER FUNCTION lp.on_insert() SECURITY INVOKER;
CREATE TRIGGER planted AFTER INSERT ON lane_google.legacy_quarantine
    FOR EACH ROW EXECUTE FUNCTION lp.on_insert();
RESET ROLE;
SELECT pg_temp.try($$SELECT * FROM lane_google.convert_legacy('lp', on_orphan => 'quarantine')$$);
SELECT * FROM pg_temp.state();
DROP TRIGGER planted ON lane_google.legacy_quarantine;
REVOKE ALL ON lane_google.users, lane_google.legacy_quarantine FROM regress_lg_lowpriv;

--
-- The owner converts its own schema (given the right to): the same
--
GRANT EXECUTE ON FUNCTION lane_google.convert_legacy(name, text, boolean, text, jsonb, text[], jsonb, text, text, name[])
   TO regress_lg_lowpriv;
GRANT USAGE ON SCHEMA lane_google TO regress_lg_lowpriv;
GRANT INSERT, SELECT ON ALL TABLES IN SCHEMA lane_google TO regress_lg_lowpriv;
SET ROLE regress_lg_lowpriv;
SELECT table_name, rows_read FROM lane_google.convert_legacy('lp', dry_run => true)
 WHERE table_name IN ('users', 'conversations') ORDER BY 1;
RESET ROLE;

--
-- A role that neither has the owner's privileges nor the owner its: its
-- rights are not lent to the owner's code, nor the owner's to it.  Refused,
-- naming the source and its owner, before any row is read
--
CREATE ROLE regress_lg_peer;
GRANT EXECUTE ON FUNCTION lane_google.convert_legacy(name, text, boolean, text, jsonb, text[], jsonb, text, text, name[])
   TO regress_lg_peer;
GRANT USAGE ON SCHEMA lane_google TO regress_lg_peer;
GRANT INSERT, SELECT ON ALL TABLES IN SCHEMA lane_google TO regress_lg_peer;
GRANT USAGE ON SCHEMA lp TO regress_lg_peer;
GRANT SELECT ON ALL TABLES IN SCHEMA lp TO regress_lg_peer;
SET ROLE regress_lg_peer;
SELECT pg_temp.try($$SELECT * FROM lane_google.convert_legacy('lp', dry_run => true)$$);
RESET ROLE;
-- a member of the owner reads as the owner
GRANT regress_lg_lowpriv TO regress_lg_peer;
SET ROLE regress_lg_peer;
SELECT table_name, rows_read FROM lane_google.convert_legacy('lp', dry_run => true)
 WHERE table_name IN ('users', 'conversations') ORDER BY 1;
RESET ROLE;
SELECT * FROM pg_temp.state();

REVOKE ALL ON ALL TABLES IN SCHEMA lane_google FROM regress_lg_peer, regress_lg_lowpriv;
REVOKE ALL ON SCHEMA lane_google FROM regress_lg_peer, regress_lg_lowpriv;
REVOKE ALL ON FUNCTION lane_google.convert_legacy(name, text, boolean, text, jsonb, text[], jsonb, text, text, name[])
  FROM regress_lg_peer, regress_lg_lowpriv;
DROP EXTENSION lane_google;
DROP SCHEMA IF EXISTS lane_google CASCADE;

--
-- The update carries the role's table referencing campaigns: its column's
-- type change re-checks only the constraints on the column (the plan
-- refuses those), never one calling the role's function elsewhere; the
-- update's role (a superuser) runs none of the role's code
--
CREATE EXTENSION lane_google VERSION '1.1';
INSERT INTO lane_google.users (id, email, username, password_hash, salt, first_name, last_name)
VALUES (1, 'a@example.com', 'a', 'h', 's', 'Ann', 'A');
INSERT INTO lane_google.accounts (id, name, google_customer_id) VALUES (1, 'Acme', '123-456-7890');
INSERT INTO lane_google.campaigns (id, account_id, created_by_id, name, customer_id)
VALUES (10, 1, 1, 'Spring', '123-456-7890');
GRANT USAGE ON SCHEMA lane_google TO regress_lg_lowpriv;
GRANT REFERENCES ON lane_google.campaigns TO regress_lg_lowpriv;
SET ROLE regress_lg_lowpriv;
CREATE TABLE lp.campaign_notes (id int, campaign_id int REFERENCES lane_google.campaigns,
                                CONSTRAINT planted CHECK (lp.plant('check in the update')),
                                CONSTRAINT planted_on_key CHECK (campaign_id IS NULL OR lp.plant('check on the key')));
INSERT INTO lp.campaign_notes VALUES (1, 10);
RESET ROLE;
SELECT object_type, object, reason FROM lane_google.conversion_plan() ORDER BY 1, 2;
SELECT pg_temp.try($$ALTER EXTENSION lane_google UPDATE TO '2.1'$$);
SET ROLE regress_lg_lowpriv;
ALTER TABLE lp.campaign_notes DROP CONSTRAINT planted_on_key;
RESET ROLE;
ALTER EXTENSION lane_google UPDATE TO '2.1';
SELECT * FROM pg_temp.state();
SELECT n.id, n.campaign_id = c.id AS converted FROM lp.campaign_notes n JOIN lane_google.campaigns c ON c.legacy_id = 10;

-- cleanup
REVOKE ALL ON ALL TABLES IN SCHEMA lane_google FROM regress_lg_lowpriv;
REVOKE ALL ON SCHEMA lane_google FROM regress_lg_lowpriv;
DROP TABLE lp.campaign_notes;
DROP EXTENSION lane_google;
DROP SCHEMA IF EXISTS lane_google CASCADE;
DROP SCHEMA lp CASCADE;
DROP ROLE regress_lg_peer;
DROP ROLE regress_lg_lowpriv;
