/*-------------------------------------------------------------------------
 *
 * read.c
 *	  One table's run: its source and target opened, its column map built,
 *	  the source read -- a plain table by one sequential scan of its heap,
 *	  anything else (a partitioned table, one with inheritance children, a
 *	  view, a materialized view, a foreign table) by a query through the
 *	  executor -- and every row handed to rows.c; then the key sets
 *	  finished, the writer closed, the indexes rebuilt, the table's NOTICE.
 *
 * Progress: while a table converts, its progress shows in
 * pg_stat_progress_copy (relid = the legacy table being read, which other
 * sessions can name even while the update's new tables are uncommitted;
 * tuples_processed; tuples_excluded = quarantined; bytes_processed of
 * bytes_total read).
 *
 * Invariants: a source is read with the latest snapshot, taken once every
 * table is locked; a query's source is planned, opened and fetched from
 * with the source's rights (prepare.c chose them), its rows converted and
 * written with the caller's.  An empty target is loaded without index
 * maintenance and its indexes are rebuilt once it is full; one that held
 * rows is caught up (catchup.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "executor/executor.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "convert/convert_int.h"

/* The error context of a run: the table, the row, the column */

static void
row_error_callback(void *arg)
{
	RowContext *rc = (RowContext *) arg;

	if (rc->row == 0)
		errcontext("writing the converted rows of legacy table %s", rc->table);
	else if (!ItemPointerIsValid(&rc->tid))
	{
		if (rc->column)
			errcontext("converting column %s of legacy table %s, row " INT64_FORMAT,
					   rc->column, rc->table, rc->row);
		else
			errcontext("converting legacy table %s, row " INT64_FORMAT,
					   rc->table, rc->row);
	}
	else if (rc->column)
		errcontext("converting column %s of legacy table %s, row at ctid (%u,%u)",
				   rc->column, rc->table,
				   ItemPointerGetBlockNumber(&rc->tid),
				   ItemPointerGetOffsetNumber(&rc->tid));
	else
		errcontext("converting legacy table %s, row at ctid (%u,%u)",
				   rc->table,
				   ItemPointerGetBlockNumber(&rc->tid),
				   ItemPointerGetOffsetNumber(&rc->tid));
}

/* Does the table hold no row visible to the snapshot? */
static bool
table_is_empty(Relation rel, Snapshot snapshot)
{
	TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	bool		empty = !table_scan_getnextslot(scan, ForwardScanDirection, slot);

	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	return empty;
}

/* Rebuild every index of a table loaded without index maintenance */
static void
rebuild_indexes(Oid relid)
{
	ReindexParams params = {0};

	lg_reindex_relation(relid, REINDEX_REL_CHECK_CONSTRAINTS, &params);
	CommandCounterIncrement();
}

/* ------------------------------------------------------------------------
 * A table's run: begin, read, end
 * ------------------------------------------------------------------------
 */

/*
 * Open a table's source and target, its column map, the writer; progress
 * shows in pg_stat_progress_copy from now on.
 */
static void
table_run_begin(ConvertState *st, TableState *ts, TableRun *run)
{
	StringInfoData problems;
	TupleDesc	dd;
	ConvBatch  *b;
	int			nrows;
	int			i;

	memset(run, 0, sizeof(TableRun));
	INSTR_TIME_SET_CURRENT(run->start);

	run->src = table_open(ts->src_relid, NoLock);
	run->dst = table_open(ts->dst_relid, NoLock);
	dd = RelationGetDescr(run->dst);
	run->src_qname = lg_conv_qualified(ts->src_schema, lg_conv_source_name(st, ts->spec));

	initStringInfo(&problems);
	run->map = lg_conv_build_colmap(st, ts, run->src, run->dst, &problems, true);
	if (problems.len > 0)		/* checked before: cannot happen */
		elog(ERROR, "layout of %s changed during conversion", run->src_qname);
	for (i = 0; i < dd->natts; i++)
		if (run->map[i].mode == COL_CAST)
			run->casts = true;

	run->values = palloc(sizeof(Datum) * dd->natts);
	run->nulls = palloc(sizeof(bool) * dd->natts);

	/* children probe parents with a snapshot that sees the parents' rows */
	CommandCounterIncrement();
	st->probe_snapshot = RegisterSnapshot(GetLatestSnapshot());

	/*
	 * An empty target (always so in the update) is loaded without index
	 * maintenance, and its indexes are rebuilt once it is full.  A target
	 * that holds rows is caught up: a row there already is compared with its
	 * source row, and updated if the source changed it since.
	 */
	run->bulk = st->upgrade || table_is_empty(run->dst, st->probe_snapshot);
	ts->catch_up = !run->bulk;
	/* its uuids, to find the target's rows no source row maps to */
	if (ts->catch_up && ts->want_keys && ts->ukeys->state == LG_KEYS_EMPTY)
		(void) lg_keyset_begin(ts->ukeys, 0);
	lg_conv_writer_open(&run->w, run->dst, !run->bulk);
	run->row_cxt = AllocSetContextCreate(CurrentMemoryContext,
										 "lane_google conversion row",
										 ALLOCSET_DEFAULT_SIZES);
	run->batch_cxt = AllocSetContextCreate(CurrentMemoryContext,
										   "lane_google conversion values",
										   ALLOCSET_DEFAULT_SIZES);
	run->econtext = CreateStandaloneExprContext();

	/* rows batched for their casts, one at a time straight from the read else */
	nrows = run->casts ? CONV_BATCH : 1;
	b = run->batch = palloc0(sizeof(ConvBatch));
	b->natts = dd->natts;
	b->values = palloc(sizeof(Datum) * dd->natts * nrows);
	b->nulls = palloc(sizeof(bool) * dd->natts * nrows);
	b->problem = palloc(sizeof(char *) * dd->natts * nrows);
	b->sqlstate = palloc(sizeof(int) * dd->natts * nrows);
	if (run->casts)
		for (i = 0; i < CONV_BATCH; i++)
			b->copies[i] = MakeSingleTupleTableSlot(RelationGetDescr(run->src),
													&TTSOpsMinimalTuple);

	pgstat_progress_start_command(PROGRESS_COMMAND_COPY, ts->src_relid);
	{
		const int	idx[3] = {PROGRESS_COPY_COMMAND, PROGRESS_COPY_TYPE,
		PROGRESS_COPY_BYTES_TOTAL};
		int64		val[3] = {PROGRESS_COPY_COMMAND_FROM, PROGRESS_COPY_TYPE_CALLBACK,
			0};

		/* the size is known for a heap scan; a query's, like a pipe's, is not */
		if (!ts->src_by_query)
			val[2] = (int64) RelationGetNumberOfBlocks(run->src) * BLCKSZ;
		pgstat_progress_update_multi_param(3, idx, val);
	}

	run->rowctx.table = run->src_qname;
	run->errcb.callback = row_error_callback;
	run->errcb.arg = &run->rowctx;
	run->errcb.previous = error_context_stack;
	error_context_stack = &run->errcb;

	/*
	 * The latest snapshot, not the transaction's: every table is locked
	 * against writers by now, and in REPEATABLE READ the transaction's
	 * snapshot may predate the locks, missing rows committed in between
	 * (which the update would then drop with the old table).
	 */
	run->snapshot = RegisterSnapshot(GetLatestSnapshot());
}

/*
 * A plain table with no inheritance children: one sequential scan of its
 * heap, the fastest read there is (the update's sources are all of this
 * kind).
 */
static void
read_source_heap(ConvertState *st, TableState *ts, TableRun *run)
{
	TupleTableSlot *srcslot = table_slot_create(run->src, NULL);
	TableScanDesc scan = table_beginscan(run->src, run->snapshot, 0, NULL);

	while (table_scan_getnextslot(scan, ForwardScanDirection, srcslot))
	{
		slot_getallattrs(srcslot);
		lg_conv_convert_row(st, ts, run, srcslot);
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(srcslot);
}

/*
 * Any other source: what SELECT of it returns, through the executor, read
 * in batches from a cursor.  So a partitioned table gives the rows of every
 * partition, a table with inheritance children theirs too, and a view, a
 * materialized view or a foreign table reads as its owner or its server
 * answers.  The query names the source's columns in attribute order (a
 * dropped column has none), and each row goes into a slot of the source's
 * own descriptor, as a heap scan would give it.
 */
static void
read_source_query(ConvertState *st, TableState *ts, TableRun *run)
{
	TupleDesc	sd = RelationGetDescr(run->src);
	TupleTableSlot *srcslot = MakeSingleTupleTableSlot(sd, &TTSOpsVirtual);
	AttrNumber *attnos = palloc(sizeof(AttrNumber) * Max(sd->natts, 1));
	int			ncols = 0;
	Datum	   *qvalues = palloc(sizeof(Datum) * Max(sd->natts, 1));
	bool	   *qnulls = palloc(sizeof(bool) * Max(sd->natts, 1));
	StringInfoData sql;
	Portal		portal;
	LgAsOwner	save;
	int			i;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (i = 0; i < sd->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(sd, i);

		if (a->attisdropped)
			continue;
		appendStringInfo(&sql, "%s%s", ncols ? ", " : "",
						 quote_identifier(NameStr(a->attname)));
		attnos[ncols++] = a->attnum;
	}
	appendStringInfo(&sql, " FROM %s", run->src_qname);

	/*
	 * read-only: the cursor runs with the active snapshot, the run's.  It is
	 * planned, opened and fetched from with the source's rights (its
	 * owner's, choose_source_rights()): planning may run a view's immutable
	 * functions already.  The rows are converted and written with the
	 * caller's.
	 */
	lg_conv_source_rights_begin(ts, &save);
	PushActiveSnapshot(run->snapshot);
	portal = SPI_cursor_open_with_args(NULL, sql.data, 0, NULL, NULL, NULL,
									   true, 0);
	PopActiveSnapshot();
	lg_conv_source_rights_end(ts, &save);
	if (portal == NULL)
		elog(ERROR, "could not open a cursor on %s: %s", run->src_qname,
			 SPI_result_code_string(SPI_result));

	for (;;)
	{
		SPITupleTable *tt;
		uint64		n;
		uint64		r;

		lg_conv_source_rights_begin(ts, &save);
		SPI_cursor_fetch(portal, true, BATCH_TUPLES);
		lg_conv_source_rights_end(ts, &save);
		/* the rows' own SPI calls (the quarantine) replace SPI_tuptable */
		tt = SPI_tuptable;
		n = SPI_processed;
		if (n == 0)
			break;
		for (r = 0; r < n; r++)
		{
			ExecClearTuple(srcslot);
			memset(srcslot->tts_isnull, true, sizeof(bool) * sd->natts);
			heap_deform_tuple(tt->vals[r], tt->tupdesc, qvalues, qnulls);
			for (i = 0; i < ncols; i++)
			{
				srcslot->tts_values[attnos[i] - 1] = qvalues[i];
				srcslot->tts_isnull[attnos[i] - 1] = qnulls[i];
			}
			ExecStoreVirtualTuple(srcslot);
			lg_conv_convert_row(st, ts, run, srcslot);
		}
		SPI_freetuptable(tt);
	}
	/* ending the scan runs the source's code too (a foreign data wrapper's) */
	lg_conv_source_rights_begin(ts, &save);
	SPI_cursor_close(portal);
	lg_conv_source_rights_end(ts, &save);
	ExecDropSingleTupleTableSlot(srcslot);
	pfree(attnos);
	pfree(qvalues);
	pfree(qnulls);
}

/*
 * Every row read: the key set complete, the rows flushed, the indexes
 * rebuilt, the target's AFTER triggers fired; then the table's NOTICE.
 */
static void
table_run_end(ConvertState *st, TableState *ts, TableRun *run)
{
	int			i;

	if (run->batch->n > 0)
		lg_conv_convert_batch(st, ts, run);
	UnregisterSnapshot(run->snapshot);
	if (run->casts)
		for (i = 0; i < CONV_BATCH; i++)
			ExecDropSingleTupleTableSlot(run->batch->copies[i]);
	FreeExprContext(run->econtext, true);

	/* duplicate legacy ids: said in their own words before the index would */
	lg_conv_keys_finish(ts, run->src_qname);
	if (ts->catch_up)
		ts->rows_missing = lg_conv_count_missing(st, ts);

	run->rowctx.column = "id";
	run->rowctx.row = 0;
	lg_conv_writer_close(&run->w);
	error_context_stack = run->errcb.previous;
	pgstat_progress_end_command();
	for (i = 0; i < LG_NTABLES; i++)
		lg_keyset_probe_close(st->tables[i].ukeys);
	UnregisterSnapshot(st->probe_snapshot);
	st->probe_snapshot = NULL;
	MemoryContextDelete(run->row_cxt);
	MemoryContextDelete(run->batch_cxt);

	table_close(run->src, NoLock);

	if (run->bulk && !st->upgrade && st->write)
		rebuild_indexes(ts->dst_relid);
	/* the writer's ResultRelInfo needs the target open until its triggers ran */
	lg_conv_writer_finish(&run->w);
	table_close(run->dst, NoLock);

	{
		instr_time	elapsed;

		INSTR_TIME_SET_CURRENT(elapsed);
		INSTR_TIME_SUBTRACT(elapsed, run->start);
		ts->seconds = INSTR_TIME_GET_DOUBLE(elapsed);
	}

	if (ts->catch_up)
		ereport(NOTICE,
				(errmsg("lane_google: %s: read " INT64_FORMAT ", converted " INT64_FORMAT " (" INT64_FORMAT " unchanged, " INT64_FORMAT " updated), quarantined " INT64_FORMAT,
						ts->spec->name, ts->rows_read, ts->rows_converted,
						ts->rows_unchanged, ts->rows_updated, ts->rows_quarantined),
				 errdetail("%.2f s, %.0f rows/s", ts->seconds,
						   ts->seconds > 0 ? ts->rows_read / ts->seconds : 0.0)));
	else
		ereport(NOTICE,
				(errmsg("lane_google: %s: read " INT64_FORMAT ", converted " INT64_FORMAT ", quarantined " INT64_FORMAT,
						ts->spec->name, ts->rows_read, ts->rows_converted, ts->rows_quarantined),
				 errdetail("%.2f s, %.0f rows/s", ts->seconds,
						   ts->seconds > 0 ? ts->rows_read / ts->seconds : 0.0)));
}

/*
 * Convert one table: its source read whole, every row converted; a source
 * the application never had reads as empty.
 */
void
lg_conv_convert_table(ConvertState *st, TableState *ts)
{
	TableRun	run;

	if (!OidIsValid(ts->src_relid))
	{
		/* a table the application never had: an empty one */
		char	   *sname = lg_conv_qualified(st->src_schema,
											  lg_conv_source_name(st, ts->spec));

		appendStringInfo(&ts->note, "%sno table %s: read as empty",
						 ts->note.len ? "; " : "", sname);
		ereport(NOTICE,
				(errmsg("lane_google: %s: no table %s, read as empty",
						ts->spec->name, sname)));
		return;
	}
	table_run_begin(st, ts, &run);
	if (ts->src_by_query)
		read_source_query(st, ts, &run);
	else
		read_source_heap(st, ts, &run);
	table_run_end(st, ts, &run);
}
