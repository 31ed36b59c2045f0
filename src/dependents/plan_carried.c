/*-------------------------------------------------------------------------
 *
 * plan_carried.c
 *	  The objects carried by SQL kept in the plan: triggers, row security and
 *	  policies, statistics objects, the application's own indexes on the 11
 *	  tables, publication membership, rules and functions whose bodies depend
 *	  on the 11 tables.  Each is kept as the SQL that re-creates it
 *	  (PostgreSQL's own deparsers), tried before any row is read against the
 *	  empty tables of the target layout (trial.c), taken off at detach or
 *	  convert when it would otherwise act on the tables set aside or stop them
 *	  from going, and re-created at attach, after the views (steps.c).  And
 *	  what cannot be carried: the users of the integer keys' sequences.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "lane_google.h"
#include "dependents_int.h"

/* plan_direct(): the kinds carried here are collected, not refused */
bool
dep_collect_carried(DepPlan *plan, const char *category, Oid objid)
{
	int			k;
	MemoryContext old;

	if (strcmp(category, "trigger") == 0)
		k = CARRY_TRIGGER;
	else if (strcmp(category, "policy") == 0)
		k = CARRY_POLICY;
	else if (strcmp(category, "statistics object") == 0)
		k = CARRY_STATISTICS;
	else if (strcmp(category, "publication") == 0)
		k = CARRY_PUBLICATION;
	else if (strcmp(category, "rule") == 0)
		k = CARRY_RULE;
	else if (strcmp(category, "function") == 0)
		k = CARRY_FUNCTION;
	else if (strcmp(category, "index") == 0)
		k = CARRY_INDEX;
	else
		return false;
	old = MemoryContextSwitchTo(plan->cxt);
	plan->carry_oids[k] = list_append_unique_oid(plan->carry_oids[k], objid);
	MemoryContextSwitchTo(old);
	return true;
}

static DepItem *
new_sql_item(DepPlan *plan, const char *kind, const char *identity,
			 const char *depends_on)
{
	DepItem    *it = dep_new_item(plan, DT_SQL, kind);

	it->identity = MemoryContextStrdup(plan->cxt, identity);
	it->depends_on = MemoryContextStrdup(plan->cxt, depends_on);
	plan->ncarried++;
	return it;
}

/* Run a catalog query over one oid[] of carried objects */
void
dep_carry_query(const char *sql, List *oids, DepPlan *plan)
{
	Oid			argtypes[2] = {OIDARRAYOID, OIDARRAYOID};
	Datum		args[2];

	args[0] = dep_oid_array(oids);
	args[1] = dep_roots_array(plan);
	if (SPI_execute_with_args(sql, 2, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
}

/*
 * Triggers of the application's on the 11 tables: pg_get_triggerdef (which
 * names the table and function qualified), the enabled state, the comment.
 * They go with the tables set aside; the trigger function is not touched.
 */
static void
plan_triggers(DepPlan *plan)
{
	uint64		i;

	if (plan->carry_oids[CARRY_TRIGGER] == NIL)
		return;
	dep_carry_query("SELECT pg_catalog.pg_describe_object(t.tableoid, t.oid, 0),"
					"       pg_catalog.format('%I.%I', n.nspname, c.relname),"
					"       pg_catalog.quote_ident(t.tgname), pg_catalog.pg_get_triggerdef(t.oid),"
					"       CASE WHEN t.tgenabled OPERATOR(pg_catalog.=) 'D' THEN 'DISABLE' WHEN t.tgenabled OPERATOR(pg_catalog.=) 'R' THEN 'ENABLE REPLICA'"
					"                        WHEN t.tgenabled OPERATOR(pg_catalog.=) 'A' THEN 'ENABLE ALWAYS' END,"
					"       pg_catalog.obj_description(t.oid, 'pg_trigger'),"
					"       t.tgname OPERATOR(pg_catalog.~~) 'lane\\_google\\_online\\_%'"
					"  FROM pg_catalog.pg_trigger t"
					"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.tgrelid"
					"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
					" WHERE t.oid OPERATOR(pg_catalog.=) ANY ($1) ORDER BY 1",
					plan->carry_oids[CARRY_TRIGGER], plan);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		char	   *rel = dep_col(plan, i, 2);
		char	   *name = dep_col(plan, i, 3);
		char	   *enabled = dep_col(plan, i, 5);
		char	   *comment = dep_col(plan, i, 6);
		StringInfoData redo;
		DepItem    *it;

		/* the online conversion's capture triggers are the extension's */
		if (DatumGetBool(dep_col_datum(i, 7, &isnull)))
			continue;
		it = new_sql_item(plan, "trigger", dep_col(plan, i, 1), psprintf("table %s", rel));
		initStringInfo(&redo);
		appendStringInfoString(&redo, dep_col(plan, i, 4));
		if (enabled)
			appendStringInfo(&redo, "; ALTER TABLE %s %s TRIGGER %s", rel, enabled, name);
		if (comment)
			appendStringInfo(&redo, "; COMMENT ON TRIGGER %s ON %s IS %s", name, rel,
							 quote_literal_cstr(comment));
		it->redo_sql = MemoryContextStrdup(plan->cxt, redo.data);
		it->trial_sql = dep_col(plan, i, 4);
		it->detach_sql = dep_pfmt(plan, "DROP TRIGGER %s ON %s", name, rel);
		it->action = enabled
			? dep_pfmt(plan, "re-create on the new table with its definition, comment and state (%s)",
					   enabled)
			: MemoryContextStrdup(plan->cxt, "re-create on the new table with its definition and comment");
	}
}

/*
 * Row security policies: on the 11 tables (they go with the tables set
 * aside), and on other tables whose expressions read the 11 tables (dropped
 * at convert: they would stop the tables set aside from going).
 */
static void
plan_policies(DepPlan *plan)
{
	uint64		i;

	if (plan->carry_oids[CARRY_POLICY] == NIL)
		return;
	dep_carry_query("SELECT pg_catalog.pg_describe_object(p.tableoid, p.oid, 0),"
					"       pg_catalog.format('%I.%I', n.nspname, c.relname),"
					"       pg_catalog.quote_ident(p.polname),"
					"       CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,"
					"       CASE WHEN p.polcmd OPERATOR(pg_catalog.=) 'r' THEN 'SELECT' WHEN p.polcmd OPERATOR(pg_catalog.=) 'a' THEN 'INSERT'"
					"                     WHEN p.polcmd OPERATOR(pg_catalog.=) 'w' THEN 'UPDATE' WHEN p.polcmd OPERATOR(pg_catalog.=) 'd' THEN 'DELETE' ELSE 'ALL' END,"
					"       (SELECT pg_catalog.string_agg(CASE WHEN r.r OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'"
					"                 ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(r.r)) END, ', ' ORDER BY r.i)"
					"          FROM pg_catalog.unnest(p.polroles) WITH ORDINALITY AS r(r, i)),"
					"       pg_catalog.pg_get_expr(p.polqual, p.polrelid),"
					"       pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid),"
					"       pg_catalog.obj_description(p.oid, 'pg_policy'),"
					"       p.polrelid OPERATOR(pg_catalog.=) ANY ($2)"
					"  FROM pg_catalog.pg_policy p"
					"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) p.polrelid"
					"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
					" WHERE p.oid OPERATOR(pg_catalog.=) ANY ($1) ORDER BY 1",
					plan->carry_oids[CARRY_POLICY], plan);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		char	   *rel = dep_col(plan, i, 2);
		char	   *name = dep_col(plan, i, 3);
		char	   *qual = dep_col(plan, i, 7);
		char	   *check = dep_col(plan, i, 8);
		char	   *comment = dep_col(plan, i, 9);
		bool		on_root = DatumGetBool(dep_col_datum(i, 10, &isnull));
		char	   *create;
		DepItem    *it;

		create = psprintf("CREATE POLICY %s ON %s AS %s FOR %s TO %s%s%s%s%s",
						  name, rel, dep_col(plan, i, 4), dep_col(plan, i, 5), dep_col(plan, i, 6),
						  qual ? " USING (" : "", qual ? qual : "", qual ? ")" : "",
						  check ? psprintf(" WITH CHECK (%s)", check) : "");
		it = new_sql_item(plan, "policy", dep_col(plan, i, 1), psprintf("table %s", rel));
		it->redo_sql = comment
			? dep_pfmt(plan, "%s; COMMENT ON POLICY %s ON %s IS %s", create, name, rel,
					   quote_literal_cstr(comment))
			: MemoryContextStrdup(plan->cxt, create);
		if (on_root)
		{
			it->trial_sql = MemoryContextStrdup(plan->cxt, create);
			it->action = MemoryContextStrdup(plan->cxt,
											 "re-create on the new table with its command, roles, expressions and comment");
		}
		else
		{
			it->pre_sql = dep_pfmt(plan, "DROP POLICY %s ON %s", name, rel);
			it->trial_sql = dep_pfmt(plan, "DROP POLICY IF EXISTS %s ON %s; %s", name, rel, create);
			it->action = MemoryContextStrdup(plan->cxt,
											 "drop; re-create over the converted tables with its command, roles, expressions and comment");
		}
	}
}

/* ENABLE / FORCE ROW LEVEL SECURITY of one of the 11 tables */
static void
plan_row_security(DepPlan *plan, int r, bool enable, bool force)
{
	char	   *rel = psprintf("%s.%s", dep_schema_name(plan), quote_identifier(lg_tables[r].name));
	DepItem    *it;

	it = new_sql_item(plan, "row security",
					  psprintf("row level security on table %s.%s",
							   get_namespace_name(plan->schema), lg_tables[r].name),
					  psprintf("table %s.%s", get_namespace_name(plan->schema), lg_tables[r].name));
	it->redo_sql = dep_pfmt(plan, "ALTER TABLE %s %s ROW LEVEL SECURITY%s%s%s", rel,
							enable ? "ENABLE" : "DISABLE",
							force ? "; ALTER TABLE " : "", force ? rel : "",
							force ? " FORCE ROW LEVEL SECURITY" : "");
	it->action = dep_pfmt(plan, "%s%s row level security on the new table",
						  enable ? "enable" : "",
						  force ? (enable ? " and force" : "force") : "");
}

/*
 * Statistics objects on the 11 tables: dropped at convert (their name would
 * be taken), re-created with owner, statistics target and comment.
 */
static void
plan_statistics(DepPlan *plan)
{
	uint64		i;

	if (plan->carry_oids[CARRY_STATISTICS] == NIL)
		return;
	dep_carry_query("SELECT pg_catalog.pg_describe_object(s.tableoid, s.oid, 0),"
					"       pg_catalog.format('%I.%I', n.nspname, s.stxname),"
					"       pg_catalog.pg_get_statisticsobjdef(s.oid),"
					"       pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(s.stxowner)),"
					"       CASE WHEN s.stxstattarget OPERATOR(pg_catalog.>=) 0 THEN s.stxstattarget END,"
					"       pg_catalog.obj_description(s.oid, 'pg_statistic_ext'),"
					"       pg_catalog.format('%I.%I', cn.nspname, c.relname)"
					"  FROM pg_catalog.pg_statistic_ext s"
					"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) s.stxnamespace"
					"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) s.stxrelid"
					"  JOIN pg_catalog.pg_namespace cn ON cn.oid OPERATOR(pg_catalog.=) c.relnamespace"
					" WHERE s.oid OPERATOR(pg_catalog.=) ANY ($1) ORDER BY 1",
					plan->carry_oids[CARRY_STATISTICS], plan);
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *name = dep_col(plan, i, 2);
		char	   *def = dep_col(plan, i, 3);
		char	   *target = dep_col(plan, i, 5);
		char	   *comment = dep_col(plan, i, 6);
		StringInfoData redo;
		DepItem    *it;

		it = new_sql_item(plan, "statistics object", dep_col(plan, i, 1),
						  psprintf("table %s", dep_col(plan, i, 7)));
		initStringInfo(&redo);
		appendStringInfo(&redo, "%s; ALTER STATISTICS %s OWNER TO %s", def, name, dep_col(plan, i, 4));
		if (target)
			appendStringInfo(&redo, "; ALTER STATISTICS %s SET STATISTICS %s", name, target);
		if (comment)
			appendStringInfo(&redo, "; COMMENT ON STATISTICS %s IS %s", name,
							 quote_literal_cstr(comment));
		it->redo_sql = MemoryContextStrdup(plan->cxt, redo.data);
		it->pre_sql = dep_pfmt(plan, "DROP STATISTICS %s", name);
		it->trial_sql = dep_pfmt(plan, "DROP STATISTICS IF EXISTS %s; %s", name, def);
		it->action = MemoryContextStrdup(plan->cxt,
										 "re-create on the new table with its owner, statistics target and comment");
	}
}

/*
 * The application's own indexes on the 11 tables (plain, unique, partial,
 * on expressions): pg_get_indexdef, which names the table qualified, with
 * the same name, tablespace and comment.  Tried unnamed (the original
 * still holds the name), dropped before the tables set aside go, created
 * IF NOT EXISTS: the online swap's shadows already have a copy.
 */
static void
plan_indexes(DepPlan *plan)
{
	uint64		i;

	if (plan->carry_oids[CARRY_INDEX] == NIL)
		return;
	dep_carry_query("SELECT pg_catalog.pg_describe_object('pg_catalog.pg_class'::pg_catalog.regclass, ic.oid, 0),"
					"       pg_catalog.format('%I.%I', n.nspname, ic.relname),"
					"       pg_catalog.pg_get_indexdef(ic.oid),"
					"       pg_catalog.length(pg_catalog.format('CREATE %sINDEX %I ON ',"
					"           CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END, ic.relname)),"
					"       CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END,"
					"       pg_catalog.obj_description(ic.oid, 'pg_class'),"
					"       pg_catalog.format('%I.%I', n.nspname, c.relname)"
					"  FROM pg_catalog.pg_index i"
					"  JOIN pg_catalog.pg_class ic ON ic.oid OPERATOR(pg_catalog.=) i.indexrelid"
					"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.indrelid"
					"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) ic.relnamespace"
					" WHERE ic.oid OPERATOR(pg_catalog.=) ANY ($1) ORDER BY 1",
					plan->carry_oids[CARRY_INDEX], plan);
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *name = dep_col(plan, i, 2);
		char	   *def = dep_col(plan, i, 3);
		int			head = atoi(dep_col(plan, i, 4));
		char	   *unique = dep_col(plan, i, 5);
		char	   *comment = dep_col(plan, i, 6);
		char	   *rest;
		StringInfoData redo;
		DepItem    *it;

		/* "CREATE [UNIQUE ]INDEX name ON ": what follows the name */
		if (def == NULL || (int) strlen(def) < head ||
			strncmp(def + head - 4, " ON ", 4) != 0)
			elog(ERROR, "unexpected index definition: %s", def ? def : "(null)");
		rest = def + head - 3;
		it = new_sql_item(plan, "index", dep_col(plan, i, 1), psprintf("table %s", dep_col(plan, i, 7)));
		initStringInfo(&redo);
		appendStringInfo(&redo, "CREATE %sINDEX IF NOT EXISTS %s", unique,
						 def + strlen("CREATE ") + strlen(unique) + strlen("INDEX "));
		if (comment)
			appendStringInfo(&redo, "; COMMENT ON INDEX %s IS %s", name,
							 quote_literal_cstr(comment));
		it->redo_sql = MemoryContextStrdup(plan->cxt, redo.data);
		it->pre_sql = dep_pfmt(plan, "DROP INDEX %s", name);
		it->trial_sql = dep_pfmt(plan, "CREATE %sINDEX %s", unique, rest);
		it->action = MemoryContextStrdup(plan->cxt,
										 "re-create on the new table with its name, definition and comment");
	}
}

/*
 * Membership of the 11 tables in publications (not FOR ALL TABLES, nor FOR
 * TABLES IN SCHEMA: the new tables are in those by themselves), with the
 * column list and row filter of PostgreSQL 15.
 */
static void
plan_publications(DepPlan *plan)
{
	uint64		i;

	if (plan->carry_oids[CARRY_PUBLICATION] == NIL)
		return;
	dep_carry_query("SELECT pg_catalog.pg_describe_object(pr.tableoid, pr.oid, 0),"
					"       pg_catalog.quote_ident(p.pubname),"
					"       pg_catalog.format('%I.%I', n.nspname, c.relname),"
					"       (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY k.i)"
					"          FROM pg_catalog.unnest(pr.prattrs::pg_catalog.int2[]) WITH ORDINALITY AS k(attnum, i)"
					"          JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) pr.prrelid AND a.attnum OPERATOR(pg_catalog.=) k.attnum),"
					"       pg_catalog.pg_get_expr(pr.prqual, pr.prrelid)"
					"  FROM pg_catalog.pg_publication_rel pr"
					"  JOIN pg_catalog.pg_publication p ON p.oid OPERATOR(pg_catalog.=) pr.prpubid"
					"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) pr.prrelid"
					"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
					" WHERE pr.oid OPERATOR(pg_catalog.=) ANY ($1) ORDER BY 1",
					plan->carry_oids[CARRY_PUBLICATION], plan);
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *pub = dep_col(plan, i, 2);
		char	   *rel = dep_col(plan, i, 3);
		char	   *cols = dep_col(plan, i, 4);
		char	   *qual = dep_col(plan, i, 5);
		DepItem    *it;

		it = new_sql_item(plan, "publication", dep_col(plan, i, 1),
						  psprintf("table %s", rel));
		it->redo_sql = dep_pfmt(plan, "ALTER PUBLICATION %s ADD TABLE %s%s%s%s%s%s%s", pub, rel,
								cols ? " (" : "", cols ? cols : "", cols ? ")" : "",
								qual ? " WHERE (" : "", qual ? qual : "", qual ? ")" : "");
		it->trial_sql = it->redo_sql;
		it->detach_sql = dep_pfmt(plan, "ALTER PUBLICATION %s DROP TABLE %s", pub, rel);
		it->action = dep_pfmt(plan, "add the new table to publication %s%s%s", pub,
							  cols ? " with its column list" : "",
							  qual ? (cols ? " and row filter" : " with its row filter") : "");
	}
}

/*
 * Rules of the application's on the 11 tables, and on other tables whose
 * actions read or write the 11 tables: taken off before any row is written
 * (a rule on a table set aside would act on the way back's UPDATE), and
 * re-created after with their enabled state and comment.
 */
static void
plan_rules(DepPlan *plan)
{
	uint64		i;

	if (plan->carry_oids[CARRY_RULE] == NIL)
		return;
	dep_carry_query("SELECT pg_catalog.pg_describe_object(r.tableoid, r.oid, 0),"
					"       pg_catalog.format('%I.%I', n.nspname, c.relname),"
					"       pg_catalog.quote_ident(r.rulename), pg_catalog.pg_get_ruledef(r.oid),"
					"       CASE WHEN r.ev_enabled OPERATOR(pg_catalog.=) 'D' THEN 'DISABLE' WHEN r.ev_enabled OPERATOR(pg_catalog.=) 'R' THEN 'ENABLE REPLICA'"
					"                         WHEN r.ev_enabled OPERATOR(pg_catalog.=) 'A' THEN 'ENABLE ALWAYS' END,"
					"       pg_catalog.obj_description(r.oid, 'pg_rewrite'),"
					"       r.ev_class OPERATOR(pg_catalog.=) ANY ($2)"
					"  FROM pg_catalog.pg_rewrite r"
					"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) r.ev_class"
					"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
					" WHERE r.oid OPERATOR(pg_catalog.=) ANY ($1) ORDER BY 1",
					plan->carry_oids[CARRY_RULE], plan);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		char	   *rel = dep_col(plan, i, 2);
		char	   *name = dep_col(plan, i, 3);
		char	   *def = dep_col(plan, i, 4);
		char	   *enabled = dep_col(plan, i, 5);
		char	   *comment = dep_col(plan, i, 6);
		bool		on_root = DatumGetBool(dep_col_datum(i, 7, &isnull));
		StringInfoData redo;
		DepItem    *it;

		/* pg_get_ruledef ends with ';' */
		if (def && strlen(def) > 0 && def[strlen(def) - 1] == ';')
			def[strlen(def) - 1] = '\0';
		it = new_sql_item(plan, "rule", dep_col(plan, i, 1), psprintf("table %s", rel));
		initStringInfo(&redo);
		appendStringInfoString(&redo, def);
		if (enabled)
			appendStringInfo(&redo, "; ALTER TABLE %s %s RULE %s", rel, enabled, name);
		if (comment)
			appendStringInfo(&redo, "; COMMENT ON RULE %s ON %s IS %s", name, rel,
							 quote_literal_cstr(comment));
		it->redo_sql = MemoryContextStrdup(plan->cxt, redo.data);
		it->detach_sql = dep_pfmt(plan, "DROP RULE %s ON %s", name, rel);
		it->trial_sql = dep_pfmt(plan, "DROP RULE IF EXISTS %s ON %s; %s", name, rel, def);
		it->action = dep_pfmt(plan, "%s with its definition%s comment%s%s%s",
							  on_root ? "re-create on the new table" : "drop; re-create over the converted tables",
							  enabled ? "," : " and", enabled ? " and state (" : "",
							  enabled ? enabled : "", enabled ? ")" : "");
	}
}

/*
 * What depends on the carried functions (funcs, their oids): the update
 * does not re-create it around them
 */
static void
plan_function_dependents(DepPlan *plan, List *funcs)
{
	uint64		i;

	dep_carry_query("SELECT CASE WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
					"            THEN (SELECT pg_catalog.pg_describe_object(r.tableoid, r.oid, 0) FROM pg_catalog.pg_rewrite w"
					"                    JOIN pg_catalog.pg_class r ON r.oid OPERATOR(pg_catalog.=) w.ev_class WHERE w.oid OPERATOR(pg_catalog.=) d.objid)"
					"            ELSE pg_catalog.pg_describe_object(d.classid, d.objid, 0) END,"
					"       pg_catalog.pg_describe_object(d.refclassid, d.refobjid, 0),"
					"       CASE"
					"         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass THEN 'view'"
					"         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_attrdef'::pg_catalog.regclass THEN 'default'"
					"         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass THEN 'function'"
					"         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_policy'::pg_catalog.regclass THEN 'policy'"
					"         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_trigger'::pg_catalog.regclass THEN 'trigger'"
					"         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_constraint'::pg_catalog.regclass THEN 'constraint'"
					"         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass THEN 'index'"
					"         ELSE 'other' END"
					"  FROM pg_catalog.pg_depend d"
					" WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass"
					"   AND d.refobjid OPERATOR(pg_catalog.=) ANY ($1) AND d.deptype OPERATOR(pg_catalog.=) 'n'"
					" ORDER BY 1",
					funcs, plan);
	for (i = 0; i < SPI_processed; i++)
		dep_plan_cannot(plan, dep_col(plan, i, 3), dep_col(plan, i, 1), dep_col(plan, i, 2),
						dep_pfmt(plan, "depends on %s, which the update re-creates", dep_col(plan, i, 2)));
}

/*
 * Functions whose bodies PostgreSQL records as depending on the 11 tables
 * (SQL functions with BEGIN ATOMIC bodies; any function using their row
 * types): dropped before the tables set aside go, re-created after from
 * pg_get_functiondef with owner, privileges and comment.  What depends on
 * such a function (a view, a default, a policy, another function) is
 * refused by name.
 */
static void
plan_functions(DepPlan *plan)
{
	uint64		i;
	uint64		n;
	SPITupleTable *tt;
	List	   *funcs = NIL;

	if (plan->carry_oids[CARRY_FUNCTION] == NIL)
		return;
	dep_carry_query("SELECT pg_catalog.pg_describe_object(p.tableoid, p.oid, 0),"
					"       p.oid::pg_catalog.regprocedure::pg_catalog.text,"
					"       CASE WHEN p.prokind OPERATOR(pg_catalog.<>) 'a' THEN pg_catalog.pg_get_functiondef(p.oid) END,"
					"       pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(p.proowner)),"
					"       p.proacl IS NOT NULL,"
					"       (SELECT pg_catalog.string_agg(pg_catalog.format('GRANT %s ON ROUTINE %s TO %s%s',"
					"                 a.privilege_type, p.oid::pg_catalog.regprocedure,"
					"                 CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'"
					"                      ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END,"
					"                 CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END), '; ')"
					"          FROM pg_catalog.aclexplode(p.proacl) AS a),"
					"       pg_catalog.obj_description(p.oid, 'pg_proc'),"
					"       p.oid,"
					"       (SELECT pg_catalog.string_agg(DISTINCT pg_catalog.format('%I.%I', n.nspname, c.relname), ', ')"
					"          FROM pg_catalog.pg_depend d"
					"          JOIN pg_catalog.pg_class c"
					"            ON (d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass AND c.oid OPERATOR(pg_catalog.=) d.refobjid)"
					"            OR (d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass AND c.reltype OPERATOR(pg_catalog.=) d.refobjid)"
					"          JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
					"         WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid OPERATOR(pg_catalog.=) p.oid"
					"           AND c.oid OPERATOR(pg_catalog.=) ANY ($2))"
					"  FROM pg_catalog.pg_proc p"
					" WHERE p.oid OPERATOR(pg_catalog.=) ANY ($1)"
					" ORDER BY 1",
					plan->carry_oids[CARRY_FUNCTION], plan);
	n = SPI_processed;
	tt = SPI_tuptable;
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		char	   *sig;
		char	   *def;
		char	   *owner;
		char	   *grants;
		char	   *comment;
		StringInfoData redo;
		DepItem    *it;
		MemoryContext old;

		SPI_tuptable = tt;
		sig = dep_col(plan, i, 2);
		def = dep_col(plan, i, 3);
		owner = dep_col(plan, i, 4);
		grants = dep_col(plan, i, 6);
		comment = dep_col(plan, i, 7);
		if (def == NULL)
		{
			dep_plan_cannot(plan, "aggregate", dep_col(plan, i, 1), "",
							"an aggregate depending on a table the update rebuilds");
			continue;
		}
		it = new_sql_item(plan, "function", dep_col(plan, i, 1), dep_col(plan, i, 9) ? dep_col(plan, i, 9) : "");
		it->objid = DatumGetObjectId(dep_col_datum(i, 8, &isnull));
		old = MemoryContextSwitchTo(plan->cxt);
		funcs = lappend_oid(funcs, it->objid);
		MemoryContextSwitchTo(old);
		initStringInfo(&redo);
		/* created inside the extension's script: not one of its members */
		appendStringInfo(&redo, "%s; ALTER EXTENSION %s DROP ROUTINE %s; ALTER ROUTINE %s OWNER TO %s",
						 def, LG_EXTENSION_NAME, sig, sig, owner);
		if (DatumGetBool(dep_col_datum(i, 5, &isnull)))
		{
			appendStringInfo(&redo, "; REVOKE ALL ON ROUTINE %s FROM PUBLIC; REVOKE ALL ON ROUTINE %s FROM %s",
							 sig, sig, owner);
			if (grants)
				appendStringInfo(&redo, "; %s", grants);
		}
		if (comment)
			appendStringInfo(&redo, "; COMMENT ON ROUTINE %s IS %s", sig, quote_literal_cstr(comment));
		it->redo_sql = MemoryContextStrdup(plan->cxt, redo.data);
		it->pre_sql = dep_pfmt(plan, "DROP ROUTINE %s", sig);
		it->trial_sql = dep_pfmt(plan, "DROP ROUTINE %s CASCADE; %s", sig, def);
		it->action = MemoryContextStrdup(plan->cxt,
										 "drop; re-create over the converted tables with its owner, privileges and comment");
	}

	/* what the update does not re-create around them */
	if (funcs != NIL)
		plan_function_dependents(plan, funcs);
}

/*
 * Defaults and anything else of the application's that use the sequences
 * of the 11 tables' integer keys (nextval('lane_google.users_id_seq')): the
 * sequences go with the integer keys.
 */
static void
plan_sequence_users(DepPlan *plan)
{
	uint64		i;

	if (!plan->to_uuid)
		return;
	dep_carry_query("SELECT pg_catalog.pg_describe_object(d.classid, d.objid, 0),"
					"       pg_catalog.format('sequence %I.%I', n.nspname, s.relname),"
					"       pg_catalog.format('%I.%I', n.nspname, s.relname)"
					"  FROM pg_catalog.pg_depend o"
					"  JOIN pg_catalog.pg_class s ON s.oid OPERATOR(pg_catalog.=) o.objid AND s.relkind OPERATOR(pg_catalog.=) 'S'"
					"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) s.relnamespace"
					"  JOIN pg_catalog.pg_depend d ON d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
					"                             AND d.refobjid OPERATOR(pg_catalog.=) s.oid AND d.deptype OPERATOR(pg_catalog.=) 'n'"
					" WHERE o.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
					"   AND o.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
					"   AND o.refobjid OPERATOR(pg_catalog.=) ANY ($2) AND o.deptype OPERATOR(pg_catalog.=) ANY (ARRAY['a', 'i']::pg_catalog.\"char\"[])"
					"   AND NOT (d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_attrdef'::pg_catalog.regclass"
					"            AND (SELECT ad.adrelid FROM pg_catalog.pg_attrdef ad WHERE ad.oid OPERATOR(pg_catalog.=) d.objid)"
					"                OPERATOR(pg_catalog.=) ANY ($2))"
					" ORDER BY 1",
					NIL, plan);
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *identity = dep_col(plan, i, 1);

		dep_plan_cannot(plan, strncmp(identity, "default", 7) == 0 ? "default" : "sequence user",
						identity, dep_col(plan, i, 2),
						dep_pfmt(plan, "uses sequence %s, which the update drops with the integer keys;"
								 " give it a sequence of its own first (CREATE SEQUENCE s;"
								 " SELECT setval('s', last_value) FROM %s; then use nextval('s'))",
								 dep_col(plan, i, 3), dep_col(plan, i, 3)));
	}
}

/*
 * Row security on one of the 11 tables: the new table would come without it.
 */
void
dep_plan_root_flags(DepPlan *plan)
{
	int			r;

	for (r = 0; r < LG_NTABLES; r++)
	{
		HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(plan->roots[r]));
		Form_pg_class form;

		if (!HeapTupleIsValid(tup))
			continue;
		form = (Form_pg_class) GETSTRUCT(tup);
		if (form->relrowsecurity || form->relforcerowsecurity)
			plan_row_security(plan, r, form->relrowsecurity, form->relforcerowsecurity);
		ReleaseSysCache(tup);
	}
}

/* Everything above, from dep_build_plan() */
void
dep_plan_carried(DepPlan *plan)
{
	dep_plan_view_columns(plan);
	plan_functions(plan);
	plan_triggers(plan);
	plan_policies(plan);
	plan_statistics(plan);
	plan_indexes(plan);
	plan_publications(plan);
	plan_rules(plan);
	plan_sequence_users(plan);
}
