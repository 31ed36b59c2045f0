/*-------------------------------------------------------------------------
 *
 * prepare.c
 *	  Everything a conversion settles before anything is read or written:
 *	  the caller's privileges, the root namespace, the sources and targets
 *	  resolved and locked, whose rights each source is read with, no
 *	  row-level security and no BEFORE ROW trigger in the way, Citus
 *	  tables served through the executor (stage.c), and the layouts (layout.c) -- every problem
 *	  of every table said in one error, nothing converted.
 *
 * Invariants: privileges before locks (a caller who may not read every
 * source and write every target waits for no lock); locks in the tables'
 * fixed order: the namespace, the sources (SHARE, with their partitions and
 * inheritance children), the targets (SHARE ROW EXCLUSIVE); a name is
 * resolved again once its lock is granted.  A source's code (a view's
 * functions, a cast of its column types, a foreign data wrapper) never runs
 * with rights its owner does not have, nor the owner's with rights the
 * caller did not lend.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/dependency.h"
#include "catalog/pg_proc.h"
#include "commands/extension.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
#include "utils/syscache.h"

#include "convert/convert_int.h"

/* USAGE on a schema, in the words of every version since 13 */
static AclResult
object_aclcheck_namespace(Oid nspid)
{
	return object_aclcheck(NamespaceRelationId, nspid, GetUserId(), ACL_USAGE);
}

/*
 * Called by RangeVarGetRelidExtended() before it locks the relation a name
 * resolves to, and again whenever the name comes to mean another relation
 * while it waited (dropped, renamed, re-created): the caller locks only what
 * it may use, as LOCK TABLE's callback checks.
 */
static void
check_privilege_callback(const RangeVar *rv, Oid relid, Oid oldrelid,
						 void *arg)
{
	AclMode		mode = *(AclMode *) arg;
	char		relkind;
	AclResult	acl;

	if (!OidIsValid(relid))
		return;					/* missing: the caller says so */
	relkind = get_rel_relkind(relid);
	if (relkind == '\0')
		return;					/* dropped meanwhile: resolved again */
	acl = pg_class_aclcheck(relid, GetUserId(), mode);
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, get_relkind_objtype(relkind), rv->relname);
}

/*
 * The relation schema.name means, with the privilege checked, locked in the
 * given mode (NoLock: not locked) the way PostgreSQL's own commands lock
 * what they name: once the lock is granted, the name is resolved again, and
 * if it now means another relation (the one waited for was dropped or
 * renamed meanwhile) that one is checked and locked instead.  InvalidOid if
 * none.
 */
static Oid
resolve_relation(Oid schema, const char *name, LOCKMODE lockmode,
				 AclMode privilege)
{
	RangeVar   *rv = makeRangeVar(get_namespace_name(schema), pstrdup(name), -1);

	return RangeVarGetRelidExtended(rv, lockmode, RVR_MISSING_OK,
									check_privilege_callback, &privilege);
}

/*
 * Privileges before locks: a caller who may not read every source and
 * write every target waits for no lock, so never queues ahead of others.
 */
static void
check_privileges(ConvertState *st)
{
	int			i;
	int			k;

	if (!st->upgrade)
		for (k = 0; k < st->nsrc_schemas; k++)
		{
			AclResult	acl = object_aclcheck_namespace(st->src_schemas[k]);

			if (acl != ACLCHECK_OK)
				aclcheck_error(acl, OBJECT_SCHEMA,
							   get_namespace_name(st->src_schemas[k]));
		}
	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];

		/* the first schema that holds a relation of the name is its source */
		for (k = 0; k < st->nsrc_schemas; k++)
			if (OidIsValid(resolve_relation(st->src_schemas[k],
											lg_conv_source_name(st, ts->spec),
											NoLock, ACL_SELECT)))
				break;
		(void) resolve_relation(st->dst_schema, ts->spec->name,
								NoLock, ACL_INSERT);
	}
}

/* "a, b, c": the schemas searched, in order */
static char *
source_schema_list(ConvertState *st)
{
	StringInfoData buf;
	int			k;

	initStringInfo(&buf);
	for (k = 0; k < st->nsrc_schemas; k++)
		appendStringInfo(&buf, "%s%s", k ? ", " : "",
						 quote_identifier(get_namespace_name(st->src_schemas[k])));
	return buf.data;
}

/* The root namespace, which must not change under us, and each table's */
static void
read_namespace(ConvertState *st)
{
	Oid			cfg;
	int			i;

	/* set_legacy_namespace takes EXCLUSIVE */
	cfg = get_relname_relid("legacy_config", st->dst_schema);
	if (OidIsValid(cfg))
		LockRelationOid(cfg, ShareLock);
	lg_root_namespace(&st->root);
	st->hasher = lg_hasher_create();
	for (i = 0; i < LG_NTABLES; i++)
		lg_table_namespace(st->hasher, &st->root, lg_tables[i].name,
						   &st->tables[i].ns);
}

/*
 * Sources, SHARE (readers go on, writers wait: their rows would be lost):
 * a table, a partitioned table or a table with inheritance children (each
 * partition and child locked too), a view, a materialized view, a foreign
 * table.  Everything but a plain table without children is read through
 * the executor.
 */
static void
lock_sources(ConvertState *st, StringInfo problems)
{
	int			i;
	int			found = 0;

	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];
		char	   *sname = lg_conv_source_name(st, ts->spec);
		int			k;

		/* the first schema that holds a relation of the name, in order */
		ts->src_relid = InvalidOid;
		for (k = 0; k < st->nsrc_schemas && !OidIsValid(ts->src_relid); k++)
		{
			ts->src_relid = resolve_relation(st->src_schemas[k], sname,
											 ShareLock, ACL_SELECT);
			if (OidIsValid(ts->src_relid))
				ts->src_schema = st->src_schemas[k];
		}
		if (OidIsValid(ts->src_relid) && ts->src_schema != st->src_schema)
			appendStringInfo(&ts->note, "%sread from %s",
							 ts->note.len ? "; " : "",
							 lg_conv_qualified(ts->src_schema, sname));
		if (!OidIsValid(ts->src_relid))
		{
			/* the application never had it: an empty table (not in the update) */
			if (st->upgrade)
				appendStringInfo(problems, "\n%s: table is missing",
								 lg_conv_qualified(st->src_schema, sname));
			continue;
		}
		found++;
		ts->src_relkind = get_rel_relkind(ts->src_relid);
		switch (ts->src_relkind)
		{
			case RELKIND_RELATION:
			case RELKIND_PARTITIONED_TABLE:
				if (has_subclass(ts->src_relid))
				{
					/* writers into a partition or child lock only that */
					list_free(find_all_inheritors(ts->src_relid, ShareLock, NULL));
					ts->src_by_query = true;
				}
				else
					ts->src_by_query = (ts->src_relkind != RELKIND_RELATION);
				break;
			case RELKIND_VIEW:
			case RELKIND_MATVIEW:
			case RELKIND_FOREIGN_TABLE:
				ts->src_by_query = true;
				break;
			default:
				appendStringInfo(problems,
								 "\n%s: is not a table, view, materialized view or foreign table",
								 lg_conv_qualified(ts->src_schema, sname));
				ts->src_relid = InvalidOid;
				break;
		}
	}
	if (found == 0 && !st->upgrade)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 st->nsrc_schemas > 1 ?
				 errmsg("schemas %s hold none of lane_google's tables",
						source_schema_list(st)) :
				 errmsg("schema %s holds none of lane_google's tables",
						quote_identifier(get_namespace_name(st->src_schema))),
				 errhint("convert_legacy() reads the tables named as lane_google's (users, accounts, campaigns, ...) in the schema given.")));
}

/* Targets, SHARE ROW EXCLUSIVE (readers go on, writers and a second conversion wait) */
static void
lock_targets(ConvertState *st)
{
	int			i;

	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];

		ts->dst_relid = resolve_relation(st->dst_schema, ts->spec->name,
										 ShareRowExclusiveLock, ACL_INSERT);
		if (!OidIsValid(ts->dst_relid))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("table %s does not exist",
							lg_conv_qualified(st->dst_schema, ts->spec->name))));
		if (get_attnum(ts->dst_relid, "legacy_id") == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the lane_google tables are not at version 2.0"),
					 errhint("Run ALTER EXTENSION lane_google UPDATE first.")));
	}
}

/*
 * Whose rights each source is read with.  Reading a source may run code of
 * its owner's: a view's functions and operators, a foreign table's wrapper,
 * a cast from a column type, a type's cast to json (the quarantine), and
 * through a view, any function it calls.  PostgreSQL runs such code with the
 * rights of whoever reads; convert_legacy() is typically run by a DBA
 * (superuser) over an application role's tables, so that would hand the
 * DBA's rights to the application role.  Instead:
 *
 * - a caller with the owner's privileges (the owner itself, a member of it,
 *	 a superuser) reads the source as its owner, in a security-restricted
 *	 operation: what PostgreSQL's own maintenance commands do (REFRESH
 *	 MATERIALIZED VIEW, ANALYZE, CLUSTER, index builds), and what the owner
 *	 could do itself;
 * - otherwise, an owner with the caller's privileges (a superuser's view
 *	 granted to a delegate role, say) leaves the source read as the caller,
 *	 as a SELECT of it would be: its code gains no right it did not have;
 * - otherwise neither may be lent to the other's code: refused, by name.
 *
 * The caller still needs SELECT on every source (check_privileges()).
 */
static void
choose_source_rights(ConvertState *st)
{
	Oid			caller = GetUserId();
	int			i;

	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];
		HeapTuple	tup;

		if (!OidIsValid(ts->src_relid))
			continue;
		tup = SearchSysCache1(RELOID, ObjectIdGetDatum(ts->src_relid));
		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for relation %u", ts->src_relid);
		ts->src_owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
		ReleaseSysCache(tup);

		if (has_privs_of_role(caller, ts->src_owner))
			ts->src_as_owner = true;
		else if (has_privs_of_role(ts->src_owner, caller))
			ts->src_as_owner = false;
		else
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("source %s is owned by role %s, whose privileges role %s does not have",
							lg_conv_qualified(ts->src_schema, lg_conv_source_name(st, ts->spec)),
							quote_identifier(GetUserNameFromId(ts->src_owner, false)),
							quote_identifier(GetUserNameFromId(caller, false))),
					 errdetail("Reading a source runs code of its owner's (a view's functions, a cast of its column types); convert_legacy() runs it with the owner's rights when the caller has them, or with the caller's when the owner has those, never otherwise."),
					 errhint("Nothing was converted.  Run convert_legacy() as role %s, a member of it, or a superuser.",
							 quote_identifier(GetUserNameFromId(ts->src_owner, false)))));
	}
}

/*
 * Row-level security, as validate_fk_integrity() refuses it: the conversion
 * reads every row of a source below the executor (a policy would hide some,
 * and they would be lost without a word) and writes the targets in bulk
 * (below the policies' WITH CHECK).  A view reads as its definition says,
 * policies of the tables under it included: that is its owner's choice.
 */
static void
check_row_security(ConvertState *st)
{
	int			i;

	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];

		if (OidIsValid(ts->src_relid) &&
			check_enable_rls(ts->src_relid, InvalidOid, true) == RLS_ENABLED)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("row-level security is enabled for source table %s",
							lg_conv_qualified(ts->src_schema, lg_conv_source_name(st, ts->spec))),
					 errdetail("convert_legacy must read every row of its sources; a policy would hide some, and they would not be converted."),
					 errhint("Run it as the table's owner or a role with BYPASSRLS.")));

		/*
		 * Read through the executor as its owner (a partitioned table, or
		 * one with inheritance children): FORCE ROW LEVEL SECURITY would
		 * filter its rows for the owner too.
		 */
		if (OidIsValid(ts->src_relid) && ts->src_by_query && ts->src_as_owner &&
			check_enable_rls(ts->src_relid, ts->src_owner, true) == RLS_ENABLED)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("row-level security is forced for source table %s, which is read as its owner",
							lg_conv_qualified(ts->src_schema, lg_conv_source_name(st, ts->spec))),
					 errdetail("convert_legacy must read every row of its sources; a policy would hide some, and they would not be converted."),
					 errhint("ALTER TABLE %s NO FORCE ROW LEVEL SECURITY for the conversion.",
							 lg_conv_qualified(ts->src_schema, lg_conv_source_name(st, ts->spec)))));
		if (check_enable_rls(ts->dst_relid, InvalidOid, true) == RLS_ENABLED)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("row-level security is enabled for target table %s",
							lg_conv_qualified(st->dst_schema, ts->spec->name)),
					 errdetail("convert_legacy writes rows in bulk, where the table's policies would not check them."),
					 errhint("Run it as the table's owner or a role with BYPASSRLS.")));
	}
}

static bool tenant_trigger(ConvertState *st, TableState *ts, Trigger *tg);

/*
 * A user's BEFORE INSERT row trigger on a target could change or drop rows
 * whose keys the conversion has checked against their parents (and counted
 * as converted): refused, by name.  Other INSERT triggers fire, as COPY
 * fires them (lg_conv_writer_open).
 */
static void
check_target_triggers(ConvertState *st)
{
	int			i;
	int			j;

	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];
		Relation	dst = table_open(ts->dst_relid, NoLock);
		TriggerDesc *td = dst->trigdesc;

		for (j = 0; td && j < td->numtriggers; j++)
		{
			Trigger    *tg = &td->triggers[j];

			if (tenant_trigger(st, ts, tg))
				continue;		/* the engine fills what it would */
			if (TRIGGER_FOR_ROW(tg->tgtype) && TRIGGER_FOR_BEFORE(tg->tgtype) &&
				TRIGGER_FOR_INSERT(tg->tgtype) && lg_trigger_fires(tg))
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("table %s has a BEFORE INSERT row trigger, \"%s\"",
								lg_conv_qualified(st->dst_schema, ts->spec->name),
								tg->tgname),
						 errdetail("A BEFORE row trigger may change or skip rows whose keys the conversion has checked against their parents."),
						 errhint("Disable it for the conversion (ALTER TABLE ... DISABLE TRIGGER %s) and enable it again after.",
								 quote_identifier(tg->tgname))));
		}
		lg_check_trigger_rights(dst, lg_conv_qualified(st->dst_schema, ts->spec->name),
								TRIGGER_TYPE_INSERT, "The conversion's inserts");
		table_close(dst, NoLock);
	}

	/* the quarantine is written by an INSERT: its triggers fire too */
	if (!st->upgrade)
	{
		Oid			q = get_relname_relid("legacy_quarantine", st->dst_schema);

		if (OidIsValid(q))
		{
			Relation	rel = table_open(q, AccessShareLock);

			lg_check_trigger_rights(rel, lg_conv_qualified(st->dst_schema, "legacy_quarantine"),
									TRIGGER_TYPE_INSERT, "The conversion's inserts");
			table_close(rel, AccessShareLock);
		}
	}
}

/*
 * The table (its index) whose key a column of that name holds in the
 * layout's foreign keys: accounts for account_id, users for user_id; -1.
 */
int
lg_conv_key_table(const char *column)
{
	int			i;
	int			f;

	for (i = 0; i < LG_NTABLES; i++)
		for (f = 0; f < lg_tables[i].nfks; f++)
			if (strcmp(lg_tables[i].fks[f].column, column) == 0)
				return lg_table_index(lg_tables[i].fks[f].parent);
	return -1;
}

/*
 * 3.0's set_tenant_key(tenant key, parent column, parent table) trigger of
 * a target (src/tenant.c), the extension's own function: it names the
 * column the engine fills from the parent row, as the trigger would fill
 * it, so the trigger itself is not in the way of the bulk writer (it only
 * fills a NULL, and the engine leaves none).  Read whether it is enabled
 * or not: it describes the layout.
 */
static bool
tenant_trigger(ConvertState *st, TableState *ts, Trigger *tg)
{
	Oid			fn = tg->tgfoid;
	int			parent;
	int			of;

	if (tg->tgnargs != 3 ||
		strcmp(get_func_name(fn), "set_tenant_key") != 0 ||
		get_func_namespace(fn) != lg_extension_schema() ||
		getExtensionOfObject(ProcedureRelationId, fn) !=
		get_extension_oid(LG_EXTENSION_NAME, false))
		return false;
	parent = lg_table_index(tg->tgargs[2]);
	of = lg_conv_key_table(tg->tgargs[0]);
	if (parent < 0 || of < 0 ||
		get_attnum(ts->dst_relid, tg->tgargs[0]) == InvalidAttrNumber ||
		get_attnum(st->tables[parent].dst_relid, tg->tgargs[0]) == InvalidAttrNumber)
		return false;
	ts->tenant_col = pstrdup(tg->tgargs[0]);
	ts->tenant_via = pstrdup(tg->tgargs[1]);
	ts->tenant_parent = parent;
	ts->tenant_of = of;
	st->tables[parent].keep_tenants = true;
	st->tables[parent].tenant_key = ts->tenant_col;
	return true;
}

/*
 * The 1.0 tables had primary keys: no duplicates to detect in tables no one
 * references, so those keep no key set at all.
 */
static void
keep_referenced_keysets(ConvertState *st)
{
	int			i;
	int			j;

	for (i = 0; i < LG_NTABLES; i++)
	{
		bool		referenced = false;

		for (j = 0; j < LG_NTABLES; j++)
		{
			int			f;

			for (f = 0; f < lg_tables[j].nfks; f++)
				if (strcmp(lg_tables[j].fks[f].parent, lg_tables[i].name) == 0)
					referenced = true;
		}
		if (!referenced)
			st->tables[i].want_keys = false;
	}
}


/*
 * Is convert_legacy_suggest(name, name[]) there (2.2 on)?  The layout
 * error's hint names it only where it can be called: the same library
 * serves 2.1.
 */
static bool
suggest_installed(void)
{
	Oid			argtypes[2] = {NAMEOID, NAMEARRAYOID};
	List	   *name = list_make2(makeString(get_namespace_name(lg_extension_schema())),
								  makeString("convert_legacy_suggest"));

	return OidIsValid(LookupFuncName(name, 2, argtypes, true));
}

/*
 * Resolve, lock and check every table before anything is written.  Locks
 * in the tables' fixed order: the namespace, the sources, the targets.
 */
void
lg_conv_prepare(ConvertState *st)
{
	StringInfoData problems;
	int			i;

	st->cxt = CurrentMemoryContext;
	initStringInfo(&problems);
	if (st->nsrc_schemas == 0)
	{
		st->src_schemas = palloc(sizeof(Oid));
		st->src_schemas[0] = st->src_schema;
		st->nsrc_schemas = 1;
	}
	for (i = 0; i < LG_NTABLES; i++)
	{
		st->tables[i].spec = &lg_tables[i];
		st->tables[i].src_schema = st->src_schema;
		st->tables[i].want_keys = true;
		st->tables[i].tenant_parent = -1;
		st->tables[i].tenant_of = -1;
		initStringInfo(&st->tables[i].note);
	}

	check_privileges(st);
	read_namespace(st);
	lock_sources(st, &problems);
	choose_source_rights(st);
	lock_targets(st);
	/* Citus tables: through the executor, never below it (stage.c) */
	lg_conv_citus_tables(st);
	check_row_security(st);
	check_target_triggers(st);
	lg_conv_check_layouts(st, &problems);

	if (problems.len > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 st->nsrc_schemas > 1 ?
				 errmsg("the legacy tables in schemas %s do not match lane_google's layout",
						source_schema_list(st)) :
				 errmsg("the legacy tables in schema %s do not match lane_google's layout",
						quote_identifier(get_namespace_name(st->src_schema))),
				 errdetail("Problems:%s", problems.data),
				 st->upgrade ?
				 errhint("Nothing was converted.  Fix the source tables and run the conversion again.") :
				 suggest_installed() ?
				 errhint("Nothing was converted.  Decide each problem with ignore_columns (a column to drop), column_map (a column under another name), value_map (values that are no label) or a view (a reshape); lane_google.convert_legacy_suggest(%s) writes the call with every decision proposed.",
						 quote_literal_cstr(get_namespace_name(st->src_schema))) :
				 errhint("Nothing was converted.  Decide each problem with ignore_columns (a column to drop), column_map (a column under another name), value_map (values that are no label) or a view (a reshape).")));

	if (st->upgrade)
		keep_referenced_keysets(st);
}
