/* lane_google--1.1--2.1.sql: integer keys to UUID keys, every row converted (as lane_google--1.0--2.0.sql) */

\echo Use "ALTER EXTENSION lane_google UPDATE TO '2.1'" to load this file. \quit

-- Runs inside ALTER EXTENSION's one transaction: all or nothing.  Each 1.0
-- table is set aside, a 2.0 table is created in its place with the same
-- columns in the 2.0 order, and the C conversion engine copies every row
-- with its keys mapped by legacy_uuid() and its integer id kept in
-- legacy_id.  Keys, indexes and foreign keys are built after the load.


-- ---------------------------------------------------------------------------
-- [online conversion] (src/online.c; README "Online conversion").  Comes first.
-- With a complete online backfill (lane_google.online_start() and
-- online_backfill() at 1.1), _online_swap() takes its locks within
-- lane_google.swap_lock_timeout (or fails, changing nothing, to be retried),
-- applies the last captured changes, drops the legacy tables and moves the
-- filled shadows in under the 2.0 names with their keys and indexes, as
-- extension members; the offline conversion below then finds uuid keys and
-- skips, and the steps after it (foreign keys, triggers, pg_dump
-- registrations, the dependents' attach) run for both branches, so both
-- end in a fresh 2.1's catalog.  With no online state, _online_swap() does nothing.  The
-- compatibility views (schema lane_google_v1) need _compat_write(), a 2.1
-- object, hence it is created here, before the swap.
-- ---------------------------------------------------------------------------

-- INSTEAD OF INSERT trigger of the views in schema lane_google_v1 (1.0
-- layout over the 2.x tables): the integer id (the view's default: the next
-- legacy id) and foreign keys in, legacy_uuid() keys out.  Updates and
-- deletes need no trigger: the views are automatically updatable, so an
-- UPDATE ... SET n = n + 1 through them re-reads a concurrently updated row
-- as it would on a table.  Runs as the caller, who needs INSERT on the 2.x
-- table and EXECUTE on legacy_uuid().
CREATE FUNCTION @extschema@._compat_write()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $compat$
DECLARE
    tab text := TG_TABLE_NAME;
    target regclass := pg_catalog.format('%I.%I', '@extschema@', TG_TABLE_NAME)::regclass;
    r jsonb;
    fk record;
    cols text;
BEGIN
    IF TG_OP <> 'INSERT' OR TG_LEVEL <> 'ROW' OR TG_WHEN <> 'INSTEAD OF' THEN
        RAISE EXCEPTION '_compat_write() must be fired INSTEAD OF INSERT, FOR EACH ROW'
            USING ERRCODE = 'triggered_action_exception';
    END IF;
    IF NEW.id IS NULL THEN
        RAISE EXCEPTION 'null value in column "id" of relation "%"', tab
            USING ERRCODE = 'not_null_violation';
    END IF;
    r := pg_catalog.to_jsonb(NEW)
         || pg_catalog.jsonb_build_object('id', @extschema@.legacy_uuid(tab, NEW.id),
                                          'legacy_id', NEW.id);
    FOR fk IN
        SELECT a.attname::text AS col, p.relname::text AS parent
          FROM pg_catalog.pg_constraint AS c
          JOIN pg_catalog.pg_attribute AS a
            ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
          JOIN pg_catalog.pg_class AS p ON p.oid = c.confrelid
         WHERE c.conrelid = target AND c.contype = 'f'
    LOOP
        r := pg_catalog.jsonb_set(r, ARRAY[fk.col],
                 coalesce(pg_catalog.to_jsonb(@extschema@.legacy_uuid(fk.parent, (r ->> fk.col)::bigint)),
                          'null'::jsonb));
    END LOOP;
    SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum)
      INTO cols
      FROM pg_catalog.pg_attribute AS a
     WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped;
    EXECUTE pg_catalog.format('INSERT INTO %1$s (%2$s) SELECT %2$s FROM pg_catalog.jsonb_populate_record(NULL::%1$s, $1)',
                              target, cols) USING r;
    RETURN NEW;
END
$compat$;
REVOKE ALL ON FUNCTION @extschema@._compat_write() FROM PUBLIC;

-- The contract step: once no application instance speaks integer ids.
CREATE FUNCTION @extschema@.drop_compat()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $drop$
DECLARE
    rels text;
BEGIN
    IF pg_catalog.to_regnamespace('lane_google_v1') IS NULL THEN
        RAISE NOTICE 'schema lane_google_v1 does not exist, skipping';
        RETURN;
    END IF;
    IF pg_catalog.to_regnamespace('lane_google_online') IS NOT NULL THEN
        RAISE EXCEPTION 'an online conversion is in progress'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'lane_google.online_abort() removes its views.';
    END IF;
    SELECT pg_catalog.string_agg(pg_catalog.format('lane_google_v1.%I', c.relname), ', ')
      INTO rels
      FROM pg_catalog.pg_class AS c
     WHERE c.relnamespace = 'lane_google_v1'::regnamespace AND c.relkind = 'v';
    IF rels IS NOT NULL THEN
        EXECUTE 'DROP VIEW ' || rels;
    END IF;
    SELECT pg_catalog.string_agg(pg_catalog.format('lane_google_v1.%I', c.relname), ', ')
      INTO rels
      FROM pg_catalog.pg_class AS c
     WHERE c.relnamespace = 'lane_google_v1'::regnamespace AND c.relkind = 'S';
    IF rels IS NOT NULL THEN
        EXECUTE 'DROP SEQUENCE ' || rels;
    END IF;
    -- the views' indexes on legacy_id (the online swap brings them in)
    SELECT pg_catalog.string_agg(pg_catalog.format('%I.%I', n.nspname, c.relname), ', ')
      INTO rels
      FROM pg_catalog.pg_class AS c
      JOIN pg_catalog.pg_namespace AS n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
     WHERE n.nspname OPERATOR(pg_catalog.=) '@extschema@' AND c.relkind OPERATOR(pg_catalog.=) 'i'
       AND c.relname OPERATOR(pg_catalog.~~) '\_lg\_compat\_%\_legacy\_id';
    IF rels IS NOT NULL THEN
        EXECUTE 'DROP INDEX ' || rels;
    END IF;
    DROP SCHEMA lane_google_v1;
END
$drop$;
REVOKE ALL ON FUNCTION @extschema@.drop_compat() FROM PUBLIC;

CREATE FUNCTION @extschema@._online_swap()
RETURNS boolean
AS 'MODULE_PATHNAME', 'lg_online_swap'
LANGUAGE C;
SELECT @extschema@._online_swap() AS swapped_online;
DROP FUNCTION @extschema@._online_swap();

-- The 1.1-only online functions
DROP PROCEDURE @extschema@.online_backfill(integer, interval);
DROP FUNCTION @extschema@.online_status();
DROP FUNCTION @extschema@._online_finish();
DROP FUNCTION @extschema@._online_apply();
DROP FUNCTION @extschema@._online_copy_batch(integer);
DROP FUNCTION @extschema@.online_abort();
DROP FUNCTION @extschema@.online_start();
DROP FUNCTION @extschema@._online_capture();
-- [end of online conversion]

-- dependents (issue 9): the plan of the objects around the 11 tables, before
-- any row is read; refuses naming every object it cannot carry across.  After
-- an online swap (the tables have uuid keys already) it has run: the swap
-- planned, refused and converted the dependents itself, under its locks and
-- before it dropped the legacy tables; the attach at the end of this script
-- re-creates them for both branches.
SELECT @extschema@._lg_dependents_detach()
  FROM pg_catalog.pg_attribute AS a
 WHERE a.attrelid OPERATOR(pg_catalog.=) '@extschema@.users'::pg_catalog.regclass
   AND a.attname OPERATOR(pg_catalog.=) 'id'
   AND a.atttypid OPERATOR(pg_catalog.<>) 'pg_catalog.uuid'::pg_catalog.regtype;

-- The offline conversion, unless the online swap above has put the UUID
-- tables in place already (a script cannot skip statements: a DO block can).
DO $offline$
DECLARE
    problems text;
BEGIN
    IF (SELECT a.atttypid FROM pg_catalog.pg_attribute AS a
         WHERE a.attrelid OPERATOR(pg_catalog.=) '@extschema@.users'::regclass
           AND a.attname OPERATOR(pg_catalog.=) 'id') OPERATOR(pg_catalog.=) 'pg_catalog.uuid'::regtype THEN
        RETURN;
    END IF;

-- Pre-flight: the legacy data must be sound before anything changes.
    SELECT string_agg(format('%s (%s -> %s): %s rows, keys %s', v.constraint_name,
                             v.table_name, v.referenced_table, v.rows,
                             array_to_string(v.sample, ', ')), E'\n')
      INTO problems
      FROM @extschema@.validate_fk_integrity('@extschema@') AS v
     WHERE v.problem = 'orphan_rows';
    IF problems IS NOT NULL THEN
        RAISE EXCEPTION 'lane_google 1.1 data has rows whose parent row is missing'
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = problems,
                  HINT = 'Nothing was changed.  Delete or fix the orphan rows, or convert with convert_legacy(..., on_orphan => ''quarantine'').';
    END IF;

-- Set the 1.0 tables aside, out of the extension (and of pg_dump's
-- configuration list), their primary keys renamed out of the way.
ALTER EXTENSION lane_google DROP SEQUENCE @extschema@.users_id_seq;
ALTER EXTENSION lane_google DROP SEQUENCE @extschema@.accounts_id_seq;
ALTER EXTENSION lane_google DROP SEQUENCE @extschema@.account_users_id_seq;
ALTER EXTENSION lane_google DROP SEQUENCE @extschema@.campaigns_id_seq;
ALTER EXTENSION lane_google DROP SEQUENCE @extschema@.ad_groups_id_seq;
ALTER EXTENSION lane_google DROP SEQUENCE @extschema@.ads_id_seq;
ALTER EXTENSION lane_google DROP SEQUENCE @extschema@.analytics_snapshots_id_seq;
ALTER EXTENSION lane_google DROP SEQUENCE @extschema@.approval_requests_id_seq;
ALTER EXTENSION lane_google DROP SEQUENCE @extschema@.budget_alerts_id_seq;
ALTER EXTENSION lane_google DROP SEQUENCE @extschema@.conversations_id_seq;
ALTER EXTENSION lane_google DROP SEQUENCE @extschema@.conversation_messages_id_seq;
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
ALTER TABLE @extschema@.users RENAME TO _lg_v1_users;
ALTER TABLE @extschema@.accounts RENAME TO _lg_v1_accounts;
ALTER TABLE @extschema@.account_users RENAME TO _lg_v1_account_users;
ALTER TABLE @extschema@.campaigns RENAME TO _lg_v1_campaigns;
ALTER TABLE @extschema@.ad_groups RENAME TO _lg_v1_ad_groups;
ALTER TABLE @extschema@.ads RENAME TO _lg_v1_ads;
ALTER TABLE @extschema@.analytics_snapshots RENAME TO _lg_v1_analytics_snapshots;
ALTER TABLE @extschema@.approval_requests RENAME TO _lg_v1_approval_requests;
ALTER TABLE @extschema@.budget_alerts RENAME TO _lg_v1_budget_alerts;
ALTER TABLE @extschema@.conversations RENAME TO _lg_v1_conversations;
ALTER TABLE @extschema@.conversation_messages RENAME TO _lg_v1_conversation_messages;
ALTER TABLE @extschema@._lg_v1_users RENAME CONSTRAINT users_pkey TO _lg_v1_users_pkey;
ALTER TABLE @extschema@._lg_v1_accounts RENAME CONSTRAINT accounts_pkey TO _lg_v1_accounts_pkey;
ALTER TABLE @extschema@._lg_v1_account_users RENAME CONSTRAINT account_users_pkey TO _lg_v1_account_users_pkey;
ALTER TABLE @extschema@._lg_v1_campaigns RENAME CONSTRAINT campaigns_pkey TO _lg_v1_campaigns_pkey;
ALTER TABLE @extschema@._lg_v1_ad_groups RENAME CONSTRAINT ad_groups_pkey TO _lg_v1_ad_groups_pkey;
ALTER TABLE @extschema@._lg_v1_ads RENAME CONSTRAINT ads_pkey TO _lg_v1_ads_pkey;
ALTER TABLE @extschema@._lg_v1_analytics_snapshots RENAME CONSTRAINT analytics_snapshots_pkey TO _lg_v1_analytics_snapshots_pkey;
ALTER TABLE @extschema@._lg_v1_approval_requests RENAME CONSTRAINT approval_requests_pkey TO _lg_v1_approval_requests_pkey;
ALTER TABLE @extschema@._lg_v1_budget_alerts RENAME CONSTRAINT budget_alerts_pkey TO _lg_v1_budget_alerts_pkey;
ALTER TABLE @extschema@._lg_v1_conversations RENAME CONSTRAINT conversations_pkey TO _lg_v1_conversations_pkey;
ALTER TABLE @extschema@._lg_v1_conversation_messages RENAME CONSTRAINT conversation_messages_pkey TO _lg_v1_conversation_messages_pkey;

-- The 2.0 tables, as lane_google--2.0.sql creates them, without keys yet.

CREATE TABLE @extschema@.users (
    id uuid NOT NULL DEFAULT @extschema@.uuid_generate_v7(),
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
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    legacy_id bigint
);

CREATE TABLE @extschema@.accounts (
    id uuid NOT NULL DEFAULT @extschema@.uuid_generate_v7(),
    name varchar(255) NOT NULL,
    google_customer_id varchar(50) NOT NULL,
    timezone varchar(50) NOT NULL DEFAULT 'America/New_York',
    currency char(3) NOT NULL DEFAULT 'USD',
    monthly_budget_limit numeric(12,2),
    is_active boolean NOT NULL DEFAULT true,
    settings jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    legacy_id bigint
);

CREATE TABLE @extschema@.account_users (
    id uuid NOT NULL DEFAULT @extschema@.uuid_generate_v7(),
    account_id uuid NOT NULL,
    user_id uuid NOT NULL,
    role @extschema@.account_role NOT NULL DEFAULT 'viewer',
    permissions jsonb,
    invited_by uuid,
    joined_at timestamptz DEFAULT pg_catalog.now(),
    last_access timestamptz,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    legacy_id bigint
);

CREATE TABLE @extschema@.campaigns (
    id uuid NOT NULL DEFAULT @extschema@.uuid_generate_v7(),
    account_id uuid NOT NULL,
    created_by_id uuid,
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
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    legacy_id bigint
);

CREATE TABLE @extschema@.ad_groups (
    id uuid NOT NULL DEFAULT @extschema@.uuid_generate_v7(),
    campaign_id uuid NOT NULL,
    name varchar(255) NOT NULL,
    google_ad_group_id varchar(50),
    status @extschema@.ad_status NOT NULL DEFAULT 'enabled',
    cpc_bid numeric(12,2),
    keywords jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    legacy_id bigint
);

CREATE TABLE @extschema@.ads (
    id uuid NOT NULL DEFAULT @extschema@.uuid_generate_v7(),
    ad_group_id uuid NOT NULL,
    google_ad_id varchar(50),
    headlines jsonb NOT NULL DEFAULT '[]',
    descriptions jsonb NOT NULL DEFAULT '[]',
    final_url varchar(2048),
    status @extschema@.ad_status NOT NULL DEFAULT 'enabled',
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    legacy_id bigint
);

CREATE TABLE @extschema@.analytics_snapshots (
    id uuid NOT NULL DEFAULT @extschema@.uuid_generate_v7(),
    campaign_id uuid NOT NULL,
    snapshot_date date NOT NULL,
    period_type @extschema@.period_type NOT NULL DEFAULT 'daily',
    impressions bigint NOT NULL DEFAULT 0,
    clicks bigint NOT NULL DEFAULT 0,
    cost numeric(12,2) NOT NULL DEFAULT 0,
    conversions numeric(12,2) NOT NULL DEFAULT 0,
    conversion_value numeric(12,2) NOT NULL DEFAULT 0,
    metrics jsonb,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    legacy_id bigint
);

CREATE TABLE @extschema@.approval_requests (
    id uuid NOT NULL DEFAULT @extschema@.uuid_generate_v7(),
    campaign_id uuid NOT NULL,
    requester_id uuid NOT NULL,
    approved_by uuid,
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
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    legacy_id bigint
);

CREATE TABLE @extschema@.budget_alerts (
    id uuid NOT NULL DEFAULT @extschema@.uuid_generate_v7(),
    campaign_id uuid NOT NULL,
    alert_type @extschema@.alert_type NOT NULL,
    severity @extschema@.alert_severity NOT NULL DEFAULT 'medium',
    message text NOT NULL,
    current_spend numeric(12,2) NOT NULL,
    budget_limit numeric(12,2) NOT NULL,
    projected_spend numeric(12,2) NOT NULL,
    recommended_action text,
    resolved boolean NOT NULL DEFAULT false,
    resolved_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    legacy_id bigint
);

CREATE TABLE @extschema@.conversations (
    id uuid NOT NULL DEFAULT @extschema@.uuid_generate_v7(),
    user_id uuid NOT NULL,
    title varchar(200),
    context jsonb,
    status @extschema@.conversation_status NOT NULL DEFAULT 'active',
    last_message_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    legacy_id bigint
);

CREATE TABLE @extschema@.conversation_messages (
    id uuid NOT NULL DEFAULT @extschema@.uuid_generate_v7(),
    conversation_id uuid NOT NULL,
    role @extschema@.message_role NOT NULL,
    content text NOT NULL,
    metadata jsonb,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    legacy_id bigint
);

-- Convert every row; each table gets its primary key once loaded.
CREATE FUNCTION @extschema@._lg_upgrade_convert(source_prefix text)
RETURNS void
AS 'MODULE_PATHNAME', 'lg_upgrade_convert'
LANGUAGE C STRICT;
PERFORM @extschema@._lg_upgrade_convert('_lg_v1_');
DROP FUNCTION @extschema@._lg_upgrade_convert(text);

-- dependents: drop the carried views and foreign keys, convert the
-- referencing columns, while the tables set aside still exist.
PERFORM @extschema@._lg_dependents_convert('_lg_v1_');

DROP TABLE @extschema@._lg_v1_users, @extschema@._lg_v1_accounts, @extschema@._lg_v1_account_users, @extschema@._lg_v1_campaigns, @extschema@._lg_v1_ad_groups, @extschema@._lg_v1_ads, @extschema@._lg_v1_analytics_snapshots, @extschema@._lg_v1_approval_requests, @extschema@._lg_v1_budget_alerts, @extschema@._lg_v1_conversations, @extschema@._lg_v1_conversation_messages;

-- ---------------------------------------------------------------------------
-- Keys, indexes, foreign keys, triggers
-- ---------------------------------------------------------------------------

ALTER TABLE @extschema@.users
    ADD CONSTRAINT users_email_key UNIQUE (email),
    ADD CONSTRAINT users_username_key UNIQUE (username);
ALTER TABLE @extschema@.accounts
    ADD CONSTRAINT accounts_google_customer_id_key UNIQUE (google_customer_id);
ALTER TABLE @extschema@.account_users
    ADD CONSTRAINT account_users_account_id_user_id_key UNIQUE (account_id, user_id);
ALTER TABLE @extschema@.analytics_snapshots
    ADD CONSTRAINT analytics_snapshots_campaign_id_snapshot_date_period_type_key
        UNIQUE (campaign_id, snapshot_date, period_type);

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

END
$offline$;

CREATE FUNCTION @extschema@.legacy_id_of(table_name text, id uuid)
RETURNS bigint
AS 'MODULE_PATHNAME', 'lg_legacy_id_of'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- convert_legacy: the application's real layouts (column_map, ignore_columns,
-- value_map, source_timezone), every row problem in one pass (on_error), and
-- catch-up runs; convert_legacy_problems lists a dry run's problems as rows.
CREATE FUNCTION @extschema@.convert_legacy(
    source_schema name,
    on_orphan text DEFAULT 'error',
    dry_run boolean DEFAULT false,
    on_error text DEFAULT 'error',
    column_map jsonb DEFAULT '{}',
    ignore_columns text[] DEFAULT '{}',
    value_map jsonb DEFAULT '{}',
    source_timezone text DEFAULT 'UTC',
    dependents text DEFAULT 'keep')
RETURNS TABLE (table_name name, rows_read bigint, rows_converted bigint,
               rows_quarantined bigint, seconds double precision,
               rows_nulled bigint, rows_unchanged bigint, rows_updated bigint,
               rows_missing bigint, note text)
AS 'MODULE_PATHNAME', 'lg_convert_legacy'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.convert_legacy(name, text, boolean, text, jsonb, text[], jsonb, text, text) FROM PUBLIC;

CREATE FUNCTION @extschema@.convert_legacy_problems(
    source_schema name,
    column_map jsonb DEFAULT '{}',
    ignore_columns text[] DEFAULT '{}',
    value_map jsonb DEFAULT '{}',
    source_timezone text DEFAULT 'UTC')
RETURNS TABLE (table_name name, column_name name, problem text, rows bigint,
               sample_keys text[], sample_values text[])
AS 'MODULE_PATHNAME', 'lg_convert_legacy_problems'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.convert_legacy_problems(name, jsonb, text[], jsonb, text) FROM PUBLIC;

ALTER TABLE @extschema@.account_users
    ADD CONSTRAINT account_users_account_id_fkey FOREIGN KEY (account_id)
        REFERENCES @extschema@.accounts (id) ON DELETE CASCADE NOT VALID,
    ADD CONSTRAINT account_users_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES @extschema@.users (id) ON DELETE CASCADE NOT VALID,
    ADD CONSTRAINT account_users_invited_by_fkey FOREIGN KEY (invited_by)
        REFERENCES @extschema@.users (id) ON DELETE SET NULL NOT VALID;
ALTER TABLE @extschema@.campaigns
    ADD CONSTRAINT campaigns_account_id_fkey FOREIGN KEY (account_id)
        REFERENCES @extschema@.accounts (id) ON DELETE CASCADE NOT VALID,
    ADD CONSTRAINT campaigns_created_by_id_fkey FOREIGN KEY (created_by_id)
        REFERENCES @extschema@.users (id) ON DELETE SET NULL NOT VALID;
ALTER TABLE @extschema@.ad_groups
    ADD CONSTRAINT ad_groups_campaign_id_fkey FOREIGN KEY (campaign_id)
        REFERENCES @extschema@.campaigns (id) ON DELETE CASCADE NOT VALID;
ALTER TABLE @extschema@.ads
    ADD CONSTRAINT ads_ad_group_id_fkey FOREIGN KEY (ad_group_id)
        REFERENCES @extschema@.ad_groups (id) ON DELETE CASCADE NOT VALID;
ALTER TABLE @extschema@.analytics_snapshots
    ADD CONSTRAINT analytics_snapshots_campaign_id_fkey FOREIGN KEY (campaign_id)
        REFERENCES @extschema@.campaigns (id) ON DELETE CASCADE NOT VALID;
ALTER TABLE @extschema@.approval_requests
    ADD CONSTRAINT approval_requests_campaign_id_fkey FOREIGN KEY (campaign_id)
        REFERENCES @extschema@.campaigns (id) ON DELETE CASCADE NOT VALID,
    ADD CONSTRAINT approval_requests_requester_id_fkey FOREIGN KEY (requester_id)
        REFERENCES @extschema@.users (id) ON DELETE CASCADE NOT VALID,
    ADD CONSTRAINT approval_requests_approved_by_fkey FOREIGN KEY (approved_by)
        REFERENCES @extschema@.users (id) ON DELETE SET NULL NOT VALID;
ALTER TABLE @extschema@.budget_alerts
    ADD CONSTRAINT budget_alerts_campaign_id_fkey FOREIGN KEY (campaign_id)
        REFERENCES @extschema@.campaigns (id) ON DELETE CASCADE NOT VALID;
ALTER TABLE @extschema@.conversations
    ADD CONSTRAINT conversations_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES @extschema@.users (id) ON DELETE CASCADE NOT VALID;
ALTER TABLE @extschema@.conversation_messages
    ADD CONSTRAINT conversation_messages_conversation_id_fkey FOREIGN KEY (conversation_id)
        REFERENCES @extschema@.conversations (id) ON DELETE CASCADE NOT VALID;

-- The engine checked every foreign-key value of every row against its
-- parent's keys, and the mapping is one-to-one: mark them valid rather than
-- joining every child table to its parent again.
CREATE FUNCTION @extschema@._lg_upgrade_mark_validated()
RETURNS integer
AS 'MODULE_PATHNAME', 'lg_upgrade_mark_validated'
LANGUAGE C STRICT;
SELECT @extschema@._lg_upgrade_mark_validated() AS foreign_keys_marked_valid;
DROP FUNCTION @extschema@._lg_upgrade_mark_validated();

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

-- dependents: the foreign keys, views and grants back, over the new keys
-- (after the offline conversion or the online swap alike).
SELECT @extschema@._lg_dependents_attach();

-- ---------------------------------------------------------------------------
-- convert_legacy's carry (issue 9 point 6): the plan of what
-- convert_legacy(source_schema, dependents => 'carry') does with the objects
-- depending on the application's legacy tables (src/dependents.c).  Only in
-- 2.1: created here and in lane_google--2.0--2.1.sql, dropped in lane_google--2.1--1.1.sql and
-- lane_google--2.1--2.0.sql.
-- ---------------------------------------------------------------------------
CREATE FUNCTION @extschema@.conversion_plan(source_schema name)
RETURNS TABLE (object_type text, object text, depends_on text, action text, reason text)
AS 'MODULE_PATHNAME', 'lg_conversion_plan_source'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.conversion_plan(name) FROM PUBLIC;
-- end of convert_legacy's carry
