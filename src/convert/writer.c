/*-------------------------------------------------------------------------
 *
 * writer.c
 *	  The conversion's bulk writer: converted rows into a target table in
 *	  batches through table_multi_insert(), as COPY FROM writes them.
 *
 * Invariants: a target that was empty is written without index maintenance
 * (read.c rebuilds its indexes once it is full); one that held rows keeps
 * its indexes as rows go in and as catch-up updates them.  Every row passes
 * the table's CHECK constraints before it is batched.  The foreign-key
 * check triggers are off (every key was checked against its parent
 * already); a user's INSERT triggers fire as COPY fires them, and BEFORE ROW
 * triggers never get this far (prepare.c refuses them).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "optimizer/optimizer.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "convert/convert_int.h"

/*
 * The triggers of a target (the ResultRelInfo's own copy): its foreign-key
 * check triggers are switched off, since the conversion has checked every
 * key against its parent already (in bulk, what they would repeat row by
 * row).  True when a user's INSERT trigger remains to fire.
 */
static bool
writer_prepare_triggers(TriggerDesc *td)
{
	bool		user = false;
	int			i;

	if (td == NULL)
		return false;
	for (i = 0; i < td->numtriggers; i++)
	{
		Trigger    *tg = &td->triggers[i];

		if (RI_FKey_trigger_type(tg->tgfoid) != RI_TRIGGER_NONE)
			tg->tgenabled = TRIGGER_DISABLED;
		else if (TRIGGER_FOR_INSERT(tg->tgtype) && lg_trigger_fires(tg))
			user = true;
	}
	return user;
}

/*
 * maintain_indexes false: the caller rebuilds the table's indexes after the
 * load (the table was empty), which beats inserting every key into them.
 *
 * A user's INSERT triggers on the target fire as COPY FROM fires them:
 * BEFORE STATEMENT now, AFTER ROW (and transition tables) queued as rows are
 * written, AFTER STATEMENT and the queued events at lg_conv_writer_finish().
 * (BEFORE ROW triggers are refused before anything is written.)
 */
void
lg_conv_writer_open(Writer *w, Relation rel, bool maintain_indexes)
{
	TupleConstr *constr = RelationGetDescr(rel)->constr;
	int			i;

	memset(w, 0, sizeof(Writer));
	w->rel = rel;
	w->estate = CreateExecutorState();
	w->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(w->rri, rel, 1, NULL, 0);
	if (maintain_indexes)
		ExecOpenIndices(w->rri, false);
	w->bistate = GetBulkInsertState();
	w->cid = GetCurrentCommandId(true);
	w->estate->es_output_cid = w->cid;
	w->batch_cxt = AllocSetContextCreate(CurrentMemoryContext,
										 "lane_google conversion batch",
										 ALLOCSET_DEFAULT_SIZES);
	/* a table created by this very transaction needs no free-space map */
	if (rel->rd_createSubid != InvalidSubTransactionId)
		w->options |= TABLE_INSERT_SKIP_FSM;

	if (constr)
		for (i = 0; i < constr->num_check; i++)
		{
			Expr	   *e = stringToNode(constr->check[i].ccbin);

			e = expression_planner(e);
			w->checks = lappend(w->checks, ExecPrepareExpr(e, w->estate));
		}
	for (i = 0; i < BATCH_TUPLES; i++)
		w->slots[i] = MakeSingleTupleTableSlot(RelationGetDescr(rel),
											   &TTSOpsHeapTuple);

	w->fire_triggers = writer_prepare_triggers(w->rri->ri_TrigDesc);
	if (w->fire_triggers)
	{
		/* where the queued events find the table again */
		w->estate->es_opened_result_relations =
			lappend(w->estate->es_opened_result_relations, w->rri);
		AfterTriggerBeginQuery();
		ExecBSInsertTriggers(w->estate, w->rri);
		w->transition = MakeTransitionCaptureState(w->rri->ri_TrigDesc,
												   RelationGetRelid(rel),
												   CMD_INSERT);
	}
}

/* The batched rows into the table, their index entries, their AFTER ROW events */
void
lg_conv_writer_flush(Writer *w)
{
	int			i;

	if (w->nslots == 0)
		return;
	table_multi_insert(w->rel, w->slots, w->nslots, w->cid, w->options,
					   w->bistate);
	if (w->rri->ri_NumIndices > 0)
	{
		ExprContext *econtext = GetPerTupleExprContext(w->estate);

		for (i = 0; i < w->nslots; i++)
		{
			List	   *r;

			econtext->ecxt_scantuple = w->slots[i];
			r = lg_ExecInsertIndexTuples(w->rri, w->slots[i], w->estate,
										 false, false, NULL, NIL, false);
			list_free(r);
			ResetPerTupleExprContext(w->estate);
		}
	}
	if (w->fire_triggers)
		for (i = 0; i < w->nslots; i++)
			ExecARInsertTriggers(w->estate, w->rri, w->slots[i], NIL,
								 w->transition);
	for (i = 0; i < w->nslots; i++)
		ExecClearTuple(w->slots[i]);
	w->nslots = 0;
	w->nbytes = 0;
	MemoryContextReset(w->batch_cxt);
}

/* The table's CHECK constraints on a formed row */
void
lg_conv_writer_check(Writer *w, TupleTableSlot *slot)
{
	ExprContext *econtext;
	ListCell   *lc;
	int			i = 0;

	if (w->checks == NIL)
		return;
	econtext = GetPerTupleExprContext(w->estate);
	econtext->ecxt_scantuple = slot;
	foreach(lc, w->checks)
	{
		if (!ExecCheck((ExprState *) lfirst(lc), econtext))
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("row violates check constraint \"%s\" of table %s",
							RelationGetDescr(w->rel)->constr->check[i].ccname,
							RelationGetRelationName(w->rel))));
		i++;
	}
	ResetPerTupleExprContext(w->estate);
}

/*
 * Catch-up: replace a row the target holds (tid) by its new contents, with
 * its index entries, as UPDATE does.  Only on a table opened with index
 * maintenance (a target that held rows).
 */
void
lg_conv_writer_update(Writer *w, ItemPointer tid, Datum *values, bool *nulls,
					  Snapshot snapshot)
{
	TupleTableSlot *slot = w->slots[BATCH_TUPLES - 1];
	HeapTuple	tup;
	MemoryContext old;

	TU_UpdateIndexes update_indexes;

	/* pending inserts first: the last slot serves the update */
	lg_conv_writer_flush(w);
	old = MemoryContextSwitchTo(w->batch_cxt);
	tup = heap_form_tuple(RelationGetDescr(w->rel), values, nulls);
	MemoryContextSwitchTo(old);
	ExecStoreHeapTuple(tup, slot, false);
	lg_conv_writer_check(w, slot);
	simple_table_tuple_update(w->rel, tid, slot, snapshot, &update_indexes);
	if (update_indexes != TU_None && w->rri->ri_NumIndices > 0)
	{
		ExprContext *econtext = GetPerTupleExprContext(w->estate);
		List	   *r;

		/*
		 * update = false: that flag only hints "index unchanged" to
		 * bottom-up deletion, from a range table this executor state has not
		 */
		econtext->ecxt_scantuple = slot;
		r = lg_ExecInsertIndexTuples(w->rri, slot, w->estate, false, false, NULL,
									 NIL, update_indexes == TU_Summarizing);
		list_free(r);
		ResetPerTupleExprContext(w->estate);
	}
	ExecClearTuple(slot);
	MemoryContextReset(w->batch_cxt);
}

/* Every row written; the table's indexes are complete after this */
void
lg_conv_writer_close(Writer *w)
{
	int			i;

	lg_conv_writer_flush(w);
	for (i = 0; i < BATCH_TUPLES; i++)
		ExecDropSingleTupleTableSlot(w->slots[i]);
	FreeBulkInsertState(w->bistate);
	table_finish_bulk_insert(w->rel, w->options);
	ExecCloseIndices(w->rri);
}

/*
 * The statement is over: AFTER STATEMENT triggers, then the queued AFTER
 * ROW events.  After any index rebuild, so that what the triggers read
 * through an index is complete.
 */
void
lg_conv_writer_finish(Writer *w)
{
	if (w->fire_triggers)
	{
		ExecASInsertTriggers(w->estate, w->rri, w->transition);
		AfterTriggerEndQuery(w->estate);
	}
	/* the slots the triggers' events were read into */
	ExecResetTupleTable(w->estate->es_tupleTable, false);
	FreeExecutorState(w->estate);
	MemoryContextDelete(w->batch_cxt);
}
