/*-------------------------------------------------------------------------
 *
 * tenant_fill.c
 *	  The fill of the tenant keys by the update from 2.2 to 3.0, in one
 *	  rewrite per table: _lg_tenant_of(parent, key column, parent id) is the
 *	  USING expression of ALTER TABLE child ALTER COLUMN account_id TYPE uuid,
 *	  which writes every row once and builds its indexes once, where an
 *	  UPDATE ... FROM parent wrote a second version of every row and
 *	  inserted it into every index (3.6 times the time, doc/citus.md).
 *
 *	  The parent's (id -> tenant key) map is read once per statement, by one
 *	  scan, into a hash table in the function's memory context; once it
 *	  outgrows maintenance_work_mem (what an index build of the same
 *	  statement may use) it is given up, and each row looks its parent up
 *	  by id through a plan kept for the statement.  A parent id found nowhere
 *	  gives NULL: the update counts those rows and refuses (23503) before
 *	  SET NOT NULL.
 *
 *	  Created and dropped by the update script itself; the statements it
 *	  builds name the extension's own tables, schema-qualified, with the
 *	  operator of pg_catalog.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/uuid.h"

#include "lane_google.h"

PG_FUNCTION_INFO_V1(lg_tenant_of);

typedef struct TenantEntry
{
	pg_uuid_t	id;				/* hash key */
	pg_uuid_t	tenant;
} TenantEntry;

typedef struct TenantMap
{
	HTAB	   *map;			/* NULL: look each id up with plan */
	SPIPlanPtr	plan;
} TenantMap;

/* bytes a hash entry takes, with dynahash's overhead, rounded up */
#define TENANT_ENTRY_BYTES	64

static char *
parent_sql(Oid parent, const char *key, bool by_id)
{
	char	   *rel = quote_qualified_identifier(get_namespace_name(get_rel_namespace(parent)),
												 get_rel_name(parent));

	if (by_id)
		return psprintf("SELECT p.%s FROM %s p WHERE p.id OPERATOR(pg_catalog.=) $1",
						quote_identifier(key), rel);
	return psprintf("SELECT p.id, p.%s FROM %s p", quote_identifier(key), rel);
}

/*
 * The map of a parent, filled by one scan; given up for a plan that looks
 * each id up once it outgrows maintenance_work_mem.
 */
static TenantMap *
tenant_map(FmgrInfo *flinfo, Oid parent, const char *key)
{
	TenantMap  *m = MemoryContextAllocZero(flinfo->fn_mcxt, sizeof(TenantMap));
	double		budget = (double) maintenance_work_mem * 1024.0;
	HASHCTL		ctl;
	Portal		portal;
	long		entries = 0;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ctl.keysize = sizeof(pg_uuid_t);
	ctl.entrysize = sizeof(TenantEntry);
	ctl.hcxt = flinfo->fn_mcxt;
	m->map = hash_create("lane_google tenant keys", 1024, &ctl,
						 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	portal = SPI_cursor_open_with_args(NULL, parent_sql(parent, key, false),
									   0, NULL, NULL, NULL, true, 0);
	while (m->map)
	{
		uint64		i;

		SPI_cursor_fetch(portal, true, 10000);
		if (SPI_processed == 0)
			break;
		for (i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			bool		isnull[2];
			Datum		id = SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &isnull[0]);
			Datum		tenant = SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull[1]);
			TenantEntry *e;

			if (isnull[0] || isnull[1])
				continue;
			e = hash_search(m->map, DatumGetUUIDP(id), HASH_ENTER, NULL);
			e->tenant = *DatumGetUUIDP(tenant);
			entries++;
		}
		SPI_freetuptable(SPI_tuptable);
		if ((double) entries * TENANT_ENTRY_BYTES > budget)
		{
			hash_destroy(m->map);
			m->map = NULL;
		}
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	if (m->map == NULL)
	{
		Oid			argtype = UUIDOID;

		m->plan = SPI_prepare(parent_sql(parent, key, true), 1, &argtype);
		if (m->plan == NULL || SPI_keepplan(m->plan) != 0)
			elog(ERROR, "SPI_prepare failed");
	}
	SPI_finish();
	return m;
}

/*
 * _lg_tenant_of(parent regclass, key_column name, parent_id uuid) returns
 * uuid: the parent row's tenant key, NULL where no parent row has the id.
 */
Datum
lg_tenant_of(PG_FUNCTION_ARGS)
{
	TenantMap  *m = fcinfo->flinfo->fn_extra;
	pg_uuid_t  *id = PG_GETARG_UUID_P(2);
	pg_uuid_t  *result;

	if (m == NULL)
	{
		m = tenant_map(fcinfo->flinfo, PG_GETARG_OID(0),
					   NameStr(*PG_GETARG_NAME(1)));
		fcinfo->flinfo->fn_extra = m;
	}
	if (m->map)
	{
		TenantEntry *e = hash_search(m->map, id, HASH_FIND, NULL);

		if (e == NULL)
			PG_RETURN_NULL();
		result = palloc(sizeof(pg_uuid_t));
		*result = e->tenant;
		PG_RETURN_UUID_P(result);
	}
	else
	{
		Datum		arg = UUIDPGetDatum(id);
		bool		isnull = true;
		Datum		tenant = (Datum) 0;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute_plan(m->plan, &arg, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute_plan failed");
		if (SPI_processed == 1)
			tenant = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		result = isnull ? NULL : (pg_uuid_t *) SPI_palloc(sizeof(pg_uuid_t));
		if (result)
			*result = *DatumGetUUIDP(tenant);
		SPI_finish();
		if (result == NULL)
			PG_RETURN_NULL();
		PG_RETURN_UUID_P(result);
	}
}
