/* lane_google--2.1--1.1.sql: UUID keys back to integer keys (as lane_google--2.0--1.0.sql) */

\echo Use "ALTER EXTENSION lane_google UPDATE TO '1.1'" to load this file. \quit

-- Runs inside ALTER EXTENSION's one transaction: all or nothing.  Converted
-- rows get their original ids back from legacy_id; rows born at 2.0 get ids
-- past the largest one (in created_at order), and the references to them
-- follow; each identity sequence ends past its table's largest id.

-- ---------------------------------------------------------------------------
-- [online conversion] (src/online.c): the compatibility schema lane_google_v1
-- must be gone first (its views read the 2.x tables); the 2.1-only compat
-- functions are dropped.  The 1.1-only online functions are created at the
-- end of this script.
-- ---------------------------------------------------------------------------
DO $compat$
BEGIN
    IF pg_catalog.to_regnamespace('lane_google_v1') IS NOT NULL THEN
        RAISE EXCEPTION 'the compatibility schema lane_google_v1 still exists'
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = 'Its views read and write the 2.x tables through lane_google._compat_write().',
                  HINT = 'SELECT lane_google.drop_compat() first.';
    END IF;
END
$compat$;
DROP FUNCTION @extschema@.drop_compat();
DROP FUNCTION @extschema@._compat_write();
-- [end of online conversion]

-- dependents (issue 9): the plan of the objects around the 11 tables, before
-- any row is read; refuses naming every object it cannot carry across.
SELECT @extschema@._lg_dependents_detach();

DO $preflight$
DECLARE
    problems text;
    t text;
    bad bigint;
BEGIN
    -- The rows are copied by INSERT ... SELECT, which reads with the
    -- transaction's snapshot: in REPEATABLE READ or SERIALIZABLE it predates
    -- the locks taken below, and rows committed in between would be lost.
    IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'ALTER EXTENSION lane_google UPDATE TO ''1.1'' must run at isolation level READ COMMITTED'
            USING ERRCODE = 'invalid_transaction_state',
                  DETAIL = pg_catalog.format('This transaction is %s: its snapshot predates the update''s locks, so rows committed in between would not be copied.',
                                             pg_catalog.upper(pg_catalog.current_setting('transaction_isolation'))),
                  HINT = 'Nothing was changed.  Run the update in a READ COMMITTED transaction.';
    END IF;
    SELECT string_agg(format('%s (%s -> %s): %s rows, keys %s', v.constraint_name,
                             v.table_name, v.referenced_table, v.rows,
                             array_to_string(v.sample, ', ')), E'\n')
      INTO problems
      FROM @extschema@.validate_fk_integrity('@extschema@') AS v
     WHERE v.problem = 'orphan_rows';
    IF problems IS NOT NULL THEN
        RAISE EXCEPTION 'lane_google 2.1 data has rows whose parent row is missing'
            USING ERRCODE = 'foreign_key_violation', DETAIL = problems,
                  HINT = 'Nothing was changed.  Delete or fix the orphan rows first.';
    END IF;
    FOREACH t IN ARRAY ARRAY['users', 'accounts', 'account_users', 'campaigns', 'ad_groups', 'ads', 'analytics_snapshots', 'approval_requests', 'budget_alerts', 'conversations', 'conversation_messages'] LOOP
        EXECUTE format('SELECT legacy_id FROM @extschema@.%I
                         WHERE legacy_id NOT BETWEEN -2147483648 AND 2147483647 LIMIT 1', t)
           INTO bad;
        IF bad IS NOT NULL THEN
            RAISE EXCEPTION 'legacy id % of table % does not fit the integer keys of version 1.0', bad, t
                USING ERRCODE = 'numeric_value_out_of_range',
                      HINT = 'Nothing was changed.  Version 1.0 has integer keys; this database came from bigint keys.';
        END IF;
        EXECUTE format('SELECT coalesce(max(legacy_id), 0) + count(*) FILTER (WHERE legacy_id IS NULL)
                          FROM @extschema@.%I', t)
           INTO bad;
        IF bad > 2147483647 THEN
            RAISE EXCEPTION 'table % has no integer ids left for its rows born at 2.0', t
                USING ERRCODE = 'numeric_value_out_of_range',
                      DETAIL = format('They would need ids up to %s.', bad),
                      HINT = 'Nothing was changed.  Version 1.0 has integer keys.';
        END IF;
    END LOOP;
END
$preflight$;

-- Set the 2.0 tables aside, out of the extension.
ALTER EXTENSION lane_google DROP TABLE @extschema@.users;
ALTER EXTENSION lane_google DROP TABLE @extschema@.accounts;
ALTER EXTENSION lane_google DROP TABLE @extschema@.account_users;
ALTER EXTENSION lane_google DROP TABLE @extschema@.campaigns;
ALTER EXTENSION lane_google DROP TABLE @extschema@.ad_groups;
ALTER EXTENSION lane_google DROP TABLE @extschema@.ads;
ALTER EXTENSION lane_google DROP TABLE @extschema@.analytics_snapshots;
ALTER EXTENSION lane_google DROP TABLE @extschema@.approval_requests;
ALTER EXTENSION lane_google DROP TABLE @extschema@.budget_alerts;
ALTER EXTENSION lane_google DROP TABLE @extschema@.conversations;
ALTER EXTENSION lane_google DROP TABLE @extschema@.conversation_messages;
ALTER TABLE @extschema@.users RENAME TO _lg_v2_users;
ALTER TABLE @extschema@.accounts RENAME TO _lg_v2_accounts;
ALTER TABLE @extschema@.account_users RENAME TO _lg_v2_account_users;
ALTER TABLE @extschema@.campaigns RENAME TO _lg_v2_campaigns;
ALTER TABLE @extschema@.ad_groups RENAME TO _lg_v2_ad_groups;
ALTER TABLE @extschema@.ads RENAME TO _lg_v2_ads;
ALTER TABLE @extschema@.analytics_snapshots RENAME TO _lg_v2_analytics_snapshots;
ALTER TABLE @extschema@.approval_requests RENAME TO _lg_v2_approval_requests;
ALTER TABLE @extschema@.budget_alerts RENAME TO _lg_v2_budget_alerts;
ALTER TABLE @extschema@.conversations RENAME TO _lg_v2_conversations;
ALTER TABLE @extschema@.conversation_messages RENAME TO _lg_v2_conversation_messages;

-- Rows born at 2.0 get integer ids past the largest (the tables set aside are
-- dropped below, so their triggers go first: nothing here changes a row's data).
DROP TRIGGER users_set_updated_at ON @extschema@._lg_v2_users;
DROP TRIGGER accounts_set_updated_at ON @extschema@._lg_v2_accounts;
DROP TRIGGER account_users_set_updated_at ON @extschema@._lg_v2_account_users;
DROP TRIGGER campaigns_set_updated_at ON @extschema@._lg_v2_campaigns;
DROP TRIGGER ad_groups_set_updated_at ON @extschema@._lg_v2_ad_groups;
DROP TRIGGER ads_set_updated_at ON @extschema@._lg_v2_ads;
DROP TRIGGER approval_requests_set_updated_at ON @extschema@._lg_v2_approval_requests;
DROP TRIGGER conversations_set_updated_at ON @extschema@._lg_v2_conversations;
UPDATE @extschema@._lg_v2_users AS o SET legacy_id = n.new_id
  FROM (SELECT id, (SELECT coalesce(max(legacy_id), 0) FROM @extschema@._lg_v2_users)
                   + row_number() OVER (ORDER BY created_at, id) AS new_id
          FROM @extschema@._lg_v2_users WHERE legacy_id IS NULL) AS n
 WHERE o.id = n.id;
UPDATE @extschema@._lg_v2_accounts AS o SET legacy_id = n.new_id
  FROM (SELECT id, (SELECT coalesce(max(legacy_id), 0) FROM @extschema@._lg_v2_accounts)
                   + row_number() OVER (ORDER BY created_at, id) AS new_id
          FROM @extschema@._lg_v2_accounts WHERE legacy_id IS NULL) AS n
 WHERE o.id = n.id;
UPDATE @extschema@._lg_v2_account_users AS o SET legacy_id = n.new_id
  FROM (SELECT id, (SELECT coalesce(max(legacy_id), 0) FROM @extschema@._lg_v2_account_users)
                   + row_number() OVER (ORDER BY created_at, id) AS new_id
          FROM @extschema@._lg_v2_account_users WHERE legacy_id IS NULL) AS n
 WHERE o.id = n.id;
UPDATE @extschema@._lg_v2_campaigns AS o SET legacy_id = n.new_id
  FROM (SELECT id, (SELECT coalesce(max(legacy_id), 0) FROM @extschema@._lg_v2_campaigns)
                   + row_number() OVER (ORDER BY created_at, id) AS new_id
          FROM @extschema@._lg_v2_campaigns WHERE legacy_id IS NULL) AS n
 WHERE o.id = n.id;
UPDATE @extschema@._lg_v2_ad_groups AS o SET legacy_id = n.new_id
  FROM (SELECT id, (SELECT coalesce(max(legacy_id), 0) FROM @extschema@._lg_v2_ad_groups)
                   + row_number() OVER (ORDER BY created_at, id) AS new_id
          FROM @extschema@._lg_v2_ad_groups WHERE legacy_id IS NULL) AS n
 WHERE o.id = n.id;
UPDATE @extschema@._lg_v2_ads AS o SET legacy_id = n.new_id
  FROM (SELECT id, (SELECT coalesce(max(legacy_id), 0) FROM @extschema@._lg_v2_ads)
                   + row_number() OVER (ORDER BY created_at, id) AS new_id
          FROM @extschema@._lg_v2_ads WHERE legacy_id IS NULL) AS n
 WHERE o.id = n.id;
UPDATE @extschema@._lg_v2_analytics_snapshots AS o SET legacy_id = n.new_id
  FROM (SELECT id, (SELECT coalesce(max(legacy_id), 0) FROM @extschema@._lg_v2_analytics_snapshots)
                   + row_number() OVER (ORDER BY created_at, id) AS new_id
          FROM @extschema@._lg_v2_analytics_snapshots WHERE legacy_id IS NULL) AS n
 WHERE o.id = n.id;
UPDATE @extschema@._lg_v2_approval_requests AS o SET legacy_id = n.new_id
  FROM (SELECT id, (SELECT coalesce(max(legacy_id), 0) FROM @extschema@._lg_v2_approval_requests)
                   + row_number() OVER (ORDER BY created_at, id) AS new_id
          FROM @extschema@._lg_v2_approval_requests WHERE legacy_id IS NULL) AS n
 WHERE o.id = n.id;
UPDATE @extschema@._lg_v2_budget_alerts AS o SET legacy_id = n.new_id
  FROM (SELECT id, (SELECT coalesce(max(legacy_id), 0) FROM @extschema@._lg_v2_budget_alerts)
                   + row_number() OVER (ORDER BY created_at, id) AS new_id
          FROM @extschema@._lg_v2_budget_alerts WHERE legacy_id IS NULL) AS n
 WHERE o.id = n.id;
UPDATE @extschema@._lg_v2_conversations AS o SET legacy_id = n.new_id
  FROM (SELECT id, (SELECT coalesce(max(legacy_id), 0) FROM @extschema@._lg_v2_conversations)
                   + row_number() OVER (ORDER BY created_at, id) AS new_id
          FROM @extschema@._lg_v2_conversations WHERE legacy_id IS NULL) AS n
 WHERE o.id = n.id;
UPDATE @extschema@._lg_v2_conversation_messages AS o SET legacy_id = n.new_id
  FROM (SELECT id, (SELECT coalesce(max(legacy_id), 0) FROM @extschema@._lg_v2_conversation_messages)
                   + row_number() OVER (ORDER BY created_at, id) AS new_id
          FROM @extschema@._lg_v2_conversation_messages WHERE legacy_id IS NULL) AS n
 WHERE o.id = n.id;

-- The 1.0 tables, as lane_google--1.0.sql creates them, without keys yet.

CREATE TABLE @extschema@.users (
    id integer GENERATED BY DEFAULT AS IDENTITY,
    email varchar(255) NOT NULL,
    username varchar(100) NOT NULL,
    password_hash varchar(255) NOT NULL,
    salt varchar(32) NOT NULL,
    first_name varchar(100) NOT NULL,
    last_name varchar(100) NOT NULL,
    phone varchar(20),
    company varchar(200),
    department varchar(100),
    role @extschema@.user_role NOT NULL DEFAULT 'viewer',
    permissions jsonb,
    status @extschema@.user_status NOT NULL DEFAULT 'pending',
    is_verified boolean NOT NULL DEFAULT false,
    last_login timestamptz,
    last_activity timestamptz,
    failed_login_attempts integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    password_changed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    google_ads_customer_ids jsonb,
    google_ads_refresh_token varchar(500),
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);

CREATE TABLE @extschema@.accounts (
    id integer GENERATED BY DEFAULT AS IDENTITY,
    name varchar(255) NOT NULL,
    google_customer_id varchar(50) NOT NULL,
    timezone varchar(50) NOT NULL DEFAULT 'America/New_York',
    currency char(3) NOT NULL DEFAULT 'USD',
    monthly_budget_limit numeric(12,2),
    is_active boolean NOT NULL DEFAULT true,
    settings jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);

CREATE TABLE @extschema@.account_users (
    id integer GENERATED BY DEFAULT AS IDENTITY,
    account_id integer NOT NULL,
    user_id integer NOT NULL,
    role @extschema@.account_role NOT NULL DEFAULT 'viewer',
    permissions jsonb,
    invited_by integer,
    joined_at timestamptz DEFAULT pg_catalog.now(),
    last_access timestamptz,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);

CREATE TABLE @extschema@.campaigns (
    id integer GENERATED BY DEFAULT AS IDENTITY,
    account_id integer NOT NULL,
    created_by_id integer,
    name varchar(255) NOT NULL,
    customer_id varchar(50) NOT NULL,
    google_campaign_id varchar(50),
    brief jsonb,
    status @extschema@.campaign_status NOT NULL DEFAULT 'draft',
    approved_at timestamptz,
    budget_amount numeric(12,2)
        CONSTRAINT campaigns_budget_amount_check CHECK (budget_amount >= 0),
    current_spend numeric(12,2) NOT NULL DEFAULT 0,
    pacing_strategy @extschema@.pacing_strategy NOT NULL DEFAULT 'linear',
    last_pacing_check timestamptz,
    projected_spend numeric(12,2),
    billing_period_start timestamptz,
    billing_period_end timestamptz,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);

CREATE TABLE @extschema@.ad_groups (
    id integer GENERATED BY DEFAULT AS IDENTITY,
    campaign_id integer NOT NULL,
    name varchar(255) NOT NULL,
    google_ad_group_id varchar(50),
    status @extschema@.ad_status NOT NULL DEFAULT 'enabled',
    cpc_bid numeric(12,2),
    keywords jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);

CREATE TABLE @extschema@.ads (
    id integer GENERATED BY DEFAULT AS IDENTITY,
    ad_group_id integer NOT NULL,
    google_ad_id varchar(50),
    headlines jsonb NOT NULL DEFAULT '[]',
    descriptions jsonb NOT NULL DEFAULT '[]',
    final_url varchar(2048),
    status @extschema@.ad_status NOT NULL DEFAULT 'enabled',
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);

CREATE TABLE @extschema@.analytics_snapshots (
    id integer GENERATED BY DEFAULT AS IDENTITY,
    campaign_id integer NOT NULL,
    snapshot_date date NOT NULL,
    period_type @extschema@.period_type NOT NULL DEFAULT 'daily',
    impressions bigint NOT NULL DEFAULT 0,
    clicks bigint NOT NULL DEFAULT 0,
    cost numeric(12,2) NOT NULL DEFAULT 0,
    conversions numeric(12,2) NOT NULL DEFAULT 0,
    conversion_value numeric(12,2) NOT NULL DEFAULT 0,
    metrics jsonb,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);

CREATE TABLE @extschema@.approval_requests (
    id integer GENERATED BY DEFAULT AS IDENTITY,
    campaign_id integer NOT NULL,
    requester_id integer NOT NULL,
    approved_by integer,
    request_type varchar(50) NOT NULL,
    title varchar(255) NOT NULL,
    description text,
    priority @extschema@.priority_level NOT NULL DEFAULT 'medium',
    status @extschema@.approval_status NOT NULL DEFAULT 'pending',
    request_data jsonb,
    approval_config jsonb,
    rejection_reason text,
    comments text,
    expires_at timestamptz,
    approved_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);

CREATE TABLE @extschema@.budget_alerts (
    id integer GENERATED BY DEFAULT AS IDENTITY,
    campaign_id integer NOT NULL,
    alert_type @extschema@.alert_type NOT NULL,
    severity @extschema@.alert_severity NOT NULL DEFAULT 'medium',
    message text NOT NULL,
    current_spend numeric(12,2) NOT NULL,
    budget_limit numeric(12,2) NOT NULL,
    projected_spend numeric(12,2) NOT NULL,
    recommended_action text,
    resolved boolean NOT NULL DEFAULT false,
    resolved_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);

CREATE TABLE @extschema@.conversations (
    id integer GENERATED BY DEFAULT AS IDENTITY,
    user_id integer NOT NULL,
    title varchar(200),
    context jsonb,
    status @extschema@.conversation_status NOT NULL DEFAULT 'active',
    last_message_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);

CREATE TABLE @extschema@.conversation_messages (
    id integer GENERATED BY DEFAULT AS IDENTITY,
    conversation_id integer NOT NULL,
    role @extschema@.message_role NOT NULL,
    content text NOT NULL,
    metadata jsonb,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);

-- Every row, its keys translated through the parents' legacy ids.
INSERT INTO @extschema@.users (id, email, username, password_hash, salt, first_name, last_name, phone, company, department, role, permissions, status, is_verified, last_login, last_activity, failed_login_attempts, locked_until, password_changed_at, google_ads_customer_ids, google_ads_refresh_token, created_at, updated_at)
SELECT c.legacy_id, c.email, c.username, c.password_hash, c.salt, c.first_name, c.last_name, c.phone, c.company, c.department, c.role, c.permissions, c.status, c.is_verified, c.last_login, c.last_activity, c.failed_login_attempts, c.locked_until, c.password_changed_at, c.google_ads_customer_ids, c.google_ads_refresh_token, c.created_at, c.updated_at
  FROM @extschema@._lg_v2_users AS c;
INSERT INTO @extschema@.accounts (id, name, google_customer_id, timezone, currency, monthly_budget_limit, is_active, settings, created_at, updated_at)
SELECT c.legacy_id, c.name, c.google_customer_id, c.timezone, c.currency, c.monthly_budget_limit, c.is_active, c.settings, c.created_at, c.updated_at
  FROM @extschema@._lg_v2_accounts AS c;
INSERT INTO @extschema@.account_users (id, account_id, user_id, role, permissions, invited_by, joined_at, last_access, created_at, updated_at)
SELECT c.legacy_id, p1.legacy_id, p2.legacy_id, c.role, c.permissions, p3.legacy_id, c.joined_at, c.last_access, c.created_at, c.updated_at
  FROM @extschema@._lg_v2_account_users AS c
  JOIN @extschema@._lg_v2_accounts AS p1 ON p1.id = c.account_id
  JOIN @extschema@._lg_v2_users AS p2 ON p2.id = c.user_id
  LEFT JOIN @extschema@._lg_v2_users AS p3 ON p3.id = c.invited_by;
INSERT INTO @extschema@.campaigns (id, account_id, created_by_id, name, customer_id, google_campaign_id, brief, status, approved_at, budget_amount, current_spend, pacing_strategy, last_pacing_check, projected_spend, billing_period_start, billing_period_end, created_at, updated_at)
SELECT c.legacy_id, p1.legacy_id, p2.legacy_id, c.name, c.customer_id, c.google_campaign_id, c.brief, c.status, c.approved_at, c.budget_amount, c.current_spend, c.pacing_strategy, c.last_pacing_check, c.projected_spend, c.billing_period_start, c.billing_period_end, c.created_at, c.updated_at
  FROM @extschema@._lg_v2_campaigns AS c
  JOIN @extschema@._lg_v2_accounts AS p1 ON p1.id = c.account_id
  LEFT JOIN @extschema@._lg_v2_users AS p2 ON p2.id = c.created_by_id;
INSERT INTO @extschema@.ad_groups (id, campaign_id, name, google_ad_group_id, status, cpc_bid, keywords, created_at, updated_at)
SELECT c.legacy_id, p1.legacy_id, c.name, c.google_ad_group_id, c.status, c.cpc_bid, c.keywords, c.created_at, c.updated_at
  FROM @extschema@._lg_v2_ad_groups AS c
  JOIN @extschema@._lg_v2_campaigns AS p1 ON p1.id = c.campaign_id;
INSERT INTO @extschema@.ads (id, ad_group_id, google_ad_id, headlines, descriptions, final_url, status, created_at, updated_at)
SELECT c.legacy_id, p1.legacy_id, c.google_ad_id, c.headlines, c.descriptions, c.final_url, c.status, c.created_at, c.updated_at
  FROM @extschema@._lg_v2_ads AS c
  JOIN @extschema@._lg_v2_ad_groups AS p1 ON p1.id = c.ad_group_id;
INSERT INTO @extschema@.analytics_snapshots (id, campaign_id, snapshot_date, period_type, impressions, clicks, cost, conversions, conversion_value, metrics, created_at)
SELECT c.legacy_id, p1.legacy_id, c.snapshot_date, c.period_type, c.impressions, c.clicks, c.cost, c.conversions, c.conversion_value, c.metrics, c.created_at
  FROM @extschema@._lg_v2_analytics_snapshots AS c
  JOIN @extschema@._lg_v2_campaigns AS p1 ON p1.id = c.campaign_id;
INSERT INTO @extschema@.approval_requests (id, campaign_id, requester_id, approved_by, request_type, title, description, priority, status, request_data, approval_config, rejection_reason, comments, expires_at, approved_at, created_at, updated_at)
SELECT c.legacy_id, p1.legacy_id, p2.legacy_id, p3.legacy_id, c.request_type, c.title, c.description, c.priority, c.status, c.request_data, c.approval_config, c.rejection_reason, c.comments, c.expires_at, c.approved_at, c.created_at, c.updated_at
  FROM @extschema@._lg_v2_approval_requests AS c
  JOIN @extschema@._lg_v2_campaigns AS p1 ON p1.id = c.campaign_id
  JOIN @extschema@._lg_v2_users AS p2 ON p2.id = c.requester_id
  LEFT JOIN @extschema@._lg_v2_users AS p3 ON p3.id = c.approved_by;
INSERT INTO @extschema@.budget_alerts (id, campaign_id, alert_type, severity, message, current_spend, budget_limit, projected_spend, recommended_action, resolved, resolved_at, created_at)
SELECT c.legacy_id, p1.legacy_id, c.alert_type, c.severity, c.message, c.current_spend, c.budget_limit, c.projected_spend, c.recommended_action, c.resolved, c.resolved_at, c.created_at
  FROM @extschema@._lg_v2_budget_alerts AS c
  JOIN @extschema@._lg_v2_campaigns AS p1 ON p1.id = c.campaign_id;
INSERT INTO @extschema@.conversations (id, user_id, title, context, status, last_message_at, created_at, updated_at)
SELECT c.legacy_id, p1.legacy_id, c.title, c.context, c.status, c.last_message_at, c.created_at, c.updated_at
  FROM @extschema@._lg_v2_conversations AS c
  JOIN @extschema@._lg_v2_users AS p1 ON p1.id = c.user_id;
INSERT INTO @extschema@.conversation_messages (id, conversation_id, role, content, metadata, created_at)
SELECT c.legacy_id, p1.legacy_id, c.role, c.content, c.metadata, c.created_at
  FROM @extschema@._lg_v2_conversation_messages AS c
  JOIN @extschema@._lg_v2_conversations AS p1 ON p1.id = c.conversation_id;

-- Nothing lost: every table holds as many rows as before.
DO $counts$
DECLARE
    t text;
    before bigint;
    after bigint;
BEGIN
    FOREACH t IN ARRAY ARRAY['users', 'accounts', 'account_users', 'campaigns', 'ad_groups', 'ads', 'analytics_snapshots', 'approval_requests', 'budget_alerts', 'conversations', 'conversation_messages'] LOOP
        EXECUTE format('SELECT count(*) FROM @extschema@.%I', '_lg_v2_' || t) INTO before;
        EXECUTE format('SELECT count(*) FROM @extschema@.%I', t) INTO after;
        IF before <> after THEN
            RAISE EXCEPTION 'table % would go from % rows to %', t, before, after
                USING ERRCODE = 'data_exception', HINT = 'Nothing was changed.';
        END IF;
        -- the next id is past the largest; at 2^31-1 there is none left
        EXECUTE format('SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence(%L, ''id''), '
                       'least(greatest(coalesce(max(id), 0)::bigint + 1, 1), 2147483647), '
                       'coalesce(max(id), 0) < 2147483647 IS NOT TRUE) FROM @extschema@.%I',
                       '@extschema@.' || t, t);
    END LOOP;
END
$counts$;

-- dependents: drop the carried views and foreign keys, convert the
-- referencing columns, while the tables set aside still exist.
SELECT @extschema@._lg_dependents_convert('_lg_v2_');

DROP TABLE @extschema@._lg_v2_users, @extschema@._lg_v2_accounts, @extschema@._lg_v2_account_users, @extschema@._lg_v2_campaigns, @extschema@._lg_v2_ad_groups, @extschema@._lg_v2_ads, @extschema@._lg_v2_analytics_snapshots, @extschema@._lg_v2_approval_requests, @extschema@._lg_v2_budget_alerts, @extschema@._lg_v2_conversations, @extschema@._lg_v2_conversation_messages;
DROP FUNCTION @extschema@.legacy_id_of(text, uuid);
DROP FUNCTION @extschema@.convert_legacy(name, text, boolean, text, jsonb, text[], jsonb, text, text);
DROP FUNCTION @extschema@.convert_legacy_problems(name, jsonb, text[], jsonb, text);

-- ---------------------------------------------------------------------------
-- Keys, indexes, foreign keys, triggers
-- ---------------------------------------------------------------------------

ALTER TABLE @extschema@.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id),
    ADD CONSTRAINT users_email_key UNIQUE (email),
    ADD CONSTRAINT users_username_key UNIQUE (username);
ALTER TABLE @extschema@.accounts
    ADD CONSTRAINT accounts_pkey PRIMARY KEY (id),
    ADD CONSTRAINT accounts_google_customer_id_key UNIQUE (google_customer_id);
ALTER TABLE @extschema@.account_users
    ADD CONSTRAINT account_users_pkey PRIMARY KEY (id),
    ADD CONSTRAINT account_users_account_id_user_id_key UNIQUE (account_id, user_id);
ALTER TABLE @extschema@.campaigns
    ADD CONSTRAINT campaigns_pkey PRIMARY KEY (id);
ALTER TABLE @extschema@.ad_groups
    ADD CONSTRAINT ad_groups_pkey PRIMARY KEY (id);
ALTER TABLE @extschema@.ads
    ADD CONSTRAINT ads_pkey PRIMARY KEY (id);
ALTER TABLE @extschema@.analytics_snapshots
    ADD CONSTRAINT analytics_snapshots_pkey PRIMARY KEY (id),
    ADD CONSTRAINT analytics_snapshots_campaign_id_snapshot_date_period_type_key
        UNIQUE (campaign_id, snapshot_date, period_type);
ALTER TABLE @extschema@.approval_requests
    ADD CONSTRAINT approval_requests_pkey PRIMARY KEY (id);
ALTER TABLE @extschema@.budget_alerts
    ADD CONSTRAINT budget_alerts_pkey PRIMARY KEY (id);
ALTER TABLE @extschema@.conversations
    ADD CONSTRAINT conversations_pkey PRIMARY KEY (id);
ALTER TABLE @extschema@.conversation_messages
    ADD CONSTRAINT conversation_messages_pkey PRIMARY KEY (id);

CREATE INDEX users_status_idx ON @extschema@.users (status);
CREATE INDEX users_role_idx ON @extschema@.users (role);
CREATE INDEX users_created_at_idx ON @extschema@.users (created_at);
CREATE INDEX account_users_user_id_idx ON @extschema@.account_users (user_id);
CREATE INDEX account_users_invited_by_idx ON @extschema@.account_users (invited_by);
CREATE INDEX campaigns_account_id_idx ON @extschema@.campaigns (account_id);
CREATE INDEX campaigns_created_by_id_idx ON @extschema@.campaigns (created_by_id);
CREATE INDEX campaigns_status_idx ON @extschema@.campaigns (status);
CREATE INDEX campaigns_google_campaign_id_idx ON @extschema@.campaigns (google_campaign_id);
CREATE INDEX ad_groups_campaign_id_idx ON @extschema@.ad_groups (campaign_id);
CREATE INDEX ads_ad_group_id_idx ON @extschema@.ads (ad_group_id);
CREATE INDEX approval_requests_campaign_id_idx ON @extschema@.approval_requests (campaign_id);
CREATE INDEX approval_requests_requester_id_idx ON @extschema@.approval_requests (requester_id);
CREATE INDEX approval_requests_approved_by_idx ON @extschema@.approval_requests (approved_by);
CREATE INDEX budget_alerts_campaign_id_idx ON @extschema@.budget_alerts (campaign_id);
CREATE INDEX conversations_user_id_idx ON @extschema@.conversations (user_id);
CREATE INDEX conversation_messages_conversation_id_idx ON @extschema@.conversation_messages (conversation_id);

ALTER TABLE @extschema@.account_users
    ADD CONSTRAINT account_users_account_id_fkey FOREIGN KEY (account_id)
        REFERENCES @extschema@.accounts (id) ON DELETE CASCADE,
    ADD CONSTRAINT account_users_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES @extschema@.users (id) ON DELETE CASCADE,
    ADD CONSTRAINT account_users_invited_by_fkey FOREIGN KEY (invited_by)
        REFERENCES @extschema@.users (id) ON DELETE SET NULL;
ALTER TABLE @extschema@.campaigns
    ADD CONSTRAINT campaigns_account_id_fkey FOREIGN KEY (account_id)
        REFERENCES @extschema@.accounts (id) ON DELETE CASCADE,
    ADD CONSTRAINT campaigns_created_by_id_fkey FOREIGN KEY (created_by_id)
        REFERENCES @extschema@.users (id) ON DELETE SET NULL;
ALTER TABLE @extschema@.ad_groups
    ADD CONSTRAINT ad_groups_campaign_id_fkey FOREIGN KEY (campaign_id)
        REFERENCES @extschema@.campaigns (id) ON DELETE CASCADE;
ALTER TABLE @extschema@.ads
    ADD CONSTRAINT ads_ad_group_id_fkey FOREIGN KEY (ad_group_id)
        REFERENCES @extschema@.ad_groups (id) ON DELETE CASCADE;
ALTER TABLE @extschema@.analytics_snapshots
    ADD CONSTRAINT analytics_snapshots_campaign_id_fkey FOREIGN KEY (campaign_id)
        REFERENCES @extschema@.campaigns (id) ON DELETE CASCADE;
ALTER TABLE @extschema@.approval_requests
    ADD CONSTRAINT approval_requests_campaign_id_fkey FOREIGN KEY (campaign_id)
        REFERENCES @extschema@.campaigns (id) ON DELETE CASCADE,
    ADD CONSTRAINT approval_requests_requester_id_fkey FOREIGN KEY (requester_id)
        REFERENCES @extschema@.users (id) ON DELETE CASCADE,
    ADD CONSTRAINT approval_requests_approved_by_fkey FOREIGN KEY (approved_by)
        REFERENCES @extschema@.users (id) ON DELETE SET NULL;
ALTER TABLE @extschema@.budget_alerts
    ADD CONSTRAINT budget_alerts_campaign_id_fkey FOREIGN KEY (campaign_id)
        REFERENCES @extschema@.campaigns (id) ON DELETE CASCADE;
ALTER TABLE @extschema@.conversations
    ADD CONSTRAINT conversations_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES @extschema@.users (id) ON DELETE CASCADE;
ALTER TABLE @extschema@.conversation_messages
    ADD CONSTRAINT conversation_messages_conversation_id_fkey FOREIGN KEY (conversation_id)
        REFERENCES @extschema@.conversations (id) ON DELETE CASCADE;

CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON @extschema@.users
    FOR EACH ROW EXECUTE FUNCTION @extschema@.set_updated_at();
CREATE TRIGGER accounts_set_updated_at BEFORE UPDATE ON @extschema@.accounts
    FOR EACH ROW EXECUTE FUNCTION @extschema@.set_updated_at();
CREATE TRIGGER account_users_set_updated_at BEFORE UPDATE ON @extschema@.account_users
    FOR EACH ROW EXECUTE FUNCTION @extschema@.set_updated_at();
CREATE TRIGGER campaigns_set_updated_at BEFORE UPDATE ON @extschema@.campaigns
    FOR EACH ROW EXECUTE FUNCTION @extschema@.set_updated_at();
CREATE TRIGGER ad_groups_set_updated_at BEFORE UPDATE ON @extschema@.ad_groups
    FOR EACH ROW EXECUTE FUNCTION @extschema@.set_updated_at();
CREATE TRIGGER ads_set_updated_at BEFORE UPDATE ON @extschema@.ads
    FOR EACH ROW EXECUTE FUNCTION @extschema@.set_updated_at();
CREATE TRIGGER approval_requests_set_updated_at BEFORE UPDATE ON @extschema@.approval_requests
    FOR EACH ROW EXECUTE FUNCTION @extschema@.set_updated_at();
CREATE TRIGGER conversations_set_updated_at BEFORE UPDATE ON @extschema@.conversations
    FOR EACH ROW EXECUTE FUNCTION @extschema@.set_updated_at();

-- The rows are the application's data: pg_dump must keep them.
SELECT pg_catalog.pg_extension_config_dump('@extschema@.users', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.accounts', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.account_users', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.campaigns', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ad_groups', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ads', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.analytics_snapshots', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.approval_requests', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.budget_alerts', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.conversations', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.conversation_messages', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.users_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.accounts_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.account_users_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.campaigns_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ad_groups_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ads_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.analytics_snapshots_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.approval_requests_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.budget_alerts_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.conversations_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.conversation_messages_id_seq', '');

-- dependents: the foreign keys, views and grants back, over the new keys.
SELECT @extschema@._lg_dependents_attach();

-- ---------------------------------------------------------------------------
-- Online conversion (src/online.c; README "Online conversion"): only in 1.1,
-- where the legacy tables are.  Created here and in lane_google--2.1--1.1.sql,
-- dropped in lane_google--1.1--1.0.sql and lane_google--1.1--2.1.sql.
-- ---------------------------------------------------------------------------

-- The capture trigger the legacy tables get at online_start()
CREATE FUNCTION @extschema@._online_capture()
RETURNS trigger
AS 'MODULE_PATHNAME', 'lg_online_capture'
LANGUAGE C;
REVOKE ALL ON FUNCTION @extschema@._online_capture() FROM PUBLIC;

CREATE FUNCTION @extschema@.online_start()
RETURNS void
AS 'MODULE_PATHNAME', 'lg_online_start'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.online_start() FROM PUBLIC;

CREATE FUNCTION @extschema@.online_abort()
RETURNS void
AS 'MODULE_PATHNAME', 'lg_online_abort'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.online_abort() FROM PUBLIC;

-- The backfill's steps, each in the caller's transaction
CREATE FUNCTION @extschema@._online_copy_batch(batch_rows integer)
RETURNS boolean
AS 'MODULE_PATHNAME', 'lg_online_copy_batch'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@._online_copy_batch(integer) FROM PUBLIC;

CREATE FUNCTION @extschema@._online_apply()
RETURNS bigint
AS 'MODULE_PATHNAME', 'lg_online_apply'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@._online_apply() FROM PUBLIC;

CREATE FUNCTION @extschema@._online_finish()
RETURNS void
AS 'MODULE_PATHNAME', 'lg_online_finish'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@._online_finish() FROM PUBLIC;

-- Copies in batches, each committed with its progress; then applies the
-- captured changes and, once everything is copied, builds the shadows'
-- indexes.  Stopped at any moment, it resumes where it stopped.  (A
-- procedure with transaction control can have no SET clause: operators are
-- qualified instead.)
CREATE PROCEDURE @extschema@.online_backfill(batch_rows integer DEFAULT 10000,
                                             pause interval DEFAULT '0')
LANGUAGE plpgsql
AS $backfill$
DECLARE
    applied bigint;
BEGIN
    IF batch_rows IS NULL OR batch_rows OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'batch_rows must be at least 1'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    WHILE @extschema@._online_copy_batch(batch_rows) LOOP
        COMMIT;
        IF pause OPERATOR(pg_catalog.>) interval '0' THEN
            PERFORM pg_catalog.pg_sleep_for(pause);
        END IF;
    END LOOP;
    COMMIT;
    LOOP
        applied := @extschema@._online_apply();
        COMMIT;
        EXIT WHEN applied OPERATOR(pg_catalog.<) batch_rows;
    END LOOP;
    PERFORM @extschema@._online_finish();
    COMMIT;
END
$backfill$;
REVOKE ALL ON PROCEDURE @extschema@.online_backfill(integer, interval) FROM PUBLIC;

CREATE FUNCTION @extschema@.online_status()
RETURNS TABLE (table_name text, state text, rows_copied bigint,
               rows_estimated bigint, changes_captured bigint,
               changes_pending bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $status$
BEGIN
    IF pg_catalog.to_regclass('lane_google_online.progress') IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY EXECUTE $q$
        SELECT p.table_name,
               CASE WHEN s.phase = 'complete' THEN 'complete'
                    WHEN p.copied THEN 'copied'
                    WHEN p.batches > 0 THEN 'copying'
                    ELSE 'waiting' END,
               p.rows_copied, p.rows_estimated,
               p.changes_applied + coalesce(c.n, 0), coalesce(c.n, 0)
          FROM lane_google_online.progress AS p
         CROSS JOIN lane_google_online.state AS s
          LEFT JOIN (SELECT tab, count(*) AS n FROM lane_google_online.changes
                      GROUP BY tab) AS c ON c.tab = p.ord
         ORDER BY p.ord $q$;
END
$status$;
REVOKE ALL ON FUNCTION @extschema@.online_status() FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- convert_legacy's carry (issue 9 point 6)
-- ---------------------------------------------------------------------------
DROP FUNCTION @extschema@.conversion_plan(name);
-- end of convert_legacy's carry
