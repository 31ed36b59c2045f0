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

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "convert/convert_int.h"

/* ------------------------------------------------------------------------
 * Quarantine
 * ------------------------------------------------------------------------
 */

/* A source row kept whole, as jsonb, with its reasons */
void
lg_conv_quarantine_row(ConvertState *st, const TableState *ts,
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
	os->count++;
	if (os->nsamples < MAX_SAMPLES)
		os->samples[os->nsamples++] = MemoryContextStrdup(st->cxt, value);
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
append_samples(StringInfo detail, char **samples, int n, int64 count)
{
	int			k;

	for (k = 0; k < n; k++)
		appendStringInfo(detail, "%s%s", k ? ", " : "", samples[k]);
	if (count > n)
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
			append_samples(&detail, os->samples, os->nsamples, os->count);
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
	append_samples(detail, ps->keys, ps->nkeys, ps->count);
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
				append_samples(&detail, os->samples, os->nsamples, os->count);
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
