--
-- The foreign keys the 1.0 -> 2.0 update marks valid without PostgreSQL's
-- validation join: sound only as long as the engine's check is.
--
-- Orphans are planted behind the update's back (the 1.0 constraint dropped,
-- so the pre-flight validate_fk_integrity() cannot see them) where the
-- engine's key sets could miss them: at both ends of a bitmap and on a
-- 64-bit word boundary, between the ids of a sorted array, and under a
-- parent whose key set does not fit lane_google.max_memory (its children
-- probe its primary key index), one of them twice in a row.  The update
-- must refuse, naming every one.  Then, after a clean update and after a
-- clean convert_legacy() (whose writes bypass the RI triggers just as
-- well), PostgreSQL's own validation must agree with every constraint.
--
\set VERBOSITY terse

CREATE EXTENSION lane_google VERSION '1.0';
SET search_path = lane_google;
SELECT set_legacy_namespace('6ba7b810-9dad-11d1-80b4-00c04fd430c8');

-- users: 70000 dense ids, more than a 1 MB budget holds
INSERT INTO users (id, email, username, password_hash, salt, first_name, last_name)
SELECT i, 'u' || i || '@example.com', 'u' || i, 'h', 's', 'F', 'L'
  FROM generate_series(1, 70000) i;
-- accounts: ids 1..200, a bitmap
INSERT INTO accounts (id, name, google_customer_id)
SELECT i, 'a' || i, 'g' || i FROM generate_series(1, 200) i;
-- campaigns: ids 1000, 2000, ..., 100000, too sparse for a bitmap
INSERT INTO campaigns (id, account_id, name, customer_id)
SELECT i * 1000, i % 200 + 1, 'c' || i, 'g' FROM generate_series(1, 100) i;
INSERT INTO ad_groups (id, campaign_id, name)
SELECT i, i * 1000, 'g' || i FROM generate_series(1, 100) i;
INSERT INTO account_users (id, account_id, user_id)
SELECT i, 1, i * 7 FROM generate_series(1, 300) i;

-- The application's legacy tables in their own schema, for convert_legacy()
CREATE SCHEMA legacy_app;
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['users', 'accounts', 'account_users', 'campaigns', 'ad_groups',
                             'ads', 'analytics_snapshots', 'approval_requests', 'budget_alerts',
                             'conversations', 'conversation_messages'] LOOP
        EXECUTE format('CREATE TABLE legacy_app.%I AS SELECT * FROM lane_google.%I', t, t);
    END LOOP;
END $$;

-- Every foreign key of the extension's tables, checked by PostgreSQL: each
-- constraint dropped and added again in one ALTER TABLE (which runs its
-- validation query over every row), in a transaction rolled back; and the
-- anti-join RI_Initial_Check runs, counted.  One row per constraint.
CREATE FUNCTION pg_temp.fk_check() RETURNS TABLE (constraint_name name, marked_valid boolean, orphans bigint)
LANGUAGE plpgsql AS $$
DECLARE
    c record;
    n bigint;
BEGIN
    FOR c IN SELECT con.oid, con.conname, con.conrelid::regclass AS child,
                    con.confrelid::regclass AS parent, con.convalidated,
                    a.attname AS col, pa.attname AS pcol
               FROM pg_constraint con
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
               JOIN pg_attribute pa ON pa.attrelid = con.confrelid AND pa.attnum = con.confkey[1]
              WHERE con.contype = 'f'
                AND con.connamespace = 'lane_google'::regnamespace
              ORDER BY con.conname
    LOOP
        EXECUTE format('SELECT count(*) FROM %s c WHERE c.%I IS NOT NULL AND NOT EXISTS '
                       '(SELECT 1 FROM %s p WHERE p.%I OPERATOR(pg_catalog.=) c.%I)',
                       c.child, c.col, c.parent, c.pcol, c.col) INTO n;
        -- PostgreSQL's own validation: an error here fails the test
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT %I %s',
                       c.child, c.conname, c.conname, pg_get_constraintdef(c.oid));
        constraint_name := c.conname;
        marked_valid := c.convalidated;
        orphans := n;
        RETURN NEXT;
    END LOOP;
END $$;

-- Report an update or conversion that fails: its message and detail
CREATE FUNCTION pg_temp.refused(cmd text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    msg text;
    detail text;
BEGIN
    EXECUTE cmd;
    RETURN 'not refused';
EXCEPTION WHEN foreign_key_violation THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
    RETURN msg || E'\n' || detail;
END $$;

--
-- 1.0 -> 2.0 with orphans planted behind the pre-flight's back
--
BEGIN;
ALTER TABLE campaigns DROP CONSTRAINT campaigns_account_id_fkey;
ALTER TABLE ad_groups DROP CONSTRAINT ad_groups_campaign_id_fkey;
ALTER TABLE account_users DROP CONSTRAINT account_users_user_id_fkey;
-- accounts' bitmap: a hole on a word boundary (ids 64, 65: bits 63 and 64),
-- and keys just past each end
DELETE FROM accounts WHERE id IN (64, 65);
INSERT INTO campaigns (id, account_id, name, customer_id)
VALUES (101000, 201, 'past the end', 'g'), (102000, 0, 'before the start', 'g');
-- campaigns' sorted ids: between two ids, past the end, before the start
INSERT INTO ad_groups (id, campaign_id, name)
VALUES (101, 1500, 'between'), (102, 100001, 'past'), (103, 999, 'before');
-- users' key set does not fit 1 MB: a deleted parent, referenced by two
-- rows in a row, and a key past the end
DELETE FROM users WHERE id = 35000;
INSERT INTO account_users (id, account_id, user_id)
VALUES (301, 2, 35000), (302, 3, 35000), (303, 4, 70001);
SELECT count(*) AS preflight_orphans FROM validate_fk_integrity() WHERE problem = 'orphan_rows';
SET lane_google.max_memory = '1MB';
SAVEPOINT planted;
SELECT pg_temp.refused($$ALTER EXTENSION lane_google UPDATE TO '2.0'$$);
ROLLBACK TO planted;
-- the other converting path: 1.0 -> 1.1 (no row changes) -> 2.1
ALTER EXTENSION lane_google UPDATE TO '1.1';
SELECT pg_temp.refused($$ALTER EXTENSION lane_google UPDATE TO '2.1'$$);
ROLLBACK;
SELECT extversion FROM pg_extension WHERE extname = 'lane_google';

--
-- A clean 1.0 -> 2.0 at the same budget: every constraint marked valid, and
-- PostgreSQL agrees
--
SET lane_google.max_memory = '1MB';
ALTER EXTENSION lane_google UPDATE TO '2.0';
RESET lane_google.max_memory;
SELECT count(*) AS users FROM users;
BEGIN;
SELECT * FROM pg_temp.fk_check();
ROLLBACK;

--
-- convert_legacy(), users keyed by UUID text (a hashed uuid set): orphans
-- in the legacy schema, which has no constraints at all
--
TRUNCATE users, accounts CASCADE;
ALTER TABLE legacy_app.users ALTER COLUMN id TYPE varchar(36)
    USING legacy_uuid('users', id)::text;
ALTER TABLE legacy_app.account_users ALTER COLUMN user_id TYPE varchar(36)
    USING legacy_uuid('users', user_id)::text;
BEGIN;
DELETE FROM legacy_app.users WHERE id = legacy_uuid('users', 35000)::text;
DELETE FROM legacy_app.accounts WHERE id IN (64, 65);
-- copies of a sound row, with other keys
INSERT INTO legacy_app.account_users
SELECT r.* FROM legacy_app.account_users a,
       (VALUES (1, legacy_uuid('users', 35000)::text), (2, legacy_uuid('users', 35000)::text),
               (3, '00000000-0000-0000-0000-000000000000')) AS o(k, u),
       jsonb_populate_record(a, jsonb_build_object('id', 300 + k, 'account_id', 1 + k, 'user_id', u)) r
 WHERE a.id = 1
 ORDER BY k;
INSERT INTO legacy_app.ad_groups
SELECT r.* FROM legacy_app.ad_groups g,
       jsonb_populate_record(g, jsonb_build_object('id', 101, 'campaign_id', 1500)) r
 WHERE g.id = 1;
SELECT pg_temp.refused($$SELECT * FROM convert_legacy('legacy_app')$$);
ROLLBACK;
SELECT count(*) AS users_after_refusal FROM users;

-- clean: converted, and PostgreSQL agrees
SELECT table_name, rows_read, rows_converted, rows_quarantined
  FROM convert_legacy('legacy_app') WHERE rows_read > 0;
BEGIN;
SELECT * FROM pg_temp.fk_check();
ROLLBACK;

--
-- A clean 1.1 -> 2.1: the same
--
DROP EXTENSION lane_google CASCADE;
CREATE EXTENSION lane_google VERSION '1.1';
SELECT set_legacy_namespace('6ba7b810-9dad-11d1-80b4-00c04fd430c8');
INSERT INTO users (id, email, username, password_hash, salt, first_name, last_name)
SELECT i, 'u' || i || '@example.com', 'u' || i, 'h', 's', 'F', 'L' FROM generate_series(1, 100) i;
INSERT INTO accounts (id, name, google_customer_id) VALUES (1, 'a', 'g');
INSERT INTO campaigns (id, account_id, created_by_id, name, customer_id)
SELECT i, 1, i, 'c' || i, 'g' FROM generate_series(1, 100) i;
ALTER EXTENSION lane_google UPDATE TO '2.1';
BEGIN;
SELECT count(*) AS constraints, count(*) FILTER (WHERE marked_valid AND orphans = 0) AS valid_and_sound
  FROM pg_temp.fk_check();
ROLLBACK;

DROP SCHEMA legacy_app CASCADE;
DROP EXTENSION lane_google CASCADE;
