/*-------------------------------------------------------------------------
 *
 * online_catchup.c
 *	  The catch-up of the online conversion: applying the change log to the
 *	  shadows (_online_apply(), the backfill's end, the swap), and checking
 *	  again the foreign keys of the keys applied.
 *
 * Invariants: an application takes one snapshot S, deletes the log entries
 * visible in S of the tables whose copy has ended (a table still being
 * copied keeps its entries) and, for their keys, replaces the shadow rows
 * by the legacy rows as S sees them: afterwards every shadow row equals its
 * legacy row as of S (see online.c).  The caller holds the advisory lock
 * and is connected to SPI.  From the backfill's orphan check on
 * (lane_google_online.recheck exists), the keys applied are remembered
 * until their foreign keys are checked again on the legacy tables.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "lane_google.h"
#include "online_int.h"

PG_FUNCTION_INFO_V1(lg_online_apply);

/*
 * The keys the log's applications replace once the backfill's orphan check
 * has passed (lane_google_online.recheck exists from then on): the swap
 * checks their foreign keys again under its locks
 * (lg_online_recheck_orphans()).
 */
static void
remember_recheck(int t, Datum keys)
{
	Oid			argtypes[1] = {INT8ARRAYOID};
	Datum		values[1];

	values[0] = keys;
	if (SPI_execute_with_args(psprintf("INSERT INTO " STAGING "." RECHECK " (tab, legacy_id)"
									   " SELECT %d, k FROM pg_catalog.unnest($1) AS k", t),
							  1, argtypes, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute_with_args failed: %s.%s", STAGING, RECHECK);
}

static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/*
 * The nkeys legacy ids logged for table t (nlogged entries), applied at
 * snap: sorted and made unique, remembered for the recheck when recheck,
 * their shadow rows deleted and the legacy rows snap sees copied in, and
 * the entries counted in the table's progress.
 */
static void
apply_table_keys(int t, int64 *keys, int64 nkeys, int64 nlogged,
				 Snapshot snap, bool recheck)
{
	Datum	   *elems;
	ArrayType  *arr;
	int64		n = 0;
	int64		j;
	StringInfoData sql;
	const char *tq = quote_identifier(lg_tables[t].name);
	Datum		values[1];
	SPIPlanPtr	plan;
	Oid			argtypes[1] = {INT8ARRAYOID};

	qsort(keys, nkeys, sizeof(int64), cmp_int64);
	elems = palloc(sizeof(Datum) * nkeys);
	for (j = 0; j < nkeys; j++)
		if (j == 0 || keys[j] != keys[j - 1])
			elems[n++] = Int64GetDatum(keys[j]);
	arr = construct_array(elems, (int) n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	values[0] = PointerGetDatum(arr);
	if (recheck)
		remember_recheck(t, values[0]);

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "DELETE FROM " STAGING ".%s WHERE id OPERATOR(pg_catalog.=) ANY"
					 " (ARRAY(SELECT %s.legacy_uuid(%s, k) FROM pg_catalog.unnest($1) AS k))",
					 tq, lg_online_ext_q(), quote_literal_cstr(lg_tables[t].name));
	plan = SPI_prepare(sql.data, 1, argtypes);
	if (plan == NULL ||
		SPI_execute_snapshot(plan, values, NULL, snap, InvalidSnapshot, false, true, 0) != SPI_OK_DELETE)
		elog(ERROR, "SPI failed: %s", sql.data);

	resetStringInfo(&sql);
	appendStringInfoString(&sql, lg_online_copy_sql(t, "l.id OPERATOR(pg_catalog.=) ANY ($1)"));
	plan = SPI_prepare(sql.data, 1, argtypes);
	if (plan == NULL ||
		SPI_execute_snapshot(plan, values, NULL, snap, InvalidSnapshot, false, true, 0) != SPI_OK_INSERT)
		elog(ERROR, "SPI failed: %s", sql.data);

	resetStringInfo(&sql);
	appendStringInfo(&sql,
					 "UPDATE " STAGING ".progress"
					 " SET changes_applied = changes_applied OPERATOR(pg_catalog.+) " INT64_FORMAT
					 " WHERE ord OPERATOR(pg_catalog.=) %d", nlogged, t);
	lg_online_spi_run(sql.data, SPI_OK_UPDATE);
}

/*
 * Apply the change log: the entries visible in one snapshot, of every table
 * whose copy has ended.
 * For each key logged, the shadow row is replaced by the legacy row as that
 * snapshot sees it, or deleted when there is none.  Returns the number of
 * log entries applied.  The caller holds the advisory lock and is connected
 * to SPI.
 */
int64
lg_online_apply_changes(void)
{
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	SPIPlanPtr	plan;
	int64	  **keys = palloc0(sizeof(int64 *) * LG_NTABLES);
	int64	   *nkeys = palloc0(sizeof(int64) * LG_NTABLES);
	int64	   *nlogged = palloc0(sizeof(int64) * LG_NTABLES);
	int64		total = 0;
	uint64		i;
	int			t;
	MemoryContext callcxt = CurrentMemoryContext;
	bool		recheck = OidIsValid(get_relname_relid(RECHECK, get_namespace_oid(STAGING, false)));

	/* a table still being copied keeps its entries: see online.c */
	plan = SPI_prepare("DELETE FROM " STAGING "." CHANGES
					   " WHERE tab OPERATOR(pg_catalog.=) ANY"
					   " (ARRAY(SELECT ord FROM " STAGING ".progress WHERE copied))"
					   " RETURNING tab, legacy_id", 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed");
	if (SPI_execute_snapshot(plan, NULL, NULL, snap, InvalidSnapshot, false, true, 0)
		!= SPI_OK_DELETE_RETURNING)
		elog(ERROR, "SPI_execute_snapshot failed: change log");
	if (SPI_processed == 0)
	{
		UnregisterSnapshot(snap);
		return 0;
	}
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int			tab = DatumGetInt16(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));

		if (tab < 0 || tab >= LG_NTABLES)
			elog(ERROR, "bad table number %d in %s.%s", tab, STAGING, CHANGES);
		nlogged[tab]++;
	}
	for (t = 0; t < LG_NTABLES; t++)
		keys[t] = MemoryContextAlloc(callcxt, sizeof(int64) * Max(nlogged[t], 1));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int			tab = DatumGetInt16(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));

		keys[tab][nkeys[tab]++] =
			DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
	}
	SPI_freetuptable(SPI_tuptable);

	for (t = 0; t < LG_NTABLES; t++)
	{
		if (nkeys[t] == 0)
			continue;
		apply_table_keys(t, keys[t], nkeys[t], nlogged[t], snap, recheck);
		total += nlogged[t];
	}
	UnregisterSnapshot(snap);
	return total;
}

/*
 * The swap's work before its table locks: apply the log, check the foreign
 * keys of what was applied and forget those keys (as online_backfill()
 * does on a complete backfill), pass after pass while the passes shrink,
 * until one takes at most SWAP_QUIET_MS.  Each pass handles what the
 * writers logged during the one before, so while it outpaces the writers
 * the remainder falls geometrically; when it does not (the writers log
 * faster than a pass applies), it stops at the first pass that did not
 * shrink.  Adds the passes to *passes; returns the entries applied.
 */
#define SWAP_QUIET_MS	50
#define SWAP_MAX_PASSES 20

int64
lg_online_apply_until_small(int *passes)
{
	int64		total = 0;
	int64		prev = -1;
	int			i;

	for (i = 0; i < SWAP_MAX_PASSES; i++)
	{
		TimestampTz start = GetCurrentTimestamp();
		int64		n = lg_online_apply_changes();

		/* only the backfill and the swap use it, under the advisory lock */
		lg_online_recheck_orphans(true);
		lg_online_spi_run("TRUNCATE " STAGING "." RECHECK, SPI_OK_UTILITY);
		total += n;
		(*passes)++;
		if (n == 0 || (prev >= 0 && n >= prev) ||
			GetCurrentTimestamp() - start <= SWAP_QUIET_MS * INT64CONST(1000))
			break;
		prev = n;
		CHECK_FOR_INTERRUPTS();
	}
	return total;
}

/* _online_apply(): apply the change log once; returns the entries applied */
LG_GUARDED_FUNCTION(lg_online_apply)
{
	int64		n;

	lg_online_backfill_step_begin();
	n = lg_online_apply_changes();
	SPI_finish();
	PG_RETURN_INT64(n);
}

/*
 * Under the swap's locks, after the last application of the log (the
 * shadows equal the legacy tables): the foreign keys of the rows applied
 * since the backfill's orphan check (or since online_backfill() last
 * checked them), in both directions (a child row written, a parent row
 * deleted: only the parents' keys that are gone are followed to their
 * children), checked on the legacy tables by their keys, not by a scan.  An
 * orphan fails the swap as the backfill's check fails the backfill: nothing
 * changes.  online_backfill() on a complete backfill runs the same check
 * without the locks (swap false): what it checked at a snapshot after those
 * keys were applied needs no second check, since any later change to them
 * is logged, applied and remembered again.
 */
void
lg_online_recheck_orphans(bool swap)
{
	const char *ext = lg_online_ext_q();
	StringInfoData detail;
	int64		total = 0;
	bool		touched[LG_NTABLES] = {false};
	uint64		i;
	int			t;
	int			k;

	if (!OidIsValid(get_relname_relid(RECHECK, get_namespace_oid(STAGING, false))))
		elog(ERROR, "table %s.%s is missing", STAGING, RECHECK);
	/* the tables with keys to check: a foreign key is checked if either end has some */
	if (SPI_execute("SELECT DISTINCT tab FROM " STAGING "." RECHECK, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s.%s", STAGING, RECHECK);
	if (SPI_processed == 0)
		return;
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int			tab = DatumGetInt16(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));

		if (tab >= 0 && tab < LG_NTABLES)
			touched[tab] = true;
	}
	initStringInfo(&detail);
	for (t = 0; t < LG_NTABLES; t++)
	{
		for (k = 0; k < lg_tables[t].nfks; k++)
		{
			const LgForeignKey *fk = &lg_tables[t].fks[k];
			const char *tq = quote_identifier(lg_tables[t].name);
			const char *cq = quote_identifier(fk->column);
			int			p = lg_table_index(fk->parent);
			char	   *sql;
			int64		n;
			bool		isnull;

			Assert(p >= 0);
			if (!touched[t] && !touched[p])
				continue;
			sql = psprintf("SELECT pg_catalog.count(*),"
						   "       pg_catalog.string_agg(pg_catalog.concat(o.id, ' -> ', o.ref), ', ' ORDER BY o.id)"
						   "         FILTER (WHERE o.rn OPERATOR(pg_catalog.<=) 10)"
						   "  FROM (SELECT c.id, c.ref,"
						   "               pg_catalog.row_number() OVER (ORDER BY c.id) AS rn"
						   "          FROM (SELECT l.id, l.%s AS ref FROM %s.%s l"
						   "                 WHERE l.id OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT DISTINCT r.legacy_id FROM " STAGING "." RECHECK " r WHERE r.tab OPERATOR(pg_catalog.=) %d))"
						   "                 UNION"
						   "                SELECT l.id, l.%s FROM %s.%s l"
						   "                 WHERE l.%s OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT DISTINCT r.legacy_id FROM " STAGING "." RECHECK " r"
						   "                        WHERE r.tab OPERATOR(pg_catalog.=) %d AND NOT EXISTS (SELECT FROM %s.%s p WHERE p.id OPERATOR(pg_catalog.=) r.legacy_id)))) c"
						   "         WHERE c.ref IS NOT NULL"
						   "           AND NOT EXISTS (SELECT FROM %s.%s p WHERE p.id OPERATOR(pg_catalog.=) c.ref)) o",
						   cq, ext, tq, t,
						   cq, ext, tq, cq, p, ext, quote_identifier(fk->parent),
						   ext, quote_identifier(fk->parent));
			if (SPI_execute(sql, false, 0) != SPI_OK_SELECT || SPI_processed != 1)
				elog(ERROR, "SPI_execute failed: %s", sql);
			n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
			if (n == 0)
				continue;
			appendStringInfo(&detail, "%s%s.%s (-> %s): " INT64_FORMAT " row%s, id -> %s: %s",
							 detail.len ? "\n" : "", lg_tables[t].name, fk->column, fk->parent,
							 n, n == 1 ? "" : "s", fk->column,
							 SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2));
			total += n;
		}
	}
	if (total > 0)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("lane_google 1.1 data written since the online backfill's check has rows whose parent row is missing"),
				 errdetail("%s", detail.data),
				 swap ? errhint("Nothing was changed and the online conversion is intact.  Delete or fix the orphan rows, then retry ALTER EXTENSION lane_google UPDATE.")
				 : errhint("Delete or fix the orphan rows, then CALL lane_google.online_backfill() again.")));
}
