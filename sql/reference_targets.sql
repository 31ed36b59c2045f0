--
-- What add_legacy_reference() registers and what the array arguments take
-- (issue 17, finding 7).  A registered reference is a column of one of the
-- application's tables, whose type the update changes (ALTER TABLE ...
-- ALTER COLUMN ... TYPE): a system catalog, another extension's table,
-- lane_google's own tables and its online conversion's are refused, naming
-- the table; a registration of such a table made before (by an older build)
-- is refused by the plan, so the update never alters it.  A NULL element in
-- an array argument is an error (22004), as a NULL argument is.
--
SET client_min_messages = warning;
\set VERBOSITY default
CREATE EXTENSION lane_google VERSION '1.1';
CREATE SCHEMA app;
CREATE TABLE app.audit_logs (id serial PRIMARY KEY, campaign_ref bigint, note text);
CREATE TABLE app.plugin_state (id serial PRIMARY KEY, campaign_ref bigint);
ALTER EXTENSION plpgsql ADD TABLE app.plugin_state;

-- system catalogs, information_schema, TOAST tables
SELECT lane_google.add_legacy_reference('pg_catalog.pg_seclabel', 'objsubid', 'campaigns');
\echo SQLSTATE :SQLSTATE
SELECT lane_google.add_legacy_reference('pg_class', 'relpages', 'users');
SELECT lane_google.add_legacy_reference('information_schema.sql_features', 'feature_id', 'users');
SELECT lane_google.add_legacy_reference(
    (SELECT reltoastrelid::regclass FROM pg_class WHERE oid = 'pg_catalog.pg_proc'::regclass),
    'chunk_id', 'users');
-- another extension's table
SELECT lane_google.add_legacy_reference('app.plugin_state', 'campaign_ref', 'campaigns');
-- lane_google's own tables: the 11, and the others it creates
SELECT lane_google.add_legacy_reference('lane_google.campaigns', 'account_id', 'accounts');
SELECT lane_google.add_legacy_reference('lane_google.legacy_references', 'referenced', 'users');
SELECT lane_google.online_start();
SELECT lane_google.add_legacy_reference('lane_google_online.changes', 'legacy_id', 'users');
SELECT lane_google.add_legacy_reference('lane_google_online.progress', 'last_id', 'users');
SELECT lane_google.online_abort();
-- none of them was registered
SELECT count(*) FROM lane_google.legacy_references;
-- NULL arguments: add_legacy_reference() is STRICT (1.1, 2.1): nothing happens
SELECT lane_google.add_legacy_reference(NULL, 'campaign_ref', 'campaigns') IS NULL AS is_null;
SELECT lane_google.add_legacy_reference('app.audit_logs', NULL, 'campaigns') IS NULL AS is_null;
SELECT lane_google.add_legacy_reference('app.audit_logs', 'campaign_ref', NULL) IS NULL AS is_null;
SELECT count(*) FROM lane_google.legacy_references;
-- the application's own table is fine
SELECT lane_google.add_legacy_reference('app.audit_logs', 'campaign_ref', 'campaigns');

-- registrations made before these were refused: the plan refuses them, the
-- update changes nothing
INSERT INTO lane_google.legacy_references (tab, col, referenced, legacy_type)
VALUES ('pg_catalog.pg_class', 'relpages', 'users', 'integer'),
       ('app.plugin_state', 'campaign_ref', 'campaigns', 'bigint');
SELECT object_type, object, action, reason FROM lane_google.conversion_plan() ORDER BY object;
ALTER EXTENSION lane_google UPDATE TO '2.1';
SELECT extversion FROM pg_extension WHERE extname = 'lane_google';
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'pg_catalog.pg_class'::regclass AND attname = 'relpages';
DELETE FROM lane_google.legacy_references WHERE tab <> 'app.audit_logs'::regclass;
-- (progress NOTICEs carry their timing in DETAIL: terse output)
\set VERBOSITY terse
ALTER EXTENSION lane_google UPDATE TO '2.1';
\set VERBOSITY default
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'app.audit_logs'::regclass AND attname = 'campaign_ref';

-- at 2.1: the same refusals, also for a legacy table's reference (schema.table)
CREATE SCHEMA legacy;
CREATE TABLE legacy.campaigns (id integer PRIMARY KEY);
SELECT lane_google.add_legacy_reference('pg_catalog.pg_class', 'relpages', 'legacy.campaigns');
SELECT lane_google.add_legacy_reference('app.plugin_state', 'campaign_ref', 'legacy.campaigns');
SELECT lane_google.add_legacy_reference('pg_catalog.pg_class', 'relpages', 'campaigns');

-- NULL elements in array arguments: ignore_columns of convert_legacy() and
-- convert_legacy_problems() (the only array arguments of any function)
SELECT * FROM lane_google.convert_legacy('legacy', ignore_columns => ARRAY[NULL]::text[]);
\echo SQLSTATE :SQLSTATE
SELECT * FROM lane_google.convert_legacy('legacy', ignore_columns => ARRAY['campaigns.x', NULL]);
\echo SQLSTATE :SQLSTATE
SELECT * FROM lane_google.convert_legacy_problems('legacy', ignore_columns => '{{campaigns.x},{NULL}}');
\echo SQLSTATE :SQLSTATE
-- JSON null in the jsonb arguments: refused in column_map, a mapping to NULL in value_map
SELECT * FROM lane_google.convert_legacy('legacy', column_map => '{"campaigns.x": null}', dry_run => true);

DROP EXTENSION lane_google;
-- the table back from plpgsql first: dropping a member drops its extension
ALTER EXTENSION plpgsql DROP TABLE app.plugin_state;
DROP SCHEMA legacy, app CASCADE;
SELECT count(*) AS plpgsql FROM pg_extension WHERE extname = 'plpgsql';
