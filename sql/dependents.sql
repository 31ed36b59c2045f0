--
-- The objects around the 11 tables (issue 9): conversion_plan(), registered
-- references and their suggestions, and the update refusing what it cannot
-- carry.  test/t/050_dependents.pl takes every path; this is the SQL surface.
--
SET client_min_messages = warning;
CREATE EXTENSION lane_google VERSION '1.1';
INSERT INTO lane_google.users (id, email, username, password_hash, salt, first_name, last_name)
    SELECT g, 'u' || g || '@x', 'u' || g, 'h', 's', 'f', 'l' FROM generate_series(1, 10) g;
INSERT INTO lane_google.accounts (id, name, google_customer_id)
    SELECT g, 'a' || g, 'c' || g FROM generate_series(1, 3) g;
INSERT INTO lane_google.campaigns (id, account_id, created_by_id, name, customer_id)
    SELECT 100 + g, 1 + g % 3, 1 + g % 10, 'c' || g, 'c' FROM generate_series(1, 20) g;

-- nothing around the tables: an empty plan
SELECT * FROM lane_google.conversion_plan();

CREATE SCHEMA app;
CREATE TABLE app.audit_logs (id serial PRIMARY KEY, resource_campaign_id text, actor integer, note jsonb);
INSERT INTO app.audit_logs (resource_campaign_id, actor, note)
    SELECT (100 + g)::text, 1 + g % 10, '{}' FROM generate_series(1, 20) g;
INSERT INTO app.audit_logs (resource_campaign_id, actor, note) VALUES (NULL, NULL, '{}');

-- candidates: resource_campaign_id falls among campaigns' ids only; actor
-- (1..10) among users', accounts'... (dense ids): the name tells them apart
SELECT table_name, column_name, referenced, values_total, values_matched, fraction, name_evidence
  FROM lane_google.suggest_legacy_references('app')
 ORDER BY column_name, referenced;

-- registering: bad input, then the right one
SELECT lane_google.add_legacy_reference('app.audit_logs', 'resource_campaign_id', 'campaign');
SELECT lane_google.add_legacy_reference('app.audit_logs', 'nope', 'campaigns');
SELECT lane_google.add_legacy_reference('lane_google.ads', 'ad_group_id', 'ad_groups');
SELECT lane_google.add_legacy_reference('app.audit_logs', 'note', 'campaigns');
SELECT lane_google.add_legacy_reference('app.audit_logs', 'resource_campaign_id', 'campaigns');
SELECT lane_google.add_legacy_reference('app.audit_logs', 'actor', 'users');
SELECT tab, col, referenced, legacy_type, declared FROM lane_google.legacy_references ORDER BY col;
SELECT lane_google.remove_legacy_reference('app.audit_logs', 'actor');
SELECT lane_google.remove_legacy_reference('app.audit_logs', 'actor');

-- the plan: one row per object, what happens, why not
CREATE TABLE app.sessions (id serial PRIMARY KEY, user_id integer REFERENCES lane_google.users (id));
CREATE VIEW app.campaign_names AS SELECT id, name FROM lane_google.campaigns;
CREATE VIEW app.campaign_101 AS SELECT name FROM lane_google.campaigns WHERE id = 101;
CREATE POLICY app_policy ON lane_google.accounts USING (id = 1);
SELECT object_type, object, depends_on, action, reason
  FROM lane_google.conversion_plan() ORDER BY reason IS NULL, object_type, object;

-- the update refuses, naming both, and changes nothing
ALTER EXTENSION lane_google UPDATE TO '2.1';
SELECT extversion FROM pg_extension WHERE extname = 'lane_google';
SELECT pg_catalog.format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'app.sessions'::regclass AND attname = 'user_id';

-- the internal steps run only inside the update
SELECT lane_google._lg_dependents_detach();

-- the trial names every view it cannot re-create: failures among views that
-- pass (analysed together), before and after a view other views read
-- (re-created), and in views over that one
CREATE VIEW app.t1_bad AS SELECT name FROM lane_google.campaigns WHERE id = 102;
CREATE VIEW app.t2_good AS SELECT id FROM lane_google.campaigns;
CREATE VIEW app.t3_bad AS SELECT headlines FROM lane_google.ads WHERE ad_group_id = 7;
CREATE VIEW app.t4_good AS SELECT id, campaign_id FROM lane_google.ad_groups;
CREATE VIEW app.t5_parent AS SELECT id, name FROM lane_google.campaigns;
CREATE VIEW app.t6_child_bad AS SELECT name FROM app.t5_parent WHERE id = 5;
CREATE VIEW app.t7_child_good AS SELECT id FROM app.t5_parent;
SELECT object_type, object, reason
  FROM lane_google.conversion_plan() WHERE reason IS NOT NULL ORDER BY object;
SELECT count(*) AS carried_views
  FROM lane_google.conversion_plan() WHERE object_type = 'view' AND reason IS NULL;
ALTER EXTENSION lane_google UPDATE TO '2.1';
DROP VIEW app.t1_bad, app.t2_good, app.t3_bad, app.t4_good, app.t6_child_bad,
  app.t7_child_good, app.t5_parent;

-- a registered value with no row: the update fails naming it, before
-- converting anything
DROP VIEW app.campaign_101;
DROP POLICY app_policy ON lane_google.accounts;
UPDATE app.audit_logs SET resource_campaign_id = '999' WHERE id = 1;
ALTER EXTENSION lane_google UPDATE TO '2.1';
UPDATE app.audit_logs SET resource_campaign_id = '101' WHERE id = 1;

-- and through (progress NOTICEs carry their timing in DETAIL: terse output)
\set VERBOSITY terse
ALTER EXTENSION lane_google UPDATE TO '2.1';
SELECT a.id, a.resource_campaign_id = c.id AS mapped, c.legacy_id
  FROM app.audit_logs a LEFT JOIN lane_google.campaigns c ON c.id = a.resource_campaign_id
 ORDER BY a.id LIMIT 3;
SELECT object_type, object, action FROM lane_google.conversion_plan() ORDER BY 1, 2;
ALTER EXTENSION lane_google UPDATE TO '1.1';
\set VERBOSITY default
SELECT id, resource_campaign_id FROM app.audit_logs ORDER BY id LIMIT 3;

-- stepping down to 1.0 would lose the registration: refused
ALTER EXTENSION lane_google UPDATE TO '1.0';

DROP SCHEMA app CASCADE;
DROP EXTENSION lane_google CASCADE;
DROP SCHEMA IF EXISTS lane_google;
