/*-------------------------------------------------------------------------
 *
 * uuid.c
 *	  UUID version 7: uuid_generate_v7() and uuid_v7_to_timestamptz().
 *
 * The layout is RFC 9562 section 6.2 method 3, the one PostgreSQL 18's
 * uuidv7() uses: 48 bits of Unix milliseconds, a 12-bit sub-millisecond
 * fraction in rand_a, then the variant and 62 random bits.  Values are
 * strictly increasing within a backend: each nanosecond clock reading is at
 * least one step past the previous one (many calls in one millisecond, or the
 * clock stepping back, push it forward), the step being just large enough to
 * change the 12-bit fraction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <time.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "lane_google.h"

PG_FUNCTION_INFO_V1(lg_uuid_generate_v7);
PG_FUNCTION_INFO_V1(lg_uuid_v7_to_timestamptz);

#define NS_PER_MS		INT64CONST(1000000)
#define NS_PER_S		INT64CONST(1000000000)
#define SUBMS_BITS		12
/* smallest step that always changes the 12-bit sub-millisecond fraction */
#define SUBMS_MIN_STEP_NS	((NS_PER_MS / (1 << SUBMS_BITS)) + 1)

/* random bytes are drawn in batches: one pg_strong_random() call per 64 UUIDs */
#define RANDOM_POOL_SIZE	(64 * UUID_LEN)

static int64 previous_ns = 0;
static uint8 random_pool[RANDOM_POOL_SIZE];
static int	random_pool_used = RANDOM_POOL_SIZE;

static void
fill_random(uint8 *dest, int len)
{
	if (random_pool_used + len > RANDOM_POOL_SIZE)
	{
		if (!pg_strong_random(random_pool, RANDOM_POOL_SIZE))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate random values")));
		random_pool_used = 0;
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

Datum
lg_uuid_generate_v7(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *uuid = palloc(UUID_LEN);
	int64		ns = ascending_time_ns();
	uint64		ms = (uint64) (ns / NS_PER_MS);
	uint32		subms = (uint32) (((ns % NS_PER_MS) << SUBMS_BITS) / NS_PER_MS);

	fill_random(uuid->data, UUID_LEN);

	uuid->data[0] = (uint8) (ms >> 40);
	uuid->data[1] = (uint8) (ms >> 32);
	uuid->data[2] = (uint8) (ms >> 24);
	uuid->data[3] = (uint8) (ms >> 16);
	uuid->data[4] = (uint8) (ms >> 8);
	uuid->data[5] = (uint8) ms;
	/* version 7 in the high nibble, then the top 4 bits of the fraction */
	uuid->data[6] = (uint8) (0x70 | ((subms >> 8) & 0x0f));
	uuid->data[7] = (uint8) subms;
	/* RFC 9562 variant: 10xx */
	uuid->data[8] = (uuid->data[8] & 0x3f) | 0x80;

	PG_RETURN_UUID_P(uuid);
}

Datum
lg_uuid_v7_to_timestamptz(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *uuid = PG_GETARG_UUID_P(0);
	int			version = uuid->data[6] >> 4;
	uint64		ms = 0;
	int			i;

	if ((uuid->data[8] & 0xc0) != 0x80)
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

	for (i = 0; i < 6; i++)
		ms = (ms << 8) | uuid->data[i];

	PG_RETURN_TIMESTAMPTZ((TimestampTz) (ms * 1000) -
						  ((POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) *
						   SECS_PER_DAY * USECS_PER_SEC));
}
