--
-- uuid_pg18: PostgreSQL 18's UUID functions as lane_google provides them:
-- uuidv4(), uuidv7(), uuidv7(shift interval), uuid_extract_version(uuid),
-- uuid_extract_timestamp(uuid).
--
-- Written from what PostgreSQL 18's own regression test checks
-- (postgres/postgres: src/test/regress/sql/uuid.sql and expected/uuid.out,
-- its generation, sortability, timestamp-offset and extraction tests; its
-- tests of the uuid type's input, operators and indexes are of core's type,
-- the same on every version, and not repeated), where its outputs are shown
-- as PostgreSQL 18 shows them; then what PostgreSQL 18's
-- src/backend/utils/adt/uuid.c does beyond them: the shift and its range
-- check, the sub-millisecond fraction, monotonicity, variants, NULLs, and
-- the catalog entries (volatility, strictness, parallel safety, leakproof).
--
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS lane_google;
DROP SCHEMA IF EXISTS lane_google CASCADE;
RESET client_min_messages;
CREATE EXTENSION lane_google;
-- lane_google before pg_catalog: on PostgreSQL 17 and 18, whose pg_catalog
-- has some of these names, it is still the extension's functions under test
SET search_path = lane_google, pg_catalog, public;

CREATE TABLE guid1 (guid_field uuid, text_field text DEFAULT now());
CREATE TABLE guid3 (id serial, guid_field uuid);

--
-- PostgreSQL 18's tests
--
-- uuidv4(): two calls, two values
INSERT INTO guid1 (guid_field) VALUES (uuidv4());
INSERT INTO guid1 (guid_field) VALUES (uuidv4());
SELECT count(DISTINCT guid_field) FROM guid1;

-- uuidv7(), uuidv7(interval): three calls, three values
TRUNCATE guid1;
INSERT INTO guid1 (guid_field) VALUES (uuidv7());
INSERT INTO guid1 (guid_field) VALUES (uuidv7());
INSERT INTO guid1 (guid_field) VALUES (uuidv7(INTERVAL '1 day'));
SELECT count(DISTINCT guid_field) FROM guid1;

-- sortability: ten values sort in the order they were generated
INSERT INTO guid3 (guid_field) SELECT uuidv7() FROM generate_series(1, 10);
SELECT array_agg(id ORDER BY guid_field) FROM guid3;

-- timestamp offsets: shifted by whole years to each year from 1970 to 10888,
-- the timestamps read back increase with the shift (no row out of order)
WITH uuidts AS (
    SELECT y, ts, lag(ts) OVER (ORDER BY y) AS prev_ts
    FROM (SELECT y, uuid_extract_timestamp(uuidv7((y || ' years')::interval)) AS ts
          FROM generate_series(1970 - extract(year FROM now())::int,
                               10888 - extract(year FROM now())::int) y) s
)
SELECT y, ts, prev_ts FROM uuidts WHERE ts < prev_ts;

-- uuid_extract_version()
SELECT uuid_extract_version('11111111-1111-5111-8111-111111111111');  -- 5
SELECT uuid_extract_version(gen_random_uuid());  -- 4
SELECT uuid_extract_version('11111111-1111-1111-1111-111111111111');  -- null: variant 0
SELECT uuid_extract_version(uuidv4());  -- 4
SELECT uuid_extract_version(uuidv7());  -- 7

-- uuid_extract_timestamp(): RFC 9562's test vectors for versions 1 and 7,
-- NULL for a version 4 and for another variant
SELECT uuid_extract_timestamp('C232AB00-9414-11EC-B3C8-9F6BDECED846') = 'Tuesday, February 22, 2022 2:22:22.00 PM GMT+05:00';
SELECT uuid_extract_timestamp('017F22E2-79B0-7CC3-98C4-DC0C0C07398F') = 'Tuesday, February 22, 2022 2:22:22.00 PM GMT+05:00';
SELECT uuid_extract_timestamp(gen_random_uuid());  -- null
SELECT uuid_extract_timestamp('11111111-1111-1111-1111-111111111111');  -- null

DROP TABLE guid1, guid3;

--
-- Beyond PostgreSQL 18's tests: what its uuid.c does
--
SET TimeZone = 'UTC';

-- The catalog entries: PostgreSQL 18's pg_proc.dat marks all of them
-- strict and parallel safe, the generators volatile, the extractors
-- immutable and leakproof (uuidv4 is gen_random_uuid under another name)
SELECT p.oid::regprocedure AS function, p.prorettype::regtype AS returns,
       p.provolatile AS volatility, p.proisstrict AS strict,
       p.proparallel AS parallel, p.proleakproof AS leakproof,
       l.lanname AS language, p.prosrc
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'lane_google'::regnamespace
   AND p.proname IN ('uuidv4', 'uuidv7', 'uuid_extract_version', 'uuid_extract_timestamp')
 ORDER BY 1::text;

-- uuidv4(): version 4, variant 10, all distinct
SELECT count(*) AS n,
       count(*) FILTER (WHERE uuid_extract_version(u) = 4) AS version_4,
       count(DISTINCT u) AS distinct_values
  FROM (SELECT uuidv4() AS u FROM generate_series(1, 10000)) s;

-- uuidv7(shift): the timestamp inside is the clock's shifted by the interval,
-- to the millisecond; calendar units as timestamptz + interval counts them
-- (the upper bound leaves a second for the clock to move on)
CREATE TEMP TABLE shifted AS
    SELECT shift, clock_timestamp() AS t0, uuidv7(shift) AS u, clock_timestamp() AS t1
      FROM unnest(ARRAY['0', '1 day', '-1 day', '1 month', '-1 year 2 days',
                        '90 minutes', '-1 minute', '8000 years', '-50 years']::interval[]) AS shift;
SELECT shift,
       uuid_extract_version(u) AS version,
       uuid_extract_timestamp(u) >= date_trunc('milliseconds', t0 + shift) AS not_before,
       uuid_extract_timestamp(u) <= t1 + shift + interval '1 second' AS not_after
  FROM shifted ORDER BY t0;

-- and below the millisecond: the 12-bit fraction in rand_a is the shifted
-- time's, to 1/4096 ms (PostgreSQL 18 carries the clock's sub-millisecond
-- part through the shift): read as Unix microseconds, the 60 bits lie
-- between the shifted clock readings before and after the call (a
-- microsecond below for rounding, a millisecond above for the clock)
SELECT shift,
       count(*) FILTER (WHERE precise < extract(epoch FROM t0 + shift) * 1000000 - 1) AS too_early,
       count(*) FILTER (WHERE precise > extract(epoch FROM t1 + shift) * 1000000 + 1000) AS too_late
  FROM (SELECT shift, t0, t1,
               ('x' || substr(replace(u::text, '-', ''), 1, 12))::bit(48)::bigint * 1000.0
               + ('x' || substr(replace(u::text, '-', ''), 14, 3))::bit(12)::int * 1000.0 / 4096
                 AS precise
          FROM (SELECT shift, clock_timestamp() AS t0, uuidv7(shift) AS u, clock_timestamp() AS t1
                  FROM unnest(ARRAY['0', '0.5 milliseconds', '-1.25 milliseconds']::interval[]) AS shift,
                       generate_series(1, 1000)) g) s
 GROUP BY shift ORDER BY shift;

-- monotonic within a backend: uuidv7(), uuidv7(shift) with a fixed shift and
-- uuid_generate_v7() share one clock, so their values, interleaved, strictly
-- increase; and so do negative shifts, of an hour and of decades
SELECT count(*) FILTER (WHERE u <= prev) AS not_increasing
  FROM (SELECT u, lag(u) OVER (ORDER BY n) AS prev
          FROM (SELECT n, CASE n % 3 WHEN 0 THEN uuidv7()
                                     WHEN 1 THEN uuidv7(interval '0')
                                     ELSE uuid_generate_v7() END AS u
                  FROM generate_series(1, 30000) n) g) s;
SELECT shift, count(*) FILTER (WHERE u <= prev) AS not_increasing
  FROM (SELECT shift, u, lag(u) OVER (PARTITION BY shift ORDER BY n) AS prev
          FROM (SELECT shift, n, uuidv7(shift) AS u
                  FROM unnest(ARRAY['-1 hour', '-50 years']::interval[]) AS shift,
                       generate_series(1, 10000) n) g) s
 GROUP BY shift ORDER BY shift;

-- the range checks: timestamptz + interval must stay within PostgreSQL's
-- timestamp range, as in PostgreSQL 18
SELECT uuidv7(interval '300000 years');
SELECT uuidv7(interval '-300000 years');
-- and, as from PostgreSQL 18.6 on (18.0 to 18.5 wrapped the milliseconds
-- around 2^48), within the 48-bit field's: 1970-01-01 00:00:00 UTC to
-- 10889-08-02 05:31:50.655 UTC (2^48 - 1 ms), an error past either end
SELECT uuidv7(interval '9000 years');
SELECT uuidv7(interval '-1000 years');
-- at the ends: a shift to an hour inside either end is taken, to an hour
-- outside refused (the shift is computed from a clock reading taken before
-- uuidv7()'s own, which is later by far less than an hour)
SELECT uuid_extract_timestamp(uuidv7(timestamptz '1970-01-01 01:00:00 UTC' - clock_timestamp()))
         BETWEEN '1970-01-01 01:00:00 UTC' AND '1970-01-01 01:01:00 UTC' AS lowest_taken,
       uuid_extract_timestamp(uuidv7(timestamptz '10889-08-02 04:31:50.655 UTC' - clock_timestamp()))
         BETWEEN '10889-08-02 04:31:50.655 UTC' AND '10889-08-02 04:32:50.655 UTC' AS highest_taken;
SELECT uuidv7(timestamptz '1969-12-31 23:00:00 UTC' - clock_timestamp());
SELECT uuidv7(timestamptz '10889-08-02 06:31:50.655 UTC' - clock_timestamp());
-- the SQLSTATE of both: datetime_field_overflow (22008)
DO $$
DECLARE
    shift interval;
    state text;
BEGIN
    FOREACH shift IN ARRAY ARRAY['9000 years', '-1000 years']::interval[] LOOP
        BEGIN
            PERFORM uuidv7(shift);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE;
            RAISE NOTICE 'uuidv7(%): SQLSTATE %', shift, state;
        END;
    END LOOP;
END
$$;

-- STRICT: NULL in, NULL out
SELECT uuidv7(NULL::interval) IS NULL AS shift_null,
       uuid_extract_version(NULL) IS NULL AS version_null,
       uuid_extract_timestamp(NULL) IS NULL AS timestamp_null;

-- uuid_extract_version(): the version nibble of any RFC 9562 UUID, NULL for
-- the other variants (NCS 0xxx, Microsoft 110x, reserved 111x)
SELECT v, uuid_extract_version(format('01234567-89ab-%s123-8123-0123456789ab', to_hex(v))::uuid)
  FROM generate_series(0, 15) v;
SELECT variant, uuid_extract_version(u) IS NULL AS version_null,
       uuid_extract_timestamp(u) IS NULL AS timestamp_null
  FROM (VALUES ('NCS 0', '017f22e2-79b0-7cc3-08c4-dc0c0c07398f'::uuid),
               ('NCS 7', '017f22e2-79b0-7cc3-78c4-dc0c0c07398f'),
               ('RFC 9562 8', '017f22e2-79b0-7cc3-88c4-dc0c0c07398f'),
               ('RFC 9562 b', '017f22e2-79b0-7cc3-b8c4-dc0c0c07398f'),
               ('Microsoft c', '017f22e2-79b0-7cc3-c8c4-dc0c0c07398f'),
               ('reserved e', '017f22e2-79b0-7cc3-e8c4-dc0c0c07398f'),
               ('nil', '00000000-0000-0000-0000-000000000000'),
               ('max', 'ffffffff-ffff-ffff-ffff-ffffffffffff')) AS t(variant, u);

-- uuid_extract_timestamp(): versions 1 and 7 only (not 6, though it has one)
SELECT v, uuid_extract_timestamp(format('1ec9414c-232a-%s6b8-b3c8-9f6bdeced846', v)::uuid)
  FROM generate_series(0, 9) v;
-- version 1 to the microsecond (10 ticks of 100 ns), version 7 to the
-- millisecond (the fraction in rand_a is not read back)
SELECT uuid_extract_timestamp('c232ab0a-9414-11ec-b3c8-9f6bdeced846')
     - uuid_extract_timestamp('c232ab00-9414-11ec-b3c8-9f6bdeced846') AS ten_ticks,
       uuid_extract_timestamp('c232ab09-9414-11ec-b3c8-9f6bdeced846')
     - uuid_extract_timestamp('c232ab00-9414-11ec-b3c8-9f6bdeced846') AS nine_ticks,
       uuid_extract_timestamp('017f22e2-79b0-7fff-b8c4-dc0c0c07398f')
     = uuid_extract_timestamp('017f22e2-79b0-7000-88c4-dc0c0c07398f') AS fraction_ignored;
-- the ends of both fields
SELECT uuid_extract_timestamp('00000000-0000-1000-8000-000000000000') AS v1_min,
       uuid_extract_timestamp('ffffffff-ffff-1fff-bfff-ffffffffffff') AS v1_max,
       uuid_extract_timestamp('00000000-0000-7000-8000-000000000000') AS v7_min,
       uuid_extract_timestamp('ffffffff-ffff-7fff-bfff-ffffffffffff') AS v7_max;
-- the timestamp of a value just generated is the clock's
SELECT abs(extract(epoch FROM uuid_extract_timestamp(uuidv7()) - clock_timestamp())) < 2
    AS within_seconds_of_now;

-- IMMUTABLE, so an index can use the extractors
CREATE TEMP TABLE keyed (id uuid);
CREATE INDEX ON keyed (uuid_extract_timestamp(id));
CREATE INDEX ON keyed (uuid_extract_version(id));
DROP TABLE keyed, shifted;

-- Clean up for the tests after this one
RESET search_path;
RESET TimeZone;
DROP EXTENSION lane_google;
DROP SCHEMA lane_google;
