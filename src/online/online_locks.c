/*-------------------------------------------------------------------------
 *
 * online_locks.c
 *	  The locks of the online conversion: the advisory lock that serializes
 *	  the writers of the shadows, and locks taken within a time budget.
 *
 * Invariants: only the backfill's steps and the swap write the shadows,
 * each under the advisory lock (two int4 keys, held until the transaction
 * ends), so a copy batch and an application of the log never run at the
 * same time.  Every lock a client may wait behind (online_start()'s,
 * online_abort()'s, the swap's) is taken within
 * lane_google.swap_lock_timeout for all of them together (a LockBudget):
 * past it the caller fails with ERRCODE_LOCK_NOT_AVAILABLE, having changed
 * nothing, and may retry.  The budget's lock_timeout lives in a GUC nest
 * level of its own, undone by lg_online_budget_end() (or by the
 * transaction's end).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "lib/stringinfo.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "lane_google.h"
#include "online_int.h"

/* the advisory lock (two int4 keys) that serializes writers of the shadows */
#define ADVISORY_KEY1	0x6c67		/* "lg" */
#define ADVISORY_KEY2	10			/* issue 10 */

static void
advisory_tag(LOCKTAG *tag)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, ADVISORY_KEY1, ADVISORY_KEY2, 2);
}

/* Wait for the advisory lock, as long as it takes (backfill steps) */
void
lg_online_advisory_lock_wait(void)
{
	LOCKTAG		tag;

	advisory_tag(&tag);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}

/* A budget of lane_google.swap_lock_timeout from now, for what's locks */
void
lg_online_budget_begin(LockBudget *b, const char *what)
{
	b->start = GetCurrentTimestamp();
	b->deadline = TimestampTzPlusMilliseconds(b->start, lg_swap_lock_timeout_ms);
	b->timeout_ms = lg_swap_lock_timeout_ms;
	b->plus_deadlock = false;
	b->nestlevel = NewGUCNestLevel();
	b->what = what;
}

void
lg_online_budget_end(LockBudget *b)
{
	AtEOXact_GUC(true, b->nestlevel);
}

long
lg_online_budget_elapsed_ms(LockBudget *b)
{
	return (long) ((GetCurrentTimestamp() - b->start) / 1000);
}

/*
 * Leave out of the budget the work done between two of its locks that holds
 * nothing a client waits for (the swap's applications of the log before its
 * table locks): no lock wait, and no lock_timeout on its statements.
 */
void
lg_online_budget_pause(LockBudget *b)
{
	AtEOXact_GUC(true, b->nestlevel);
	b->paused_at = GetCurrentTimestamp();
}

void
lg_online_budget_resume(LockBudget *b)
{
	TimestampTz now = GetCurrentTimestamp();

	b->nestlevel = NewGUCNestLevel();
	b->start += now - b->paused_at;
	b->deadline += now - b->paused_at;
}

/*
 * Who holds a lock on relid (the advisory lock when invalid) that conflicts
 * with mode: their pids in *pids ("123, 456"), and in *who as the DETAIL
 * says them ("pid 123, pid 456", with "a prepared transaction" for one);
 * both "" when they are gone.  Read from the lock table (GetLockConflicts,
 * as CREATE INDEX CONCURRENTLY waits for them), never through SQL: it runs
 * after a caught error, before the transaction aborts.
 */
static void
lock_holders(Oid relid, LOCKMODE mode, char **who, char **pids)
{
	LOCKTAG		tag;
	VirtualTransactionId *vxids;
	StringInfoData whobuf;
	StringInfoData pidbuf;
	bool		prepared = false;
	int			i;

	if (OidIsValid(relid))
		SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
	else
	{
		advisory_tag(&tag);
		mode = ExclusiveLock;
	}
	vxids = GetLockConflicts(&tag, mode, NULL);
	initStringInfo(&whobuf);
	initStringInfo(&pidbuf);
	for (i = 0; VirtualTransactionIdIsValid(vxids[i]); i++)
	{
		PGPROC	   *proc = lg_vxid_proc(vxids[i]);
		int			pid = proc ? proc->pid : 0;

		if (pid == 0)
		{
			prepared = true;
			continue;
		}
		appendStringInfo(&whobuf, "%spid %d", whobuf.len > 0 ? ", " : "", pid);
		appendStringInfo(&pidbuf, "%s%d", pidbuf.len > 0 ? ", " : "", pid);
	}
	if (prepared)
		appendStringInfo(&whobuf, "%sa prepared transaction", whobuf.len > 0 ? ", " : "");
	*who = whobuf.data;
	*pids = pidbuf.data;
}

/*
 * Take a lock (a relation's, or the advisory lock when relid is invalid)
 * with lock_timeout set to what is left of the budget.  A lock timeout
 * becomes an error that says what could not be had and that a retry is
 * safe.
 */
void
lg_online_budget_lock(LockBudget *b, Oid relid, LOCKMODE mode, const char *name)
{
	TimestampTz now = GetCurrentTimestamp();
	long		left_ms = (long) ((b->deadline - now) / 1000);
	MemoryContext oldcxt = CurrentMemoryContext;

	if (left_ms < 1)
		left_ms = 1;
	(void) set_config_option("lock_timeout", psprintf("%ld", left_ms),
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	PG_TRY();
	{
		if (OidIsValid(relid))
			LockRelationOid(relid, mode);
		else
		{
			LOCKTAG		tag;

			advisory_tag(&tag);
			(void) LockAcquire(&tag, ExclusiveLock, false, false);
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		char	   *who;
		char	   *pids;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
			PG_RE_THROW();
		FlushErrorState();
		lock_holders(relid, mode, &who, &pids);
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 b->plus_deadlock ?
				 errmsg("%s could not lock %s within lane_google.swap_lock_timeout plus deadlock_timeout (%d ms)",
						b->what, name, b->timeout_ms) :
				 errmsg("%s could not lock %s within lane_google.swap_lock_timeout (%d ms)",
						b->what, name, b->timeout_ms),
				 who[0] ?
				 errdetail("Holding a conflicting lock: %s; nothing was changed.", who) :
				 errdetail("Another transaction holds a conflicting lock; nothing was changed."),
				 pids[0] ?
				 errhint("Retry when their transactions have ended (SELECT pid, usename, application_name, state, xact_start, query FROM pg_catalog.pg_stat_activity WHERE pid IN (%s) shows them), or raise lane_google.swap_lock_timeout.",
						 pids) :
				 errhint("Retry when the long transaction has ended, or raise lane_google.swap_lock_timeout.")));
	}
	PG_END_TRY();
}

/* The 11 legacy tables, in order, locked within the budget */
void
lg_online_budget_lock_legacy(LockBudget *b, LOCKMODE mode)
{
	int			t;

	for (t = 0; t < LG_NTABLES; t++)
		lg_online_budget_lock(b, lg_online_legacy_relid(t), mode,
					psprintf("table %s", lg_tables[t].name));
}

/*
 * The relations outside the extension that carrying the dependents locks
 * ACCESS EXCLUSIVE (tables with foreign keys or registered references into
 * the 11 tables, views over them: dependents/ plans them), locked within
 * the budget.  Called again once the 11 tables are locked, when no new
 * dependent can appear: whatever appeared meanwhile is locked too.
 * Returns whether the plan has views (their trial needs these locks).
 */
bool
lg_online_budget_lock_dependents(LockBudget *b, List **locked)
{
	bool		has_views;
	List	   *rels = lg_dependents_relations(&has_views);
	ListCell   *lc;

	foreach(lc, rels)
	{
		Oid			relid = lfirst_oid(lc);
		char	   *rel = get_rel_name(relid);
		Oid			nsp = get_rel_namespace(relid);

		if (list_member_oid(*locked, relid) || rel == NULL)
			continue;
		lg_online_budget_lock(b, relid, AccessExclusiveLock,
					psprintf("relation %s.%s", get_namespace_name(nsp), rel));
		*locked = lappend_oid(*locked, relid);
	}
	return has_views;
}

/*
 * A relation and its TOAST table, if it has one, each locked within the
 * budget's whole time (b->timeout_ms)
 */
void
lg_online_budget_lock_with_toast(LockBudget *b, Oid relid, LOCKMODE mode, const char *name)
{
	HeapTuple	tup;
	Oid			toast = InvalidOid;

	b->deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), b->timeout_ms);
	lg_online_budget_lock(b, relid, mode, name);
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (HeapTupleIsValid(tup))
	{
		toast = ((Form_pg_class) GETSTRUCT(tup))->reltoastrelid;
		ReleaseSysCache(tup);
	}
	if (OidIsValid(toast))
	{
		b->deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), b->timeout_ms);
		lg_online_budget_lock(b, toast, mode, psprintf("the TOAST table of %s", name));
	}
}
