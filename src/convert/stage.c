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
 *	  A Citus target that holds rows (a second run, catching up) has its
 *	  rows read into its copy first, through Citus, so the run compares,
 *	  updates and counts as on one node; then only what the run changed goes
 *	  back: the rows it updated by one UPDATE ... FROM the copy (every column
 *	  but the key and the distribution column, which Citus cannot change),
 *	  the rows it added by one INSERT ... SELECT, each count checked.
 *
 *	  Refused by name before anything is read: a shard named as a source or
 *	  target, a call on a worker, dependents => 'carry' into Citus tables.
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
#include "utils/array.h"
#include "catalog/pg_type.h"
#include "utils/uuid.h"
#include "utils/lsyscache.h"

#include "convert/convert_int.h"

/* The ids a catching-up run inserted into a copy, and those it updated */
typedef struct StagedIds
{
	int64		n[2];			/* [0]: updated, [1]: inserted */
	int64		size[2];
	pg_uuid_t  *ids[2];
} StagedIds;

/* The columns of a relation, quoted, in their order, dropped ones aside */
static char *
column_list(Oid relid)
{
	Relation	rel = relation_open(relid, NoLock);
	TupleDesc	desc = RelationGetDescr(rel);
	StringInfoData cols;
	int			a;

	initStringInfo(&cols);
	for (a = 0; a < desc->natts; a++)
		if (!TupleDescAttr(desc, a)->attisdropped)
			appendStringInfo(&cols, "%s%s", cols.len ? ", " : "",
							 quote_identifier(NameStr(TupleDescAttr(desc, a)->attname)));
	relation_close(rel, NoLock);
	return cols.data;
}

/* A staging copy, schema-qualified (its session's temporary schema) */
static char *
stage_name(TableState *ts)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(ts->dst_relid)),
									  get_rel_name(ts->dst_relid));
}

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
		if (dst.distcol > 0)
			ts->dst_distcol = get_attname(ts->dst_relid, dst.distcol, false);
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

	/* a target that holds rows: its copy starts with them (stage_begin) */
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
		ts->dst_has_rows = (SPI_processed > 0);
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
		if (ts->dst_has_rows)
		{
			char	   *cols = column_list(ts->dst_relid);

			sql = psprintf("INSERT INTO %s (%s) SELECT %s FROM %s",
						   stage_name(ts), cols, cols,
						   lg_conv_qualified(st->dst_schema, ts->spec->name));
			if (SPI_execute(sql, false, 0) != SPI_OK_INSERT)
				elog(ERROR, "SPI_execute failed: %s", sql);
			ts->staged = MemoryContextAllocZero(st->cxt, sizeof(StagedIds));
		}
	}
}

/* A row the catching-up run inserted into a copy, or updated there */
void
lg_conv_stage_note(ConvertState *st, TableState *ts, const pg_uuid_t *id,
				   bool inserted)
{
	StagedIds  *s = ts->staged;
	int			k = inserted ? 1 : 0;

	if (s->n[k] == s->size[k])
	{
		s->size[k] = Max(1024, s->size[k] * 2);
		s->ids[k] = s->ids[k] == NULL ?
			MemoryContextAllocHuge(st->cxt, s->size[k] * sizeof(pg_uuid_t)) :
			repalloc_huge(s->ids[k], s->size[k] * sizeof(pg_uuid_t));
	}
	s->ids[k][s->n[k]++] = *id;
}

/* Run sql with the uuid[] of ids as $1; the rows it processed */
static uint64
run_with_ids(const char *sql, pg_uuid_t *ids, int64 n, int expect)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	Oid			argtype = UUIDARRAYOID;
	Datum		arg;
	int64		k;

	for (k = 0; k < n; k++)
		elems[k] = UUIDPGetDatum(&ids[k]);
	arg = PointerGetDatum(construct_array(elems, (int) n, UUIDOID, UUID_LEN,
										  false, TYPALIGN_CHAR));
	if (SPI_execute_with_args(sql, 1, &argtype, &arg, NULL, false, 0) != expect)
		elog(ERROR, "SPI_execute_with_args failed: %s", sql);
	pfree(elems);
	return SPI_processed;
}

/*
 * A catching-up run's changes to a Citus target: the rows it updated, then
 * those it added, each by one statement over the copy.  A row whose
 * distribution column changed is not found by the UPDATE: Citus cannot move
 * a row to another shard, and the counts say so.
 */
static void
write_changes(ConvertState *st, TableState *ts, const char *target)
{
	StagedIds  *ids = ts->staged;
	Relation	rel = relation_open(ts->dst_relid, NoLock);
	TupleDesc	desc = RelationGetDescr(rel);
	StringInfoData set;
	char	   *cols = column_list(ts->dst_relid);
	char	   *sql;
	uint64		n;
	int			a;

	initStringInfo(&set);
	for (a = 0; a < desc->natts; a++)
	{
		const char *name = NameStr(TupleDescAttr(desc, a)->attname);

		if (TupleDescAttr(desc, a)->attisdropped || strcmp(name, "id") == 0 ||
			(ts->dst_distcol && strcmp(name, ts->dst_distcol) == 0))
			continue;
		appendStringInfo(&set, "%s%s = s.%s", set.len ? ", " : "",
						 quote_identifier(name), quote_identifier(name));
	}
	relation_close(rel, NoLock);

	if (ids->n[0] > 0)
	{
		sql = psprintf("UPDATE %s AS d SET %s FROM (SELECT c.* FROM %s AS c"
					   " JOIN pg_catalog.unnest($1::pg_catalog.uuid[]) AS u (id)"
					   " ON c.id OPERATOR(pg_catalog.=) u.id) AS s"
					   " WHERE d.id OPERATOR(pg_catalog.=) s.id%s%s%s%s",
					   target, set.data, stage_name(ts),
					   ts->dst_distcol ? " AND d." : "",
					   ts->dst_distcol ? quote_identifier(ts->dst_distcol) : "",
					   ts->dst_distcol ? " OPERATOR(pg_catalog.=) s." : "",
					   ts->dst_distcol ? quote_identifier(ts->dst_distcol) : "");
		n = run_with_ids(sql, ids->ids[0], ids->n[0], SPI_OK_UPDATE);
		if ((int64) n != ids->n[0])
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s: " INT64_FORMAT " rows changed their %s in the legacy rows",
							target, ids->n[0] - (int64) n,
							ts->dst_distcol ? ts->dst_distcol : "key"),
					 errdetail("Citus cannot move a row of %s to another shard by an update.",
							   target),
					 errhint("Delete those rows from %s (and their children), then convert again.",
							 target)));
	}
	if (ids->n[1] > 0)
	{
		/* the copy's columns (c.*), not unnest's id */
		sql = psprintf("INSERT INTO %s (%s) SELECT c.* FROM %s AS c"
					   " JOIN pg_catalog.unnest($1::pg_catalog.uuid[]) AS u (id)"
					   " ON c.id OPERATOR(pg_catalog.=) u.id",
					   target, cols, stage_name(ts));
		n = run_with_ids(sql, ids->ids[1], ids->n[1], SPI_OK_INSERT);
		if ((int64) n != ids->n[1])
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("%s received " UINT64_FORMAT " new rows of the " INT64_FORMAT " converted",
							target, n, ids->n[1])));
	}
}

/*
 * The staging tables written into their Citus targets, parents first: an
 * empty target gets every row by one INSERT ... SELECT of its columns
 * (Citus: pulled to the coordinator, copied into the shards), a target that
 * held rows what the run changed (write_changes); then the copies are
 * dropped.  Every row the conversion counted must arrive.
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
		char	   *target = lg_conv_qualified(st->dst_schema, ts->spec->name);
		char	   *cols;
		char	   *sql;
		int64		sent;
		instr_time	start;
		instr_time	took;

		if (!ts->dst_citus)
			continue;
		INSTR_TIME_SET_CURRENT(start);
		if (ts->staged)
		{
			write_changes(st, ts, target);
			sent = ts->staged->n[0] + ts->staged->n[1];
		}
		else
		{
			cols = column_list(ts->dst_relid);
			sql = psprintf("INSERT INTO %s (%s) SELECT %s FROM %s",
						   target, cols, cols, stage_name(ts));
			if (SPI_execute(sql, false, 0) != SPI_OK_INSERT)
				elog(ERROR, "SPI_execute failed: %s", sql);
			if ((int64) SPI_processed != ts->rows_converted)
				ereport(ERROR,
						(errcode(ERRCODE_INTERNAL_ERROR),
						 errmsg("%s received " UINT64_FORMAT " rows of the " INT64_FORMAT " converted",
								target, SPI_processed, ts->rows_converted)));
			sent = ts->rows_converted;
		}
		sql = psprintf("DROP TABLE %s", stage_name(ts));
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
						ts->spec->name, sent, ts->dst_citus),
				 errdetail("%.2f s", INSTR_TIME_GET_DOUBLE(took))));
	}
}
