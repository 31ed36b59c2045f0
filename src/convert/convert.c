/*-------------------------------------------------------------------------
 *
 * convert.c
 *	  The conversion engine's entry points: legacy integer-keyed rows into
 *	  the UUID tables.  One engine serves convert_legacy() (the
 *	  application's own legacy tables, copied into the extension's 2.0
 *	  tables), convert_legacy_problems() (its dry run's problems, as rows)
 *	  and the 1.0 -> 2.0 update script (the extension's own 1.0 tables,
 *	  renamed aside: _lg_upgrade_convert(), _lg_upgrade_mark_validated()).
 *	  Also the engine's setting, lane_google.progress_rows.
 *
 * Per table, parents before children: one sequential scan of the source;
 * every key mapped by legacy_uuid()'s function (no join to the parent);
 * every foreign-key value checked against the parent's key sets, filled
 * while the parent was converted (keyset.c: its integer ids, and its uuid
 * ids where UUID-valued keys occur); rows written in batches through
 * table_multi_insert(), as COPY does.  Key sets live within
 * lane_google.max_memory, and go once the parent's last child is converted:
 * a set that would not fit is dropped, and its children probe the parent's
 * primary key index instead (keyset.c's fallback).  Orphans are an error,
 * or quarantined whole as jsonb, or (nullable keys) set NULL with the
 * original row quarantined.
 *
 * The engine's files (convert_int.h says which owns what): rules.c the
 * caller's arguments, prepare.c the checks and locks before anything is
 * written, layout.c the column mapping, keys.c the key sets, read.c one
 * table's run and its progress, rows.c row conversion, casts.c the casts,
 * writer.c the bulk writer, problems.c problems and the quarantine,
 * suggest.c convert_legacy_suggest() (the call, written from the layout
 * mapping's decisions and a dry run's problems),
 * catchup.c a target that held rows.
 *
 * Invariants: every entry point runs under the guarded search_path
 * (guard.c); a dry run converts for real in a subtransaction it rolls back;
 * the report has as many columns as the caller's version of the function.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_constraint.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "convert/convert_int.h"

PG_FUNCTION_INFO_V1(lg_convert_legacy);
PG_FUNCTION_INFO_V1(lg_convert_legacy_problems);
PG_FUNCTION_INFO_V1(lg_convert_legacy_missing);
PG_FUNCTION_INFO_V1(lg_upgrade_convert);
PG_FUNCTION_INFO_V1(lg_upgrade_mark_validated);

int			lg_progress_rows = 1000000;

/* lane_google.progress_rows: how often a running conversion reports */
void
lg_convert_init(void)
{
	DefineCustomIntVariable("lane_google.progress_rows",
							"Rows between progress reports of a running conversion.",
							NULL,
							&lg_progress_rows,
							1000000,
							1000,
							INT_MAX,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
}

/* ------------------------------------------------------------------------
 * The whole conversion
 * ------------------------------------------------------------------------
 */

/*
 * Prepare (every check before anything is written), then each table,
 * parents before children; the reports after all of them.
 */
static void
run_conversion(ConvertState *st)
{
	int			i;

	lg_conv_prepare(st);
	/* dependents => 'carry': the plan, or the refusal, before any row is read */
	if (st->carry)
		st->carry_plan = lg_dependents_source_plan(st->src_schema);
	/* Citus targets: the run writes their staging copies */
	lg_conv_stage_begin(st);
	lg_conv_keys_begin(st);
	st->write = !st->problems_only;
	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];

		lg_conv_convert_table(st, ts);
		lg_conv_keys_release_parents(st, ts);

		/* in the update, the new table gets its primary key before its children load */
		if (st->upgrade)
		{
			char	   *sql = psprintf("ALTER TABLE %s ADD CONSTRAINT %s PRIMARY KEY (id)",
									   lg_conv_qualified(st->dst_schema, ts->spec->name),
									   quote_identifier(psprintf("%s_pkey", ts->spec->name)));

			if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
				elog(ERROR, "SPI_execute failed: %s", sql);
		}
	}
	if (!st->problems_only)
	{
		lg_conv_report_problems(st);
		lg_conv_report_orphans(st);
		/* nothing failed: the staging copies go to their Citus targets */
		if (st->write)
			lg_conv_stage_finish(st);
	}
	if (st->carry)
		lg_dependents_source_carry(st->carry_plan, st->mode != ORPHAN_ERROR);
	lg_hasher_free(st->hasher);
	st->hasher = NULL;
}

/* ------------------------------------------------------------------------
 * convert_legacy() and convert_legacy_problems()
 * ------------------------------------------------------------------------
 */

/* Naive timestamps are read in source_timezone: the session's, meanwhile */
static int
set_source_timezone(const char *tz)
{
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("TimeZone", tz, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nestlevel;
}

/* The report: a row per table, as many columns as the caller's version has */
static void
put_report(ConvertState *st, Tuplestorestate *tupstore, TupleDesc tupdesc)
{
	int			i;

	if (tupdesc->natts != 5 && tupdesc->natts != 10)
		elog(ERROR, "convert_legacy() returns 5 or 10 columns, not %d",
			 tupdesc->natts);
	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];
		Datum		values[10];
		bool		nulls[10] = {0};
		NameData	name;

		namestrcpy(&name, ts->spec->name);
		values[0] = NameGetDatum(&name);
		values[1] = Int64GetDatum(ts->rows_read);
		values[2] = Int64GetDatum(ts->rows_converted);
		values[3] = Int64GetDatum(ts->rows_quarantined);
		values[4] = Float8GetDatum(ts->seconds);
		values[5] = Int64GetDatum(ts->rows_nulled);
		values[6] = Int64GetDatum(ts->rows_unchanged);
		values[7] = Int64GetDatum(ts->rows_updated);
		values[8] = Int64GetDatum(Max(ts->rows_missing, 0));
		nulls[8] = (ts->rows_missing < 0);
		if (ts->catch_up)
			appendStringInfo(&ts->note, "%scaught up: the target held rows before",
							 ts->note.len ? "; " : "");
		if (ts->rows_requarantined > 0)
			appendStringInfo(&ts->note, "%s" INT64_FORMAT " row%s quarantined already (the same row, for the same reason): not added to legacy_quarantine again",
							 ts->note.len ? "; " : "", ts->rows_requarantined,
							 ts->rows_requarantined == 1 ? "" : "s");
		values[9] = CStringGetTextDatum(ts->note.data);
		nulls[9] = (ts->note.len == 0);
		tuplestore_putvalues(tupstore, tupdesc, values, nulls);
	}
}

/* Which entry point: they share the engine, and all but the first the arguments */
typedef enum ConvertEntry
{
	ENTRY_CONVERT,				/* convert_legacy() */
	ENTRY_PROBLEMS,				/* convert_legacy_problems() */
	ENTRY_MISSING				/* convert_legacy_missing() */
} ConvertEntry;

/* The arguments of convert_legacy(), convert_legacy_problems() or convert_legacy_missing() */
typedef struct ConvertArgs
{
	Name		source;
	char	   *on_orphan;
	char	   *on_error;
	char	   *source_timezone;
	char	   *dependents;
	bool		dry_run;
	int			first_rule;		/* argument number of column_map, or -1 */
	Jsonb	   *column_map;
	ArrayType  *ignore_columns;
	Jsonb	   *value_map;
	ArrayType  *also_from;		/* 2.2: schemas searched after source, or NULL */
} ConvertArgs;

/*
 * convert_legacy(source_schema name, on_orphan text, dry_run boolean
 *				  [, on_error text, column_map jsonb, ignore_columns text[],
 *				  value_map jsonb, source_timezone text[, dependents text]]):
 * 3 arguments at version 2.0 (the same library serves both), 9 at 2.1,
 * 10 from 2.2 (also_from name[]).
 * convert_legacy_problems(source_schema name, column_map jsonb,
 *				  ignore_columns text[], value_map jsonb,
 *				  source_timezone text): the problems of a dry run, as rows;
 * convert_legacy_missing() takes the same arguments.  From 2.2 both end with
 * also_from name[] (6 arguments; the 2.1 convert_legacy_problems has 5).
 * Those the caller's version lacks take their defaults.
 */
static void
entry_args(FunctionCallInfo fcinfo, bool problems_only, const char *fname,
		   ConvertArgs *a)
{
	int			i;

	a->on_orphan = "error";
	a->on_error = "error";
	a->source_timezone = "UTC";
	a->dependents = "keep";
	a->dry_run = problems_only;
	a->first_rule = -1;
	a->column_map = NULL;
	a->ignore_columns = NULL;
	a->value_map = NULL;
	a->also_from = NULL;

	if (problems_only ? (PG_NARGS() != 5 && PG_NARGS() != 6) :
		(PG_NARGS() != 3 && PG_NARGS() != 8 && PG_NARGS() != 9 &&
		 PG_NARGS() != 10))
		elog(ERROR, "%s called with %d arguments", fname, PG_NARGS());
	for (i = 0; i < PG_NARGS(); i++)
		if (PG_ARGISNULL(i))
		{
			static const char *const names[] = {"source_schema", "on_orphan",
				"dry_run", "on_error", "column_map", "ignore_columns",
			"value_map", "source_timezone", "dependents", "also_from"};
			static const char *const pnames[] = {"source_schema", "column_map",
			"ignore_columns", "value_map", "source_timezone", "also_from"};

			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s of %s must not be NULL",
							problems_only ? pnames[i] : names[i], fname)));
		}
	a->source = PG_GETARG_NAME(0);
	if (problems_only)
	{
		a->first_rule = 1;
		if (PG_NARGS() == 6)
			a->also_from = PG_GETARG_ARRAYTYPE_P(5);
	}
	else
	{
		a->on_orphan = text_to_cstring(PG_GETARG_TEXT_PP(1));
		a->dry_run = PG_GETARG_BOOL(2);
		if (PG_NARGS() >= 8)
		{
			a->on_error = text_to_cstring(PG_GETARG_TEXT_PP(3));
			a->first_rule = 4;
		}
		if (PG_NARGS() >= 9)
			a->dependents = text_to_cstring(PG_GETARG_TEXT_PP(8));
		if (PG_NARGS() == 10)
			a->also_from = PG_GETARG_ARRAYTYPE_P(9);
	}
	if (a->first_rule > 0)
	{
		a->column_map = PG_GETARG_JSONB_P(a->first_rule);
		a->ignore_columns = PG_GETARG_ARRAYTYPE_P(a->first_rule + 1);
		a->value_map = PG_GETARG_JSONB_P(a->first_rule + 2);
		a->source_timezone = text_to_cstring(PG_GETARG_TEXT_PP(a->first_rule + 3));
	}
}

/*
 * also_from: the schemas searched, after source_schema, for a table it
 * lacks; each must exist and not be the extension's own.  Not with the
 * carry, whose plan follows the dependents of one schema's tables.
 */
void
lg_conv_source_schemas(ConvertState *st, ArrayType *also_from, const char *fname)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			k;

	if (also_from == NULL || ArrayGetNItems(ARR_NDIM(also_from), ARR_DIMS(also_from)) == 0)
		return;
	if (ARR_ELEMTYPE(also_from) != NAMEOID)
		elog(ERROR, "also_from must be name[]");
	deconstruct_array(also_from, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR,
					  &elems, &nulls, &n);
	st->src_schemas = palloc(sizeof(Oid) * (n + 1));
	st->src_schemas[0] = st->src_schema;
	st->nsrc_schemas = 1;
	for (k = 0; k < n; k++)
	{
		Oid			nsp;

		if (nulls[k])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("also_from of %s must not hold NULL", fname)));
		nsp = get_namespace_oid(NameStr(*DatumGetName(elems[k])), false);
		if (nsp == st->dst_schema)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("source schema %s is lane_google's own schema",
							quote_identifier(NameStr(*DatumGetName(elems[k])))),
					 errdetail("convert_legacy() copies legacy tables of other schemas into the extension's tables.")));
		st->src_schemas[st->nsrc_schemas++] = nsp;
	}
	if (st->carry)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("dependents => 'carry' takes one source schema"),
				 errdetail("The carry moves the dependents of the tables of source_schema; also_from names more schemas."),
				 errhint("Run the last catch-up with dependents => 'carry' from the schema of the application's tables alone, or move the dependents yourself in the transaction of the last run.")));
}

/*
 * The conversion's state from the arguments: the modes, the source schema
 * (not the extension's own), and a transaction that may write.
 */
static ConvertState *
entry_state(ConvertArgs *a, bool problems_only, const char *fname)
{
	ConvertState *st = palloc0(sizeof(ConvertState));

	lg_conv_parse_modes(st, a->on_orphan, a->on_error, a->dependents);
	st->problems_only = problems_only;
	st->dst_schema = lg_extension_schema();
	st->src_schema = get_namespace_oid(NameStr(*a->source), false);
	st->src_prefix = "";
	if (st->src_schema == st->dst_schema)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source schema %s is lane_google's own schema",
						quote_identifier(NameStr(*a->source))),
				 errdetail("convert_legacy() copies legacy tables of another schema into the extension's tables."),
				 errhint("To convert the extension's own 1.0 tables, run ALTER EXTENSION lane_google UPDATE.")));
	lg_conv_source_schemas(st, a->also_from, fname);
	if (IsInParallelMode() || RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot convert in a read-only transaction")));
	PreventCommandIfReadOnly(fname);
	return st;
}

/*
 * A dry run: the real thing, in a subtransaction rolled back at the end
 * (convert_legacy_suggest()'s scan too)
 */
void
lg_conv_run_dry(ConvertState *st, MemoryContext work)
{
	ResourceOwner owner = CurrentResourceOwner;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(work);
	PG_TRY();
	{
		run_conversion(st);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(work);
		RollbackAndReleaseCurrentSubTransaction();
		CurrentResourceOwner = owner;
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(work);
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(work);
	CurrentResourceOwner = owner;
}

/*
 * convert_legacy(), convert_legacy_problems() and convert_legacy_missing():
 * the arguments, the conversion (or its dry run), then the report, the
 * problems or the target rows no source row maps to, as rows.
 */
static Datum
convert_entry(FunctionCallInfo fcinfo, ConvertEntry entry)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		problems_only = (entry != ENTRY_CONVERT);
	const char *fname = entry == ENTRY_PROBLEMS ? "convert_legacy_problems()" :
		entry == ENTRY_MISSING ? "convert_legacy_missing()" : "convert_legacy()";
	ConvertArgs args;
	ConvertState *st;
	TupleDesc	tupdesc;
	Tuplestorestate *tupstore;
	MemoryContext per_query;
	MemoryContext old;
	MemoryContext work;
	int			nestlevel;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s must be called in a context that accepts a set", fname)));
	entry_args(fcinfo, problems_only, fname, &args);
	st = entry_state(&args, problems_only, fname);
	st->list_missing = (entry == ENTRY_MISSING);

	per_query = rsinfo->econtext->ecxt_per_query_memory;
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	work = AllocSetContextCreate(CurrentMemoryContext, "lane_google conversion",
								 ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(work);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	MemoryContextSwitchTo(work);
	if (args.first_rule > 0)
	{
		lg_conv_parse_rules(st, args.column_map, args.ignore_columns,
							args.value_map);
		MemoryContextSwitchTo(work);
	}
	nestlevel = set_source_timezone(args.source_timezone);

	if (args.dry_run)
		lg_conv_run_dry(st, work);
	else
		run_conversion(st);

	AtEOXact_GUC(true, nestlevel);
	if (st->quarantine_plan)
		SPI_freeplan(st->quarantine_plan);
	SPI_finish();

	MemoryContextSwitchTo(per_query);
	tupstore = tuplestore_begin_heap(true, false, work_mem);
	tupdesc = CreateTupleDescCopy(tupdesc);
	if (entry == ENTRY_MISSING)
		lg_conv_put_missing(st, tupstore, tupdesc);
	else if (problems_only)
		lg_conv_put_problems(st, tupstore, tupdesc);
	else
		put_report(st, tupstore, tupdesc);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tupstore;
	rsinfo->setDesc = tupdesc;

	MemoryContextSwitchTo(old);
	MemoryContextDelete(work);
	return (Datum) 0;
}

LG_GUARDED_FUNCTION(lg_convert_legacy)
{
	return convert_entry(fcinfo, ENTRY_CONVERT);
}

LG_GUARDED_FUNCTION(lg_convert_legacy_problems)
{
	return convert_entry(fcinfo, ENTRY_PROBLEMS);
}

/*
 * convert_legacy_missing(): the dry run of convert_legacy_problems(), which
 * lists instead every target row with a legacy id that no source row maps to
 * any more (catchup.c): what a catch-up's rows_missing counts, less the rows
 * written to the target directly.
 */
LG_GUARDED_FUNCTION(lg_convert_legacy_missing)
{
	return convert_entry(fcinfo, ENTRY_MISSING);
}

/* ------------------------------------------------------------------------
 * The 1.0 -> 2.0 update script's steps
 * ------------------------------------------------------------------------
 */

/*
 * _lg_upgrade_convert(source_prefix text): the 1.0 -> 2.0 update script's
 * step.  The 1.0 tables, renamed to source_prefix || name, are converted
 * into the new, empty 2.0 tables of the same schema; each gets its primary
 * key once loaded.  Orphans are an error.
 */
LG_GUARDED_FUNCTION(lg_upgrade_convert)
{
	ConvertState *st = palloc0(sizeof(ConvertState));
	int			nestlevel;

	if (!creating_extension)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("_lg_upgrade_convert() runs only inside ALTER EXTENSION lane_google UPDATE")));

	st->mode = ORPHAN_ERROR;
	st->upgrade = true;
	st->dst_schema = lg_extension_schema();
	st->src_schema = st->dst_schema;
	st->src_prefix = text_to_cstring(PG_GETARG_TEXT_PP(0));

	/* the update's progress is worth seeing */
	nestlevel = lg_session_messages_begin();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	run_conversion(st);
	SPI_finish();
	lg_guard_end(nestlevel);
	/* dependents of the tables set aside (dependents.c) */
	lg_dependents_after_convert(st->src_prefix);
	PG_RETURN_VOID();
}

/*
 * _lg_upgrade_mark_validated(): the 1.0 -> 2.0 update script's last step.
 * The script adds the foreign keys NOT VALID, since the engine has already
 * checked every foreign-key value of every row against its parent's keys
 * (an orphan fails the update) and the key mapping is one-to-one: running
 * PostgreSQL's validation join over every child table again would prove
 * nothing new.  This marks them validated, as ALTER TABLE ... VALIDATE
 * CONSTRAINT does once its check passes.  Only inside the update, which
 * holds ACCESS EXCLUSIVE on every table, so nothing changed in between.
 */
LG_GUARDED_FUNCTION(lg_upgrade_mark_validated)
{
	Oid			schema = lg_extension_schema();
	Relation	conrel;
	int			marked = 0;
	int			i;

	if (!creating_extension)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("_lg_upgrade_mark_validated() runs only inside ALTER EXTENSION lane_google UPDATE")));

	conrel = table_open(ConstraintRelationId, RowExclusiveLock);
	for (i = 0; i < LG_NTABLES; i++)
	{
		Oid			relid = get_relname_relid(lg_tables[i].name, schema);
		ScanKeyData key;
		SysScanDesc scan;
		HeapTuple	tuple;

		if (!OidIsValid(relid))
			continue;
		if (!CheckRelationOidLockedByMe(relid, AccessExclusiveLock, false))
			elog(ERROR, "table %s is not locked by the update", lg_tables[i].name);

		ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(relid));
		scan = systable_beginscan(conrel, ConstraintRelidTypidNameIndexId,
								  true, NULL, 1, &key);
		while (HeapTupleIsValid(tuple = systable_getnext(scan)))
		{
			Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tuple);
			HeapTuple	copy;

			if (con->contype != CONSTRAINT_FOREIGN || con->convalidated)
				continue;
			copy = heap_copytuple(tuple);
			((Form_pg_constraint) GETSTRUCT(copy))->convalidated = true;
			CatalogTupleUpdate(conrel, &copy->t_self, copy);
			heap_freetuple(copy);
			marked++;
		}
		systable_endscan(scan);
		CacheInvalidateRelcacheByRelid(relid);
	}
	table_close(conrel, RowExclusiveLock);
	/* the new keys exist: dependents re-attached (dependents.c) */
	lg_dependents_after_keys();
	PG_RETURN_INT32(marked);
}
