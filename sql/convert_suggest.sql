--
-- convert_legacy_suggest(): the whole convert_legacy() call for a schema,
-- every decision a program can propose filled in and commented; the call
-- runs as it is (a dry run) where every decision could be proposed, and
-- fails its layout check, the choices spelled out, where one cannot.
--
-- A hand-made legacy schema with a name that needs quoting: an extra column
-- (samples with a quote), a renamed column (campaign_name for name), another
-- of a similar name and an enum type (pacing for pacing_strategy), an enum
-- value equal to a label but for case and a blank ('Adaptive '), one that
-- is no label at all ('deleted'), an orphan (account 99); the other eight
-- tables absent (read as empty).
\set VERBOSITY terse
CREATE EXTENSION lane_google;
SET search_path = lane_google;
CREATE SCHEMA "app one";
CREATE TABLE "app one".accounts (id integer, name text, google_customer_id text,
    "Customer notes" text);
INSERT INTO "app one".accounts VALUES
    (1, 'Acme', '123-456-7890', 'pays late; ask O''Brien'),
    (2, 'Bolt', '234-567-8901', NULL),
    (3, 'Cogs', '345-678-9012', E'two\nlines');
CREATE TABLE "app one".campaigns (id integer, account_id integer, campaign_name text,
    customer_id text, status text, pacing text);
INSERT INTO "app one".campaigns VALUES
    (1, 1, 'Spring', '123-456-7890', 'active', 'linear'),
    (2, 1, 'Summer', '123-456-7890', 'deleted', 'Adaptive '),
    (3, 2, 'Autumn', '234-567-8901', 'paused', 'Adaptive '),
    (4, 99, 'Winter', '999-999-9999', 'draft', 'linear');
-- the layout check's error names the arguments and the function
\set VERBOSITY default
SELECT * FROM convert_legacy('app one', dry_run => true);
\set VERBOSITY terse
SELECT convert_legacy_suggest('app one') AS call \gset
\echo :call
-- the text runs as it is (a dry run): every table's report, nothing written
SET client_min_messages = warning;
CREATE TEMP TABLE report AS
:call
RESET client_min_messages;
SELECT table_name, rows_read, rows_converted, rows_quarantined, note
  FROM report WHERE rows_read > 0;
SELECT count(*) AS written FROM campaigns;
SELECT count(*) AS quarantined FROM legacy_quarantine;
-- a NOT NULL target column no source column can fill: the choice spelled
-- out, and the call fails its layout check until it is decided
ALTER TABLE "app one".accounts DROP COLUMN name;
SELECT convert_legacy_suggest('app one') AS call \gset
\echo :call
\set VERBOSITY default
:call
\set VERBOSITY terse
-- a table without its key column: no row can be read, so none is scanned
CREATE TABLE "app one".users (email text, username text);
SELECT convert_legacy_suggest('app one') AS call \gset
\echo :call
\set VERBOSITY default
:call
\set VERBOSITY terse
-- Found by type: a renamed NOT NULL column (surname, the one unread column
-- of last_name's type), a renamed nullable one of its type that shares a
-- word of its name (gads_campaign_id); no guess between two unread columns
-- of one type (title, label for accounts.name); a boolean that would take
-- its default in every row while its table's status column is dropped.
CREATE SCHEMA legacy2;
CREATE TABLE legacy2.users (id integer, email varchar(255), username varchar(100),
    password_hash varchar(255), salt varchar(32), first_name varchar(100), surname varchar(100));
INSERT INTO legacy2.users VALUES (1, 'ann@example.com', 'ann', 'h', 's', 'Ann', 'Archer');
CREATE TABLE legacy2.accounts (id integer, title varchar(255), label varchar(255),
    google_customer_id varchar(50), status text);
INSERT INTO legacy2.accounts VALUES (1, 'Acme', 'acme', '123-456-7890', 'closed');
CREATE TABLE legacy2.campaigns (id integer, account_id integer, name varchar(255),
    customer_id varchar(50), gads_campaign_id varchar(50), old_ref varchar(50));
INSERT INTO legacy2.campaigns VALUES (1, 1, 'Spring', '123-456-7890', '10001', 'x1');
SELECT convert_legacy_suggest('legacy2') AS call \gset
\echo :call
-- the reshape a person decides, in a schema of views layered on the source:
-- the suggestion reads it first, then the source (also_from), and the call
-- it writes says so; it runs as it is
CREATE SCHEMA legacy2_views;
CREATE VIEW legacy2_views.accounts AS
    SELECT id, title AS name, label, google_customer_id, status, status = 'active' AS is_active
      FROM legacy2.accounts;
SELECT convert_legacy_suggest('legacy2_views', also_from => '{legacy2}') AS call \gset
\echo :call
SET client_min_messages = warning;
CREATE TEMP TABLE report2 AS
:call
RESET client_min_messages;
SELECT table_name, rows_read, rows_converted, note FROM report2 WHERE rows_read > 0;
-- also_from: a missing schema
SELECT convert_legacy_suggest('legacy2_views', also_from => '{no_such_schema}');
DROP SCHEMA legacy2, legacy2_views CASCADE;
-- NULL, the extension's own schema, a missing schema
SELECT convert_legacy_suggest(NULL);
SELECT convert_legacy_suggest('lane_google');
SELECT convert_legacy_suggest('no_such_schema');
-- privileges: EXECUTE is the owner's
CREATE ROLE lg_suggest_nobody;
SET ROLE lg_suggest_nobody;
SELECT lane_google.convert_legacy_suggest('app one');
RESET ROLE;
DROP ROLE lg_suggest_nobody;
DROP SCHEMA "app one" CASCADE;
DROP EXTENSION lane_google;
