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
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
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

/*
 * _lg_carry_grants(from_fn, to_fn): an update script that replaces a
 * function by one of another signature (2.1 <-> 2.2 convert_legacy and
 * convert_legacy_problems) carries the EXECUTE privileges users granted on
 * the old one to the new one, before it drops the old one.
 *
 * A GRANT inside an extension script is recorded as the extension's own
 * initial privilege (pg_init_privs), which pg_dump never dumps: a restore
 * would lose it.  So the grants are made as the user's own, outside the
 * extension's initial privileges, as if they had been run after the update:
 * pg_init_privs of the new function stays the one a fresh CREATE EXTENSION
 * records, proacl and pg_shdepend hold the user's grants, and pg_dump dumps
 * them.  Grants are re-made by the updating superuser, as the owner.
 */
PG_FUNCTION_INFO_V1(lg_carry_grants);

Datum
lg_carry_grants(PG_FUNCTION_ARGS)
{
	Oid			from_fn = PG_GETARG_OID(0);
	Oid			to_fn = PG_GETARG_OID(1);
	HeapTuple	tup;
	Datum		acl_datum;
	bool		isnull;
	Oid			owner;
	Acl		   *acl;
	AclItem    *items;
	bool		save_creating = creating_extension;
	int			i;

	if (!creating_extension)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s can only be called from an extension script",
						"_lg_carry_grants()")));

	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(from_fn));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for function %u", from_fn);
	owner = ((Form_pg_proc) GETSTRUCT(tup))->proowner;
	acl_datum = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_proacl, &isnull);
	acl = isnull ? acldefault(OBJECT_FUNCTION, owner)
		: DatumGetAclPCopy(acl_datum);
	ReleaseSysCache(tup);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* not the extension's: recordExtensionInitPriv() records nothing */
	creating_extension = false;
	PG_TRY();
	{
		items = ACL_DAT(acl);
		for (i = 0; i < ACL_NUM(acl); i++)
		{
			AclMode		privs = ACLITEM_GET_PRIVS(items[i]);
			AclMode		goptions = ACLITEM_GET_GOPTIONS(items[i]);
			Oid			grantee = items[i].ai_grantee;
			char	   *sql;

			if (grantee == owner || !(privs & ACL_EXECUTE))
				continue;
			sql = psprintf("GRANT EXECUTE ON FUNCTION %s TO %s%s",
						   format_procedure_qualified(to_fn),
						   grantee == ACL_ID_PUBLIC ? "PUBLIC"
						   : quote_identifier(GetUserNameFromId(grantee, false)),
						   (goptions & ACL_EXECUTE) ? " WITH GRANT OPTION" : "");
			if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
				elog(ERROR, "SPI_execute failed: %s", sql);
		}
	}
	PG_FINALLY();
	{
		creating_extension = save_creating;
	}
	PG_END_TRY();

	SPI_finish();
	PG_RETURN_VOID();
}
