/*-------------------------------------------------------------------------
 *
 * trigger.c
 *	  The extension's row triggers: set_updated_at(), which keeps a table's
 *	  updated_at column at the time of the updating transaction, and
 *	  legacy_config_replace(), which keeps legacy_config to the one row
 *	  inserted last.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "access/xact.h"
#include "executor/spi.h"

#include "lane_google.h"

PG_FUNCTION_INFO_V1(lg_set_updated_at);
PG_FUNCTION_INFO_V1(lg_legacy_config_replace);

Datum
lg_set_updated_at(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	HeapTuple	tuple;
	int			attnum;
	Datum		value;
	bool		isnull = false;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("set_updated_at() was not called by the trigger manager")));
	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("set_updated_at() must be fired BEFORE UPDATE FOR EACH ROW")));

	tupdesc = RelationGetDescr(trigdata->tg_relation);
	attnum = SPI_fnumber(tupdesc, "updated_at");
	if (attnum <= 0 || TupleDescAttr(tupdesc, attnum - 1)->atttypid != TIMESTAMPTZOID)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("table \"%s\" has no timestamptz column \"updated_at\"",
						RelationGetRelationName(trigdata->tg_relation))));

	value = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	tuple = heap_modify_tuple_by_cols(trigdata->tg_newtuple, tupdesc,
									  1, &attnum, &value, &isnull);
	return PointerGetDatum(tuple);
}

/*
 * BEFORE INSERT: the row being inserted replaces every other.  A restore
 * runs CREATE EXTENSION, which draws a fresh namespace, and then loads the
 * dumped row: the original namespace is what remains.
 */
LG_GUARDED_FUNCTION(lg_legacy_config_replace)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	char	   *sql;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("legacy_config_replace() must be fired BEFORE INSERT FOR EACH ROW")));

	rel = trigdata->tg_relation;
	sql = psprintf("DELETE FROM %s",
				   quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
											  RelationGetRelationName(rel)));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(sql, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "SPI_execute failed: %s", sql);
	SPI_finish();

	return PointerGetDatum(trigdata->tg_trigtuple);
}
