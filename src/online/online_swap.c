/*-------------------------------------------------------------------------
 *
 * online_swap.c
 *	  The swap of the online conversion: _online_swap(), the first step of
 *	  lane_google--1.1--2.1.sql, which puts the shadows in place of the
 *	  legacy tables.
 *
 * Invariants: the swap runs only inside ALTER EXTENSION ... UPDATE, at READ
 * COMMITTED, on a complete backfill.  Before the locks a client waits
 * for, it applies the log until little is left and takes the locks no
 * client waits for (swap_prelock()); then, within
 * lane_google.swap_lock_timeout for all of them, the compatibility views,
 * the dependents and the legacy tables ACCESS EXCLUSIVE.  Under those
 * locks nothing is in flight: it checks the layouts and the dependents,
 * applies the rest of the log and rechecks its foreign keys, and only
 * then changes anything, so a failure before that point changes nothing
 * and leaves the online conversion intact.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "lane_google.h"
#include "online_int.h"

PG_FUNCTION_INFO_V1(lg_online_swap);

/* What the swap reports: its figures, in the order it reaches them */
typedef struct SwapFigures
{
	int64		pre_applied;	/* log entries applied before the table locks */
	int			pre_passes;		/* ... in so many passes */
	long		pre_ms;			/* ... in so long */
	long		lock_ms;		/* the time the locks took */
	TimestampTz t0;				/* when every lock was held */
	long		plan_ms;		/* the dependents planned under the locks */
	int64		applied;		/* log entries applied under the locks */
	long		apply_ms;
	long		recheck_ms;		/* their foreign keys checked */
	long		carry_ms;		/* the dependents converted */
} SwapFigures;

/*
 * The swap's locks that no client waits for, taken before those it does: the
 * staging schema's tables ACCESS EXCLUSIVE (the shadows, moved in under the
 * table locks, and what lg_online_drop_staging() drops), but the change log,
 * which the writers' capture triggers insert into, SHARE UPDATE EXCLUSIVE;
 * the legacy tables and the dependents SHARE UPDATE EXCLUSIVE; each with its
 * TOAST table.  SHARE UPDATE EXCLUSIVE leaves the clients their reads and
 * writes and keeps VACUUM, ANALYZE and DDL off these tables until the swap
 * ends: an autovacuum worker on a shadow (the log's applications churn them)
 * or on a legacy table would otherwise hold up a DROP or a SET SCHEMA under
 * the table locks, with every client waiting, until PostgreSQL cancelled it
 * deadlock_timeout later.  Here that wait holds nobody up: each lock has
 * swap_lock_timeout plus deadlock_timeout, so that an autovacuum worker in
 * the way is cancelled in time, however many of them are at work on these
 * tables.
 */
static void
swap_prelock(void)
{
	LockBudget	b;
	Oid			nsp = get_namespace_oid(STAGING, false);
	bool		has_views;
	List	   *rels;
	ListCell   *lc;
	uint64		i;
	SPITupleTable *tt;
	int			t;

	lg_online_budget_begin(&b, "the online swap");
	b.timeout_ms = lg_swap_lock_timeout_ms + DeadlockTimeout;
	b.plus_deadlock = true;
	if (SPI_execute(psprintf("SELECT c.oid, c.relname FROM pg_catalog.pg_class c"
							 " WHERE c.relnamespace OPERATOR(pg_catalog.=) '%u'::pg_catalog.oid"
							 "   AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::pg_catalog.\"char\"[])"
							 " ORDER BY c.relname", nsp),
					false, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: the staging tables");
	tt = SPI_tuptable;
	for (i = 0; i < tt->numvals; i++)
	{
		bool		isnull;
		Oid			relid = DatumGetObjectId(SPI_getbinval(tt->vals[i], tt->tupdesc, 1, &isnull));
		char	   *name = SPI_getvalue(tt->vals[i], tt->tupdesc, 2);

		lg_online_budget_lock_with_toast(&b, relid,
							   strcmp(name, CHANGES) == 0 ? ShareUpdateExclusiveLock : AccessExclusiveLock,
							   psprintf("table %s.%s", STAGING, name));
	}
	SPI_freetuptable(tt);
	for (t = 0; t < LG_NTABLES; t++)
		lg_online_budget_lock_with_toast(&b, lg_online_legacy_relid(t), ShareUpdateExclusiveLock,
							   psprintf("table %s", lg_tables[t].name));
	rels = lg_dependents_relations(&has_views);
	foreach(lc, rels)
	{
		Oid			relid = lfirst_oid(lc);
		char	   *rel = get_rel_name(relid);

		if (rel != NULL)
			lg_online_budget_lock_with_toast(&b, relid, ShareUpdateExclusiveLock,
								   psprintf("relation %s.%s",
											get_namespace_name(get_rel_namespace(relid)), rel));
	}
	lg_online_budget_end(&b);
}

/* The backfill is complete, or an error: the swap changes nothing */
static void
swap_require_complete(void)
{
	char	   *phase = lg_online_phase();

	if (strcmp(phase, "complete") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("an online conversion is in progress and its backfill is not complete"),
				 errdetail("Nothing was changed."),
				 errhint("CALL lane_google.online_backfill() to finish it, or SELECT lane_google.online_abort() to convert offline.")));
}

/*
 * Every lock within the budget: the backfill's advisory lock, the
 * compatibility views (their readers lock them before the tables), the
 * legacy tables.  Between the advisory lock and the others, with no lock a
 * client waits for, the log is applied until little is left and the
 * foreign keys of what was applied are checked (and forgotten, as
 * online_backfill() does): under the table locks only what the writers
 * logged meanwhile is applied and checked, an amount that depends on the
 * write rate, not on the tables' size.  That time is not in the budget.
 */
static void
swap_lock(SwapFigures *f)
{
	LockBudget	b;
	TimestampTz t0;
	List	   *locked = NIL;
	int			t;

	lg_online_budget_begin(&b, "the online swap");
	lg_online_budget_lock(&b, InvalidOid, ExclusiveLock, "the online backfill's advisory lock");
	lg_online_budget_pause(&b);
	t0 = GetCurrentTimestamp();
	f->pre_applied = lg_online_apply_until_small(&f->pre_passes);
	swap_prelock();
	f->pre_applied += lg_online_apply_until_small(&f->pre_passes);
	f->pre_ms = (long) ((GetCurrentTimestamp() - t0) / 1000);
	lg_online_budget_resume(&b);
	for (t = 0; t < LG_NTABLES; t++)
	{
		Oid			v = get_relname_relid(lg_tables[t].name, get_namespace_oid(COMPAT, true));

		if (OidIsValid(v))
			lg_online_budget_lock(&b, v, AccessExclusiveLock,
								  psprintf("view %s.%s", COMPAT, lg_tables[t].name));
	}
	(void) lg_online_budget_lock_dependents(&b, &locked);
	lg_online_budget_lock_legacy(&b, AccessExclusiveLock);
	(void) lg_online_budget_lock_dependents(&b, &locked);
	f->lock_ms = lg_online_budget_elapsed_ms(&b);
	lg_online_budget_end(&b);
}

/*
 * Under the locks, before anything changes: the layouts (the tables whose
 * log had nothing to apply were not checked yet), the dependents, the rest
 * of the log applied and its foreign keys checked.
 */
static void
swap_catch_up(SwapFigures *f)
{
	TimestampTz t1;

	f->t0 = GetCurrentTimestamp();
	lg_online_check_layouts();

	/*
	 * The dependents, planned again (those created since online_start() are
	 * seen): refused, naming them, before anything changes; the views tried
	 * over the 2.x layout.  The script's _lg_dependents_attach() re-creates
	 * them at its end.
	 */
	lg_dependents_swap_detach();
	f->plan_ms = (long) ((GetCurrentTimestamp() - f->t0) / 1000);
	t1 = GetCurrentTimestamp();
	f->applied = lg_online_apply_changes();
	f->apply_ms = (long) ((GetCurrentTimestamp() - t1) / 1000);
	t1 = GetCurrentTimestamp();
	lg_online_recheck_orphans(true);
	f->recheck_ms = (long) ((GetCurrentTimestamp() - t1) / 1000);
}

/*
 * The tables swapped, once the compatibility views over the legacy tables
 * are gone: the dependents converted, the legacy tables out of the
 * extension and dropped, the shadows moved in as extension members, the
 * staging schema dropped.
 */
static void
swap_tables(SwapFigures *f)
{
	const char *ext = lg_online_ext_q();
	StringInfoData sql;
	TimestampTz t1;
	int			t;

	/*
	 * The carried views and foreign keys dropped, each referencing column
	 * changed to uuid in place by legacy_uuid(): that rewrites the
	 * referencing table, under the locks, in time that grows with it.
	 */
	t1 = GetCurrentTimestamp();
	lg_dependents_swap_convert();
	f->carry_ms = (long) ((GetCurrentTimestamp() - t1) / 1000);

	/* out: the legacy tables */
	initStringInfo(&sql);
	for (t = 0; t < LG_NTABLES; t++)
	{
		const char *tq = quote_identifier(lg_tables[t].name);

		lg_online_spi_run(psprintf("ALTER EXTENSION lane_google DROP SEQUENCE %s.%s", ext,
								   quote_identifier(psprintf("%s_id_seq", lg_tables[t].name))),
						  SPI_OK_UTILITY);
		lg_online_spi_run(psprintf("ALTER EXTENSION lane_google DROP TABLE %s.%s", ext, tq), SPI_OK_UTILITY);
		appendStringInfo(&sql, "%s%s.%s", t ? ", " : "DROP TABLE ", ext, tq);
	}
	lg_online_spi_run(sql.data, SPI_OK_UTILITY);

	/* in: the shadows, as extension members */
	for (t = 0; t < LG_NTABLES; t++)
	{
		const char *tq = quote_identifier(lg_tables[t].name);

		lg_online_spi_run(psprintf("ALTER TABLE " STAGING ".%s SET SCHEMA %s", tq, ext), SPI_OK_UTILITY);
		lg_online_spi_run(psprintf("ALTER EXTENSION lane_google ADD TABLE %s.%s", ext, tq), SPI_OK_UTILITY);
	}
	lg_online_drop_staging();
}

/* The swap's report: what it applied, and how long each part took */
static void
swap_report(const SwapFigures *f)
{
	ereport(NOTICE,
			(errmsg("lane_google: online swap: " INT64_FORMAT " change%s applied before the locks in %d pass%s and %ld ms, locks taken in %ld ms, " INT64_FORMAT " change%s applied under them in %ld ms",
					f->pre_applied, f->pre_applied == 1 ? "" : "s", f->pre_passes, f->pre_passes == 1 ? "" : "es",
					f->pre_ms, f->lock_ms, f->applied, f->applied == 1 ? "" : "s",
					(long) ((GetCurrentTimestamp() - f->t0) / 1000)),
			 errdetail("Under the locks: dependents planned in %ld ms, changes applied in %ld ms, their foreign keys checked in %ld ms, dependents converted in %ld ms.",
					   f->plan_ms, f->apply_ms, f->recheck_ms, f->carry_ms)));
}

/*
 * _online_swap(): the first step of lane_google--1.1--2.1.sql.  Without
 * online state, returns false and the script converts offline.  With a
 * complete backfill: applies the log until little is left (see
 * lg_online_apply_until_small()), locks (within
 * lane_google.swap_lock_timeout), applies the rest of the log, replaces the
 * legacy tables by the shadows and the compatibility views by views over
 * them; returns true, and the script's offline conversion sees UUID tables
 * and skips.
 */
LG_GUARDED_FUNCTION(lg_online_swap)
{
	SwapFigures f = {0};
	int64		next_ids[LG_NTABLES];
	List	   *view_grants[LG_NTABLES];
	int			nestlevel;

	if (!creating_extension)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("_online_swap() runs only inside ALTER EXTENSION lane_google UPDATE")));
	if (!lg_online_staging_exists())
		PG_RETURN_BOOL(false);

	lg_online_require_read_committed("the online swap");

	/* the swap's report is worth seeing (as the offline conversion's is) */
	nestlevel = lg_session_messages_begin();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	swap_require_complete();
	swap_lock(&f);
	swap_catch_up(&f);

	/*
	 * out: the views over the legacy tables (what was granted on them kept),
	 * then the legacy tables; in: the shadows, then the compatibility views
	 * over them.
	 */
	lg_online_compat_take_out(next_ids, view_grants);
	swap_tables(&f);
	lg_online_compat_put_back(next_ids, view_grants);
	SPI_finish();

	swap_report(&f);
	lg_guard_end(nestlevel);
	PG_RETURN_BOOL(true);
}
