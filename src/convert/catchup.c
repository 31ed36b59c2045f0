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

/*
 * Catch-up: the rows the target held before that no source row maps to now
 * (deleted at the source, or written to the target directly): those whose
 * uuid the table's key set lacks.  -1 when the set was not kept in memory.
 */
int64
lg_conv_count_missing(ConvertState *st, TableState *ts)
{
	return lg_keyset_count_absent(ts->ukeys, st->probe_snapshot);
}
