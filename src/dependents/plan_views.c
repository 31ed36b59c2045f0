/*-------------------------------------------------------------------------
 *
 * plan_views.c
 *	  The plan's views and materialized views: those over the 11 tables or
 *	  over a converted column, and every view over those, each with the depth
 *	  that orders their re-creation, the SQL that re-creates it (owner,
 *	  options, tablespace, grants, comments, indexes, its columns' privileges
 *	  and defaults) and what it depends on.  Anything else that depends on a
 *	  carried view (a trigger, a rule, a policy, a function) cannot be carried.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "lane_google.h"
#include "dependents_int.h"

/* dep_plan_views(): a carried view by its oid */
typedef struct ViewEntry
{
	Oid			viewid;
	DepItem    *item;
} ViewEntry;

/*
 * The views over $1 (the seeds: views over the 11 tables or over converted
 * columns), and every view over those, with their depth (the longest path
 * from a seed) and what re-creating them needs
 */
static const char views_sql[] =
"WITH RECURSIVE v(oid, depth) AS ("
"    SELECT s, 1 FROM pg_catalog.unnest($1) AS s"
"  UNION ALL"
"    SELECT r.ev_class, v.depth OPERATOR(pg_catalog.+) 1 FROM v"
"      JOIN pg_catalog.pg_depend d"
"        ON d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
"       AND d.refobjid OPERATOR(pg_catalog.=) v.oid"
"       AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
"      JOIN pg_catalog.pg_rewrite r ON r.oid OPERATOR(pg_catalog.=) d.objid"
"     WHERE r.ev_class OPERATOR(pg_catalog.<>) v.oid AND v.depth OPERATOR(pg_catalog.<) 100"
")"
"SELECT v.oid, pg_catalog.max(v.depth),"
"       pg_catalog.format('%I.%I', n.nspname, c.relname), c.relkind,"
"       pg_catalog.pg_get_viewdef(v.oid),"
"       pg_catalog.pg_get_userbyid(c.relowner),"
"       pg_catalog.array_to_string(c.reloptions, ', '),"
"       c.relispopulated,"
"       (SELECT ds.description FROM pg_catalog.pg_description ds"
"         WHERE ds.objoid OPERATOR(pg_catalog.=) v.oid AND ds.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
"           AND ds.objsubid OPERATOR(pg_catalog.=) 0),"
"       (SELECT t.spcname FROM pg_catalog.pg_tablespace t WHERE t.oid OPERATOR(pg_catalog.=) c.reltablespace),"
"       (SELECT pg_catalog.string_agg(pg_catalog.format('GRANT %s ON %I.%I TO %s%s',"
"                 a.privilege_type, n.nspname, c.relname,"
"                 CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'"
"                      ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END,"
"                 CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END), '; ')"
"          FROM pg_catalog.aclexplode(c.relacl) AS a),"
"       (SELECT pg_catalog.string_agg(pg_catalog.pg_get_indexdef(i.indexrelid), '; ')"
"          FROM pg_catalog.pg_index i WHERE i.indrelid OPERATOR(pg_catalog.=) v.oid),"
"       (SELECT pg_catalog.string_agg(pg_catalog.format('COMMENT ON COLUMN %I.%I.%I IS %L',"
"                 n.nspname, c.relname, a.attname, ds.description), '; ')"
"          FROM pg_catalog.pg_description ds"
"          JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) ds.objoid AND a.attnum OPERATOR(pg_catalog.=) ds.objsubid"
"         WHERE ds.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
"           AND ds.objoid OPERATOR(pg_catalog.=) v.oid AND ds.objsubid OPERATOR(pg_catalog.>) 0),"
"       c.relacl IS NOT NULL"
"  FROM v JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) v.oid"
"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
" GROUP BY v.oid, n.nspname, c.relname, c.relkind, c.relowner, c.reloptions,"
"          c.relispopulated, c.reltablespace, c.relacl"
" ORDER BY 2, 3";

/* What each view of $1 reads, for the plan's depends_on column */
static const char views_depends_on_sql[] =
"SELECT r.ev_class, pg_catalog.string_agg(DISTINCT pg_catalog.format('%I.%I', n.nspname, c.relname), ', ')"
"  FROM pg_catalog.pg_rewrite r"
"  JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
"                             AND d.objid OPERATOR(pg_catalog.=) r.oid"
"                             AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) d.refobjid AND c.oid OPERATOR(pg_catalog.<>) r.ev_class"
"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
" WHERE r.ev_class OPERATOR(pg_catalog.=) ANY ($1)"
" GROUP BY r.ev_class";

/* The views of $1 another view of $1 reads */
static const char views_parents_sql[] =
"SELECT DISTINCT d.refobjid FROM pg_catalog.pg_rewrite r"
"  JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
"                             AND d.objid OPERATOR(pg_catalog.=) r.oid"
"                             AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
" WHERE r.ev_class OPERATOR(pg_catalog.=) ANY ($1)"
"   AND d.refobjid OPERATOR(pg_catalog.=) ANY ($1) AND d.refobjid OPERATOR(pg_catalog.<>) r.ev_class";

/* Anything else over a view of $1 */
static const char views_dependents_sql[] =
"SELECT DISTINCT pg_catalog.pg_describe_object(d.classid, d.objid, 0),"
"       pg_catalog.pg_describe_object(d.refclassid, d.refobjid, 0),"
"       CASE"
"         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_trigger'::pg_catalog.regclass THEN 'trigger'"
"         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass THEN 'rule'"
"         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass THEN 'function'"
"         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_policy'::pg_catalog.regclass THEN 'policy'"
"         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass THEN 'statistics object'"
"         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_publication_rel'::pg_catalog.regclass THEN 'publication'"
"         ELSE 'other' END"
"  FROM pg_catalog.pg_depend d"
"  JOIN pg_catalog.pg_class v ON v.oid OPERATOR(pg_catalog.=) ANY ($1)"
" WHERE d.deptype OPERATOR(pg_catalog.=) ANY (ARRAY['n', 'a']::pg_catalog.\"char\"[])"
"   AND ((d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid OPERATOR(pg_catalog.=) v.oid)"
"     OR (d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass AND d.refobjid OPERATOR(pg_catalog.=) v.reltype))"
"   AND NOT (d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
"            AND (SELECT r.ev_class FROM pg_catalog.pg_rewrite r WHERE r.oid OPERATOR(pg_catalog.=) d.objid)"
"                OPERATOR(pg_catalog.=) ANY ($1))"
"   AND NOT (d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
"            AND (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) d.objid) OPERATOR(pg_catalog.=) ANY (ARRAY['i', 't']::pg_catalog.\"char\"[]))"
"   AND d.classid OPERATOR(pg_catalog.<>) 'pg_catalog.pg_type'::pg_catalog.regclass"
"   AND d.classid OPERATOR(pg_catalog.<>) 'pg_catalog.pg_attrdef'::pg_catalog.regclass"
" ORDER BY 1";

/*
 * Row i of views_sql: what a carried view keeps after its definition, in
 * order: its owner, its grants (when it has any: the owner's are revoked
 * first, as the view had them), its comment, its columns' comments, its
 * indexes
 */
static char *
view_after_sql(DepPlan *plan, DepItem *it, int i, const char *what)
{
	StringInfoData after;
	bool		isnull;
	char	   *v;

	initStringInfo(&after);
	appendStringInfo(&after, "ALTER %s %s OWNER TO %s", what, it->identity,
					 quote_identifier(dep_col(plan, i, 6)));
	if (DatumGetBool(dep_col_datum(i, 14, &isnull)))
	{
		appendStringInfo(&after, "; REVOKE ALL ON %s FROM %s", it->identity,
						 quote_identifier(dep_col(plan, i, 6)));
		if ((v = dep_col(plan, i, 11)) != NULL)
			appendStringInfo(&after, "; %s", v);
	}
	if ((v = dep_col(plan, i, 9)) != NULL)
		appendStringInfo(&after, "; COMMENT ON %s %s IS %s", what, it->identity,
						 quote_literal_cstr(v));
	if ((v = dep_col(plan, i, 13)) != NULL)
		appendStringInfo(&after, "; %s", v);
	if ((v = dep_col(plan, i, 12)) != NULL)
		appendStringInfo(&after, "; %s", v);
	return MemoryContextStrdup(plan->cxt, after.data);
}

/* Row i of views_sql: the carried view as an item, with the SQL that re-creates it */
static DepItem *
view_item(DepPlan *plan, int i)
{
	bool		isnull;
	bool		matview;
	DepItem    *it;
	char	   *opts;
	char	   *spc;
	char	   *def;
	const char *what;

	matview = DatumGetChar(dep_col_datum(i, 4, &isnull)) == RELKIND_MATVIEW;
	what = matview ? "MATERIALIZED VIEW" : "VIEW";
	it = dep_new_item(plan, DT_VIEW, matview ? "materialized view" : "view");
	it->viewid = DatumGetObjectId(dep_col_datum(i, 1, &isnull));
	it->depth = DatumGetInt32(dep_col_datum(i, 2, &isnull));
	it->identity = dep_col(plan, i, 3);
	it->matview = matview;
	def = dep_col(plan, i, 5);
	opts = dep_col(plan, i, 7);
	it->populated = DatumGetBool(dep_col_datum(i, 8, &isnull));
	spc = dep_col(plan, i, 10);
	/* pg_get_viewdef ends with ';' */
	if (def && strlen(def) > 0 && def[strlen(def) - 1] == ';')
		def[strlen(def) - 1] = '\0';
	it->create_sql = dep_pfmt(plan, "CREATE %s %s%s%s%s%s AS %s",
							  what, it->identity,
							  opts && *opts ? " WITH (" : "", opts && *opts ? opts : "",
							  opts && *opts ? ")" : "",
							  spc ? psprintf(" TABLESPACE %s", quote_identifier(spc)) : "",
							  def);
	it->drop_sql = dep_pfmt(plan, "DROP %s %s", what, it->identity);
	it->query_sql = MemoryContextStrdup(plan->cxt, def);
	it->after_sql = view_after_sql(plan, it, i, what);
	it->depends_on = MemoryContextStrdup(plan->cxt, "");
	it->action = matview
		? MemoryContextStrdup(plan->cxt, it->populated
							  ? "drop; re-create over the converted tables with its owner, options, grants, comments and indexes; refresh"
							  : "drop; re-create over the converted tables with its owner, options, grants, comments and indexes (unpopulated, as it was)")
		: MemoryContextStrdup(plan->cxt, "drop; re-create over the converted tables with its owner, options, grants and comments");
	plan->ncarried++;
	return it;
}

/* Run one of the queries above over views, an oid[] Datum */
static void
views_query(const char *sql, Datum views)
{
	Oid			argtypes[1] = {OIDARRAYOID};
	Datum		args[1];

	args[0] = views;
	if (SPI_execute_with_args(sql, 1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
}

/* The item of the carried view of column 1 of row i, or NULL */
static DepItem *
view_of_row(HTAB *byoid, int i)
{
	bool		isnull;
	Oid			viewid = DatumGetObjectId(dep_col_datum(i, 1, &isnull));
	ViewEntry  *e = hash_search(byoid, &viewid, HASH_FIND, NULL);

	return e ? e->item : NULL;
}

/*
 * Views over the 11 tables or over converted columns, and every view over
 * those, with the depth that orders their re-creation.  Anything else that
 * depends on one of them cannot be carried.
 */
void
dep_plan_views(DepPlan *plan, List *seeds)
{
	uint64		n;
	int			i;
	List	   *views = NIL;
	Datum		views_array;
	SPITupleTable *tt;
	HTAB	   *byoid;
	HASHCTL		ctl;
	DepItem    *it;

	if (seeds == NIL)
		return;
	/* the views by oid: the queries below name thousands of them */
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(ViewEntry);
	ctl.hcxt = CurrentMemoryContext;
	byoid = hash_create("lane_google views", 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	views_query(views_sql, dep_oid_array(seeds));
	n = SPI_processed;
	tt = SPI_tuptable;
	for (i = 0; i < n; i++)
	{
		SPI_tuptable = tt;
		it = view_item(plan, i);
		views = lappend_oid(views, it->viewid);
		((ViewEntry *) hash_search(byoid, &it->viewid, HASH_ENTER, NULL))->item = it;
	}

	/* what the views depend on, for the plan's depends_on column */
	views_array = dep_oid_array(views);
	views_query(views_depends_on_sql, views_array);
	for (i = 0; i < SPI_processed; i++)
		if ((it = view_of_row(byoid, i)) != NULL)
			it->depends_on = dep_col(plan, i, 2);

	/* the views other carried views read: the trial re-creates those */
	views_query(views_parents_sql, views_array);
	for (i = 0; i < SPI_processed; i++)
		if ((it = view_of_row(byoid, i)) != NULL)
			it->parent = true;

	/* anything else over a carried view */
	views_query(views_dependents_sql, views_array);
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *category = dep_col(plan, i, 3);

		dep_plan_cannot(plan, category, dep_col(plan, i, 1), dep_col(plan, i, 2),
						"depends on a view the update re-creates");
	}
}

/*
 * What a carried view's columns have besides their comments: privileges
 * (GRANT ... (col) ON view) and defaults (ALTER VIEW ... SET DEFAULT),
 * applied after its grants.
 */
void
dep_plan_view_columns(DepPlan *plan)
{
	ListCell   *lc;
	List	   *views = NIL;
	uint64		i;

	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if (it->type == DT_VIEW)
			views = lappend_oid(views, it->viewid);
	}
	if (views == NIL)
		return;
	dep_carry_query("SELECT a.attrelid,"
					"       pg_catalog.concat_ws('; ',"
					"         (SELECT pg_catalog.string_agg(pg_catalog.format('GRANT %s (%I) ON %I.%I TO %s%s',"
					"                   x.privilege_type, a.attname, n.nspname, c.relname,"
					"                   CASE WHEN x.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'"
					"                        ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(x.grantee)) END,"
					"                   CASE WHEN x.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END), '; ')"
					"            FROM pg_catalog.aclexplode(a.attacl) AS x),"
					"         (SELECT pg_catalog.format('ALTER %s %I.%I ALTER COLUMN %I SET DEFAULT %s',"
					"                   CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END,"
					"                   n.nspname, c.relname, a.attname, pg_catalog.pg_get_expr(ad.adbin, ad.adrelid))"
					"            FROM pg_catalog.pg_attrdef ad WHERE ad.adrelid OPERATOR(pg_catalog.=) a.attrelid AND ad.adnum OPERATOR(pg_catalog.=) a.attnum)),"
					"       (SELECT pg_catalog.format('ALTER VIEW %I.%I ALTER COLUMN %I SET DEFAULT %s',"
					"                   n.nspname, c.relname, a.attname, pg_catalog.pg_get_expr(ad.adbin, ad.adrelid))"
					"          FROM pg_catalog.pg_attrdef ad WHERE ad.adrelid OPERATOR(pg_catalog.=) a.attrelid AND ad.adnum OPERATOR(pg_catalog.=) a.attnum)"
					"  FROM pg_catalog.pg_attribute a"
					"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) a.attrelid"
					"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
					" WHERE a.attrelid OPERATOR(pg_catalog.=) ANY ($1) AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"
					"   AND (a.attacl IS NOT NULL OR a.atthasdef)"
					" ORDER BY a.attrelid, a.attnum",
					views, plan);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			viewid = DatumGetObjectId(dep_col_datum(i, 1, &isnull));
		char	   *sql = dep_col(plan, i, 2);

		char	   *setdef = dep_col(plan, i, 3);

		if (sql == NULL || *sql == '\0')
			continue;
		foreach(lc, plan->items)
		{
			DepItem    *it = lfirst(lc);

			if (it->type != DT_VIEW || it->viewid != viewid)
				continue;
			it->after_sql = dep_pfmt(plan, "%s; %s", it->after_sql, sql);
			/* a default may not fit the column's new type: tried first */
			if (setdef)
				it->trial_sql = it->trial_sql
					? dep_pfmt(plan, "%s; %s", it->trial_sql, setdef)
					: dep_pfmt(plan, "DROP %s IF EXISTS %s CASCADE; %s%s; %s",
							   it->matview ? "MATERIALIZED VIEW" : "VIEW", it->identity,
							   it->create_sql, it->matview ? " WITH NO DATA" : "", setdef);
		}
	}
}
