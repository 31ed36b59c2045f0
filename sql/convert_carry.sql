--
-- convert_legacy(..., dependents => 'carry'): the cut-over.  The
-- application's other tables, views and registered columns point at its
-- legacy tables; the carry moves them onto the extension's tables in the
-- transaction of the last catch-up (README "Converting your application's
-- database", step 5).  Before it, catch-up runs leave them alone.
--
\set VERBOSITY terse
CREATE EXTENSION lane_google;
SET search_path = lane_google;
SELECT set_legacy_namespace('6ba7b810-9dad-11d1-80b4-00c04fd430c8');

-- the application's legacy tables (nickname has no place in lane_google)
CREATE SCHEMA legacy;
CREATE TABLE legacy.users (
    id integer PRIMARY KEY, email text NOT NULL UNIQUE, username text NOT NULL,
    password_hash text NOT NULL, salt text NOT NULL,
    first_name text NOT NULL, last_name text NOT NULL, nickname text);
CREATE TABLE legacy.accounts (
    id integer PRIMARY KEY, name text NOT NULL, google_customer_id text NOT NULL);
CREATE TABLE legacy.campaigns (
    id integer PRIMARY KEY, account_id integer NOT NULL REFERENCES legacy.accounts,
    created_by_id integer REFERENCES legacy.users, name text NOT NULL, customer_id text NOT NULL);
INSERT INTO legacy.users VALUES
    (1, 'ann@example.com', 'ann', 'h', 's', 'Ann', 'A', 'annie'),
    (2, 'bob@example.com', 'bob', 'h', 's', 'Bob', 'B', NULL);
INSERT INTO legacy.accounts VALUES (1, 'Acme', '111-111-1111');
INSERT INTO legacy.campaigns VALUES
    (10, 1, 1, 'Spring', '111'), (11, 1, 2, 'Summer', '111'), (12, 1, NULL, 'Winter', '111');

-- the application's other tables, in another schema: a foreign key (with
-- its actions and deferrability), a registered reference held as text, two
-- views, one of them joining a referencing table
CREATE SCHEMA app;
CREATE TABLE app.sessions (
    id serial PRIMARY KEY,
    user_id integer REFERENCES legacy.users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    token text NOT NULL);
CREATE INDEX sessions_user_id_idx ON app.sessions (user_id);
INSERT INTO app.sessions (user_id, token) VALUES (1, 'a1'), (1, 'a2'), (2, 'b1'), (NULL, 'anon');
CREATE TABLE app.audit_logs (id serial PRIMARY KEY, resource_id text, what text);
INSERT INTO app.audit_logs (resource_id, what)
    VALUES ('10', 'created'), (' 11 ', 'paused'), (NULL, 'login'), ('99', 'deleted long ago');
CREATE VIEW app.campaign_owners AS
    SELECT c.id AS campaign_id, c.name, u.id AS owner_id, u.email
      FROM legacy.campaigns c LEFT JOIN legacy.users u ON u.id = c.created_by_id;
CREATE VIEW app.session_users AS
    SELECT s.token, s.user_id, u.email FROM app.sessions s JOIN legacy.users u ON u.id = s.user_id;
GRANT SELECT ON app.campaign_owners TO PUBLIC;
CREATE MATERIALIZED VIEW app.campaigns_per_account AS
    SELECT account_id, count(*) AS campaigns FROM legacy.campaigns GROUP BY account_id;
CREATE UNIQUE INDEX campaigns_per_account_key ON app.campaigns_per_account (account_id);
-- 'schema.table' names a legacy table of the application's (convert_legacy's source)
SELECT add_legacy_reference('app.audit_logs', 'resource_id', 'legacy.campaigns');
SELECT add_legacy_reference('app.audit_logs', 'what', 'legacy.campaigns');
SELECT add_legacy_reference('legacy.campaigns', 'name', 'legacy.users');
SELECT add_legacy_reference('app.audit_logs', 'resource_id', 'legacy.nosuch');
SELECT tab, col, referenced, legacy_type, declared FROM legacy_references;
-- the update's own plan (2.1 -> 1.1) leaves them to convert_legacy
SELECT count(*) FROM conversion_plan();

-- the plan of the carry: what convert_legacy(..., dependents => 'carry') will do
SELECT object_type, object, depends_on, action, reason FROM conversion_plan('legacy') ORDER BY 1, 2;

-- a first run, and a catch-up: the dependents stay on the legacy tables
SET client_min_messages = warning;
SELECT table_name, rows_read, rows_converted
  FROM convert_legacy('legacy', ignore_columns => '{users.nickname}') WHERE rows_read > 0;
INSERT INTO legacy.users VALUES (3, 'cy@example.com', 'cy', 'h', 's', 'Cy', 'C', NULL);
INSERT INTO app.sessions (user_id, token) VALUES (3, 'c1');
SELECT table_name, rows_read, rows_converted, rows_unchanged
  FROM convert_legacy('legacy', ignore_columns => '{users.nickname}') WHERE rows_read > 0;
RESET client_min_messages;
SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'sessions_user_id_fkey';
SELECT attrelid::regclass, attname, format_type(atttypid, NULL) FROM pg_attribute
 WHERE (attrelid, attname) IN (('app.sessions'::regclass, 'user_id'), ('app.audit_logs'::regclass, 'resource_id'))
 ORDER BY 1, 2;

-- the carry alters the application's tables and re-creates its views: a
-- caller who may convert but does not own them is refused before any row
CREATE ROLE regress_lg_carrier;
GRANT USAGE, CREATE ON SCHEMA lane_google, legacy, app TO regress_lg_carrier;
GRANT EXECUTE ON FUNCTION convert_legacy(name, text, boolean, text, jsonb, text[], jsonb, text, text, name[])
    TO regress_lg_carrier;
GRANT SELECT ON ALL TABLES IN SCHEMA legacy, app TO regress_lg_carrier;
GRANT ALL ON ALL TABLES IN SCHEMA lane_google TO regress_lg_carrier;
SET ROLE regress_lg_carrier;
SELECT * FROM convert_legacy('legacy', ignore_columns => '{users.nickname}', dependents => 'carry');
RESET ROLE;
DROP OWNED BY regress_lg_carrier;
DROP ROLE regress_lg_carrier;

-- what the carry cannot re-point is refused by name before any row is
-- read (no table's NOTICE), and the database is as it was
CREATE VIEW app.nicknames AS SELECT id, nickname FROM legacy.users;
CREATE FUNCTION app.user_count() RETURNS bigint LANGUAGE sql
    BEGIN ATOMIC SELECT count(*) FROM legacy.users; END;
\set VERBOSITY default
SELECT * FROM convert_legacy('legacy', ignore_columns => '{users.nickname}', dependents => 'carry');
\set VERBOSITY terse
SELECT object_type, object, reason FROM conversion_plan('legacy') WHERE reason IS NOT NULL ORDER BY 1, 2;
SELECT attrelid::regclass, attname, format_type(atttypid, NULL) FROM pg_attribute
 WHERE (attrelid, attname) IN (('app.sessions'::regclass, 'user_id'), ('app.audit_logs'::regclass, 'resource_id'))
 ORDER BY 1, 2;
SELECT count(*) FROM users;
SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'sessions_user_id_fkey';
DROP VIEW app.nicknames;
DROP FUNCTION app.user_count();

-- a registered text column holding what is no legacy id is refused before
-- any row is read too
SELECT * FROM convert_legacy('legacy', ignore_columns => '{users.nickname}', dependents => 'carry');
SELECT remove_legacy_reference('app.audit_logs', 'what');

-- dry run: the whole carry in a subtransaction rolled back.  audit_logs
-- holds '99', which no campaign has: on_orphan 'error' (the default) fails
-- naming it; 'quarantine' goes through; neither changes anything.
\set VERBOSITY default
SET client_min_messages = warning;
SELECT table_name, rows_read FROM convert_legacy('legacy', dry_run => true,
    ignore_columns => '{users.nickname}', dependents => 'carry') WHERE rows_read > 0;
\set VERBOSITY terse
SELECT table_name, rows_read FROM convert_legacy('legacy', dry_run => true, on_orphan => 'quarantine',
    ignore_columns => '{users.nickname}', dependents => 'carry') WHERE rows_read > 0;
RESET client_min_messages;
SELECT attrelid::regclass, attname, format_type(atttypid, NULL) FROM pg_attribute
 WHERE (attrelid, attname) IN (('app.sessions'::regclass, 'user_id'), ('app.audit_logs'::regclass, 'resource_id'))
 ORDER BY 1, 2;
SELECT count(*) FROM legacy_quarantine;

-- a user whose row cannot be converted (username too long for varchar(100)),
-- and a session of theirs: on_error 'quarantine' keeps the user aside, and
-- on_orphan 'quarantine' sets the session's reference NULL (the session
-- row itself is the application's: never deleted) and keeps it aside too
INSERT INTO legacy.users VALUES (4, 'dee@example.com', repeat('d', 101), 'h', 's', 'Dee', 'D', NULL);
INSERT INTO app.sessions (user_id, token) VALUES (4, 'd1');

-- the view rows before the carrying run, for comparison after it
CREATE TEMP TABLE owners_before AS SELECT * FROM app.campaign_owners;
CREATE TEMP TABLE session_users_before AS SELECT * FROM app.session_users;
CREATE TEMP TABLE sessions_before AS SELECT * FROM app.sessions;
CREATE TEMP TABLE per_account_before AS SELECT * FROM app.campaigns_per_account;

-- the carrying run: the last catch-up and the cut-over, in one transaction
SELECT table_name, rows_read, rows_converted, rows_unchanged
  FROM convert_legacy('legacy', on_orphan => 'quarantine', on_error => 'quarantine',
                      ignore_columns => '{users.nickname}', dependents => 'carry') WHERE rows_read > 0;
-- the foreign key: same name, actions, deferrability; onto lane_google.users
SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint
 WHERE conrelid = 'app.sessions'::regclass AND contype = 'f';
SELECT attrelid::regclass, attname, format_type(atttypid, NULL) FROM pg_attribute
 WHERE (attrelid, attname) IN (('app.sessions'::regclass, 'user_id'), ('app.audit_logs'::regclass, 'resource_id'))
 ORDER BY 1, 2;
SELECT indexrelid::regclass, pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = 'app.sessions'::regclass ORDER BY 1;
-- every session's user mapped by legacy_uuid, NULL kept; d1's set NULL
SELECT count(*) AS sessions, count(*) FILTER (WHERE s.user_id IS NOT DISTINCT FROM legacy_uuid('users', b.user_id)) AS mapped
  FROM app.sessions s JOIN sessions_before b USING (id);
SELECT token, user_id FROM app.sessions WHERE token = 'd1';
-- the registered reference: decimal text to uuid; '99' set NULL, its row kept aside
SELECT what, resource_id, resource_id = legacy_uuid('campaigns', 10) AS is_campaign_10
  FROM app.audit_logs ORDER BY id;
SELECT table_name, reason, row_data->>'resource_id' AS resource_id, row_data->>'user_id' AS user_id,
       row_data->>'id' AS id
  FROM legacy_quarantine ORDER BY table_name;
-- the registrations now name the extension's tables, with the types to go back to
SELECT tab, col, referenced, legacy_type, declared FROM legacy_references ORDER BY 1, 2;
-- the views read lane_google's tables, keep their grants, and their rows
-- equal the old ones with the keys mapped
SELECT pg_get_viewdef('app.campaign_owners');
SELECT has_table_privilege('public', 'app.campaign_owners', 'SELECT');
SELECT (SELECT count(*) FROM owners_before) AS rows_before, count(*) AS rows_after,
       count(*) FILTER (WHERE EXISTS (SELECT FROM owners_before b
                                       WHERE a.campaign_id = legacy_uuid('campaigns', b.campaign_id)
                                         AND a.name = b.name
                                         AND a.owner_id IS NOT DISTINCT FROM legacy_uuid('users', b.owner_id)
                                         AND a.email IS NOT DISTINCT FROM b.email)) AS equal
  FROM app.campaign_owners a;
-- (d1's user is not in lane_google.users: d1 leaves the inner join)
SELECT (SELECT count(*) FROM session_users_before) AS rows_before, count(*) AS rows_after,
       count(*) FILTER (WHERE EXISTS (SELECT FROM session_users_before b
                                       WHERE a.token = b.token AND a.user_id = legacy_uuid('users', b.user_id)
                                         AND a.email = b.email)) AS equal
  FROM app.session_users a;
-- the materialized view: refreshed over lane_google.campaigns, its index kept
SELECT p.account_id = legacy_uuid('accounts', b.account_id) AS mapped, p.campaigns = b.campaigns AS equal
  FROM app.campaigns_per_account p, per_account_before b;
SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'app.campaigns_per_account'::regclass;
-- the legacy tables are untouched
SELECT count(*) FROM legacy.users;
-- the foreign key is enforced on uuid values, at commit as it was deferred
INSERT INTO app.sessions (user_id, token) VALUES (legacy_uuid('users', 2), 'b2');
BEGIN;
INSERT INTO app.sessions (user_id, token) VALUES (legacy_uuid('users', 99), 'x');
COMMIT;
-- and its ON DELETE CASCADE acts on lane_google.users
DELETE FROM users WHERE legacy_id = 2;
SELECT token FROM app.sessions ORDER BY token;
-- what the carry did is what the update carries back: 2.1 -> 1.1 turns the
-- carried columns into the legacy ids again, the views over the 1.1 tables
SET client_min_messages = warning;
ALTER EXTENSION lane_google UPDATE TO '1.1';
RESET client_min_messages;
SELECT token, user_id FROM app.sessions ORDER BY token;
SELECT what, resource_id FROM app.audit_logs ORDER BY id;
SELECT campaign_id, name, owner_id, email FROM app.campaign_owners ORDER BY campaign_id;
SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'sessions_user_id_fkey';
-- and up again (its conversion's progress shows whatever client_min_messages says)
ALTER EXTENSION lane_google UPDATE TO '2.1';
-- the 2.1 signature; the carry's own argument is checked
SELECT * FROM convert_legacy('legacy', dependents => 'move');
SELECT pg_get_function_identity_arguments('convert_legacy'::regproc);

DROP SCHEMA app CASCADE;
DROP SCHEMA legacy CASCADE;
DROP EXTENSION lane_google;
