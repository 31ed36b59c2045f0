/*-------------------------------------------------------------------------
 *
 * online.c
 *	  Owns online conversion: shadows, capture, backfill, swap.
 *
 * At version 1.1, online_start() creates the 2.0 tables as shadows in the
 * staging schema lane_google_online (derived from the legacy tables' own
 * catalog: the same columns with uuid keys and legacy_id last, the same
 * checks, constraint and index names) and puts a capture trigger on each
 * legacy table.  The trigger only logs the legacy id a row change touched
 * (lane_google_online.changes); it never writes a shadow.  The backfill is
 * the only writer of the shadows, serialized by an advisory lock, so a copy
 * batch and an application of the log never run at the same time.
 *
 * Why that is exact: the mapping is a pure function, uuid =
 * legacy_uuid(table, id), so a shadow row is a function of its legacy row.
 * Applying the log takes one snapshot S, deletes the log entries visible in
 * S and, for their keys, replaces the shadow rows by the legacy rows as S
 * sees them (deleting those that are gone).  A change and its log entry
 * commit together, so whatever S sees logged, it sees changed; whatever it
 * does not see stays logged for the next application.  A table's shadow
 * is written first by its copy batches alone, then by applications alone:
 * an application leaves the entries of a table still being copied in the
 * log.  A copy batch inserts the legacy rows of the key range (last_id, hi]
 * as its snapshot sees them; the ranges are disjoint and each commits with
 * its progress, so no row is copied twice (and the primary key, built in
 * the last batch's transaction, would refuse one).  A row changed after the
 * snapshot that copied it, or inserted past the ids to copy, is logged by a
 * change that no application has consumed yet.  So after an application at
 * S, every shadow row equals its legacy row as of S; once under the swap's
 * ACCESS EXCLUSIVE locks, nothing is in flight and the shadows equal the
 * legacy tables.  Unique constraints other than the primary key are built
 * only then (after the copy and a full application), since halfway a stale
 * row could collide.  The primary key is built when a table's copy ends,
 * by a sort rather than by a random uuid insert per row.
 *
 * Resumable: a copy batch commits with its progress row (the last legacy id
 * copied per table); a crash loses at most the batch in flight, which is
 * rolled back with its progress.  Index builds and the log application
 * commit atomically too.
 *
 * The swap (_online_swap(), called by lane_google--1.1--2.1.sql before its
 * offline conversion) takes the advisory lock, applies the log and checks
 * its keys pass after pass until little is left, then takes the ACCESS
 * EXCLUSIVE locks (waiting lane_google.swap_lock_timeout at most, for all of
 * its locks together), applies and checks what was committed meanwhile,
 * drops the legacy tables and moves the shadows in as extension members:
 * the rest of the script (foreign keys, triggers, pg_dump registrations)
 * then ends in the catalog of a fresh 2.1.
 *
 * Across the swap, schema lane_google_v1 (expand/contract) holds views with
 * the 1.0 layout: plain views over the legacy tables until the swap, then
 * views over the 2.x tables with integer ids from legacy_id, automatically
 * updatable for the other columns, and an INSTEAD OF INSERT trigger
 * (_compat_write) that maps the ids of a new row through legacy_uuid().
 * Both read and write with the rights of the role using them
 * (security_invoker), and the swap grants on the new views what was granted
 * on the old.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "lane_google.h"

PG_FUNCTION_INFO_V1(lg_online_capture);
PG_FUNCTION_INFO_V1(lg_online_start);
PG_FUNCTION_INFO_V1(lg_online_copy_batch);
PG_FUNCTION_INFO_V1(lg_online_apply);
PG_FUNCTION_INFO_V1(lg_online_finish);
PG_FUNCTION_INFO_V1(lg_online_abort);
PG_FUNCTION_INFO_V1(lg_online_swap);

#define STAGING			"lane_google_online"
#define COMPAT			"lane_google_v1"

/*
 * The compatibility views read and write as the role that uses them, as the
 * 2.x tables would: its privileges on the tables under them and their
 * row-level security policies apply, not those of the view's owner (the
 * role that ran online_start(), or the update).  PostgreSQL 13 and 14 have
 * no such views: there they read with their owner's rights.
 */
#if PG_VERSION_NUM >= 150000
#define COMPAT_VIEW_OPTIONS	" WITH (security_invoker = true)"
#else
#define COMPAT_VIEW_OPTIONS	""
#endif
#define CHANGES			"changes"
#define RECHECK			"recheck"

/* the advisory lock (two int4 keys) that serializes writers of the shadows */
#define ADVISORY_KEY1	0x6c67		/* "lg" */
#define ADVISORY_KEY2	10			/* issue 10 */

int			lg_swap_lock_timeout_ms = 1000;

void
lg_online_init(void)
{
	DefineCustomIntVariable("lane_google.swap_lock_timeout",
							"Longest time the online swap and online_start() may wait for their locks, altogether.",
							"Past it they fail cleanly, changing nothing, and can be retried.",
							&lg_swap_lock_timeout_ms,
							1000,
							1,
							INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
}

/* --- small helpers ------------------------------------------------------- */

static const char *
ext_q(void)
{
	return quote_identifier(get_namespace_name(lg_extension_schema()));
}

static bool
staging_exists(void)
{
	return OidIsValid(get_namespace_oid(STAGING, true));
}

static void
require_staging(void)
{
	if (!staging_exists())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no online conversion is in progress"),
				 errhint("Start one with SELECT lane_google.online_start().")));
}

static void
require_read_committed(const char *what)
{
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("%s must run at the READ COMMITTED isolation level", what),
				 errhint("SET default_transaction_isolation = 'read committed' for the session.")));
}

/* Run one statement through SPI; an error unless it returns ret */
static void
spi_run(const char *sql, int ret)
{
	int			rc = SPI_execute(sql, false, 0);

	if (rc != ret)
		elog(ERROR, "SPI_execute failed (%d): %s", rc, sql);
}

/* A single int8 (or NULL: defval) from a one-row query */
static int64
spi_int8(const char *sql, int64 defval)
{
	bool		isnull;
	Datum		d;

	if (SPI_execute(sql, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", sql);
	if (SPI_processed != 1)
		return defval;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? defval : DatumGetInt64(d);
}

static Oid
legacy_relid(int t)
{
	Oid			relid = get_relname_relid(lg_tables[t].name, lg_extension_schema());

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table %s.%s is missing", get_namespace_name(lg_extension_schema()),
						lg_tables[t].name)));
	return relid;
}

/* The parent table of a column of table t, or NULL if it is no foreign key */
static const char *
fk_parent(int t, const char *column)
{
	int			i;

	for (i = 0; i < lg_tables[t].nfks; i++)
		if (strcmp(lg_tables[t].fks[i].column, column) == 0)
			return lg_tables[t].fks[i].parent;
	return NULL;
}

/* Column name of desc, or -1 */
static int
find_column(TupleDesc desc, const char *name)
{
	int			i;

	for (i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped &&
			strcmp(NameStr(TupleDescAttr(desc, i)->attname), name) == 0)
			return i;
	return -1;
}

#define LAYOUT_DETAIL "online_start() made the shadow tables with the columns the legacy tables had then; the backfill copies the rows into them and the swap puts them in place of the legacy tables."
#define LAYOUT_RESTART "start the online conversion over: SELECT lane_google.online_abort(), then SELECT lane_google.online_start(), whose new shadow tables have the columns the tables have then"

/*
 * The legacy table t (legacy, locked by the caller) has the columns of its
 * shadow, or an error naming the first column added, dropped, renamed or
 * changed in type since online_start(), and the way out.  Carrying such a
 * change is not possible: the rows copied so far lack it, and none of
 * ALTER TABLE's rewrites (a default, a USING) fires the capture trigger that
 * would log them for a copy again; aborting and starting again is that copy.
 */
static void
check_layout(int t, Relation legacy)
{
	Oid			relid = get_relname_relid(lg_tables[t].name, get_namespace_oid(STAGING, false));
	Relation	shadow;
	TupleDesc	ld = RelationGetDescr(legacy);
	TupleDesc	sd;
	const char *ext = get_namespace_name(lg_extension_schema());
	const char *tab = lg_tables[t].name;
	int			i;
	int			added = -1;
	int			dropped = -1;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table %s.%s is missing", STAGING, tab)));
	shadow = table_open(relid, AccessShareLock);
	sd = RelationGetDescr(shadow);
	for (i = 0; i < ld->natts && added < 0; i++)
		if (!TupleDescAttr(ld, i)->attisdropped &&
			find_column(sd, NameStr(TupleDescAttr(ld, i)->attname)) < 0)
			added = i;
	for (i = 0; i < sd->natts && dropped < 0; i++)
		if (!TupleDescAttr(sd, i)->attisdropped &&
			strcmp(NameStr(TupleDescAttr(sd, i)->attname), "legacy_id") != 0 &&
			find_column(ld, NameStr(TupleDescAttr(sd, i)->attname)) < 0)
			dropped = i;

	if (added >= 0 && dropped >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("column \"%s\" of table %s.%s was renamed to \"%s\" during the online conversion",
						NameStr(TupleDescAttr(sd, dropped)->attname), ext, tab,
						NameStr(TupleDescAttr(ld, added)->attname)),
				 errdetail("Table %s.%s has column \"%s\" and not \"%s\", which its shadow table %s.%s has.  " LAYOUT_DETAIL,
						   ext, tab, NameStr(TupleDescAttr(ld, added)->attname),
						   NameStr(TupleDescAttr(sd, dropped)->attname), STAGING, tab),
				 errhint("Rename it back, or " LAYOUT_RESTART ".")));
	if (added >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("column \"%s\" was added to table %s.%s during the online conversion",
						NameStr(TupleDescAttr(ld, added)->attname), ext, tab),
				 errdetail("Its shadow table %s.%s has no such column.  " LAYOUT_DETAIL, STAGING, tab),
				 errhint("Drop the column again, or " LAYOUT_RESTART ".")));
	if (dropped >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("column \"%s\" of table %s.%s was dropped during the online conversion",
						NameStr(TupleDescAttr(sd, dropped)->attname), ext, tab),
				 errdetail("Its shadow table %s.%s still has it.  " LAYOUT_DETAIL, STAGING, tab),
				 errhint("A dropped column cannot be put back: %s", LAYOUT_RESTART ".")));
	for (i = 0; i < ld->natts; i++)
	{
		Form_pg_attribute la = TupleDescAttr(ld, i);
		Form_pg_attribute sa;
		const char *name = NameStr(la->attname);
		bool		key = strcmp(name, "id") == 0 || fk_parent(t, name) != NULL;

		if (la->attisdropped)
			continue;
		sa = TupleDescAttr(sd, find_column(sd, name));
		/* a key is copied as legacy_uuid(table, key): any integer type */
		if (key && la->atttypid != INT2OID && la->atttypid != INT4OID &&
			la->atttypid != INT8OID)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("column \"%s\" of table %s.%s changed type during the online conversion",
							name, ext, tab),
					 errdetail("It is %s; the online conversion maps it to uuid by legacy_uuid(), from an integer.  " LAYOUT_DETAIL,
							   format_type_with_typemod(la->atttypid, la->atttypmod)),
					 errhint("Change it back to integer.")));
		if (!key && (sa->atttypid != la->atttypid || sa->atttypmod != la->atttypmod))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("column \"%s\" of table %s.%s changed type during the online conversion",
							name, ext, tab),
					 errdetail("It is %s; its shadow table %s.%s has %s.  " LAYOUT_DETAIL,
							   format_type_with_typemod(la->atttypid, la->atttypmod), STAGING, tab,
							   format_type_with_typemod(sa->atttypid, sa->atttypmod)),
					 errhint("Change it back to %s, or " LAYOUT_RESTART ".",
							 format_type_with_typemod(sa->atttypid, sa->atttypmod))));
	}
	table_close(shadow, NoLock);
}

/*
 * The legacy table t (rel) has online_start()'s capture triggers, enabled
 * ALWAYS, or an error: without them its changes since were not logged and
 * the shadow cannot be brought up to date.  pg_dump does not dump triggers
 * on an extension's tables, so a database restored from a dump taken during
 * an online conversion has the staging schema and its rows but no capture:
 * a swap there would lose every change made after the restore.
 */
static void
check_capture(int t, Relation rel)
{
	static const char *const names[] = {"lane_google_online_capture", "lane_google_online_truncate"};
	TriggerDesc *td = rel->trigdesc;
	int			n;
	int			i;

	for (n = 0; n < lengthof(names); n++)
	{
		bool		found = false;

		for (i = 0; td != NULL && i < td->numtriggers && !found; i++)
			found = strcmp(td->triggers[i].tgname, names[n]) == 0 &&
				td->triggers[i].tgenabled == TRIGGER_FIRES_ALWAYS;
		if (!found)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table %s.%s has lost the online conversion's change capture",
							get_namespace_name(lg_extension_schema()), lg_tables[t].name),
					 errdetail("Its trigger %s, which online_start() created, is missing or not enabled ALWAYS: its changes may not have been captured, so the shadow tables cannot be brought up to date.  A database restored from a dump taken during an online conversion is in this state (pg_dump does not dump triggers on an extension's tables).",
							   names[n]),
					 errhint("Start the online conversion over: SELECT lane_google.online_abort(), then SELECT lane_google.online_start().")));
	}
}

/*
 * Every legacy table has the columns of its shadow (check_layout()) and its
 * capture triggers (check_capture()), at each step of the backfill and in
 * the swap under its locks: a change to them since online_start() is named
 * before a row is copied, not met as an error of the copy statement or not
 * at all.
 */
static void
check_layouts(void)
{
	int			t;

	for (t = 0; t < LG_NTABLES; t++)
	{
		Relation	rel = table_open(legacy_relid(t), AccessShareLock);

		check_capture(t, rel);
		check_layout(t, rel);
		table_close(rel, NoLock);
	}
}

/*
 * The statement that copies the legacy rows (alias l) matching where into
 * the shadow: the same columns in the same order, keys mapped by
 * legacy_uuid(), then legacy_id.  The legacy table stays locked until the
 * transaction ends: its columns cannot change before the statement runs.
 */
static char *
copy_sql(int t, const char *where)
{
	Relation	rel = table_open(legacy_relid(t), AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	const char *ext = ext_q();
	const char *tq = quote_identifier(lg_tables[t].name);
	StringInfoData cols;
	StringInfoData exprs;
	int			i;

	initStringInfo(&cols);
	initStringInfo(&exprs);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		const char *name = NameStr(att->attname);
		const char *parent;

		if (att->attisdropped)
			continue;
		appendStringInfo(&cols, "%s, ", quote_identifier(name));
		if (strcmp(name, "id") == 0)
			parent = lg_tables[t].name;
		else
			parent = fk_parent(t, name);
		if (parent)
			appendStringInfo(&exprs, "%s.legacy_uuid(%s, l.%s), ", ext,
							 quote_literal_cstr(parent), quote_identifier(name));
		else
			appendStringInfo(&exprs, "l.%s, ", quote_identifier(name));
	}
	check_layout(t, rel);
	table_close(rel, NoLock);
	return psprintf("INSERT INTO " STAGING ".%s (%slegacy_id) SELECT %sl.id FROM %s.%s l WHERE %s",
					tq, cols.data, exprs.data, ext, tq, where);
}

/* --- locks: the advisory lock, and locks within a time budget ----------- */

static void
advisory_tag(LOCKTAG *tag)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, ADVISORY_KEY1, ADVISORY_KEY2, 2);
}

/* Wait for the advisory lock, as long as it takes (backfill steps) */
static void
advisory_lock_wait(void)
{
	LOCKTAG		tag;

	advisory_tag(&tag);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}

typedef struct LockBudget
{
	TimestampTz start;
	TimestampTz deadline;
	int			timeout_ms;		/* deadline - start */
	bool		plus_deadlock;	/* timeout_ms is swap_lock_timeout +
								 * deadlock_timeout */
	TimestampTz paused_at;
	int			nestlevel;
	const char *what;
} LockBudget;

static void
budget_begin(LockBudget *b, const char *what)
{
	b->start = GetCurrentTimestamp();
	b->deadline = TimestampTzPlusMilliseconds(b->start, lg_swap_lock_timeout_ms);
	b->timeout_ms = lg_swap_lock_timeout_ms;
	b->plus_deadlock = false;
	b->nestlevel = NewGUCNestLevel();
	b->what = what;
}

static void
budget_end(LockBudget *b)
{
	AtEOXact_GUC(true, b->nestlevel);
}

static long
budget_elapsed_ms(LockBudget *b)
{
	return (long) ((GetCurrentTimestamp() - b->start) / 1000);
}

/*
 * Leave out of the budget the work done between two of its locks that holds
 * nothing a client waits for (the swap's applications of the log before its
 * table locks): no lock wait, and no lock_timeout on its statements.
 */
static void
budget_pause(LockBudget *b)
{
	AtEOXact_GUC(true, b->nestlevel);
	b->paused_at = GetCurrentTimestamp();
}

static void
budget_resume(LockBudget *b)
{
	TimestampTz now = GetCurrentTimestamp();

	b->nestlevel = NewGUCNestLevel();
	b->start += now - b->paused_at;
	b->deadline += now - b->paused_at;
}

/*
 * Take a lock (a relation's, or the advisory lock when relid is invalid)
 * with lock_timeout set to what is left of the budget.  A lock timeout
 * becomes an error that says what could not be had and that a retry is
 * safe.
 */
static void
budget_lock(LockBudget *b, Oid relid, LOCKMODE mode, const char *name)
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

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
			PG_RE_THROW();
		FlushErrorState();
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 b->plus_deadlock ?
				 errmsg("%s could not lock %s within lane_google.swap_lock_timeout plus deadlock_timeout (%d ms)",
						b->what, name, b->timeout_ms) :
				 errmsg("%s could not lock %s within lane_google.swap_lock_timeout (%d ms)",
						b->what, name, b->timeout_ms),
				 errdetail("Another transaction holds a conflicting lock; nothing was changed."),
				 errhint("Retry when the long transaction has ended, or raise lane_google.swap_lock_timeout.")));
	}
	PG_END_TRY();
}

/* The 11 legacy tables, in order, locked within the budget */
static void
budget_lock_legacy(LockBudget *b, LOCKMODE mode)
{
	int			t;

	for (t = 0; t < LG_NTABLES; t++)
		budget_lock(b, legacy_relid(t), mode,
					psprintf("table %s", lg_tables[t].name));
}

/*
 * The relations outside the extension that carrying the dependents locks
 * ACCESS EXCLUSIVE (tables with foreign keys or registered references into
 * the 11 tables, views over them: dependents.c plans them), locked within
 * the budget.  Called again once the 11 tables are locked, when no new
 * dependent can appear: whatever appeared meanwhile is locked too.
 * Returns whether the plan has views (their trial needs these locks).
 */
static bool
budget_lock_dependents(LockBudget *b, List **locked)
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
		budget_lock(b, relid, AccessExclusiveLock,
					psprintf("relation %s.%s", get_namespace_name(nsp), rel));
		*locked = lappend_oid(*locked, relid);
	}
	return has_views;
}

/*
 * A relation and its TOAST table, if it has one, each locked within the
 * budget's whole time (b->timeout_ms)
 */
static void
budget_lock_with_toast(LockBudget *b, Oid relid, LOCKMODE mode, const char *name)
{
	HeapTuple	tup;
	Oid			toast = InvalidOid;

	b->deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), b->timeout_ms);
	budget_lock(b, relid, mode, name);
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (HeapTupleIsValid(tup))
	{
		toast = ((Form_pg_class) GETSTRUCT(tup))->reltoastrelid;
		ReleaseSysCache(tup);
	}
	if (OidIsValid(toast))
	{
		b->deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), b->timeout_ms);
		budget_lock(b, toast, mode, psprintf("the TOAST table of %s", name));
	}
}

/*
 * The swap's locks that no client waits for, taken before those it does:
 * the staging schema's tables ACCESS EXCLUSIVE (the shadows, moved in under
 * the table locks, and what drop_staging() drops), but the change log, which
 * the writers' capture triggers insert into, SHARE UPDATE EXCLUSIVE; the
 * legacy tables and the dependents SHARE UPDATE EXCLUSIVE; each with its
 * TOAST table.  SHARE UPDATE EXCLUSIVE leaves the clients their reads and
 * writes and keeps VACUUM, ANALYZE and DDL off these tables until the swap
 * ends: an autovacuum worker on a shadow (the log's applications churn
 * them) or on a legacy table would otherwise hold up a DROP or a SET SCHEMA
 * under the table locks, with every client waiting, until PostgreSQL
 * cancelled it deadlock_timeout later.  Here that wait holds nobody up:
 * each lock has swap_lock_timeout plus deadlock_timeout, so that an
 * autovacuum worker in the way is cancelled in time, however many of them
 * are at work on these tables.
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

	budget_begin(&b, "the online swap");
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

		budget_lock_with_toast(&b, relid,
							   strcmp(name, CHANGES) == 0 ? ShareUpdateExclusiveLock : AccessExclusiveLock,
							   psprintf("table %s.%s", STAGING, name));
	}
	SPI_freetuptable(tt);
	for (t = 0; t < LG_NTABLES; t++)
		budget_lock_with_toast(&b, legacy_relid(t), ShareUpdateExclusiveLock,
							   psprintf("table %s", lg_tables[t].name));
	rels = lg_dependents_relations(&has_views);
	foreach(lc, rels)
	{
		Oid			relid = lfirst_oid(lc);
		char	   *rel = get_rel_name(relid);

		if (rel != NULL)
			budget_lock_with_toast(&b, relid, ShareUpdateExclusiveLock,
								   psprintf("relation %s.%s",
											get_namespace_name(get_rel_namespace(relid)), rel));
	}
	budget_end(&b);
}

static void recheck_orphans(bool swap);

/* --- the capture trigger -------------------------------------------------- */

static void
log_change(Oid changes_relid, int t, HeapTuple tuple, TupleDesc desc)
{
	Relation	rel;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	bool		isnull;
	Datum		id;
	HeapTuple	logtup;

	/* attribute 1 of every legacy table is its integer id */
	id = heap_getattr(tuple, 1, desc, &isnull);
	if (isnull)
		return;
	values[0] = Int16GetDatum((int16) t);
	values[1] = Int64GetDatum((int64) DatumGetInt32(id));

	rel = table_open(changes_relid, RowExclusiveLock);
	/* written below the executor: a table with no index, which we check */
	if (RelationGetForm(rel)->relhasindex || RelationGetDescr(rel)->natts != 2)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s.%s has been altered", STAGING, CHANGES)));
	logtup = heap_form_tuple(RelationGetDescr(rel), values, nulls);
	simple_heap_insert(rel, logtup);
	heap_freetuple(logtup);
	table_close(rel, RowExclusiveLock);
}

/*
 * _online_capture(): AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW on the
 * legacy tables: logs the legacy id(s) the change touched.  As a BEFORE
 * TRUNCATE trigger it refuses: a TRUNCATE would not be carried across.
 */
Datum
lg_online_capture(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	Oid			nsp;
	Oid			changes;
	int			t;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("_online_capture() must be called as a trigger")));
	rel = trigdata->tg_relation;
	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot truncate table \"%s\" during an online conversion",
						RelationGetRelationName(rel)),
				 errhint("DELETE the rows (deletes are carried across), or run lane_google.online_abort() first.")));
	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("_online_capture() must be fired AFTER, FOR EACH ROW")));

	t = lg_table_index(RelationGetRelationName(rel));
	desc = RelationGetDescr(rel);
	if (t < 0 || desc->natts < 1 ||
		strcmp(NameStr(TupleDescAttr(desc, 0)->attname), "id") != 0 ||
		TupleDescAttr(desc, 0)->atttypid != INT4OID)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("_online_capture() fired on table \"%s\", which is not a legacy lane_google table",
						RelationGetRelationName(rel))));

	/* a change that cannot be logged must not happen */
	nsp = get_namespace_oid(STAGING, true);
	changes = OidIsValid(nsp) ? get_relname_relid(CHANGES, nsp) : InvalidOid;
	if (!OidIsValid(changes))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the online conversion's change log %s.%s is missing", STAGING, CHANGES),
				 errhint("Run lane_google.online_abort() to remove the capture triggers.")));

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		log_change(changes, t, trigdata->tg_trigtuple, desc);
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		log_change(changes, t, trigdata->tg_trigtuple, desc);
	else
	{
		bool		n1,
					n2;
		Datum		oldid = heap_getattr(trigdata->tg_trigtuple, 1, desc, &n1);
		Datum		newid = heap_getattr(trigdata->tg_newtuple, 1, desc, &n2);

		log_change(changes, t, trigdata->tg_newtuple, desc);
		if (n1 != n2 || (!n1 && DatumGetInt32(oldid) != DatumGetInt32(newid)))
			log_change(changes, t, trigdata->tg_trigtuple, desc);
	}
	return PointerGetDatum(NULL);
}

/* --- online_start() ------------------------------------------------------- */

/*
 * Schema nspname (created by online_start(), not a member of the extension:
 * pg_dump keeps it and its rows) depends on the extension, so that DROP
 * EXTENSION refuses while it exists, naming it, and DROP EXTENSION ...
 * CASCADE drops it with everything in it: the staging schema, and the
 * compatibility views' schema until drop_compat() at 2.1.  Dropping the
 * schema (online_abort(), the swap, drop_compat()) removes the dependency.
 */
static void
depend_on_extension(const char *nspname)
{
	ObjectAddress nsp;
	ObjectAddress ext;

	ObjectAddressSet(nsp, NamespaceRelationId, get_namespace_oid(nspname, false));
	ObjectAddressSet(ext, ExtensionRelationId, get_extension_oid(LG_EXTENSION_NAME, false));
	recordDependencyOn(&nsp, &ext, DEPENDENCY_NORMAL);
}

/*
 * The shadow of table t: the legacy table's columns (LIKE copies types,
 * NOT NULL, defaults and named checks), the keys turned uuid, the id's
 * default uuid_generate_v7(), legacy_id last; no index yet.
 */
static void
create_shadow(int t)
{
	const char *ext = ext_q();
	const char *tq = quote_identifier(lg_tables[t].name);
	StringInfoData sql;
	int			i;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "CREATE TABLE " STAGING ".%s (LIKE %s.%s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)",
					 tq, ext, tq);
	spi_run(sql.data, SPI_OK_UTILITY);

	resetStringInfo(&sql);
	appendStringInfo(&sql,
					 "ALTER TABLE " STAGING ".%s ALTER COLUMN id TYPE pg_catalog.uuid USING NULL,"
					 " ALTER COLUMN id SET DEFAULT %s.uuid_generate_v7()",
					 tq, ext);
	for (i = 0; i < lg_tables[t].nfks; i++)
		appendStringInfo(&sql, ", ALTER COLUMN %s TYPE pg_catalog.uuid USING NULL",
						 quote_identifier(lg_tables[t].fks[i].column));
	/* the primary key comes with the copy's last batch */
	appendStringInfoString(&sql, ", ADD COLUMN legacy_id pg_catalog.int8");
	spi_run(sql.data, SPI_OK_UTILITY);
}

/*
 * online_start(): the staging schema (state, progress, change log, shadows),
 * the compatibility views over the legacy tables, and the capture triggers.
 * Returns at once: it copies no row.
 */
static Datum lg_online_start_body(PG_FUNCTION_ARGS);

/* lg_online_start() runs under search_path pg_catalog, pg_temp (guard.c) */
Datum
lg_online_start(PG_FUNCTION_ARGS)
{
	return lg_guard_call(lg_online_start_body, fcinfo);
}

static Datum
lg_online_start_body(PG_FUNCTION_ARGS)
{
	const char *ext;
	LockBudget	b;
	StringInfoData sql;
	int			t;
	bool		has_views = false;
	List	   *locked = NIL;

	if (staging_exists())
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_SCHEMA),
				 errmsg("an online conversion is already in progress"),
				 errhint("See SELECT * FROM lane_google.online_status(); CALL lane_google.online_backfill() continues it, SELECT lane_google.online_abort() removes it.")));
	if (OidIsValid(get_namespace_oid(COMPAT, true)))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_SCHEMA),
				 errmsg("schema \"%s\" already exists", COMPAT),
				 errhint("online_start() creates it for the compatibility views; drop or rename it first.")));

	ext = ext_q();
	/* the backfill copies below the executor: not Citus tables (citus.c) */
	lg_citus_refuse_tables(lg_extension_schema(), "online_start()");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/*
	 * The triggers need SHARE ROW EXCLUSIVE on every legacy table: taken
	 * first, within the budget, so that a long transaction makes this fail
	 * rather than stall the writers queued behind it.  When views depend on
	 * the tables, the dependents' trial re-creates them over tables of the
	 * 2.x layout put in place by renames (catalog work, rolled back): that
	 * needs ACCESS EXCLUSIVE on the tables and views involved, for as long
	 * as online_start() takes (catalog work only, no row is read).
	 */
	budget_begin(&b, "online_start()");
	if (lg_dependents_relations(&has_views) != NIL && has_views)
	{
		(void) budget_lock_dependents(&b, &locked);
		budget_lock_legacy(&b, AccessExclusiveLock);
		(void) budget_lock_dependents(&b, &locked);
	}
	else
		budget_lock_legacy(&b, ShareRowExclusiveLock);
	budget_end(&b);

	/*
	 * The dependents the swap will carry across (foreign keys into the 11
	 * tables, views, registered references): what it could not carry is
	 * refused now, not after the backfill.  The swap plans again, so what is
	 * created in between is carried (or refused) too.
	 */
	lg_dependents_check("online_start() changed nothing.  Drop or change these objects first, or convert offline; SELECT * FROM lane_google.conversion_plan() lists what the update will do with every dependent object.");

	spi_run("CREATE SCHEMA " STAGING, SPI_OK_UTILITY);
	depend_on_extension(STAGING);
	spi_run("REVOKE ALL ON SCHEMA " STAGING " FROM PUBLIC", SPI_OK_UTILITY);
	spi_run("CREATE TABLE " STAGING ".state ("
			" phase pg_catalog.text NOT NULL"
			"   CHECK (phase OPERATOR(pg_catalog.=) ANY ('{copying,complete}'::pg_catalog.text[])),"
			" started_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),"
			" completed_at pg_catalog.timestamptz)", SPI_OK_UTILITY);
	spi_run("INSERT INTO " STAGING ".state (phase) VALUES ('copying')", SPI_OK_INSERT);
	spi_run("CREATE TABLE " STAGING ".progress ("
			" ord pg_catalog.int2 PRIMARY KEY,"
			" table_name pg_catalog.text NOT NULL UNIQUE,"
			" target_id pg_catalog.int8 NOT NULL,"
			" last_id pg_catalog.int8 NOT NULL,"
			" rows_estimated pg_catalog.int8 NOT NULL,"
			" rows_copied pg_catalog.int8 NOT NULL DEFAULT 0,"
			" batches pg_catalog.int8 NOT NULL DEFAULT 0,"
			" copied pg_catalog.bool NOT NULL DEFAULT false,"
			" changes_applied pg_catalog.int8 NOT NULL DEFAULT 0)", SPI_OK_UTILITY);
	/* no index: the capture trigger writes it below the executor */
	spi_run("CREATE TABLE " STAGING "." CHANGES " (tab pg_catalog.int2 NOT NULL, legacy_id pg_catalog.int8 NOT NULL)",
			SPI_OK_UTILITY);
	spi_run("CREATE SCHEMA " COMPAT, SPI_OK_UTILITY);
	depend_on_extension(COMPAT);

	initStringInfo(&sql);
	for (t = 0; t < LG_NTABLES; t++)
	{
		const char *tq = quote_identifier(lg_tables[t].name);

		create_shadow(t);

		/*
		 * What to copy: every id up to the largest one now, when no writer
		 * is in flight (we hold SHARE ROW EXCLUSIVE); later rows are logged.
		 */
		resetStringInfo(&sql);
		appendStringInfo(&sql,
						 "INSERT INTO " STAGING ".progress (ord, table_name, target_id, last_id, rows_estimated)"
						 " SELECT %d, %s, coalesce((SELECT pg_catalog.max(id) FROM %s.%s), 0),"
						 "        coalesce((SELECT pg_catalog.min(id) OPERATOR(pg_catalog.-) 1 FROM %s.%s), 0),"
						 "        greatest(c.reltuples, 0)::pg_catalog.int8 FROM pg_catalog.pg_class c"
						 "  WHERE c.oid OPERATOR(pg_catalog.=) '%u'::pg_catalog.oid",
						 t, quote_literal_cstr(lg_tables[t].name), ext, tq, ext, tq, legacy_relid(t));
		spi_run(sql.data, SPI_OK_INSERT);

		resetStringInfo(&sql);
		appendStringInfo(&sql,
						 "CREATE TRIGGER lane_google_online_capture AFTER INSERT OR UPDATE OR DELETE ON %s.%s"
						 " FOR EACH ROW EXECUTE FUNCTION %s._online_capture()", ext, tq, ext);
		spi_run(sql.data, SPI_OK_UTILITY);
		resetStringInfo(&sql);
		appendStringInfo(&sql,
						 "CREATE TRIGGER lane_google_online_truncate BEFORE TRUNCATE ON %s.%s"
						 " FOR EACH STATEMENT EXECUTE FUNCTION %s._online_capture()", ext, tq, ext);
		spi_run(sql.data, SPI_OK_UTILITY);

		/*
		 * Fired whatever session_replication_role says: a session writing
		 * as a replica (a logical replication apply, a bulk load without
		 * foreign key checks) is still writing the application's rows.
		 */
		resetStringInfo(&sql);
		appendStringInfo(&sql,
						 "ALTER TABLE %s.%s ENABLE ALWAYS TRIGGER lane_google_online_capture,"
						 " ENABLE ALWAYS TRIGGER lane_google_online_truncate", ext, tq);
		spi_run(sql.data, SPI_OK_UTILITY);

		/* expand: the 1.0 layout under a name that survives the swap */
		resetStringInfo(&sql);
		appendStringInfo(&sql, "CREATE VIEW " COMPAT ".%s" COMPAT_VIEW_OPTIONS " AS SELECT * FROM %s.%s",
						 tq, ext, tq);
		spi_run(sql.data, SPI_OK_UTILITY);
		resetStringInfo(&sql);
		appendStringInfo(&sql, "CREATE SEQUENCE " COMPAT ".%s AS pg_catalog.int4",
						 quote_identifier(psprintf("%s_id_seq", lg_tables[t].name)));
		spi_run(sql.data, SPI_OK_UTILITY);
	}
	SPI_finish();
	ereport(NOTICE,
			(errmsg("lane_google: online conversion started: 11 shadow tables in schema %s, changes captured from now on",
					STAGING),
			 errhint("CALL lane_google.online_backfill() copies the rows; then ALTER EXTENSION lane_google UPDATE TO '2.1' swaps.")));
	PG_RETURN_VOID();
}

/* --- the backfill --------------------------------------------------------- */

/*
 * The shadow's primary key, once its copy has ended (a shadow made by an
 * earlier build of online_start() may have it already).
 */
static void
build_primary_key(int t)
{
	Oid			relid = get_relname_relid(lg_tables[t].name, get_namespace_oid(STAGING, false));
	Relation	rel;
	Oid			pk;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table %s.%s is missing", STAGING, lg_tables[t].name)));
	rel = table_open(relid, AccessShareLock);
	pk = lg_RelationGetPrimaryKeyIndex(rel);
	table_close(rel, AccessShareLock);
	if (OidIsValid(pk))
		return;
	spi_run(psprintf("ALTER TABLE " STAGING ".%s ADD CONSTRAINT %s PRIMARY KEY (id)",
					 quote_identifier(lg_tables[t].name),
					 quote_identifier(psprintf("%s_pkey", lg_tables[t].name))),
			SPI_OK_UTILITY);

	/*
	 * The compatibility views' id is legacy_id::integer: old code's WHERE id
	 * = N is an index scan on this, not a scan of the table.  It belongs to
	 * the compatibility views, not to 2.1: drop_compat() drops it (a fresh
	 * 2.1 has no index on legacy_id).  Built by a sort with the primary key,
	 * not maintained row by row during the copy.
	 */
	spi_run(psprintf("CREATE INDEX %s ON " STAGING ".%s ((legacy_id::pg_catalog.int4))",
					 quote_identifier(psprintf("_lg_compat_%s_legacy_id", lg_tables[t].name)),
					 quote_identifier(lg_tables[t].name)),
			SPI_OK_UTILITY);
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
 * the module comment), so nothing there can conflict, and the shadow has
 * no index to maintain row by row.  The batch that ends a table's copy
 * builds its primary key, in the same transaction.
 */
static Datum lg_online_copy_batch_body(PG_FUNCTION_ARGS);

/* lg_online_copy_batch() runs under search_path pg_catalog, pg_temp (guard.c) */
Datum
lg_online_copy_batch(PG_FUNCTION_ARGS)
{
	return lg_guard_call(lg_online_copy_batch_body, fcinfo);
}

static Datum
lg_online_copy_batch_body(PG_FUNCTION_ARGS)
{
	int32		batch = PG_GETARG_INT32(0);
	int			t;
	int64		last_id,
				target_id,
				ninserted,
				hi;
	bool		isnull;
	bool		done;
	StringInfoData sql;
	const char *ext;
	const char *tq;
	Snapshot	snap;
	SPIPlanPtr	plan;
	Oid			argtypes[3] = {INT8OID, INT8OID, INT8OID};
	Datum		values[3];
	HeapTuple	row;
	TupleDesc	desc;

	if (batch < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch_rows must be at least 1")));
	require_staging();
	require_read_committed("online_backfill()");
	advisory_lock_wait();
	check_layouts();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT ord, last_id, target_id FROM " STAGING ".progress"
					" WHERE NOT copied ORDER BY ord LIMIT 1", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed");
	if (SPI_processed == 0)
	{
		SPI_finish();
		PG_RETURN_BOOL(false);
	}
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	t = DatumGetInt16(SPI_getbinval(row, desc, 1, &isnull));
	last_id = DatumGetInt64(SPI_getbinval(row, desc, 2, &isnull));
	target_id = DatumGetInt64(SPI_getbinval(row, desc, 3, &isnull));
	if (t < 0 || t >= LG_NTABLES)
		elog(ERROR, "bad table number %d in %s.progress", t, STAGING);
	ext = ext_q();
	tq = quote_identifier(lg_tables[t].name);

	/* a snapshot taken after the advisory lock: see the module comment */
	snap = RegisterSnapshot(GetLatestSnapshot());

	/* the batch's last id, or none when fewer than batch_rows are left */
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT l.id::pg_catalog.int8 FROM %s.%s l"
					 " WHERE l.id OPERATOR(pg_catalog.>) $1 AND l.id OPERATOR(pg_catalog.<=) $2"
					 " ORDER BY l.id OFFSET $3 LIMIT 1",
					 ext, tq);
	plan = SPI_prepare(sql.data, 3, argtypes);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", sql.data);
	values[0] = Int64GetDatum(last_id);
	values[1] = Int64GetDatum(target_id);
	values[2] = Int64GetDatum((int64) batch - 1);
	if (SPI_execute_snapshot(plan, values, NULL, snap, InvalidSnapshot,
							 true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_snapshot failed: %s", sql.data);
	done = (SPI_processed == 0);
	hi = done ? target_id :
		DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freeplan(plan);

	resetStringInfo(&sql);
	appendStringInfoString(&sql, copy_sql(t, "l.id OPERATOR(pg_catalog.>) $1 AND l.id OPERATOR(pg_catalog.<=) $2"));
	plan = SPI_prepare(sql.data, 2, argtypes);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", sql.data);
	values[1] = Int64GetDatum(hi);
	if (SPI_execute_snapshot(plan, values, NULL, snap, InvalidSnapshot,
							 false, true, 0) != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute_snapshot failed: %s", sql.data);
	ninserted = (int64) SPI_processed;
	SPI_freeplan(plan);
	UnregisterSnapshot(snap);

	resetStringInfo(&sql);
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

		build_primary_key(t);
		ereport(NOTICE,
				(errmsg("lane_google: online backfill: %s copied, " INT64_FORMAT " rows",
						lg_tables[t].name, copied)));
	}
	SPI_finish();
	PG_RETURN_BOOL(true);
}

/*
 * The keys the log's applications replace once the backfill's orphan check
 * has passed (lane_google_online.recheck exists from then on): the swap
 * checks their foreign keys again under its locks (recheck_orphans()).
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
 * Apply the change log: the entries visible in one snapshot, of every table
 * whose copy has ended.
 * For each key logged, the shadow row is replaced by the legacy row as that
 * snapshot sees it, or deleted when there is none.  Returns the number of
 * log entries applied.  The caller holds the advisory lock and is connected
 * to SPI.
 */
static int64
apply_changes(void)
{
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	SPIPlanPtr	plan;
	int64	  **keys = palloc0(sizeof(int64 *) * LG_NTABLES);
	int64	   *nkeys = palloc0(sizeof(int64) * LG_NTABLES);
	int64	   *nlogged = palloc0(sizeof(int64) * LG_NTABLES);
	int64		total = 0;
	uint64		i;
	int			t;
	const char *ext = ext_q();
	MemoryContext callcxt = CurrentMemoryContext;
	Oid			argtypes[1] = {INT8ARRAYOID};
	bool		recheck = OidIsValid(get_relname_relid(RECHECK, get_namespace_oid(STAGING, false)));

	/* a table still being copied keeps its entries: see the module comment */
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
		Datum	   *elems;
		ArrayType  *arr;
		int64		n = 0;
		int64		j;
		StringInfoData sql;
		const char *tq = quote_identifier(lg_tables[t].name);
		Datum		values[1];

		if (nkeys[t] == 0)
			continue;
		qsort(keys[t], nkeys[t], sizeof(int64), cmp_int64);
		elems = palloc(sizeof(Datum) * nkeys[t]);
		for (j = 0; j < nkeys[t]; j++)
			if (j == 0 || keys[t][j] != keys[t][j - 1])
				elems[n++] = Int64GetDatum(keys[t][j]);
		arr = construct_array(elems, (int) n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
		values[0] = PointerGetDatum(arr);
		if (recheck)
			remember_recheck(t, values[0]);

		initStringInfo(&sql);
		appendStringInfo(&sql,
						 "DELETE FROM " STAGING ".%s WHERE id OPERATOR(pg_catalog.=) ANY"
						 " (ARRAY(SELECT %s.legacy_uuid(%s, k) FROM pg_catalog.unnest($1) AS k))",
						 tq, ext, quote_literal_cstr(lg_tables[t].name));
		plan = SPI_prepare(sql.data, 1, argtypes);
		if (plan == NULL ||
			SPI_execute_snapshot(plan, values, NULL, snap, InvalidSnapshot, false, true, 0) != SPI_OK_DELETE)
			elog(ERROR, "SPI failed: %s", sql.data);

		resetStringInfo(&sql);
		appendStringInfoString(&sql, copy_sql(t, "l.id OPERATOR(pg_catalog.=) ANY ($1)"));
		plan = SPI_prepare(sql.data, 1, argtypes);
		if (plan == NULL ||
			SPI_execute_snapshot(plan, values, NULL, snap, InvalidSnapshot, false, true, 0) != SPI_OK_INSERT)
			elog(ERROR, "SPI failed: %s", sql.data);

		resetStringInfo(&sql);
		appendStringInfo(&sql,
						 "UPDATE " STAGING ".progress"
						 " SET changes_applied = changes_applied OPERATOR(pg_catalog.+) " INT64_FORMAT
						 " WHERE ord OPERATOR(pg_catalog.=) %d", nlogged[t], t);
		spi_run(sql.data, SPI_OK_UPDATE);
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

static int64
apply_until_small(int *passes)
{
	int64		total = 0;
	int64		prev = -1;
	int			i;

	for (i = 0; i < SWAP_MAX_PASSES; i++)
	{
		TimestampTz start = GetCurrentTimestamp();
		int64		n = apply_changes();

		/* only the backfill and the swap use it, under the advisory lock */
		recheck_orphans(true);
		spi_run("TRUNCATE " STAGING "." RECHECK, SPI_OK_UTILITY);
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
static Datum lg_online_apply_body(PG_FUNCTION_ARGS);

/* lg_online_apply() runs under search_path pg_catalog, pg_temp (guard.c) */
Datum
lg_online_apply(PG_FUNCTION_ARGS)
{
	return lg_guard_call(lg_online_apply_body, fcinfo);
}

static Datum
lg_online_apply_body(PG_FUNCTION_ARGS)
{
	int64		n;

	require_staging();
	require_read_committed("online_backfill()");
	advisory_lock_wait();
	check_layouts();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	n = apply_changes();
	SPI_finish();
	PG_RETURN_INT64(n);
}

/*
 * Unique constraints and indexes of the legacy table other than the
 * primary key, built on the shadow under the same names.
 */
static void
build_indexes(int t)
{
	StringInfoData sql;
	uint64		i;
	SPITupleTable *tt;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT CASE WHEN c.oid IS NOT NULL"
					 "   THEN pg_catalog.format('ALTER TABLE " STAGING ".%%I ADD CONSTRAINT %%I %%s', %s, c.conname, pg_catalog.pg_get_constraintdef(c.oid))"
					 "   ELSE pg_catalog.format('CREATE %%sINDEX %%I ON " STAGING ".%%I %%s', CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END,"
					 "        ic.relname, %s, pg_catalog.substring(pg_catalog.pg_get_indexdef(i.indexrelid), ' USING .*$'::pg_catalog.text)) END"
					 "  FROM pg_catalog.pg_index i"
					 "  JOIN pg_catalog.pg_class ic ON ic.oid OPERATOR(pg_catalog.=) i.indexrelid"
					 "  LEFT JOIN pg_catalog.pg_constraint c ON c.conindid OPERATOR(pg_catalog.=) i.indexrelid"
					 "       AND c.conrelid OPERATOR(pg_catalog.=) i.indrelid"
					 "       AND c.contype OPERATOR(pg_catalog.=) ANY ('{u,x}'::pg_catalog.\"char\"[])"
					 " WHERE i.indrelid OPERATOR(pg_catalog.=) '%u'::pg_catalog.oid AND NOT i.indisprimary"
					 " ORDER BY ic.relname",
					 quote_literal_cstr(lg_tables[t].name), quote_literal_cstr(lg_tables[t].name),
					 legacy_relid(t));
	if (SPI_execute(sql.data, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", sql.data);
	tt = SPI_tuptable;
	for (i = 0; i < tt->numvals; i++)
	{
		char	   *ddl = SPI_getvalue(tt->vals[i], tt->tupdesc, 1);

		spi_run(ddl, SPI_OK_UTILITY);
	}
}

/*
 * _online_finish(): once every table is copied, applies the log, checks the
 * legacy data has no orphan (as the offline update's pre-flight does),
 * builds the shadows' unique constraints and indexes, and marks the backfill
 * complete.  When already complete, applies the log.
 */
static Datum lg_online_finish_body(PG_FUNCTION_ARGS);

/* lg_online_finish() runs under search_path pg_catalog, pg_temp (guard.c) */
Datum
lg_online_finish(PG_FUNCTION_ARGS)
{
	return lg_guard_call(lg_online_finish_body, fcinfo);
}

static Datum
lg_online_finish_body(PG_FUNCTION_ARGS)
{
	int64		notcopied;
	char	   *phase;
	int			t;
	bool		isnull;
	Datum		d;

	require_staging();
	require_read_committed("online_backfill()");
	advisory_lock_wait();
	check_layouts();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	notcopied = spi_int8("SELECT pg_catalog.count(*) FROM " STAGING ".progress WHERE NOT copied", 0);
	if (notcopied > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the online backfill has " INT64_FORMAT " tables left to copy", notcopied),
				 errhint("CALL lane_google.online_backfill().")));
	if (SPI_execute("SELECT phase FROM " STAGING ".state", false, 0) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "%s.state must hold one row", STAGING);
	phase = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

	(void) apply_changes();
	if (strcmp(phase, "complete") == 0)
	{
		/*
		 * The keys applied since the orphan check, checked now and
		 * forgotten: a later change to them is logged, applied and
		 * remembered again, so the swap checks under its locks only what
		 * it applies itself and what came after this.
		 */
		recheck_orphans(false);
		spi_run("DELETE FROM " STAGING "." RECHECK, SPI_OK_DELETE);
		SPI_finish();
		PG_RETURN_VOID();
	}

	/*
	 * The offline update's rule: orphans are an error.  From this check on,
	 * the keys the log's applications replace are remembered, and the swap
	 * checks their foreign keys again (a session with session_replication_role
	 * = replica writes without its foreign keys).
	 */
	spi_run("CREATE TABLE " STAGING "." RECHECK " (tab pg_catalog.int2 NOT NULL, legacy_id pg_catalog.int8 NOT NULL)",
			SPI_OK_UTILITY);
	if (SPI_execute(psprintf("SELECT pg_catalog.string_agg(pg_catalog.format('%%s (%%s -> %%s): %%s rows, keys %%s',"
							 " v.constraint_name, v.table_name, v.referenced_table, v.rows,"
							 " pg_catalog.array_to_string(v.sample, ', ')), E'\\n')"
							 "  FROM %s.validate_fk_integrity(%s) AS v"
							 " WHERE v.problem OPERATOR(pg_catalog.=) 'orphan_rows'::pg_catalog.text",
							 ext_q(), quote_literal_cstr(get_namespace_name(lg_extension_schema()))),
					false, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "SPI_execute failed: orphan check");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("lane_google 1.1 data has rows whose parent row is missing"),
				 errdetail("%s", TextDatumGetCString(d)),
				 errhint("Delete or fix the orphan rows, then CALL lane_google.online_backfill() again.")));

	for (t = 0; t < LG_NTABLES; t++)
		build_indexes(t);

	/*
	 * Statistics: the log's applications probe the shadows by key, and
	 * after the swap they are the application's tables.
	 */
	for (t = 0; t < LG_NTABLES; t++)
		spi_run(psprintf("ANALYZE " STAGING ".%s", quote_identifier(lg_tables[t].name)),
				SPI_OK_UTILITY);
	spi_run("UPDATE " STAGING ".state SET phase = 'complete', completed_at = pg_catalog.clock_timestamp()",
			SPI_OK_UPDATE);
	SPI_finish();
	ereport(NOTICE,
			(errmsg("lane_google: online backfill complete"),
			 errhint("ALTER EXTENSION lane_google UPDATE TO '2.1' swaps the tables in; CALL lane_google.online_backfill() just before it keeps the swap short.")));
	PG_RETURN_VOID();
}

/* The staging schema and what is left in it (the shadows are moved or go) */
static void
drop_staging(void)
{
	Oid			nsp = get_namespace_oid(STAGING, false);
	int			t;

	for (t = 0; t < LG_NTABLES; t++)
		if (OidIsValid(get_relname_relid(lg_tables[t].name, nsp)))
			spi_run(psprintf("DROP TABLE " STAGING ".%s", quote_identifier(lg_tables[t].name)),
					SPI_OK_UTILITY);
	spi_run("DROP TABLE " STAGING ".state, " STAGING ".progress, " STAGING "." CHANGES, SPI_OK_UTILITY);
	spi_run("DROP TABLE IF EXISTS " STAGING "." RECHECK, SPI_OK_UTILITY);
	spi_run("DROP SCHEMA " STAGING, SPI_OK_UTILITY);
}

/* --- abort ---------------------------------------------------------------- */

/*
 * online_abort(): the capture triggers, the staging schema and the
 * compatibility views go; the legacy tables are as they were.
 */
static Datum lg_online_abort_body(PG_FUNCTION_ARGS);

/* lg_online_abort() runs under search_path pg_catalog, pg_temp (guard.c) */
Datum
lg_online_abort(PG_FUNCTION_ARGS)
{
	return lg_guard_call(lg_online_abort_body, fcinfo);
}

static Datum
lg_online_abort_body(PG_FUNCTION_ARGS)
{
	LockBudget	b;
	int			t;
	const char *ext = ext_q();

	require_staging();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	budget_begin(&b, "online_abort()");
	budget_lock(&b, InvalidOid, ExclusiveLock, "the online backfill's advisory lock");
	budget_lock_legacy(&b, ShareRowExclusiveLock);
	budget_end(&b);
	for (t = 0; t < LG_NTABLES; t++)
	{
		const char *tq = quote_identifier(lg_tables[t].name);

		spi_run(psprintf("DROP TRIGGER IF EXISTS lane_google_online_capture ON %s.%s", ext, tq),
				SPI_OK_UTILITY);
		spi_run(psprintf("DROP TRIGGER IF EXISTS lane_google_online_truncate ON %s.%s", ext, tq),
				SPI_OK_UTILITY);
	}
	drop_staging();
	if (OidIsValid(get_namespace_oid(COMPAT, true)))
	{
		for (t = 0; t < LG_NTABLES; t++)
		{
			spi_run(psprintf("DROP VIEW IF EXISTS " COMPAT ".%s", quote_identifier(lg_tables[t].name)),
					SPI_OK_UTILITY);
			spi_run(psprintf("DROP SEQUENCE IF EXISTS " COMPAT ".%s",
							 quote_identifier(psprintf("%s_id_seq", lg_tables[t].name))),
					SPI_OK_UTILITY);
		}
		spi_run("DROP SCHEMA " COMPAT, SPI_OK_UTILITY);
	}
	SPI_finish();
	PG_RETURN_VOID();
}

/* --- the swap ------------------------------------------------------------- */

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
static void
recheck_orphans(bool swap)
{
	const char *ext = ext_q();
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

/*
 * The GRANT statements that give again what is granted on the compatibility
 * view of table t to roles other than its owner (none if it is missing).
 */
static List *
compat_view_grants(int t)
{
	Oid			nsp = get_namespace_oid(COMPAT, true);
	Oid			view = OidIsValid(nsp) ? get_relname_relid(lg_tables[t].name, nsp) : InvalidOid;
	List	   *grants = NIL;
	uint64		i;

	if (!OidIsValid(view))
		return NIL;
	if (SPI_execute(psprintf("SELECT pg_catalog.format('GRANT %%s ON " COMPAT ".%%I TO %%s%%s',"
							 "        a.privilege_type, c.relname,"
							 "        CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'PUBLIC'"
							 "             ELSE pg_catalog.quote_ident(r.rolname::pg_catalog.text) END,"
							 "        CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)"
							 "  FROM pg_catalog.pg_class c"
							 " CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) a"
							 "  LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) a.grantee"
							 " WHERE c.oid OPERATOR(pg_catalog.=) %u::pg_catalog.oid"
							 "   AND a.grantee OPERATOR(pg_catalog.<>) c.relowner"
							 " ORDER BY 1", view),
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: the grants of view %s.%s", COMPAT, lg_tables[t].name);
	for (i = 0; i < SPI_processed; i++)
		grants = lappend(grants, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
	return grants;
}

/*
 * The compatibility view of table t over its 2.x table: the 1.0 columns,
 * the id and foreign keys as the legacy ids.  The other columns are the
 * table's own, so the view is automatically updatable: UPDATE and DELETE go
 * to the table as on the table itself (a concurrently updated row is
 * re-read, not overwritten); the id and foreign keys are not updatable
 * through it.  Inserts are numbered by the view's sequence and written by
 * _compat_write().  Created inside the update script, so detached from the
 * extension: it is the DBA's, until drop_compat().  Its reads and writes,
 * and _compat_write()'s INSERT (plpgsql, not SECURITY DEFINER), are checked
 * as the role that uses it: its privileges on the 2.x tables (the parents'
 * too: the foreign keys read their legacy_id) and their policies.
 */
static void
create_compat_view(int t)
{
	const char *ext = ext_q();
	const char *tq = quote_identifier(lg_tables[t].name);
	const char *seq = quote_identifier(psprintf("%s_id_seq", lg_tables[t].name));
	Relation	rel = table_open(get_relname_relid(lg_tables[t].name, lg_extension_schema()),
								 AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	StringInfoData sql;
	int			i;

	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE VIEW " COMPAT ".%s" COMPAT_VIEW_OPTIONS " AS SELECT ", tq);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		const char *name = NameStr(att->attname);
		const char *parent = fk_parent(t, name);

		if (att->attisdropped || strcmp(name, "legacy_id") == 0)
			continue;
		if (strcmp(name, "id") == 0)
			appendStringInfoString(&sql, "x.legacy_id::pg_catalog.int4 AS id, ");
		else if (parent)
			appendStringInfo(&sql,
							 "(SELECT p.legacy_id FROM %s.%s p WHERE p.id OPERATOR(pg_catalog.=) x.%s)::pg_catalog.int4 AS %s, ",
							 ext, quote_identifier(parent), quote_identifier(name),
							 quote_identifier(name));
		else
			appendStringInfo(&sql, "x.%s, ", quote_identifier(name));
	}
	sql.len -= 2;
	sql.data[sql.len] = '\0';
	appendStringInfo(&sql, " FROM %s.%s x", ext, tq);
	table_close(rel, AccessShareLock);
	spi_run(sql.data, SPI_OK_UTILITY);

	/* inserts get the 2.x table's defaults, and the next legacy id */
	spi_run(psprintf("ALTER VIEW " COMPAT ".%s ALTER COLUMN id SET DEFAULT pg_catalog.nextval('" COMPAT ".%s'::pg_catalog.regclass)",
					 tq, seq), SPI_OK_UTILITY);
	if (SPI_execute(psprintf("SELECT pg_catalog.format('ALTER VIEW " COMPAT ".%%I ALTER COLUMN %%I SET DEFAULT %%s', %s, a.attname,"
							 " pg_catalog.pg_get_expr(d.adbin, d.adrelid))"
							 "  FROM pg_catalog.pg_attrdef d JOIN pg_catalog.pg_attribute a"
							 "    ON a.attrelid OPERATOR(pg_catalog.=) d.adrelid AND a.attnum OPERATOR(pg_catalog.=) d.adnum"
							 " WHERE d.adrelid OPERATOR(pg_catalog.=) '%s.%s'::pg_catalog.regclass"
							 "   AND a.attname OPERATOR(pg_catalog.<>) 'id'::pg_catalog.name",
							 quote_literal_cstr(lg_tables[t].name), ext, tq),
					 false, 0) == SPI_OK_SELECT)
	{
		SPITupleTable *tt = SPI_tuptable;
		uint64		j;

		for (j = 0; j < tt->numvals; j++)
			spi_run(SPI_getvalue(tt->vals[j], tt->tupdesc, 1), SPI_OK_UTILITY);
	}
	spi_run(psprintf("CREATE TRIGGER compat_insert INSTEAD OF INSERT ON " COMPAT ".%s"
					 " FOR EACH ROW EXECUTE FUNCTION %s._compat_write()", tq, ext), SPI_OK_UTILITY);
	spi_run(psprintf("ALTER EXTENSION lane_google DROP VIEW " COMPAT ".%s", tq), SPI_OK_UTILITY);
}

/*
 * _online_swap(): the first step of lane_google--1.1--2.1.sql.  Without
 * online state, returns false and the script converts offline.  With a
 * complete backfill: applies the log until little is left (see
 * apply_until_small()), locks (within lane_google.swap_lock_timeout),
 * applies the rest of the log, replaces the legacy tables by the shadows and the
 * compatibility views by views over them; returns true, and the script's
 * offline conversion sees UUID tables and skips.
 */
static Datum lg_online_swap_body(PG_FUNCTION_ARGS);

/* lg_online_swap() runs under search_path pg_catalog, pg_temp (guard.c) */
Datum
lg_online_swap(PG_FUNCTION_ARGS)
{
	return lg_guard_call(lg_online_swap_body, fcinfo);
}

static Datum
lg_online_swap_body(PG_FUNCTION_ARGS)
{
	LockBudget	b;
	const char *ext = ext_q();
	char	   *phase;
	int64		applied;
	long		lock_ms;
	int64		next_ids[LG_NTABLES];
	List	   *view_grants[LG_NTABLES];
	StringInfoData sql;
	int			t;
	int			nestlevel;
	TimestampTz t0;
	TimestampTz t1;
	long		plan_ms;
	long		apply_ms;
	long		recheck_ms;
	long		carry_ms;
	int64		pre_applied;
	int			pre_passes = 0;
	long		pre_ms;
	List	   *locked = NIL;
	int			g;

	if (!creating_extension)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("_online_swap() runs only inside ALTER EXTENSION lane_google UPDATE")));
	if (!staging_exists())
		PG_RETURN_BOOL(false);

	require_read_committed("the online swap");

	/*
	 * Extension scripts run with client_min_messages raised to WARNING; the
	 * swap's report is worth seeing (as the offline conversion's is).
	 */
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("client_min_messages",
							 GetConfigOptionResetString("client_min_messages"),
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT phase FROM " STAGING ".state", false, 0) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "%s.state must hold one row", STAGING);
	phase = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (strcmp(phase, "complete") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("an online conversion is in progress and its backfill is not complete"),
				 errdetail("Nothing was changed."),
				 errhint("CALL lane_google.online_backfill() to finish it, or SELECT lane_google.online_abort() to convert offline.")));

	/*
	 * Every lock within the budget: the backfill's advisory lock, the
	 * compatibility views (their readers lock them before the tables), the
	 * legacy tables.  Between the advisory lock and the others, with no lock
	 * a client waits for, the log is applied until little is left and the
	 * foreign keys of what was applied are checked (and forgotten, as
	 * online_backfill() does): under the table locks only what the writers
	 * logged meanwhile is applied and checked, an amount that depends on
	 * the write rate, not on the tables' size.  That time is not in the
	 * budget.
	 */
	budget_begin(&b, "the online swap");
	budget_lock(&b, InvalidOid, ExclusiveLock, "the online backfill's advisory lock");
	budget_pause(&b);
	t0 = GetCurrentTimestamp();
	pre_applied = apply_until_small(&pre_passes);
	swap_prelock();
	pre_applied += apply_until_small(&pre_passes);
	pre_ms = (long) ((GetCurrentTimestamp() - t0) / 1000);
	budget_resume(&b);
	for (t = 0; t < LG_NTABLES; t++)
	{
		Oid			v = get_relname_relid(lg_tables[t].name, get_namespace_oid(COMPAT, true));

		if (OidIsValid(v))
			budget_lock(&b, v, AccessExclusiveLock,
						psprintf("view %s.%s", COMPAT, lg_tables[t].name));
	}
	(void) budget_lock_dependents(&b, &locked);
	budget_lock_legacy(&b, AccessExclusiveLock);
	(void) budget_lock_dependents(&b, &locked);
	lock_ms = budget_elapsed_ms(&b);
	budget_end(&b);
	t0 = GetCurrentTimestamp();
	/* the tables whose log had nothing to apply were not checked yet */
	check_layouts();

	/*
	 * The dependents, planned again (those created since online_start() are
	 * seen): refused, naming them, before anything changes; the views tried
	 * over the 2.x layout.  The script's _lg_dependents_attach() re-creates
	 * them at its end.
	 */
	lg_dependents_swap_detach();
	plan_ms = (long) ((GetCurrentTimestamp() - t0) / 1000);
	t1 = GetCurrentTimestamp();
	applied = apply_changes();
	apply_ms = (long) ((GetCurrentTimestamp() - t1) / 1000);
	t1 = GetCurrentTimestamp();
	recheck_orphans(true);
	recheck_ms = (long) ((GetCurrentTimestamp() - t1) / 1000);

	/* the next legacy id of each table, for inserts through the views */
	for (t = 0; t < LG_NTABLES; t++)
	{
		const char *tq = quote_identifier(lg_tables[t].name);

		next_ids[t] = spi_int8(psprintf("SELECT greatest((SELECT CASE WHEN is_called THEN last_value OPERATOR(pg_catalog.+) 1"
										"  ELSE last_value END FROM %s.%s),"
										" (SELECT coalesce(pg_catalog.max(id), 0) OPERATOR(pg_catalog.+) 1 FROM %s.%s))",
										ext, quote_identifier(psprintf("%s_id_seq", lg_tables[t].name)),
										ext, tq), 1);
	}

	/*
	 * out: the views over the legacy tables, then the legacy tables.  What
	 * the DBA granted on the views (the application's role, as the README
	 * says) is granted again on their successors.
	 */
	for (t = 0; t < LG_NTABLES; t++)
	{
		view_grants[t] = compat_view_grants(t);
		spi_run(psprintf("DROP VIEW IF EXISTS " COMPAT ".%s", quote_identifier(lg_tables[t].name)),
				SPI_OK_UTILITY);
	}

	/*
	 * The carried views and foreign keys dropped, each referencing column
	 * changed to uuid in place by legacy_uuid(): that rewrites the
	 * referencing table, under the locks, in time that grows with it.
	 */
	t1 = GetCurrentTimestamp();
	lg_dependents_swap_convert();
	carry_ms = (long) ((GetCurrentTimestamp() - t1) / 1000);
	initStringInfo(&sql);
	for (t = 0; t < LG_NTABLES; t++)
	{
		const char *tq = quote_identifier(lg_tables[t].name);

		spi_run(psprintf("ALTER EXTENSION lane_google DROP SEQUENCE %s.%s", ext,
						 quote_identifier(psprintf("%s_id_seq", lg_tables[t].name))),
				SPI_OK_UTILITY);
		spi_run(psprintf("ALTER EXTENSION lane_google DROP TABLE %s.%s", ext, tq), SPI_OK_UTILITY);
		appendStringInfo(&sql, "%s%s.%s", t ? ", " : "DROP TABLE ", ext, tq);
	}
	spi_run(sql.data, SPI_OK_UTILITY);

	/* in: the shadows, as extension members */
	for (t = 0; t < LG_NTABLES; t++)
	{
		const char *tq = quote_identifier(lg_tables[t].name);

		spi_run(psprintf("ALTER TABLE " STAGING ".%s SET SCHEMA %s", tq, ext), SPI_OK_UTILITY);
		spi_run(psprintf("ALTER EXTENSION lane_google ADD TABLE %s.%s", ext, tq), SPI_OK_UTILITY);
	}
	drop_staging();

	/* the compatibility views, now over the 2.x tables */
	if (OidIsValid(get_namespace_oid(COMPAT, true)))
	{
		for (t = 0; t < LG_NTABLES; t++)
		{
			spi_run(psprintf("SELECT pg_catalog.setval(%s::pg_catalog.regclass, " INT64_FORMAT ", false)",
							 quote_literal_cstr(psprintf(COMPAT ".%s",
														 quote_identifier(psprintf("%s_id_seq", lg_tables[t].name)))),
							 next_ids[t]),
					SPI_OK_SELECT);
			create_compat_view(t);
			for (g = 0; g < list_length(view_grants[t]); g++)
				spi_run((const char *) list_nth(view_grants[t], g), SPI_OK_UTILITY);
		}
	}
	SPI_finish();

	ereport(NOTICE,
			(errmsg("lane_google: online swap: " INT64_FORMAT " change%s applied before the locks in %d pass%s and %ld ms, locks taken in %ld ms, " INT64_FORMAT " change%s applied under them in %ld ms",
					pre_applied, pre_applied == 1 ? "" : "s", pre_passes, pre_passes == 1 ? "" : "es",
					pre_ms, lock_ms, applied, applied == 1 ? "" : "s",
					(long) ((GetCurrentTimestamp() - t0) / 1000)),
			 errdetail("Under the locks: dependents planned in %ld ms, changes applied in %ld ms, their foreign keys checked in %ld ms, dependents converted in %ld ms.",
					   plan_ms, apply_ms, recheck_ms, carry_ms)));
	AtEOXact_GUC(true, nestlevel);
	PG_RETURN_BOOL(true);
}
