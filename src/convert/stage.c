/*-------------------------------------------------------------------------
 *
 * stage.c
 *	  convert_legacy() on a Citus coordinator (doc/citus.md, "Built:
 *	  convert_legacy() into distributed tables"): sources and targets that
 *	  are Citus tables, served through the executor, never below it.
 *
 *	  A source that is a Citus table (distributed, reference, Citus local)
 *	  is read by a query: Citus's executor reads its shards, on the workers,
 *	  in parallel, and the rows come to the coordinator once.  A target that
 *	  is a Citus table is converted into a staging copy of itself (a
 *	  temporary table LIKE it: its columns, defaults, CHECK constraints and
 *	  indexes), by the same engine with the same checks as on one node:
 *	  every key, orphan, tenant key and row problem is settled there, on the
 *	  coordinator, which holds the whole key graph.  Only a conversion that
 *	  will commit moves on: each staging table, parents first, is written
 *	  into its target by INSERT ... SELECT, which Citus sends to the shards
 *	  (COPY into each placement, the rows' foreign keys and triggers checked
 *	  there), in the caller's transaction.  So a worker lost on the way
 *	  fails the whole call, and nothing is half done: Citus commits the
 *	  transaction on every node or on none.
 *
 *	  Every query of the conversion uses one connection per node (Citus's
 *	  sequential mode), which Citus requires of a transaction that writes
 *	  its reference tables.
 *
 *	  Refused by name before anything is read: a shard named as a source or
 *	  target, a call on a worker, a Citus target that holds rows (a catch-up
 *	  compares the target's rows below the executor), dependents => 'carry'
 *	  into Citus tables.
 *
 *	  Statements are built with every name quoted and schema-qualified; the
 *	  staging tables live in the session's temporary schema and are dropped
 *	  once written.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "convert/convert_int.h"

/*
 * Where the tables of a conversion are on Citus: a source that is a Citus
 * table is read through the executor, a target that is one is staged.  On
 * a worker, in the update, or for a shard: refused (citus.c's words).
 */
void
lg_conv_citus_tables(ConvertState *st)
{
	const char *fn = st->upgrade ? "ALTER EXTENSION lane_google UPDATE" : "convert_legacy()";
	bool		worker;
	bool		sequential = false;
	int			i;

	if (!lg_citus_installed())
		return;
	worker = lg_citus_is_worker();
	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];
		LgCitusTable src;
		LgCitusTable dst;

		if (st->upgrade || worker)
		{
			lg_citus_refuse_table(ts->src_relid, fn);
			lg_citus_refuse_table(ts->dst_relid, fn);
			continue;
		}
		if (OidIsValid(ts->src_relid))
		{
			lg_citus_describe_table(ts->src_relid, &src);
			if (src.kind == LG_CITUS_SHARD)
				lg_citus_refuse_table(ts->src_relid, fn);
			if (src.kind != LG_CITUS_NONE)
			{
				ts->src_by_query = true;
				sequential = true;
			}
		}
		lg_citus_describe_table(ts->dst_relid, &dst);
		if (dst.kind == LG_CITUS_SHARD)
			lg_citus_refuse_table(ts->dst_relid, fn);
		if (dst.kind == LG_CITUS_NONE)
			continue;
		ts->dst_citus = dst.kindname;
		st->citus = true;
		sequential = true;
	}

	/*
	 * Citus refuses to write a reference table that distributed tables
	 * reference (users, accounts) once a query of the transaction has run
	 * over several shards of a node at once: every query of the conversion
	 * (the targets' check below, a distributed source's read) uses one
	 * connection per node.  Nodes still work at once; a node's shards one
	 * after the other.  The caller's setting comes back with the
	 * conversion's end (convert.c's GUC nest level).
	 */
	if (sequential)
		(void) set_config_option("citus.multi_shard_modify_mode", "sequential",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
	if (!st->citus)
		return;
	if (st->carry)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("convert_legacy() cannot carry dependents into Citus tables"),
				 errhint("Convert with dependents => 'refuse', then create the application's objects on the Citus tables.")));

	/* a target that holds rows would be caught up below the executor */
	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];
		char	   *sql;

		if (!ts->dst_citus)
			continue;
		sql = psprintf("SELECT 1 FROM %s LIMIT 1",
					   lg_conv_qualified(st->dst_schema, ts->spec->name));
		if (SPI_execute(sql, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute failed: %s", sql);
		if (SPI_processed > 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("convert_legacy() cannot convert into %s: it is a Citus %s that holds rows",
							lg_conv_qualified(st->dst_schema, ts->spec->name),
							ts->dst_citus),
					 errdetail("Into a table that holds rows, a conversion compares and updates them in the table's own storage, which on Citus holds none of them."),
					 errhint("Convert into the empty tables (TRUNCATE them first), or convert on one node and distribute after.")));
	}
}

/*
 * Each Citus target swapped for its staging copy, in which the conversion
 * runs as on one node.  Called once every check of prepare.c has passed
 * on the targets themselves.
 */
void
lg_conv_stage_begin(ConvertState *st)
{
	int			i;

	if (!st->citus)
		return;
	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];
		char	   *stage = psprintf("lane_google_stage_%s", ts->spec->name);
		char	   *sql;

		if (!ts->dst_citus)
			continue;
		sql = psprintf("CREATE TEMPORARY TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES INCLUDING GENERATED) ON COMMIT DROP",
					   quote_identifier(stage),
					   lg_conv_qualified(st->dst_schema, ts->spec->name));
		if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "SPI_execute failed: %s", sql);
		ts->dst_final = ts->dst_relid;
		ts->dst_relid = get_relname_relid(stage, LookupCreationNamespace("pg_temp"));
		if (!OidIsValid(ts->dst_relid))
			elog(ERROR, "staging table \"%s\" not found", stage);
	}
}

/*
 * The staging tables written into their Citus targets, parents first, each
 * by one INSERT ... SELECT of its columns (Citus: pulled to the coordinator,
 * copied into the shards); then dropped.  Every row the conversion counted
 * must arrive.
 */
void
lg_conv_stage_finish(ConvertState *st)
{
	int			i;

	if (!st->citus)
		return;
	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];
		TupleDesc	desc;
		Relation	rel;
		StringInfoData cols;
		char	   *stage;
		char	   *sql;
		instr_time	start;
		instr_time	took;
		int			a;

		if (!ts->dst_citus)
			continue;
		INSTR_TIME_SET_CURRENT(start);
		rel = relation_open(ts->dst_relid, NoLock);
		desc = RelationGetDescr(rel);
		initStringInfo(&cols);
		for (a = 0; a < desc->natts; a++)
			if (!TupleDescAttr(desc, a)->attisdropped)
				appendStringInfo(&cols, "%s%s", cols.len ? ", " : "",
								 quote_identifier(NameStr(TupleDescAttr(desc, a)->attname)));
		stage = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
										   RelationGetRelationName(rel));
		relation_close(rel, NoLock);

		sql = psprintf("INSERT INTO %s (%s) SELECT %s FROM %s",
					   lg_conv_qualified(st->dst_schema, ts->spec->name),
					   cols.data, cols.data, stage);
		if (SPI_execute(sql, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "SPI_execute failed: %s", sql);
		if ((int64) SPI_processed != ts->rows_converted)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("%s received " UINT64_FORMAT " rows of the " INT64_FORMAT " converted",
							lg_conv_qualified(st->dst_schema, ts->spec->name),
							SPI_processed, ts->rows_converted)));
		sql = psprintf("DROP TABLE %s", stage);
		if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "SPI_execute failed: %s", sql);
		ts->dst_relid = ts->dst_final;

		INSTR_TIME_SET_CURRENT(took);
		INSTR_TIME_SUBTRACT(took, start);
		ts->seconds += INSTR_TIME_GET_DOUBLE(took);
		appendStringInfo(&ts->note, "%swritten through Citus to its %s in %.2f s",
						 ts->note.len ? "; " : "", ts->dst_citus,
						 INSTR_TIME_GET_DOUBLE(took));
		ereport(NOTICE,
				(errmsg("lane_google: %s: " INT64_FORMAT " rows written through Citus to its %s",
						ts->spec->name, ts->rows_converted, ts->dst_citus),
				 errdetail("%.2f s", INSTR_TIME_GET_DOUBLE(took))));
	}
}
