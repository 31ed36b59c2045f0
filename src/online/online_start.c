/*-------------------------------------------------------------------------
 *
 * online_start.c
 *	  online_start(), which sets an online conversion up, and the capture
 *	  trigger it puts on the legacy tables.
 *
 * Invariants: online_start() copies no row.  Under SHARE ROW EXCLUSIVE on
 * every legacy table (ACCESS EXCLUSIVE, with the dependents, when views
 * depend on them), taken within lane_google.swap_lock_timeout, it records
 * each table's largest id as the end of its copy and creates the capture
 * triggers in the same transaction: every row past that id, and every
 * change to a row at or below it, is logged.  The capture trigger only
 * logs (lane_google_online.changes, written below the executor: a table
 * with no index); a change it cannot log fails.  The staging schema and
 * the compatibility views' schema depend on the extension.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "lane_google.h"
#include "online_int.h"

PG_FUNCTION_INFO_V1(lg_online_capture);
PG_FUNCTION_INFO_V1(lg_online_start);

/* --- the capture trigger -------------------------------------------------- */

static void
log_change(Oid changes_relid, int t, HeapTuple tuple, TupleDesc desc)
{
	Relation	rel;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	bool		isnull;
	Datum		id;
	HeapTuple	logtup;

	/* attribute 1 of every legacy table is its integer id */
	id = heap_getattr(tuple, 1, desc, &isnull);
	if (isnull)
		return;
	values[0] = Int16GetDatum((int16) t);
	values[1] = Int64GetDatum((int64) DatumGetInt32(id));

	rel = table_open(changes_relid, RowExclusiveLock);
	/* written below the executor: a table with no index, which we check */
	if (RelationGetForm(rel)->relhasindex || RelationGetDescr(rel)->natts != 2)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s.%s has been altered", STAGING, CHANGES)));
	logtup = heap_form_tuple(RelationGetDescr(rel), values, nulls);
	simple_heap_insert(rel, logtup);
	heap_freetuple(logtup);
	table_close(rel, RowExclusiveLock);
}

/*
 * _online_capture(): AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW on the
 * legacy tables: logs the legacy id(s) the change touched.  As a BEFORE
 * TRUNCATE trigger it refuses: a TRUNCATE would not be carried across.
 */
Datum
lg_online_capture(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	Oid			nsp;
	Oid			changes;
	int			t;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("_online_capture() must be called as a trigger")));
	rel = trigdata->tg_relation;
	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot truncate table \"%s\" during an online conversion",
						RelationGetRelationName(rel)),
				 errhint("DELETE the rows (deletes are carried across), or run lane_google.online_abort() first.")));
	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("_online_capture() must be fired AFTER, FOR EACH ROW")));

	t = lg_table_index(RelationGetRelationName(rel));
	desc = RelationGetDescr(rel);
	if (t < 0 || desc->natts < 1 ||
		strcmp(NameStr(TupleDescAttr(desc, 0)->attname), "id") != 0 ||
		TupleDescAttr(desc, 0)->atttypid != INT4OID)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("_online_capture() fired on table \"%s\", which is not a legacy lane_google table",
						RelationGetRelationName(rel))));

	/* a change that cannot be logged must not happen */
	nsp = get_namespace_oid(STAGING, true);
	changes = OidIsValid(nsp) ? get_relname_relid(CHANGES, nsp) : InvalidOid;
	if (!OidIsValid(changes))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the online conversion's change log %s.%s is missing", STAGING, CHANGES),
				 errhint("Run lane_google.online_abort() to remove the capture triggers.")));

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		log_change(changes, t, trigdata->tg_trigtuple, desc);
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		log_change(changes, t, trigdata->tg_trigtuple, desc);
	else
	{
		bool		n1,
					n2;
		Datum		oldid = heap_getattr(trigdata->tg_trigtuple, 1, desc, &n1);
		Datum		newid = heap_getattr(trigdata->tg_newtuple, 1, desc, &n2);

		log_change(changes, t, trigdata->tg_newtuple, desc);
		if (n1 != n2 || (!n1 && DatumGetInt32(oldid) != DatumGetInt32(newid)))
			log_change(changes, t, trigdata->tg_trigtuple, desc);
	}
	return PointerGetDatum(NULL);
}

/* --- online_start() ------------------------------------------------------- */

/*
 * Schema nspname (created by online_start(), not a member of the extension:
 * pg_dump keeps it and its rows) depends on the extension, so that DROP
 * EXTENSION refuses while it exists, naming it, and DROP EXTENSION ...
 * CASCADE drops it with everything in it: the staging schema, and the
 * compatibility views' schema until drop_compat() at 2.1.  Dropping the
 * schema (online_abort(), the swap, drop_compat()) removes the dependency.
 */
static void
depend_on_extension(const char *nspname)
{
	ObjectAddress nsp;
	ObjectAddress ext;

	ObjectAddressSet(nsp, NamespaceRelationId, get_namespace_oid(nspname, false));
	ObjectAddressSet(ext, ExtensionRelationId, get_extension_oid(LG_EXTENSION_NAME, false));
	recordDependencyOn(&nsp, &ext, DEPENDENCY_NORMAL);
}

/*
 * online_start() refuses to start over a conversion in progress, or over a
 * schema lane_google_v1 of the DBA's.
 */
static void
start_refuse_existing(void)
{
	if (lg_online_staging_exists())
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_SCHEMA),
				 errmsg("an online conversion is already in progress"),
				 errhint("See SELECT * FROM lane_google.online_status(); CALL lane_google.online_backfill() continues it, SELECT lane_google.online_abort() removes it.")));
	if (OidIsValid(get_namespace_oid(COMPAT, true)))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_SCHEMA),
				 errmsg("schema \"%s\" already exists", COMPAT),
				 errhint("online_start() creates it for the compatibility views; drop or rename it first.")));
}

/*
 * The triggers need SHARE ROW EXCLUSIVE on every legacy table: taken first,
 * within the budget, so that a long transaction makes this fail rather than
 * stall the writers queued behind it.  When views depend on the tables, the
 * dependents' trial re-creates them over tables of the 2.x layout put in
 * place by renames (catalog work, rolled back): that needs ACCESS EXCLUSIVE
 * on the tables and views involved, for as long as online_start() takes
 * (catalog work only, no row is read).
 */
static void
start_lock(void)
{
	LockBudget	b;
	bool		has_views = false;
	List	   *locked = NIL;

	lg_online_budget_begin(&b, "online_start()");
	if (lg_dependents_relations(&has_views) != NIL && has_views)
	{
		(void) lg_online_budget_lock_dependents(&b, &locked);
		lg_online_budget_lock_legacy(&b, AccessExclusiveLock);
		(void) lg_online_budget_lock_dependents(&b, &locked);
	}
	else
		lg_online_budget_lock_legacy(&b, ShareRowExclusiveLock);
	lg_online_budget_end(&b);
}

/*
 * The staging schema with its state, progress and change log (no shadow
 * yet), and the compatibility views' schema, both depending on the
 * extension.
 */
static void
create_staging(void)
{
	lg_online_spi_run("CREATE SCHEMA " STAGING, SPI_OK_UTILITY);
	depend_on_extension(STAGING);
	lg_online_spi_run("REVOKE ALL ON SCHEMA " STAGING " FROM PUBLIC", SPI_OK_UTILITY);
	lg_online_spi_run("CREATE TABLE " STAGING ".state ("
					  " phase pg_catalog.text NOT NULL"
					  "   CHECK (phase OPERATOR(pg_catalog.=) ANY ('{copying,complete}'::pg_catalog.text[])),"
					  " started_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),"
					  " completed_at pg_catalog.timestamptz)", SPI_OK_UTILITY);
	lg_online_spi_run("INSERT INTO " STAGING ".state (phase) VALUES ('copying')", SPI_OK_INSERT);
	lg_online_spi_run("CREATE TABLE " STAGING ".progress ("
					  " ord pg_catalog.int2 PRIMARY KEY,"
					  " table_name pg_catalog.text NOT NULL UNIQUE,"
					  " target_id pg_catalog.int8 NOT NULL,"
					  " last_id pg_catalog.int8 NOT NULL,"
					  " rows_estimated pg_catalog.int8 NOT NULL,"
					  " rows_copied pg_catalog.int8 NOT NULL DEFAULT 0,"
					  " batches pg_catalog.int8 NOT NULL DEFAULT 0,"
					  " copied pg_catalog.bool NOT NULL DEFAULT false,"
					  " changes_applied pg_catalog.int8 NOT NULL DEFAULT 0)", SPI_OK_UTILITY);
	/* no index: the capture trigger writes it below the executor */
	lg_online_spi_run("CREATE TABLE " STAGING "." CHANGES " (tab pg_catalog.int2 NOT NULL, legacy_id pg_catalog.int8 NOT NULL)",
					  SPI_OK_UTILITY);
	lg_online_spi_run("CREATE SCHEMA " COMPAT, SPI_OK_UTILITY);
	depend_on_extension(COMPAT);
}

/*
 * Table t's part of online_start(): its shadow, its progress row, its
 * capture triggers (enabled ALWAYS) and its compatibility view.  ext is the
 * extension's schema, quoted.
 */
static void
start_table(int t, const char *ext)
{
	const char *tq = quote_identifier(lg_tables[t].name);
	StringInfoData sql;

	initStringInfo(&sql);
	lg_online_create_shadow(t);

	/*
	 * What to copy: every id up to the largest one now, when no writer is in
	 * flight (we hold SHARE ROW EXCLUSIVE); later rows are logged.
	 */
	appendStringInfo(&sql,
					 "INSERT INTO " STAGING ".progress (ord, table_name, target_id, last_id, rows_estimated)"
					 " SELECT %d, %s, coalesce((SELECT pg_catalog.max(id) FROM %s.%s), 0),"
					 "        coalesce((SELECT pg_catalog.min(id) OPERATOR(pg_catalog.-) 1 FROM %s.%s), 0),"
					 "        greatest(c.reltuples, 0)::pg_catalog.int8 FROM pg_catalog.pg_class c"
					 "  WHERE c.oid OPERATOR(pg_catalog.=) '%u'::pg_catalog.oid",
					 t, quote_literal_cstr(lg_tables[t].name), ext, tq, ext, tq,
					 lg_online_legacy_relid(t));
	lg_online_spi_run(sql.data, SPI_OK_INSERT);

	resetStringInfo(&sql);
	appendStringInfo(&sql,
					 "CREATE TRIGGER lane_google_online_capture AFTER INSERT OR UPDATE OR DELETE ON %s.%s"
					 " FOR EACH ROW EXECUTE FUNCTION %s._online_capture()", ext, tq, ext);
	lg_online_spi_run(sql.data, SPI_OK_UTILITY);
	resetStringInfo(&sql);
	appendStringInfo(&sql,
					 "CREATE TRIGGER lane_google_online_truncate BEFORE TRUNCATE ON %s.%s"
					 " FOR EACH STATEMENT EXECUTE FUNCTION %s._online_capture()", ext, tq, ext);
	lg_online_spi_run(sql.data, SPI_OK_UTILITY);

	/*
	 * Fired whatever session_replication_role says: a session writing as a
	 * replica (a logical replication apply, a bulk load without foreign key
	 * checks) is still writing the application's rows.
	 */
	resetStringInfo(&sql);
	appendStringInfo(&sql,
					 "ALTER TABLE %s.%s ENABLE ALWAYS TRIGGER lane_google_online_capture,"
					 " ENABLE ALWAYS TRIGGER lane_google_online_truncate", ext, tq);
	lg_online_spi_run(sql.data, SPI_OK_UTILITY);

	/* expand: the 1.0 layout under a name that survives the swap */
	lg_online_compat_create_legacy(t);
}

/*
 * online_start(): the staging schema (state, progress, change log, shadows),
 * the compatibility views over the legacy tables, and the capture triggers.
 * Returns at once: it copies no row.
 */
LG_GUARDED_FUNCTION(lg_online_start)
{
	const char *ext;
	int			t;

	start_refuse_existing();
	ext = lg_online_ext_q();
	/* the backfill copies below the executor: not Citus tables (citus.c) */
	lg_citus_refuse_tables(lg_extension_schema(), "online_start()");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	start_lock();

	/*
	 * The dependents the swap will carry across (foreign keys into the 11
	 * tables, views, registered references): what it could not carry is
	 * refused now, not after the backfill.  The swap plans again, so what is
	 * created in between is carried (or refused) too.
	 */
	lg_dependents_check("online_start() changed nothing.  Drop or change these objects first, or convert offline; SELECT * FROM lane_google.conversion_plan() lists what the update will do with every dependent object.");

	create_staging();
	for (t = 0; t < LG_NTABLES; t++)
		start_table(t, ext);
	SPI_finish();
	ereport(NOTICE,
			(errmsg("lane_google: online conversion started: 11 shadow tables in schema %s, changes captured from now on",
					STAGING),
			 errhint("CALL lane_google.online_backfill() copies the rows; then ALTER EXTENSION lane_google UPDATE TO '%s' swaps.",
					 lg_online_swap_version())));
	PG_RETURN_VOID();
}
