--
-- uuid_v7: uuid_generate_v7(), uuid_v7_to_timestamptz() and the strict decoder; the legacy id
-- mapping legacy_uuid() under a fixed namespace, against values computed
-- with Python's uuid.uuid5(uuid.uuid5(root, table), str(id)).
--
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS lane_google;
DROP SCHEMA IF EXISTS lane_google CASCADE;
RESET client_min_messages;
CREATE EXTENSION lane_google;
SET search_path = lane_google, public;
SET TimeZone = 'UTC';

--
-- uuid_generate_v7()
--
CREATE TEMP TABLE v7 AS
    SELECT clock_timestamp() AS t0, n, uuid_generate_v7() AS u,
           clock_timestamp() AS t1
    FROM generate_series(1, 100000) AS n;

-- version nibble 7, variant bits 10, all distinct
SELECT count(*) AS n,
       count(*) FILTER (WHERE substr(u::text, 15, 1) <> '7') AS not_version_7,
       count(*) FILTER (WHERE substr(u::text, 20, 1) NOT IN ('8', '9', 'a', 'b')) AS not_variant_10,
       count(DISTINCT u) AS distinct_values
FROM v7;

-- strictly increasing in generation order, and so are their timestamps
SELECT count(*) FILTER (WHERE u <= prev) AS not_increasing,
       count(*) FILTER (WHERE uuid_v7_to_timestamptz(u) < uuid_v7_to_timestamptz(prev)) AS time_going_back
FROM (SELECT u, lag(u) OVER (ORDER BY n) AS prev FROM v7) s
WHERE prev IS NOT NULL;

-- the timestamp inside is the clock's: not before the call (to the
-- millisecond), not more than a second after it
SELECT count(*) FILTER (WHERE uuid_v7_to_timestamptz(u) < date_trunc('milliseconds', t0)) AS before_call,
       count(*) FILTER (WHERE uuid_v7_to_timestamptz(u) > t1 + interval '1 second') AS after_call
FROM v7;
SELECT abs(extract(epoch FROM uuid_v7_to_timestamptz(uuid_generate_v7()) - clock_timestamp())) < 2
    AS within_seconds_of_now;

-- the next statement's values go on increasing
SELECT uuid_generate_v7() > (SELECT u FROM v7 ORDER BY n DESC LIMIT 1) AS still_increasing;

-- a new value every call, within one statement and one row
SELECT uuid_generate_v7() <> uuid_generate_v7() AS differ;

--
-- uuid_v7_to_timestamptz()
--
-- 2024-01-02 03:04:05.678 UTC is 1704164645678 ms = 0x018cc820db2e
SELECT uuid_v7_to_timestamptz('018cc820-db2e-7abc-8def-0123456789ab');
SELECT uuid_v7_to_timestamptz('018cc820-db2e-7abc-8def-0123456789ab')
    = '2024-01-02 03:04:05.678+00'::timestamptz AS round_trip;
-- the random part does not matter, the sub-millisecond fraction is dropped
SELECT uuid_v7_to_timestamptz('018cc820-db2e-7000-b000-000000000000')
    = '2024-01-02 03:04:05.678+00'::timestamptz AS round_trip;
-- the ends of the 48-bit range
SELECT uuid_v7_to_timestamptz('00000000-0000-7000-8000-000000000000');
SELECT uuid_v7_to_timestamptz('ffffffff-ffff-7fff-bfff-ffffffffffff');
-- NULL in, NULL out
SELECT uuid_v7_to_timestamptz(NULL) IS NULL AS is_null;

-- not version 7: from 1.1 and 2.1 on, uuid_v7_to_timestamptz() is pg_uuidv7's
-- (any UUID's first 48 bits, sql/uuid_pguuidv7.sql) and the strict decoder
-- is uuid_v7_to_timestamptz_strict(): a version 4 (what gen_random_uuid()
-- returns) and a version 1
SELECT uuid_v7_to_timestamptz_strict('3f2b8c1e-9d4a-4e6b-a1c3-5d7e9f0b2a4c');
SELECT uuid_v7_to_timestamptz_strict('c232ab00-9414-11ec-b3c8-9e6bdeced846');
DO $$
BEGIN
    PERFORM uuid_v7_to_timestamptz_strict(gen_random_uuid());
EXCEPTION WHEN invalid_parameter_value THEN
    RAISE NOTICE 'gen_random_uuid(): invalid_parameter_value';
END $$;
-- not of the RFC 9562 variant: NCS (0xxx), Microsoft (110x), the nil uuid
SELECT uuid_v7_to_timestamptz_strict('018cc820-db2e-7abc-0def-0123456789ab');
SELECT uuid_v7_to_timestamptz_strict('018cc820-db2e-7abc-cdef-0123456789ab');
SELECT uuid_v7_to_timestamptz_strict('00000000-0000-0000-0000-000000000000');
-- on a version 7 it is the same as uuid_v7_to_timestamptz()
SELECT uuid_v7_to_timestamptz_strict('018cc820-db2e-7abc-8def-0123456789ab')
    = uuid_v7_to_timestamptz('018cc820-db2e-7abc-8def-0123456789ab') AS same;

--
-- legacy_uuid(table, id) under a fixed namespace
--
SELECT set_legacy_namespace('8f0c9a1e-3b7d-4c2a-9e51-6d4f2b8a7c03');
SELECT legacy_namespace();
SELECT count(*) AS config_rows FROM legacy_config;

-- campaigns' namespace is uuid5(root, 'campaigns') = 89e6a23b-7bc7-56f0-a3e6-b317d1033346
SELECT id, legacy_uuid('campaigns', id) AS actual, expected::uuid,
       legacy_uuid('campaigns', id) = expected::uuid AS ok
FROM (VALUES (42, '5708bdad-43b9-503c-8c90-0c3b890d6215'),
             (0, '61243b32-fc48-5f68-a409-2c739d207af8'),
             (-1, 'bc06cdd9-3fe5-530b-93c6-1d42b81e5435'),
             (2147483647, 'd106a4fc-6e77-590b-9025-dfa8dcc486e1'),
             (9223372036854775807, '3b5d740a-7b63-5c89-97cc-ca44b733f5a0'),
             (-9223372036854775808, '75d5949e-8c96-5d9b-921e-d5b137101c22'))
     AS v(id, expected);

-- users' namespace is uuid5(root, 'users') = 40518e98-2c6f-5dc0-a2db-51dd90ef8fd3
SELECT legacy_uuid('users', 42) = '8db8e441-0313-5b4e-8f4b-caa2e84793e5' AS ok;
-- one call site switching tables row by row
SELECT t, id, legacy_uuid(t, id)
FROM (VALUES (1, 'users', 1), (2, 'campaigns', 1), (3, 'users', 1),
             (4, 'campaigns', 42)) AS v(k, t, id)
ORDER BY k;
-- an integer argument is the same id
SELECT legacy_uuid('campaigns', 42::integer) = legacy_uuid('campaigns', 42::bigint) AS same;
-- version 5, variant 10
SELECT substr(legacy_uuid('accounts', 7)::text, 15, 1) AS version,
       substr(legacy_uuid('accounts', 7)::text, 20, 1) IN ('8', '9', 'a', 'b') AS variant_10;
-- STRICT: NULL in, NULL out
SELECT legacy_uuid(NULL, 1) IS NULL AS null_table, legacy_uuid('users', NULL) IS NULL AS null_id;

-- not one of the 11 tables (names are exact)
SELECT legacy_uuid('campaign', 42);
SELECT legacy_uuid('Campaigns', 42);
SELECT legacy_uuid('legacy_config', 1);

-- set_legacy_namespace(NULL) is a no-op (STRICT)
SELECT set_legacy_namespace(NULL);
SELECT legacy_namespace();

-- another namespace, other values; back to the first, the first values
SELECT set_legacy_namespace('9b2e4c1a-7d3f-4e8b-a6c5-0f1e2d3c4b5a');
SELECT legacy_namespace(), legacy_uuid('campaigns', 42);
SELECT set_legacy_namespace('8f0c9a1e-3b7d-4c2a-9e51-6d4f2b8a7c03');
SELECT legacy_uuid('campaigns', 42);

-- a row inserted into legacy_config replaces the others (as a restore loads
-- the dumped row after CREATE EXTENSION drew a fresh one), whatever its time
INSERT INTO legacy_config VALUES ('11111111-1111-4111-8111-111111111111', clock_timestamp());
SELECT legacy_namespace();
INSERT INTO legacy_config VALUES ('22222222-2222-4222-8222-222222222222', '2000-01-01+00');
SELECT legacy_namespace(), (SELECT count(*) FROM legacy_config) AS config_rows;
-- rows loaded with triggers disabled: no guess, a clear error
SET session_replication_role = replica;
INSERT INTO legacy_config VALUES ('33333333-3333-4333-8333-333333333333', now());
RESET session_replication_role;
SELECT legacy_namespace();
SELECT set_legacy_namespace('8f0c9a1e-3b7d-4c2a-9e51-6d4f2b8a7c03');
SELECT count(*) AS config_rows FROM legacy_config;

-- once a converted row exists the namespace is fixed
INSERT INTO users (id, email, username, password_hash, salt, first_name,
                   last_name, legacy_id)
VALUES (legacy_uuid('users', 42), 'u42@example.com', 'u42', 'x', 's', 'U', 'Ft', 42);
SELECT set_legacy_namespace('9b2e4c1a-7d3f-4e8b-a6c5-0f1e2d3c4b5a');
SELECT legacy_namespace();
-- legacy_id_of() reads the id back; a row born at 2.0 has none
INSERT INTO users (email, username, password_hash, salt, first_name, last_name)
VALUES ('new@example.com', 'new', 'x', 's', 'N', 'Ew');
SELECT username, legacy_id_of('users', id) FROM users ORDER BY username;
SELECT legacy_id_of('users', '8db8e441-0313-5b4e-8f4b-caa2e84793e5');
SELECT legacy_id_of('users', gen_random_uuid()) IS NULL AS no_such_row;

-- the namespace is the owner's: other roles may not read or set it, but may
-- generate v7 keys and read their time
CREATE ROLE regress_lane_google_user;
SET ROLE regress_lane_google_user;
SELECT uuid_v7_to_timestamptz(uuid_generate_v7()) IS NOT NULL AS can_generate;
SELECT legacy_namespace();
SELECT set_legacy_namespace('00000000-0000-0000-0000-000000000000');
SELECT legacy_uuid('users', 1);
SELECT * FROM legacy_config;
RESET ROLE;
DROP ROLE regress_lane_google_user;

-- Clean up for the tests after this one
RESET search_path;
DROP EXTENSION lane_google;
DROP SCHEMA lane_google;
