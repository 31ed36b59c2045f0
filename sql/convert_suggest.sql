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
