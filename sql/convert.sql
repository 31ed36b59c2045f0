--
-- Conversion: ALTER EXTENSION UPDATE between integer and UUID keys, both
-- ways, and convert_legacy() from the application's own legacy tables.
--
-- Progress NOTICEs carry their timing in DETAIL: terse output is stable.
\set VERBOSITY terse

CREATE EXTENSION lane_google VERSION '1.0';
SET search_path = lane_google;

-- A fixed root namespace, so the UUIDs below are stable (and checked
-- against Python's uuid module in test/t).
SELECT set_legacy_namespace('6ba7b810-9dad-11d1-80b4-00c04fd430c8');
SELECT legacy_namespace();

-- Legacy rows with edge ids: 0, negative, 2^31-1; budget_alerts stays empty;
-- every nullable foreign key of approval_requests is NULL.
INSERT INTO users (id, email, username, password_hash, salt, first_name, last_name, role, status)
VALUES (0, 'zero@example.com', 'zero', 'h0', 's0', 'Zoe', 'Zero', 'admin', 'active'),
       (-5, 'neg@example.com', 'neg', 'h1', 's1', 'Ned', 'Negative', 'manager', 'active'),
       (1, 'one@example.com', 'one', 'h2', 's2', 'Olga', 'One', 'analyst', 'pending'),
       (2147483647, 'max@example.com', 'max', 'h3', 's3', 'Max', 'Int', 'viewer', 'suspended');
INSERT INTO accounts (id, name, google_customer_id, monthly_budget_limit, settings)
VALUES (1, 'Acme', '123-456-7890', 5000.00, '{"tier": "gold"}'),
       (2, 'Globex', '234-567-8901', NULL, '{}');
INSERT INTO account_users (id, account_id, user_id, role, invited_by)
VALUES (1, 1, 0, 'owner', NULL),
       (2, 1, -5, 'editor', 0),
       (3, 2, 2147483647, 'viewer', -5);
INSERT INTO campaigns (id, account_id, created_by_id, name, customer_id, status, budget_amount, brief)
VALUES (10, 1, 0, 'Spring sale', '123-456-7890', 'active', 1000.00, '{"goal": "sales"}'),
       (20, 2, NULL, 'Brand', '234-567-8901', 'draft', 0, NULL);
INSERT INTO ad_groups (id, campaign_id, name, cpc_bid, keywords)
VALUES (100, 10, 'Shoes', 1.25, '["running shoes", "trainers"]');
INSERT INTO ads (id, ad_group_id, headlines, final_url)
VALUES (1000, 100, '["Run faster"]', 'https://example.com/shoes');
INSERT INTO analytics_snapshots (id, campaign_id, snapshot_date, impressions, clicks, cost)
VALUES (7, 10, '2025-06-01', 1200, 34, 56.78);
INSERT INTO approval_requests (id, campaign_id, requester_id, approved_by, request_type, title)
VALUES (3, 20, 1, NULL, 'budget_increase', 'More budget');
INSERT INTO conversations (id, user_id, title)
VALUES (5, 2147483647, 'Help with bids');
INSERT INTO conversation_messages (id, conversation_id, role, content)
VALUES (1, 5, 'user', 'How do I raise bids?'),
       (2, 5, 'assistant', 'Open the ad group and ...');

-- Each table's contents as text, to compare after a round trip
CREATE FUNCTION pg_temp.contents(t regclass) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    EXECUTE format('SELECT coalesce(string_agg(x::text, E''\n'' ORDER BY x::text), '''') FROM %s x', t) INTO r;
    RETURN r;
END $$;
CREATE TEMP TABLE v1_contents AS
SELECT t, pg_temp.contents(('lane_google.' || t)::regclass) AS contents
  FROM unnest(ARRAY['users', 'accounts', 'account_users', 'campaigns', 'ad_groups', 'ads',
                    'analytics_snapshots', 'approval_requests', 'budget_alerts',
                    'conversations', 'conversation_messages']) AS t;

-- The application's own legacy tables, as it created them (see below)
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

--
-- 1.0 -> 2.0: every row converted, keys from legacy_uuid(), ids kept
--
ALTER EXTENSION lane_google UPDATE TO '2.0';
SELECT extversion FROM pg_extension WHERE extname = 'lane_google';

SELECT legacy_id, id, email FROM users ORDER BY legacy_id;
SELECT legacy_uuid('users', 0), legacy_uuid('users', -5), legacy_uuid('users', 2147483647);
-- every key is the mapping of its legacy id, in every table
SELECT 'users' AS t, count(*) AS rows, count(*) FILTER (WHERE id = legacy_uuid('users', legacy_id)) AS mapped FROM users
UNION ALL SELECT 'accounts', count(*), count(*) FILTER (WHERE id = legacy_uuid('accounts', legacy_id)) FROM accounts
UNION ALL SELECT 'account_users', count(*), count(*) FILTER (WHERE id = legacy_uuid('account_users', legacy_id)) FROM account_users
UNION ALL SELECT 'campaigns', count(*), count(*) FILTER (WHERE id = legacy_uuid('campaigns', legacy_id)) FROM campaigns
UNION ALL SELECT 'ad_groups', count(*), count(*) FILTER (WHERE id = legacy_uuid('ad_groups', legacy_id)) FROM ad_groups
UNION ALL SELECT 'ads', count(*), count(*) FILTER (WHERE id = legacy_uuid('ads', legacy_id)) FROM ads
UNION ALL SELECT 'analytics_snapshots', count(*), count(*) FILTER (WHERE id = legacy_uuid('analytics_snapshots', legacy_id)) FROM analytics_snapshots
UNION ALL SELECT 'approval_requests', count(*), count(*) FILTER (WHERE id = legacy_uuid('approval_requests', legacy_id)) FROM approval_requests
UNION ALL SELECT 'budget_alerts', count(*), count(*) FILTER (WHERE id = legacy_uuid('budget_alerts', legacy_id)) FROM budget_alerts
UNION ALL SELECT 'conversations', count(*), count(*) FILTER (WHERE id = legacy_uuid('conversations', legacy_id)) FROM conversations
UNION ALL SELECT 'conversation_messages', count(*), count(*) FILTER (WHERE id = legacy_uuid('conversation_messages', legacy_id)) FROM conversation_messages;

-- relationships: every foreign key points at the parent it pointed at before
SELECT au.legacy_id, a.legacy_id AS account, u.legacy_id AS "user", i.legacy_id AS invited_by
  FROM account_users au JOIN accounts a ON a.id = au.account_id
  JOIN users u ON u.id = au.user_id LEFT JOIN users i ON i.id = au.invited_by
 ORDER BY 1;
SELECT c.legacy_id, a.legacy_id AS account, u.legacy_id AS created_by, c.status, c.budget_amount, c.brief
  FROM campaigns c JOIN accounts a ON a.id = c.account_id LEFT JOIN users u ON u.id = c.created_by_id
 ORDER BY 1;
SELECT ad.legacy_id, g.legacy_id AS ad_group, c.legacy_id AS campaign, ad.headlines
  FROM ads ad JOIN ad_groups g ON g.id = ad.ad_group_id JOIN campaigns c ON c.id = g.campaign_id;
SELECT r.legacy_id, r.campaign_id = legacy_uuid('campaigns', 20) AS campaign_ok,
       r.requester_id = legacy_uuid('users', 1) AS requester_ok, r.approved_by
  FROM approval_requests r;
SELECT m.legacy_id, c.legacy_id AS conversation, u.legacy_id AS "user", m.content
  FROM conversation_messages m JOIN conversations c ON c.id = m.conversation_id
  JOIN users u ON u.id = c.user_id ORDER BY 1;

-- the reverse lookup
SELECT legacy_id_of('users', legacy_uuid('users', -5)) AS neg,
       legacy_id_of('campaigns', legacy_uuid('campaigns', 10)) AS ten,
       legacy_id_of('campaigns', legacy_uuid('campaigns', 11)) AS none;

-- the namespace is fixed once rows are converted
SELECT set_legacy_namespace(gen_random_uuid());
SELECT legacy_namespace();

--
-- Rows born at 2.0, then back to 1.0: original ids restored, new rows get
-- ids past the largest, and references to them follow
--
INSERT INTO campaigns (account_id, name, customer_id, created_at)
VALUES (legacy_uuid('accounts', 2), 'Born at 2.0', '234-567-8901', '2025-07-01 12:00+00');
INSERT INTO budget_alerts (campaign_id, alert_type, message, current_spend, budget_limit, projected_spend)
SELECT id, 'at_risk', 'Pacing ahead', 10, 20, 30 FROM campaigns WHERE name = 'Born at 2.0';
SELECT uuid_v7_to_timestamptz(id) > now() - interval '1 minute' AS v7_key, legacy_id
  FROM campaigns WHERE name = 'Born at 2.0';

-- users reach 2^31-1: a user born at 2.0 would have no integer id to go back to
INSERT INTO users (email, username, password_hash, salt, first_name, last_name)
VALUES ('new@example.com', 'new', 'h', 's', 'New', 'User');
ALTER EXTENSION lane_google UPDATE TO '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'lane_google';
DELETE FROM users WHERE legacy_id IS NULL;

ALTER EXTENSION lane_google UPDATE TO '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'lane_google';

-- every legacy row is back, byte for byte
SELECT v.t, v.contents = pg_temp.contents(('lane_google.' || v.t)::regclass) AS identical
  FROM v1_contents v
 WHERE v.t NOT IN ('campaigns', 'budget_alerts') ORDER BY v.t;
SELECT v.contents = (SELECT string_agg(x::text, E'\n' ORDER BY x::text) FROM campaigns x WHERE id <= 20) AS identical
  FROM v1_contents v WHERE v.t = 'campaigns';
-- the row born at 2.0 got the next id, and its alert follows it
SELECT c.id, c.name, c.account_id, b.id AS alert, b.campaign_id
  FROM campaigns c JOIN budget_alerts b ON b.campaign_id = c.id;
-- the identity sequences end past the largest id
INSERT INTO campaigns (account_id, name, customer_id) VALUES (1, 'After', 'x') RETURNING id;
DELETE FROM budget_alerts;
DELETE FROM campaigns WHERE id > 20;

--
-- Orphans: the update refuses them and changes nothing
--
SET session_replication_role = replica;
INSERT INTO ads (id, ad_group_id) VALUES (1001, 999), (1002, 998);
RESET session_replication_role;
\set VERBOSITY default
ALTER EXTENSION lane_google UPDATE TO '2.0';
\set VERBOSITY terse
SELECT extversion FROM pg_extension WHERE extname = 'lane_google';
DELETE FROM ads WHERE id > 1000;

ALTER EXTENSION lane_google UPDATE TO '2.0';

--
-- convert_legacy(): the application's own tables in another schema, with
-- the mixed key kinds the real application had
--
ALTER TABLE legacy_app.users ALTER COLUMN id TYPE varchar(36)
    USING legacy_uuid('users', id)::text;           -- UUID text: kept as it is
ALTER TABLE legacy_app.account_users ALTER COLUMN user_id TYPE varchar(36)
    USING legacy_uuid('users', user_id)::text;      -- references by UUID text
ALTER TABLE legacy_app.accounts ALTER COLUMN id TYPE varchar(50);   -- decimal text
ALTER TABLE legacy_app.conversations ALTER COLUMN id TYPE text;
ALTER TABLE legacy_app.conversation_messages ALTER COLUMN id TYPE bigint;
ALTER TABLE legacy_app.ads ALTER COLUMN id TYPE smallint;
ALTER TABLE legacy_app.campaigns RENAME COLUMN created_by_id TO created_by;
ALTER TABLE legacy_app.campaigns ALTER COLUMN status TYPE varchar(20);  -- enum as text
ALTER TABLE legacy_app.users ALTER COLUMN permissions TYPE json;
UPDATE legacy_app.conversation_messages SET id = 9223372036854775807 WHERE id = 2;

-- what the update made, to compare with
CREATE TEMP TABLE v2_campaigns AS SELECT * FROM campaigns;
CREATE TEMP TABLE v2_account_users AS SELECT * FROM account_users;
TRUNCATE users, accounts CASCADE;

-- bad calls: a clear error each, and nothing changes
SELECT * FROM convert_legacy('no_such_schema');
SELECT * FROM convert_legacy('legacy_app', 'maybe');
SELECT * FROM convert_legacy('lane_google');
SELECT * FROM convert_legacy(NULL);
SELECT * FROM convert_legacy('legacy_app', NULL);
-- the errors in full; the progress of the tables before the failing one aside
\set VERBOSITY default
SET client_min_messages = warning;
CREATE SCHEMA bad_layout;
CREATE TABLE bad_layout.users AS SELECT * FROM legacy_app.users;
ALTER TABLE bad_layout.users DROP COLUMN salt, ADD COLUMN nickname text;
ALTER TABLE bad_layout.users ALTER COLUMN id TYPE numeric USING 1;
SELECT * FROM convert_legacy('bad_layout');
DROP SCHEMA bad_layout CASCADE;
BEGIN;
UPDATE legacy_app.accounts SET id = 'ACME-1' WHERE id = '1';
SELECT * FROM convert_legacy('legacy_app');
ROLLBACK;
BEGIN;
UPDATE legacy_app.accounts SET id = '99999999999999999999' WHERE id = '1';
SELECT * FROM convert_legacy('legacy_app');
ROLLBACK;
BEGIN;
UPDATE legacy_app.campaigns SET id = 10 WHERE id = 20;
SELECT * FROM convert_legacy('legacy_app');
ROLLBACK;
BEGIN;
UPDATE legacy_app.account_users SET account_id = NULL WHERE id = 2;
SELECT * FROM convert_legacy('legacy_app');
ROLLBACK;
BEGIN;
CREATE TEMP TABLE orphan_ads AS SELECT * FROM legacy_app.ads;
UPDATE orphan_ads SET id = 1001, ad_group_id = 999;
INSERT INTO legacy_app.ads SELECT * FROM orphan_ads;
UPDATE orphan_ads SET id = 1002, ad_group_id = 998;
INSERT INTO legacy_app.ads SELECT * FROM orphan_ads;
CREATE TEMP TABLE orphan_snapshots AS SELECT * FROM legacy_app.analytics_snapshots;
UPDATE orphan_snapshots SET id = 8, campaign_id = 77;
INSERT INTO legacy_app.analytics_snapshots SELECT * FROM orphan_snapshots;
SELECT * FROM convert_legacy('legacy_app');
ROLLBACK;
RESET client_min_messages;
\set VERBOSITY terse
SELECT count(*) AS users_after_errors FROM users;

-- dry run: the report, and nothing written
SELECT table_name, rows_read, rows_converted, rows_quarantined
  FROM convert_legacy('legacy_app', dry_run => true);
SELECT count(*) AS users_after_dry_run FROM users;

SELECT table_name, rows_read, rows_converted, rows_quarantined
  FROM convert_legacy('legacy_app');
-- the same rows as the update produced (users came as UUID text: no legacy id)
SELECT count(*) AS campaigns_differing FROM (
    SELECT * FROM v2_campaigns EXCEPT SELECT * FROM campaigns) d;
SELECT count(*) AS account_users_differing FROM (
    SELECT * FROM v2_account_users EXCEPT SELECT * FROM account_users) d;
SELECT id = legacy_uuid('users', 0) AS same_uuid, legacy_id FROM users WHERE email = 'zero@example.com';
SELECT legacy_id, id = legacy_uuid('conversation_messages', legacy_id) AS mapped
  FROM conversation_messages ORDER BY 1;
SELECT * FROM validate_fk_integrity();
-- the source is untouched
SELECT count(*) AS source_users FROM legacy_app.users;

-- bigint legacy ids cannot go back to integer keys
ALTER EXTENSION lane_google UPDATE TO '1.0';

--
-- Orphans in the source: quarantined whole, or set NULL (nullable keys)
--
TRUNCATE users, accounts CASCADE;
CREATE TEMP TABLE orphan_ads AS SELECT * FROM legacy_app.ads;
UPDATE orphan_ads SET id = 1001, ad_group_id = 999;
INSERT INTO legacy_app.ads SELECT * FROM orphan_ads;
CREATE TEMP TABLE orphan_campaigns AS SELECT * FROM legacy_app.campaigns WHERE id = 20;
UPDATE orphan_campaigns SET id = 30, created_by = 424242, name = 'Creator gone', status = 'paused';
INSERT INTO legacy_app.campaigns SELECT * FROM orphan_campaigns;
SELECT table_name, rows_read, rows_converted, rows_quarantined
  FROM convert_legacy('legacy_app', on_orphan => 'quarantine')
 WHERE rows_quarantined > 0;
SELECT table_name, reason, row_data->>'id' AS id FROM legacy_quarantine ORDER BY id;
SELECT count(*) FROM campaigns WHERE legacy_id = 30;

-- (everything above ran convert_legacy of version 2.0, three arguments;
-- version 2.1's has more, and more columns, on the same library)
ALTER EXTENSION lane_google UPDATE TO '2.1';
TRUNCATE users, accounts CASCADE;
TRUNCATE legacy_quarantine;
SELECT table_name, rows_read, rows_converted, rows_quarantined, rows_nulled,
       rows_read = rows_converted + rows_quarantined AS adds_up
  FROM convert_legacy('legacy_app', on_orphan => 'null')
 WHERE rows_quarantined > 0 OR rows_nulled > 0;
SELECT table_name, reason, row_data->>'id' AS id, row_data->>'created_by' AS created_by
  FROM legacy_quarantine ORDER BY id;
SELECT legacy_id, created_by_id, status FROM campaigns WHERE legacy_id = 30;
SELECT * FROM validate_fk_integrity();

-- a second run finds its rows there already: nothing new, nothing changed
-- (catch-up: sql/convert_app.sql)
SELECT table_name, rows_read, rows_converted, rows_quarantined, rows_nulled,
       rows_unchanged, rows_updated, rows_missing
  FROM convert_legacy('legacy_app', on_orphan => 'null');

DROP SCHEMA legacy_app CASCADE;
DROP EXTENSION lane_google CASCADE;
DROP SCHEMA lane_google;
