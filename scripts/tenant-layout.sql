
-- scripts/tenant-layout.sql: the tenant-keyed layout of 3.0 (doc/citus.md,
-- section 2) as data, written once for both directions: the first fragment
-- of lane_google--2.2--3.0.sql and of lane_google--3.0--2.2.sql (see the
-- Makefile).  Each script builds its DDL from these two lists and drops
-- them at its end.
--
-- _lg_tenant_columns(): the tenant key each child table gains in 3.0, and
-- the parent row it is filled from, parents before children.
CREATE FUNCTION @extschema@._lg_tenant_columns(
    OUT step integer, OUT table_name name, OUT key_column name,
    OUT parent_column name, OUT parent name)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $columns$
    VALUES (1, 'ad_groups'::name, 'account_id'::name, 'campaign_id'::name, 'campaigns'::name),
           (2, 'ads', 'account_id', 'ad_group_id', 'ad_groups'),
           (3, 'analytics_snapshots', 'account_id', 'campaign_id', 'campaigns'),
           (4, 'approval_requests', 'account_id', 'campaign_id', 'campaigns'),
           (5, 'budget_alerts', 'account_id', 'campaign_id', 'campaigns'),
           (6, 'conversation_messages', 'user_id', 'conversation_id', 'conversations')
$columns$;

-- _lg_tenant_keys(): every key object of the 11 tables that is not the same
-- in 2.2 and 3.0: its kind (p primary key, u unique, f foreign key, i plain
-- index), its definition in 2.2 and in 3.0 (NULL where it does not exist).
-- The primary keys keep their names; a composite foreign key and its index
-- are named as PostgreSQL names them.  users and accounts do not change.
CREATE FUNCTION @extschema@._lg_tenant_keys(
    OUT table_name name, OUT object_name name, OUT kind "char",
    OUT in_22 text, OUT in_30 text)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $keys$
    VALUES
    ('account_users'::name, 'account_users_pkey'::name, 'p'::"char", 'PRIMARY KEY (id)', 'PRIMARY KEY (account_id, id)'),
    ('account_users', 'account_users_id_idx', 'i', NULL, '(id)'),

    ('campaigns', 'campaigns_pkey', 'p', 'PRIMARY KEY (id)', 'PRIMARY KEY (account_id, id)'),
    ('campaigns', 'campaigns_id_idx', 'i', NULL, '(id)'),
    -- the primary key (account_id, id) serves what this index served
    ('campaigns', 'campaigns_account_id_idx', 'i', '(account_id)', NULL),

    ('ad_groups', 'ad_groups_pkey', 'p', 'PRIMARY KEY (id)', 'PRIMARY KEY (account_id, id)'),
    ('ad_groups', 'ad_groups_id_idx', 'i', NULL, '(id)'),
    ('ad_groups', 'ad_groups_campaign_id_fkey', 'f',
     'FOREIGN KEY (campaign_id) REFERENCES @extschema@.campaigns (id) ON DELETE CASCADE', NULL),
    ('ad_groups', 'ad_groups_account_id_campaign_id_fkey', 'f', NULL,
     'FOREIGN KEY (account_id, campaign_id) REFERENCES @extschema@.campaigns (account_id, id) ON DELETE CASCADE'),
    ('ad_groups', 'ad_groups_campaign_id_idx', 'i', '(campaign_id)', NULL),
    ('ad_groups', 'ad_groups_account_id_campaign_id_idx', 'i', NULL, '(account_id, campaign_id)'),

    ('ads', 'ads_pkey', 'p', 'PRIMARY KEY (id)', 'PRIMARY KEY (account_id, id)'),
    ('ads', 'ads_id_idx', 'i', NULL, '(id)'),
    ('ads', 'ads_ad_group_id_fkey', 'f',
     'FOREIGN KEY (ad_group_id) REFERENCES @extschema@.ad_groups (id) ON DELETE CASCADE', NULL),
    ('ads', 'ads_account_id_ad_group_id_fkey', 'f', NULL,
     'FOREIGN KEY (account_id, ad_group_id) REFERENCES @extschema@.ad_groups (account_id, id) ON DELETE CASCADE'),
    ('ads', 'ads_ad_group_id_idx', 'i', '(ad_group_id)', NULL),
    ('ads', 'ads_account_id_ad_group_id_idx', 'i', NULL, '(account_id, ad_group_id)'),

    -- the unique key serves as the foreign key's index, in 2.2 and in 3.0
    ('analytics_snapshots', 'analytics_snapshots_pkey', 'p', 'PRIMARY KEY (id)', 'PRIMARY KEY (account_id, id)'),
    ('analytics_snapshots', 'analytics_snapshots_id_idx', 'i', NULL, '(id)'),
    ('analytics_snapshots', 'analytics_snapshots_campaign_id_snapshot_date_period_type_key', 'u',
     'UNIQUE (campaign_id, snapshot_date, period_type)', NULL),
    ('analytics_snapshots', 'analytics_snapshots_account_id_campaign_id_snapshot_date_pe_key', 'u', NULL,
     'UNIQUE (account_id, campaign_id, snapshot_date, period_type)'),
    ('analytics_snapshots', 'analytics_snapshots_campaign_id_fkey', 'f',
     'FOREIGN KEY (campaign_id) REFERENCES @extschema@.campaigns (id) ON DELETE CASCADE', NULL),
    ('analytics_snapshots', 'analytics_snapshots_account_id_campaign_id_fkey', 'f', NULL,
     'FOREIGN KEY (account_id, campaign_id) REFERENCES @extschema@.campaigns (account_id, id) ON DELETE CASCADE'),

    ('approval_requests', 'approval_requests_pkey', 'p', 'PRIMARY KEY (id)', 'PRIMARY KEY (account_id, id)'),
    ('approval_requests', 'approval_requests_id_idx', 'i', NULL, '(id)'),
    ('approval_requests', 'approval_requests_campaign_id_fkey', 'f',
     'FOREIGN KEY (campaign_id) REFERENCES @extschema@.campaigns (id) ON DELETE CASCADE', NULL),
    ('approval_requests', 'approval_requests_account_id_campaign_id_fkey', 'f', NULL,
     'FOREIGN KEY (account_id, campaign_id) REFERENCES @extschema@.campaigns (account_id, id) ON DELETE CASCADE'),
    ('approval_requests', 'approval_requests_campaign_id_idx', 'i', '(campaign_id)', NULL),
    ('approval_requests', 'approval_requests_account_id_campaign_id_idx', 'i', NULL, '(account_id, campaign_id)'),

    ('budget_alerts', 'budget_alerts_pkey', 'p', 'PRIMARY KEY (id)', 'PRIMARY KEY (account_id, id)'),
    ('budget_alerts', 'budget_alerts_id_idx', 'i', NULL, '(id)'),
    ('budget_alerts', 'budget_alerts_campaign_id_fkey', 'f',
     'FOREIGN KEY (campaign_id) REFERENCES @extschema@.campaigns (id) ON DELETE CASCADE', NULL),
    ('budget_alerts', 'budget_alerts_account_id_campaign_id_fkey', 'f', NULL,
     'FOREIGN KEY (account_id, campaign_id) REFERENCES @extschema@.campaigns (account_id, id) ON DELETE CASCADE'),
    ('budget_alerts', 'budget_alerts_campaign_id_idx', 'i', '(campaign_id)', NULL),
    ('budget_alerts', 'budget_alerts_account_id_campaign_id_idx', 'i', NULL, '(account_id, campaign_id)'),

    ('conversations', 'conversations_pkey', 'p', 'PRIMARY KEY (id)', 'PRIMARY KEY (user_id, id)'),
    ('conversations', 'conversations_id_idx', 'i', NULL, '(id)'),
    -- the primary key (user_id, id) serves what this index served
    ('conversations', 'conversations_user_id_idx', 'i', '(user_id)', NULL),

    ('conversation_messages', 'conversation_messages_pkey', 'p', 'PRIMARY KEY (id)', 'PRIMARY KEY (user_id, id)'),
    ('conversation_messages', 'conversation_messages_id_idx', 'i', NULL, '(id)'),
    ('conversation_messages', 'conversation_messages_conversation_id_fkey', 'f',
     'FOREIGN KEY (conversation_id) REFERENCES @extschema@.conversations (id) ON DELETE CASCADE', NULL),
    ('conversation_messages', 'conversation_messages_user_id_conversation_id_fkey', 'f', NULL,
     'FOREIGN KEY (user_id, conversation_id) REFERENCES @extschema@.conversations (user_id, id) ON DELETE CASCADE'),
    ('conversation_messages', 'conversation_messages_conversation_id_idx', 'i', '(conversation_id)', NULL),
    ('conversation_messages', 'conversation_messages_user_id_conversation_id_idx', 'i', NULL, '(user_id, conversation_id)')
$keys$;

-- _lg_tenant_rekey(from, to): every key object of _lg_tenant_keys() that
-- differs between the two versions, dropped as it is in "from" and created
-- as it is in "to": the triggers' foreign keys first, then unique keys and
-- indexes; then the new primary and unique keys, foreign keys (validated by
-- PostgreSQL: every row is checked), indexes.  Both scripts call it; the
-- columns are changed around it by each script.
CREATE FUNCTION @extschema@._lg_tenant_rekey(from_version text, to_version text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $rekey$
DECLARE
    k record;
BEGIN
    FOR k IN
        SELECT l.table_name, l.object_name, l.kind,
               CASE from_version WHEN '2.2' THEN l.in_22 ELSE l.in_30 END AS def_from,
               CASE to_version WHEN '2.2' THEN l.in_22 ELSE l.in_30 END AS def_to
          FROM @extschema@._lg_tenant_keys() AS l
         ORDER BY CASE l.kind WHEN 'f' THEN 1 WHEN 'u' THEN 2 WHEN 'p' THEN 3 ELSE 4 END,
                  l.object_name COLLATE "C"
    LOOP
        CONTINUE WHEN k.def_from IS NULL OR k.def_from IS NOT DISTINCT FROM k.def_to;
        IF k.kind OPERATOR(pg_catalog.=) 'i' THEN
            EXECUTE pg_catalog.format('DROP INDEX @extschema@.%I', k.object_name);
        ELSE
            EXECUTE pg_catalog.format('ALTER TABLE @extschema@.%I DROP CONSTRAINT %I',
                                      k.table_name, k.object_name);
        END IF;
    END LOOP;
    FOR k IN
        SELECT l.table_name, l.object_name, l.kind,
               CASE from_version WHEN '2.2' THEN l.in_22 ELSE l.in_30 END AS def_from,
               CASE to_version WHEN '2.2' THEN l.in_22 ELSE l.in_30 END AS def_to
          FROM @extschema@._lg_tenant_keys() AS l
         ORDER BY CASE l.kind WHEN 'p' THEN 1 WHEN 'u' THEN 2 WHEN 'f' THEN 3 ELSE 4 END,
                  l.object_name COLLATE "C"
    LOOP
        CONTINUE WHEN k.def_to IS NULL OR k.def_from IS NOT DISTINCT FROM k.def_to;
        IF k.kind OPERATOR(pg_catalog.=) 'i' THEN
            EXECUTE pg_catalog.format('CREATE INDEX %I ON @extschema@.%I %s',
                                      k.object_name, k.table_name, k.def_to);
        ELSE
            EXECUTE pg_catalog.format('ALTER TABLE @extschema@.%I ADD CONSTRAINT %I %s',
                                      k.table_name, k.object_name, k.def_to);
        END IF;
    END LOOP;
END
$rekey$;

-- _lg_tenant_refuse(from, to): before anything changes, the objects outside
-- the layout that depend on a key the update drops (a foreign key of
-- another table into campaigns (id), a view whose GROUP BY relies on a
-- primary key) or on a column the way back drops (an index or a view on
-- ad_groups.account_id): each would be dropped with it or stop the update
-- halfway; the update refuses, naming them all.
CREATE FUNCTION @extschema@._lg_tenant_refuse(from_version text, to_version text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $refuse$
DECLARE
    objects text;
BEGIN
    WITH keys AS (
        SELECT l.table_name, l.object_name, l.kind,
               CASE from_version WHEN '2.2' THEN l.in_22 ELSE l.in_30 END AS def_from,
               CASE to_version WHEN '2.2' THEN l.in_22 ELSE l.in_30 END AS def_to
          FROM @extschema@._lg_tenant_keys() AS l),
    tabs AS (
        SELECT c.oid, c.relname FROM pg_catalog.pg_class AS c
         WHERE c.relnamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
           AND c.relkind OPERATOR(pg_catalog.=) 'r'
           AND c.relname OPERATOR(pg_catalog.=) ANY (ARRAY['users', 'accounts', 'account_users', 'campaigns',
                                  'ad_groups', 'ads', 'analytics_snapshots', 'approval_requests',
                                  'budget_alerts', 'conversations', 'conversation_messages']::name[])),
    dropped AS (
        -- the unique keys dropped, and their indexes
        SELECT 'pg_catalog.pg_constraint'::pg_catalog.regclass AS classid, co.oid AS objid, 0 AS objsubid
          FROM keys AS k
          JOIN tabs AS t ON t.relname OPERATOR(pg_catalog.=) k.table_name
          JOIN pg_catalog.pg_constraint AS co
            ON co.conrelid OPERATOR(pg_catalog.=) t.oid AND co.conname OPERATOR(pg_catalog.=) k.object_name
         WHERE k.kind OPERATOR(pg_catalog.=) ANY (ARRAY['p', 'u']::"char"[])
           AND k.def_from IS NOT NULL AND k.def_from IS DISTINCT FROM k.def_to
        UNION ALL
        SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, co.conindid, 0
          FROM keys AS k
          JOIN tabs AS t ON t.relname OPERATOR(pg_catalog.=) k.table_name
          JOIN pg_catalog.pg_constraint AS co
            ON co.conrelid OPERATOR(pg_catalog.=) t.oid AND co.conname OPERATOR(pg_catalog.=) k.object_name
         WHERE k.kind OPERATOR(pg_catalog.=) ANY (ARRAY['p', 'u']::"char"[])
           AND k.def_from IS NOT NULL AND k.def_from IS DISTINCT FROM k.def_to
        UNION ALL
        -- the tenant key columns, on the way back
        SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, t.oid, a.attnum::integer
          FROM @extschema@._lg_tenant_columns() AS c
          JOIN tabs AS t ON t.relname OPERATOR(pg_catalog.=) c.table_name
          JOIN pg_catalog.pg_attribute AS a
            ON a.attrelid OPERATOR(pg_catalog.=) t.oid AND a.attname OPERATOR(pg_catalog.=) c.key_column
         WHERE to_version OPERATOR(pg_catalog.=) '2.2' AND NOT a.attisdropped),
    ours AS (
        -- the layout's own constraints and indexes, and NOT NULL constraints
        SELECT 'pg_catalog.pg_constraint'::pg_catalog.regclass AS classid, co.oid AS objid
          FROM pg_catalog.pg_constraint AS co JOIN tabs AS t ON t.oid OPERATOR(pg_catalog.=) co.conrelid
         WHERE co.conname OPERATOR(pg_catalog.=) ANY (SELECT k.object_name FROM keys AS k)
            OR co.contype::text OPERATOR(pg_catalog.=) 'n'
        UNION ALL
        SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, i.indexrelid
          FROM pg_catalog.pg_index AS i
          JOIN tabs AS t ON t.oid OPERATOR(pg_catalog.=) i.indrelid
          JOIN pg_catalog.pg_class AS ic ON ic.oid OPERATOR(pg_catalog.=) i.indexrelid
         WHERE ic.relname OPERATOR(pg_catalog.=) ANY (SELECT k.object_name FROM keys AS k))
    SELECT pg_catalog.string_agg(found.line, E'\n' ORDER BY found.line COLLATE "C")
      INTO objects
      FROM (
    SELECT DISTINCT pg_catalog.format('%s depends on %s',
                                      pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid),
                                      pg_catalog.pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid)) AS line
      FROM pg_catalog.pg_depend AS d
      JOIN dropped AS x
        ON d.refclassid OPERATOR(pg_catalog.=) x.classid AND d.refobjid OPERATOR(pg_catalog.=) x.objid
       AND (x.objsubid OPERATOR(pg_catalog.=) 0 OR d.refobjsubid OPERATOR(pg_catalog.=) x.objsubid)
     WHERE d.deptype OPERATOR(pg_catalog.<>) 'i'
       AND NOT EXISTS (SELECT 1 FROM ours AS o
                        WHERE o.classid OPERATOR(pg_catalog.=) d.classid
                          AND o.objid OPERATOR(pg_catalog.=) d.objid)) AS found;
    IF objects IS NOT NULL THEN
        RAISE EXCEPTION 'cannot update extension lane_google to % because other objects depend on keys it changes',
                        to_version
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = objects,
                  HINT = CASE to_version
                         WHEN '3.0' THEN 'Nothing was changed.  In 3.0 the rows of the tenant tables are unique by (account_id, id), those of conversations and conversation_messages by (user_id, id): point foreign keys at those columns, group views by them; or drop these objects, update, and create them again.'
                         ELSE 'Nothing was changed.  In 2.2 these columns and keys do not exist: drop these objects, update, and create them again for 2.2.'
                         END;
    END IF;
END
$refuse$;
