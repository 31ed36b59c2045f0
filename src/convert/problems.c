/*-------------------------------------------------------------------------
 *
 * problems.c
 *	  What cannot be converted as it is: row problems (a value with no enum
 *	  label, NULL into NOT NULL, a key that is no key, a failed cast) and
 *	  orphans (a foreign key with no parent row), counted with samples; the
 *	  quarantine, where such rows are kept whole as jsonb; and the reports:
 *	  one error after all tables, or convert_legacy_problems()'s rows.
 *
 * Invariants: counts and samples live in the conversion's context (st->cxt),
 * never in a row's; at most MAX_SAMPLES samples each, values distinct.  The
 * quarantine writes only while the run writes (st->write), and a source
 * row's cast to json runs with the source's rights (prepare.c chose them).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "convert/convert_int.h"

/* ------------------------------------------------------------------------
 * Quarantine
 * ------------------------------------------------------------------------
 */

/*
 * A quarantine row's identity: its table, its reason and its row_data in
 * jsonb's text form (which is canonical: keys sorted, no duplicates), one
 * string; they are found by a 64-bit hash of it, and compared whole.
 */
typedef struct QuarantineSeen
{
	uint64		hash;			/* key */
	List	   *rows;			/* the identities of that hash (StringInfo) */
} QuarantineSeen;

static StringInfo
quarantine_identity(const char *table, const char *reason, Jsonb *row_data,
					uint64 *hash)
{
	StringInfo	buf = makeStringInfo();

	appendStringInfoString(buf, table);
	appendStringInfoChar(buf, '\0');
	appendStringInfoString(buf, reason);
	appendStringInfoChar(buf, '\0');
	(void) JsonbToCString(buf, &row_data->root, VARSIZE(row_data));
	*hash = DatumGetUInt64(hash_any_extended((unsigned char *) buf->data,
											 buf->len, 0));
	return buf;
}

/*
 * The rows the quarantine held for a table before its run, read once, at
 * its first row quarantined: each is quarantined only once, whatever the
 * number of runs.  Read below the quarantine's privileges (the caller may
 * insert into it, and learns only how many rows were there already).
 */
static void
quarantine_load(ConvertState *st, const TableState *ts)
{
	Oid			q = get_relname_relid("legacy_quarantine", st->dst_schema);
	Relation	rel;
	TupleDesc	desc;
	TableScanDesc scan;
	TupleTableSlot *slot;
	Snapshot	snapshot;
	AttrNumber	a_table;
	AttrNumber	a_reason;
	AttrNumber	a_row;
	MemoryContext old;

	if (st->quarantine_seen == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(uint64);
		ctl.entrysize = sizeof(QuarantineSeen);
		ctl.hcxt = st->cxt;
		st->quarantine_seen = hash_create("lane_google quarantine rows", 256,
										  &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	if (!OidIsValid(q))
		return;
	rel = table_open(q, AccessShareLock);
	desc = RelationGetDescr(rel);
	a_table = get_attnum(q, "table_name");
	a_reason = get_attnum(q, "reason");
	a_row = get_attnum(q, "row_data");
	if (a_table == InvalidAttrNumber || a_reason == InvalidAttrNumber ||
		a_row == InvalidAttrNumber ||
		TupleDescAttr(desc, a_table - 1)->atttypid != TEXTOID ||
		TupleDescAttr(desc, a_reason - 1)->atttypid != TEXTOID ||
		TupleDescAttr(desc, a_row - 1)->atttypid != JSONBOID)
		elog(ERROR, "table legacy_quarantine is not lane_google's");

	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snapshot, 0, NULL);
	slot = table_slot_create(rel, NULL);
	old = MemoryContextSwitchTo(st->cxt);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		n1,
					n2,
					n3;
		Datum		t = slot_getattr(slot, a_table, &n1);
		Datum		r = slot_getattr(slot, a_reason, &n2);
		Datum		d = slot_getattr(slot, a_row, &n3);
		char	   *table;
		StringInfo	id;
		uint64		h;
		QuarantineSeen *e;
		bool		found;

		if (n1 || n2 || n3)
			continue;
		table = TextDatumGetCString(t);
		if (strcmp(table, ts->spec->name) != 0)
		{
			pfree(table);
			continue;
		}
		id = quarantine_identity(table, TextDatumGetCString(r),
								 DatumGetJsonbP(d), &h);
		e = hash_search(st->quarantine_seen, &h, HASH_ENTER, &found);
		if (!found)
			e->rows = NIL;
		e->rows = lappend(e->rows, id);
	}
	MemoryContextSwitchTo(old);
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
}

/* Did the quarantine hold this row, for this table and reason, before the run? */
static bool
quarantine_held(ConvertState *st, TableState *ts, const char *reason,
				Jsonb *row_data)
{
	uint64		h;
	StringInfo	id;
	QuarantineSeen *e;
	ListCell   *lc;
	bool		held = false;

	if (!ts->quarantine_loaded)
	{
		quarantine_load(st, ts);
		ts->quarantine_loaded = true;
	}
	id = quarantine_identity(ts->spec->name, reason, row_data, &h);
	e = hash_search(st->quarantine_seen, &h, HASH_FIND, NULL);
	if (e != NULL)
		foreach(lc, e->rows)
		{
			StringInfo	other = lfirst(lc);

			if (other->len == id->len &&
				memcmp(other->data, id->data, id->len) == 0)
			{
				held = true;
				break;
			}
		}
	pfree(id->data);
	pfree(id);
	return held;
}

/*
 * A source row kept whole, as jsonb, with its reasons; not again if the
 * quarantine holds it already (an earlier run's), for the same table and
 * reason: then only counted (ts->rows_requarantined).
 */
void
lg_conv_quarantine_row(ConvertState *st, TableState *ts,
					   TupleTableSlot *srcslot, const char *reason)
{
	Datum		values[3];
	Datum		row;
	Datum		json;
	int			rc;
	LgAsOwner	save;

	if (!st->write)
		return;
	if (st->quarantine_plan == NULL)
	{
		char	   *sql = psprintf("INSERT INTO %s (table_name, reason, row_data) VALUES ($1, $2, $3)",
								   lg_conv_qualified(st->dst_schema, "legacy_quarantine"));
		Oid			types[3] = {TEXTOID, TEXTOID, JSONBOID};

		st->quarantine_plan = SPI_prepare(sql, 3, types);
		if (st->quarantine_plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(st->quarantine_plan);
	}
	row = ExecFetchSlotHeapTupleDatum(srcslot);
	/* a type of the source's may have its own cast to json: the owner's code */
	lg_conv_source_rights_begin(ts, &save);
	json = DirectFunctionCall1(row_to_json, row);
	lg_conv_source_rights_end(ts, &save);
	values[0] = CStringGetTextDatum(ts->spec->name);
	values[1] = CStringGetTextDatum(reason);
	values[2] = DirectFunctionCall1(jsonb_in,
									CStringGetDatum(TextDatumGetCString(json)));
	if (quarantine_held(st, ts, reason, DatumGetJsonbP(values[2])))
	{
		ts->rows_requarantined++;
		return;
	}
	rc = SPI_execute_plan(st->quarantine_plan, values, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "could not quarantine a row: %s", SPI_result_code_string(rc));
}

/* ------------------------------------------------------------------------
 * Counting: orphans and row problems, with samples
 * ------------------------------------------------------------------------
 */

void
lg_conv_record_orphan(ConvertState *st, OrphanStat *os, const char *value)
{
	int			i;

	os->count++;
	/* the missing parent keys, each once: rows of one parent come together */
	for (i = 0; i < os->nsamples; i++)
		if (strcmp(os->samples[i], value) == 0)
			return;
	if (os->nsamples < MAX_SAMPLES)
		os->samples[os->nsamples++] = MemoryContextStrdup(st->cxt, value);
	else
		os->more = true;
}

/* A value's text form for a report: at most 64 bytes of it */
char *
lg_conv_sample_text(ColMap *c, Datum d, bool isnull)
{
	char	   *s;

	if (isnull)
		return pstrdup("NULL");
	s = OutputFunctionCall(&c->src_out, d);
	if (strlen(s) > 64)
		s[pg_mbcliplen(s, strlen(s), 64)] = '\0';
	return s;
}

static void
record_problem(ConvertState *st, TableState *ts, const char *column,
			   const char *problem, int sqlstate, const char *key,
			   const char *value)
{
	ProblemStat *ps = NULL;
	MemoryContext old = MemoryContextSwitchTo(st->cxt);
	ListCell   *lc;
	int			k;

	foreach(lc, ts->problems)
	{
		ProblemStat *p = lfirst(lc);

		if (strcmp(p->column, column) == 0 &&
			(sqlstate ? p->sqlstate == sqlstate :
			 p->sqlstate == 0 && strcmp(p->problem, problem) == 0))
		{
			ps = p;
			break;
		}
	}
	if (ps == NULL)
	{
		ps = palloc0(sizeof(ProblemStat));
		ps->column = pstrdup(column);
		ps->problem = pstrdup(problem);
		ps->sqlstate = sqlstate;
		ts->problems = lappend(ts->problems, ps);
	}
	ps->count++;
	if (ps->nkeys < MAX_SAMPLES)
		ps->keys[ps->nkeys++] = pstrdup(key);
	if (value && ps->nvalues < MAX_SAMPLES)
	{
		for (k = 0; k < ps->nvalues; k++)
			if (strcmp(ps->values[k], value) == 0)
				break;
		if (k == ps->nvalues)
			ps->values[ps->nvalues++] = pstrdup(value);
	}
	MemoryContextSwitchTo(old);
}

/* A row's problem: counted, and said in its quarantine reason */
void
lg_conv_row_problem(ConvertState *st, TableState *ts, StringInfo reason,
					const char *column, const char *problem, int sqlstate,
					const char *key, const char *value)
{
	record_problem(st, ts, column, problem, sqlstate, key, value);
	if (value)
		appendStringInfo(reason, "%s%s: %s (%s)", reason->len ? "; " : "",
						 column, problem, quote_literal_cstr(value));
	else
		appendStringInfo(reason, "%s%s: %s", reason->len ? "; " : "",
						 column, problem);
}

/* ------------------------------------------------------------------------
 * Reports: after all tables, in one error; or as rows
 * ------------------------------------------------------------------------
 */

/* "a, b, c", and ", ..." when there were more than the samples */
static void
append_samples(StringInfo detail, char **samples, int n, bool more)
{
	int			k;

	for (k = 0; k < n; k++)
		appendStringInfo(detail, "%s%s", k ? ", " : "", samples[k]);
	if (more)
		appendStringInfoString(detail, ", ...");
}

/* After all tables: the orphans, if on_orphan is 'error' */
void
lg_conv_report_orphans(ConvertState *st)
{
	StringInfoData detail;
	int64		total = 0;
	int			i;
	int			f;

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
			append_samples(&detail, os->samples, os->nsamples, os->more);
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

/* "N rows, keys a, b; values "x", "y"" of a problem */
static void
append_problem(StringInfo detail, const char *table, ProblemStat *ps)
{
	int			k;

	appendStringInfo(detail, "%s%s.%s: %s: " INT64_FORMAT " row%s, key%s ",
					 detail->len ? "\n" : "", table, ps->column, ps->problem,
					 ps->count, ps->count == 1 ? "" : "s",
					 ps->nkeys == 1 ? "" : "s");
	append_samples(detail, ps->keys, ps->nkeys, ps->count > ps->nkeys);
	if (ps->nvalues > 0)
	{
		appendStringInfoString(detail, "; values ");
		for (k = 0; k < ps->nvalues; k++)
			appendStringInfo(detail, "%s%s", k ? ", " : "",
							 quote_literal_cstr(ps->values[k]));
	}
}

/*
 * After all tables, on_error 'error': every row problem of every table in
 * one error (the orphans too, when they are an error as well).
 */
void
lg_conv_report_problems(ConvertState *st)
{
	StringInfoData detail;
	int			i;
	int			f;
	ListCell   *lc;

	if (st->problem_rows == 0 || st->quarantine_problems)
		return;
	initStringInfo(&detail);
	for (i = 0; i < LG_NTABLES; i++)
	{
		foreach(lc, st->tables[i].problems)
		{
			append_problem(&detail, lg_tables[i].name, lfirst(lc));
		}
	}
	if (st->mode == ORPHAN_ERROR)
		for (i = 0; i < LG_NTABLES; i++)
			for (f = 0; f < st->tables[i].spec->nfks; f++)
			{
				OrphanStat *os = &st->tables[i].orphans[f];

				if (os->count == 0)
					continue;
				appendStringInfo(&detail, "\n%s.%s: orphan, no row in %s: " INT64_FORMAT " row%s, key%s ",
								 lg_tables[i].name, lg_tables[i].fks[f].column,
								 lg_tables[i].fks[f].parent, os->count,
								 os->count == 1 ? "" : "s",
								 os->nsamples == 1 ? "" : "s");
				append_samples(&detail, os->samples, os->nsamples, os->more);
			}
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg(INT64_FORMAT " legacy row%s cannot be converted as %s",
					st->problem_rows, st->problem_rows == 1 ? "" : "s",
					st->problem_rows == 1 ? "it is" : "they are"),
			 errdetail("%s", detail.data),
			 errhint("Nothing was changed.  Map the values (value_map), fix the rows, or use on_error => 'quarantine' to convert the rest and keep these rows aside; convert_legacy_problems() lists the problems as rows.")));
}

/* A text[] of n strings */
static Datum
text_array(char **items, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	int			k;

	for (k = 0; k < n; k++)
		d[k] = CStringGetTextDatum(items[k]);
	return PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* convert_legacy_problems()'s rows: a row per table, column and problem */
void
lg_conv_put_problems(ConvertState *st, Tuplestorestate *tupstore,
					 TupleDesc tupdesc)
{
	int			i;
	int			f;
	ListCell   *lc;

	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];
		NameData	table;

		namestrcpy(&table, ts->spec->name);
		foreach(lc, ts->problems)
		{
			ProblemStat *ps = lfirst(lc);
			Datum		values[6];
			bool		nulls[6] = {0};
			NameData	column;

			namestrcpy(&column, ps->column);
			values[0] = NameGetDatum(&table);
			values[1] = NameGetDatum(&column);
			values[2] = CStringGetTextDatum(ps->problem);
			values[3] = Int64GetDatum(ps->count);
			values[4] = text_array(ps->keys, ps->nkeys);
			values[5] = text_array(ps->values, ps->nvalues);
			tuplestore_putvalues(tupstore, tupdesc, values, nulls);
		}
		for (f = 0; f < ts->spec->nfks; f++)
		{
			OrphanStat *os = &ts->orphans[f];
			Datum		values[6];
			bool		nulls[6] = {0};
			NameData	column;

			if (os->count == 0)
				continue;
			namestrcpy(&column, ts->spec->fks[f].column);
			values[0] = NameGetDatum(&table);
			values[1] = NameGetDatum(&column);
			values[2] = CStringGetTextDatum(psprintf("orphan: no row in %s",
													 ts->spec->fks[f].parent));
			values[3] = Int64GetDatum(os->count);
			values[4] = text_array(NULL, 0);
			values[5] = text_array(os->samples, os->nsamples);
			tuplestore_putvalues(tupstore, tupdesc, values, nulls);
		}
	}
}
