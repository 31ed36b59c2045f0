/*-------------------------------------------------------------------------
 *
 * legacy.c
 *	  The legacy id -> uuid mapping: the installation's root namespace
 *	  (legacy_namespace, set_legacy_namespace), RFC 9562 version 5 UUIDs
 *	  through PostgreSQL's cryptohash API, legacy_uuid() and its reverse
 *	  legacy_id_of().
 *
 * legacy_uuid(table, id) = uuid5(uuid5(root, table), decimal text of id), so
 * any client (Python's uuid.uuid5, for one) computes the same value.
 *
 * The SHA-1: one hasher (LgHasher) per conversion or per legacy_uuid() call
 * site, its context initialised again for every key.  Where PostgreSQL was
 * built with OpenSSL (USE_OPENSSL), the hasher calls the libcrypto the
 * server is linked with: the SHA-1 implementation is fetched once per
 * hasher (OpenSSL 3 fetches it again at every EVP_DigestInit_ex(EVP_sha1()),
 * which pg_cryptohash_init() does: that lookup and its locks cost more than
 * the hash).  Elsewhere it goes through pg_cryptohash, one context reused.  The
 * root namespace lives in the extension's legacy_config table (one row),
 * which only the extension's owner may read; the functions here read it
 * below the executor, so EXECUTE on them is the one gate, and it is not
 * PUBLIC's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "common/cryptohash.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "lane_google.h"

#ifdef USE_OPENSSL
#include <openssl/evp.h>
#define LG_SHA1_OPENSSL 1
#endif

PG_FUNCTION_INFO_V1(lg_legacy_namespace);
PG_FUNCTION_INFO_V1(lg_set_legacy_namespace);
PG_FUNCTION_INFO_V1(lg_legacy_uuid);
PG_FUNCTION_INFO_V1(lg_legacy_id_of);

#define LG_CONFIG_TABLE "legacy_config"

struct LgHasher
{
#ifdef LG_SHA1_OPENSSL
	EVP_MD_CTX *evp;
	EVP_MD	   *md;				/* fetched: released with the hasher */
	MemoryContextCallback release;	/* frees both with the memory context */
#else
	pg_cryptohash_ctx *ctx;
#endif
};

/*
 * The root namespace: the one row of legacy_config (an insert there replaces
 * the other rows).  More than one row means they were loaded with triggers
 * disabled; rather than guess, say so.
 */
static int64
read_root_namespace(pg_uuid_t *root)
{
	Oid			relid;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tuple;
	int64		rows = 0;
	bool		pushed = false;
	Snapshot	snapshot;

	relid = get_relname_relid(LG_CONFIG_TABLE, lg_extension_schema());
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("lane_google configuration table \"%s\" is missing",
						LG_CONFIG_TABLE)));

	rel = table_open(relid, AccessShareLock);
	if (!ActiveSnapshotSet())
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		pushed = true;
	}
	/*
	 * The namespace committed last, whatever the transaction's isolation:
	 * conversions hold legacy_config in SHARE mode and set_legacy_namespace
	 * takes EXCLUSIVE, so no change is in flight when one of them reads it.
	 *
	 * In parallel mode (legacy_uuid() is PARALLEL SAFE: a leader or worker
	 * of a parallel plan) no new snapshot may be taken; the query's own
	 * snapshot, which the leader shares with its workers, is the one to
	 * read, so that leader and workers agree.
	 */
	if (IsInParallelMode())
		snapshot = RegisterSnapshot(GetActiveSnapshot());
	else
		snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snapshot, 0, NULL);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		bool		isnull;
		Datum		ns = heap_getattr(tuple, 1, RelationGetDescr(rel), &isnull);

		if (rows++ == 0)
			memcpy(root->data, DatumGetUUIDP(ns)->data, UUID_LEN);
	}
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	if (pushed)
		PopActiveSnapshot();
	table_close(rel, AccessShareLock);
	return rows;
}


/*
 * legacy_uuid(table, id) under namespace root, as text: what citus.c
 * compares with the coordinator's (so that citus.c needs no hasher of its own)
 */
static char *
legacy_uuid_text(const pg_uuid_t *root, const char *table, int64 id)
{
	LgHasher   *hasher = lg_hasher_create();
	pg_uuid_t	table_ns;
	pg_uuid_t	u;

	lg_table_namespace(hasher, root, table, &table_ns);
	lg_map_legacy_id(hasher, &table_ns, id, &u);
	lg_hasher_free(hasher);
	return DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(&u)));
}

/* The root namespace, or an error: none, more than one, another node's */
void
lg_root_namespace(pg_uuid_t *root)
{
	int64		rows = read_root_namespace(root);

	if (rows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("lane_google has no legacy namespace"),
				 errhint("Set one with set_legacy_namespace().")));
	if (rows > 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("lane_google has " INT64_FORMAT " legacy namespaces", rows),
				 errdetail("Table %s holds more than one row: rows were loaded into it with triggers disabled, as a restore with --disable-triggers does.",
						   LG_CONFIG_TABLE),
				 errhint("Delete every row but the namespace your converted keys came from.")));
	/* on a Citus worker, only the coordinator's (citus.c) */
	lg_citus_check_namespace(root, legacy_uuid_text);
}

#ifdef LG_SHA1_OPENSSL
static void
hasher_openssl_error(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg("could not compute SHA-1 hash: %s failed", what)));
}
#endif

#ifdef LG_SHA1_OPENSSL
/* the OpenSSL objects live outside palloc: freed with the hasher's context */
static void
hasher_release(void *arg)
{
	LgHasher   *hasher = (LgHasher *) arg;

	EVP_MD_CTX_free(hasher->evp);
	hasher->evp = NULL;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	EVP_MD_free(hasher->md);
	hasher->md = NULL;
#endif
}
#endif

/*
 * A hasher lives in CurrentMemoryContext, and goes with it on error, OpenSSL
 * objects included.  lg_hasher_free() releases it sooner.
 */
LgHasher *
lg_hasher_create(void)
{
#ifdef LG_SHA1_OPENSSL
	LgHasher   *hasher = palloc0(sizeof(LgHasher));

	hasher->release.func = hasher_release;
	hasher->release.arg = hasher;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &hasher->release);
	hasher->evp = EVP_MD_CTX_new();
	if (hasher->evp == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	hasher->md = EVP_MD_fetch(NULL, "SHA1", NULL);
	if (hasher->md == NULL)
		hasher_openssl_error("EVP_MD_fetch");
#endif
	return hasher;
#else
	/* pg_cryptohash ties its context to the resource owner */
	LgHasher   *hasher = palloc(sizeof(LgHasher));

	hasher->ctx = pg_cryptohash_create(PG_SHA1);
	if (hasher->ctx == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	return hasher;
#endif
}

void
lg_hasher_free(LgHasher *hasher)
{
	if (hasher == NULL)
		return;
#ifdef LG_SHA1_OPENSSL
	/* the struct stays with its context, whose callback still points at it */
	hasher_release(hasher);
#else
	pg_cryptohash_free(hasher->ctx);
	pfree(hasher);
#endif
}

/* RFC 9562 version 5: SHA-1 of namespace || name, version and variant set */
void
lg_uuid_v5(LgHasher *hasher, const pg_uuid_t *ns,
		   const char *name, size_t len, pg_uuid_t *result)
{
#ifdef LG_SHA1_OPENSSL
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen;

#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	if (!EVP_DigestInit_ex2(hasher->evp, hasher->md, NULL))
		hasher_openssl_error("EVP_DigestInit_ex2");
#else
	/* before OpenSSL 3, EVP_sha1() is a static table: nothing to fetch */
	if (!EVP_DigestInit_ex(hasher->evp, EVP_sha1(), NULL))
		hasher_openssl_error("EVP_DigestInit_ex");
#endif
	if (!EVP_DigestUpdate(hasher->evp, ns->data, UUID_LEN) ||
		!EVP_DigestUpdate(hasher->evp, name, len) ||
		!EVP_DigestFinal_ex(hasher->evp, digest, &dlen))
		hasher_openssl_error("EVP_Digest");
	Assert(dlen == 20);
#else
	uint8		digest[20];

	if (pg_cryptohash_init(hasher->ctx) < 0 ||
		pg_cryptohash_update(hasher->ctx, ns->data, UUID_LEN) < 0 ||
		pg_cryptohash_update(hasher->ctx, (const uint8 *) name, len) < 0 ||
		pg_cryptohash_final(hasher->ctx, digest, sizeof(digest)) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute SHA-1 hash")));
#endif
	memcpy(result->data, digest, UUID_LEN);
	result->data[6] = (result->data[6] & 0x0f) | 0x50;
	result->data[8] = (result->data[8] & 0x3f) | 0x80;
}

void
lg_table_namespace(LgHasher *hasher, const pg_uuid_t *root,
				   const char *table_name, pg_uuid_t *result)
{
	lg_uuid_v5(hasher, root, table_name, strlen(table_name), result);
}

void
lg_map_legacy_id(LgHasher *hasher, const pg_uuid_t *table_ns,
			   int64 legacy_id, pg_uuid_t *result)
{
	char		buf[MAXINT8LEN + 1];

	pg_lltoa(legacy_id, buf);
	lg_uuid_v5(hasher, table_ns, buf, strlen(buf), result);
}

Datum
lg_legacy_namespace(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *root = palloc(UUID_LEN);

	lg_root_namespace(root);
	PG_RETURN_UUID_P(root);
}

/* The 11 table names, for error hints */
static char *
known_tables(void)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < LG_NTABLES; i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "", lg_tables[i].name);
	return buf.data;
}

static const LgTable *
lookup_table(text *name)
{
	char	   *s = text_to_cstring(name);
	const LgTable *t = lg_find_table(s);

	if (t == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is not a lane_google table", s),
				 errhint("The tables are: %s.", known_tables())));
	pfree(s);
	return t;
}

/*
 * set_legacy_namespace(uuid): only while no converted row exists, since
 * every converted key depends on it.
 */
LG_GUARDED_FUNCTION(lg_set_legacy_namespace)
{
	pg_uuid_t  *ns = PG_GETARG_UUID_P(0);
	Oid			schema = lg_extension_schema();
	const char *qschema = quote_identifier(get_namespace_name(schema));
	StringInfoData sql;
	Oid			argtypes[1] = {UUIDOID};
	Datum		values[1];
	int			i;
	SPIPlanPtr	plan;
	bool		nil = true;
	bool		max = true;
	pg_uuid_t	current;
	bool		same;

	/*
	 * The nil and max UUIDs are well known: under either, anyone who knows a
	 * table name and a legacy id computes its UUID, which the secret root
	 * namespace exists to prevent.
	 */
	for (i = 0; i < UUID_LEN; i++)
	{
		nil = nil && ns->data[i] == 0x00;
		max = max && ns->data[i] == 0xff;
	}
	if (nil || max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the legacy namespace must not be the %s UUID", nil ? "nil" : "max"),
				 errdetail("Under a well-known namespace anyone can compute the UUID of every legacy id."),
				 errhint("Use a random UUID, such as gen_random_uuid() returns, the same one in every database that must agree.")));

	SPI_connect();

	/* serialize with conversions, which read the namespace under SHARE */
	initStringInfo(&sql);
	appendStringInfo(&sql, "LOCK TABLE %s.%s IN EXCLUSIVE MODE",
					 qschema, LG_CONFIG_TABLE);
	SPI_execute(sql.data, false, 0);

	/*
	 * Setting the namespace in force changes no key; nor does a Citus
	 * worker's, which is used only while it is the coordinator's (citus.c):
	 * neither need the check for converted rows.
	 */
	same = read_root_namespace(&current) == 1 &&
		memcmp(current.data, ns->data, UUID_LEN) == 0;
	for (i = 0; i < LG_NTABLES && !same && !lg_citus_is_worker(); i++)
	{
		Oid			relid = get_relname_relid(lg_tables[i].name, schema);

		if (!OidIsValid(relid) ||
			get_attnum(relid, "legacy_id") == InvalidAttrNumber)
			continue;			/* version 1.0: nothing converted yet */
		resetStringInfo(&sql);
		appendStringInfo(&sql,
						 "SELECT 1 FROM %s.%s WHERE legacy_id IS NOT NULL LIMIT 1",
						 qschema, quote_identifier(lg_tables[i].name));
		/*
		 * With the latest snapshot: in REPEATABLE READ the transaction's
		 * may predate a conversion that committed while we waited for the
		 * lock.
		 */
		plan = SPI_prepare(sql.data, 0, NULL);
		if (plan == NULL ||
			SPI_execute_snapshot(plan, NULL, NULL, GetLatestSnapshot(),
								 InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute failed: %s", sql.data);
		SPI_freeplan(plan);
		if (SPI_processed > 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot change the legacy namespace after rows were converted"),
					 errdetail("Table %s.%s holds converted rows whose keys derive from the current namespace.",
							   get_namespace_name(schema), lg_tables[i].name),
					 errhint("Set the namespace before the first conversion.")));
	}

	/* the insert replaces the current row (trigger legacy_config_replace) */
	resetStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s.%s (root_namespace) VALUES ($1)",
					 qschema, LG_CONFIG_TABLE);
	values[0] = UUIDPGetDatum(ns);
	if (SPI_execute_with_args(sql.data, 1, argtypes, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute failed: %s", sql.data);

	SPI_finish();
	/* on a Citus coordinator, every worker's too */
	lg_citus_propagate_namespace(ns);
	PG_RETURN_VOID();
}

/* Per-call-site cache of legacy_uuid(): the namespace of the last table */
typedef struct LegacyUuidCache
{
	pg_uuid_t	root;
	const LgTable *table;
	pg_uuid_t	table_ns;
	LgHasher   *hasher;			/* one for the query, not one per call */
} LegacyUuidCache;

Datum
lg_legacy_uuid(PG_FUNCTION_ARGS)
{
	text	   *name = PG_GETARG_TEXT_PP(0);
	int64		legacy_id = PG_GETARG_INT64(1);
	LegacyUuidCache *cache = (LegacyUuidCache *) fcinfo->flinfo->fn_extra;
	const LgTable *table;
	pg_uuid_t  *result = palloc(UUID_LEN);

	/* the same table as the last call: no copy of the name, no lookup */
	if (cache != NULL && cache->table != NULL &&
		VARSIZE_ANY_EXHDR(name) == strlen(cache->table->name) &&
		memcmp(VARDATA_ANY(name), cache->table->name, VARSIZE_ANY_EXHDR(name)) == 0)
		table = cache->table;
	else
		table = lookup_table(name);

	if (cache == NULL)
	{
		/* lives as long as the query */
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		cache = palloc0(sizeof(LegacyUuidCache));
		lg_root_namespace(&cache->root);
		cache->hasher = lg_hasher_create();
		fcinfo->flinfo->fn_extra = cache;
		MemoryContextSwitchTo(old);
	}
	if (cache->table != table)
	{
		lg_table_namespace(cache->hasher, &cache->root, table->name, &cache->table_ns);
		cache->table = table;
	}

	lg_map_legacy_id(cache->hasher, &cache->table_ns, legacy_id, result);
	PG_RETURN_UUID_P(result);
}

/*
 * legacy_id_of(table, uuid): the integer id a converted row had, NULL for a
 * row born after the conversion or no such row.  Runs as the caller: it needs
 * SELECT on the table.
 */
LG_GUARDED_FUNCTION(lg_legacy_id_of)
{
	const LgTable *table = lookup_table(PG_GETARG_TEXT_PP(0));
	Oid			schema = lg_extension_schema();
	StringInfoData sql;
	Oid			argtypes[1] = {UUIDOID};
	Datum		values[1];
	Datum		result = (Datum) 0;
	bool		isnull = true;

	values[0] = PG_GETARG_DATUM(1);
	initStringInfo(&sql);
	/* pg_catalog's operator, whatever the caller's search_path puts first */
	appendStringInfo(&sql, "SELECT legacy_id FROM %s.%s WHERE id OPERATOR(pg_catalog.=) $1",
					 quote_identifier(get_namespace_name(schema)),
					 quote_identifier(table->name));

	SPI_connect();
	if (SPI_execute_with_args(sql.data, 1, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", sql.data);
	if (SPI_processed == 1)
	{
		result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		if (!isnull)
			result = Int64GetDatum(DatumGetInt64(result));	/* copy out of SPI */
	}
	SPI_finish();

	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}
