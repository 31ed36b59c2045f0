/*-------------------------------------------------------------------------
 *
 * online.c
 *	  Entry file of the online conversion (src/online/): registers its
 *	  setting, lane_google.swap_lock_timeout, and holds the small helpers
 *	  its files share.  The design of the whole subsystem is below; the
 *	  files of this folder, one capability each, are listed in
 *	  online_int.h.
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

#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "lane_google.h"
#include "online_int.h"

int			lg_swap_lock_timeout_ms = 1000;

/* Module start-up (lane_google.c): the subsystem's setting */
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

/*
 * The version whose update swaps an online conversion in: 2.N from 1.N
 * (1.1 -> 2.1, 1.2 -> 2.2), for the hints that name the command.
 */
const char *
lg_online_swap_version(void)
{
	char	   *version = lg_extension_version();

	return psprintf("2%s", strchr(version, '.') ? strchr(version, '.') : ".1");
}

/* The extension's schema, quoted for SQL text */
const char *
lg_online_ext_q(void)
{
	return quote_identifier(get_namespace_name(lg_extension_schema()));
}

/* Whether an online conversion is in progress: its staging schema exists */
bool
lg_online_staging_exists(void)
{
	return OidIsValid(get_namespace_oid(STAGING, true));
}

/* An online conversion is in progress, or an error */
void
lg_online_require_staging(void)
{
	if (!lg_online_staging_exists())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no online conversion is in progress"),
				 errhint("Start one with SELECT lane_google.online_start().")));
}

/*
 * The transaction is at READ COMMITTED, or an error naming what: each step
 * takes snapshots of its own after the advisory lock (see above)
 */
void
lg_online_require_read_committed(const char *what)
{
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("%s must run at the READ COMMITTED isolation level", what),
				 errhint("SET default_transaction_isolation = 'read committed' for the session.")));
}

/* Run one statement through SPI; an error unless it returns ret */
void
lg_online_spi_run(const char *sql, int ret)
{
	int			rc = SPI_execute(sql, false, 0);

	if (rc != ret)
		elog(ERROR, "SPI_execute failed (%d): %s", rc, sql);
}

/* A single int8 (or NULL: defval) from a one-row query */
int64
lg_online_spi_int8(const char *sql, int64 defval)
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

/* The legacy table t in the extension's schema, or an error */
Oid
lg_online_legacy_relid(int t)
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
const char *
lg_online_fk_parent(int t, const char *column)
{
	int			i;

	for (i = 0; i < lg_tables[t].nfks; i++)
		if (strcmp(lg_tables[t].fks[i].column, column) == 0)
			return lg_tables[t].fks[i].parent;
	return NULL;
}

/* The phase of the backfill (copying, complete): the one row of its state */
char *
lg_online_phase(void)
{
	if (SPI_execute("SELECT phase FROM " STAGING ".state", false, 0) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "%s.state must hold one row", STAGING);
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}
