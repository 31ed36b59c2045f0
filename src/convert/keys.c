/*-------------------------------------------------------------------------
 *
 * keys.c
 *	  Each table's key sets (keyset.c's), filled as the table converts: its
 *	  integer ids, and its uuid ids where a child may reference it by uuid.
 *	  Its children check every foreign-key value against them (rows.c).
 *
 * Invariants: a table's sets are pinned (only its own conversion can fill
 * them) and live within lane_google.max_memory; a set that would not fit is
 * dropped, and the children probe the parent's primary key index instead.
 * The sets go once the table's last child is converted.  Duplicate legacy
 * ids are refused in their own words, before the primary key would.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/uuid.h"

#include "convert/convert_int.h"

/*
 * Every table's key sets, once the tables are resolved: those wanted start
 * filling; the others stay empty, and their children probe.
 */
void
lg_conv_keys_begin(ConvertState *st)
{
	int			i;
	int			f;

	lg_keybudget_init(&st->budget);
	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];
		AttrNumber	attnum;
		Oid			type;

		for (f = 0; f < ts->spec->nfks; f++)
			st->tables[lg_table_index(ts->spec->fks[f].parent)].children_left++;

		/* described by the target's columns: uuid id, and legacy_id */
		attnum = get_attnum(ts->dst_relid, "legacy_id");
		type = INT8OID;
		ts->ikeys = lg_keyset_create(&st->budget, ts->dst_relid, ts->spec->name,
									 1, &attnum, &type, NULL, InvalidOid, false);
		attnum = get_attnum(ts->dst_relid, "id");
		type = UUIDOID;
		ts->ukeys = lg_keyset_create(&st->budget, ts->dst_relid, ts->spec->name,
									 1, &attnum, &type, NULL, InvalidOid, false);
		/* never evicted: only the conversion of this table can fill them */
		ts->ikeys->pinned = ts->ukeys->pinned = true;
		ts->ikeys->over_elevel = ts->ukeys->over_elevel = NOTICE;
		if (ts->want_keys && OidIsValid(ts->src_relid))
		{
			(void) lg_keyset_begin(ts->ikeys, 0);
			if (ts->want_uuids)
				(void) lg_keyset_begin(ts->ukeys, 0);
		}
	}
}

/*
 * A table's keys are in: refuse duplicates (a legacy table without a
 * primary key can hold them), said in their own words before the index
 * would.
 */
void
lg_conv_keys_finish(TableState *ts, const char *src_name)
{
	lg_keyset_finish(ts->ikeys);
	lg_keyset_finish(ts->ukeys);
	if (ts->ikeys->has_dup)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("legacy table %s holds id " INT64_FORMAT " more than once",
						src_name, ts->ikeys->dup_int),
				 errdetail("Every legacy id must identify one row: it becomes one UUID."),
				 errhint("Remove the duplicate rows, or give the table a primary key.")));
	if (ts->ukeys->has_dup)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("legacy table %s holds id %s more than once",
						src_name,
						DatumGetCString(DirectFunctionCall1(uuid_out,
															UUIDPGetDatum(&ts->ukeys->dup_uuid)))),
				 errhint("Remove the duplicate rows, or give the table a primary key.")));
}

/* A table is converted: its parents' keys go once their last child is */
void
lg_conv_keys_release_parents(ConvertState *st, TableState *ts)
{
	int			f;

	if (ts->children_left == 0)
	{
		lg_keyset_free(ts->ikeys);
		lg_keyset_free(ts->ukeys);
	}
	for (f = 0; f < ts->spec->nfks; f++)
	{
		TableState *p = &st->tables[lg_table_index(ts->spec->fks[f].parent)];

		if (--p->children_left == 0)
		{
			lg_keyset_free(p->ikeys);
			lg_keyset_free(p->ukeys);
		}
	}
}
