--
-- The cut-over's completeness (2.2): after a catch-up, the target rows whose
-- source row is gone are listed by convert_legacy_missing() and deleted with
-- the SQL of doc/tutorial.md step 5 (children cascade); a catch-up does not
-- quarantine again a row the quarantine holds already.
--
\set VERBOSITY terse
CREATE EXTENSION lane_google;
SET search_path = lane_google;
SELECT set_legacy_namespace('6ba7b810-9dad-11d1-80b4-00c04fd430c8');

CREATE SCHEMA legacy;
CREATE TABLE legacy.users (
    id integer PRIMARY KEY, email text NOT NULL UNIQUE, username text NOT NULL,
    password_hash text NOT NULL, salt text NOT NULL,
    first_name text NOT NULL, last_name text NOT NULL);
CREATE TABLE legacy.accounts (
    id integer PRIMARY KEY, name text NOT NULL, google_customer_id text NOT NULL);
-- no foreign keys: the application lost some parents
CREATE TABLE legacy.campaigns (
    id integer PRIMARY KEY, account_id integer NOT NULL,
    created_by_id integer, name text NOT NULL, customer_id text NOT NULL);
INSERT INTO legacy.users VALUES
    (1, 'ann@example.com', 'ann', 'h', 's', 'Ann', 'A'),
    (2, 'bob@example.com', 'bob', 'h', 's', 'Bob', 'B'),
    (3, 'cy@example.com', 'cy', 'h', 's', 'Cy', 'C');
INSERT INTO legacy.accounts VALUES (1, 'Acme', '111-111-1111'), (2, 'Beta', '222-222-2222');
INSERT INTO legacy.campaigns VALUES
    (10, 1, 1, 'Spring', '111'), (11, 1, 2, 'Summer', '111'),
    (12, 2, NULL, 'Winter', '222'), (13, 2, 3, 'Autumn', '222'),
    (14, 9, 1, 'Lost account', '999'),      -- orphan: quarantined
    (15, 1, 99, 'Lost creator', '111');     -- creator set NULL, the row kept too

-- the first run: two rows in the quarantine
SELECT table_name, rows_read, rows_converted, rows_quarantined, rows_nulled, note
  FROM convert_legacy('legacy', on_orphan => 'null')
 WHERE table_name IN ('users', 'accounts', 'campaigns') ORDER BY table_name;
SELECT table_name, reason, row_data->>'id' AS legacy_key FROM legacy_quarantine ORDER BY id;
-- the runs' NOTICEs are the same every time from now on
SET client_min_messages = warning;

-- the application goes on: a user and an account deleted at the source
-- (with campaigns 11 and 12: campaign 13 stays, its account gone), a campaign
-- renamed; the new application wrote a
-- campaign of its own into the target (no legacy id)
DELETE FROM legacy.campaigns WHERE id IN (11, 12);
DELETE FROM legacy.users WHERE id = 2;
DELETE FROM legacy.accounts WHERE id = 2;
UPDATE legacy.campaigns SET name = 'Spring sale' WHERE id = 10;
INSERT INTO campaigns (account_id, name, customer_id)
    VALUES (legacy_uuid('accounts', 1), 'Written by the new application', '111');

-- the function reads the sources as they are now: it lists the rows gone
-- before any catch-up (their ids are the legacy_uuid() of their legacy ids)
SELECT table_name, legacy_id, id = legacy_uuid(table_name, legacy_id) AS id_is_legacy_uuid
  FROM convert_legacy_missing('legacy') ORDER BY table_name, legacy_id;

-- a catch-up: rows_missing counts them (and the application's own row);
-- the two quarantined rows are held already and not added again
SELECT table_name, rows_read, rows_converted, rows_quarantined, rows_nulled,
       rows_unchanged, rows_updated, rows_missing, note
  FROM convert_legacy('legacy', on_orphan => 'null')
 WHERE table_name IN ('users', 'accounts', 'campaigns') ORDER BY table_name;
SELECT table_name, reason, row_data->>'id' AS legacy_key FROM legacy_quarantine ORDER BY id;

-- a quarantined row that changed at the source is a new row for the quarantine
UPDATE legacy.campaigns SET name = 'Lost account, renamed' WHERE id = 14;
SELECT table_name, rows_quarantined, note
  FROM convert_legacy('legacy', on_orphan => 'null') WHERE table_name = 'campaigns';
SELECT table_name, row_data->>'id' AS legacy_key, row_data->>'name' AS name
  FROM legacy_quarantine ORDER BY id;

-- the cut-over: list, then delete (doc/tutorial.md, step 5), in one
-- transaction that holds the sources still (SHARE) until it commits
BEGIN;
SELECT table_name, legacy_id FROM convert_legacy_missing('legacy') ORDER BY 1, 2;
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT m.table_name, pg_catalog.array_agg(m.id) AS ids
               FROM lane_google.convert_legacy_missing('legacy') AS m
              GROUP BY m.table_name
    LOOP
        EXECUTE pg_catalog.format('DELETE FROM lane_google.%I WHERE id = ANY ($1)', t.table_name)
          USING t.ids;
    END LOOP;
END
$$;
COMMIT;
-- gone, their children with them (campaign 13 of account 2, which the
-- source still holds, an orphan now); the application's own row stays
SELECT legacy_id, name FROM campaigns ORDER BY legacy_id NULLS LAST;
SELECT legacy_id FROM users ORDER BY 1;
SELECT legacy_id FROM accounts ORDER BY 1;
-- nothing is missing now, and the function wrote nothing (campaign 13 is
-- an orphan: not quarantined by it)
SELECT count(*) FROM convert_legacy_missing('legacy');
SELECT count(*) FROM legacy_quarantine;
-- a catch-up: only the application's own row is missing, and campaign 13
-- goes to the quarantine
SELECT table_name, rows_quarantined, rows_missing FROM convert_legacy('legacy', on_orphan => 'null')
 WHERE table_name IN ('users', 'accounts', 'campaigns') ORDER BY table_name;
SELECT count(*) FROM legacy_quarantine;

-- it needs its arguments
SELECT * FROM convert_legacy_missing(NULL);
SELECT * FROM convert_legacy_missing('lane_google');
SELECT * FROM convert_legacy_missing('legacy', value_map => '[]');
-- as the other conversion functions: not for PUBLIC
SELECT has_function_privilege('public', 'convert_legacy_missing(name, jsonb, text[], jsonb, text)', 'EXECUTE');

DROP SCHEMA legacy CASCADE;
DROP EXTENSION lane_google;

--
-- More than one source schema (2.2): a schema of views for the tables that
-- need a reshape, layered on the application's schema (also_from).  And the
-- 2.1 signatures, with the same library, at 2.1 and back from 2.2.
--
CREATE EXTENSION lane_google VERSION '2.1';
SELECT set_legacy_namespace('6ba7b810-9dad-11d1-80b4-00c04fd430c8');
CREATE SCHEMA legacy;
CREATE TABLE legacy.users (
    id integer PRIMARY KEY, email text NOT NULL UNIQUE, username text NOT NULL,
    password_hash text NOT NULL, salt text NOT NULL,
    first_name text NOT NULL, last_name text NOT NULL);
-- status has no place in lane_google's accounts: is_active says it
CREATE TABLE legacy.accounts (
    id integer PRIMARY KEY, name text NOT NULL, google_customer_id text NOT NULL,
    status text NOT NULL);
CREATE TABLE legacy.campaigns (
    id integer PRIMARY KEY, account_id integer NOT NULL REFERENCES legacy.accounts,
    created_by_id integer REFERENCES legacy.users, name text NOT NULL, customer_id text NOT NULL);
INSERT INTO legacy.users VALUES (1, 'ann@example.com', 'ann', 'h', 's', 'Ann', 'A');
INSERT INTO legacy.accounts VALUES (1, 'Acme', '111-111-1111', 'active'), (2, 'Beta', '222', 'closed');
INSERT INTO legacy.campaigns VALUES (10, 1, 1, 'Spring', '111'), (11, 2, NULL, 'Old', '222');
-- the layout error at 2.1: its hint names no convert_legacy_suggest(), which
-- 2.1 does not have (the same library serves it)
\set VERBOSITY default
SELECT * FROM convert_legacy('legacy', dry_run => true);
\set VERBOSITY terse
CREATE SCHEMA reshaped;
CREATE VIEW reshaped.accounts AS
    SELECT id, name, google_customer_id, status = 'active' AS is_active FROM legacy.accounts;

-- 2.1: one schema, the released signatures (the same library)
SELECT pg_get_function_identity_arguments('convert_legacy'::regproc);
SELECT pg_get_function_identity_arguments('convert_legacy_problems'::regproc);
SELECT table_name, rows_read, note FROM convert_legacy('reshaped', 'error', true)
 WHERE table_name IN ('users', 'accounts', 'campaigns') ORDER BY table_name;
SELECT count(*) FROM convert_legacy_problems('reshaped');
SELECT count(*) FROM convert_legacy_problems('legacy');

-- 2.2: the schema of views first, the application's after it
ALTER EXTENSION lane_google UPDATE TO '2.2';
SELECT pg_get_function_identity_arguments('convert_legacy'::regproc);
SELECT pg_get_function_identity_arguments('convert_legacy_problems'::regproc);
SELECT pg_get_function_identity_arguments('convert_legacy_missing'::regproc);
SELECT * FROM convert_legacy_problems('reshaped', also_from => '{legacy}');
SELECT table_name, rows_read, rows_converted, note
  FROM convert_legacy('reshaped', also_from => '{legacy}')
 WHERE table_name IN ('users', 'accounts', 'campaigns') ORDER BY table_name;
SELECT legacy_id, name, is_active FROM accounts ORDER BY legacy_id;
SELECT legacy_id, account_id = legacy_uuid('accounts', 2) AS of_beta FROM campaigns ORDER BY legacy_id;
DELETE FROM legacy.campaigns WHERE id = 11;
DELETE FROM legacy.accounts WHERE id = 2;
SELECT table_name, legacy_id FROM convert_legacy_missing('reshaped', also_from => '{legacy}') ORDER BY 1, 2;
SELECT table_name, rows_missing FROM convert_legacy('reshaped', also_from => '{legacy}')
 WHERE table_name IN ('users', 'accounts', 'campaigns') ORDER BY table_name;

-- every schema must exist, be another than lane_google's, and be usable
SELECT * FROM convert_legacy('reshaped', also_from => '{nosuch}');
SELECT * FROM convert_legacy('reshaped', also_from => '{lane_google}');
SELECT * FROM convert_legacy_problems('reshaped', also_from => ARRAY[NULL]::name[]);
SELECT * FROM convert_legacy('reshaped', also_from => NULL);
SELECT * FROM convert_legacy('reshaped', dependents => 'carry', also_from => '{legacy}');
CREATE ROLE regress_lg_cut_reader;
GRANT USAGE ON SCHEMA lane_google, reshaped TO regress_lg_cut_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA reshaped TO regress_lg_cut_reader;
GRANT INSERT ON ALL TABLES IN SCHEMA lane_google TO regress_lg_cut_reader;
GRANT EXECUTE ON FUNCTION convert_legacy_problems(name, jsonb, text[], jsonb, text, name[]) TO regress_lg_cut_reader;
SET ROLE regress_lg_cut_reader;
SELECT * FROM lane_google.convert_legacy_problems('reshaped', also_from => '{legacy}');
RESET ROLE;
-- with USAGE on legacy, still SELECT on its tables
GRANT USAGE ON SCHEMA legacy TO regress_lg_cut_reader;
SET ROLE regress_lg_cut_reader;
SELECT * FROM lane_google.convert_legacy_problems('reshaped', also_from => '{legacy}');
RESET ROLE;
REVOKE ALL ON FUNCTION convert_legacy_problems(name, jsonb, text[], jsonb, text, name[]) FROM regress_lg_cut_reader;
REVOKE ALL ON ALL TABLES IN SCHEMA lane_google FROM regress_lg_cut_reader;
REVOKE ALL ON SCHEMA lane_google FROM regress_lg_cut_reader;

-- back to 2.1: its signatures as released, and they work
ALTER EXTENSION lane_google UPDATE TO '2.1';
SELECT pg_get_function_identity_arguments('convert_legacy'::regproc);
SELECT pg_get_function_identity_arguments('convert_legacy_problems'::regproc);
SELECT to_regprocedure('convert_legacy_missing(name, jsonb, text[], jsonb, text, name[])');
SELECT table_name, rows_read, rows_unchanged FROM convert_legacy('reshaped', 'error', true)
 WHERE table_name = 'accounts';

DROP SCHEMA reshaped CASCADE;
DROP SCHEMA legacy CASCADE;
DROP OWNED BY regress_lg_cut_reader;
DROP ROLE regress_lg_cut_reader;
DROP EXTENSION lane_google;
