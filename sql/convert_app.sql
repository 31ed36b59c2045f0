--
-- convert_legacy() on the application's own legacy database, as its
-- SQLAlchemy models create it (schema-spec.md, "the application's real
-- legacy layout"), and the value conversion: PostgreSQL's assignment cast.
--
-- Progress NOTICEs carry their timing in DETAIL: terse output is stable.
\set VERBOSITY terse
CREATE EXTENSION lane_google;
SET search_path = lane_google;
SELECT set_legacy_namespace('6ba7b810-9dad-11d1-80b4-00c04fd430c8');
-- the session's zone must not leak into naive timestamps (source_timezone)
SET TimeZone = 'America/New_York';

--
-- Non-key columns convert as an assignment cast would (INSERT ... SELECT):
-- char(10) loses its padding into varchar, numeric 2.0 gives integer 2,
-- money gives numeric, integer into boolean has no assignment cast.
--
CREATE SCHEMA casts;
CREATE TABLE casts.users (
    id integer, email char(30), username varchar(300), password_hash text, salt char(10),
    first_name text, last_name text, failed_login_attempts numeric, is_verified boolean);
INSERT INTO casts.users VALUES
    (1, 'ann@example.com', 'ann', 'h', 's', 'Ann', 'A', 2.0, true),
    (2, 'bob@example.com', 'bob', 'h', 'pepper', 'Bob', 'B', 3.4, false);
CREATE TABLE casts.accounts (id integer, name text, google_customer_id char(12),
    monthly_budget_limit money);
INSERT INTO casts.accounts VALUES (1, 'Acme', '123-456-7890', '$1,234.50');
SET client_min_messages = warning;
SELECT table_name, rows_read, rows_converted, note
  FROM convert_legacy('casts') WHERE rows_read > 0;
RESET client_min_messages;
SELECT legacy_id, email, length(email) AS email_len, salt, length(salt) AS salt_len,
       failed_login_attempts, pg_typeof(failed_login_attempts)
  FROM users ORDER BY legacy_id;
-- what INSERT would have given, the same way
SELECT email::varchar(255) = u.email AS as_insert, (2.0::numeric)::integer AS two
  FROM users u WHERE legacy_id = 1;
SELECT google_customer_id, length(google_customer_id), monthly_budget_limit FROM accounts;
TRUNCATE users, accounts CASCADE;
-- integer into boolean: no assignment cast, a layout error (INSERT refuses it too)
ALTER TABLE casts.users ALTER COLUMN is_verified TYPE integer USING is_verified::integer;
SELECT * FROM convert_legacy('casts');
CREATE TEMP TABLE cast_check (b boolean);
INSERT INTO cast_check SELECT is_verified FROM casts.users;
-- too long and not a number: row problems, every one of them in one error
ALTER TABLE casts.users ALTER COLUMN is_verified TYPE boolean USING is_verified = 1,
                        ALTER COLUMN failed_login_attempts TYPE text USING round(failed_login_attempts);
INSERT INTO casts.users VALUES
    (3, 'cy@example.com', repeat('c', 101), 'h', 's', 'Cy', 'C', 'many', true),
    (4, 'di@example.com', repeat('d', 150), 'h', 's', 'Di', 'D', '1e3', NULL);
\set VERBOSITY default
SET client_min_messages = warning;
SELECT * FROM convert_legacy('casts');
RESET client_min_messages;
\set VERBOSITY terse
SELECT table_name, column_name, problem, rows, sample_keys, sample_values
  FROM convert_legacy_problems('casts') ORDER BY 1, 2, 3;
DROP SCHEMA casts CASCADE;

--
-- The application's database as its models create it: ids of mixed kinds
-- (users varchar(36) UUID text, accounts varchar(50) decimal text), no
-- ad_groups or ads, an extra audit_logs table, columns 2.0 has and the
-- models lack, message_metadata for metadata, campaigns.pacing_status,
-- upper-case PostgreSQL enums of member names, statuses 2.0 lacks, naive
-- UTC timestamps, json, Float money, campaigns without an account,
-- approval requests whose requester was deleted.
--
CREATE SCHEMA app;
SET search_path = app;
CREATE TYPE userrole AS ENUM ('ADMIN', 'MANAGER', 'ANALYST', 'VIEWER');
CREATE TYPE userstatus AS ENUM ('ACTIVE', 'INACTIVE', 'SUSPENDED', 'PENDING');
CREATE TYPE accountrole AS ENUM ('VIEWER', 'EDITOR', 'ADMIN', 'OWNER');
CREATE TYPE approvalstatus AS ENUM ('PENDING', 'APPROVED', 'REJECTED', 'EXPIRED');
CREATE TYPE prioritylevel AS ENUM ('LOW', 'MEDIUM', 'HIGH', 'URGENT');
CREATE TYPE messagerole AS ENUM ('USER', 'ASSISTANT', 'SYSTEM');
CREATE TABLE users (
    id varchar(36) PRIMARY KEY, email varchar(255) NOT NULL UNIQUE, username varchar(100) NOT NULL,
    password_hash varchar(255) NOT NULL, salt varchar(32) NOT NULL, first_name varchar(100) NOT NULL,
    last_name varchar(100) NOT NULL, phone varchar(20), company varchar(200), department varchar(100),
    role userrole NOT NULL, permissions json, status userstatus NOT NULL, is_verified boolean NOT NULL,
    last_login timestamp, last_activity timestamp, failed_login_attempts integer NOT NULL,
    locked_until timestamp, password_changed_at timestamp NOT NULL, google_ads_customer_ids json,
    google_ads_refresh_token varchar(500), created_at timestamp NOT NULL, updated_at timestamp NOT NULL);
CREATE TABLE accounts (
    id varchar(50) PRIMARY KEY, name varchar(255) NOT NULL, google_customer_id varchar(50) NOT NULL,
    timezone varchar(50) NOT NULL, currency varchar(3) NOT NULL, monthly_budget_limit double precision,
    is_active boolean NOT NULL, settings json NOT NULL, created_at timestamp NOT NULL,
    updated_at timestamp NOT NULL);
-- account_users: no permissions, created_at or updated_at
CREATE TABLE account_users (
    id serial PRIMARY KEY, account_id varchar(50) NOT NULL REFERENCES accounts,
    user_id varchar(36) NOT NULL REFERENCES users, role accountrole NOT NULL,
    invited_by varchar(36) REFERENCES users, joined_at timestamp, last_access timestamp);
-- campaigns: created_by, no updated_at, pacing_status, status as free text,
-- account_id without a constraint (campaigns without an account exist)
CREATE TABLE campaigns (
    id serial PRIMARY KEY, account_id varchar(50), created_by varchar(36) REFERENCES users,
    name varchar(255) NOT NULL, customer_id varchar(50) NOT NULL, google_campaign_id varchar(50),
    brief json, status varchar(20) NOT NULL, approved_at timestamp, budget_amount double precision,
    current_spend double precision NOT NULL, pacing_strategy varchar(20) NOT NULL,
    pacing_status varchar(20), last_pacing_check timestamp, projected_spend double precision,
    billing_period_start timestamp, billing_period_end timestamp, created_at timestamp NOT NULL);
-- one row per metric: a reshaping only a person can decide
CREATE TABLE analytics_metrics (
    id serial PRIMARY KEY, campaign_id integer NOT NULL REFERENCES campaigns,
    date date NOT NULL, metric varchar(50) NOT NULL, value double precision NOT NULL,
    created_at timestamp NOT NULL);
CREATE TABLE approval_requests (
    id varchar(36) PRIMARY KEY, campaign_id integer NOT NULL REFERENCES campaigns,
    requester_id varchar(50) NOT NULL, approved_by varchar(50), request_type varchar(50) NOT NULL,
    title varchar(255) NOT NULL, description text, priority prioritylevel NOT NULL,
    status approvalstatus NOT NULL, request_data json, approval_config json, rejection_reason text,
    comments text, expires_at timestamp, approved_at timestamp, created_at timestamp NOT NULL);
CREATE TABLE budget_alerts (
    id serial PRIMARY KEY, campaign_id integer NOT NULL REFERENCES campaigns,
    alert_type varchar(20) NOT NULL, severity varchar(20) NOT NULL, message text NOT NULL,
    current_spend double precision NOT NULL, budget_limit double precision NOT NULL,
    projected_spend double precision NOT NULL, recommended_action text, resolved boolean NOT NULL,
    resolved_at timestamp, created_at timestamp NOT NULL);
CREATE TABLE conversations (
    id varchar(36) PRIMARY KEY, user_id varchar(36) NOT NULL REFERENCES users, title varchar(200),
    context json, status varchar(20) NOT NULL, last_message_at timestamp,
    created_at timestamp NOT NULL, updated_at timestamp NOT NULL);
CREATE TABLE conversation_messages (
    id varchar(36) PRIMARY KEY, conversation_id varchar(36) NOT NULL REFERENCES conversations,
    role messagerole NOT NULL, content text NOT NULL, message_metadata json,
    created_at timestamp NOT NULL);
CREATE TABLE audit_logs (
    id serial PRIMARY KEY, user_id varchar(36) REFERENCES users, action varchar(100) NOT NULL,
    resource_type varchar(50), resource_id varchar(36), created_at timestamp NOT NULL);

INSERT INTO users VALUES
    ('0b5f7e1c-3a2d-4c8e-9f10-7d6a5b4c3e21', 'ann@example.com', 'ann', 'h1', 's1', 'Ann', 'Admin', NULL, 'Acme', NULL,
     'ADMIN', '{"all": true}', 'ACTIVE', true, '2025-06-01 09:30:00', NULL, 0, NULL, '2025-05-01 00:00:00',
     '["123-456-7890"]', NULL, '2025-05-01 08:00:00', '2025-06-01 09:30:00'),
    ('9d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09', 'bob@example.com', 'bob', 'h2', 's2', 'Bob', 'Buyer', '555-0100', NULL, 'Ads',
     'MANAGER', NULL, 'PENDING', false, NULL, NULL, 2, NULL, '2025-05-02 00:00:00', NULL, NULL,
     '2025-05-02 23:30:00', '2025-05-02 23:30:00');
INSERT INTO accounts VALUES
    ('1', 'Acme', '123-456-7890', 'America/New_York', 'USD', 5000.1, true, '{"tier": "gold"}',
     '2025-05-01 08:00:00', '2025-05-01 08:00:00'),
    ('2', 'Globex', '234-567-8901', 'Europe/Paris', 'EUR', NULL, true, '{}',
     '2025-05-03 08:00:00', '2025-05-03 08:00:00');
INSERT INTO account_users (account_id, user_id, role, invited_by, joined_at) VALUES
    ('1', '0b5f7e1c-3a2d-4c8e-9f10-7d6a5b4c3e21', 'OWNER', NULL, '2025-05-01 08:00:00'),
    ('1', '9d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09', 'EDITOR', '0b5f7e1c-3a2d-4c8e-9f10-7d6a5b4c3e21', NULL);
INSERT INTO campaigns (account_id, created_by, name, customer_id, brief, status, budget_amount,
                       current_spend, pacing_strategy, pacing_status, created_at) VALUES
    ('1', '0b5f7e1c-3a2d-4c8e-9f10-7d6a5b4c3e21', 'Spring', '123-456-7890', '{"goal": "sales"}', 'ACTIVE',
     1000.005, 250.25, 'LINEAR', 'on_track', '2025-05-10 12:00:00'),
    ('2', NULL, 'Brand', '234-567-8901', NULL, 'deleted', 0, 0, 'ADAPTIVE', NULL, '2025-05-11 12:00:00'),
    ('1', '9d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09', 'Summer', '123-456-7890', NULL, 'in_progress', 300.1,
     10, 'linear', 'behind', '2025-05-12 12:00:00'),
    (NULL, NULL, 'No account', '000-000-0000', NULL, 'DRAFT', NULL, 0, 'LINEAR', NULL, '2025-05-13 12:00:00');
INSERT INTO analytics_metrics (campaign_id, date, metric, value, created_at) VALUES
    (1, '2025-06-01', 'impressions', 1200, '2025-06-02 00:00:00'),
    (1, '2025-06-01', 'clicks', 34, '2025-06-02 00:00:00'),
    (1, '2025-06-01', 'cost', 56.78, '2025-06-02 00:00:00'),
    (1, '2025-06-02', 'impressions', 900, '2025-06-03 00:00:00'),
    (3, '2025-06-01', 'clicks', 5, '2025-06-02 00:00:00');
INSERT INTO approval_requests VALUES
    ('1', 1, '0b5f7e1c-3a2d-4c8e-9f10-7d6a5b4c3e21', NULL, 'budget_increase', 'More budget', NULL, 'HIGH',
     'PENDING', '{"amount": 500}', NULL, NULL, NULL, NULL, NULL, '2025-06-01 10:00:00'),
    ('2', 3, 'ffffffff-0000-4000-8000-000000000001', '0b5f7e1c-3a2d-4c8e-9f10-7d6a5b4c3e21', 'launch',
     'Launch summer', NULL, 'LOW', 'APPROVED', NULL, NULL, NULL, NULL, NULL, '2025-06-01 10:00:00', '2025-06-01 09:00:00');
INSERT INTO budget_alerts (campaign_id, alert_type, severity, message, current_spend, budget_limit,
                           projected_spend, resolved, created_at) VALUES
    (1, 'AT_RISK', 'HIGH', 'Pacing ahead', 250.25, 1000.005, 1100.4, false, '2025-06-01 12:00:00');
INSERT INTO conversations VALUES
    ('1', '0b5f7e1c-3a2d-4c8e-9f10-7d6a5b4c3e21', 'Bids', '{"campaign": 1}', 'ACTIVE', '2025-06-01 12:05:00',
     '2025-06-01 12:00:00', '2025-06-01 12:05:00');
INSERT INTO conversation_messages VALUES
    ('1', '1', 'USER', 'How do I raise bids?', NULL, '2025-06-01 12:00:00'),
    ('2', '1', 'ASSISTANT', 'Open the campaign ...', '{"model": "x", "tokens": 42}', '2025-06-01 12:05:00');
INSERT INTO audit_logs (user_id, action, resource_type, resource_id, created_at)
VALUES ('0b5f7e1c-3a2d-4c8e-9f10-7d6a5b4c3e21', 'login', NULL, NULL, '2025-06-01 09:30:00');
SET search_path = lane_google;

-- As it is: one error listing every layout mismatch (analytics_snapshots
-- is absent: read as empty; audit_logs is no table of lane_google's)
\set VERBOSITY default
SELECT * FROM convert_legacy('app');
\set VERBOSITY terse

-- The one reshaping only a person can decide: metrics pivoted into 2.0's
-- one row per campaign, day and period, as a view named as the target: a
-- view is read like a table.
CREATE VIEW app.analytics_snapshots AS
SELECT min(id) AS id, campaign_id, date AS snapshot_date, 'daily'::text AS period_type,
       coalesce(max(value) FILTER (WHERE metric = 'impressions'), 0)::bigint AS impressions,
       coalesce(max(value) FILTER (WHERE metric = 'clicks'), 0)::bigint AS clicks,
       coalesce(max(value) FILTER (WHERE metric = 'cost'), 0) AS cost,
       min(created_at) AS created_at
  FROM app.analytics_metrics GROUP BY campaign_id, date;

-- The dry run: every row problem, per table and column, counted with keys
SELECT table_name, column_name, problem, rows, sample_keys, sample_values
  FROM convert_legacy_problems('app', ignore_columns => '{campaigns.pacing_status}')
 ORDER BY 1, 2, 3;

-- The real run refuses them all in one error, converting nothing
\set VERBOSITY default
SET client_min_messages = warning;
SELECT * FROM convert_legacy('app', ignore_columns => '{campaigns.pacing_status}');
\set VERBOSITY terse
SELECT count(*) AS users_after_error FROM users;

-- The decisions no converter can make: what deleted and in_progress mean,
-- that pacing_status is left behind; campaigns without an account and
-- requests whose requester is gone are kept aside (and so are their
-- children: the snapshot and the request of the quarantined campaign).
SELECT table_name, rows_read, rows_converted, rows_quarantined, rows_nulled,
       rows_read = rows_converted + rows_quarantined AS adds_up, note
  FROM convert_legacy('app', on_orphan => 'quarantine', on_error => 'quarantine',
                      ignore_columns => '{campaigns.pacing_status}',
                      value_map => '{"campaigns.status": {"deleted": "cancelled", "in_progress": "active"}}');
RESET client_min_messages;
SELECT table_name, reason, row_data->>'id' AS id FROM legacy_quarantine ORDER BY 1, 3;
SELECT count(*) AS fk_problems FROM validate_fk_integrity();

-- every value: users (UUID text keys kept; naive UTC read as UTC, not as
-- the session's New York; upper-case enum names matched to the labels;
-- json as jsonb; what the models lack from 2.0's defaults)
SET TimeZone = 'UTC';
SELECT id::text, legacy_id, email, role, status, is_verified, permissions, google_ads_customer_ids,
       last_login, password_changed_at, created_at, updated_at
  FROM users ORDER BY email;
SELECT legacy_id, name, timezone, currency, monthly_budget_limit, is_active, settings, created_at
  FROM accounts ORDER BY legacy_id;
SELECT au.legacy_id, a.legacy_id AS account, u.email, au.role, i.email AS invited_by, au.joined_at,
       au.permissions, au.created_at = au.updated_at AS defaulted_together,
       au.created_at > now() - interval '1 hour' AS created_now
  FROM account_users au JOIN accounts a ON a.id = au.account_id JOIN users u ON u.id = au.user_id
  LEFT JOIN users i ON i.id = au.invited_by ORDER BY 1;
SELECT c.legacy_id, a.legacy_id AS account, u.email AS created_by, c.name, c.status, c.brief,
       c.budget_amount, c.current_spend, c.pacing_strategy, c.created_at,
       c.updated_at > now() - interval '1 hour' AS updated_now
  FROM campaigns c JOIN accounts a ON a.id = c.account_id LEFT JOIN users u ON u.id = c.created_by_id
 ORDER BY 1;
SELECT s.legacy_id, c.legacy_id AS campaign, s.snapshot_date, s.period_type, s.impressions, s.clicks,
       s.cost, s.conversions, s.metrics
  FROM analytics_snapshots s JOIN campaigns c ON c.id = s.campaign_id ORDER BY 1;
SELECT r.id::text, r.legacy_id, c.legacy_id AS campaign, u.email AS requester, r.priority, r.status,
       r.request_data, r.created_at, r.updated_at > now() - interval '1 hour' AS updated_now
  FROM approval_requests r JOIN campaigns c ON c.id = r.campaign_id JOIN users u ON u.id = r.requester_id;
SELECT b.legacy_id, c.legacy_id AS campaign, b.alert_type, b.severity, b.current_spend, b.budget_limit,
       b.projected_spend
  FROM budget_alerts b JOIN campaigns c ON c.id = b.campaign_id;
SELECT m.legacy_id, cv.legacy_id AS conversation, u.email, cv.status, m.role, m.content, m.metadata
  FROM conversation_messages m JOIN conversations cv ON cv.id = m.conversation_id
  JOIN users u ON u.id = cv.user_id ORDER BY 1;
SET TimeZone = 'America/New_York';

--
-- Catch-up: the application goes on writing its old tables until the
-- switch.  A second run converts the new rows (a child of a new parent
-- too), updates the rows changed since, and counts the rows deleted.
--
INSERT INTO app.campaigns (account_id, created_by, name, customer_id, status, budget_amount,
                           current_spend, pacing_strategy, created_at)
VALUES ('2', '9d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09', 'Autumn', '234-567-8901', 'PAUSED', 50, 0,
        'ACCELERATED', '2025-09-01 12:00:00');
INSERT INTO app.budget_alerts (campaign_id, alert_type, severity, message, current_spend,
                               budget_limit, projected_spend, resolved, created_at)
SELECT id, 'UNDERSPENDING', 'LOW', 'Slow start', 0, 50, 10, false, '2025-09-02 12:00:00'
  FROM app.campaigns WHERE name = 'Autumn';
UPDATE app.users SET status = 'SUSPENDED', failed_login_attempts = 5 WHERE username = 'bob';
DELETE FROM app.conversation_messages WHERE id = '1';
UPDATE account_users SET permissions = '{"kept": true}';    -- a column the source lacks
SET client_min_messages = warning;
SELECT table_name, rows_read, rows_converted, rows_quarantined, rows_unchanged, rows_updated,
       rows_converted - rows_unchanged - rows_updated AS rows_new, rows_missing,
       rows_read = rows_converted + rows_quarantined AS adds_up
  FROM convert_legacy('app', on_orphan => 'quarantine', on_error => 'quarantine',
                      ignore_columns => '{campaigns.pacing_status}',
                      value_map => '{"campaigns.status": {"deleted": "cancelled", "in_progress": "active"}}');
RESET client_min_messages;
SELECT c.legacy_id, c.name, c.status, a.legacy_id AS account, b.alert_type, b.message
  FROM campaigns c JOIN accounts a ON a.id = c.account_id
  JOIN budget_alerts b ON b.campaign_id = c.id WHERE c.name = 'Autumn';
SELECT email, status, failed_login_attempts FROM users ORDER BY email;
SELECT DISTINCT permissions FROM account_users;
-- the message deleted at the source is counted, not deleted: a person decides
SELECT count(*) AS messages FROM conversation_messages;
SELECT count(*) AS fk_problems FROM validate_fk_integrity();

--
-- Bad arguments: each a clear error
--
SELECT * FROM convert_legacy('app', on_error => 'ignore');
SELECT * FROM convert_legacy('app', column_map => '["a", "b"]');
SELECT * FROM convert_legacy('app', column_map => '{"nosuchtable.x": "y"}');
SELECT * FROM convert_legacy('app', ignore_columns => '{pacing_status}');
SELECT * FROM convert_legacy('app', value_map => '{"campaigns.status": "cancelled"}');
SELECT * FROM convert_legacy('app', value_map => '{"campaigns.status": {"deleted": 3}}');
SELECT * FROM convert_legacy('app', source_timezone => 'Mars/Olympus');
SELECT * FROM convert_legacy('app', source_timezone => NULL);
-- a rule that names no column, or a label the enum lacks: in the layout error
\set VERBOSITY default
SELECT * FROM convert_legacy('app', ignore_columns => '{campaigns.pacing_status,campaigns.no_such}',
                             column_map => '{"users.nick": "username"}',
                             value_map => '{"campaigns.status": {"deleted": "gone"}, "users.email": {"a": "b"}}');
\set VERBOSITY terse

--
-- column_map: a column under a name of the caller's own; on_error
-- 'quarantine' keeps a bad row aside with its reasons
--
TRUNCATE users, accounts CASCADE;
TRUNCATE legacy_quarantine;
ALTER TABLE app.campaigns RENAME COLUMN status TO legacy_state;
UPDATE app.campaigns SET legacy_state = 'archived' WHERE name = 'Summer';
SET client_min_messages = warning;
SELECT table_name, rows_read, rows_converted, rows_quarantined,
       rows_read = rows_converted + rows_quarantined AS adds_up, note
  FROM convert_legacy('app', on_orphan => 'quarantine', on_error => 'quarantine',
                      column_map => '{"campaigns.legacy_state": "status"}',
                      ignore_columns => '{campaigns.pacing_status}',
                      value_map => '{"campaigns.status": {"deleted": "cancelled"}}')
 WHERE table_name IN ('campaigns', 'analytics_snapshots', 'approval_requests', 'budget_alerts');
RESET client_min_messages;
SELECT table_name, reason, row_data->>'id' AS id FROM legacy_quarantine ORDER BY 1, 3;
SELECT name, status FROM campaigns ORDER BY name;

DROP SCHEMA app CASCADE;
DROP EXTENSION lane_google CASCADE;
DROP SCHEMA lane_google;
