/*-------------------------------------------------------------------------
 *
 * casts.c
 *	  The casts of a batch of source rows (columns of another type than
 *	  their target's: PostgreSQL's assignment casts, or the target type's
 *	  input function over text, as layout.c built them).
 *
 * A cast may fail on a value, and that failure must become the row's
 * problem, not end the conversion: the batch's casts run in one
 * subtransaction, and only when it fails is each value cast again in a
 * subtransaction of its own.  Errors that are not about a value (a cancel,
 * out of memory) end the run.  The casts run with the source's rights
 * (rows.c switches to them), since a cast of a source's column type is its
 * owner's choice of code.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "utils/resowner.h"

#include "convert/convert_int.h"

/* Is this error a bad value (a row problem), not a failure of the run? */
static bool
is_value_error(ErrorData *edata)
{
	int			cat = ERRCODE_TO_CATEGORY(edata->sqlerrcode);

	return edata->elevel == ERROR &&
		(cat == ERRCODE_DATA_EXCEPTION ||
		 cat == ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION);
}

/* Value (r, i) of the batch: its column's cast over its source row */
static void
eval_cast(ColMap *c, ConvBatch *b, int r, int i, ExprContext *econtext)
{
	int			x = r * b->natts + i;

	econtext->ecxt_scantuple = b->slots[r];
	b->values[x] = ExecEvalExpr(c->expr, econtext, &b->nulls[x]);
}

/* Every cast of the batch, on every value not NULL */
static void
eval_all_casts(ColMap *map, ConvBatch *b, ExprContext *econtext)
{
	int			r;
	int			i;

	for (r = 0; r < b->n; r++)
		for (i = 0; i < b->natts; i++)
			if (map[i].mode == COL_CAST && !b->nulls[r * b->natts + i])
				eval_cast(&map[i], b, r, i, econtext);
}

/*
 * Casts in a subtransaction: one value's (r, i), or with r < 0 the whole
 * batch's.  NULL when they ran; the error when one failed on a value.
 * Errors that are not about a value (a cancel, out of memory) end the run.
 */
static ErrorData *
casts_in_subtransaction(ColMap *map, ConvBatch *b, int r, int i,
						ExprContext *econtext)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *volatile result = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		if (r < 0)
			eval_all_casts(map, b, econtext);
		else
			eval_cast(&map[i], b, r, i, econtext);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata = lg_subxact_catch(cxt, owner);

		if (!is_value_error(edata))
			ReThrowError(edata);
		result = edata;
	}
	PG_END_TRY();
	return result;
}

/* One value's cast in a subtransaction: a failure is the value's problem */
static void
try_cast(ColMap *map, ConvBatch *b, int r, int i, ExprContext *econtext)
{
	ErrorData  *edata = casts_in_subtransaction(map, b, r, i, econtext);
	int			x = r * b->natts + i;

	if (edata == NULL)
		return;
	b->nulls[x] = true;
	b->problem[x] = edata->message;
	b->sqlstate[x] = edata->sqlerrcode;
}

/*
 * Run the casts of the batch in one subtransaction; when that fails, each
 * value again in its own, a failure becoming the value's problem.
 */
void
lg_conv_eval_casts(ColMap *map, ConvBatch *b, ExprContext *econtext)
{
	ErrorData  *edata = casts_in_subtransaction(map, b, -1, 0, econtext);
	int			r;
	int			i;

	if (edata == NULL)
		return;
	FreeErrorData(edata);

	/* the slow path: each value alone */
	for (r = 0; r < b->n; r++)
		for (i = 0; i < b->natts; i++)
			if (map[i].mode == COL_CAST &&
				!b->slots[r]->tts_isnull[map[i].src_attno - 1])
			{
				CHECK_FOR_INTERRUPTS();
				try_cast(map, b, r, i, econtext);
			}
}
