/*-------------------------------------------------------------------------
 *
 * rows.c
 *	  Row conversion, the engine's hot path: the columns other than keys
 *	  converted a batch at a time (copied, defaulted, by enum label, cast:
 *	  casts.c), then each row: its key mapped to its uuid by legacy_uuid()'s
 *	  function, every foreign-key value checked against the parent's key
 *	  sets (keys.c) or, failing those, the parent's primary key; then the
 *	  row written (writer.c), caught up (catchup.c), quarantined or only
 *	  counted (problems.c).
 *
 * Invariants: a row's allocations live in the run's row context, reset
 * after every row; a batch's in its batch context.  A key is never guessed:
 * text must hold a decimal integer within bigint or a UUID, anything else
 * is the row's problem.  A row with a problem, or an orphan when orphans
 * are an error, stops the run's writing (st->write) but not its checking,
 * so that every problem of every table is reported at once.  Nothing here
 * adds work per row beyond what the conversion needs: the per-row helpers
 * are static, called once, and the calls into other files per row are the
 * inline ones of convert_int.h.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "commands/progress.h"
#include "common/int.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/uuid.h"

#include "convert/convert_int.h"

/* ------------------------------------------------------------------------
 * Keys: a source key's value, and its parent's row
 * ------------------------------------------------------------------------
 */

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

typedef enum KeyParse
{
	KEY_INT,
	KEY_UUID,
	KEY_BAD						/* neither; *problem says why */
} KeyParse;

/*
 * The key in a source column: an integer (*ival) or a uuid (*uval).  Text
 * must hold a decimal integer within bigint or a UUID; anything else is a
 * row problem, reported with the table's others, never guessed.
 */
static KeyParse
parse_key(ColMap *c, Datum d, int64 *ival, pg_uuid_t *uval,
		  const char **problem)
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
			return KEY_INT;
		case KIND_UUID:
			memcpy(uval->data, DatumGetUUIDP(d)->data, UUID_LEN);
			return KEY_UUID;
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
			{
				*problem = "key out of range for bigint";
				return KEY_BAD;
			}
			*ival = neg ? v : -v;
			return KEY_INT;
		}
	}
	if (looks_like_uuid(s, len))
	{
		char	   *cstr = pnstrdup(s, len);
		pg_uuid_t  *u = DatumGetUUIDP(DirectFunctionCall1(uuid_in,
														  CStringGetDatum(cstr)));

		*uval = *u;
		pfree(cstr);
		return KEY_UUID;
	}
	*problem = "key neither an integer nor a UUID";
	return KEY_BAD;
}

static char *
key_text(bool is_int, int64 ival, const pg_uuid_t *uval)
{
	if (is_int)
		return psprintf(INT64_FORMAT, ival);
	return DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(uval)));
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
 * Values: the columns other than keys, a batch at a time
 * ------------------------------------------------------------------------
 */

/*
 * A value into an enum: the caller's value_map, then the label itself, then
 * the one label equal but for case (the ORM stored member names: ADMIN for
 * admin).  NULL problem on success.
 */
static const char *
enum_value(ColMap *c, Datum d, Datum *result, bool *isnull)
{
	char	   *s = OutputFunctionCall(&c->src_out, d);
	int			k;
	int			found = -1;
	int			matches = 0;

	if (c->src_bpchar)
	{
		int			len = strlen(s);

		while (len > 0 && s[len - 1] == ' ')
			s[--len] = '\0';
	}
	for (k = 0; k < c->nvalues; k++)
		if (strcmp(c->value_from[k], s) == 0)
			break;
	if (k == c->nvalues)
		for (k = 0; k < c->nvalues; k++)
			if (pg_strcasecmp(c->value_from[k], s) == 0)
				break;
	if (k < c->nvalues)
	{
		if (c->value_to[k] == NULL)
		{
			*isnull = true;
			return NULL;
		}
		s = c->value_to[k];
	}
	for (k = 0; k < c->nlabels; k++)
		if (strcmp(c->labels[k], s) == 0)
		{
			*result = ObjectIdGetDatum(c->label_oids[k]);
			*isnull = false;
			return NULL;
		}
	for (k = 0; k < c->nlabels; k++)
		if (pg_strcasecmp(c->labels[k], s) == 0)
		{
			found = k;
			matches++;
		}
	if (matches == 1)
	{
		*result = ObjectIdGetDatum(c->label_oids[found]);
		*isnull = false;
		return NULL;
	}
	*isnull = true;
	return matches > 1 ? "value matches more than one label but for case" :
		"value is not a label (map it with value_map)";
}

/*
 * Convert the non-key columns of every row of the batch.  The casts run as
 * the source is read (a cast of a source's column type is its owner's
 * choice of code); the target's defaults are the extension's.
 */
static void
convert_values(const TableState *ts, ColMap *map, ConvBatch *b,
			   ExprContext *econtext, bool casts)
{
	int			r;
	int			i;

	for (r = 0; r < b->n; r++)
	{
		TupleTableSlot *slot = b->slots[r];

		slot_getallattrs(slot);
		for (i = 0; i < b->natts; i++)
		{
			ColMap	   *c = &map[i];
			int			x = r * b->natts + i;
			Datum		d = 0;
			bool		isnull = true;

			b->problem[x] = NULL;
			b->sqlstate[x] = 0;
			if (c->src_attno > 0)
			{
				d = slot->tts_values[c->src_attno - 1];
				isnull = slot->tts_isnull[c->src_attno - 1];
			}
			b->values[x] = d;
			b->nulls[x] = isnull;
			switch (c->mode)
			{
				case COL_COPY:
				case COL_ID:
				case COL_FK:
				case COL_LEGACY_ID:
				case COL_TENANT:
					break;
				case COL_CAST:
					break;		/* below, all together */
				case COL_DEFAULT:
					if (c->expr)
					{
						econtext->ecxt_scantuple = NULL;
						b->values[x] = ExecEvalExpr(c->expr, econtext,
													&b->nulls[x]);
					}
					else
						b->nulls[x] = true;
					break;
				case COL_ENUM:
					if (!isnull)
						b->problem[x] = enum_value(c, d, &b->values[x],
												   &b->nulls[x]);
					break;
			}
		}
	}
	if (casts)
	{
		LgAsOwner	save;

		lg_conv_source_rights_begin(ts, &save);
		lg_conv_eval_casts(map, b, econtext);
		lg_conv_source_rights_end(ts, &save);
	}
	ResetExprContext(econtext);
}

/* ------------------------------------------------------------------------
 * One row: keys mapped and checked, then written, quarantined or counted
 * ------------------------------------------------------------------------
 */

/* What converting one row found, and its key */
typedef struct RowResult
{
	int			nproblems;		/* row problems, each said in the reason */
	bool		orphaned;		/* a foreign key without a parent row */
	bool		nulled;			/* ... set NULL (on_orphan 'null') */
	bool		quarantine;		/* kept aside whole, not converted */
	KeyParse	id_kind;		/* the row's key: an integer, a uuid, none */
	int64		id_int;
	pg_uuid_t  *id_uuid;
	char	   *key;			/* the key's text: names the row in reports */
} RowResult;

/*
 * The row's key first: it names the row in every report.  An integer key
 * maps to its uuid, a uuid is taken as it is; a row without a usable key
 * is named by its place in the read, and has a problem.
 */
static void
row_key(ConvertState *st, TableState *ts, TableRun *run,
		TupleTableSlot *row, ItemPointer tid, StringInfo reason,
		RowResult *res)
{
	int			i;

	for (i = 0; i < run->batch->natts; i++)
		if (run->map[i].mode == COL_ID)
		{
			ColMap	   *c = &run->map[i];
			Datum		d = row->tts_values[c->src_attno - 1];
			bool		isnull = row->tts_isnull[c->src_attno - 1];
			const char *problem = "key is NULL";

			if (!isnull)
				res->id_kind = parse_key(c, d, &res->id_int, res->id_uuid,
										 &problem);
			if (res->id_kind == KEY_INT)
				lg_map_legacy_id(st->hasher, &ts->ns, res->id_int,
								 res->id_uuid);
			if (res->id_kind != KEY_BAD)
				res->key = key_text(res->id_kind == KEY_INT, res->id_int,
									res->id_uuid);
			else
			{
				/* no key to name it by: its place in the read */
				if (ItemPointerIsValid(tid))
					res->key = psprintf("ctid (%u,%u)",
										ItemPointerGetBlockNumber(tid),
										ItemPointerGetOffsetNumber(tid));
				else
					res->key = psprintf("row " INT64_FORMAT, ts->rows_read);
				lg_conv_row_problem(st, ts, reason, c->name, problem, 0,
									res->key,
									isnull ? NULL : lg_conv_sample_text(c, d, false));
				res->nproblems++;
			}
			run->values[i] = UUIDPGetDatum(res->id_uuid);
			run->nulls[i] = false;
		}
}

/*
 * A foreign key's value (not NULL): mapped to its parent's uuid, and
 * checked against the parent's keys.  An orphan is counted, and set NULL
 * (on_orphan 'null', a nullable key) or its row quarantined.
 */
static void
row_fk(ConvertState *st, TableState *ts, ColMap *c, Datum *value,
	   bool *isnull, StringInfo reason, RowResult *res)
{
	const LgForeignKey *fk = &ts->spec->fks[c->fk];
	TableState *p = &st->tables[lg_table_index(fk->parent)];
	pg_uuid_t  *u = palloc(UUID_LEN);
	int64		v = 0;
	const char *problem = NULL;
	KeyParse	kind = parse_key(c, *value, &v, u, &problem);
	bool		found;

	if (kind == KEY_BAD)
	{
		lg_conv_row_problem(st, ts, reason, c->name, problem, 0, res->key,
							lg_conv_sample_text(c, *value, false));
		res->nproblems++;
		*isnull = true;
		return;
	}
	if (kind == KEY_INT && c->have_last && v == c->last_v)
	{
		/* children come clustered by parent: no hash again */
		*u = c->last_u;
		found = true;
	}
	else if (kind == KEY_INT)
	{
		lg_map_legacy_id(st->hasher, &p->ns, v, u);
		found = lg_keyset_contains_int(p->ikeys, v);
	}
	else
		found = lg_keyset_contains_uuid(p->ukeys, u);
	/* not among the converted keys: rows the target held already? */
	if (!found)
		found = probe_parent(st, p, u);
	if (found && kind == KEY_INT)
	{
		c->have_last = true;
		c->last_v = v;
		c->last_u = *u;
	}
	*value = UUIDPGetDatum(u);
	if (!found)
	{
		char	   *k = key_text(kind == KEY_INT, v, u);

		res->orphaned = true;
		lg_conv_record_orphan(st, &ts->orphans[c->fk], k);
		appendStringInfo(reason, "%sorphan: %s = %s has no row in %s",
						 reason->len ? "; " : "", c->name, k, fk->parent);
		if (st->mode == ORPHAN_NULL && fk->nullable)
		{
			*isnull = true;
			res->nulled = true;
			appendStringInfoString(reason, ", set to NULL");
		}
		else
			res->quarantine = true;
	}
}

/*
 * The row's other columns, their values as the batch converted them: a
 * value's problem counted, NULL into NOT NULL refused, foreign keys checked.
 */
static void
row_values(ConvertState *st, TableState *ts, TableRun *run, int r,
		   StringInfo reason, RowResult *res)
{
	TupleDesc	dd = RelationGetDescr(run->dst);
	ConvBatch  *b = run->batch;
	TupleTableSlot *row = b->slots[r];
	Datum	   *values = run->values;
	bool	   *nulls = run->nulls;
	int			i;

	for (i = 0; i < dd->natts; i++)
	{
		ColMap	   *c = &run->map[i];
		int			x = r * b->natts + i;

		if (TupleDescAttr(dd, i)->attisdropped)
		{
			nulls[i] = true;
			continue;
		}
		if (c->mode == COL_LEGACY_ID || c->mode == COL_ID ||
			c->mode == COL_TENANT)
			continue;

		run->rowctx.column = c->name;
		values[i] = b->values[x];
		nulls[i] = b->nulls[x];

		if (b->problem[x])
		{
			lg_conv_row_problem(st, ts, reason, c->name, b->problem[x],
								b->sqlstate[x], res->key,
								lg_conv_sample_text(c, row->tts_values[c->src_attno - 1], false));
			res->nproblems++;
			continue;
		}
		if (nulls[i])
		{
			if (c->notnull)
			{
				lg_conv_row_problem(st, ts, reason, c->name,
									"NULL into a NOT NULL column", 0, res->key,
									NULL);
				res->nproblems++;
			}
			continue;
		}

		if (c->mode == COL_FK)
			row_fk(st, ts, c, &values[i], &nulls[i], reason, res);
	}
	run->rowctx.column = NULL;
}

/*
 * 3.0's tenant key, once the row's parent column is mapped: the parent
 * row's (keys.c).  A row whose parent column has a problem or no parent is
 * reported for that alone; a run that will write nothing (a problem or an
 * orphan doomed it) looks no further.  A source that has the column gives
 * a value each row's parent must agree with.
 */
static void
row_tenant(ConvertState *st, TableState *ts, TableRun *run, int r,
		   StringInfo reason, RowResult *res)
{
	ConvBatch  *b = run->batch;
	int			i;

	for (i = 0; i < b->natts; i++)
	{
		ColMap	   *c = &run->map[i];
		pg_uuid_t  *tenant;

		if (c->mode != COL_TENANT)
			continue;
		run->nulls[i] = true;
		if (run->nulls[c->via] || res->orphaned)
			continue;
		tenant = palloc(UUID_LEN);
		if (!lg_conv_tenant_of(st, &st->tables[ts->tenant_parent],
							   DatumGetUUIDP(run->values[c->via]), tenant))
		{
			if (st->write && res->nproblems == 0)
			{
				lg_conv_row_problem(st, ts, reason, c->name,
									psprintf("its %s row has no %s",
											 lg_tables[ts->tenant_parent].name,
											 c->name),
									0, res->key, NULL);
				res->nproblems++;
			}
			continue;
		}
		run->values[i] = UUIDPGetDatum(tenant);
		run->nulls[i] = false;
		if (c->src_attno > 0 && !b->nulls[r * b->natts + i])
		{
			Datum		d = b->values[r * b->natts + i];
			pg_uuid_t	given;
			int64		v = 0;
			const char *problem = NULL;
			KeyParse	kind = parse_key(c, d, &v, &given, &problem);

			if (kind == KEY_INT)
				lg_map_legacy_id(st->hasher, &st->tables[ts->tenant_of].ns,
								 v, &given);
			if (kind == KEY_BAD ||
				memcmp(&given, tenant, UUID_LEN) != 0)
			{
				lg_conv_row_problem(st, ts, reason, c->name,
									kind == KEY_BAD ? problem :
									psprintf("is not the %s of its %s row",
											 c->name,
											 lg_tables[ts->tenant_parent].name),
									0, res->key,
									lg_conv_sample_text(c, d, false));
				res->nproblems++;
			}
		}
	}
}

/* Is the row quarantined, and does the run go on writing? */
static void
row_outcome(ConvertState *st, RowResult *res)
{
	if (res->nproblems > 0)
	{
		st->problem_rows++;
		if (st->quarantine_problems)
			res->quarantine = true;
		else
		{
			/*
			 * The run will fail (or only lists its problems): stop writing,
			 * but go on checking, keeping the row's key so that its
			 * children are not reported as well.
			 */
			st->write = false;
			res->quarantine = false;
		}
	}
	if (res->orphaned && st->mode == ORPHAN_ERROR)
	{
		/* the same for an orphan, when orphans are an error */
		st->write = false;
		res->quarantine = false;
	}
}

/*
 * The row quarantined, or its key kept for its children and the row
 * written (caught up, in a target that held rows), or only counted.
 */
static void
row_finish(ConvertState *st, TableState *ts, TableRun *run,
		   TupleTableSlot *row, StringInfo reason, RowResult *res)
{
	if (res->quarantine)
	{
		/* not converted: kept whole, with its reasons */
		lg_conv_quarantine_row(st, ts, row, reason->data);
		ts->rows_quarantined++;
	}
	else if (res->id_kind != KEY_BAD)
	{
		if (res->id_kind == KEY_INT)
			lg_keyset_add_int(ts->ikeys, res->id_int);
		lg_keyset_add_uuid(ts->ukeys, res->id_uuid);
		if (ts->keep_tenants && !run->nulls[ts->tenant_attno - 1])
			lg_conv_tenant_add(st, ts, res->id_uuid,
							   run->values[ts->tenant_attno - 1]);

		if (res->nproblems == 0 &&
			!(res->orphaned && st->mode == ORPHAN_ERROR))
		{
			int64		updated = ts->rows_updated;

			if (res->nulled)
			{
				/* converted, a key set NULL: the original row is kept too */
				lg_conv_quarantine_row(st, ts, row, reason->data);
				ts->rows_nulled++;
			}
			if (!ts->catch_up ||
				!lg_conv_catch_up_row(st, ts, run->map, &run->w, run->values,
									  run->nulls, res->id_uuid))
			{
				if (st->write)
					lg_conv_writer_add(&run->w, run->values, run->nulls);
				if (ts->staged)
					lg_conv_stage_note(st, ts, res->id_uuid, true);
			}
			else if (ts->staged && ts->rows_updated > updated)
				lg_conv_stage_note(st, ts, res->id_uuid, false);
			ts->rows_converted++;
		}
	}
}

/*
 * Progress: pg_stat_progress_copy every 1024 rows, the server log every
 * lane_google.progress_rows.
 */
static void
row_progress(TableState *ts, ItemPointer tid)
{
	if ((ts->rows_read & 1023) == 0)
	{
		const int	idx[3] = {PROGRESS_COPY_TUPLES_PROCESSED,
			PROGRESS_COPY_TUPLES_EXCLUDED, PROGRESS_COPY_BYTES_PROCESSED};
		int64		val[3] = {ts->rows_converted, ts->rows_quarantined, 0};

		if (ItemPointerIsValid(tid))
			val[2] = (int64) ItemPointerGetBlockNumber(tid) * BLCKSZ;
		pgstat_progress_update_multi_param(3, idx, val);
	}
	if (lg_progress_rows > 0 && ts->rows_read % lg_progress_rows == 0)
		elog(DEBUG1, "lane_google: %s: " INT64_FORMAT " rows read",
			 ts->spec->name, ts->rows_read);
}

/*
 * Row r of the batch, its non-key values converted: its keys mapped and
 * checked, its problems counted, then written, quarantined or counted.
 */
static void
convert_batch_row(ConvertState *st, TableState *ts, TableRun *run, int r)
{
	TupleDesc	dd = RelationGetDescr(run->dst);
	ConvBatch  *b = run->batch;
	StringInfoData reason;
	RowResult	res;
	MemoryContext old;
	int			i;

	CHECK_FOR_INTERRUPTS();
	ts->rows_read++;
	run->rowctx.row = ts->rows_read;
	run->rowctx.tid = b->tids[r];
	old = MemoryContextSwitchTo(run->row_cxt);
	initStringInfo(&reason);
	res.nproblems = 0;
	res.orphaned = false;
	res.nulled = false;
	res.quarantine = false;
	res.id_kind = KEY_BAD;
	res.id_int = 0;
	res.id_uuid = palloc(UUID_LEN);
	res.key = NULL;

	row_key(st, ts, run, b->slots[r], &b->tids[r], &reason, &res);
	row_values(st, ts, run, r, &reason, &res);
	if (ts->tenant_col)
		row_tenant(st, ts, run, r, &reason, &res);

	/* legacy_id: the integer id, or NULL for a row converted already */
	for (i = 0; i < dd->natts; i++)
		if (run->map[i].mode == COL_LEGACY_ID)
		{
			run->values[i] = Int64GetDatum(res.id_int);
			run->nulls[i] = (res.id_kind != KEY_INT);
		}

	row_outcome(st, &res);
	row_finish(st, ts, run, b->slots[r], &reason, &res);
	MemoryContextSwitchTo(old);
	MemoryContextReset(run->row_cxt);

	row_progress(ts, &b->tids[r]);
}

/* The rows of the batch: their values converted together, then each row */
void
lg_conv_convert_batch(ConvertState *st, TableState *ts, TableRun *run)
{
	ConvBatch  *b = run->batch;
	MemoryContext old = MemoryContextSwitchTo(run->batch_cxt);
	int			r;

	convert_values(ts, run->map, b, run->econtext, run->casts);
	MemoryContextSwitchTo(old);
	for (r = 0; r < b->n; r++)
		convert_batch_row(st, ts, run, r);
	b->n = 0;
	MemoryContextReset(run->batch_cxt);
}
