/* lane_google--1.0.sql: the legacy schema (11 tables, integer keys, foreign-key graph, indexes) */

\echo Use "CREATE EXTENSION lane_google" to load this file. \quit

-- The owner of a schema may drop any object in it: installing into a schema
-- that a role other than a superuser or the installing one created would
-- let that role replace the extension's tables (the namespace among them).
DO $owner$
DECLARE
    owner name;
BEGIN
    SELECT r.rolname INTO owner
      FROM pg_catalog.pg_namespace AS n
      JOIN pg_catalog.pg_roles AS r ON r.oid OPERATOR(pg_catalog.=) n.nspowner
     WHERE n.nspname OPERATOR(pg_catalog.=) '@extschema@'
       AND NOT r.rolsuper AND r.rolname OPERATOR(pg_catalog.<>) CURRENT_USER;
    IF owner IS NOT NULL THEN
        RAISE EXCEPTION 'schema @extschema@ is owned by role %, who could drop or replace the extension''s objects', owner
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Drop the schema, or make the installing role its owner, then create the extension.';
    END IF;
END
$owner$;

GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

-- ---------------------------------------------------------------------------
-- C functions
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.uuid_generate_v7()
RETURNS uuid
AS 'MODULE_PATHNAME', 'lg_uuid_generate_v7'
LANGUAGE C VOLATILE PARALLEL SAFE;

CREATE FUNCTION @extschema@.uuid_v7_to_timestamptz(uuid)
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'lg_uuid_v7_to_timestamptz'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The installation's root namespace for legacy_uuid(), readable by the
-- extension owner only.  CREATE EXTENSION draws one; pg_dump keeps the row.
-- A row inserted replaces the others, so a restore (which runs CREATE
-- EXTENSION, then loads the dumped row) ends with the original namespace.
CREATE TABLE @extschema@.legacy_config (
    root_namespace uuid PRIMARY KEY,
    set_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
REVOKE ALL ON @extschema@.legacy_config FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.legacy_config', '');
CREATE FUNCTION @extschema@.legacy_config_replace()
RETURNS trigger
AS 'MODULE_PATHNAME', 'lg_legacy_config_replace'
LANGUAGE C;
REVOKE ALL ON FUNCTION @extschema@.legacy_config_replace() FROM PUBLIC;
CREATE TRIGGER legacy_config_replace BEFORE INSERT ON @extschema@.legacy_config
    FOR EACH ROW EXECUTE FUNCTION @extschema@.legacy_config_replace();
INSERT INTO @extschema@.legacy_config (root_namespace)
    VALUES (pg_catalog.gen_random_uuid());

-- Rows that convert_legacy() could not convert as they were (on_orphan
-- 'quarantine' or 'null'): kept whole, never dropped.
CREATE TABLE @extschema@.legacy_quarantine (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name text NOT NULL,
    reason text NOT NULL,
    row_data jsonb NOT NULL,
    quarantined_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
REVOKE ALL ON @extschema@.legacy_quarantine FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.legacy_quarantine', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.legacy_quarantine_id_seq', '');

CREATE FUNCTION @extschema@.legacy_namespace()
RETURNS uuid
AS 'MODULE_PATHNAME', 'lg_legacy_namespace'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION @extschema@.legacy_namespace() FROM PUBLIC;

CREATE FUNCTION @extschema@.set_legacy_namespace(uuid)
RETURNS void
AS 'MODULE_PATHNAME', 'lg_set_legacy_namespace'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.set_legacy_namespace(uuid) FROM PUBLIC;

CREATE FUNCTION @extschema@.legacy_uuid(table_name text, legacy_id bigint)
RETURNS uuid
AS 'MODULE_PATHNAME', 'lg_legacy_uuid'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION @extschema@.legacy_uuid(text, bigint) FROM PUBLIC;

CREATE FUNCTION @extschema@.validate_fk_integrity(
    target_schema name DEFAULT '@extschema@',
    sample_limit integer DEFAULT 5)
RETURNS TABLE (constraint_name name, table_name regclass, columns text[],
               referenced_table regclass, problem text, rows bigint,
               sample text[])
AS 'MODULE_PATHNAME', 'lg_validate_fk_integrity'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
-- its samples are key values: row contents, for the owner to grant
REVOKE ALL ON FUNCTION @extschema@.validate_fk_integrity(name, integer) FROM PUBLIC;


CREATE FUNCTION @extschema@.set_updated_at()
RETURNS trigger
AS 'MODULE_PATHNAME', 'lg_set_updated_at'
LANGUAGE C;

-- ---------------------------------------------------------------------------
-- Enum types
-- ---------------------------------------------------------------------------

CREATE TYPE @extschema@.user_role AS ENUM ('admin', 'manager', 'analyst', 'viewer');
CREATE TYPE @extschema@.user_status AS ENUM ('active', 'inactive', 'suspended', 'pending');
CREATE TYPE @extschema@.account_role AS ENUM ('viewer', 'editor', 'admin', 'owner');
CREATE TYPE @extschema@.campaign_status AS ENUM ('draft', 'approved', 'active', 'paused', 'cancelled');
CREATE TYPE @extschema@.pacing_strategy AS ENUM ('linear', 'accelerated', 'conservative', 'adaptive');
CREATE TYPE @extschema@.ad_status AS ENUM ('enabled', 'paused', 'removed');
CREATE TYPE @extschema@.period_type AS ENUM ('hourly', 'daily', 'weekly', 'monthly');
CREATE TYPE @extschema@.approval_status AS ENUM ('pending', 'approved', 'rejected', 'expired');
CREATE TYPE @extschema@.priority_level AS ENUM ('low', 'medium', 'high', 'urgent');
CREATE TYPE @extschema@.alert_type AS ENUM ('overspending', 'underspending', 'exhausted', 'at_risk');
CREATE TYPE @extschema@.alert_severity AS ENUM ('low', 'medium', 'high', 'critical');
CREATE TYPE @extschema@.conversation_status AS ENUM ('active', 'archived', 'deleted');
CREATE TYPE @extschema@.message_role AS ENUM ('user', 'assistant', 'system');

-- ---------------------------------------------------------------------------
-- Tables: the legacy layout, integer identity keys and integer foreign keys.
-- ---------------------------------------------------------------------------

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
