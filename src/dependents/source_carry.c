/*-------------------------------------------------------------------------
 *
 * source_carry.c
 *	  convert_legacy(..., dependents => 'carry'), after the rows are
 *	  converted: references to rows that were not converted (an error, or set
 *	  NULL with the row kept in legacy_quarantine, after checking that doing
 *	  so runs no other role's code with the caller's rights), then the
 *	  update's own convert and attach steps on the source plan, then the
 *	  registrations name the extension's tables.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "lane_google.h"
#include "dependents_int.h"

/*
 * convert_legacy's carry sets a reference to a row that was not converted
 * NULL (on_orphan 'quarantine' or 'null') by an UPDATE of the application's
 * table, which checks the row against every CHECK constraint of the table
 * with the rights of the role converting (typically a superuser; the table
 * an application role's).  A constraint calling a function (or an
 * operator's) that is not SECURITY DEFINER, of a role without those
 * privileges, would lend it those rights: refused, named, before the
 * UPDATE (everything is rolled back).  The type change of a referencing
 * column re-checks only the constraints on that column, which the plan
 * refuses anyway (their expressions would change type).
 */
static const char update_rights_sql[] =
"SELECT pg_catalog.quote_ident(c.conname::pg_catalog.text),"
"       p.oid::pg_catalog.regprocedure::pg_catalog.text,"
"       pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(p.proowner)::pg_catalog.text)"
"  FROM pg_catalog.pg_constraint c"
"  JOIN pg_catalog.pg_depend d"
"    ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_constraint'::pg_catalog.regclass"
"   AND d.objid OPERATOR(pg_catalog.=) c.oid"
"  LEFT JOIN pg_catalog.pg_operator o"
"    ON d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_operator'::pg_catalog.regclass"
"   AND o.oid OPERATOR(pg_catalog.=) d.refobjid"
"  JOIN pg_catalog.pg_proc p"
"    ON p.oid OPERATOR(pg_catalog.=) CASE WHEN d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass"
"                                         THEN d.refobjid ELSE o.oprcode::pg_catalog.oid END"
" WHERE c.conrelid OPERATOR(pg_catalog.=) $1 AND c.contype OPERATOR(pg_catalog.=) 'c'"
"   AND NOT p.prosecdef"
"   AND NOT pg_catalog.pg_has_role(p.proowner, $2, 'USAGE')"
" ORDER BY 1, 2 LIMIT 1";

/*
 * The quarantine's to_jsonb() of such a row calls the cast to json of a
 * column's type (not a built-in one), with the caller's rights too.
 */
static const char json_cast_rights_sql[] =
"SELECT pg_catalog.quote_ident(a.attname::pg_catalog.text),"
"       p.oid::pg_catalog.regprocedure::pg_catalog.text,"
"       pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(p.proowner)::pg_catalog.text)"
"  FROM pg_catalog.pg_attribute a"
"  JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) a.atttypid"
"  JOIN pg_catalog.pg_cast k"
"    ON k.castsource OPERATOR(pg_catalog.=) ANY (ARRAY[a.atttypid, t.typbasetype, t.typelem])"
"   AND k.casttarget OPERATOR(pg_catalog.=) 'pg_catalog.json'::pg_catalog.regtype"
"  JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) k.castfunc"
" WHERE a.attrelid OPERATOR(pg_catalog.=) $1 AND a.attnum OPERATOR(pg_catalog.>) 0"
"   AND NOT a.attisdropped"
"   AND NOT p.prosecdef"
"   AND NOT pg_catalog.pg_has_role(p.proowner, $2, 'USAGE')"
" ORDER BY 1, 2 LIMIT 1";

static void
check_update_rights(DepItem *it)
{
	Oid			argtypes[2] = {OIDOID, OIDOID};
	Datum		args[2];
	Relation	rel;

	/* its triggers */
	rel = relation_open(it->relid, AccessShareLock);
	lg_check_trigger_rights(rel, it->relname, TRIGGER_TYPE_UPDATE,
							"Setting references to rows that were not converted NULL would");
	relation_close(rel, AccessShareLock);

	/* its CHECK constraints */
	args[0] = ObjectIdGetDatum(it->relid);
	args[1] = ObjectIdGetDatum(GetUserId());
	if (SPI_execute_with_args(update_rights_sql, 2, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	if (SPI_processed > 0)
	{
		char	   *conname = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		char	   *func = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		char	   *owner = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);

		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("check constraint %s on table %s would run function %s of role %s with the rights of role %s",
						conname, it->relname, func, owner,
						quote_identifier(GetUserNameFromId(GetUserId(), false))),
				 errdetail("Setting references to rows that were not converted NULL checks the rows against the table's constraints with the caller's rights; the function is not SECURITY DEFINER, and its owner does not have the caller's privileges."),
				 errhint("Nothing was converted.  Drop the constraint for the conversion and add it again after, fix the references first, or have a role trusted with your rights own the function.")));
	}

	/* the quarantine's copy of the row: its columns' casts to json */
	if (SPI_execute_with_args(json_cast_rights_sql, 2, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("column %s of table %s has a cast to json, function %s of role %s, which would run with the rights of role %s",
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), it->relname,
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2),
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3),
						quote_identifier(GetUserNameFromId(GetUserId(), false))),
				 errdetail("Setting references to rows that were not converted NULL keeps the rows as they were in legacy_quarantine, as jsonb, with the caller's rights; the function is not SECURITY DEFINER, and its owner does not have the caller's privileges."),
				 errhint("Nothing was converted.  Fix the references first, or have a role trusted with your rights own the function.")));
}

/*
 * References whose row was not converted (quarantined, or missing from the
 * source: a registered reference has no constraint).  on_orphan 'error':
 * one error naming them all.  'quarantine' or 'null': the reference is set
 * NULL (the application's row itself is never deleted) and the row as it
 * was is kept in legacy_quarantine with its reason; in a NOT NULL column
 * that is an error too.
 */
static void
source_dangling(DepPlan *plan, bool orphans_null)
{
	char	   *nsp = dep_schema_name(plan);
	StringInfoData detail;
	int64		total = 0;
	int64		nulled = 0;
	ListCell   *lc;

	initStringInfo(&detail);
	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);
		const char *c;
		char	   *cond;
		bool		isnull;
		int64		n;
		bool		notnull;

		if ((it->type != DT_FK && it->type != DT_REF) || !it->to_type)
			continue;
		c = quote_identifier(it->colname);
		cond = psprintf("r.%s IS NOT NULL AND NOT EXISTS (SELECT FROM %s.%s p"
						" WHERE p.id OPERATOR(pg_catalog.=) %s.legacy_uuid(%s, pg_catalog.btrim(r.%s::pg_catalog.text)::pg_catalog.int8))",
						c, nsp, quote_identifier(it->referenced), nsp,
						quote_literal_cstr(it->referenced), c);
		dep_spi_exec(psprintf("SELECT pg_catalog.count(*), pg_catalog.string_agg(v, ', ') FILTER (WHERE rn OPERATOR(pg_catalog.<=) 5)"
							  "  FROM (SELECT r.%s::pg_catalog.text AS v, pg_catalog.row_number() OVER () AS rn"
							  "          FROM %s r WHERE %s) AS o", c, it->relname, cond),
					 SPI_OK_SELECT);
		n = DatumGetInt64(dep_col_datum(0, 1, &isnull));
		if (n == 0)
			continue;
		{
			Relation	rel = relation_open(it->relid, AccessShareLock);

			notnull = TupleDescAttr(RelationGetDescr(rel),
									get_attnum(it->relid, it->colname) - 1)->attnotnull;
			relation_close(rel, AccessShareLock);
		}
		if (!orphans_null || notnull)
		{
			appendStringInfo(&detail, "%s%s.%s -> %s: " INT64_FORMAT " row%s, key%s %s%s%s",
							 detail.len ? "\n" : "", it->relname, c, it->referenced, n,
							 n == 1 ? "" : "s", n == 1 ? "" : "s", dep_col(plan, 0, 2),
							 n > 5 ? ", ..." : "", notnull && orphans_null ? " (NOT NULL column)" : "");
			total += n;
			continue;
		}
		/* the UPDATE below runs the table's triggers and checks as the caller */
		check_update_rights(it);
		dep_spi_exec(psprintf("INSERT INTO %s.legacy_quarantine (table_name, reason, row_data)"
							  " SELECT %s, %s, pg_catalog.to_jsonb(r) FROM %s r WHERE %s",
							  nsp, quote_literal_cstr(it->relname),
							  quote_literal_cstr(psprintf("%s references a %s row that was not converted: set NULL by the carry",
														  it->colname, it->referenced)),
							  it->relname, cond),
					 SPI_OK_INSERT);
		dep_spi_exec(psprintf("UPDATE %s r SET %s = NULL WHERE %s", it->relname, c, cond), SPI_OK_UPDATE);
		nulled += n;
	}
	if (total > 0)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg(INT64_FORMAT " reference%s of the application's tables point%s at legacy rows that were not converted",
						total, total == 1 ? "" : "s", total == 1 ? "s" : ""),
				 errdetail("%s", detail.data),
				 errhint("Nothing was changed.  Fix these rows, or use on_orphan => 'quarantine' or 'null' to set nullable references NULL (the rows are kept in lane_google.legacy_quarantine).")));
	if (nulled > 0)
		ereport(NOTICE,
				(errmsg("lane_google: set " INT64_FORMAT " reference%s to rows that were not converted to NULL; the rows as they were are in legacy_quarantine",
						nulled, nulled == 1 ? "" : "s")));
}

/* The update's steps, on this plan: dep_pending never outlives them */
static void
source_steps(DepPlan *plan)
{
	dep_register_xact_callback();
	plan->stage = STAGE_PLANNED;
	dep_pending = plan;
	PG_TRY();
	{
		dep_convert("");
		dep_attach();
	}
	PG_FINALLY();
	{
		dep_pending = NULL;
	}
	PG_END_TRY();
}

/*
 * After the rows are converted: the references whose row was not
 * converted, then the update's own steps (views and foreign keys dropped,
 * referencing columns to uuid, everything re-created onto the extension's
 * tables), then the registrations now name the extension's tables.
 */
void
lg_dependents_source_carry(void *arg, bool orphans_null)
{
	DepPlan    *plan = (DepPlan *) arg;
	List	   *validate = NIL;
	ListCell   *lc;
	int			nest;

	nest = dep_catalog_begin();
	source_dangling(plan, orphans_null);
	/* a foreign key onto a non-key column: its rows were not all converted */
	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if (it->type == DT_FK && !it->to_type && it->validated)
		{
			it->validated = false;
			validate = lappend(validate, it);
		}
	}
	dep_catalog_end(nest);

	source_steps(plan);

	nest = dep_catalog_begin();
	foreach(lc, validate)
	{
		DepItem    *it = lfirst(lc);

		dep_spi_exec(psprintf("ALTER TABLE %s VALIDATE CONSTRAINT %s", it->relname,
							  quote_identifier(it->conname)),
					 SPI_OK_UTILITY);
	}
	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if (it->type == DT_REF)
			dep_spi_exec(psprintf("UPDATE %s SET referenced = %s"
								  " WHERE tab OPERATOR(pg_catalog.=) '%u'::pg_catalog.oid"
								  "   AND col OPERATOR(pg_catalog.=) %s::pg_catalog.name",
								  dep_references_table(plan), quote_literal_cstr(it->referenced),
								  it->relid, quote_literal_cstr(it->colname)),
						 SPI_OK_UPDATE);
	}
	dep_catalog_end(nest);
}
