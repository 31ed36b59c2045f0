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
 * 3.0's tenant keys: a table whose children take their tenant key from it
 * (keep_tenants) keeps the id -> tenant key of each row it converts, within
 * the same budget; past it, its children fetch the row by id.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/uuid.h"

#include "convert/convert_int.h"

static void tenants_free(ConvertState *st, TableState *ts);

/*
 * The index a table's uuid keys are probed by: its primary key where that
 * is (id) alone (2.x), else a btree index on (id) alone (3.0's plain index:
 * its primary key is (account_id, id), and id is unique by construction).
 */
static Oid
id_index(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	AttrNumber	id = get_attnum(relid, "id");
	Oid			found = InvalidOid;
	Oid			pk = lg_RelationGetPrimaryKeyIndex(rel);
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;

	foreach(lc, indexes)
	{
		Oid			indexoid = lfirst_oid(lc);
		Relation	irel = index_open(indexoid, AccessShareLock);
		Form_pg_index ix = irel->rd_index;

		if (irel->rd_rel->relam == BTREE_AM_OID && ix->indnkeyatts == 1 &&
			ix->indkey.values[0] == id && ix->indisvalid &&
			heap_attisnull(irel->rd_indextuple, Anum_pg_index_indpred, NULL) &&
			(indexoid == pk || !OidIsValid(found)))
			found = indexoid;
		index_close(irel, AccessShareLock);
	}
	list_free(indexes);
	table_close(rel, AccessShareLock);
	return found == pk ? InvalidOid : found;
}

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
									 1, &attnum, &type, NULL,
									 id_index(ts->dst_relid), false);
		if (ts->keep_tenants)
			ts->tenant_attno = get_attnum(ts->dst_relid, ts->tenant_key);
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
		tenants_free(st, ts);
	}
	for (f = 0; f < ts->spec->nfks; f++)
	{
		TableState *p = &st->tables[lg_table_index(ts->spec->fks[f].parent)];

		if (--p->children_left == 0)
		{
			lg_keyset_free(p->ikeys);
			lg_keyset_free(p->ukeys);
			tenants_free(st, p);
		}
	}
}


/* ------------------------------------------------------------------------
 * 3.0's tenant keys
 * ------------------------------------------------------------------------
 */

typedef struct TenantEntry
{
	pg_uuid_t	id;				/* hash key */
	pg_uuid_t	tenant;
} TenantEntry;

/* what an entry costs, dynahash's overhead included, rounded up */
#define TENANT_ENTRY_BYTES	64
/* charged to the budget this many entries at a time */
#define TENANT_CHUNK		1024

/*
 * A row of ts converted with id: its tenant key kept for its children,
 * while the budget holds it; past it, the map is given up for good.
 */
void
lg_conv_tenant_add(ConvertState *st, TableState *ts, const pg_uuid_t *id,
				   Datum tenant)
{
	TenantEntry *e;
	bool		found;

	if (!ts->keep_tenants)
		return;
	if (ts->tenants == NULL)
	{
		HASHCTL		ctl;

		if (ts->tenants_bytes > 0)
			return;				/* given up */
		ctl.keysize = sizeof(pg_uuid_t);
		ctl.entrysize = sizeof(TenantEntry);
		ctl.hcxt = st->cxt;
		ts->tenants = hash_create("lane_google tenant keys", 1024, &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	if (hash_get_num_entries(ts->tenants) % TENANT_CHUNK == 0)
	{
		Size		chunk = TENANT_ENTRY_BYTES * TENANT_CHUNK;

		if (st->budget.used + chunk > st->budget.limit)
		{
			/* children fetch the row by id from now on */
			ereport(NOTICE,
					(errmsg("tenant keys of \"%s\" exceed lane_google.max_memory (%d kB): fetching each parent row by id instead",
							ts->spec->name, lg_max_memory_kb)));
			hash_destroy(ts->tenants);
			ts->tenants = NULL;
			st->budget.used -= ts->tenants_bytes;
			ts->tenants_bytes = 1;	/* given up: never made again */
			return;
		}
		st->budget.used += chunk;
		ts->tenants_bytes += chunk;
		st->budget.peak = Max(st->budget.peak, st->budget.used);
	}
	e = hash_search(ts->tenants, id, HASH_ENTER, &found);
	e->tenant = *DatumGetUUIDP(tenant);
}

/*
 * The tenant key of p's row id: from p's map, else from the row itself,
 * fetched by id (a row the target held before, or a map given up).
 * False where no row has the id.
 */
bool
lg_conv_tenant_of(ConvertState *st, TableState *p, const pg_uuid_t *id,
				  pg_uuid_t *tenant)
{
	TupleTableSlot *slot;
	LgKey		key;
	bool		isnull;
	Datum		d;

	if (p->tenants)
	{
		TenantEntry *e = hash_search(p->tenants, id, HASH_FIND, NULL);

		if (e)
		{
			*tenant = e->tenant;
			return true;
		}
	}
	lg_keyset_probe_open(p->ukeys, st->probe_snapshot);
	key.values[0] = UUIDPGetDatum(id);
	slot = lg_keyset_probe_fetch(p->ukeys, &key);
	if (slot == NULL)
		return false;
	d = slot_getattr(slot, p->tenant_attno, &isnull);
	if (!isnull)
		*tenant = *DatumGetUUIDP(d);
	ExecClearTuple(slot);
	return !isnull;
}

/* A table whose last child is converted: its map goes */
static void
tenants_free(ConvertState *st, TableState *ts)
{
	if (ts->tenants)
	{
		hash_destroy(ts->tenants);
		ts->tenants = NULL;
		st->budget.used -= ts->tenants_bytes;
		ts->tenants_bytes = 0;
	}
}
