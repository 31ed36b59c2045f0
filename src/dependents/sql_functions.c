/*-------------------------------------------------------------------------
 *
 * sql_functions.c
 *	  The SQL-callable functions of the update's plan and steps:
 *	  conversion_plan() and conversion_plan(source_schema),
 *	  _lg_dependents_detach(), _lg_dependents_convert(),
 *	  _lg_dependents_attach() (which run only inside ALTER EXTENSION
 *	  lane_google UPDATE), and _lg_dependents_legacy_id(), the legacy id of a
 *	  row set aside by the way back, looked up by its uuid.  Every entry point
 *	  runs under search_path pg_catalog, pg_temp (guard.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/uuid.h"

#include "lane_google.h"
#include "dependents_int.h"

PG_FUNCTION_INFO_V1(lg_conversion_plan);
PG_FUNCTION_INFO_V1(lg_dependents_detach);
PG_FUNCTION_INFO_V1(lg_dependents_convert);
PG_FUNCTION_INFO_V1(lg_dependents_attach);
PG_FUNCTION_INFO_V1(lg_dependents_legacy_id);
PG_FUNCTION_INFO_V1(lg_conversion_plan_source);

/*
 * The rows of conversion_plan(), one per item of the plan: object_type,
 * object, depends_on, action, and reason (NULL: carried)
 */
static void
plan_rows(FunctionCallInfo fcinfo, DepPlan *plan)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell   *lc;

	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		values[0] = CStringGetTextDatum(it->kind);
		values[1] = CStringGetTextDatum(it->identity ? it->identity : "");
		values[2] = CStringGetTextDatum(it->depends_on ? it->depends_on : "");
		values[3] = CStringGetTextDatum(it->action ? it->action : "");
		if (it->reason)
			values[4] = CStringGetTextDatum(it->reason);
		else
			nulls[4] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/*
 * conversion_plan(): one row per object outside the extension that depends
 * on the 11 tables, what the next key conversion (1.x -> 2.x or back) does
 * with it, or why it cannot.
 */
LG_GUARDED_FUNCTION(lg_conversion_plan)
{
	DepPlan    *plan;

	/* the update it plans converts below the executor (citus.c) */
	lg_citus_refuse_tables(lg_extension_schema(), "conversion_plan()");
	InitMaterializedSRF(fcinfo, 0);
	plan = dep_build_plan(CurrentMemoryContext, true, false);
	dep_online_actions(plan);
	plan_rows(fcinfo, plan);
	return (Datum) 0;
}

LG_GUARDED_FUNCTION(lg_dependents_detach)
{
	dep_check_in_update("_lg_dependents_detach");
	dep_detach(false);
	PG_RETURN_VOID();
}

LG_GUARDED_FUNCTION(lg_dependents_convert)
{
	dep_check_in_update("_lg_dependents_convert");
	dep_convert(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_VOID();
}

LG_GUARDED_FUNCTION(lg_dependents_attach)
{
	dep_check_in_update("_lg_dependents_attach");
	dep_attach();
	PG_RETURN_VOID();
}

/*
 * _lg_dependents_legacy_id(set_aside regclass, id uuid) -> bigint: the
 * legacy id of the row with that uuid in a 2.x table set aside by the
 * downgrade.  The first call builds a hash of the whole table (one scan);
 * every call after is a probe.  A uuid with no row is an error naming it.
 */
typedef struct IdEntry
{
	pg_uuid_t	id;
	int64		legacy_id;
} IdEntry;

typedef struct IdCache
{
	Oid			relid;
	HTAB	   *hash;
} IdCache;

Datum
lg_dependents_legacy_id(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	pg_uuid_t  *id = PG_GETARG_UUID_P(1);
	IdCache    *cache = (IdCache *) fcinfo->flinfo->fn_extra;
	IdEntry    *e;

	if (cache == NULL || cache->relid != relid)
	{
		MemoryContext fcxt = fcinfo->flinfo->fn_mcxt;
		HASHCTL		ctl;
		uint64		i;
		char	   *sql;
		int			guard;

		dep_check_in_update("_lg_dependents_legacy_id");
		/* the one statement, under the pinned search_path (guard.c) */
		guard = lg_guard_begin();
		cache = MemoryContextAllocZero(fcxt, sizeof(IdCache));
		cache->relid = relid;
		ctl.keysize = sizeof(pg_uuid_t);
		ctl.entrysize = sizeof(IdEntry);
		ctl.hcxt = fcxt;
		dep_spi_connect();
		sql = psprintf("SELECT id, legacy_id FROM %s WHERE legacy_id IS NOT NULL",
					   quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
												  get_rel_name(relid)));
		dep_spi_exec(sql, SPI_OK_SELECT);
		cache->hash = hash_create("lane_google legacy ids", Max(SPI_processed, 16), &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		for (i = 0; i < SPI_processed; i++)
		{
			bool		isnull;
			pg_uuid_t  *u = DatumGetUUIDP(dep_col_datum(i, 1, &isnull));
			bool		found;

			e = hash_search(cache->hash, u, HASH_ENTER, &found);
			e->legacy_id = DatumGetInt64(dep_col_datum(i, 2, &isnull));
		}
		SPI_finish();
		lg_guard_end(guard);
		fcinfo->flinfo->fn_extra = cache;
	}
	e = hash_search(cache->hash, id, HASH_FIND, NULL);
	if (e == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("value %s references no row of %s",
						DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(id))),
						get_rel_name(relid)),
				 errhint("Nothing was changed.  Fix or clear the value, then update again.")));
	else
		PG_RETURN_INT64(e->legacy_id);
}

/*
 * conversion_plan(source_schema name): what convert_legacy(source_schema,
 * dependents => 'carry') would do with every object depending on the
 * application's legacy tables in that schema.
 */
LG_GUARDED_FUNCTION(lg_conversion_plan_source)
{
	Oid			src_schema = get_namespace_oid(NameStr(*PG_GETARG_NAME(0)), false);
	DepPlan    *plan;

	/* convert_legacy(), whose carry it plans, refuses Citus tables (citus.c) */
	lg_citus_refuse_tables(src_schema, "conversion_plan()");
	InitMaterializedSRF(fcinfo, 0);
	plan = dep_build_source_plan(CurrentMemoryContext, src_schema, true, false);
	plan_rows(fcinfo, plan);
	return (Datum) 0;
}
