/*-------------------------------------------------------------------------
 *
 * trigger.c
 *	  set_updated_at(): the BEFORE UPDATE row trigger that keeps a table's
 *	  updated_at column at the time of the updating transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "access/xact.h"
#include "executor/spi.h"

#include "lane_google.h"

PG_FUNCTION_INFO_V1(lg_set_updated_at);

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
