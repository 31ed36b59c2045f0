--
-- uuid_pguuidv7: the pg_uuidv7 extension's functions (version 1.6) as
-- lane_google provides them: uuid_generate_v7(), uuid_v7_to_timestamptz(uuid),
-- uuid_v7_to_timestamp(uuid), uuid_timestamptz_to_v7(timestamptz, zero) and
-- uuid_timestamp_to_v7(timestamp, zero).
--
-- Written from what pg_uuidv7's own tests check (fboulnois/pg_uuidv7:
-- test/sql/001_setup.sql to 006_uuid_timestamp_to_v7.sql and
-- test/expected/*.out; pg_regress runs them, so in its time zone PST8PDT),
-- their outputs shown as pg_uuidv7's expected files show them; then what its
-- sql/pg_uuidv7--1.6.sql and pg_uuidv7.c define beyond them: signatures and
-- volatility, the first 48 bits of any UUID decoded, the zero argument by
-- name; then where lane_google differs: a range error where pg_uuidv7 wraps,
-- the strict decoder under a name of its own, an update that refuses to
-- break an index on the decoder.
--
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS lane_google;
DROP SCHEMA IF EXISTS lane_google CASCADE;
RESET client_min_messages;
CREATE EXTENSION lane_google;
SET search_path = lane_google, public;

--
-- pg_uuidv7's tests
--
\set uuidv7 '018570bb-4a7d-7000-8000-000000000000'
\set uuidtz '2023-01-02 04:26:40.637+00'
\set uuidts '2023-01-02 04:26:40.637'
SHOW TimeZone;

-- 002: a new value sorts after one of 2023
SELECT uuid_generate_v7() > :'uuidv7';
-- 003: the timestamp with time zone inside
SELECT uuid_v7_to_timestamptz(:'uuidv7') = :'uuidtz';
-- 004: a timestamp with time zone to a UUID, random bits or zero bits
SELECT uuid_timestamptz_to_v7(:'uuidtz') > :'uuidv7';
SELECT uuid_timestamptz_to_v7(:'uuidtz', true) = :'uuidv7';
-- 005: the timestamp inside, in UTC whatever the session's time zone
SELECT uuid_v7_to_timestamp(:'uuidv7') = :'uuidts';
-- 006: a timestamp, taken as UTC, to a UUID
SELECT uuid_timestamp_to_v7(:'uuidts') > :'uuidv7';
SELECT uuid_timestamp_to_v7(:'uuidts', true) = :'uuidv7';

--
-- Beyond pg_uuidv7's tests: what its 1.6 script and C file define
--
-- The catalog entries of pg_uuidv7--1.6.sql: the same names, argument types
-- and names, defaults, results; generation volatile, the conversions stable;
-- all strict and parallel safe (uuid_generate_v7() is not marked strict
-- here, as at 1.0 and 2.0: it takes no argument, so it makes no difference)
SELECT p.oid::regprocedure AS function, p.prorettype::regtype AS returns,
       p.proargnames AS arg_names, pg_get_expr(p.proargdefaults, 0) AS defaults,
       p.provolatile AS volatility, p.proisstrict AS strict, p.proparallel AS parallel
  FROM pg_proc p
 WHERE p.pronamespace = 'lane_google'::regnamespace
   AND p.proname IN ('uuid_generate_v7', 'uuid_v7_to_timestamptz', 'uuid_v7_to_timestamp',
                     'uuid_timestamptz_to_v7', 'uuid_timestamp_to_v7')
 ORDER BY 1::text;

-- The same values in another time zone: a timestamp is UTC both ways
SET TimeZone = 'Asia/Kolkata';
SELECT uuid_v7_to_timestamp(:'uuidv7') = :'uuidts' AS decoded_utc,
       uuid_timestamp_to_v7(:'uuidts', true) = :'uuidv7' AS encoded_utc,
       uuid_v7_to_timestamptz(:'uuidv7') = :'uuidtz' AS timestamptz_same;
SET TimeZone = 'UTC';

-- The zero argument by name, as pg_uuidv7 names it; STRICT: NULL in, NULL out
SELECT uuid_timestamptz_to_v7(:'uuidtz', zero => true) AS by_name,
       uuid_timestamptz_to_v7(:'uuidtz', NULL) IS NULL AS null_zero,
       uuid_timestamptz_to_v7(NULL) IS NULL AS null_time,
       uuid_v7_to_timestamptz(NULL) IS NULL AS null_uuid;

-- Random bits: version 7, variant 10, the millisecond given; 74 random bits
-- (rand_a included, as pg_uuidv7), so a thousand values of one millisecond
-- are a thousand values
SELECT count(*) AS n,
       count(*) FILTER (WHERE substr(u::text, 15, 1) = '7') AS version_7,
       count(*) FILTER (WHERE substr(u::text, 20, 1) IN ('8', '9', 'a', 'b')) AS variant_10,
       count(*) FILTER (WHERE uuid_v7_to_timestamptz(u) = :'uuidtz') AS same_ms,
       count(DISTINCT u) AS distinct_values,
       count(DISTINCT substr(u::text, 16, 3)) > 500 AS rand_a_random
  FROM (SELECT uuid_timestamptz_to_v7(:'uuidtz') AS u FROM generate_series(1, 1000)) s;

-- Below the millisecond is dropped, in both directions
SELECT uuid_timestamptz_to_v7('2023-01-02 04:26:40.637999+00', true) = :'uuidv7' AS truncated,
       uuid_v7_to_timestamptz('018570bb-4a7d-7fff-bfff-ffffffffffff') = :'uuidtz' AS fraction_ignored;

-- A round trip, a thousand times over a day: the boundary values sort as
-- their times, and decode to them
SELECT count(*) FILTER (WHERE uuid_v7_to_timestamptz(u) <> t) AS not_round_trip,
       count(*) FILTER (WHERE u <= prev) AS not_sorted
  FROM (SELECT t, u, lag(u) OVER (ORDER BY t) AS prev
          FROM (SELECT t, uuid_timestamptz_to_v7(t, true) AS u
                  FROM generate_series(timestamptz '2023-01-02 00:00+00',
                                       timestamptz '2023-01-03 00:00+00',
                                       interval '86.4 seconds') t) g) s;

-- Any UUID decodes: its first 48 bits as Unix milliseconds, whatever its
-- version or variant (a version 4, RFC 9562's version 1 test vector, the nil
-- and max UUIDs, an NCS variant); the ends of the 48-bit field
SELECT u, uuid_v7_to_timestamptz(u), uuid_v7_to_timestamp(u)
  FROM (VALUES ('3f2b8c1e-9d4a-4e6b-a1c3-5d7e9f0b2a4c'::uuid),
               ('c232ab00-9414-11ec-b3c8-9f6bdeced846'),
               ('00000000-0000-0000-0000-000000000000'),
               ('ffffffff-ffff-ffff-ffff-ffffffffffff'),
               ('018cc820-db2e-7abc-0def-0123456789ab')) AS v(u);
SELECT count(*) FILTER (WHERE uuid_v7_to_timestamptz(u) IS NULL) AS any_null
  FROM (SELECT gen_random_uuid() AS u FROM generate_series(1, 1000)) s;

-- STABLE, as pg_uuidv7: a zero-bits boundary is an index condition
CREATE TEMP TABLE events (id uuid PRIMARY KEY, at timestamptz);
INSERT INTO events
    SELECT uuid_timestamptz_to_v7(t), t
      FROM generate_series(timestamptz '2023-01-01 00:00+00', timestamptz '2023-01-31 00:00+00',
                           interval '1 hour') t;
ANALYZE events;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM events
 WHERE id >= uuid_timestamptz_to_v7('2023-01-10 00:00+00', true)
   AND id < uuid_timestamptz_to_v7('2023-01-11 00:00+00', true);
RESET enable_seqscan;
SELECT count(*) AS in_range,
       count(*) FILTER (WHERE at >= '2023-01-10 00:00+00' AND at < '2023-01-11 00:00+00') AS by_time
  FROM events
 WHERE id >= uuid_timestamptz_to_v7('2023-01-10 00:00+00', true)
   AND id < uuid_timestamptz_to_v7('2023-01-11 00:00+00', true);

--
-- Where lane_google differs from pg_uuidv7
--
-- A time the 48-bit field cannot hold is an error, where pg_uuidv7 wraps it
-- into a wrong time; the ends themselves convert
SELECT uuid_timestamptz_to_v7('1970-01-01 00:00:00+00', true) AS first,
       uuid_timestamptz_to_v7('10889-08-02 05:31:50.655999+00', true) AS last;
SELECT uuid_timestamptz_to_v7('1969-12-31 23:59:59.999999+00');
SELECT uuid_timestamptz_to_v7('10889-08-02 05:31:50.656+00', true);
SELECT uuid_timestamptz_to_v7('infinity');
SELECT uuid_timestamp_to_v7('-infinity', true);
SELECT uuid_timestamp_to_v7('1900-01-01 00:00');

-- lane_google's strict decoder has a name of its own: IMMUTABLE, and an
-- error for anything but an RFC 9562 version 7 UUID
SELECT uuid_v7_to_timestamptz_strict(:'uuidv7') = :'uuidtz' AS strict_v7;
SELECT uuid_v7_to_timestamptz_strict('3f2b8c1e-9d4a-4e6b-a1c3-5d7e9f0b2a4c');
SELECT uuid_v7_to_timestamptz_strict('018cc820-db2e-7abc-0def-0123456789ab');
SELECT provolatile AS volatility FROM pg_proc
 WHERE oid = 'lane_google.uuid_v7_to_timestamptz_strict(uuid)'::regprocedure;
-- so an index on a decoded time takes the strict one; pg_uuidv7's STABLE
-- decoder is refused there, as with pg_uuidv7
CREATE INDEX ON events (uuid_v7_to_timestamptz_strict(id));
CREATE INDEX ON events (uuid_v7_to_timestamptz(id));
DROP TABLE events;

--
-- Privileges: PUBLIC may execute every UUID function, generators and
-- decoders alike (none reads or writes anything but its arguments)
--
CREATE ROLE regress_lg_uuid_nobody;
SELECT p.oid::regprocedure AS function,
       has_function_privilege('regress_lg_uuid_nobody', p.oid, 'EXECUTE') AS nobody_may_execute
  FROM pg_proc p
 WHERE p.pronamespace = 'lane_google'::regnamespace AND p.proname LIKE 'uuid%'
 ORDER BY 1::text;
SET ROLE regress_lg_uuid_nobody;
SELECT uuid_extract_version(uuidv7(interval '1 day')) AS v7,
       uuid_extract_version(uuidv4()) AS v4,
       uuid_v7_to_timestamptz_strict(uuid_timestamptz_to_v7(:'uuidtz', true)) = :'uuidtz' AS round_trip;
RESET ROLE;
DROP ROLE regress_lg_uuid_nobody;

--
-- The update to 2.1 changes uuid_v7_to_timestamptz(uuid) from IMMUTABLE to
-- STABLE: it refuses while an index, a generated column, a partition key or
-- extended statistics use it (their dump would not restore), and changes
-- nothing
--
RESET search_path;
DROP EXTENSION lane_google;
CREATE EXTENSION lane_google VERSION '2.0';
CREATE TABLE public.v7_keyed (id uuid PRIMARY KEY DEFAULT lane_google.uuid_generate_v7());
CREATE INDEX v7_keyed_time ON public.v7_keyed (lane_google.uuid_v7_to_timestamptz(id));
ALTER EXTENSION lane_google UPDATE TO '2.1';
SELECT extversion FROM pg_extension WHERE extname = 'lane_google';
DROP INDEX public.v7_keyed_time;
ALTER TABLE public.v7_keyed
    ADD COLUMN created timestamptz GENERATED ALWAYS AS (lane_google.uuid_v7_to_timestamptz(id)) STORED;
CREATE STATISTICS public.v7_keyed_stats ON (lane_google.uuid_v7_to_timestamptz(id)) FROM public.v7_keyed;
ALTER EXTENSION lane_google UPDATE TO '2.1';
ALTER TABLE public.v7_keyed DROP COLUMN created;
DROP STATISTICS public.v7_keyed_stats;
CREATE TABLE public.v7_parted (id uuid) PARTITION BY RANGE (lane_google.uuid_v7_to_timestamptz(id));
ALTER EXTENSION lane_google UPDATE TO '2.1';
DROP TABLE public.v7_parted;
-- a view may use it (views need no IMMUTABLE function)
CREATE VIEW public.v7_view AS SELECT lane_google.uuid_v7_to_timestamptz(id) AS created FROM public.v7_keyed;
ALTER EXTENSION lane_google UPDATE TO '2.1';
SELECT extversion FROM pg_extension WHERE extname = 'lane_google';
SELECT lane_google.uuid_v7_to_timestamptz('3f2b8c1e-9d4a-4e6b-a1c3-5d7e9f0b2a4c') IS NOT NULL AS decodes_v4;
-- and back at 2.0, the released strict IMMUTABLE function again
ALTER EXTENSION lane_google UPDATE TO '2.0';
SELECT lane_google.uuid_v7_to_timestamptz('3f2b8c1e-9d4a-4e6b-a1c3-5d7e9f0b2a4c');
SELECT provolatile AS volatility FROM pg_proc
 WHERE oid = 'lane_google.uuid_v7_to_timestamptz(uuid)'::regprocedure;
DROP VIEW public.v7_view;
DROP TABLE public.v7_keyed;

-- Clean up for the tests after this one
RESET TimeZone;
DROP EXTENSION lane_google;
DROP SCHEMA lane_google;
