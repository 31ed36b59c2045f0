/*-------------------------------------------------------------------------
 *
 * online_backfill.c
 *	  The backfill of the online conversion: the copy batches
 *	  (_online_copy_batch()) and its end (_online_finish()), the steps that
 *	  CALL lane_google.online_backfill() commits one by one.
 *
 * Invariants: each step runs at READ COMMITTED, under the advisory lock,
 * after the legacy tables' layout and capture were checked.  A copy batch
 * inserts the legacy rows of the key range (last_id, hi] as one snapshot,
 * taken after the advisory lock, sees them, and commits with its progress
 * row: the ranges are disjoint and no row is copied twice; the batch that
 * ends a table's copy builds its primary key.  The backfill is complete
 * once every table is copied, the log applied, the legacy data found free
 * of orphans and the shadows' other indexes built; from the orphan check
 * on, the keys the log's applications replace are remembered for the
 * swap's recheck.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "access/xact.h"

#include "lane_google.h"
#include "online_int.h"

PG_FUNCTION_INFO_V1(lg_online_copy_batch);
PG_FUNCTION_INFO_V1(lg_online_finish);

/*
 * The start of each step of online_backfill(): an online conversion in
 * progress, outside a transaction block (the procedure commits each step:
 * inside BEGIN its first COMMIT would fail with PostgreSQL's bare "invalid
 * transaction termination"), READ COMMITTED, the advisory lock (waited
 * for), the legacy tables' layout and capture checked; connected to SPI.
 */
void
lg_online_backfill_step_begin(void)
{
	lg_online_require_staging();
	if (IsTransactionBlock())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("online_backfill() cannot run inside a transaction block"),
				 errdetail("It commits each batch it copies, so that a stop loses at most one batch."),
				 errhint("Run CALL lane_google.online_backfill() on its own, in autocommit mode (no BEGIN; in psql, AUTOCOMMIT on).")));
	lg_online_require_read_committed("online_backfill()");
	lg_online_advisory_lock_wait();
	lg_online_check_layouts();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

/* --- copy batches --------------------------------------------------------- */

/*
 * The first table whose copy has not ended (false when there is none): its
 * number, the last legacy id copied and the last one to copy.
 */
static bool
next_table_to_copy(int *t, int64 *last_id, int64 *target_id)
{
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull;

	if (SPI_execute("SELECT ord, last_id, target_id FROM " STAGING ".progress"
					" WHERE NOT copied ORDER BY ord LIMIT 1", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed");
	if (SPI_processed == 0)
		return false;
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	*t = DatumGetInt16(SPI_getbinval(row, desc, 1, &isnull));
	*last_id = DatumGetInt64(SPI_getbinval(row, desc, 2, &isnull));
	*target_id = DatumGetInt64(SPI_getbinval(row, desc, 3, &isnull));
	if (*t < 0 || *t >= LG_NTABLES)
		elog(ERROR, "bad table number %d in %s.progress", *t, STAGING);
	return true;
}

/*
 * sql with its int8 arguments (nargs of values) run at snap, as
 * SPI_execute_snapshot() with read_only and count: an error unless it
 * returns ret.  SPI_tuptable and SPI_processed hold its result.
 */
static void
run_at_snapshot(const char *sql, int nargs, Datum *values, Snapshot snap,
				bool read_only, long count, int ret)
{
	Oid			argtypes[3] = {INT8OID, INT8OID, INT8OID};
	SPIPlanPtr	plan;

	Assert(nargs <= lengthof(argtypes));
	plan = SPI_prepare(sql, nargs, argtypes);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", sql);
	if (SPI_execute_snapshot(plan, values, NULL, snap, InvalidSnapshot,
							 read_only, !read_only, count) != ret)
		elog(ERROR, "SPI_execute_snapshot failed: %s", sql);
	SPI_freeplan(plan);
}

/*
 * The batch's last id as snap sees table t: the batch-th legacy id past
 * last_id (an index scan of the legacy primary key), or target_id with
 * *done set when fewer than batch are left up to it.
 */
static int64
batch_last_id(int t, int64 last_id, int64 target_id, int32 batch,
			  Snapshot snap, bool *done)
{
	char	   *sql;
	Datum		values[3];
	bool		isnull;

	sql = psprintf("SELECT l.id::pg_catalog.int8 FROM %s.%s l"
				   " WHERE l.id OPERATOR(pg_catalog.>) $1 AND l.id OPERATOR(pg_catalog.<=) $2"
				   " ORDER BY l.id OFFSET $3 LIMIT 1",
				   lg_online_ext_q(), quote_identifier(lg_tables[t].name));
	values[0] = Int64GetDatum(last_id);
	values[1] = Int64GetDatum(target_id);
	values[2] = Int64GetDatum((int64) batch - 1);
	run_at_snapshot(sql, 3, values, snap, true, 1, SPI_OK_SELECT);
	*done = (SPI_processed == 0);
	if (*done)
		return target_id;
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * The legacy rows of table t in (last_id, hi], as snap sees them, inserted
 * into the shadow by a plain INSERT ... SELECT; returns how many.
 */
static int64
copy_range(int t, int64 last_id, int64 hi, Snapshot snap)
{
	char	   *sql = lg_online_copy_sql(t, "l.id OPERATOR(pg_catalog.>) $1 AND l.id OPERATOR(pg_catalog.<=) $2");
	Datum		values[2];

	values[0] = Int64GetDatum(last_id);
	values[1] = Int64GetDatum(hi);
	run_at_snapshot(sql, 2, values, snap, false, 0, SPI_OK_INSERT);
	return (int64) SPI_processed;
}

/*
 * Table t's progress after a batch that copied ninserted rows up to hi; the
 * batch that ends the table's copy (done) builds its primary key.
 */
static void
record_batch(int t, int64 hi, int64 ninserted, bool done)
{
	StringInfoData sql;
	bool		isnull;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "UPDATE " STAGING ".progress SET last_id = " INT64_FORMAT ","
					 " rows_copied = rows_copied OPERATOR(pg_catalog.+) " INT64_FORMAT ","
					 " batches = batches OPERATOR(pg_catalog.+) 1,"
					 " copied = %s WHERE ord OPERATOR(pg_catalog.=) %d RETURNING rows_copied",
					 hi, ninserted, done ? "true" : "false", t);
	if (SPI_execute(sql.data, false, 0) != SPI_OK_UPDATE_RETURNING || SPI_processed != 1)
		elog(ERROR, "SPI_execute failed: %s", sql.data);
	if (done)
	{
		int64		copied = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
														 SPI_tuptable->tupdesc, 1, &isnull));

		lg_online_build_primary_key(t);
		ereport(NOTICE,
				(errmsg("lane_google: online backfill: %s copied, " INT64_FORMAT " rows",
						lg_tables[t].name, copied)));
	}
}

/*
 * _online_copy_batch(batch_rows): copies the next batch of the first table
 * not yet copied, and its progress, in the caller's transaction.  Returns
 * false when every table is copied.
 *
 * Two statements under one snapshot: the batch's last legacy id (an index
 * scan of the legacy primary key, batch_rows entries past the progress),
 * then a plain INSERT ... SELECT of the legacy rows in (last_id, that id]:
 * no application of the log writes a shadow before its copy has ended (see
 * the module comment of online.c), so nothing there can conflict, and the
 * shadow has no index to maintain row by row.  The batch that ends a
 * table's copy builds its primary key, in the same transaction.
 */
LG_GUARDED_FUNCTION(lg_online_copy_batch)
{
	int32		batch = PG_GETARG_INT32(0);
	int			t;
	int64		last_id,
				target_id,
				ninserted,
				hi;
	bool		done;
	Snapshot	snap;

	if (batch < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch_rows must be at least 1")));
	lg_online_backfill_step_begin();
	if (!next_table_to_copy(&t, &last_id, &target_id))
	{
		SPI_finish();
		PG_RETURN_BOOL(false);
	}

	/* a snapshot taken after the advisory lock: see online.c */
	snap = RegisterSnapshot(GetLatestSnapshot());
	/* the batch's last id, or none when fewer than batch_rows are left */
	hi = batch_last_id(t, last_id, target_id, batch, snap, &done);
	ninserted = copy_range(t, last_id, hi, snap);
	UnregisterSnapshot(snap);

	record_batch(t, hi, ninserted, done);
	SPI_finish();
	PG_RETURN_BOOL(true);
}

/* --- the end of the backfill ---------------------------------------------- */

/* Every table's copy has ended, or an error */
static void
require_all_copied(void)
{
	int64		notcopied;

	notcopied = lg_online_spi_int8("SELECT pg_catalog.count(*) FROM " STAGING ".progress WHERE NOT copied", 0);
	if (notcopied > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the online backfill has " INT64_FORMAT " tables left to copy", notcopied),
				 errhint("CALL lane_google.online_backfill().")));
}

/*
 * The offline update's rule, on the legacy tables: orphans are an error
 * (validate_fk_integrity()'s orphan_rows, as its pre-flight checks them).
 */
static void
require_no_orphans(void)
{
	bool		isnull;
	Datum		d;

	if (SPI_execute(psprintf("SELECT pg_catalog.string_agg(pg_catalog.format('%%s (%%s -> %%s): %%s rows, keys %%s',"
							 " v.constraint_name, v.table_name, v.referenced_table, v.rows,"
							 " pg_catalog.array_to_string(v.sample, ', ')), E'\\n')"
							 "  FROM %s.validate_fk_integrity(%s) AS v"
							 " WHERE v.problem OPERATOR(pg_catalog.=) 'orphan_rows'::pg_catalog.text",
							 lg_online_ext_q(), quote_literal_cstr(get_namespace_name(lg_extension_schema()))),
					false, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "SPI_execute failed: orphan check");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("lane_google 1.1 data has rows whose parent row is missing"),
				 errdetail("%s", TextDatumGetCString(d)),
				 errhint("Delete or fix the orphan rows, then CALL lane_google.online_backfill() again.")));
}

/*
 * _online_finish(): once every table is copied, applies the log, checks the
 * legacy data has no orphan (as the offline update's pre-flight does),
 * builds the shadows' unique constraints and indexes, and marks the backfill
 * complete.  When already complete, applies the log.
 */
LG_GUARDED_FUNCTION(lg_online_finish)
{
	char	   *phase;
	int			t;

	lg_online_backfill_step_begin();
	require_all_copied();
	phase = lg_online_phase();

	(void) lg_online_apply_changes();
	if (strcmp(phase, "complete") == 0)
	{
		/*
		 * The keys applied since the orphan check, checked now and
		 * forgotten: a later change to them is logged, applied and
		 * remembered again, so the swap checks under its locks only what
		 * it applies itself and what came after this.
		 */
		lg_online_recheck_orphans(false);
		lg_online_spi_run("DELETE FROM " STAGING "." RECHECK, SPI_OK_DELETE);
		SPI_finish();
		PG_RETURN_VOID();
	}

	/*
	 * The offline update's rule: orphans are an error.  From this check on,
	 * the keys the log's applications replace are remembered, and the swap
	 * checks their foreign keys again (a session with session_replication_role
	 * = replica writes without its foreign keys).
	 */
	lg_online_spi_run("CREATE TABLE " STAGING "." RECHECK " (tab pg_catalog.int2 NOT NULL, legacy_id pg_catalog.int8 NOT NULL)",
					  SPI_OK_UTILITY);
	require_no_orphans();

	for (t = 0; t < LG_NTABLES; t++)
		lg_online_build_indexes(t);

	/*
	 * Statistics: the log's applications probe the shadows by key, and
	 * after the swap they are the application's tables.
	 */
	for (t = 0; t < LG_NTABLES; t++)
		lg_online_spi_run(psprintf("ANALYZE " STAGING ".%s", quote_identifier(lg_tables[t].name)),
						  SPI_OK_UTILITY);
	lg_online_spi_run("UPDATE " STAGING ".state SET phase = 'complete', completed_at = pg_catalog.clock_timestamp()",
					  SPI_OK_UPDATE);
	SPI_finish();
	ereport(NOTICE,
			(errmsg("lane_google: online backfill complete"),
			 errhint("ALTER EXTENSION lane_google UPDATE TO '%s' swaps the tables in; CALL lane_google.online_backfill() just before it keeps the swap short.",
					 lg_online_swap_version())));
	PG_RETURN_VOID();
}
