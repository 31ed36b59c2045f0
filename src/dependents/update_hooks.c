/*-------------------------------------------------------------------------
 *
 * update_hooks.c
 *	  The hooks the released update scripts reach through this library.  The
 *	  released scripts (1.0--2.0, 2.0--1.0) never change, but they call
 *	  validate_fk_integrity() in their pre-flight (the first C they run,
 *	  before any row is read), _lg_upgrade_convert() and
 *	  _lg_upgrade_mark_validated().  lg_dependents_update_hook() and the two
 *	  step hooks let the released 1.0 -> 2.0 carry dependents the same way,
 *	  and make the released 2.0 -> 1.0 refuse early when it would fail late.
 *	  On PostgreSQL 18 an update that rebuilds the 11 tables first sets their
 *	  NOT NULL constraints' names aside.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "lane_google.h"
#include "dependents_int.h"

/* The version the running ALTER EXTENSION is going to, or NULL */
static char *
update_target(void)
{
	Oid			extoid = get_extension_oid(LG_EXTENSION_NAME, true);
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	char	   *result = NULL;

	if (!creating_extension || !OidIsValid(extoid) || CurrentExtensionObject != extoid)
		return NULL;
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_pg_extension_extversion,
									 RelationGetDescr(rel), &isnull);

		if (!isnull)
			result = text_to_cstring(DatumGetTextPP(d));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return result;
}

#ifdef LG_PG_NOTNULL_CONSTRAINTS
/*
 * PostgreSQL 18 on: before an update rebuilds the 11 tables, their NOT NULL
 * constraints (pg_constraint rows named <table>_<column>_not_null) step
 * aside, as the scripts' own renames do for the primary keys.  A constraint
 * name is chosen unique within the schema, so the new tables, created while
 * the old ones still exist, would otherwise get <table>_<column>_not_null1
 * and the like, unlike a fresh CREATE EXTENSION.  The old tables go at the
 * end of the update, these constraints with them; a failed update rolls the
 * renames back.  The tables are taken in lg_tables' order, parents first, the
 * order in which the scripts lock them.
 */
static void
set_aside_notnull_names(Oid schema)
{
	Oid			argtypes[2] = {OIDOID, TEXTARRAYOID};
	Datum		args[2];
	Datum		names[LG_NTABLES];
	const char *nspname = get_namespace_name(schema);
	uint64		n;
	uint64		i;
	int			t;

	for (t = 0; t < LG_NTABLES; t++)
		names[t] = CStringGetTextDatum(lg_tables[t].name);
	args[0] = ObjectIdGetDatum(schema);
	args[1] = PointerGetDatum(construct_array(names, LG_NTABLES, TEXTOID, -1, false, TYPALIGN_INT));
	dep_spi_connect();
	if (SPI_execute_with_args("SELECT c.relname::pg_catalog.text, con.conname::pg_catalog.text"
							  "  FROM pg_catalog.pg_constraint con"
							  "  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) con.conrelid"
							  " WHERE con.contype OPERATOR(pg_catalog.=) 'n'"
							  "   AND c.relnamespace OPERATOR(pg_catalog.=) $1"
							  "   AND c.relname::pg_catalog.text OPERATOR(pg_catalog.=) ANY ($2)"
							  " ORDER BY pg_catalog.array_position($2, c.relname::pg_catalog.text), 2",
							  2, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	n = SPI_processed;
	{
		SPITupleTable *tt = SPI_tuptable;
		char	  **rels = palloc(sizeof(char *) * (n + 1));
		char	  **cons = palloc(sizeof(char *) * (n + 1));

		for (i = 0; i < n; i++)
		{
			rels[i] = SPI_getvalue(tt->vals[i], tt->tupdesc, 1);
			cons[i] = SPI_getvalue(tt->vals[i], tt->tupdesc, 2);
		}
		for (i = 0; i < n; i++)
		{
			char	   *aside = ChooseConstraintName("_lg_old", cons[i], "aside", schema, NIL);

			dep_spi_exec(psprintf("ALTER TABLE %s.%s RENAME CONSTRAINT %s TO %s",
								  quote_identifier(nspname), quote_identifier(rels[i]),
								  quote_identifier(cons[i]), quote_identifier(aside)),
						 SPI_OK_UTILITY);
		}
	}
	SPI_finish();
}
#endif

/*
 * Called first thing by validate_fk_integrity(), which the released update
 * scripts' pre-flight calls before reading any row.  ALTER EXTENSION records
 * the target version before it runs a script.  Outside lane_google's own
 * released 1.0 <-> 2.0 scripts, nothing happens.
 */
void
lg_dependents_update_hook(void)
{
	char	   *target = update_target();
	Oid			schema;
#ifdef LG_PG_NOTNULL_CONSTRAINTS
	bool		rebuilds;
#endif

	if (target == NULL)
		return;
	schema = lg_extension_schema();
#ifdef LG_PG_NOTNULL_CONSTRAINTS
	/* an update between 1.x and 2.x rebuilds the tables */
	rebuilds = (strcmp(target, "1.0") == 0 || strcmp(target, "1.1") == 0 ||
				strcmp(target, "2.0") == 0 || strcmp(target, "2.1") == 0) &&
		(target[0] == '2') == dep_keys_are_integer(schema);
#endif
	if (strcmp(target, "2.0") == 0 && dep_keys_are_integer(schema))
		dep_detach(true);
	else if (strcmp(target, "1.0") == 0 && !dep_keys_are_integer(schema))
	{
		DepPlan    *plan = dep_build_plan(CurrentMemoryContext, false, false);

		if (plan->ncannot + plan->ncarried > 0)
		{
			ListCell   *lc;

			foreach(lc, plan->items)
			{
				DepItem    *it = lfirst(lc);

				if (!it->reason)
				{
					it->reason = MemoryContextStrdup(plan->cxt, "the released 2.0 -> 1.0 script cannot carry dependents");
					plan->ncannot++;
				}
			}
			dep_refuse(plan, "Nothing was changed and no row was read.  Update to 2.1 and then to 1.1, which carries them across: ALTER EXTENSION lane_google UPDATE TO '2.1'; ALTER EXTENSION lane_google UPDATE TO '1.1';");
		}
	}
#ifdef LG_PG_NOTNULL_CONSTRAINTS
	if (rebuilds)
		set_aside_notnull_names(schema);
#endif
}

/* End of _lg_upgrade_convert(): the 1.0 tables are set aside under prefix */
void
lg_dependents_after_convert(const char *prefix)
{
	if (dep_pending != NULL && dep_pending->released)
		dep_convert(prefix);
}

/* End of _lg_upgrade_mark_validated(): the new keys exist */
void
lg_dependents_after_keys(void)
{
	if (dep_pending != NULL && dep_pending->released)
		dep_attach();
}
