/*-------------------------------------------------------------------------
 *
 * steps.c
 *	  The update's three steps, in its one transaction, on the plan of
 *	  dep_pending:
 *
 *	  detach	the plan, the refusal, and the trial (plan.c, trial.c).
 *	  		Definitions, owners, options, grants and comments are kept
 *	  		in transaction memory; registered references are checked to
 *	  		hold keys of the tables they name.
 *	  convert	after the rows of the 11 tables are converted, while the
 *	  		tables set aside still exist: the carried views and foreign
 *	  		keys are dropped and each referencing column changes type in
 *	  		place (ALTER COLUMN ... TYPE ... USING: its indexes rebuilt),
 *	  		to uuid by legacy_uuid(referenced table, value), a pure
 *	  		function, or back to its integer type by the legacy_id of the
 *	  		row set aside (a hash built once per referenced table).
 *	  attach	after the new keys exist: the foreign keys re-created with
 *	  		their names and definitions (valid ones marked validated: the
 *	  		mapping is one-to-one and every table involved is locked),
 *	  		the views and materialized views (refreshed) re-created with
 *	  		owner, options, grants and comments; the user's grants on the
 *	  		11 tables applied to the new tables.
 *
 *	  Each step runs once, in order (plan->stage); a step whose plan is not
 *	  at the stage before it does nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/pg_constraint.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "lane_google.h"
#include "dependents_int.h"

#define REFUSE_HINT "Nothing was changed and no row was read.  Drop or change these objects, update, and re-create them; SELECT * FROM lane_google.conversion_plan() lists what the update will do with every dependent object."

/* ---------------------------------------------------------------------------
 * the three steps of the update
 * ---------------------------------------------------------------------------
 */

void
dep_check_in_update(const char *fname)
{
	if (!creating_extension ||
		CurrentExtensionObject != get_extension_oid(LG_EXTENSION_NAME, true))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s() runs only inside ALTER EXTENSION lane_google UPDATE", fname)));
}

/* registered references: every value must be a key of the referenced table */
static void
check_reference_orphans(DepPlan *plan, DepItem *it, const char *prefix)
{
	char	   *nsp = dep_schema_name(plan);
	const char *src = quote_identifier(psprintf("%s%s", prefix, it->referenced));
	const char *c = quote_identifier(it->colname);
	char	   *sql;

	if (plan->to_uuid)
		sql = psprintf("SELECT pg_catalog.count(*), pg_catalog.string_agg(v, ', ') FILTER (WHERE rn OPERATOR(pg_catalog.<=) 10)"
					   "  FROM (SELECT r.%s::pg_catalog.text AS v, pg_catalog.row_number() OVER () AS rn"
					   "          FROM %s r WHERE r.%s IS NOT NULL AND NOT EXISTS"
					   "               (SELECT FROM %s.%s p WHERE p.id::pg_catalog.text OPERATOR(pg_catalog.=) pg_catalog.btrim(r.%s::pg_catalog.text))) AS o",
					   c, it->relname, c, nsp, src, c);
	else
		sql = psprintf("SELECT pg_catalog.count(*), pg_catalog.string_agg(v, ', ') FILTER (WHERE rn OPERATOR(pg_catalog.<=) 10)"
					   "  FROM (SELECT r.%s::pg_catalog.text AS v, pg_catalog.row_number() OVER () AS rn"
					   "          FROM %s r WHERE r.%s IS NOT NULL AND NOT EXISTS"
					   "               (SELECT FROM %s.%s p WHERE p.id OPERATOR(pg_catalog.=) r.%s)) AS o",
					   c, it->relname, c, nsp, src, c);
	dep_spi_exec(sql, SPI_OK_SELECT);
	if (SPI_processed > 0)
	{
		bool		isnull;
		int64		n = DatumGetInt64(dep_col_datum(0, 1, &isnull));

		if (n > 0)
			ereport(ERROR,
					(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
					 errmsg("registered reference %s holds %lld value%s that %s no row of %s",
							it->identity, (long long) n, n == 1 ? "" : "s",
							n == 1 ? "is" : "are", it->referenced),
					 errdetail("Values: %s.", dep_col(plan, 0, 2)),
					 errhint("Nothing was changed.  Fix or clear these values, or remove the registration with lane_google.remove_legacy_reference().")));
	}
}

/*
 * One statement of every object carried by SQL kept in the plan, in the
 * plan's order
 */
typedef enum CarriedSql
{
	CARRIED_DETACH,				/* DepItem.detach_sql */
	CARRIED_PRE,				/* DepItem.pre_sql */
	CARRIED_REDO				/* DepItem.redo_sql */
} CarriedSql;

/*
 * At detach, once the update goes ahead: the triggers and publication
 * membership leave the tables the update writes (the way back updates the
 * tables set aside: a trigger would fire, a row filter would refuse).  At
 * convert, before the referencing columns change: what would stop the
 * tables set aside from going, or keep its name.  At attach, after the
 * views: everything re-created.
 */
static void
run_carried(DepPlan *plan, CarriedSql which)
{
	ListCell   *lc;

	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);
		const char *sql;

		if (it->type != DT_SQL)
			continue;
		sql = which == CARRIED_DETACH ? it->detach_sql
			: which == CARRIED_PRE ? it->pre_sql : it->redo_sql;
		if (sql)
			dep_spi_exec(sql, SPI_OK_UTILITY);
	}
}

/*
 * Once the update goes ahead: registered references have no constraint,
 * so like the update's own pre-flight for the 11 tables, every value must
 * be a key of the table it names before anything changes.  The
 * definitions of the foreign keys to re-create, which the plan itself
 * does not need.  Then the carried objects that leave the tables the
 * update writes.
 */
static void
detach_prepare(DepPlan *plan)
{
	ListCell   *lc;
	int			nest = dep_catalog_begin();

	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if (it->type == DT_REF)
			check_reference_orphans(plan, it, "");
		if (it->type == DT_FK)
			it->condef = dep_fk_definition(plan, it);
	}
	run_carried(plan, CARRIED_DETACH);
	dep_catalog_end(nest);
}

void
dep_detach(bool released)
{
	DepPlan    *plan;

	/* already planned by this update (a hook, then the script's own call) */
	if (dep_pending != NULL && dep_pending->stage != STAGE_ATTACHED)
		return;
	dep_pending = NULL;
	dep_register_xact_callback();
	plan = dep_build_plan(AllocSetContextCreate(TopTransactionContext,
												"lane_google dependents",
												ALLOCSET_DEFAULT_SIZES),
						  true, true);
	if (plan->ncannot > 0)
		dep_refuse(plan, REFUSE_HINT);
	detach_prepare(plan);
	plan->released = released;
	plan->stage = STAGE_PLANNED;
	dep_pending = plan;
	if (plan->ncarried > 0)
		ereport(NOTICE,
				(errmsg("lane_google: carrying %d dependent object%s across the key conversion",
						plan->ncarried, plan->ncarried == 1 ? "" : "s")));
}

/*
 * The carried views dropped, the deepest first (the plan lists them by
 * depth); all of them, or only those the trial re-creates: the parents
 * other carried views read, and what reads them
 */
void
dep_drop_views(DepPlan *plan, bool all)
{
	ListCell   *lc;
	List	   *rev = NIL;

	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if (it->type == DT_VIEW && (all || it->parent || it->depth > 1))
			rev = lcons(it, rev);
	}
	foreach(lc, rev)
	{
		dep_spi_exec(((DepItem *) lfirst(lc))->drop_sql, SPI_OK_UTILITY);
	}
}

/*
 * The referencing columns change type, one ALTER TABLE (one rewrite) per
 * table: to uuid by legacy_uuid(), or back by the legacy id of the row set
 * aside under prefix (_lg_dependents_legacy_id()).
 */
static void
retype_columns(DepPlan *plan, const char *prefix, const char *nsp)
{
	ListCell   *lc;
	List	   *rels = NIL;

	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);
		StringInfoData alter;
		ListCell   *lc2;
		bool		first = true;

		if ((it->type != DT_FK && it->type != DT_REF) || !it->to_type ||
			list_member_oid(rels, it->relid))
			continue;
		rels = lappend_oid(rels, it->relid);
		initStringInfo(&alter);
		appendStringInfo(&alter, "ALTER TABLE %s", it->relname);
		foreach(lc2, plan->items)
		{
			DepItem    *o = lfirst(lc2);
			const char *c;
			bool		is_text;

			if ((o->type != DT_FK && o->type != DT_REF) || !o->to_type || o->relid != it->relid)
				continue;
			c = quote_identifier(o->colname);
			is_text = strcmp(o->from_type, "smallint") != 0 && strcmp(o->from_type, "integer") != 0 &&
				strcmp(o->from_type, "bigint") != 0;
			/* text references are trimmed; integers go straight to int8 */
			if (plan->to_uuid)
				appendStringInfo(&alter, "%s ALTER %s TYPE uuid USING %s.legacy_uuid(%s, %s%s%s::pg_catalog.int8)",
								 first ? "" : ",", c, nsp, quote_literal_cstr(o->referenced),
								 is_text ? "pg_catalog.btrim(" : "", c,
								 is_text ? "::pg_catalog.text)" : "");
			else
				appendStringInfo(&alter, "%s ALTER %s TYPE %s USING %s._lg_dependents_legacy_id(%s, %s)::%s",
								 first ? "" : ",", c, o->to_type, nsp,
								 quote_literal_cstr(psprintf("%s.%s", nsp,
															 quote_identifier(psprintf("%s%s", prefix, o->referenced)))),
								 c, o->to_type);
			first = false;
		}
		dep_spi_exec(alter.data, SPI_OK_UTILITY);
	}
}

void
dep_convert(const char *prefix)
{
	DepPlan    *plan = dep_pending;
	ListCell   *lc;
	char	   *nsp;
	int			nest;

	if (plan == NULL || plan->stage != STAGE_PLANNED)
		return;
	nsp = dep_schema_name(plan);
	nest = dep_catalog_begin();

	/* views, the deepest first */
	dep_drop_views(plan, true);

	/* policies on other tables over the 11, statistics objects */
	run_carried(plan, CARRIED_PRE);

	/* foreign keys */
	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if (it->type == DT_FK)
			dep_spi_exec(psprintf("ALTER TABLE %s DROP CONSTRAINT %s", it->relname,
								  quote_identifier(it->conname)),
						 SPI_OK_UTILITY);
	}

	/* referencing columns, one ALTER TABLE (one rewrite) per table */
	retype_columns(plan, prefix, nsp);

	dep_catalog_end(nest);
	plan->stage = STAGE_CONVERTED;
}

/* As _lg_upgrade_mark_validated: the mapping is one-to-one, every table locked */
static void
mark_validated(Oid relid, const char *conname)
{
	Relation	conrel = table_open(ConstraintRelationId, RowExclusiveLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;

	if (!CheckRelationOidLockedByMe(relid, AccessExclusiveLock, false))
		elog(ERROR, "table %u is not locked by the update", relid);
	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(conrel, ConstraintRelidTypidNameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tuple);
		HeapTuple	copy;

		if (con->contype != CONSTRAINT_FOREIGN || con->convalidated ||
			strcmp(NameStr(con->conname), conname) != 0)
			continue;
		copy = heap_copytuple(tuple);
		((Form_pg_constraint) GETSTRUCT(copy))->convalidated = true;
		CatalogTupleUpdate(conrel, &copy->t_self, copy);
		heap_freetuple(copy);
	}
	systable_endscan(scan);
	CacheInvalidateRelcacheByRelid(relid);
	table_close(conrel, RowExclusiveLock);
}

/* The foreign keys re-created, the valid ones marked validated */
static void
attach_foreign_keys(DepPlan *plan)
{
	ListCell   *lc;

	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);
		bool		not_valid;

		if (it->type != DT_FK)
			continue;
		not_valid = strstr(it->condef, " NOT VALID") != NULL;
		dep_spi_exec(psprintf("ALTER TABLE %s ADD CONSTRAINT %s %s%s", it->relname,
							  quote_identifier(it->conname), it->condef,
							  not_valid ? "" : " NOT VALID"),
					 SPI_OK_UTILITY);
		CommandCounterIncrement();
		if (it->validated)
			mark_validated(it->relid, it->conname);
	}
}

/* The views re-created, in the plan's order (by depth) */
static void
attach_views(DepPlan *plan)
{
	ListCell   *lc;

	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if (it->type != DT_VIEW)
			continue;
		/* a materialized view is created empty, and refreshed below */
		dep_spi_exec(it->matview ? psprintf("%s WITH NO DATA", it->create_sql) : it->create_sql,
					 SPI_OK_UTILITY);
		/* created inside the extension's script: not one of its members */
		if (!OidIsValid(plan->src_schema))
			dep_spi_exec(psprintf("ALTER EXTENSION %s DROP %s %s", LG_EXTENSION_NAME,
								  it->matview ? "MATERIALIZED VIEW" : "VIEW", it->identity),
						 SPI_OK_UTILITY);
		dep_spi_exec(it->after_sql, SPI_OK_UTILITY);
	}
}

/*
 * The materialized views that were populated, in the order they were
 * created (one over another after it), once everything they may read is
 * as it will be: REFRESH runs its query as the view's owner, in a
 * security-restricted operation, not as the superuser running the
 * update, so the owner's grants on the new tables must be back (an
 * ordinary role owning a view over them was refused before: issue 17,
 * finding 4), and their row security policies too (the owner sees the
 * rows the policies let it see, as before the update).
 */
static void
refresh_matviews(DepPlan *plan)
{
	ListCell   *lc;

	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if (it->type == DT_VIEW && it->matview && it->populated)
			dep_spi_exec(psprintf("REFRESH MATERIALIZED VIEW %s", it->identity), SPI_OK_UTILITY);
	}
}

/* In legacy_references (regtab): what each converted column was, for the way back */
static void
record_converted_columns(DepPlan *plan, const char *regtab)
{
	ListCell   *lc;

	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if ((it->type != DT_FK && it->type != DT_REF) || !it->to_type)
			continue;
		if (plan->to_uuid && it->type == DT_FK)
			dep_spi_exec(psprintf("INSERT INTO %s (tab, col, referenced, legacy_type, declared)"
								  " VALUES ('%u'::pg_catalog.regclass, %s, %s, %s::pg_catalog.regtype, true)"
								  " ON CONFLICT (tab, col) DO UPDATE SET legacy_type = excluded.legacy_type",
								  regtab, it->relid, quote_literal_cstr(it->colname),
								  quote_literal_cstr(it->referenced), quote_literal_cstr(it->from_type)),
						 SPI_OK_INSERT);
		else if (plan->to_uuid)
			dep_spi_exec(psprintf("UPDATE %s SET legacy_type = %s::pg_catalog.regtype"
								  " WHERE tab OPERATOR(pg_catalog.=) '%u'::pg_catalog.oid"
								  "   AND col OPERATOR(pg_catalog.=) %s::pg_catalog.name",
								  regtab, quote_literal_cstr(it->from_type), it->relid,
								  quote_literal_cstr(it->colname)),
						 SPI_OK_UPDATE);
		else if (it->type == DT_FK)
			dep_spi_exec(psprintf("DELETE FROM %s WHERE tab OPERATOR(pg_catalog.=) '%u'::pg_catalog.oid"
								  " AND col OPERATOR(pg_catalog.=) %s::pg_catalog.name AND declared",
								  regtab, it->relid, quote_literal_cstr(it->colname)),
						 SPI_OK_DELETE);
	}
}

void
dep_attach(void)
{
	DepPlan    *plan = dep_pending;
	char	   *regtab;
	int			nest;

	if (plan == NULL || plan->stage != STAGE_CONVERTED)
		return;
	nest = dep_catalog_begin();
	regtab = dep_references_table(plan);

	attach_foreign_keys(plan);
	attach_views(plan);

	/* triggers, row security, policies, statistics, publications */
	run_carried(plan, CARRIED_REDO);

	if (plan->root_grants)
		dep_spi_exec(plan->root_grants, SPI_OK_UTILITY);

	refresh_matviews(plan);

	/* remember what each converted column was, for the way back */
	if (regtab)
		record_converted_columns(plan, regtab);

	dep_catalog_end(nest);
	plan->stage = STAGE_ATTACHED;
}
