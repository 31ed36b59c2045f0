--
-- validate_fk_integrity(): orphans, type mismatches, missing indexes and
-- NOT VALID constraints, on the 1.0 and 2.0 schemas and on a schema of the
-- user's own.
--
SET client_min_messages = warning;

-- 1.0 (integer keys): a clean schema gives no rows
CREATE EXTENSION lane_google VERSION '1.0';
SELECT * FROM lane_google.validate_fk_integrity();

-- orphans planted past the triggers: exact counts and sample keys
INSERT INTO lane_google.users (id, email, username, password_hash, salt, first_name, last_name)
    SELECT g, 'u' || g || '@x', 'u' || g, 'h', 's', 'f', 'l' FROM generate_series(1, 10) g;
INSERT INTO lane_google.accounts (id, name, google_customer_id)
    SELECT g, 'a' || g, 'c' || g FROM generate_series(1, 3) g;
INSERT INTO lane_google.campaigns (id, account_id, created_by_id, name, customer_id)
    SELECT g, 1 + g % 3, 1 + g % 10, 'c' || g, 'c' FROM generate_series(1, 20) g;
SET session_replication_role = replica;
-- 7 campaigns of accounts 40..46, which do not exist; one of them also has
-- a creator that does not exist
INSERT INTO lane_google.campaigns (id, account_id, created_by_id, name, customer_id)
    SELECT 100 + g, 40 + g, CASE WHEN g = 3 THEN 99 END, 'o' || g, 'c'
    FROM generate_series(0, 6) g;
-- 3 ad groups of campaign 500 and 2 of campaign 501
INSERT INTO lane_google.ad_groups (campaign_id, name)
    VALUES (500, 'x'), (500, 'x'), (501, 'x'), (500, 'x'), (501, 'x'), (1, 'fine');
-- a message of a conversation that does not exist
INSERT INTO lane_google.conversation_messages (conversation_id, role, content)
    VALUES (77, 'user', 'hi');
RESET session_replication_role;
SELECT * FROM lane_google.validate_fk_integrity();
-- sample_limit bounds the sample, never the count
SELECT constraint_name, rows, sample
FROM lane_google.validate_fk_integrity('lane_google', 2) ORDER BY 1;
SELECT constraint_name, rows, sample
FROM lane_google.validate_fk_integrity(sample_limit => 0) ORDER BY 1;
SELECT * FROM lane_google.validate_fk_integrity('lane_google', -1);
DROP EXTENSION lane_google CASCADE;

-- 2.0 (uuid keys): a clean schema gives no rows
CREATE EXTENSION lane_google VERSION '2.0';
SELECT * FROM lane_google.validate_fk_integrity();
INSERT INTO lane_google.users (id, email, username, password_hash, salt, first_name, last_name)
    SELECT ('00000000-0000-7000-8000-' || lpad(g::text, 12, '0'))::uuid,
           'u' || g || '@x', 'u' || g, 'h', 's', 'f', 'l'
    FROM generate_series(1, 10) g;
INSERT INTO lane_google.conversations (user_id)
    SELECT ('00000000-0000-7000-8000-' || lpad((1 + g % 10)::text, 12, '0'))::uuid
    FROM generate_series(1, 30) g;
SELECT * FROM lane_google.validate_fk_integrity();
SET session_replication_role = replica;
INSERT INTO lane_google.conversations (user_id)
    SELECT ('00000000-0000-7000-8000-0000000000' || g)::uuid FROM generate_series(11, 14) g;
INSERT INTO lane_google.conversation_messages (conversation_id, role, content)
    SELECT 'ffffffff-0000-7000-8000-000000000001', 'user', 'x' FROM generate_series(1, 3);
INSERT INTO lane_google.account_users (account_id, user_id, invited_by)
    VALUES ('eeeeeeee-0000-7000-8000-000000000001',
            '00000000-0000-7000-8000-000000000001',
            '00000000-0000-7000-8000-000000000099');
RESET session_replication_role;
SELECT * FROM lane_google.validate_fk_integrity();

-- past lane_google.max_memory the key sets fall back to index probes: same answer
CREATE TABLE lane_google.many (id uuid PRIMARY KEY);
INSERT INTO lane_google.many
    SELECT ('10000000-0000-7000-8000-' || lpad(g::text, 12, '0'))::uuid
    FROM generate_series(1, 60000) g;
CREATE TABLE lane_google.many_refs (many_id uuid REFERENCES lane_google.many);
CREATE INDEX ON lane_google.many_refs (many_id);
INSERT INTO lane_google.many_refs SELECT id FROM lane_google.many;
CREATE TABLE lane_google.many_pairs (n integer, id uuid, PRIMARY KEY (n, id));
INSERT INTO lane_google.many_pairs SELECT 1, id FROM lane_google.many;
CREATE TABLE lane_google.many_pair_refs (n integer, id uuid,
    FOREIGN KEY (n, id) REFERENCES lane_google.many_pairs);
CREATE INDEX ON lane_google.many_pair_refs (n, id);
INSERT INTO lane_google.many_pair_refs SELECT * FROM lane_google.many_pairs;
SET session_replication_role = replica;
INSERT INTO lane_google.many_refs VALUES
    ('10000000-0000-7000-8000-000000999999'), ('10000000-0000-7000-8000-000000999998'),
    ('10000000-0000-7000-8000-000000999999');
INSERT INTO lane_google.many_pair_refs VALUES (8, '10000000-0000-7000-8000-000000000001');
RESET session_replication_role;
ANALYZE lane_google.many, lane_google.many_pairs;
SELECT constraint_name, problem, rows, sample
FROM lane_google.validate_fk_integrity()
WHERE table_name IN ('lane_google.many_refs'::regclass, 'lane_google.many_pair_refs'::regclass);
-- single-column keys are sorted and merged, multi-column ones probed
SET lane_google.max_memory = '1MB';
SET client_min_messages = debug1;
SELECT constraint_name, problem, rows, sample
FROM lane_google.validate_fk_integrity()
WHERE table_name IN ('lane_google.many_refs'::regclass, 'lane_google.many_pair_refs'::regclass);
SET client_min_messages = warning;
RESET lane_google.max_memory;
DROP EXTENSION lane_google CASCADE;
DROP TABLE IF EXISTS lane_google.many_refs, lane_google.many,
    lane_google.many_pair_refs, lane_google.many_pairs;
DROP SCHEMA lane_google;

-- a schema of the user's own: the extension checks it from its own schema
CREATE EXTENSION lane_google;
CREATE SCHEMA app;
SET search_path = app, public;

-- a schema with no foreign keys, and empty tables
SELECT * FROM lane_google.validate_fk_integrity('app');
CREATE TABLE parent (id integer PRIMARY KEY);
CREATE TABLE child (id serial, parent_id integer REFERENCES parent);
CREATE INDEX ON child (parent_id);
SELECT * FROM lane_google.validate_fk_integrity('app');

-- a schema that does not exist
SELECT * FROM lane_google.validate_fk_integrity('no_such_schema');

-- type mismatches: integer -> bigint, varchar -> text
CREATE TABLE big_parent (id bigint PRIMARY KEY);
CREATE TABLE text_parent (code text PRIMARY KEY);
CREATE TABLE mixed (
    big_parent_id integer REFERENCES big_parent,
    code varchar(20) REFERENCES text_parent
);
CREATE INDEX ON mixed (big_parent_id);
CREATE INDEX ON mixed (code);
INSERT INTO big_parent VALUES (1), (5000000000);
INSERT INTO text_parent VALUES ('a'), ('b');
INSERT INTO mixed VALUES (1, 'a'), (NULL, 'b');
SET session_replication_role = replica;
INSERT INTO mixed VALUES (2, 'zz'), (2, 'zz'), (3, 'a'), (1, 'A');
RESET session_replication_role;
SELECT * FROM lane_google.validate_fk_integrity('app');

-- missing index: none, one on other columns, one where the key is not leading
DROP TABLE mixed;
CREATE TABLE unindexed (a integer, parent_id integer REFERENCES parent);
CREATE INDEX ON unindexed (a, parent_id);
CREATE TABLE partial (parent_id integer REFERENCES parent);
CREATE INDEX ON partial (parent_id) WHERE parent_id > 0;
CREATE TABLE lead_idx (parent_id integer REFERENCES parent, b integer);
CREATE INDEX ON lead_idx (parent_id, b);
SELECT * FROM lane_google.validate_fk_integrity('app');
DROP TABLE lead_idx;

-- integer keys past the budget: sorted and merged, the same answer
CREATE TABLE wide (id integer PRIMARY KEY);
INSERT INTO wide SELECT g * 3 FROM generate_series(1, 200000) g;
CREATE TABLE wide_ref (wide_id smallint REFERENCES wide);
CREATE INDEX ON wide_ref (wide_id);
INSERT INTO wide_ref VALUES (3), (6), (NULL);
SET session_replication_role = replica;
INSERT INTO wide_ref VALUES (7), (-3), (7), (32767);
RESET session_replication_role;
ANALYZE wide;
SELECT constraint_name, problem, rows, sample
FROM lane_google.validate_fk_integrity('app') WHERE table_name = 'wide_ref'::regclass;
SET lane_google.max_memory = '1MB';
SELECT constraint_name, problem, rows, sample
FROM lane_google.validate_fk_integrity('app') WHERE table_name = 'wide_ref'::regclass;
RESET lane_google.max_memory;
DROP TABLE wide_ref, wide;

-- NOT VALID: reported with its orphan count, zero or not
INSERT INTO parent VALUES (1), (2), (3);
CREATE TABLE loose (parent_id integer);
CREATE INDEX ON loose (parent_id);
INSERT INTO loose VALUES (1), (2), (9), (9), (10), (NULL);
ALTER TABLE loose ADD CONSTRAINT loose_parent_fkey
    FOREIGN KEY (parent_id) REFERENCES parent NOT VALID;
CREATE TABLE tidy (parent_id integer);
CREATE INDEX ON tidy (parent_id);
INSERT INTO tidy VALUES (1), (3);
ALTER TABLE tidy ADD CONSTRAINT tidy_parent_fkey
    FOREIGN KEY (parent_id) REFERENCES parent NOT VALID;
SELECT * FROM lane_google.validate_fk_integrity('app');
DROP TABLE loose, tidy;

-- multi-column keys, MATCH SIMPLE and MATCH FULL
CREATE TABLE pair (a integer, b text, PRIMARY KEY (b, a));
INSERT INTO pair VALUES (1, 'x'), (2, 'y');
CREATE TABLE simple_ref (a integer, b text, FOREIGN KEY (a, b) REFERENCES pair (a, b));
CREATE TABLE full_ref (a integer, b text,
    FOREIGN KEY (a, b) REFERENCES pair (a, b) MATCH FULL);
CREATE INDEX ON simple_ref (b, a);
CREATE INDEX ON full_ref (a, b);
INSERT INTO simple_ref VALUES (1, 'x'), (NULL, 'x'), (NULL, NULL);
INSERT INTO full_ref VALUES (1, 'x'), (NULL, NULL);
SET session_replication_role = replica;
INSERT INTO simple_ref VALUES (1, 'y'), (3, 'x'), (1, 'y'), (5, NULL);
INSERT INTO full_ref VALUES (2, 'x'), (2, NULL), (NULL, 'y'), (2, 'y');
RESET session_replication_role;
SELECT * FROM lane_google.validate_fk_integrity('app');
DROP TABLE unindexed, partial;

-- a self-reference, partitioned referencing and referenced tables
CREATE TABLE staff (id integer PRIMARY KEY, manager_id integer REFERENCES staff);
CREATE INDEX ON staff (manager_id);
INSERT INTO staff VALUES (1, NULL), (2, 1), (3, 2);
CREATE TABLE region (id integer PRIMARY KEY) PARTITION BY RANGE (id);
CREATE TABLE region_low PARTITION OF region FOR VALUES FROM (0) TO (100);
CREATE TABLE region_high PARTITION OF region FOR VALUES FROM (100) TO (200);
INSERT INTO region VALUES (1), (150);
CREATE TABLE sale (region_id integer REFERENCES region, k integer) PARTITION BY RANGE (k);
CREATE TABLE sale_old PARTITION OF sale FOR VALUES FROM (0) TO (10);
CREATE TABLE sale_new PARTITION OF sale FOR VALUES FROM (10) TO (20);
CREATE INDEX ON sale (region_id);
INSERT INTO sale VALUES (1, 1), (150, 11);
SET session_replication_role = replica;
INSERT INTO staff VALUES (4, 40);
INSERT INTO sale VALUES (99, 12), (199, 13), (150, 2);
RESET session_replication_role;
SELECT * FROM lane_google.validate_fk_integrity('app')
WHERE table_name::text NOT IN ('full_ref', 'simple_ref');
DROP TABLE staff, sale, region;

-- only the locks a SELECT takes
BEGIN;
SELECT count(*) FROM lane_google.validate_fk_integrity('app');
SELECT DISTINCT mode FROM pg_locks
WHERE pid = pg_backend_pid() AND locktype = 'relation'
  AND relation IN (SELECT oid FROM pg_class WHERE relnamespace = 'app'::regnamespace);
COMMIT;

-- a caller without SELECT gets a permission error, never a row (EXECUTE is
-- not PUBLIC's: the samples are row contents)
CREATE ROLE regress_validate_nobody;
GRANT EXECUTE ON FUNCTION lane_google.validate_fk_integrity(name, integer) TO regress_validate_nobody;
GRANT USAGE ON SCHEMA app TO regress_validate_nobody;
GRANT SELECT ON parent, child, pair, simple_ref TO regress_validate_nobody;
SET ROLE regress_validate_nobody;
SELECT * FROM lane_google.validate_fk_integrity('app');
RESET ROLE;
-- column privileges on the key columns are enough
GRANT SELECT (a, b) ON full_ref TO regress_validate_nobody;
SET ROLE regress_validate_nobody;
SELECT constraint_name, problem, rows FROM lane_google.validate_fk_integrity('app');
RESET ROLE;
-- row-level security would hide rows: refused
ALTER TABLE full_ref ENABLE ROW LEVEL SECURITY;
SET ROLE regress_validate_nobody;
SELECT constraint_name, problem, rows FROM lane_google.validate_fk_integrity('app');
RESET ROLE;

RESET search_path;
DROP SCHEMA app CASCADE;
REVOKE EXECUTE ON FUNCTION lane_google.validate_fk_integrity(name, integer) FROM regress_validate_nobody;
DROP ROLE regress_validate_nobody;
DROP EXTENSION lane_google CASCADE;
DROP SCHEMA IF EXISTS lane_google;
