/*-------------------------------------------------------------------------
 *
 * guard.c
 *	  What every SQL-callable entry point runs under: the search_path it
 *	  pins (below), the messages an update's step shows, and the error of
 *	  an internal subtransaction caught.
 *
 * The extension's functions run as their caller, usually a superuser, and
 * build and run SQL (SPI), create and alter objects by name.  Whatever the
 * caller's search_path holds, none of those names may resolve to an object
 * someone else planted: an operator =(oid, integer) in public is an exact
 * match for "c.oid = 16384" where pg_catalog only has =(oid, oid), a
 * function public.format(text, text) beats pg_catalog.format(text, VARIADIC
 * "any"), a domain public.text captures "::text" when public comes first.
 * So, as PostgreSQL 17's RestrictSearchPath() does for its maintenance
 * commands, each entry point pins search_path to "pg_catalog, pg_temp" for
 * its duration: pg_catalog first, the session's temporary schema last (it is
 * never searched for functions or operators), nothing else.  The
 * extension's own objects are named with its schema in every statement.
 *
 * The statements are qualified too (operators as OPERATOR(pg_catalog.=),
 * functions and types with pg_catalog), so that neither layer alone is what
 * stands between a planted object and the caller's rights.
 *
 * A GUC nest level cannot span a transaction boundary: a procedure that
 * commits (online_backfill()) calls entry points each of which pins and
 * restores within its own transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "utils/guc.h"
#include "utils/resowner.h"

#include "lane_google.h"

/*
 * Pin search_path for the caller's current call; returns the GUC nest level
 * that lg_guard_end() restores.  On an error, transaction (or
 * subtransaction) abort restores it.
 */
int
lg_guard_begin(void)
{
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("search_path", LG_SAFE_SEARCH_PATH,
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nestlevel;
}

/*
 * Restore what lg_guard_begin() pinned.  isCommit = true, as for a
 * function's SET clause: a SET LOCAL of another setting made meanwhile
 * (none of ours does) stays for the transaction; the saved search_path is
 * restored either way.
 */
void
lg_guard_end(int nestlevel)
{
	AtEOXact_GUC(true, nestlevel);
}

/* Call fn(fcinfo) under the pinned search_path */
Datum
lg_guard_call(PGFunction fn, FunctionCallInfo fcinfo)
{
	int			nestlevel = lg_guard_begin();
	Datum		result;

	result = fn(fcinfo);
	lg_guard_end(nestlevel);
	return result;
}

/* See lane_google.h */
int
lg_session_messages_begin(void)
{
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("client_min_messages",
							 GetConfigOptionResetString("client_min_messages"),
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	return nestlevel;
}

/* See lane_google.h */
ErrorData *
lg_subxact_catch(MemoryContext cxt, ResourceOwner owner)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	FlushErrorState();
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return edata;
}
