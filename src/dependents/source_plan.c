/*-------------------------------------------------------------------------
 *
 * source_plan.c
 *	  convert_legacy(..., dependents => 'carry'): the application's own legacy
 *	  tables are the source.  The same plan, with the source tables as its
 *	  roots: the objects of other tables and views that depend on them are
 *	  carried onto the extension's tables, their definitions re-pointed; the
 *	  source tables themselves, and everything on them (their indexes,
 *	  constraints, triggers, rules, policies, sequences, publication
 *	  membership), stay as they are.  Anything that cannot be re-pointed is
 *	  refused by name before a source row is read.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "lane_google.h"
#include "dependents_int.h"

static const char *const source_dependents_sql =
"WITH roots AS ("
"    SELECT c.oid AS relid, c.reltype FROM pg_catalog.pg_class c"
"     WHERE c.oid OPERATOR(pg_catalog.=) ANY ($1)"
"), deps AS ("
"    SELECT d.classid, d.objid,"
"           pg_catalog.min(pg_catalog.pg_describe_object(d.refclassid, d.refobjid, 0)) AS on_what"
"      FROM pg_catalog.pg_depend d"
"     WHERE d.deptype OPERATOR(pg_catalog.=) ANY (ARRAY['n', 'a']::pg_catalog.\"char\"[])"
"       AND ((d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
"             AND d.refobjid OPERATOR(pg_catalog.=) ANY (SELECT relid FROM roots))"
"         OR (d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass"
"             AND d.refobjid OPERATOR(pg_catalog.=) ANY (SELECT reltype FROM roots)))"
"     GROUP BY d.classid, d.objid"
")"
"SELECT d.objid, pg_catalog.pg_describe_object(d.classid, d.objid, 0), d.on_what,"
"  CASE"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_constraint'::pg_catalog.regclass THEN"
"    (SELECT CASE WHEN con.conrelid OPERATOR(pg_catalog.=) ANY (SELECT relid FROM roots) THEN 'skip'"
"                 WHEN con.conparentid OPERATOR(pg_catalog.<>) 0 THEN 'skip'"
"                 WHEN con.contype OPERATOR(pg_catalog.=) 'f' THEN 'foreign key'"
"                 ELSE 'constraint' END"
"       FROM pg_catalog.pg_constraint con WHERE con.oid OPERATOR(pg_catalog.=) d.objid)"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass THEN"
"    (SELECT CASE WHEN c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['i', 'I', 't', 'S']::pg_catalog.\"char\"[]) THEN 'skip' ELSE 'table' END"
"       FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) d.objid)"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass THEN"
"    (SELECT CASE WHEN c.oid OPERATOR(pg_catalog.=) ANY (SELECT relid FROM roots) THEN 'skip'"
"                 WHEN r.rulename OPERATOR(pg_catalog.=) '_RETURN' AND c.relkind OPERATOR(pg_catalog.=) 'v' THEN 'view'"
"                 WHEN r.rulename OPERATOR(pg_catalog.=) '_RETURN' AND c.relkind OPERATOR(pg_catalog.=) 'm' THEN 'materialized view'"
"                 ELSE 'rule' END"
"       FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) r.ev_class"
"      WHERE r.oid OPERATOR(pg_catalog.=) d.objid)"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_trigger'::pg_catalog.regclass THEN"
"    (SELECT CASE WHEN t.tgisinternal OR t.tgrelid OPERATOR(pg_catalog.=) ANY (SELECT relid FROM roots) THEN 'skip'"
"                 ELSE 'trigger' END"
"       FROM pg_catalog.pg_trigger t WHERE t.oid OPERATOR(pg_catalog.=) d.objid)"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_attrdef'::pg_catalog.regclass THEN"
"    (SELECT CASE WHEN a.adrelid OPERATOR(pg_catalog.=) ANY (SELECT relid FROM roots) THEN 'skip' ELSE 'default' END"
"       FROM pg_catalog.pg_attrdef a WHERE a.oid OPERATOR(pg_catalog.=) d.objid)"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_policy'::pg_catalog.regclass THEN"
"    (SELECT CASE WHEN p.polrelid OPERATOR(pg_catalog.=) ANY (SELECT relid FROM roots) THEN 'skip' ELSE 'policy' END"
"       FROM pg_catalog.pg_policy p WHERE p.oid OPERATOR(pg_catalog.=) d.objid)"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass THEN"
"    (SELECT CASE WHEN s.stxrelid OPERATOR(pg_catalog.=) ANY (SELECT relid FROM roots) THEN 'skip' ELSE 'statistics object' END"
"       FROM pg_catalog.pg_statistic_ext s WHERE s.oid OPERATOR(pg_catalog.=) d.objid)"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_publication_rel'::pg_catalog.regclass THEN 'skip'"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass THEN 'function'"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass THEN 'type'"
"  ELSE 'other' END,"
"  CASE WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
"       THEN (SELECT r.ev_class FROM pg_catalog.pg_rewrite r WHERE r.oid OPERATOR(pg_catalog.=) d.objid) END"
"  FROM deps d ORDER BY 4, 2";

static const char *
source_cannot_reason(const char *category)
{
	if (strcmp(category, "function") == 0)
		return "a SQL function whose body (BEGIN ATOMIC) reads the legacy table: it cannot be re-pointed at lane_google's";
	if (strcmp(category, "type") == 0 || strcmp(category, "table") == 0)
		return "uses the legacy table's row type";
	return "depends on the legacy table and cannot be re-pointed at lane_google's";
}

#define SOURCE_REFUSE_HINT "Nothing was changed and no row was read.  Drop or change these objects and run again, or convert with dependents => 'keep' (the default); SELECT * FROM lane_google.conversion_plan('%s') lists what the carry does with every dependent object."

/* Source tables: the 11 names in src_schema (InvalidOid where absent) */
static void
plan_source_roots(DepPlan *plan)
{
	int			i;

	for (i = 0; i < LG_NTABLES; i++)
		plan->roots[i] = get_relname_relid(lg_tables[i].name, plan->src_schema);
}

/* The dependents of the source tables that are not theirs */
static void
plan_source_direct(DepPlan *plan, List **fk_oids, List **seeds)
{
	Oid			argtypes[1] = {OIDARRAYOID};
	Datum		args[1];
	uint64		n;
	int			i;

	args[0] = dep_roots_array(plan);
	if (SPI_execute_with_args(source_dependents_sql, 1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	n = SPI_processed;
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		Oid			objid = DatumGetObjectId(dep_col_datum(i, 1, &isnull));
		char	   *category = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 4);

		if (category == NULL || strcmp(category, "skip") == 0)
			continue;
		if (strcmp(category, "foreign key") == 0)
			*fk_oids = lappend_oid(*fk_oids, objid);
		else if (strcmp(category, "view") == 0 || strcmp(category, "materialized view") == 0)
		{
			Oid			viewid = DatumGetObjectId(dep_col_datum(i, 5, &isnull));

			*seeds = list_append_unique_oid(*seeds, viewid);
		}
		else
			dep_plan_cannot(plan, category, dep_col(plan, i, 2), dep_col(plan, i, 3),
							source_cannot_reason(category));
	}
}

/*
 * A view's definition re-pointed at the extension's tables: the deparser's
 * text (pg_get_viewdef under search_path pg_catalog, so every relation is
 * schema-qualified) with each source table's qualified name, where it
 * stands as a relation (not inside a literal or a quoted identifier, not
 * part of a longer name, not a function or a type cast), replaced by the
 * extension's table of the same name.  The text is then analysed again by
 * PostgreSQL over the new column types in the trial: a column the
 * extension's table lacks, or a key compared with an integer, fails there
 * and is refused by name.  NULL when the view reads no source table.
 */
static char *
retarget_view_text(DepPlan *plan, const char *def)
{
	StringInfoData out;
	const char *p = def;
	char		quote = 0;
	int			changed = 0;
	int			r;
	char	   *from[LG_NTABLES];
	char	   *to[LG_NTABLES];

	for (r = 0; r < LG_NTABLES; r++)
	{
		from[r] = OidIsValid(plan->roots[r])
			? quote_qualified_identifier(get_namespace_name(plan->src_schema), lg_tables[r].name)
			: NULL;
		to[r] = quote_qualified_identifier(get_namespace_name(plan->schema), lg_tables[r].name);
	}
	initStringInfo(&out);
	while (*p)
	{
		if (quote == 0 && (p == def || strchr(" \t\n(,", p[-1]) != NULL))
		{
			for (r = 0; r < LG_NTABLES; r++)
			{
				size_t		len;

				if (from[r] == NULL || strncmp(p, from[r], (len = strlen(from[r]))) != 0 ||
					(p[len] != '\0' && strchr(" \t\n),;", p[len]) == NULL))
					continue;
				appendStringInfoString(&out, to[r]);
				p += len;
				changed++;
				break;
			}
			if (r < LG_NTABLES)
				continue;
		}
		if (quote == 0 && (*p == '\'' || *p == '"'))
			quote = *p;
		else if (quote != 0 && *p == quote)
			quote = 0;			/* a doubled quote leaves and enters again */
		appendStringInfoChar(&out, *p);
		p++;
	}
	return changed > 0 ? out.data : NULL;
}

/*
 * The plan's items re-pointed at the extension's tables: the views'
 * definitions, the foreign keys' REFERENCES, and what the plan says.
 */
static void
plan_source_retarget(DepPlan *plan)
{
	ListCell   *lc;
	char	   *ext = dep_schema_name(plan);
	char	   *src = MemoryContextStrdup(plan->cxt,
										  quote_identifier(get_namespace_name(plan->src_schema)));

	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if ((it->type == DT_FK || it->type == DT_REF) && it->depends_on &&
			strncmp(it->depends_on, ext, strlen(ext)) == 0)
			it->depends_on = dep_pfmt(plan, "%s%s", src, it->depends_on + strlen(ext));
		if (it->type == DT_FK && it->reason == NULL)
		{
			char	   *from = psprintf(" REFERENCES %s.%s(", src, quote_identifier(it->referenced));
			char	   *at;

			/* the plan leaves definitions to dep_detach(), which this path skips */
			if (it->condef == NULL)
				it->condef = MemoryContextStrdup(plan->cxt,
												 TextDatumGetCString(DirectFunctionCall1(pg_get_constraintdef,
																						 ObjectIdGetDatum(it->conoid))));
			at = strstr(it->condef, from);

			if (at == NULL)
			{
				it->reason = MemoryContextStrdup(plan->cxt, "its definition names the legacy table in a way the carry cannot re-point");
				it->action = MemoryContextStrdup(plan->cxt, "none: convert_legacy refuses");
				plan->ncannot++;
				plan->ncarried--;
				continue;
			}
			it->condef = dep_pfmt(plan, "%.*s REFERENCES %s.%s(%s", (int) (at - it->condef), it->condef,
								  ext, quote_identifier(it->referenced), at + strlen(from));
			it->action = dep_pfmt(plan, "%s referencing %s.%s", it->action, ext,
								  quote_identifier(it->referenced));
		}
		else if (it->type == DT_VIEW && it->reason == NULL)
		{
			char	   *def = retarget_view_text(plan, it->query_sql);

			if (def == NULL)
				continue;		/* reads a converted column, no source table */
			it->create_sql = dep_pfmt(plan, "%.*s%s",
									  (int) (strlen(it->create_sql) - strlen(it->query_sql)),
									  it->create_sql, def);
			it->query_sql = MemoryContextStrdup(plan->cxt, def);
			it->action = dep_pfmt(plan, "drop; re-create reading %s's tables instead of %s's, with its owner, options, grants and comments%s",
								  ext, src, it->matview ? (it->populated ? ", indexes; refresh" : ", indexes (unpopulated, as it was)") : "");
		}
	}
}

/* The carry alters the referencing tables and re-creates the views: their owner's */
static void
check_source_owners(DepPlan *plan)
{
	ListCell   *lc;

	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);
		Oid			relid = it->type == DT_VIEW ? it->viewid : it->relid;

		if (it->type != DT_FK && it->type != DT_REF && it->type != DT_VIEW)
			continue;
		if (!object_ownercheck(RelationRelationId, relid, GetUserId()))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("must be owner of %s %s to carry it onto lane_google's tables",
							it->type == DT_VIEW ? it->kind : "table",
							it->type == DT_VIEW ? it->identity : it->relname),
					 errhint("Nothing was changed and no row was read.  Run the carrying conversion as the owner of the application's tables, or convert with dependents => 'keep'.")));
	}
}

/* The whole plan of convert_legacy's carry from src_schema */
DepPlan *
dep_build_source_plan(MemoryContext cxt, Oid src_schema, bool try_views, bool may_wait)
{
	DepPlan    *plan = MemoryContextAllocZero(cxt, sizeof(DepPlan));
	List	   *fk_oids = NIL;
	List	   *seeds = NIL;
	char	   *regtab;
	int			nest;
	ListCell   *lc;

	plan->cxt = cxt;
	plan->schema = lg_extension_schema();
	plan->src_schema = src_schema;
	if (src_schema == plan->schema)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source schema %s is lane_google's own schema",
						quote_identifier(get_namespace_name(src_schema)))));
	if (dep_keys_are_integer(plan->schema))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the lane_google tables are not at version 2.x"),
				 errhint("convert_legacy() copies into the uuid tables: run ALTER EXTENSION lane_google UPDATE first.")));
	plan->to_uuid = true;
	plan_source_roots(plan);

	nest = dep_catalog_begin();

	regtab = dep_references_table(plan);
	plan_source_direct(plan, &fk_oids, &seeds);
	dep_plan_foreign_keys(plan, fk_oids, regtab);
	dep_plan_references(plan, regtab);
	dep_plan_column_dependents(plan, &seeds);
	dep_plan_views(plan, seeds);
	plan_source_retarget(plan);
	dep_plan_view_columns(plan);
	if (may_wait && plan->ncannot == 0)
		check_source_owners(plan);
	if (try_views)
		dep_trial_views(plan, may_wait);
	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if (it->reason)
			it->action = MemoryContextStrdup(plan->cxt, "none: convert_legacy refuses");
	}

	dep_catalog_end(nest);
	return plan;
}

/*
 * convert_legacy(..., dependents => 'carry'), before any source row is
 * read (the sources are locked): the plan, the refusal naming everything it
 * cannot carry, and registered text references that hold no integer.
 */
void *
lg_dependents_source_plan(Oid src_schema)
{
	DepPlan    *plan = dep_build_source_plan(CurrentMemoryContext, src_schema, true, true);
	ListCell   *lc;
	int			nest;

	if (plan->ncannot > 0)
		dep_refuse(plan, psprintf(SOURCE_REFUSE_HINT, get_namespace_name(src_schema)));

	nest = dep_catalog_begin();
	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);
		const char *c;

		if (it->type != DT_REF)
			continue;
		c = quote_identifier(it->colname);
		dep_spi_exec(psprintf("SELECT pg_catalog.count(*), pg_catalog.string_agg(pg_catalog.quote_literal(v), ', ') FILTER (WHERE rn OPERATOR(pg_catalog.<=) 5)"
							  "  FROM (SELECT r.%s::pg_catalog.text AS v, pg_catalog.row_number() OVER () AS rn"
							  "          FROM %s r WHERE r.%s IS NOT NULL"
							  "           AND r.%s::pg_catalog.text OPERATOR(pg_catalog.!~) '^\\s*-?[0-9]{1,18}\\s*$') AS o",
							  c, it->relname, c, c),
					 SPI_OK_SELECT);
		if (SPI_processed > 0)
		{
			bool		isnull;
			int64		n = DatumGetInt64(dep_col_datum(0, 1, &isnull));

			if (n > 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						 errmsg("registered reference %s holds %lld value%s that %s no legacy id",
								it->identity, (long long) n, n == 1 ? "" : "s", n == 1 ? "is" : "are"),
						 errdetail("Values: %s.", dep_col(plan, 0, 2)),
						 errhint("Nothing was changed and no row was read.  Fix or clear these values, or remove the registration with lane_google.remove_legacy_reference().")));
		}
	}
	dep_catalog_end(nest);
	if (plan->ncarried > 0)
		ereport(NOTICE,
				(errmsg("lane_google: carrying %d dependent object%s from schema %s onto lane_google's tables",
						plan->ncarried, plan->ncarried == 1 ? "" : "s",
						quote_identifier(get_namespace_name(src_schema)))));
	return plan;
}
