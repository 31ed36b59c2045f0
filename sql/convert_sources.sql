--
-- convert_legacy() on real databases: what it reads its rows from and how
-- it writes them.  A source is read as SELECT * FROM it would return it:
-- partitioned tables (every partition), tables with inheritance children
-- (their rows too), views, materialized views and foreign tables
-- (postgres_fdw on a second database).  Row-level security that would
-- filter what the conversion reads or checks what it writes is refused.
-- User triggers on the targets fire as COPY fires them.  legacy_uuid()
-- works in parallel workers; set_legacy_namespace() refuses the nil and
-- max UUIDs.
--
\set VERBOSITY terse
SET client_min_messages = warning;

CREATE EXTENSION lane_google VERSION '1.0';
SELECT lane_google.set_legacy_namespace('6ba7b810-9dad-11d1-80b4-00c04fd430c8');

-- Runs a statement; says how it failed: SQLSTATE, message, hint
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    msg text;
    hint text;
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
    RETURN SQLSTATE || ': ' || msg || CASE WHEN hint <> '' THEN E'\nHINT: ' || hint ELSE '' END;
END $$;

--
-- set_legacy_namespace() refuses the nil and max UUIDs: under either, every
-- legacy id's UUID is computable by anyone
--
SELECT pg_temp.try($$SELECT lane_google.set_legacy_namespace('00000000-0000-0000-0000-000000000000')$$);
SELECT pg_temp.try($$SELECT lane_google.set_legacy_namespace('ffffffff-ffff-ffff-ffff-ffffffffffff')$$);
SELECT lane_google.legacy_namespace();

-- Legacy rows, at 1.0
INSERT INTO lane_google.users (id, email, username, password_hash, salt, first_name, last_name)
VALUES (1, 'a@example.com', 'a', 'h', 's', 'Ann', 'A'),
       (2, 'b@example.com', 'b', 'h', 's', 'Bob', 'B'),
       (3, 'c@example.com', 'c', 'h', 's', 'Cy', 'C');
INSERT INTO lane_google.accounts (id, name, google_customer_id) VALUES (1, 'Acme', '123-456-7890');
INSERT INTO lane_google.account_users (id, account_id, user_id) VALUES (1, 1, 1), (2, 1, 2);
INSERT INTO lane_google.campaigns (id, account_id, created_by_id, name, customer_id, status)
VALUES (10, 1, 1, 'Spring', '123-456-7890', 'active'),
       (20, 1, 3, 'Brand', '123-456-7890', 'draft');
INSERT INTO lane_google.ad_groups (id, campaign_id, name) VALUES (100, 10, 'Shoes'), (200, 20, 'Hats');
INSERT INTO lane_google.ads (id, ad_group_id, headlines, final_url)
VALUES (1000, 100, '["Run"]', 'https://example.com/1000'),
       (1001, 100, '["Jump"]', 'https://example.com/1001'),
       (2000, 200, '["Hat"]', 'https://example.com/2000');
INSERT INTO lane_google.conversations (id, user_id, title) VALUES (5, 2, 'Help');
INSERT INTO lane_google.conversation_messages (id, conversation_id, role, content)
VALUES (1, 5, 'user', 'Hi');

-- tpl: the application's legacy tables as it created them
CREATE SCHEMA tpl;
CREATE FUNCTION pg_temp.tables() RETURNS text[] LANGUAGE sql AS $$
SELECT ARRAY['users', 'accounts', 'account_users', 'campaigns', 'ad_groups', 'ads',
             'analytics_snapshots', 'approval_requests', 'budget_alerts',
             'conversations', 'conversation_messages']
$$;
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY pg_temp.tables() LOOP
        EXECUTE format('CREATE TABLE tpl.%I AS SELECT * FROM lane_google.%I', t, t);
    END LOOP;
END $$;
ALTER EXTENSION lane_google UPDATE TO '2.0';

-- A source schema: the template's tables, less those named
CREATE FUNCTION pg_temp.make_source(s text, except_tables text[] DEFAULT '{}')
RETURNS void LANGUAGE plpgsql AS $$
DECLARE t text;
BEGIN
    EXECUTE format('CREATE SCHEMA %I', s);
    FOREACH t IN ARRAY pg_temp.tables() LOOP
        CONTINUE WHEN t = ANY (except_tables);
        EXECUTE format('CREATE TABLE %I.%I AS SELECT * FROM tpl.%I', s, t, t);
    END LOOP;
END $$;
CREATE FUNCTION pg_temp.empty_targets() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'TRUNCATE lane_google.legacy_quarantine, '
         || (SELECT string_agg('lane_google.' || quote_ident(t), ', ') FROM unnest(pg_temp.tables()) t);
END $$;
-- Each target's legacy ids, and whether every key is its legacy id's UUID
CREATE FUNCTION pg_temp.converted() RETURNS TABLE (t text, legacy_ids text, keys_ok boolean)
LANGUAGE plpgsql AS $$
DECLARE tn text;
BEGIN
    FOREACH tn IN ARRAY pg_temp.tables() LOOP
        t := tn;
        EXECUTE format('SELECT coalesce(string_agg(legacy_id::text, '','' ORDER BY legacy_id), ''''),
                               coalesce(bool_and(id = lane_google.legacy_uuid(%L, legacy_id)), true)
                          FROM lane_google.%I', tn, tn)
           INTO legacy_ids, keys_ok;
        RETURN NEXT;
    END LOOP;
END $$;
SELECT pg_temp.empty_targets();

--
-- A partitioned source table: the rows of every partition.  The partitions'
-- columns are in another order than the parent's, and the parent has a
-- dropped column: rows are read as the parent shows them.
--
SELECT pg_temp.make_source('s_part', '{ads}');
CREATE TABLE s_part.ads (dropped_soon int, LIKE tpl.ads) PARTITION BY RANGE (id);
ALTER TABLE s_part.ads DROP COLUMN dropped_soon;
CREATE TABLE s_part.ads_low PARTITION OF s_part.ads FOR VALUES FROM (MINVALUE) TO (2000);
CREATE TABLE s_part.ads_high (pad1 int, pad2 text, LIKE tpl.ads);
ALTER TABLE s_part.ads_high DROP COLUMN pad1, DROP COLUMN pad2;
ALTER TABLE s_part.ads ATTACH PARTITION s_part.ads_high FOR VALUES FROM (2000) TO (MAXVALUE);
INSERT INTO s_part.ads SELECT * FROM tpl.ads;
SELECT tableoid::regclass, id FROM s_part.ads ORDER BY id;
SELECT table_name, rows_read, rows_converted FROM lane_google.convert_legacy('s_part', dry_run => true)
 WHERE table_name = 'ads';
SELECT count(*) AS after_dry_run FROM lane_google.ads;
SELECT table_name, rows_read, rows_converted, rows_quarantined
  FROM lane_google.convert_legacy('s_part');
SELECT * FROM pg_temp.converted();
SELECT legacy_id, final_url FROM lane_google.ads ORDER BY legacy_id;
SELECT pg_temp.empty_targets();

--
-- Inheritance: rows of a child table are rows of a SELECT of the parent,
-- and are converted with them
--
SELECT pg_temp.make_source('s_inh');
DELETE FROM s_inh.ads WHERE id = 2000;
CREATE TABLE s_inh.ads_old () INHERITS (s_inh.ads);
INSERT INTO s_inh.ads_old SELECT * FROM tpl.ads WHERE id = 2000;
SELECT count(*) AS rows_in_a_select FROM s_inh.ads;
SELECT table_name, rows_read, rows_converted
  FROM lane_google.convert_legacy('s_inh') WHERE table_name = 'ads';
SELECT legacy_id FROM lane_google.ads ORDER BY legacy_id;
SELECT pg_temp.empty_targets();

--
-- Views: a reshaping that needs a human decision, written in SQL.  The old
-- application kept campaigns with its own status words and no account; the
-- view maps the words and gives them the one account.  A materialized view
-- serves as users.
--
SELECT pg_temp.make_source('s_view', '{campaigns,users}');
CREATE TABLE s_view.old_campaigns (id int, owner int, title text, state text);
INSERT INTO s_view.old_campaigns VALUES (10, 1, 'Spring', 'RUNNING'), (20, 3, 'Brand', 'NEW');
CREATE VIEW s_view.campaigns AS
SELECT c.id, 1 AS account_id, c.owner AS created_by_id, c.title::varchar(255) AS name,
       t.customer_id, t.google_campaign_id, t.brief,
       CASE c.state WHEN 'RUNNING' THEN 'active' ELSE 'draft' END AS status,
       t.approved_at, t.budget_amount, t.current_spend, t.pacing_strategy, t.last_pacing_check,
       t.projected_spend, t.billing_period_start, t.billing_period_end, t.created_at, t.updated_at
  FROM s_view.old_campaigns c JOIN tpl.campaigns t USING (id);
CREATE MATERIALIZED VIEW s_view.users AS SELECT * FROM tpl.users;
SELECT table_name, rows_read, rows_converted
  FROM lane_google.convert_legacy('s_view') WHERE table_name IN ('users', 'campaigns');
SELECT legacy_id, name, status, created_by_id = lane_google.legacy_uuid('users', 1) AS by_ann
  FROM lane_google.campaigns ORDER BY legacy_id;
SELECT * FROM pg_temp.converted();
SELECT pg_temp.empty_targets();

--
-- Row-level security: a conversion reads every row of its sources and
-- writes rows its own checks have vetted; a policy that would filter the
-- one or reject the other is refused, nothing written
--
CREATE ROLE regress_lg_converter;
GRANT EXECUTE ON FUNCTION lane_google.convert_legacy(name, text, boolean) TO regress_lg_converter;
SELECT pg_temp.make_source('s_rls');
GRANT USAGE ON SCHEMA s_rls TO regress_lg_converter;
GRANT SELECT ON ALL TABLES IN SCHEMA s_rls TO regress_lg_converter;
GRANT INSERT, SELECT ON ALL TABLES IN SCHEMA lane_google TO regress_lg_converter;
GRANT USAGE ON SCHEMA lane_google TO regress_lg_converter;
ALTER TABLE s_rls.users ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_ann ON s_rls.users FOR SELECT USING (id = 1);
SET ROLE regress_lg_converter;
SELECT count(*) AS users_the_role_sees FROM s_rls.users;
SELECT pg_temp.try($$SELECT * FROM lane_google.convert_legacy('s_rls')$$);
RESET ROLE;
SELECT count(*) AS nothing_written FROM lane_google.users;
-- the owner, and a role with BYPASSRLS, are not subject to the policy
ALTER ROLE regress_lg_converter BYPASSRLS;
SET ROLE regress_lg_converter;
SELECT table_name, rows_read FROM lane_google.convert_legacy('s_rls', dry_run => true)
 WHERE table_name = 'users';
RESET ROLE;
ALTER ROLE regress_lg_converter NOBYPASSRLS;
ALTER TABLE s_rls.users DISABLE ROW LEVEL SECURITY;
-- a target whose policy rejects every insert
ALTER TABLE lane_google.campaigns ENABLE ROW LEVEL SECURITY;
CREATE POLICY no_insert ON lane_google.campaigns FOR INSERT WITH CHECK (false);
CREATE POLICY read_all ON lane_google.campaigns FOR SELECT USING (true);
SET ROLE regress_lg_converter;
SELECT pg_temp.try($$INSERT INTO lane_google.campaigns (account_id, name, customer_id)
                     VALUES (gen_random_uuid(), 'x', 'x')$$);
SELECT pg_temp.try($$SELECT * FROM lane_google.convert_legacy('s_rls')$$);
RESET ROLE;
SELECT count(*) AS nothing_written FROM lane_google.users;
DROP POLICY no_insert ON lane_google.campaigns;
DROP POLICY read_all ON lane_google.campaigns;
ALTER TABLE lane_google.campaigns DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON ALL TABLES IN SCHEMA lane_google FROM regress_lg_converter;
REVOKE ALL ON SCHEMA lane_google FROM regress_lg_converter;
REVOKE ALL ON FUNCTION lane_google.convert_legacy(name, text, boolean) FROM regress_lg_converter;
DROP SCHEMA s_rls CASCADE;
DROP ROLE regress_lg_converter;
SELECT pg_temp.empty_targets();

--
-- Triggers a user added to a target fire as COPY fires them: row and
-- statement triggers, AFTER INSERT, with transition tables.  A BEFORE
-- INSERT row trigger could change or drop rows whose keys the conversion
-- has checked: it is refused, by name.
--
CREATE TABLE public.trigger_log (tg text, level text, rows int, note text);
CREATE FUNCTION public.log_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.trigger_log
    VALUES (TG_NAME, TG_LEVEL, NULL,
            NEW.name || ' visible: ' || (SELECT count(*) FROM lane_google.campaigns c WHERE c.id = NEW.id));
    RETURN NULL;
END $$;
CREATE FUNCTION public.log_statement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_WHEN = 'AFTER' THEN
        INSERT INTO public.trigger_log SELECT TG_NAME, TG_LEVEL, count(*), string_agg(name, ',' ORDER BY name) FROM new_rows;
    ELSE
        INSERT INTO public.trigger_log VALUES (TG_NAME, TG_LEVEL, NULL, TG_WHEN);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER audit_row AFTER INSERT ON lane_google.campaigns
    FOR EACH ROW EXECUTE FUNCTION public.log_row();
CREATE TRIGGER audit_before_stmt BEFORE INSERT ON lane_google.campaigns
    FOR EACH STATEMENT EXECUTE FUNCTION public.log_statement();
CREATE TRIGGER audit_stmt AFTER INSERT ON lane_google.campaigns
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.log_statement();
SELECT pg_temp.make_source('s_trg');
SELECT table_name, rows_converted
  FROM lane_google.convert_legacy('s_trg') WHERE table_name = 'campaigns';
SELECT * FROM public.trigger_log ORDER BY level, tg, note;
-- the extension's own trigger still keeps updated_at current
UPDATE lane_google.campaigns SET name = 'Spring 2' WHERE legacy_id = 10
RETURNING updated_at > created_at AS updated_at_moved;
SELECT pg_temp.empty_targets();
TRUNCATE public.trigger_log;
-- a disabled trigger does not fire
ALTER TABLE lane_google.campaigns DISABLE TRIGGER audit_row;
SELECT table_name, rows_converted
  FROM lane_google.convert_legacy('s_trg') WHERE table_name = 'campaigns';
SELECT tg, level, rows FROM public.trigger_log ORDER BY level, tg;
SELECT pg_temp.empty_targets();
TRUNCATE public.trigger_log;
ALTER TABLE lane_google.campaigns ENABLE TRIGGER audit_row;
-- BEFORE INSERT FOR EACH ROW: refused, nothing written
CREATE FUNCTION public.rename_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.name := 'renamed';
    RETURN NEW;
END $$;
CREATE TRIGGER zz_rename BEFORE INSERT ON lane_google.campaigns
    FOR EACH ROW EXECUTE FUNCTION public.rename_row();
SELECT pg_temp.try($$SELECT * FROM lane_google.convert_legacy('s_trg')$$);
SELECT count(*) AS nothing_written FROM lane_google.users;
SELECT count(*) AS no_trigger_fired FROM public.trigger_log;
DROP TRIGGER zz_rename ON lane_google.campaigns;
DROP TRIGGER audit_row ON lane_google.campaigns;
DROP TRIGGER audit_before_stmt ON lane_google.campaigns;
DROP TRIGGER audit_stmt ON lane_google.campaigns;
DROP FUNCTION public.rename_row();
DROP FUNCTION public.log_row();
DROP FUNCTION public.log_statement();
DROP TABLE public.trigger_log;
SELECT pg_temp.empty_targets();

--
-- legacy_uuid() is PARALLEL SAFE and works in parallel workers: a plan
-- with a Gather whose workers ran it
--
CREATE TABLE public.many_ids AS SELECT g AS id FROM generate_series(1, 20000) g;
ANALYZE public.many_ids;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
CREATE FUNCTION pg_temp.workers_launched(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    line text;
    n int := 0;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
        IF line ~ 'Workers Launched: \d+' THEN
            n := n + substring(line FROM 'Workers Launched: (\d+)')::int;
        END IF;
    END LOOP;
    RETURN n;
END $$;
SELECT pg_temp.workers_launched(
    $$SELECT count(lane_google.legacy_uuid('ads', id)) FROM public.many_ids$$) > 0 AS workers_ran_it;
SELECT count(DISTINCT lane_google.legacy_uuid('ads', id)) AS distinct_uuids,
       bool_and(lane_google.legacy_uuid('ads', id) = lane_google.legacy_uuid('ads', id)) AS stable
  FROM public.many_ids;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
-- the parallel plan gives what a serial one gives
CREATE TEMP TABLE serial_uuids AS
SELECT id, lane_google.legacy_uuid('ads', id) AS u FROM public.many_ids;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SELECT count(*) AS mismatches
  FROM public.many_ids m JOIN serial_uuids s USING (id)
 WHERE lane_google.legacy_uuid('ads', m.id) <> s.u;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
DROP TABLE public.many_ids;

SELECT pg_temp.make_source('s_fdw', '{users}');
DO $$
DECLARE s text;
BEGIN
    FOREACH s IN ARRAY ARRAY['tpl', 's_part', 's_inh', 's_view', 's_trg'] LOOP
        EXECUTE format('DROP SCHEMA %I CASCADE', s);
    END LOOP;
END $$;

--
-- Foreign tables: the old database on another server (here a second
-- database of the same cluster), through postgres_fdw's IMPORT FOREIGN
-- SCHEMA
--
\set here :DBNAME
CREATE DATABASE regress_lg_old_app;
\c regress_lg_old_app
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE SCHEMA app;
CREATE TABLE app.users (id int PRIMARY KEY, email varchar(255), username varchar(100),
    password_hash varchar(255), salt varchar(32), first_name varchar(100), last_name varchar(100),
    phone varchar(20), company varchar(200), department varchar(100), role text, permissions jsonb,
    status text, is_verified boolean, last_login timestamptz, last_activity timestamptz,
    failed_login_attempts int, locked_until timestamptz, password_changed_at timestamptz,
    google_ads_customer_ids jsonb, google_ads_refresh_token varchar(500),
    created_at timestamptz, updated_at timestamptz);
INSERT INTO app.users
SELECT g, 'u' || g || '@example.com', 'u' || g, 'h', 's', 'F', 'L', NULL, NULL, NULL, 'viewer', NULL,
       'active', true, NULL, NULL, 0, NULL, '2020-01-01', NULL, NULL, '2020-01-01', '2020-01-01'
  FROM generate_series(1, 3) g;
\c :here
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION postgres_fdw;
DO $$
BEGIN
    EXECUTE format('CREATE SERVER old_app FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname %L, host %L, port %L)',
                   'regress_lg_old_app',
                   split_part(current_setting('unix_socket_directories'), ',', 1),
                   current_setting('port'));
END $$;
CREATE USER MAPPING FOR CURRENT_USER SERVER old_app;
IMPORT FOREIGN SCHEMA app LIMIT TO (users) FROM SERVER old_app INTO s_fdw;
SELECT relkind FROM pg_class WHERE oid = 's_fdw.users'::regclass;
SELECT table_name, rows_read, rows_converted
  FROM lane_google.convert_legacy('s_fdw') WHERE table_name = 'users';
SELECT legacy_id, email FROM lane_google.users ORDER BY legacy_id;
SELECT bool_and(id = lane_google.legacy_uuid('users', legacy_id)) AS keys_ok FROM lane_google.users;

-- cleanup
DROP SCHEMA s_fdw CASCADE;
DROP SERVER old_app CASCADE;
DROP EXTENSION postgres_fdw;
DROP DATABASE regress_lg_old_app;
DROP EXTENSION lane_google CASCADE;
DROP SCHEMA lane_google;

