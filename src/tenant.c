/*-------------------------------------------------------------------------
 *
 * tenant.c
 *	  The tenant-keyed layout of 3.0 (doc/citus.md): set_tenant_key(), the
 *	  BEFORE INSERT OR UPDATE OF <parent column> row trigger of the six child
 *	  tables that gained a tenant key (account_id, or user_id for
 *	  conversation_messages).  A write that leaves the tenant key NULL gets
 *	  the parent row's; a write that gives one is left alone, and the
 *	  composite foreign key (tenant key, parent column) -> parent (tenant
 *	  key, id) refuses a value that is not the parent's.  So a row can be
 *	  written without knowing its tenant, never attached to another tenant's
 *	  parent.
 *
 *	  The trigger's arguments: the tenant key column, the parent column and
 *	  the parent table (one of the 11, in the extension's schema), e.g.
 *	  set_tenant_key('account_id', 'campaign_id', 'campaigns').  The parent
 *	  row is read with the caller's rights (as any query of the caller
 *	  would: the caller's privileges and row security apply), by id through
 *	  the plain index on (id) of 3.0, with a plan kept per trigger.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/uuid.h"

#include "lane_google.h"

PG_FUNCTION_INFO_V1(lg_set_tenant_key);

/* The parent look-up of one trigger, prepared once per session */
typedef struct TenantPlan
{
	Oid			tgoid;			/* hash key */
	SPIPlanPtr	plan;
} TenantPlan;

static HTAB *tenant_plans = NULL;

/* The attribute number of a uuid column of the trigger's table */
static int
uuid_column(Relation rel, const char *column, const char *tgname)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	int			attnum = SPI_fnumber(tupdesc, column);

	if (attnum <= 0 || TupleDescAttr(tupdesc, attnum - 1)->atttypid != UUIDOID)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("table \"%s\" has no uuid column \"%s\"",
						RelationGetRelationName(rel), column),
				 errdetail("Trigger \"%s\" names it as an argument of set_tenant_key().",
						   tgname)));
	return attnum;
}

/*
 * "SELECT p.<key> FROM <extension schema>.<parent> AS p WHERE p.id = $1",
 * every name quoted and the operator pg_catalog's, kept for the session
 */
static SPIPlanPtr
parent_plan(Trigger *tg, const char *key, const char *parent)
{
	TenantPlan *entry;
	bool		found;

	if (tenant_plans == NULL)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(TenantPlan);
		tenant_plans = hash_create("lane_google tenant key plans", 16, &ctl,
								   HASH_ELEM | HASH_BLOBS);
	}
	entry = hash_search(tenant_plans, &tg->tgoid, HASH_ENTER, &found);
	if (!found)
		entry->plan = NULL;
	if (entry->plan == NULL)
	{
		char	   *sql;
		Oid			argtypes[1] = {UUIDOID};
		SPIPlanPtr	plan;

		sql = psprintf("SELECT p.%s FROM %s AS p WHERE p.id OPERATOR(pg_catalog.=) $1",
					   quote_identifier(key),
					   quote_qualified_identifier(get_namespace_name(lg_extension_schema()),
												  parent));
		plan = SPI_prepare(sql, 1, argtypes);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql,
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		entry->plan = plan;
	}
	return entry->plan;
}

static Datum lg_set_tenant_key_body(PG_FUNCTION_ARGS);

/* lg_set_tenant_key() runs under search_path pg_catalog, pg_temp (guard.c) */
Datum
lg_set_tenant_key(PG_FUNCTION_ARGS)
{
	return lg_guard_call(lg_set_tenant_key_body, fcinfo);
}

static Datum
lg_set_tenant_key_body(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Trigger    *tg;
	Relation	rel;
	HeapTuple	tuple;
	const char *key;
	const char *fkcol;
	const char *parent;
	int			key_att;
	int			fk_att;
	bool		isnull;
	Datum		fk_value;
	Datum		values[1];
	pg_uuid_t  *tenant = NULL;
	bool		tenant_found = false;
	SPIPlanPtr	plan;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("set_tenant_key() was not called by the trigger manager")));
	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!(TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ||
		  TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("set_tenant_key() must be fired BEFORE INSERT or UPDATE FOR EACH ROW")));

	tg = trigdata->tg_trigger;
	rel = trigdata->tg_relation;
	if (tg->tgnargs != 3)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("set_tenant_key() takes three arguments: the tenant key column, the parent column and the parent table"),
				 errdetail("Trigger \"%s\" on table \"%s\" gives %d.",
						   tg->tgname, RelationGetRelationName(rel), tg->tgnargs)));
	key = tg->tgargs[0];
	fkcol = tg->tgargs[1];
	parent = tg->tgargs[2];
	if (lg_find_table(parent) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is not one of the lane_google tables", parent),
				 errdetail("Trigger \"%s\" on table \"%s\" names it as the parent table.",
						   tg->tgname, RelationGetRelationName(rel))));

	tuple = TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ?
		trigdata->tg_trigtuple : trigdata->tg_newtuple;
	key_att = uuid_column(rel, key, tg->tgname);
	fk_att = uuid_column(rel, fkcol, tg->tgname);

	/* a tenant key given is the foreign key's to check, not ours */
	(void) heap_getattr(tuple, key_att, RelationGetDescr(rel), &isnull);
	if (!isnull)
		return PointerGetDatum(tuple);
	/* no parent: the parent column's NOT NULL says so */
	fk_value = heap_getattr(tuple, fk_att, RelationGetDescr(rel), &isnull);
	if (isnull)
		return PointerGetDatum(tuple);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = parent_plan(tg, key, parent);
	values[0] = fk_value;
	if (SPI_execute_plan(plan, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed on the parent of table \"%s\"",
			 RelationGetRelationName(rel));
	if (SPI_processed == 1)
	{
		bool		tenant_null;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
									  &tenant_null);

		tenant_found = true;
		if (!tenant_null)
		{
			/* out of SPI's memory, into the trigger's */
			tenant = SPI_palloc(sizeof(pg_uuid_t));
			memcpy(tenant, DatumGetUUIDP(d), sizeof(pg_uuid_t));
		}
	}
	SPI_finish();

	if (!tenant_found)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("insert or update on table \"%s\" names a %s that does not exist",
						RelationGetRelationName(rel), fkcol),
				 errdetail("No row of table \"%s\" has id %s, so %s cannot be filled from it.",
						   parent,
						   DatumGetCString(DirectFunctionCall1(uuid_out, fk_value)),
						   key)));
	/* the parent's tenant key is NOT NULL: this is for a parent without */
	if (tenant == NULL)
		return PointerGetDatum(tuple);

	values[0] = UUIDPGetDatum(tenant);
	isnull = false;
	tuple = heap_modify_tuple_by_cols(tuple, RelationGetDescr(rel),
									  1, &key_att, values, &isnull);
	return PointerGetDatum(tuple);
}
