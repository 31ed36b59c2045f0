/*-------------------------------------------------------------------------
 *
 * plan_keys.c
 *	  The plan's foreign keys into the 11 tables and registered references
 *	  (add_legacy_reference(): columns holding their ids without a
 *	  constraint): each referencing column, its type now and after, and how
 *	  its values convert (legacy_uuid() one way, the legacy id of the row set
 *	  aside the other way).  A foreign key onto other columns of one of the 11
 *	  tables is re-created as it is; one onto key columns together with others,
 *	  or a column of a type that does not convert, is refused.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "lane_google.h"
#include "dependents_int.h"

/* The name of the root relid (one of the 11), or NULL */
static const char *
root_name(DepPlan *plan, Oid relid)
{
	int			i;

	for (i = 0; i < LG_NTABLES; i++)
		if (plan->roots[i] == relid)
			return lg_tables[i].name;
	return NULL;
}

/* smallint, integer or bigint */
static bool
is_integer_type(Oid typid)
{
	return typid == INT2OID || typid == INT4OID || typid == INT8OID;
}

/*
 * The catalog query of dep_plan_foreign_keys() over $1, the foreign keys'
 * oids.  The definitions (pg_get_constraintdef) only for the update, once
 * it no longer refuses: dep_detach().  Column 12: the type a referencing
 * column returns to at the integer version.
 */
static char *
foreign_keys_query(const char *regtab)
{
	return psprintf("SELECT con.conrelid, pg_catalog.format('%%I.%%I', n.nspname, c.relname),"
					"       con.conname, con.oid,"
					"       con.convalidated, con.confrelid,"
					"       pg_catalog.array_length(con.conkey, 1),"
					"       (SELECT pg_catalog.string_agg(ra.attname, ',' ORDER BY k.i)"
					"          FROM pg_catalog.unnest(con.confkey) WITH ORDINALITY AS k(attnum, i)"
					"          JOIN pg_catalog.pg_attribute ra ON ra.attrelid OPERATOR(pg_catalog.=) con.confrelid"
					"                                         AND ra.attnum OPERATOR(pg_catalog.=) k.attnum),"
					"       a.attname, a.atttypid, pg_catalog.format_type(a.atttypid, a.atttypmod),"
					"       %s"
					"  FROM pg_catalog.pg_constraint con"
					"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) con.conrelid"
					"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
					"  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) con.conrelid"
					"                                AND a.attnum OPERATOR(pg_catalog.=) con.conkey[1]"
					" WHERE con.oid OPERATOR(pg_catalog.=) ANY ($1)"
					" ORDER BY 2, 3",
					regtab
					? psprintf("(SELECT pg_catalog.format_type(r.legacy_type, NULL) FROM %s r"
							   "  WHERE r.tab OPERATOR(pg_catalog.=) con.conrelid AND r.col OPERATOR(pg_catalog.=) a.attname"
							   "    AND r.legacy_type IS NOT NULL)", regtab)
					: "NULL::pg_catalog.text");
}

/*
 * Row i of foreign_keys_query(): the foreign key as an item, refused when
 * its column cannot convert or it references key columns of one of the
 * 11 tables together with others.  *legacy_type: column 12.
 */
static DepItem *
foreign_key_item(DepPlan *plan, int i, char **legacy_type)
{
	DepItem    *it = dep_new_item(plan, DT_FK, "foreign key");
	bool		isnull;
	const char *refcols;
	const char *parent;
	const LgTable *t;
	int			ncols;
	Oid			atttypid;

	it->relid = DatumGetObjectId(dep_col_datum(i, 1, &isnull));
	it->relname = dep_col(plan, i, 2);
	it->conname = dep_col(plan, i, 3);
	it->conoid = DatumGetObjectId(dep_col_datum(i, 4, &isnull));
	it->validated = DatumGetBool(dep_col_datum(i, 5, &isnull));
	parent = root_name(plan, DatumGetObjectId(dep_col_datum(i, 6, &isnull)));
	ncols = DatumGetInt32(dep_col_datum(i, 7, &isnull));
	refcols = dep_col(plan, i, 8);
	it->colname = dep_col(plan, i, 9);
	atttypid = DatumGetObjectId(dep_col_datum(i, 10, &isnull));
	it->from_type = dep_col(plan, i, 11);
	*legacy_type = dep_col(plan, i, 12);
	it->referenced = MemoryContextStrdup(plan->cxt, parent);
	it->identity = dep_pfmt(plan, "%s on %s", quote_identifier(it->conname), it->relname);
	it->depends_on = dep_pfmt(plan, "%s.%s(%s)", dep_schema_name(plan), quote_identifier(parent), refcols);
	t = lg_find_table(parent);

	if (ncols == 1 && strcmp(refcols, "id") == 0)
	{
		if (plan->to_uuid && !is_integer_type(atttypid))
			it->reason = dep_pfmt(plan, "column %s is %s: only smallint, integer and bigint references convert",
								  quote_identifier(it->colname), it->from_type);
		else if (!plan->to_uuid && atttypid != UUIDOID)
			it->reason = dep_pfmt(plan, "column %s is %s, not uuid",
								  quote_identifier(it->colname), it->from_type);
	}
	else
	{
		/* a unique key of non-key columns: the constraint is re-created as it is */
		char	   *copy = pstrdup(refcols);
		char	   *tok;
		char	   *save;

		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			if (dep_is_key_column(t, tok))
				it->reason = dep_pfmt(plan, "references key columns (%s) of %s together with other columns",
									  refcols, parent);
	}
	return it;
}

/* What the conversion does with a foreign key it carries, or that it refuses */
static void
foreign_key_action(DepPlan *plan, DepItem *it, char *legacy_type)
{
	if (it->reason)
	{
		it->action = MemoryContextStrdup(plan->cxt, "none: the update refuses");
		plan->ncannot++;
		return;
	}
	plan->ncarried++;
	if (strcmp(it->depends_on + strlen(it->depends_on) - 4, "(id)") != 0)
	{
		it->action = MemoryContextStrdup(plan->cxt, "re-create the constraint (its columns keep their type)");
		return;
	}
	if (plan->to_uuid)
	{
		it->to_type = MemoryContextStrdup(plan->cxt, "uuid");
		it->action = dep_pfmt(plan, "convert %s %s -> uuid by legacy_uuid('%s', %s); re-create the constraint",
							  quote_identifier(it->colname), it->from_type,
							  it->referenced, quote_identifier(it->colname));
	}
	else
	{
		it->to_type = legacy_type ? legacy_type
			: MemoryContextStrdup(plan->cxt, "integer");
		it->action = dep_pfmt(plan, "convert %s uuid -> %s by the legacy id of the %s row; re-create the constraint",
							  quote_identifier(it->colname), it->to_type, it->referenced);
	}
}

/*
 * The foreign keys of other tables into the 11 (fk_oids, from
 * dep_plan_direct()).  regtab: legacy_references, or NULL.
 */
void
dep_plan_foreign_keys(DepPlan *plan, List *fk_oids, const char *regtab)
{
	int			i;
	uint64		n;
	Oid			argtypes[1] = {OIDARRAYOID};
	Datum		args[1];
	char	  **legacy_types;
	DepItem   **items;
	SPITupleTable *tt;

	if (fk_oids == NIL)
		return;
	args[0] = dep_oid_array(fk_oids);
	if (SPI_execute_with_args(foreign_keys_query(regtab), 1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	n = SPI_processed;
	legacy_types = palloc(sizeof(char *) * (n + 1));
	items = palloc(sizeof(DepItem *) * (n + 1));

	/* copy out */
	tt = SPI_tuptable;
	for (i = 0; i < n; i++)
	{
		SPI_tuptable = tt;
		items[i] = foreign_key_item(plan, i, &legacy_types[i]);
	}
	/* the target types, once the tuple table is no longer needed */
	for (i = 0; i < n; i++)
		foreign_key_action(plan, items[i], legacy_types[i]);
}

/*
 * Which registrations a plan reads: "campaigns" names the extension's table
 * (the update's), "public.campaigns" an application's legacy table that
 * convert_legacy() copies from schema public (that source's carry).
 */
static char *
references_filter(DepPlan *plan)
{
	if (!OidIsValid(plan->src_schema))
		return "pg_catalog.strpos(r.referenced, '.') OPERATOR(pg_catalog.=) 0";
	return psprintf("pg_catalog.starts_with(r.referenced, %s)",
					quote_literal_cstr(psprintf("%s.",
												quote_identifier(get_namespace_name(plan->src_schema)))));
}

/*
 * Row i of dep_plan_references()'s query, not a declared foreign key's
 * column: the registration as an item, refused when its table is not an
 * application's or gone, its column gone, or of a type that does not
 * convert.
 */
static DepItem *
reference_item(DepPlan *plan, int i, Oid relid, char *colname)
{
	DepItem    *it = dep_new_item(plan, DT_REF, "registered reference");
	bool		isnull;
	Oid			atttypid;
	char	   *refusal;

	it->relid = relid;
	it->colname = colname;
	it->relname = dep_col(plan, i, 2);
	it->referenced = dep_col(plan, i, 4);
	it->depends_on = dep_pfmt(plan, "%s.%s(id)", dep_schema_name(plan), quote_identifier(it->referenced));
	if (it->relname == NULL)
	{
		it->identity = dep_pfmt(plan, "%s.%s", dep_col(plan, i, 8), quote_identifier(colname));
		it->reason = MemoryContextStrdup(plan->cxt, "the registered table no longer exists");
		return it;
	}
	it->identity = dep_pfmt(plan, "%s.%s", it->relname, quote_identifier(colname));
	atttypid = DatumGetObjectId(dep_col_datum(i, 5, &isnull));
	/* registered before add_legacy_reference() refused these */
	if ((refusal = dep_reference_table_refusal(relid)) != NULL)
		it->reason = dep_pfmt(plan, "table %s: not an application's table", refusal);
	else if (isnull)
		it->reason = MemoryContextStrdup(plan->cxt, "the registered column no longer exists");
	else
	{
		it->from_type = dep_col(plan, i, 6);
		if (plan->to_uuid && !is_integer_type(atttypid) && atttypid != TEXTOID &&
			atttypid != VARCHAROID)
			it->reason = dep_pfmt(plan, "column is %s: only smallint, integer, bigint, text and varchar references convert",
								  it->from_type);
		else if (!plan->to_uuid && atttypid != UUIDOID)
			it->reason = dep_pfmt(plan, "column is %s, not uuid", it->from_type);
	}
	return it;
}

/* Is relid.colname the column of a foreign key the plan already has? */
static bool
declared_reference(DepPlan *plan, Oid relid, const char *colname)
{
	ListCell   *lc;
	bool		dup = false;

	foreach(lc, plan->items)
	{
		DepItem    *other = lfirst(lc);

		if (other->type == DT_FK && other->relid == relid &&
			strcmp(other->colname, colname) == 0)
			dup = true;
	}
	return dup;
}

/*
 * The registered references (legacy_references, regtab; none when NULL)
 * that no declared foreign key carries already
 */
void
dep_plan_references(DepPlan *plan, const char *regtab)
{
	uint64		n;
	int			i;
	SPITupleTable *tt;

	if (regtab == NULL)
		return;
	dep_spi_exec(psprintf("SELECT r.tab, pg_catalog.format('%%I.%%I', n.nspname, c.relname), r.col,"
						  "       pg_catalog.regexp_replace(r.referenced, '^.*\\.', ''), a.atttypid, pg_catalog.format_type(a.atttypid, a.atttypmod),"
						  "       pg_catalog.format_type(r.legacy_type, NULL), r.tab::pg_catalog.text"
						  "  FROM %s r"
						  "  LEFT JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) r.tab"
						  "  LEFT JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
						  "  LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) r.tab AND a.attname OPERATOR(pg_catalog.=) r.col"
						  "                                    AND NOT a.attisdropped"
						  " WHERE NOT r.declared AND %s ORDER BY 2, 3", regtab,
						  references_filter(plan)),
				 SPI_OK_SELECT);
	n = SPI_processed;
	tt = SPI_tuptable;
	for (i = 0; i < n; i++)
	{
		DepItem    *it;
		bool		isnull;
		Oid			relid;
		char	   *colname;

		SPI_tuptable = tt;
		relid = DatumGetObjectId(dep_col_datum(i, 1, &isnull));
		colname = dep_col(plan, i, 3);
		if (declared_reference(plan, relid, colname))
			continue;			/* a declared foreign key carries it */

		it = reference_item(plan, i, relid, colname);
		if (it->reason)
		{
			it->action = MemoryContextStrdup(plan->cxt, "none: the update refuses");
			plan->ncannot++;
			continue;
		}
		plan->ncarried++;
		if (plan->to_uuid)
		{
			it->to_type = MemoryContextStrdup(plan->cxt, "uuid");
			it->action = dep_pfmt(plan, "convert %s %s -> uuid by legacy_uuid('%s', %s)",
								  quote_identifier(colname), it->from_type, it->referenced,
								  quote_identifier(colname));
		}
		else
		{
			char	   *lt = dep_col(plan, i, 7);

			it->to_type = lt ? lt : MemoryContextStrdup(plan->cxt, "integer");
			it->action = dep_pfmt(plan, "convert %s uuid -> %s by the legacy id of the %s row",
								  quote_identifier(colname), it->to_type, it->referenced);
		}
	}
}
