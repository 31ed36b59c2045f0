/*-------------------------------------------------------------------------
 *
 * util.c
 *	  Small helpers every file of the subsystem uses: SPI statements and
 *	  result columns copied into the plan's memory, oid[] arguments, the
 *	  catalog search_path, the extension's schema and tables, a refused item,
 *	  and the plan of the update running in this transaction (dep_pending).
 *
 *	  dep_pending lives in TopTransactionContext: the transaction callback
 *	  forgets it when the transaction ends, whichever way.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "lane_google.h"
#include "dependents_int.h"

/* The plan of the update running in this transaction, if any */
DepPlan    *dep_pending = NULL;
static bool callback_registered = false;

static void
dep_xact_callback(XactEvent event, void *arg)
{
	/* TopTransactionContext, which holds it, is gone or going */
	dep_pending = NULL;
}

/* dep_pending is forgotten at the end of the transaction that made it */
void
dep_register_xact_callback(void)
{
	if (!callback_registered)
	{
		RegisterXactCallback(dep_xact_callback, NULL);
		callback_registered = true;
	}
}

void
dep_spi_exec(const char *sql, int expect)
{
	int			rc = SPI_execute(sql, false, 0);

	if (rc != expect)
		elog(ERROR, "SPI_execute failed (%d): %s", rc, sql);
}

void
dep_spi_connect(void)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

char *
dep_col(DepPlan *plan, int row, int c)
{
	char	   *v = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, c);

	return v ? MemoryContextStrdup(plan->cxt, v) : NULL;
}

Datum
dep_col_datum(int row, int c, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, c, isnull);
}

DepItem *
dep_new_item(DepPlan *plan, DepType type, const char *kind)
{
	DepItem    *it = MemoryContextAllocZero(plan->cxt, sizeof(DepItem));
	MemoryContext old = MemoryContextSwitchTo(plan->cxt);

	it->type = type;
	it->kind = pstrdup(kind);
	plan->items = lappend(plan->items, it);
	MemoryContextSwitchTo(old);
	return it;
}

Datum
dep_oid_array(List *oids)
{
	int			n = list_length(oids);
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	ListCell   *lc;
	int			i = 0;

	foreach(lc, oids)
		elems[i++] = ObjectIdGetDatum(lfirst_oid(lc));
	return PointerGetDatum(construct_array(elems, n, OIDOID, sizeof(Oid), true,
										   TYPALIGN_INT));
}

/* oid[] of the plan's roots (the 11 tables, or the sources that exist) */
Datum
dep_roots_array(DepPlan *plan)
{
	List	   *roots = NIL;
	int			r;

	for (r = 0; r < LG_NTABLES; r++)
		if (OidIsValid(plan->roots[r]))
			roots = lappend_oid(roots, plan->roots[r]);
	return dep_oid_array(roots);
}

/*
 * Run with search_path = pg_catalog, pg_temp: every name the deparser prints
 * (pg_get_viewdef, pg_get_constraintdef) is then schema-qualified, and every
 * statement built from them means the same objects whatever the user's path.
 * pg_temp is named last: left out, it would be searched first for relations
 * and types, and a temporary "text" or "uuid" would capture a cast.
 */
static int
enter_catalog_path(void)
{
	int			nest = NewGUCNestLevel();

	(void) set_config_option("search_path", LG_SAFE_SEARCH_PATH,
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	return nest;
}

/*
 * Catalog work: under the catalog search_path, connected to SPI.  Returns
 * the GUC nest level to give dep_catalog_end(), which disconnects and
 * restores the settings changed meanwhile.
 */
int
dep_catalog_begin(void)
{
	int			nest = enter_catalog_path();

	dep_spi_connect();
	return nest;
}

void
dep_catalog_end(int nest)
{
	SPI_finish();
	AtEOXact_GUC(true, nest);
}

char *
dep_schema_name(DepPlan *plan)
{
	return MemoryContextStrdup(plan->cxt,
							   quote_identifier(get_namespace_name(plan->schema)));
}

/* The key columns of table t (id and its foreign keys) */
bool
dep_is_key_column(const LgTable *t, const char *colname)
{
	int			i;

	if (strcmp(colname, "id") == 0)
		return true;
	for (i = 0; i < t->nfks; i++)
		if (strcmp(t->fks[i].column, colname) == 0)
			return true;
	return false;
}

/* users.id integer: the update goes to uuid keys */
bool
dep_keys_are_integer(Oid schema)
{
	Oid			relid = get_relname_relid("users", schema);
	AttrNumber	attnum;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table %s.users does not exist", get_namespace_name(schema))));
	attnum = get_attnum(relid, "id");
	return get_atttype(relid, attnum) != UUIDOID;
}

void
dep_plan_cannot(DepPlan *plan, const char *category, const char *identity,
				const char *on_what, const char *reason)
{
	DepItem    *it = dep_new_item(plan, DT_NONE, category);

	it->identity = MemoryContextStrdup(plan->cxt, identity);
	it->depends_on = MemoryContextStrdup(plan->cxt, on_what);
	it->action = MemoryContextStrdup(plan->cxt, "none: the update refuses");
	it->reason = MemoryContextStrdup(plan->cxt, reason);
	plan->ncannot++;
}

/* legacy_references, or NULL when this version has none (1.0, 2.0) */
char *
dep_references_table(DepPlan *plan)
{
	Oid			relid = get_relname_relid("legacy_references", plan->schema);

	if (!OidIsValid(relid))
		return NULL;
	return dep_pfmt(plan, "%s.legacy_references", dep_schema_name(plan));
}

/* A foreign key's definition (pg_get_constraintdef), in the plan's memory */
char *
dep_fk_definition(DepPlan *plan, DepItem *it)
{
	return MemoryContextStrdup(plan->cxt,
							   TextDatumGetCString(DirectFunctionCall1(pg_get_constraintdef,
																	   ObjectIdGetDatum(it->conoid))));
}
