/*-------------------------------------------------------------------------
 *
 * uuid.c
 *	  UUID generation and decoding: lane_google's version 7 generator, and
 *	  drop-ins for PostgreSQL 18's and the pg_uuidv7 extension's functions.
 *
 * The layout is RFC 9562 section 6.2 method 3, the one PostgreSQL 18's
 * uuidv7() uses: 48 bits of Unix milliseconds, a 12-bit sub-millisecond
 * fraction in rand_a, then the variant and 62 random bits.  Values are
 * strictly increasing within a backend: each nanosecond clock reading is at
 * least one step past the previous one (many calls in one millisecond, or the
 * clock stepping back, push it forward), the step being just large enough to
 * change the 12-bit fraction.  uuid_generate_v7(), uuidv7() and
 * uuidv7(interval) share that clock, so their values interleave in order.
 *
 * Random bytes come from pg_strong_random() in batches of 64 UUIDs' worth,
 * kept in a pool that belongs to the process that filled it (see
 * fill_random()).
 *
 * Decoding: uuid_extract_timestamp() and uuid_extract_version() follow
 * PostgreSQL 18 (NULL for what they cannot decode); the pg_uuidv7 drop-ins
 * read the first 48 bits of any UUID as Unix milliseconds;
 * lg_uuid_v7_to_timestamptz() is the strict decoder, an error for anything
 * but an RFC 9562 version 7 UUID.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <time.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "lane_google.h"

PG_FUNCTION_INFO_V1(lg_uuid_generate_v7);
PG_FUNCTION_INFO_V1(lg_uuidv7_interval);
PG_FUNCTION_INFO_V1(lg_uuid_v7_to_timestamptz);
PG_FUNCTION_INFO_V1(lg_uuid_v7_unix_time);
PG_FUNCTION_INFO_V1(lg_uuid_time_to_v7);
PG_FUNCTION_INFO_V1(lg_uuid_extract_timestamp);
PG_FUNCTION_INFO_V1(lg_uuid_extract_version);

#define NS_PER_US		INT64CONST(1000)
#define NS_PER_MS		INT64CONST(1000000)
#define NS_PER_S		INT64CONST(1000000000)
#define US_PER_MS		INT64CONST(1000)
#define SUBMS_BITS		12
/* smallest step that always changes the 12-bit sub-millisecond fraction */
#define SUBMS_MIN_STEP_NS	((NS_PER_MS / (1 << SUBMS_BITS)) + 1)

/* the 48-bit millisecond field of a version 7 UUID */
#define UNIX_MS_MAX		((INT64CONST(1) << 48) - 1)

/* microseconds from the Unix epoch to PostgreSQL's (2000-01-01) */
#define UNIX_TO_PG_EPOCH_US \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

/*
 * The times (PostgreSQL's microseconds) uuidv7(interval) accepts: those the
 * 48-bit field holds, as PostgreSQL 18.6's UUIDV7_MIN_TIMESTAMP and
 * UUIDV7_MAX_TIMESTAMP
 */
#define UUIDV7_MIN_TIMESTAMP	(-UNIX_TO_PG_EPOCH_US)
#define UUIDV7_MAX_TIMESTAMP	(UNIX_MS_MAX * US_PER_MS - UNIX_TO_PG_EPOCH_US)

/* version 1 counts 100 ns intervals from the Gregorian epoch, 1582-10-15 */
#define GREGORIAN_EPOCH_JDATE	INT64CONST(2299161)
#define GREGORIAN_TO_PG_EPOCH_US \
	((int64) (POSTGRES_EPOCH_JDATE - GREGORIAN_EPOCH_JDATE) * USECS_PER_DAY)

/* random bytes are drawn in batches: one pg_strong_random() call per 64 UUIDs */
#define RANDOM_POOL_SIZE	(64 * UUID_LEN)

static int64 previous_ns = 0;
static uint8 random_pool[RANDOM_POOL_SIZE];
static int	random_pool_used = RANDOM_POOL_SIZE;
static int	random_pool_pid = 0;

/*
 * Copy len fresh random bytes to dest.
 *
 * The pool is static memory, so a process forked from the one that filled it
 * would start with a copy of it.  PostgreSQL forks every backend, parallel
 * worker and background worker from the postmaster, which never generates a
 * UUID (it runs no SQL), so the pool is empty at every fork today; still, a
 * pool filled by another process id is thrown away, never used, so that a
 * fork from a process that has used the pool (a library preloaded into the
 * postmaster calling it, a backend forking a helper) cannot hand the same
 * bytes to two processes.  Bytes handed out are wiped from the pool.
 */
static void
fill_random(uint8 *dest, int len)
{
	if (random_pool_pid != MyProcPid ||
		random_pool_used + len > RANDOM_POOL_SIZE)
	{
		if (!pg_strong_random(random_pool, RANDOM_POOL_SIZE))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate random values")));
		random_pool_used = 0;
		random_pool_pid = MyProcPid;
	}
	memcpy(dest, random_pool + random_pool_used, len);
	/* do not leave used random bytes lying around */
	memset(random_pool + random_pool_used, 0, len);
	random_pool_used += len;
}

/* Unix time in nanoseconds, strictly increasing within this backend */
static int64
ascending_time_ns(void)
{
	struct timespec ts;
	int64		ns;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		elog(ERROR, "clock_gettime failed: %m");
	ns = (int64) ts.tv_sec * NS_PER_S + ts.tv_nsec;
	if (ns < previous_ns + SUBMS_MIN_STEP_NS)
		ns = previous_ns + SUBMS_MIN_STEP_NS;
	previous_ns = ns;
	return ns;
}

/*
 * Make uuid a version 7 UUID of unix_ms (its low 48 bits go into the
 * 48-bit field): the time, the version, the variant; the low 4 bits of
 * byte 6, byte 7 and the 62 bits after the variant are left as they are.
 */
static void
set_uuid_v7_fields(pg_uuid_t *uuid, uint64 unix_ms)
{
	uuid->data[0] = (uint8) (unix_ms >> 40);
	uuid->data[1] = (uint8) (unix_ms >> 32);
	uuid->data[2] = (uint8) (unix_ms >> 24);
	uuid->data[3] = (uint8) (unix_ms >> 16);
	uuid->data[4] = (uint8) (unix_ms >> 8);
	uuid->data[5] = (uint8) unix_ms;
	/* version 7 in the high nibble of byte 6 */
	uuid->data[6] = (uuid->data[6] & 0x0f) | 0x70;
	/* RFC 9562 variant: 10xx */
	uuid->data[8] = (uuid->data[8] & 0x3f) | 0x80;
}

/*
 * A version 7 UUID: unix_ms in the 48-bit field, subms_ns (0 to 999999
 * nanoseconds into that millisecond) as the 12-bit fraction in rand_a, 62
 * random bits.
 */
static pg_uuid_t *
make_uuid_v7(uint64 unix_ms, uint32 subms_ns)
{
	pg_uuid_t  *uuid = palloc(UUID_LEN);
	uint32		subms = (uint32) (((uint64) subms_ns << SUBMS_BITS) / NS_PER_MS);

	fill_random(uuid->data, UUID_LEN);
	uuid->data[6] = (uint8) ((subms >> 8) & 0x0f);
	uuid->data[7] = (uint8) subms;
	set_uuid_v7_fields(uuid, unix_ms);
	return uuid;
}

/* the 48-bit millisecond field of any UUID */
static int64
uuid_unix_ms(const pg_uuid_t *uuid)
{
	int64		ms = 0;
	int			i;

	for (i = 0; i < 6; i++)
		ms = (ms << 8) | uuid->data[i];
	return ms;
}

static bool
uuid_is_rfc9562_variant(const pg_uuid_t *uuid)
{
	return (uuid->data[8] & 0xc0) == 0x80;
}

/*
 * uuid_generate_v7() and uuidv7(): a version 7 UUID of the current time.
 */
Datum
lg_uuid_generate_v7(PG_FUNCTION_ARGS)
{
	int64		ns = ascending_time_ns();

	PG_RETURN_UUID_P(make_uuid_v7((uint64) (ns / NS_PER_MS),
								  (uint32) (ns % NS_PER_MS)));
}

/*
 * uuidv7(shift interval): as uuidv7(), the current time shifted by an
 * interval, as PostgreSQL 18 does it: timestamptz + interval (calendar
 * arithmetic in the session's time zone, "timestamp out of range" past
 * PostgreSQL's timestamp range), at microsecond precision, the nanoseconds of
 * the clock reading carried over.  The same ascending clock as uuidv7(), so a
 * fixed shift gives increasing values.  As PostgreSQL 18.6 does (18.0 to 18.5
 * wrapped such times around modulo 2^48 milliseconds), an infinite interval
 * and a time the 48-bit field cannot hold (before 1970, after 10889) are
 * errors, with its messages and SQLSTATE.
 */
Datum
lg_uuidv7_interval(PG_FUNCTION_ARGS)
{
	Interval   *shift = PG_GETARG_INTERVAL_P(0);
	int64		ns = ascending_time_ns();
	TimestampTz ts;
	int64		unix_us;
	int64		unix_ms;

	/* infinite intervals exist from PostgreSQL 17 on */
	if (lg_interval_not_finite(shift))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("interval out of range for UUID version 7"),
				 errdetail("UUID version 7 does not support infinite intervals.")));

	ts = (TimestampTz) (ns / NS_PER_US) - UNIX_TO_PG_EPOCH_US;
	ts = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
												 TimestampTzGetDatum(ts),
												 IntervalPGetDatum(shift)));
	/* compared before the conversion to Unix time, which cannot overflow then */
	if (ts < UUIDV7_MIN_TIMESTAMP || ts > UUIDV7_MAX_TIMESTAMP)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range for UUID version 7"),
				 errdetail("UUID version 7 supports timestamps from 1970-01-01 to approximately year 10889.")));

	unix_us = ts + UNIX_TO_PG_EPOCH_US;
	unix_ms = unix_us / US_PER_MS;

	PG_RETURN_UUID_P(make_uuid_v7((uint64) unix_ms,
								  (uint32) ((unix_us - unix_ms * US_PER_MS) * NS_PER_US +
											ns % NS_PER_US)));
}

/*
 * The strict decoder: the millisecond timestamp of an RFC 9562 version 7
 * UUID, an error for anything else.  uuid_v7_to_timestamptz() at versions
 * 1.0 and 2.0, uuid_v7_to_timestamptz_strict() from 1.1 and 2.1 on.
 */
Datum
lg_uuid_v7_to_timestamptz(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *uuid = PG_GETARG_UUID_P(0);
	int			version = uuid->data[6] >> 4;

	if (!uuid_is_rfc9562_variant(uuid))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("uuid %s is not an RFC 9562 UUID",
						DatumGetCString(DirectFunctionCall1(uuid_out,
															UUIDPGetDatum(uuid)))),
				 errdetail("Its variant bits are not 10.")));
	if (version != 7)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("uuid %s is version %d, not version 7",
						DatumGetCString(DirectFunctionCall1(uuid_out,
															UUIDPGetDatum(uuid))),
						version),
				 errhint("Only version 7 UUIDs carry a Unix timestamp.")));

	PG_RETURN_TIMESTAMPTZ((TimestampTz) (uuid_unix_ms(uuid) * US_PER_MS) -
						  UNIX_TO_PG_EPOCH_US);
}

/*
 * pg_uuidv7's uuid_v7_to_timestamptz() and uuid_v7_to_timestamp(): the first
 * 48 bits of any UUID read as Unix milliseconds, whatever its version and
 * variant.  A timestamp is the UTC time (timestamp and timestamptz share
 * their representation, so one function serves both).  Never an error: 48
 * bits of milliseconds end in the year 10889.
 */
Datum
lg_uuid_v7_unix_time(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *uuid = PG_GETARG_UUID_P(0);

	PG_RETURN_TIMESTAMPTZ((TimestampTz) (uuid_unix_ms(uuid) * US_PER_MS) -
						  UNIX_TO_PG_EPOCH_US);
}

/*
 * pg_uuidv7's uuid_timestamptz_to_v7(timestamptz, zero) and
 * uuid_timestamp_to_v7(timestamp, zero): a version 7 UUID of that
 * millisecond (a timestamp is taken as UTC), the other 74 bits random, or
 * all zero when zero is true (the smallest version 7 UUID of that
 * millisecond, for range queries).  A time the 48-bit field cannot hold
 * (before 1970, after 10889, infinity) is an error, where pg_uuidv7 wraps it
 * silently.
 */
Datum
lg_uuid_time_to_v7(PG_FUNCTION_ARGS)
{
	TimestampTz ts = PG_GETARG_TIMESTAMPTZ(0);
	bool		zero = PG_GETARG_BOOL(1);
	int64		unix_ms;
	pg_uuid_t  *uuid;

	if (TIMESTAMP_NOT_FINITE(ts) || ts < -UNIX_TO_PG_EPOCH_US ||
		(ts + UNIX_TO_PG_EPOCH_US) / US_PER_MS > UNIX_MS_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range for a version 7 UUID"),
				 errdetail("A version 7 UUID holds times from 1970-01-01 00:00:00 UTC to 10889-08-02 05:31:50.655 UTC.")));
	unix_ms = (ts + UNIX_TO_PG_EPOCH_US) / US_PER_MS;

	uuid = palloc(UUID_LEN);
	if (zero)
		memset(uuid->data, 0, UUID_LEN);
	else
		fill_random(uuid->data, UUID_LEN);	/* rand_a random too, as pg_uuidv7 */
	set_uuid_v7_fields(uuid, (uint64) unix_ms);
	PG_RETURN_UUID_P(uuid);
}

/*
 * uuid_extract_timestamp(uuid), as PostgreSQL 18: the time inside an RFC
 * 9562 version 1 (60-bit count of 100 ns from 1582-10-15, to the
 * microsecond) or version 7 UUID (to the millisecond); NULL for other
 * versions and other variants.
 */
Datum
lg_uuid_extract_timestamp(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *uuid = PG_GETARG_UUID_P(0);
	int			version = uuid->data[6] >> 4;

	if (!uuid_is_rfc9562_variant(uuid))
		PG_RETURN_NULL();

	if (version == 1)
	{
		/* time_low, time_mid, then the low 12 bits of time_hi_and_version */
		uint64		ticks = ((uint64) uuid->data[0] << 24) |
			((uint64) uuid->data[1] << 16) |
			((uint64) uuid->data[2] << 8) |
			(uint64) uuid->data[3] |
			((uint64) uuid->data[4] << 40) |
			((uint64) uuid->data[5] << 32) |
			((uint64) (uuid->data[6] & 0x0f) << 56) |
			((uint64) uuid->data[7] << 48);

		PG_RETURN_TIMESTAMPTZ((TimestampTz) (ticks / 10) - GREGORIAN_TO_PG_EPOCH_US);
	}
	if (version == 7)
		PG_RETURN_TIMESTAMPTZ((TimestampTz) (uuid_unix_ms(uuid) * US_PER_MS) -
							  UNIX_TO_PG_EPOCH_US);

	PG_RETURN_NULL();
}

/*
 * uuid_extract_version(uuid), as PostgreSQL 18: the version nibble of an
 * RFC 9562 UUID, NULL for other variants.
 */
Datum
lg_uuid_extract_version(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *uuid = PG_GETARG_UUID_P(0);

	if (!uuid_is_rfc9562_variant(uuid))
		PG_RETURN_NULL();
	PG_RETURN_INT16((int16) (uuid->data[6] >> 4));
}
