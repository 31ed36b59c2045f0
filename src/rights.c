/*-------------------------------------------------------------------------
 *
 * rights.c
 *	  Whose rights another role's code runs with.  The extension's
 *	  conversions read sources and write targets that other roles own; what
 *	  those objects make the executor run (a view's functions, a trigger, a
 *	  cast) must run with its owner's rights, as PostgreSQL's maintenance
 *	  commands run it, or be refused by name: never with the caller's.
 *
 *	  Used by the conversion engine (convert/) and by the carrying of
 *	  dependents (dependents/); imports nothing of either.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_proc.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/rel.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "lane_google.h"

/*
 * Become the owner of a source, as PostgreSQL's maintenance commands do
 * before they run a table's code (REFRESH MATERIALIZED VIEW, ANALYZE, index
 * builds): its user id, in a security-restricted operation, its setting
 * changes undone at lg_end_as_owner(), with the search_path PostgreSQL 17's
 * maintenance commands use.  Whatever the source makes the executor run (a
 * view's functions, a foreign table's wrapper, a cast of its column types)
 * then runs with its owner's rights, never the caller's.
 */
void
lg_begin_as_owner(Oid owner, LgAsOwner *save)
{
	GetUserIdAndSecContext(&save->userid, &save->sec_context);
	SetUserIdAndSecContext(owner,
						   save->sec_context | SECURITY_RESTRICTED_OPERATION);
	save->nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
}

void
lg_end_as_owner(LgAsOwner *save)
{
	AtEOXact_GUC(false, save->nestlevel);
	SetUserIdAndSecContext(save->userid, save->sec_context);
}

/* Would this trigger fire, by its ENABLE setting and session_replication_role? */
bool
lg_trigger_fires(const Trigger *tg)
{
	if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA)
		return tg->tgenabled == TRIGGER_FIRES_ON_REPLICA ||
			tg->tgenabled == TRIGGER_FIRES_ALWAYS;
	return tg->tgenabled == TRIGGER_FIRES_ON_ORIGIN ||
		tg->tgenabled == TRIGGER_FIRES_ALWAYS;
}


/*
 * A trigger function of a role that does not have the caller's privileges,
 * not SECURITY DEFINER, would run with the caller's rights when the
 * extension's writes (events: TRIGGER_TYPE_INSERT, _UPDATE) fire it: refused,
 * by name.  PostgreSQL's own INSERT or COPY by the caller would run it so;
 * but the caller of convert_legacy() asked for a conversion, not for
 * running the code a role with TRIGGER on a table added to it.  A trigger
 * whose function is the caller's own, a superuser's (the extension's), or
 * SECURITY DEFINER fires.  what: the writes, for the message.
 */
void
lg_check_trigger_rights(Relation rel, const char *qname, int16 events,
						const char *what)
{
	TriggerDesc *td = rel->trigdesc;
	Oid			caller = GetUserId();
	int			j;

	for (j = 0; td && j < td->numtriggers; j++)
	{
		Trigger    *tg = &td->triggers[j];
		HeapTuple	tup;
		Form_pg_proc proc;
		Oid			owner;
		bool		definer;

		if ((tg->tgtype & events) == 0 || !lg_trigger_fires(tg) ||
			RI_FKey_trigger_type(tg->tgfoid) != RI_TRIGGER_NONE)
			continue;
		tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(tg->tgfoid));
		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for function %u", tg->tgfoid);
		proc = (Form_pg_proc) GETSTRUCT(tup);
		owner = proc->proowner;
		definer = proc->prosecdef;
		ReleaseSysCache(tup);
		if (definer || has_privs_of_role(owner, caller))
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("trigger \"%s\" on table %s would run function %s of role %s with the rights of role %s",
						tg->tgname, qname, format_procedure(tg->tgfoid),
						quote_identifier(GetUserNameFromId(owner, false)),
						quote_identifier(GetUserNameFromId(caller, false))),
				 errdetail("%s fire the table's triggers with the caller's rights; the function is not SECURITY DEFINER, and its owner does not have the caller's privileges.",
						   what),
				 errhint("Nothing was converted.  Disable the trigger for the conversion (ALTER TABLE %s DISABLE TRIGGER %s), or have a role trusted with your rights own its function.",
						 qname, quote_identifier(tg->tgname))));
	}
}
