/*-------------------------------------------------------------------------
 *
 * trial.c
 *	  The trial: before any row is read, every carried view and every object
 *	  carried by SQL is re-created against the target layout, inside a
 *	  subtransaction that is always rolled back.  The 11 tables (and the
 *	  referencing tables a carried view reads) are renamed aside and empty
 *	  tables of the target layout put in their place: catalog work only, no
 *	  row read, materialized views created WITH NO DATA.  Whatever cannot be
 *	  re-created is refused by name with PostgreSQL's own error.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "parser/analyze.h"
#include "parser/parser.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/ruleutils.h"

#include "lane_google.h"
#include "dependents_int.h"

/* ---------------------------------------------------------------------------
 * the trial: re-create every carried view against the target layout
 * ---------------------------------------------------------------------------
 */

/* Lock relid for the trial; false when it cannot be had at once */
static bool
trial_lock(Oid relid, bool may_wait)
{
	if (may_wait)
	{
		LockRelationOid(relid, AccessExclusiveLock);
		return true;
	}
	return ConditionalLockRelationOid(relid, AccessExclusiveLock);
}

/*
 * One of the 11 tables renamed aside, an empty table of the target layout
 * in its place
 */
static void
shadow_root(DepPlan *plan, int r, const char *nsp, bool may_wait)
{
	const LgTable *t = &lg_tables[r];
	StringInfoData create;
	Relation	rel;
	TupleDesc	desc;
	bool		first;
	int			k;

	if (!trial_lock(plan->roots[r], may_wait))
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("table %s is in use", t->name)));
	dep_spi_exec(psprintf("ALTER TABLE %s.%s RENAME TO %s", nsp, quote_identifier(t->name),
						  quote_identifier(psprintf("_lg_trial_%s", t->name))),
				 SPI_OK_UTILITY);

	/*
	 * What CREATE TABLE (LIKE ...) copies (names, types, collations, NOT
	 * NULL), the keys already of the target type: no rewrite of the new
	 * table by ALTER COLUMN ... TYPE.
	 */
	rel = relation_open(plan->roots[r], NoLock);
	desc = RelationGetDescr(rel);
	initStringInfo(&create);
	appendStringInfo(&create, "CREATE TABLE %s.%s (", nsp, quote_identifier(t->name));
	first = true;
	for (k = 0; k < desc->natts; k++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, k);
		const char *attname = NameStr(att->attname);
		bool		key = dep_is_key_column(t, attname);

		if (att->attisdropped || (!plan->to_uuid && strcmp(attname, "legacy_id") == 0))
			continue;
		appendStringInfo(&create, "%s%s %s", first ? "" : ", ", quote_identifier(attname),
						 key ? (plan->to_uuid ? "uuid" : "integer")
						 : format_type_with_typemod(att->atttypid, att->atttypmod));
		if (!key && OidIsValid(att->attcollation) &&
			att->attcollation != get_typcollation(att->atttypid))
			appendStringInfo(&create, " COLLATE %s",
							 generate_collation_name(att->attcollation));
		if (att->attnotnull)
			appendStringInfoString(&create, " NOT NULL");
		first = false;
	}
	if (plan->to_uuid)
		appendStringInfoString(&create, ", legacy_id bigint");
	appendStringInfoChar(&create, ')');
	relation_close(rel, NoLock);
	dep_spi_exec(create.data, SPI_OK_UTILITY);
}

/*
 * A referencing table a carried view reads renamed aside, an empty copy in
 * its place with its converted columns of their target types
 */
static void
shadow_referencing(DepPlan *plan, DepItem *it, bool may_wait)
{
	ListCell   *lc2;
	StringInfoData alter;
	char	   *shadow;
	bool		first;

	if (!trial_lock(it->relid, may_wait))
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("table %s is in use", it->relname)));
	shadow = psprintf("_lg_trial_%u", it->relid);
	dep_spi_exec(psprintf("ALTER TABLE %s RENAME TO %s", it->relname, shadow), SPI_OK_UTILITY);
	dep_spi_exec(psprintf("CREATE TABLE %s (LIKE %s.%s)", it->relname,
						  quote_identifier(get_namespace_name(get_rel_namespace(it->relid))),
						  shadow),
				 SPI_OK_UTILITY);
	initStringInfo(&alter);
	appendStringInfo(&alter, "ALTER TABLE %s", it->relname);
	first = true;
	foreach(lc2, plan->items)
	{
		DepItem    *o = lfirst(lc2);

		if ((o->type == DT_FK || o->type == DT_REF) && !o->reason && o->to_type &&
			o->relid == it->relid)
		{
			appendStringInfo(&alter, "%s ALTER %s TYPE %s USING NULL",
							 first ? "" : ",", quote_identifier(o->colname), o->to_type);
			first = false;
		}
	}
	dep_spi_exec(alter.data, SPI_OK_UTILITY);
}

/* Put an empty table of the target layout in place of each root and referencing table */
static void
trial_shadows(DepPlan *plan, bool may_wait)
{
	char	   *nsp = dep_schema_name(plan);
	int			r;
	ListCell   *lc;
	List	   *done = NIL;

	/* convert_legacy's views are re-pointed at the extension's real tables */
	for (r = 0; r < LG_NTABLES && !OidIsValid(plan->src_schema); r++)
		shadow_root(plan, r, nsp, may_wait);

	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if ((it->type != DT_FK && it->type != DT_REF) || it->reason || !it->to_type)
			continue;
		if (list_member_oid(done, it->relid) || !list_member_oid(plan->shadow_rels, it->relid))
			continue;
		done = lappend_oid(done, it->relid);
		shadow_referencing(plan, it, may_wait);
	}
}

/*
 * Parse analysis of a view's query: what CREATE VIEW would check of its
 * types and operators, without the catalog work (a view no other carried
 * view reads is only analysed).
 */
static void
analyse_query(const char *sql)
{
	List	   *raw = raw_parser(sql, RAW_PARSE_DEFAULT);

	if (list_length(raw) != 1)
		elog(ERROR, "a view definition is one statement");
	(void) parse_analyze_fixedparams(linitial_node(RawStmt, raw), sql, NULL, 0, NULL);
}

/* In a PG_CATCH() of the trial: item it could not be re-created, refused */
static void
trial_failed(DepPlan *plan, DepItem *it, MemoryContext cxt, ResourceOwner owner)
{
	ErrorData  *edata = lg_subxact_catch(cxt, owner);

	it->reason = dep_pfmt(plan, "cannot be re-created over the converted tables: %s",
						  edata->message);
	it->action = MemoryContextStrdup(plan->cxt, "none: the update refuses");
	plan->ncannot++;
	plan->ncarried--;
	FreeErrorData(edata);
}

/* In trial_run(): each carried object with a trial, in its own subtransaction */
static void
trial_carried(DepPlan *plan)
{
	ListCell   *lc;

	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);
		MemoryContext cxt2 = CurrentMemoryContext;
		ResourceOwner owner2 = CurrentResourceOwner;

		if ((it->type != DT_SQL && it->type != DT_VIEW) || it->trial_sql == NULL || it->reason)
			continue;
		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(cxt2);
		PG_TRY();
		{
			dep_spi_exec(it->trial_sql, SPI_OK_UTILITY);
			/* nothing carried here needs another: each leaves no trace */
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt2);
			CurrentResourceOwner = owner2;
		}
		PG_CATCH();
		{
			trial_failed(plan, it, cxt2, owner2);
		}
		PG_END_TRY();
	}
}

/* Inside the trial's subtransaction: shadows, then each view in turn */
static void
trial_run(DepPlan *plan, bool may_wait)
{
	ListCell   *lc;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool in_sub = false;

	trial_shadows(plan, may_wait);
	/* re-created parents must go first, and with them what reads them */
	dep_drop_views(plan, false);

	/*
	 * A view that is only analysed writes nothing: those share one
	 * subtransaction (one per view made the trial quadratic: each end of a
	 * subtransaction visits the whole relation cache), begun again after a
	 * failure, whose rollback loses nothing.  A view re-created for the
	 * views that read it has a subtransaction of its own, kept.
	 */
	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);
		MemoryContext cxt2 = CurrentMemoryContext;

		if (it->type != DT_VIEW)
			continue;
		if (in_sub && it->parent)
		{
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt2);
			CurrentResourceOwner = owner;
			in_sub = false;
		}
		if (!in_sub)
		{
			BeginInternalSubTransaction(NULL);
			MemoryContextSwitchTo(cxt2);
			in_sub = true;
		}
		PG_TRY();
		{
			if (it->parent)
			{
				dep_spi_exec(it->matview ? psprintf("%s WITH NO DATA", it->create_sql) : it->create_sql,
							 SPI_OK_UTILITY);
				ReleaseCurrentSubTransaction();
				MemoryContextSwitchTo(cxt2);
				CurrentResourceOwner = owner;
				in_sub = false;
			}
			else
				analyse_query(it->query_sql);
		}
		PG_CATCH();
		{
			in_sub = false;
			trial_failed(plan, it, cxt2, owner);
		}
		PG_END_TRY();
	}
	if (in_sub)
	{
		MemoryContext cxt2 = CurrentMemoryContext;

		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt2);
		CurrentResourceOwner = owner;
	}
	trial_carried(plan);
}

/*
 * Try every carried view.  Inside one subtransaction that is always rolled
 * back: the renames and empty tables are catalog work, no row is read (the
 * materialized views are created WITH NO DATA).  Each view in a nested
 * subtransaction of its own so that every failure is named.
 */
void
dep_trial_views(DepPlan *plan, bool may_wait)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ListCell   *lc;
	volatile bool any = false;
	char	   *volatile not_tried = NULL;

	foreach(lc, plan->items)
		if (((DepItem *) lfirst(lc))->type == DT_VIEW ||
			(((DepItem *) lfirst(lc))->type == DT_SQL && ((DepItem *) lfirst(lc))->trial_sql))
			any = true;
	if (!any)
		return;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		trial_run(plan, may_wait);
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata = lg_subxact_catch(oldcxt, oldowner);

		if (may_wait)
			ReThrowError(edata);
		not_tried = dep_pfmt(plan, "; its re-creation was not tried (%s): the update tries it before reading a row",
							 edata->message);
	}
	PG_END_TRY();

	if (not_tried)
		foreach(lc, plan->items)
		{
			DepItem    *it = lfirst(lc);

			if ((it->type == DT_VIEW || (it->type == DT_SQL && it->trial_sql)) && !it->reason)
				it->action = dep_pfmt(plan, "%s%s", it->action, not_tried);
		}
}
