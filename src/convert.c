/*-------------------------------------------------------------------------
 *
 * convert.c
 *	  The conversion engine: legacy integer-keyed rows into the UUID tables.
 *	  One engine serves convert_legacy() (the application's own legacy
 *	  tables, copied into the extension's 2.0 tables) and the 1.0 -> 2.0
 *	  update script (the extension's own 1.0 tables, renamed aside).
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
 * Progress: a NOTICE per table; while a table converts, its progress shows
 * in pg_stat_progress_copy (relid = the legacy table being read, which other
 * sessions can name even while the update's new tables are uncommitted;
 * tuples_processed; tuples_excluded = quarantined; bytes_processed of
 * bytes_total read).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/progress.h"
#include "common/int.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "lane_google.h"
#include "keyset.h"

PG_FUNCTION_INFO_V1(lg_convert_legacy);
PG_FUNCTION_INFO_V1(lg_upgrade_convert);
PG_FUNCTION_INFO_V1(lg_upgrade_mark_validated);

/* batches as COPY FROM buffers them */
#define BATCH_TUPLES	1000
#define BATCH_BYTES		65535
#define MAX_SAMPLES		5

typedef enum OrphanMode
{
	ORPHAN_ERROR,
	ORPHAN_QUARANTINE,
	ORPHAN_NULL
} OrphanMode;

/* What a source key column holds */
typedef enum KeyKind
{
	KIND_INT,					/* smallint, integer, bigint */
	KIND_TEXT,					/* text-like: decimal integer or UUID text */
	KIND_UUID					/* uuid */
} KeyKind;

typedef enum ColMode
{
	COL_COPY,					/* same type: the datum as it is */
	COL_COERCE,					/* other type: output, then input with typmod */
	COL_ID,						/* the primary key */
	COL_FK,						/* a foreign key */
	COL_LEGACY_ID				/* the legacy id, from the source key */
} ColMode;

typedef struct ColMap
{
	ColMode		mode;
	AttrNumber	src_attno;		/* 0 for COL_LEGACY_ID */
	KeyKind		kind;			/* for COL_ID, COL_FK */
	Oid			src_type;
	int			fk;				/* index into the table's fks, for COL_FK */
	FmgrInfo	out_fn;			/* for COL_COERCE */
	FmgrInfo	in_fn;
	Oid			in_ioparam;
	int32		typmod;
	bool		notnull;
	const char *name;			/* target column name */
	/* COL_FK: the last integer key found in the parent, and its uuid */
	bool		have_last;
	int64		last_v;
	pg_uuid_t	last_u;
} ColMap;

/* Per-foreign-key orphan accounting */
typedef struct OrphanStat
{
	int64		count;
	int			nsamples;
	char	   *samples[MAX_SAMPLES];
} OrphanStat;

typedef struct TableState
{
	const LgTable *spec;
	Oid			src_relid;
	Oid			dst_relid;
	pg_uuid_t	ns;				/* the table's namespace under the root */
	/* the keys converted, for its children to check (keyset.c) */
	bool		want_keys;		/* false: none kept, children probe */
	bool		want_uuids;		/* a child may reference it by uuid */
	LgKeySet   *ikeys;			/* its integer ids */
	LgKeySet   *ukeys;			/* its uuid ids; probes its primary key */
	int			children_left;	/* children still to convert */
	OrphanStat	orphans[LG_MAX_FKS];
	/* report */
	int64		rows_read;
	int64		rows_converted;
	int64		rows_quarantined;
	double		seconds;
} TableState;

typedef struct ConvertState
{
	Oid			src_schema;
	const char *src_prefix;		/* source table name = prefix || name */
	Oid			dst_schema;
	OrphanMode	mode;
	bool		upgrade;		/* the 1.0 -> 2.0 update script */
	LgHasher   *hasher;
	pg_uuid_t	root;
	LgKeyBudget budget;			/* the key sets' memory */
	Snapshot	probe_snapshot;
	SPIPlanPtr	quarantine_plan;
	MemoryContext cxt;			/* lives as long as the conversion */
	bool		write;			/* false once an orphan dooms the run */
	TableState	tables[LG_NTABLES];
} ConvertState;

/* Error context: which row of which table is being converted */
typedef struct RowContext
{
	const char *table;
	const char *column;
	ItemPointerData tid;
} RowContext;

static void
row_error_callback(void *arg)
{
	RowContext *rc = (RowContext *) arg;

	if (!ItemPointerIsValid(&rc->tid))
		errcontext("writing the converted rows of legacy table %s", rc->table);
	else if (rc->column)
		errcontext("converting column %s of legacy table %s, row at ctid (%u,%u)",
				   rc->column, rc->table,
				   ItemPointerGetBlockNumber(&rc->tid),
				   ItemPointerGetOffsetNumber(&rc->tid));
	else
		errcontext("converting legacy table %s, row at ctid (%u,%u)",
				   rc->table,
				   ItemPointerGetBlockNumber(&rc->tid),
				   ItemPointerGetOffsetNumber(&rc->tid));
}

/* ------------------------------------------------------------------------
 * Key sets: keyset.c's, filled as each table converts
 * ------------------------------------------------------------------------
 */

/*
 * Every table's key sets, once the tables are resolved: those wanted start
 * filling; the others stay empty, and their children probe.
 */
static void
keys_begin(ConvertState *st)
{
	int			i;
	int			f;

	lg_keybudget_init(&st->budget);
	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];
		AttrNumber	attnum;
		Oid			type;

		for (f = 0; f < ts->spec->nfks; f++)
			st->tables[lg_table_index(ts->spec->fks[f].parent)].children_left++;

		/* described by the target's columns: uuid id, and legacy_id */
		attnum = get_attnum(ts->dst_relid, "legacy_id");
		type = INT8OID;
		ts->ikeys = lg_keyset_create(&st->budget, ts->dst_relid, ts->spec->name,
									 1, &attnum, &type, NULL, InvalidOid, false);
		attnum = get_attnum(ts->dst_relid, "id");
		type = UUIDOID;
		ts->ukeys = lg_keyset_create(&st->budget, ts->dst_relid, ts->spec->name,
									 1, &attnum, &type, NULL, InvalidOid, false);
		/* never evicted: only the conversion of this table can fill them */
		ts->ikeys->pinned = ts->ukeys->pinned = true;
		ts->ikeys->over_elevel = ts->ukeys->over_elevel = NOTICE;
		if (ts->want_keys && OidIsValid(ts->src_relid))
		{
			(void) lg_keyset_begin(ts->ikeys, 0);
			if (ts->want_uuids)
				(void) lg_keyset_begin(ts->ukeys, 0);
		}
	}
}

/*
 * A table's keys are in: refuse duplicates (a legacy table without a
 * primary key can hold them), said in their own words before the index
 * would.
 */
static void
keys_finish(TableState *ts, const char *src_name)
{
	lg_keyset_finish(ts->ikeys);
	lg_keyset_finish(ts->ukeys);
	if (ts->ikeys->has_dup)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("legacy table %s holds id " INT64_FORMAT " more than once",
						src_name, ts->ikeys->dup_int),
				 errdetail("Every legacy id must identify one row: it becomes one UUID."),
				 errhint("Remove the duplicate rows, or give the table a primary key.")));
	if (ts->ukeys->has_dup)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("legacy table %s holds id %s more than once",
						src_name,
						DatumGetCString(DirectFunctionCall1(uuid_out,
															UUIDPGetDatum(&ts->ukeys->dup_uuid)))),
				 errhint("Remove the duplicate rows, or give the table a primary key.")));
}

/* A table is converted: its parents' keys go once their last child is */
static void
keys_release_parents(ConvertState *st, TableState *ts)
{
	int			f;

	if (ts->children_left == 0)
	{
		lg_keyset_free(ts->ikeys);
		lg_keyset_free(ts->ukeys);
	}
	for (f = 0; f < ts->spec->nfks; f++)
	{
		TableState *p = &st->tables[lg_table_index(ts->spec->fks[f].parent)];

		if (--p->children_left == 0)
		{
			lg_keyset_free(p->ikeys);
			lg_keyset_free(p->ukeys);
		}
	}
}

/*
 * Does the parent's target table hold this uuid?  A probe of its primary
 * key index, for parents whose key set was not kept and for keys the set
 * does not know (rows the target held before the conversion).
 */
static bool
probe_parent(ConvertState *st, TableState *p, const pg_uuid_t *u)
{
	LgKey		key;

	lg_keyset_probe_open(p->ukeys, st->probe_snapshot);
	key.values[0] = UUIDPGetDatum(u);
	return lg_keyset_probe(p->ukeys, &key);
}

/* ------------------------------------------------------------------------
 * Keys
 * ------------------------------------------------------------------------
 */

static bool
key_type_ok(Oid typid, KeyKind *kind)
{
	switch (typid)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
			*kind = KIND_INT;
			return true;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			*kind = KIND_TEXT;
			return true;
		case UUIDOID:
			*kind = KIND_UUID;
			return true;
		default:
			return false;
	}
}

/* A UUID as uuid_in() accepts it in its usual forms: 32 hex digits, hyphens allowed */
static bool
looks_like_uuid(const char *s, int len)
{
	int			hex = 0;
	int			i;

	if (len > 0 && s[0] == '{' && s[len - 1] == '}')
	{
		s++;
		len -= 2;
	}
	for (i = 0; i < len; i++)
	{
		if (isxdigit((unsigned char) s[i]))
			hex++;
		else if (s[i] != '-')
			return false;
	}
	return hex == 32;
}

/*
 * The key in a source column: an integer (returns true, *ival) or a uuid
 * (returns false, *uval).  Text must hold a decimal integer within bigint or
 * a UUID; anything else is an error naming the table, column and value.
 */
static bool
parse_key(ColMap *c, const char *table, Datum d, int64 *ival, pg_uuid_t *uval)
{
	text	   *t;
	char	   *s;
	int			len;
	int			i;
	bool		neg = false;
	int64		v = 0;

	switch (c->kind)
	{
		case KIND_INT:
			if (c->src_type == INT2OID)
				*ival = DatumGetInt16(d);
			else if (c->src_type == INT4OID)
				*ival = DatumGetInt32(d);
			else
				*ival = DatumGetInt64(d);
			return true;
		case KIND_UUID:
			memcpy(uval->data, DatumGetUUIDP(d)->data, UUID_LEN);
			return false;
		case KIND_TEXT:
			break;
	}

	t = DatumGetTextPP(d);
	s = VARDATA_ANY(t);
	len = VARSIZE_ANY_EXHDR(t);
	/* bpchar pads with blanks; be as lenient as int8in is with white space */
	while (len > 0 && isspace((unsigned char) s[len - 1]))
		len--;
	while (len > 0 && isspace((unsigned char) *s))
	{
		s++;
		len--;
	}

	i = 0;
	if (len > 0 && (s[0] == '-' || s[0] == '+'))
	{
		neg = (s[0] == '-');
		i = 1;
	}
	if (i < len)
	{
		bool		digits = true;
		bool		overflow = false;
		int			j;

		for (j = i; j < len; j++)
		{
			if (!isdigit((unsigned char) s[j]))
			{
				digits = false;
				break;
			}
			/* accumulate negatively so that -2^63 fits */
			if (!overflow &&
				(pg_mul_s64_overflow(v, 10, &v) ||
				 pg_sub_s64_overflow(v, s[j] - '0', &v)))
				overflow = true;
		}
		if (digits)
		{
			if (!overflow && !neg && v == PG_INT64_MIN)
				overflow = true;
			if (overflow)
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("key \"%.*s\" in column %s of legacy table %s is out of range for bigint",
								Min(len, 64), s, c->name, table)));
			*ival = neg ? v : -v;
			return true;
		}
	}
	if (looks_like_uuid(s, len))
	{
		char	   *cstr = pnstrdup(s, len);
		pg_uuid_t  *u = DatumGetUUIDP(DirectFunctionCall1(uuid_in,
														  CStringGetDatum(cstr)));

		*uval = *u;
		pfree(cstr);
		return false;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("key \"%.*s\" in column %s of legacy table %s is neither an integer nor a UUID",
					Min(len, 64), s, c->name, table),
			 errdetail("Keys convert from integers, decimal-integer text and UUID text only; other keys are reported, never guessed."),
			 errhint("Fix the value, or map the table's keys to integers first.")));
	return false;				/* keep compiler quiet */
}

static char *
key_text(bool is_int, int64 ival, const pg_uuid_t *uval)
{
	if (is_int)
		return psprintf(INT64_FORMAT, ival);
	return DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(uval)));
}

/* ------------------------------------------------------------------------
 * Layout check: every mismatch of every table, in one error
 * ------------------------------------------------------------------------
 */

static char *
source_table_name(ConvertState *st, const LgTable *t)
{
	return psprintf("%s%s", st->src_prefix, t->name);
}

static char *
qualified(Oid schema, const char *name)
{
	return quote_qualified_identifier(get_namespace_name(schema), name);
}

/* The source column for a target column, by name or alias; 0 if none */
static AttrNumber
source_attno(Relation src, const char *name, const char *alias)
{
	AttrNumber	a = get_attnum(RelationGetRelid(src), name);

	if (a == InvalidAttrNumber && alias)
		a = get_attnum(RelationGetRelid(src), alias);
	return a;
}

/*
 * Build the column map of one table, appending any mismatch to problems.
 */
static ColMap *
build_colmap(ConvertState *st, TableState *ts, Relation src, Relation dst,
			 StringInfo problems)
{
	TupleDesc	dd = RelationGetDescr(dst);
	TupleDesc	sd = RelationGetDescr(src);
	ColMap	   *map = palloc0(sizeof(ColMap) * dd->natts);
	bool	   *used = palloc0(sizeof(bool) * (sd->natts + 1));
	const LgTable *t = ts->spec;
	char	   *sname = qualified(st->src_schema, source_table_name(st, t));
	int			i;

	for (i = 0; i < dd->natts; i++)
	{
		Form_pg_attribute da = TupleDescAttr(dd, i);
		const char *name = NameStr(da->attname);
		const char *alias = NULL;
		ColMap	   *c = &map[i];
		int			f;
		Form_pg_attribute sa;

		if (da->attisdropped)
			continue;
		c->name = name;
		c->notnull = da->attnotnull;
		c->typmod = da->atttypmod;

		if (strcmp(name, "legacy_id") == 0)
		{
			c->mode = COL_LEGACY_ID;
			continue;
		}
		c->mode = COL_COPY;
		if (strcmp(name, "id") == 0)
			c->mode = COL_ID;
		for (f = 0; f < t->nfks; f++)
			if (strcmp(name, t->fks[f].column) == 0)
			{
				c->mode = COL_FK;
				c->fk = f;
				alias = t->fks[f].alias;
			}

		c->src_attno = source_attno(src, name, alias);
		if (c->src_attno <= 0)
		{
			appendStringInfo(problems, "\n%s: column \"%s\" is missing", sname, name);
			continue;
		}
		used[c->src_attno] = true;
		sa = TupleDescAttr(sd, c->src_attno - 1);
		c->src_type = sa->atttypid;

		if (c->mode == COL_ID || c->mode == COL_FK)
		{
			if (!key_type_ok(sa->atttypid, &c->kind))
				appendStringInfo(problems,
								 "\n%s: key column \"%s\" is of type %s; keys convert from smallint, integer, bigint, text, varchar or uuid",
								 sname, NameStr(sa->attname),
								 format_type_be(sa->atttypid));
			continue;
		}

		if (sa->atttypid == da->atttypid &&
			(da->atttypmod < 0 || sa->atttypmod == da->atttypmod))
			continue;			/* COL_COPY */

		/* another type: through its text form, as an assignment would */
		{
			Oid			outfn;
			Oid			infn;
			bool		isvarlena;

			c->mode = COL_COERCE;
			getTypeOutputInfo(sa->atttypid, &outfn, &isvarlena);
			getTypeInputInfo(da->atttypid, &infn, &c->in_ioparam);
			fmgr_info(outfn, &c->out_fn);
			fmgr_info(infn, &c->in_fn);
		}
	}

	for (i = 0; i < sd->natts; i++)
	{
		Form_pg_attribute sa = TupleDescAttr(sd, i);

		if (sa->attisdropped || used[i + 1])
			continue;
		appendStringInfo(problems,
						 "\n%s: column \"%s\" has no place in %s and would be lost",
						 sname, NameStr(sa->attname),
						 qualified(st->dst_schema, t->name));
	}
	pfree(used);
	return map;
}

/* ------------------------------------------------------------------------
 * Writing
 * ------------------------------------------------------------------------
 */

typedef struct Writer
{
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	BulkInsertState bistate;
	TupleTableSlot *slots[BATCH_TUPLES];
	int			nslots;
	Size		nbytes;
	CommandId	cid;
	int			options;
	MemoryContext batch_cxt;
	List	   *checks;			/* ExprState of each CHECK constraint */
} Writer;

/*
 * maintain_indexes false: the caller rebuilds the table's indexes after the
 * load (the table was empty), which beats inserting every key into them.
 */
static void
writer_open(Writer *w, Relation rel, bool maintain_indexes)
{
	TupleConstr *constr = RelationGetDescr(rel)->constr;
	int			i;

	memset(w, 0, sizeof(Writer));
	w->rel = rel;
	w->estate = CreateExecutorState();
	w->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(w->rri, rel, 1, NULL, 0);
	if (maintain_indexes)
		ExecOpenIndices(w->rri, false);
	w->bistate = GetBulkInsertState();
	w->cid = GetCurrentCommandId(true);
	w->batch_cxt = AllocSetContextCreate(CurrentMemoryContext,
										 "lane_google conversion batch",
										 ALLOCSET_DEFAULT_SIZES);
	/* a table created by this very transaction needs no free-space map */
	if (rel->rd_createSubid != InvalidSubTransactionId)
		w->options |= TABLE_INSERT_SKIP_FSM;

	if (constr)
		for (i = 0; i < constr->num_check; i++)
		{
			Expr	   *e = stringToNode(constr->check[i].ccbin);

			e = expression_planner(e);
			w->checks = lappend(w->checks, ExecPrepareExpr(e, w->estate));
		}
	for (i = 0; i < BATCH_TUPLES; i++)
		w->slots[i] = MakeSingleTupleTableSlot(RelationGetDescr(rel),
											   &TTSOpsHeapTuple);
}

static void
writer_flush(Writer *w)
{
	int			i;

	if (w->nslots == 0)
		return;
	table_multi_insert(w->rel, w->slots, w->nslots, w->cid, w->options,
					   w->bistate);
	if (w->rri->ri_NumIndices > 0)
	{
		ExprContext *econtext = GetPerTupleExprContext(w->estate);

		for (i = 0; i < w->nslots; i++)
		{
			List	   *r;

			econtext->ecxt_scantuple = w->slots[i];
#if PG_VERSION_NUM >= 160000
			r = ExecInsertIndexTuples(w->rri, w->slots[i], w->estate,
									  false, false, NULL, NIL, false);
#else
			r = ExecInsertIndexTuples(w->rri, w->slots[i], w->estate,
									  false, false, NULL, NIL);
#endif
			list_free(r);
			ResetPerTupleExprContext(w->estate);
		}
	}
	for (i = 0; i < w->nslots; i++)
		ExecClearTuple(w->slots[i]);
	w->nslots = 0;
	w->nbytes = 0;
	MemoryContextReset(w->batch_cxt);
}

/* Add a formed row; checks the table's CHECK constraints first */
static void
writer_add(Writer *w, Datum *values, bool *nulls)
{
	TupleTableSlot *slot = w->slots[w->nslots];
	MemoryContext old = MemoryContextSwitchTo(w->batch_cxt);
	HeapTuple	tup = heap_form_tuple(RelationGetDescr(w->rel), values, nulls);
	ListCell   *lc;

	MemoryContextSwitchTo(old);
	/* the slot owns the tuple: table_multi_insert() then takes it as it is */
	ExecStoreHeapTuple(tup, slot, true);

	if (w->checks != NIL)
	{
		ExprContext *econtext = GetPerTupleExprContext(w->estate);
		int			i = 0;

		econtext->ecxt_scantuple = slot;
		foreach(lc, w->checks)
		{
			if (!ExecCheck((ExprState *) lfirst(lc), econtext))
				ereport(ERROR,
						(errcode(ERRCODE_CHECK_VIOLATION),
						 errmsg("row violates check constraint \"%s\" of table %s",
								RelationGetDescr(w->rel)->constr->check[i].ccname,
								RelationGetRelationName(w->rel))));
			i++;
		}
		ResetPerTupleExprContext(w->estate);
	}

	w->nbytes += tup->t_len;
	if (++w->nslots == BATCH_TUPLES || w->nbytes >= BATCH_BYTES)
		writer_flush(w);
}

static void
writer_close(Writer *w)
{
	int			i;

	writer_flush(w);
	for (i = 0; i < BATCH_TUPLES; i++)
		ExecDropSingleTupleTableSlot(w->slots[i]);
	FreeBulkInsertState(w->bistate);
	table_finish_bulk_insert(w->rel, w->options);
	ExecCloseIndices(w->rri);
	FreeExecutorState(w->estate);
	MemoryContextDelete(w->batch_cxt);
}

/* ------------------------------------------------------------------------
 * Quarantine
 * ------------------------------------------------------------------------
 */

static void
quarantine_row(ConvertState *st, const char *table, TupleTableSlot *srcslot,
			   const char *reason)
{
	Datum		values[3];
	Datum		row;
	Datum		json;
	int			rc;

	if (!st->write)
		return;
	if (st->quarantine_plan == NULL)
	{
		char	   *sql = psprintf("INSERT INTO %s (table_name, reason, row_data) VALUES ($1, $2, $3)",
								   qualified(st->dst_schema, "legacy_quarantine"));
		Oid			types[3] = {TEXTOID, TEXTOID, JSONBOID};

		st->quarantine_plan = SPI_prepare(sql, 3, types);
		if (st->quarantine_plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(st->quarantine_plan);
	}
	row = ExecFetchSlotHeapTupleDatum(srcslot);
	json = DirectFunctionCall1(row_to_json, row);
	values[0] = CStringGetTextDatum(table);
	values[1] = CStringGetTextDatum(reason);
	values[2] = DirectFunctionCall1(jsonb_in,
									CStringGetDatum(TextDatumGetCString(json)));
	rc = SPI_execute_plan(st->quarantine_plan, values, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "could not quarantine a row: %s", SPI_result_code_string(rc));
}

/* ------------------------------------------------------------------------
 * One table
 * ------------------------------------------------------------------------
 */

/* Does the table hold no row visible to the snapshot? */
static bool
table_is_empty(Relation rel, Snapshot snapshot)
{
	TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	bool		empty = !table_scan_getnextslot(scan, ForwardScanDirection, slot);

	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	return empty;
}

/* Rebuild every index of a table loaded without index maintenance */
static void
rebuild_indexes(Oid relid)
{
#if PG_VERSION_NUM >= 140000
	ReindexParams params = {0};

#if PG_VERSION_NUM >= 170000
	reindex_relation(NULL, relid, REINDEX_REL_CHECK_CONSTRAINTS, &params);
#else
	reindex_relation(relid, REINDEX_REL_CHECK_CONSTRAINTS, &params);
#endif
#else
	reindex_relation(relid, REINDEX_REL_CHECK_CONSTRAINTS, 0);
#endif
	CommandCounterIncrement();
}

static void
record_orphan(ConvertState *st, OrphanStat *os, const char *value)
{
	os->count++;
	if (os->nsamples < MAX_SAMPLES)
		os->samples[os->nsamples++] = MemoryContextStrdup(st->cxt, value);
}

static void
convert_table(ConvertState *st, TableState *ts)
{
	const LgTable *t = ts->spec;
	Relation	src;
	Relation	dst;
	ColMap	   *map;
	StringInfoData problems;
	TupleDesc	dd;
	TupleTableSlot *srcslot;
	TableScanDesc scan;
	Snapshot	snapshot;
	Writer		w;
	Datum	   *values;
	bool	   *nulls;
	char	   *src_name = source_table_name(st, t);
	char	   *src_qname = qualified(st->src_schema, src_name);
	RowContext rowctx;
	ErrorContextCallback errcb;
	instr_time	start;
	instr_time	elapsed;
	MemoryContext row_cxt;
	MemoryContext old;
	bool		bulk;
	int			i;

	INSTR_TIME_SET_CURRENT(start);

	src = table_open(ts->src_relid, NoLock);
	dst = table_open(ts->dst_relid, NoLock);
	dd = RelationGetDescr(dst);

	initStringInfo(&problems);
	map = build_colmap(st, ts, src, dst, &problems);
	if (problems.len > 0)		/* checked before: cannot happen */
		elog(ERROR, "layout of %s changed during conversion", src_qname);

	values = palloc(sizeof(Datum) * dd->natts);
	nulls = palloc(sizeof(bool) * dd->natts);

	/* children probe parents with a snapshot that sees the parents' rows */
	CommandCounterIncrement();
	st->probe_snapshot = RegisterSnapshot(GetLatestSnapshot());

	/*
	 * An empty target (always so in the update) is loaded without index
	 * maintenance, and its indexes are rebuilt once it is full.
	 */
	bulk = st->upgrade || table_is_empty(dst, st->probe_snapshot);
	writer_open(&w, dst, !bulk);
	row_cxt = AllocSetContextCreate(CurrentMemoryContext,
									"lane_google conversion row",
									ALLOCSET_DEFAULT_SIZES);

#if PG_VERSION_NUM >= 140000
	pgstat_progress_start_command(PROGRESS_COMMAND_COPY, ts->src_relid);
	{
		const int	idx[3] = {PROGRESS_COPY_COMMAND, PROGRESS_COPY_TYPE,
		PROGRESS_COPY_BYTES_TOTAL};
		int64		val[3] = {PROGRESS_COPY_COMMAND_FROM, PROGRESS_COPY_TYPE_CALLBACK,
			(int64) RelationGetNumberOfBlocks(src) * BLCKSZ};

		pgstat_progress_update_multi_param(3, idx, val);
	}
#endif

	rowctx.table = src_qname;
	rowctx.column = NULL;
	errcb.callback = row_error_callback;
	errcb.arg = &rowctx;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	/*
	 * The latest snapshot, not the transaction's: every table is locked
	 * against writers by now, and in REPEATABLE READ the transaction's
	 * snapshot may predate the locks, missing rows committed in between
	 * (which the update would then drop with the old table).
	 */
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	srcslot = table_slot_create(src, NULL);
	scan = table_beginscan(src, snapshot, 0, NULL);

	while (table_scan_getnextslot(scan, ForwardScanDirection, srcslot))
	{
		bool		orphaned = false;
		bool		quarantine = false;
		StringInfoData reason;
		int64		id_int = 0;
		bool		id_is_int = false;
		pg_uuid_t  *id_uuid;

		CHECK_FOR_INTERRUPTS();
		slot_getallattrs(srcslot);
		rowctx.tid = srcslot->tts_tid;
		ts->rows_read++;
		old = MemoryContextSwitchTo(row_cxt);
		initStringInfo(&reason);
		id_uuid = palloc(UUID_LEN);

		for (i = 0; i < dd->natts; i++)
		{
			ColMap	   *c = &map[i];
			Datum		d;
			bool		isnull;

			if (TupleDescAttr(dd, i)->attisdropped)
			{
				nulls[i] = true;
				continue;
			}
			if (c->mode == COL_LEGACY_ID)
				continue;		/* filled in once the id is known */

			rowctx.column = c->name;
			d = srcslot->tts_values[c->src_attno - 1];
			isnull = srcslot->tts_isnull[c->src_attno - 1];
			nulls[i] = isnull;

			if (isnull)
			{
				if (c->notnull)
					ereport(ERROR,
							(errcode(ERRCODE_NOT_NULL_VIOLATION),
							 errmsg("column %s of legacy table %s is NULL, but %s.%s is NOT NULL",
									c->name, src_qname, t->name, c->name)));
				continue;
			}

			switch (c->mode)
			{
				case COL_COPY:
					values[i] = d;
					break;
				case COL_COERCE:
					{
						char	   *s = OutputFunctionCall(&c->out_fn, d);

						values[i] = InputFunctionCall(&c->in_fn, s,
													  c->in_ioparam, c->typmod);
						break;
					}
				case COL_ID:
					id_is_int = parse_key(c, src_qname, d, &id_int, id_uuid);
					if (id_is_int)
						lg_map_legacy_id(st->hasher, &ts->ns, id_int, id_uuid);
					values[i] = UUIDPGetDatum(id_uuid);
					break;
				case COL_FK:
					{
						const LgForeignKey *fk = &t->fks[c->fk];
						TableState *p = &st->tables[lg_table_index(fk->parent)];
						pg_uuid_t  *u = palloc(UUID_LEN);
						int64		v = 0;
						bool		is_int = parse_key(c, src_qname, d, &v, u);
						bool		found;

						if (is_int && c->have_last && v == c->last_v)
						{
							/* children come clustered by parent: no hash again */
							*u = c->last_u;
							found = true;
						}
						else if (is_int)
						{
							lg_map_legacy_id(st->hasher, &p->ns, v, u);
							found = lg_keyset_contains_int(p->ikeys, v);
						}
						else
							found = lg_keyset_contains_uuid(p->ukeys, u);
						/* not among the converted keys: rows the target held already? */
						if (!found)
							found = probe_parent(st, p, u);
						if (found && is_int)
						{
							c->have_last = true;
							c->last_v = v;
							c->last_u = *u;
						}
						values[i] = UUIDPGetDatum(u);
						if (!found)
						{
							char	   *k = key_text(is_int, v, u);

							orphaned = true;
							record_orphan(st, &ts->orphans[c->fk], k);
							appendStringInfo(&reason, "%sorphan: %s = %s has no row in %s",
											 reason.len ? "; " : "", c->name, k, fk->parent);
							if (st->mode == ORPHAN_NULL && fk->nullable)
							{
								nulls[i] = true;
								appendStringInfoString(&reason, ", set to NULL");
							}
							else
								quarantine = true;
						}
						break;
					}
				case COL_LEGACY_ID:
					break;
			}
		}
		rowctx.column = NULL;

		/* legacy_id: the integer id, or NULL for a row converted already */
		for (i = 0; i < dd->natts; i++)
			if (map[i].mode == COL_LEGACY_ID)
			{
				values[i] = Int64GetDatum(id_int);
				nulls[i] = !id_is_int;
			}

		if (orphaned && st->mode == ORPHAN_ERROR)
		{
			/*
			 * The run will fail: stop writing, but go on counting, keeping
			 * the row's keys so its children are not reported as well.
			 */
			st->write = false;
			quarantine = false;
		}

		if (orphaned && st->mode != ORPHAN_ERROR)
		{
			quarantine_row(st, t->name, srcslot, reason.data);
			ts->rows_quarantined++;
		}
		if (!quarantine)
		{
			if (id_is_int)
				lg_keyset_add_int(ts->ikeys, id_int);
			lg_keyset_add_uuid(ts->ukeys, id_uuid);
			if (st->write)
				writer_add(&w, values, nulls);
			if (!orphaned || st->mode != ORPHAN_ERROR)
				ts->rows_converted++;
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(row_cxt);

#if PG_VERSION_NUM >= 140000
		if ((ts->rows_read & 1023) == 0)
		{
			const int	idx[3] = {PROGRESS_COPY_TUPLES_PROCESSED,
				PROGRESS_COPY_TUPLES_EXCLUDED, PROGRESS_COPY_BYTES_PROCESSED};
			int64		val[3] = {ts->rows_converted, ts->rows_quarantined,
				(int64) ItemPointerGetBlockNumber(&srcslot->tts_tid) * BLCKSZ};

			pgstat_progress_update_multi_param(3, idx, val);
		}
#endif
		if (lg_progress_rows > 0 && ts->rows_read % lg_progress_rows == 0)
			elog(DEBUG1, "lane_google: %s: " INT64_FORMAT " rows read",
				 t->name, ts->rows_read);
	}

	table_endscan(scan);
	ExecDropSingleTupleTableSlot(srcslot);
	UnregisterSnapshot(snapshot);

	/* duplicate legacy ids: said in their own words before the index would */
	keys_finish(ts, src_qname);

	rowctx.column = "id";
	ItemPointerSetInvalid(&rowctx.tid);
	writer_close(&w);
	error_context_stack = errcb.previous;
#if PG_VERSION_NUM >= 140000
	pgstat_progress_end_command();
#endif
	for (i = 0; i < LG_NTABLES; i++)
		lg_keyset_probe_close(st->tables[i].ukeys);
	UnregisterSnapshot(st->probe_snapshot);
	st->probe_snapshot = NULL;
	MemoryContextDelete(row_cxt);

	table_close(dst, NoLock);
	table_close(src, NoLock);

	if (bulk && !st->upgrade && st->write)
		rebuild_indexes(ts->dst_relid);

	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);
	ts->seconds = INSTR_TIME_GET_DOUBLE(elapsed);

	ereport(NOTICE,
			(errmsg("lane_google: %s: read " INT64_FORMAT ", converted " INT64_FORMAT ", quarantined " INT64_FORMAT,
					t->name, ts->rows_read, ts->rows_converted, ts->rows_quarantined),
			 errdetail("%.2f s, %.0f rows/s", ts->seconds,
					   ts->seconds > 0 ? ts->rows_read / ts->seconds : 0.0)));
}

/* ------------------------------------------------------------------------
 * The whole conversion
 * ------------------------------------------------------------------------
 */

static OrphanMode
parse_orphan_mode(const char *s)
{
	if (strcmp(s, "error") == 0)
		return ORPHAN_ERROR;
	if (strcmp(s, "quarantine") == 0)
		return ORPHAN_QUARANTINE;
	if (strcmp(s, "null") == 0)
		return ORPHAN_NULL;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("on_orphan must be 'error', 'quarantine' or 'null', not '%s'", s)));
	return ORPHAN_ERROR;		/* keep compiler quiet */
}

/* USAGE on a schema, in the words of every version since 13 */
static AclResult
object_aclcheck_namespace(Oid nspid)
{
#if PG_VERSION_NUM >= 160000
	return object_aclcheck(NamespaceRelationId, nspid, GetUserId(), ACL_USAGE);
#else
	return pg_namespace_aclcheck(nspid, GetUserId(), ACL_USAGE);
#endif
}

/*
 * Resolve, lock and check every table before anything is written.  Locks in
 * the tables' fixed order: sources SHARE (readers go on, writers wait: their
 * rows would be lost), targets SHARE ROW EXCLUSIVE (readers go on, writers
 * and a second conversion wait).
 */
static void
prepare(ConvertState *st)
{
	StringInfoData problems;
	int			i;
	int			j;
	Oid			cfg;

	st->cxt = CurrentMemoryContext;
	initStringInfo(&problems);

	if (!st->upgrade)
	{
		AclResult	acl = object_aclcheck_namespace(st->src_schema);

		if (acl != ACLCHECK_OK)
			aclcheck_error(acl, OBJECT_SCHEMA, get_namespace_name(st->src_schema));
	}

	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];
		char	   *sname = source_table_name(st, &lg_tables[i]);

		ts->spec = &lg_tables[i];
		ts->want_keys = true;

		ts->dst_relid = get_relname_relid(ts->spec->name, st->dst_schema);
		if (!OidIsValid(ts->dst_relid))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("table %s does not exist",
							qualified(st->dst_schema, ts->spec->name))));
		if (get_attnum(ts->dst_relid, "legacy_id") == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the lane_google tables are not at version 2.0"),
					 errhint("Run ALTER EXTENSION lane_google UPDATE first.")));

		ts->src_relid = get_relname_relid(sname, st->src_schema);
		if (!OidIsValid(ts->src_relid))
		{
			appendStringInfo(&problems, "\n%s: table is missing",
							 qualified(st->src_schema, sname));
			continue;
		}
		if (get_rel_relkind(ts->src_relid) != RELKIND_RELATION &&
			get_rel_relkind(ts->src_relid) != RELKIND_PARTITIONED_TABLE)
		{
			appendStringInfo(&problems, "\n%s: is not a table",
							 qualified(st->src_schema, sname));
			ts->src_relid = InvalidOid;
			continue;
		}
	}

	/* privileges before locks: a caller who may not read cannot block */
	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];
		AclResult	acl;

		if (!OidIsValid(ts->src_relid))
			continue;
		acl = pg_class_aclcheck(ts->src_relid, GetUserId(), ACL_SELECT);
		if (acl != ACLCHECK_OK)
			aclcheck_error(acl, OBJECT_TABLE, get_rel_name(ts->src_relid));
		acl = pg_class_aclcheck(ts->dst_relid, GetUserId(), ACL_INSERT);
		if (acl != ACLCHECK_OK)
			aclcheck_error(acl, OBJECT_TABLE, get_rel_name(ts->dst_relid));
	}

	/* the namespace must not change under us: set_legacy_namespace takes EXCLUSIVE */
	cfg = get_relname_relid("legacy_config", st->dst_schema);
	if (OidIsValid(cfg))
		LockRelationOid(cfg, ShareLock);
	lg_root_namespace(&st->root);
	st->hasher = lg_hasher_create();
	for (i = 0; i < LG_NTABLES; i++)
		lg_table_namespace(st->hasher, &st->root, lg_tables[i].name,
						   &st->tables[i].ns);

	for (i = 0; i < LG_NTABLES; i++)
		if (OidIsValid(st->tables[i].src_relid))
			LockRelationOid(st->tables[i].src_relid, ShareLock);
	for (i = 0; i < LG_NTABLES; i++)
		LockRelationOid(st->tables[i].dst_relid, ShareRowExclusiveLock);

	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];
		Relation	src;
		Relation	dst;

		if (!OidIsValid(ts->src_relid))
			continue;
		src = table_open(ts->src_relid, NoLock);
		dst = table_open(ts->dst_relid, NoLock);
		pfree(build_colmap(st, ts, src, dst, &problems));

		/* parents keep uuid keys when any child may reference them by uuid */
		for (j = 0; j < ts->spec->nfks; j++)
		{
			AttrNumber	a = source_attno(src, ts->spec->fks[j].column,
										 ts->spec->fks[j].alias);
			KeyKind		kind;

			if (a > 0 &&
				key_type_ok(TupleDescAttr(RelationGetDescr(src), a - 1)->atttypid, &kind) &&
				kind != KIND_INT)
				st->tables[lg_table_index(ts->spec->fks[j].parent)].want_uuids = true;
		}
		{
			AttrNumber	a = get_attnum(ts->src_relid, "id");
			KeyKind		kind;

			if (a > 0 &&
				key_type_ok(TupleDescAttr(RelationGetDescr(src), a - 1)->atttypid, &kind) &&
				kind != KIND_INT)
				ts->want_uuids = true;
		}
		table_close(dst, NoLock);
		table_close(src, NoLock);
	}

	if (problems.len > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("the legacy tables in schema %s do not match lane_google's layout",
						quote_identifier(get_namespace_name(st->src_schema))),
				 errdetail("Problems:%s", problems.data),
				 errhint("Nothing was converted.  Fix the source tables and run the conversion again.")));

	/*
	 * The 1.0 tables had primary keys: no duplicates to detect in tables no
	 * one references, so those keep no key set at all.
	 */
	if (st->upgrade)
		for (i = 0; i < LG_NTABLES; i++)
		{
			bool		referenced = false;

			for (j = 0; j < LG_NTABLES; j++)
			{
				int			f;

				for (f = 0; f < lg_tables[j].nfks; f++)
					if (strcmp(lg_tables[j].fks[f].parent, lg_tables[i].name) == 0)
						referenced = true;
			}
			if (!referenced)
				st->tables[i].want_keys = false;
		}
}

/* After all tables: the orphans, if on_orphan is 'error' */
static void
report_orphans(ConvertState *st)
{
	StringInfoData detail;
	int64		total = 0;
	int			i;
	int			f;
	int			k;

	if (st->mode != ORPHAN_ERROR)
		return;
	initStringInfo(&detail);
	for (i = 0; i < LG_NTABLES; i++)
		for (f = 0; f < st->tables[i].spec->nfks; f++)
		{
			OrphanStat *os = &st->tables[i].orphans[f];

			if (os->count == 0)
				continue;
			total += os->count;
			appendStringInfo(&detail, "%s%s.%s -> %s: " INT64_FORMAT " row%s, key%s ",
							 detail.len ? "\n" : "",
							 lg_tables[i].name, lg_tables[i].fks[f].column,
							 lg_tables[i].fks[f].parent, os->count,
							 os->count == 1 ? "" : "s",
							 os->nsamples == 1 ? "" : "s");
			for (k = 0; k < os->nsamples; k++)
				appendStringInfo(&detail, "%s%s", k ? ", " : "", os->samples[k]);
			if (os->count > os->nsamples)
				appendStringInfoString(&detail, ", ...");
		}
	if (total > 0)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg(INT64_FORMAT " legacy row%s reference%s a missing parent row",
						total, total == 1 ? "" : "s", total == 1 ? "s" : ""),
				 errdetail("%s", detail.data),
				 st->upgrade ?
				 errhint("Nothing was changed.  Delete or fix the orphan rows, or convert with convert_legacy(..., on_orphan => 'quarantine').") :
				 errhint("Nothing was changed.  Use on_orphan => 'quarantine' or 'null' to convert the rest and keep these rows aside.")));
}

static void
run_conversion(ConvertState *st)
{
	int			i;

	prepare(st);
	keys_begin(st);
	st->write = true;
	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];

		convert_table(st, ts);
		keys_release_parents(st, ts);

		/* in the update, the new table gets its primary key before its children load */
		if (st->upgrade)
		{
			char	   *sql = psprintf("ALTER TABLE %s ADD CONSTRAINT %s PRIMARY KEY (id)",
									   qualified(st->dst_schema, ts->spec->name),
									   quote_identifier(psprintf("%s_pkey", ts->spec->name)));

			if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
				elog(ERROR, "SPI_execute failed: %s", sql);
		}
	}
	report_orphans(st);
	lg_hasher_free(st->hasher);
	st->hasher = NULL;
}

/*
 * convert_legacy(source_schema name, on_orphan text, dry_run boolean)
 */
Datum
lg_convert_legacy(PG_FUNCTION_ARGS)
{
	Name		source;
	char	   *on_orphan;
	bool		dry_run;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ConvertState *st;
	TupleDesc	tupdesc;
	Tuplestorestate *tupstore;
	MemoryContext per_query;
	MemoryContext old;
	MemoryContext work;
	ResourceOwner owner = CurrentResourceOwner;
	int			i;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("convert_legacy() must be called in a context that accepts a set")));

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s of convert_legacy() must not be NULL",
						PG_ARGISNULL(0) ? "source_schema" :
						PG_ARGISNULL(1) ? "on_orphan" : "dry_run")));
	source = PG_GETARG_NAME(0);
	on_orphan = text_to_cstring(PG_GETARG_TEXT_PP(1));
	dry_run = PG_GETARG_BOOL(2);

	st = palloc0(sizeof(ConvertState));
	st->mode = parse_orphan_mode(on_orphan);
	st->dst_schema = lg_extension_schema();
	st->src_schema = get_namespace_oid(NameStr(*source), false);
	st->src_prefix = "";
	if (st->src_schema == st->dst_schema)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source schema %s is lane_google's own schema",
						quote_identifier(NameStr(*source))),
				 errdetail("convert_legacy() copies legacy tables of another schema into the extension's tables."),
				 errhint("To convert the extension's own 1.0 tables, run ALTER EXTENSION lane_google UPDATE.")));
	if (IsInParallelMode() || RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot convert in a read-only transaction")));
	PreventCommandIfReadOnly("convert_legacy()");

	per_query = rsinfo->econtext->ecxt_per_query_memory;
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	work = AllocSetContextCreate(CurrentMemoryContext, "lane_google conversion",
								 ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(work);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	MemoryContextSwitchTo(work);

	if (dry_run)
	{
		/* the real thing, in a subtransaction rolled back at the end */
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
	else
		run_conversion(st);

	if (st->quarantine_plan)
		SPI_freeplan(st->quarantine_plan);
	SPI_finish();

	MemoryContextSwitchTo(per_query);
	tupstore = tuplestore_begin_heap(true, false, work_mem);
	tupdesc = CreateTupleDescCopy(tupdesc);
	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};
		NameData	name;

		namestrcpy(&name, ts->spec->name);
		values[0] = NameGetDatum(&name);
		values[1] = Int64GetDatum(ts->rows_read);
		values[2] = Int64GetDatum(ts->rows_converted);
		values[3] = Int64GetDatum(ts->rows_quarantined);
		values[4] = Float8GetDatum(ts->seconds);
		tuplestore_putvalues(tupstore, tupdesc, values, nulls);
	}
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tupstore;
	rsinfo->setDesc = tupdesc;

	MemoryContextSwitchTo(old);
	MemoryContextDelete(work);
	return (Datum) 0;
}

/*
 * _lg_upgrade_convert(source_prefix text): the 1.0 -> 2.0 update script's
 * step.  The 1.0 tables, renamed to source_prefix || name, are converted
 * into the new, empty 2.0 tables of the same schema; each gets its primary
 * key once loaded.  Orphans are an error.
 */
Datum
lg_upgrade_convert(PG_FUNCTION_ARGS)
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

	/*
	 * Extension scripts run with client_min_messages raised to WARNING; the
	 * progress of the update is worth seeing, so the session's own setting
	 * is in force for the conversion.
	 */
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("client_min_messages",
							 GetConfigOptionResetString("client_min_messages"),
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	run_conversion(st);
	SPI_finish();
	AtEOXact_GUC(true, nestlevel);
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
Datum
lg_upgrade_mark_validated(PG_FUNCTION_ARGS)
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
	PG_RETURN_INT32(marked);
}
