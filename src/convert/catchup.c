/*-------------------------------------------------------------------------
 *
 * catchup.c
 *	  Catch-up: converting into a target that held rows before (an earlier
 *	  convert_legacy() run, rows written to it directly).  A row there
 *	  already, found by its primary key, is compared with its source row and
 *	  updated if the source changed it since; the rows no source row maps to
 *	  any more are counted, never deleted.
 *
 * Invariants: only for a target that was not empty when its run began
 * (read.c decides, and opens the writer with index maintenance then);
 * columns the source lacks keep what the target holds; nothing is updated
 * once the run stopped writing (st->write).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "utils/datum.h"

#include "convert/convert_int.h"

/* Equal contents, whatever the header or compression of either */
static bool
datum_same(Datum a, Datum b, Form_pg_attribute att)
{
	if (att->attlen == -1)
	{
		struct varlena *x = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(a));
		struct varlena *y = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(b));

		return VARSIZE_ANY_EXHDR(x) == VARSIZE_ANY_EXHDR(y) &&
			memcmp(VARDATA_ANY(x), VARDATA_ANY(y), VARSIZE_ANY_EXHDR(x)) == 0;
	}
	return datumIsEqual(a, b, att->attbyval, att->attlen);
}

/*
 * Catch-up: is the row in the target already?  Unchanged: nothing to do;
 * changed: updated to the source's contents.  Columns the source lacks
 * (filled from defaults) keep what the target holds.  false: a new row.
 */
bool
lg_conv_catch_up_row(ConvertState *st, TableState *ts, ColMap *map, Writer *w,
					 Datum *values, bool *nulls, const pg_uuid_t *id)
{
	TupleDesc	dd = RelationGetDescr(w->rel);
	TupleTableSlot *old;
	LgKey		key;
	bool		changed = false;
	int			i;

	/* the target's row by its primary key, as keyset.c probes it */
	lg_keyset_probe_open(ts->ukeys, st->probe_snapshot);
	key.values[0] = UUIDPGetDatum(id);
	old = lg_keyset_probe_fetch(ts->ukeys, &key);
	if (old == NULL)
		return false;
	slot_getallattrs(old);
	for (i = 0; i < dd->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(dd, i);

		if (att->attisdropped || map[i].mode == COL_DEFAULT)
		{
			values[i] = old->tts_values[i];
			nulls[i] = old->tts_isnull[i];
			continue;
		}
		if (nulls[i] != old->tts_isnull[i] ||
			(!nulls[i] && !datum_same(values[i], old->tts_values[i], att)))
			changed = true;
	}
	if (!changed)
	{
		ts->rows_unchanged++;
		return true;
	}
	if (st->write)
		lg_conv_writer_update(w, &old->tts_tid, values, nulls,
							  st->probe_snapshot);
	ts->rows_updated++;
	return true;
}

/* convert_legacy_missing(): a target row with a legacy id no source row maps to */
typedef struct MissingScan
{
	ConvertState *st;
	TableState *ts;
	AttrNumber	id_att;
	AttrNumber	legacy_att;
} MissingScan;

static void
collect_missing(void *arg, TupleTableSlot *slot)
{
	MissingScan *ms = (MissingScan *) arg;
	MissingRow *m;
	Datum		id;
	Datum		legacy;
	bool		isnull;
	MemoryContext old;

	legacy = slot_getattr(slot, ms->legacy_att, &isnull);
	if (isnull)
		return;					/* written to the target directly */
	id = slot_getattr(slot, ms->id_att, &isnull);
	if (isnull)
		return;
	old = MemoryContextSwitchTo(ms->st->cxt);
	m = palloc(sizeof(MissingRow));
	m->table = ms->ts->spec->name;
	m->id = *DatumGetUUIDP(id);
	m->legacy_id = DatumGetInt64(legacy);
	ms->st->missing = lappend(ms->st->missing, m);
	MemoryContextSwitchTo(old);
}

/*
 * Catch-up: the rows the target held before that no source row maps to now
 * (deleted at the source, or written to the target directly): those whose
 * uuid the table's key set lacks.  -1 when the set was not kept in memory.
 * For convert_legacy_missing(), those with a legacy id are listed as well
 * (st->missing); that needs the set.
 */
int64
lg_conv_count_missing(ConvertState *st, TableState *ts)
{
	MissingScan ms;
	Oid			legacy_type;

	if (!st->list_missing)
		return lg_keyset_count_absent(ts->ukeys, st->probe_snapshot);

	if (ts->ukeys->state != LG_KEYS_BUILT)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the keys of table %s do not fit in lane_google.max_memory",
						lg_conv_qualified(st->dst_schema, ts->spec->name)),
				 errdetail("convert_legacy_missing() holds the uuid of every source row of a table in memory to find the target rows none maps to."),
				 errhint("Raise lane_google.max_memory for the session (SET lane_google.max_memory = '1GB') and call convert_legacy_missing() again.")));
	ms.st = st;
	ms.ts = ts;
	ms.id_att = get_attnum(ts->dst_relid, "id");
	ms.legacy_att = get_attnum(ts->dst_relid, "legacy_id");
	legacy_type = get_atttype(ts->dst_relid, ms.legacy_att);
	if (ms.id_att == InvalidAttrNumber ||
		get_atttype(ts->dst_relid, ms.id_att) != UUIDOID ||
		legacy_type != INT8OID)
		elog(ERROR, "table %s has no uuid id and bigint legacy_id",
			 lg_conv_qualified(st->dst_schema, ts->spec->name));
	return lg_keyset_scan_absent(ts->ukeys, st->probe_snapshot,
								 collect_missing, &ms);
}

/* convert_legacy_missing()'s rows: table_name, id, legacy_id */
void
lg_conv_put_missing(ConvertState *st, Tuplestorestate *tupstore,
					TupleDesc tupdesc)
{
	ListCell   *lc;

	foreach(lc, st->missing)
	{
		MissingRow *m = lfirst(lc);
		Datum		values[3];
		bool		nulls[3] = {0};
		NameData	table;

		namestrcpy(&table, m->table);
		values[0] = NameGetDatum(&table);
		values[1] = UUIDPGetDatum(&m->id);
		values[2] = Int64GetDatum(m->legacy_id);
		tuplestore_putvalues(tupstore, tupdesc, values, nulls);
	}
}
