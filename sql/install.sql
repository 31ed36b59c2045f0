--
-- install: CREATE EXTENSION lane_google gives the UUID schema of
-- schema-spec.md (version 2.0) in schema lane_google and nothing outside it;
-- VERSION '1.0' gives the integer-keyed layout with the same constraints;
-- a name clash fails cleanly, leaving nothing behind.
--
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS lane_google;
DROP SCHEMA IF EXISTS lane_google CASCADE;
RESET client_min_messages;

-- Catalog objects that exist before the install, to find what it adds
CREATE TEMP TABLE objects_before AS
    SELECT 'pg_class'::regclass AS catalog, oid FROM pg_class
    UNION ALL SELECT 'pg_type', oid FROM pg_type
    UNION ALL SELECT 'pg_proc', oid FROM pg_proc
    UNION ALL SELECT 'pg_constraint', oid FROM pg_constraint
    UNION ALL SELECT 'pg_operator', oid FROM pg_operator
    UNION ALL SELECT 'pg_namespace', oid FROM pg_namespace
    UNION ALL SELECT 'pg_trigger', oid FROM pg_trigger
    UNION ALL SELECT 'pg_cast', oid FROM pg_cast
    UNION ALL SELECT 'pg_event_trigger', oid FROM pg_event_trigger;
CREATE TEMP VIEW objects_now AS
    -- a TOAST table and its index count as their owner's
    SELECT 'pg_class'::regclass AS catalog, c.oid,
           coalesce(o.relnamespace, c.relnamespace) AS nsp,
           coalesce('toast of ' || o.relname, c.relname) AS name
    FROM pg_class c
    LEFT JOIN pg_index ti ON ti.indexrelid = c.oid
        AND c.relnamespace = 'pg_toast'::regnamespace
    LEFT JOIN pg_class o ON o.reltoastrelid = coalesce(ti.indrelid, c.oid)
    UNION ALL SELECT 'pg_type', oid, typnamespace, typname FROM pg_type
    UNION ALL SELECT 'pg_proc', oid, pronamespace, proname FROM pg_proc
    UNION ALL SELECT 'pg_constraint', oid, connamespace, conname FROM pg_constraint
    UNION ALL SELECT 'pg_operator', oid, oprnamespace, oprname FROM pg_operator
    UNION ALL SELECT 'pg_namespace', oid, oid, nspname FROM pg_namespace
    UNION ALL SELECT 'pg_trigger', t.oid, c.relnamespace, tgname
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    UNION ALL SELECT 'pg_cast', oid, 0, oid::text FROM pg_cast
    UNION ALL SELECT 'pg_event_trigger', oid, 0, evtname FROM pg_event_trigger;
CREATE TEMP VIEW objects_new AS
    SELECT n.catalog, n.nsp::regnamespace AS schema, n.name
    FROM objects_now n
    WHERE NOT EXISTS (SELECT 1 FROM objects_before b
                      WHERE b.catalog = n.catalog AND b.oid = n.oid);

-- The 14 foreign keys of schema-spec.md
CREATE TEMP TABLE spec_fks (tab name, col name, ref name, on_delete text);
INSERT INTO spec_fks VALUES
    ('account_users', 'account_id', 'accounts', 'cascade'),
    ('account_users', 'user_id', 'users', 'cascade'),
    ('account_users', 'invited_by', 'users', 'set null'),
    ('campaigns', 'account_id', 'accounts', 'cascade'),
    ('campaigns', 'created_by_id', 'users', 'set null'),
    ('ad_groups', 'campaign_id', 'campaigns', 'cascade'),
    ('ads', 'ad_group_id', 'ad_groups', 'cascade'),
    ('analytics_snapshots', 'campaign_id', 'campaigns', 'cascade'),
    ('approval_requests', 'campaign_id', 'campaigns', 'cascade'),
    ('approval_requests', 'requester_id', 'users', 'cascade'),
    ('approval_requests', 'approved_by', 'users', 'set null'),
    ('budget_alerts', 'campaign_id', 'campaigns', 'cascade'),
    ('conversations', 'user_id', 'users', 'cascade'),
    ('conversation_messages', 'conversation_id', 'conversations', 'cascade');

-- The foreign keys as the catalog has them (whatever the schema is now)
CREATE TEMP VIEW catalog_fks AS
    SELECT k.conname,
           c.relname AS tab,
           (SELECT string_agg(a.attname, ',' ORDER BY u.ord)
            FROM unnest(k.conkey) WITH ORDINALITY u(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum) AS col,
           (SELECT string_agg(format_type(a.atttypid, a.atttypmod), ',' ORDER BY u.ord)
            FROM unnest(k.conkey) WITH ORDINALITY u(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum) AS col_type,
           r.relname AS ref,
           (SELECT string_agg(a.attname, ',' ORDER BY u.ord)
            FROM unnest(k.confkey) WITH ORDINALITY u(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.attnum) AS ref_col,
           CASE k.confdeltype WHEN 'c' THEN 'cascade' WHEN 'n' THEN 'set null'
                WHEN 'a' THEN 'no action' WHEN 'r' THEN 'restrict'
                WHEN 'd' THEN 'set default' END AS on_delete,
           k.confupdtype, k.confmatchtype, k.condeferrable, k.convalidated,
           k.conkey, k.conrelid
    FROM pg_constraint k
    JOIN pg_class c ON c.oid = k.conrelid
    JOIN pg_class r ON r.oid = k.confrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE k.contype = 'f' AND n.nspname = 'lane_google';

-- The application tables: the 11 of the spec
CREATE TEMP TABLE app_tables (tab name);
INSERT INTO app_tables VALUES ('users'), ('accounts'), ('account_users'),
    ('campaigns'), ('ad_groups'), ('ads'), ('analytics_snapshots'),
    ('approval_requests'), ('budget_alerts'), ('conversations'),
    ('conversation_messages');

TRUNCATE objects_before;
INSERT INTO objects_before SELECT catalog, oid FROM objects_now;
CREATE EXTENSION lane_google;

SELECT extname, extversion, extnamespace::regnamespace, extrelocatable
FROM pg_extension WHERE extname = 'lane_google';

-- Every table in the schema: the 11, the namespace and the quarantine
SELECT c.relname, c.relname IN (SELECT tab FROM app_tables) AS application_table
FROM pg_class c
WHERE c.relnamespace = 'lane_google'::regnamespace AND c.relkind = 'r'
ORDER BY c.relname;

-- Every application table's id: uuid, NOT NULL, DEFAULT uuid_generate_v7(),
-- the primary key
SELECT t.tab, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
       a.attidentity, pg_get_expr(d.adbin, d.adrelid) AS "default",
       pg_get_constraintdef(p.oid) AS primary_key
FROM app_tables t
JOIN pg_class c ON c.relname = t.tab AND c.relnamespace = 'lane_google'::regnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'id'
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
LEFT JOIN pg_constraint p ON p.conrelid = c.oid AND p.contype = 'p'
ORDER BY t.tab;

-- The foreign-key graph read back from the catalog: 14 constraints, each on
-- one uuid column referencing id, NO ACTION on update, not deferrable
SELECT conname, tab, col, col_type, ref, ref_col, on_delete,
       confupdtype, confmatchtype, condeferrable, convalidated
FROM catalog_fks ORDER BY tab, col;

-- ... equal to the spec's: nothing missing, nothing extra
(SELECT tab, col::name, ref, on_delete FROM catalog_fks
 EXCEPT SELECT tab, col, ref, on_delete FROM spec_fks)
UNION ALL
(SELECT tab, col, ref, on_delete FROM spec_fks
 EXCEPT SELECT tab, col::name, ref, on_delete FROM catalog_fks);

-- Every foreign-key column leads an index (the indexes that cover it)
SELECT f.tab, f.col,
       (SELECT string_agg(ic.relname, ', ' ORDER BY ic.relname)
        FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
        WHERE i.indrelid = f.conrelid AND i.indkey[0] = f.conkey[1]) AS covering_indexes
FROM catalog_fks f ORDER BY f.tab, f.col;

-- The enum types and their labels
SELECT t.typname, string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder) AS labels
FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
WHERE t.typnamespace = 'lane_google'::regnamespace
GROUP BY t.typname ORDER BY t.typname;

-- Every table with an updated_at column has the set_updated_at trigger
SELECT c.relname,
       (SELECT string_agg(tg.tgname || ': ' || pg_get_triggerdef(tg.oid), '; ')
        FROM pg_trigger tg WHERE tg.tgrelid = c.oid AND NOT tg.tgisinternal) AS triggers
FROM pg_class c
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'updated_at'
WHERE c.relnamespace = 'lane_google'::regnamespace AND c.relkind = 'r'
ORDER BY c.relname;

-- The trigger moves updated_at to the updating transaction's time
INSERT INTO lane_google.users (email, username, password_hash, salt,
                               first_name, last_name, created_at, updated_at)
VALUES ('ada@example.com', 'ada', 'x', 's', 'Ada', 'Lovelace',
        '2001-02-03 04:05:06+00', '2001-02-03 04:05:06+00');
INSERT INTO lane_google.accounts (name, google_customer_id, updated_at)
VALUES ('Acme', '123-456-7890', '2001-02-03 04:05:06+00');
BEGIN;
UPDATE lane_google.users SET last_name = 'King' WHERE username = 'ada';
-- even an explicit value is replaced by the transaction's time
UPDATE lane_google.accounts SET updated_at = '1999-01-01+00';
SELECT username, last_name, updated_at = now() AS updated_now,
       created_at = '2001-02-03 04:05:06+00' AS created_kept
FROM lane_google.users;
SELECT name, updated_at = now() AS updated_now FROM lane_google.accounts;
COMMIT;
SELECT updated_at > '2001-02-03 04:05:06+00' AS moved FROM lane_google.users;
-- a new row's id is a version 7 uuid from the default
SELECT substr(id::text, 15, 1) AS version FROM lane_google.users;
DELETE FROM lane_google.users;
DELETE FROM lane_google.accounts;

-- pg_dump keeps the rows of every table: the 11, the namespace, the quarantine
SELECT cfg::regclass AS config_table, c.relkind, cond
FROM pg_extension x,
     unnest(x.extconfig, x.extcondition) AS u(cfg, cond)
JOIN pg_class c ON c.oid = u.cfg
WHERE x.extname = 'lane_google'
ORDER BY c.relkind, cfg::regclass::text;

-- The extension's members are all in schema lane_google
SELECT (pg_identify_object(d.classid, d.objid, d.objsubid)).type AS member_type,
       (pg_identify_object(d.classid, d.objid, d.objsubid)).schema AS schema,
       count(*)
FROM pg_depend d
WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'lane_google')
GROUP BY 1, 2 ORDER BY 1, 2;

-- and nothing else was created outside it: the one new schema is
-- lane_google itself, and no new object lives elsewhere
SELECT name AS new_schema FROM objects_new WHERE catalog = 'pg_namespace'::regclass;
SELECT catalog, schema, name FROM objects_new
WHERE schema IS DISTINCT FROM 'lane_google'::regnamespace
ORDER BY 1, 2, 3;

-- The namespace drawn at install: one row, a random (version 4) uuid
SELECT count(*), substr(min(root_namespace::text), 15, 1) AS version
FROM lane_google.legacy_config;

-- Kept for the comparison with 1.0 below
CREATE TEMP TABLE fks_2_0 AS
    SELECT conname, tab, col, ref, ref_col, on_delete FROM catalog_fks;

--
-- VERSION '1.0': the legacy layout, integer identity ids and integer foreign
-- keys, the same constraints under the same names
--
DROP EXTENSION lane_google;
CREATE EXTENSION lane_google VERSION '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'lane_google';

SELECT t.tab, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
       a.attidentity, pg_get_expr(d.adbin, d.adrelid) AS "default",
       pg_get_constraintdef(p.oid) AS primary_key,
       pg_get_serial_sequence('lane_google.' || t.tab, 'id') AS sequence
FROM app_tables t
JOIN pg_class c ON c.relname = t.tab AND c.relnamespace = 'lane_google'::regnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'id'
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
LEFT JOIN pg_constraint p ON p.conrelid = c.oid AND p.contype = 'p'
ORDER BY t.tab;

-- every foreign key is integer
SELECT col_type, count(*) FROM catalog_fks GROUP BY col_type;

-- the same 14 constraints (name, columns, referenced table, ON DELETE) as 2.0
(SELECT conname, tab, col, ref, ref_col, on_delete FROM catalog_fks
 EXCEPT SELECT * FROM fks_2_0)
UNION ALL
(SELECT * FROM fks_2_0
 EXCEPT SELECT conname, tab, col, ref, ref_col, on_delete FROM catalog_fks);
SELECT count(*) FROM catalog_fks;

-- each foreign-key column leads an index here too
SELECT count(*) AS unindexed_fks FROM catalog_fks f
WHERE NOT EXISTS (SELECT 1 FROM pg_index i
                  WHERE i.indrelid = f.conrelid AND i.indkey[0] = f.conkey[1]);

-- no legacy_id column at 1.0
SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE c.relnamespace = 'lane_google'::regnamespace AND a.attname = 'legacy_id';

-- the identity sequences are dumped with the tables
SELECT cfg::regclass AS config_table, c.relkind
FROM pg_extension x, unnest(x.extconfig) AS cfg
JOIN pg_class c ON c.oid = cfg
WHERE x.extname = 'lane_google'
ORDER BY c.relkind, cfg::regclass::text;

-- integer ids come from the identity
INSERT INTO lane_google.accounts (name, google_customer_id) VALUES ('Acme', '1');
INSERT INTO lane_google.campaigns (account_id, name, customer_id)
    SELECT id, 'Spring', '1' FROM lane_google.accounts;
SELECT a.id AS account, c.id AS campaign, c.account_id
FROM lane_google.accounts a JOIN lane_google.campaigns c ON c.account_id = a.id;

--
-- Bad input: schema lane_google already holds a table named users.
-- PostgreSQL's own error, and the failed install leaves nothing behind.
--
DROP EXTENSION lane_google;
CREATE TABLE lane_google.users (id integer PRIMARY KEY, name text);
TRUNCATE objects_before;
INSERT INTO objects_before SELECT catalog, oid FROM objects_now;
CREATE EXTENSION lane_google;
SELECT count(*) AS extension_rows FROM pg_extension WHERE extname = 'lane_google';
SELECT catalog, schema, name FROM objects_new ORDER BY 1, 2, 3;
-- the table that was there is untouched
SELECT c.relname FROM pg_class c
WHERE c.relnamespace = 'lane_google'::regnamespace ORDER BY 1;
\d lane_google.users

-- Clean up for the tests after this one
DROP SCHEMA lane_google CASCADE;
