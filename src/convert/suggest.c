/*-------------------------------------------------------------------------
 *
 * suggest.c
 *	  convert_legacy_suggest(source_schema): the whole convert_legacy()
 *	  call for a schema, as text ready to run (a dry run), with every
 *	  decision a program can propose filled in and each one commented on
 *	  its own line: the columns read and how (layout.c's own mapping, run
 *	  collecting its decisions instead of failing), column_map entries for
 *	  target columns without a source from a source column of a similar name
 *	  that converts, the source columns no target column reads in
 *	  ignore_columns with their non-NULL counts and sample values, a
 *	  value_map for the values that are no label, the NOT NULL columns
 *	  without a source spelled out, and on_orphan / on_error with the row
 *	  problems and orphans counted by the dry run's own scan (the scan of
 *	  convert_legacy_problems()).
 *
 * Invariants: changes nothing (every pass runs in a subtransaction rolled
 * back); reads sources with the rights prepare.c chooses for a
 * conversion; every name and value in the text is quoted by quote_literal
 * or quote_identifier rules, and comments hold no line break.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/varlena.h"

#include "convert/convert_int.h"

PG_FUNCTION_INFO_V1(lg_convert_legacy_suggest);

/* passes of the scan at most: each may find values for value_map */
#define SUGGEST_PASSES	4
#define SAMPLE_VALUES	3

/* A rule proposed, with the comment that says why */
typedef struct Proposal
{
	ColumnRule	rule;
	char	   *why;
} Proposal;

typedef struct Suggest
{
	Oid			schema;
	ArrayType  *also_from;		/* 2.2: the schemas searched after it */
	MemoryContext work;
	List	   *layout;			/* LayoutDecision, without the proposals */
	List	   *column_map;		/* Proposal */
	List	   *ignore;			/* Proposal */
	List	   *value_map;		/* Proposal, by table and column */
	bool		scan_blocked;
	ConvertState *prep;			/* the layout, before any proposal */
	ConvertState *last;			/* the last scan */
	List	   *label_problems; /* ProblemStat of the first scan, + table */
} Suggest;

/* A comment's text: on one line, whatever the values hold */
static char *
one_line(const char *s)
{
	char	   *r = pstrdup(s);
	char	   *p;

	for (p = r; *p; p++)
		if ((unsigned char) *p < ' ')
			*p = ' ';
	return r;
}

/* A sample value for a comment: quoted, at most 40 bytes of it */
static char *
sample_literal(const char *v)
{
	char	   *s = pstrdup(v);

	if (strlen(s) > 40)
		s[pg_mbcliplen(s, strlen(s), 40)] = '\0';
	return one_line(quote_literal_cstr(s));
}

/* A name for comparing: lower case, without underscores, spaces, hyphens */
static char *
normalized(const char *s)
{
	StringInfoData b;

	initStringInfo(&b);
	for (; *s; s++)
		if (*s != '_' && *s != ' ' && *s != '-')
			appendStringInfoChar(&b, pg_ascii_tolower((unsigned char) *s));
	return b.data;
}

/*
 * How unlike two column names are: -1 if not similar at all.  Similar: the
 * same but for case and underscores, one containing the other (4 letters at
 * least), or two edits apart (5 letters at least).
 */
static int
name_distance(const char *a, const char *b)
{
	char	   *na = normalized(a);
	char	   *nb = normalized(b);
	int			la = strlen(na);
	int			lb = strlen(nb);
	int			d = varstr_levenshtein(na, la, nb, lb, 1, 1, 1, true);

	if (d == 0)
		return 0;
	if (Min(la, lb) >= 4 && (strstr(na, nb) || strstr(nb, na)))
		return d;
	if (Min(la, lb) >= 5 && d <= 2)
		return d;
	return -1;
}

static bool
has_proposal(List *list, int table, const char *column)
{
	ListCell   *lc;

	foreach(lc, list)
	{
		Proposal   *p = lfirst(lc);

		if (strcmp(p->rule.table, lg_tables[table].name) == 0 &&
			strcmp(p->rule.column, column) == 0)
			return true;
	}
	return false;
}

static Proposal *
new_proposal(int table, const char *column, const char *to, const char *from,
			 char *why)
{
	Proposal   *p = palloc0(sizeof(Proposal));

	p->rule.table = pstrdup(lg_tables[table].name);
	p->rule.column = pstrdup(column);
	p->rule.to = to ? pstrdup(to) : NULL;
	p->rule.from = from ? pstrdup(from) : NULL;
	p->why = why;
	return p;
}

/* The proposals as the engine's rules, fresh (their used flags unset) */
static List *
rules_of(List *proposals)
{
	List	   *rules = NIL;
	ListCell   *lc;

	foreach(lc, proposals)
	{
		ColumnRule *r = palloc(sizeof(ColumnRule));

		*r = ((Proposal *) lfirst(lc))->rule;
		r->used = false;
		rules = lappend(rules, r);
	}
	return rules;
}

/* A conversion's state collecting its layout, with the rules proposed */
static ConvertState *
suggest_state(Suggest *sg)
{
	ConvertState *st = palloc0(sizeof(ConvertState));

	lg_conv_parse_modes(st, "error", "error", "keep");
	st->problems_only = true;
	st->collect_layout = true;
	st->dst_schema = lg_extension_schema();
	st->src_schema = sg->schema;
	st->src_prefix = "";
	lg_conv_source_schemas(st, sg->also_from, "convert_legacy_suggest()");
	st->column_map = rules_of(sg->column_map);
	st->ignore_columns = rules_of(sg->ignore);
	st->value_map = rules_of(sg->value_map);
	return st;
}

/* ------------------------------------------------------------------------
 * The layout: column_map and ignore_columns proposed
 * ------------------------------------------------------------------------
 */

/* Do two column names share a word of 4 letters at least ("campaign")? */
static const char *
shared_word(const char *a, const char *b)
{
	char	   *wa = pstrdup(a);
	char	   *save_a;
	char	   *w;

	for (w = strtok_r(wa, "_ ", &save_a); w; w = strtok_r(NULL, "_ ", &save_a))
	{
		char	   *wb = pstrdup(b);
		char	   *save_b;
		char	   *v;

		if (strlen(w) < 4)
			continue;
		for (v = strtok_r(wb, "_ ", &save_b); v; v = strtok_r(NULL, "_ ", &save_b))
			if (pg_strcasecmp(w, v) == 0)
				return w;
	}
	return NULL;
}

/*
 * A target column no source column of a similar name converts into, found
 * by its type: the one source column no target column reads whose type and
 * modifier are the target's, when the target is NOT NULL without a default
 * (the conversion cannot go without it); when it has a default, that column
 * must also share a word of its name ("gads_campaign_id" for
 * "google_campaign_id").  None, or more than one: nothing proposed, the
 * choice is the user's.
 */
static Proposal *
column_by_type(Suggest *sg, ConvertState *st, LayoutDecision *d, Relation src)
{
	LayoutDecision *found = NULL;
	const char *word = NULL;
	ListCell   *lc;

	foreach(lc, st->layout)
	{
		LayoutDecision *u = lfirst(lc);
		Form_pg_attribute att;
		const char *w = NULL;

		if (u->kind != LAYOUT_UNUSED || u->table != d->table ||
			has_proposal(sg->column_map, u->table, u->source))
			continue;
		att = TupleDescAttr(RelationGetDescr(src), u->src_attno - 1);
		if (att->atttypid != d->dst_type || att->atttypmod != d->dst_typmod)
			continue;
		if (d->kind == LAYOUT_DEFAULT && (w = shared_word(u->source, d->column)) == NULL)
			continue;
		if (found)
			return NULL;		/* two alike: the user's choice */
		found = u;
		word = w;
	}
	if (!found)
		return NULL;
	return new_proposal(d->table, found->source, d->column, NULL,
						word ?
						psprintf("no source column \"%s\"; \"%s\" is the one unread column of its type, %s, and shares the word \"%s\": check that it holds it",
								 d->column, found->source,
								 format_type_with_typemod(d->dst_type, d->dst_typmod), word) :
						psprintf("no source column \"%s\", which is NOT NULL; \"%s\" is the one unread column of its type, %s: check that it holds it",
								 d->column, found->source,
								 format_type_with_typemod(d->dst_type, d->dst_typmod)));
}

/*
 * column_map: a target column without a source, and a source column no
 * target column reads, of a similar name, that converts into it (or, failing
 * that, of its very type: column_by_type).
 */
static void
propose_column_map(Suggest *sg, ConvertState *st)
{
	ListCell   *lc;
	ListCell   *lc2;

	foreach(lc, st->layout)
	{
		LayoutDecision *d = lfirst(lc);
		TableState *ts = &st->tables[d->table];
		LayoutDecision *best = NULL;
		int			best_dist = INT_MAX;
		Relation	src;
		Relation	dst;

		if (d->kind != LAYOUT_MISSING && d->kind != LAYOUT_DEFAULT)
			continue;
		src = table_open(ts->src_relid, NoLock);
		dst = table_open(ts->dst_relid, NoLock);
		foreach(lc2, st->layout)
		{
			LayoutDecision *u = lfirst(lc2);
			int			dist;

			if (u->kind != LAYOUT_UNUSED || u->table != d->table ||
				has_proposal(sg->column_map, u->table, u->source))
				continue;
			dist = name_distance(u->source, d->column);
			if (dist < 0 || dist >= best_dist ||
				!lg_conv_column_converts(ts->spec, dst,
										 get_attnum(ts->dst_relid, d->column) - 1,
										 TupleDescAttr(RelationGetDescr(src), u->src_attno - 1)))
				continue;
			best = u;
			best_dist = dist;
		}
		if (best)
			sg->column_map = lappend(sg->column_map,
									 new_proposal(d->table, best->source, d->column, NULL,
												  psprintf("no source column \"%s\"; \"%s\" has a similar name and converts (%s into %s)",
														   d->column, best->source,
														   format_type_be(best->src_type),
														   format_type_with_typemod(d->dst_type, d->dst_typmod))));
		else
		{
			Proposal   *p = column_by_type(sg, st, d, src);

			if (p)
				sg->column_map = lappend(sg->column_map, p);
		}
		table_close(dst, NoLock);
		table_close(src, NoLock);
	}
}

/* A source query's rows, read with the rights the conversion would use */
static SPITupleTable *
source_query(const TableState *ts, const char *sql)
{
	LgAsOwner	save;
	int			rc;

	lg_conv_source_rights_begin(ts, &save);
	rc = SPI_execute(sql, true, 0);
	lg_conv_source_rights_end(ts, &save);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", sql);
	return SPI_tuptable;
}

/*
 * ignore_columns: every source column no target column reads (and no
 * column_map proposal maps), with how many rows hold a value and samples.
 */
static void
propose_ignore(Suggest *sg, ConvertState *st)
{
	ListCell   *lc;

	foreach(lc, st->layout)
	{
		LayoutDecision *d = lfirst(lc);
		TableState *ts = &st->tables[d->table];
		char	   *rel;
		char	   *col;
		SPITupleTable *tt;
		char	   *count;
		StringInfoData why;
		uint64		k;

		if (d->kind != LAYOUT_UNUSED ||
			has_proposal(sg->column_map, d->table, d->source))
			continue;
		rel = lg_conv_qualified(ts->src_schema, lg_conv_source_name(st, ts->spec));
		col = psprintf("x.%s", quote_identifier(d->source));
		tt = source_query(ts, psprintf("SELECT pg_catalog.count(%s) FROM %s x", col, rel));
		count = SPI_getvalue(tt->vals[0], tt->tupdesc, 1);
		initStringInfo(&why);
		appendStringInfo(&why, "no place in %s: dropped, %s row%s hold%s a value",
						 lg_conv_qualified(st->dst_schema, ts->spec->name), count,
						 strcmp(count, "1") == 0 ? "" : "s",
						 strcmp(count, "1") == 0 ? "s" : "");
		tt = source_query(ts, psprintf("SELECT DISTINCT %s::pg_catalog.text COLLATE pg_catalog.\"C\" FROM %s x"
									   " WHERE %s IS NOT NULL ORDER BY 1 LIMIT %d",
									   col, rel, col, SAMPLE_VALUES + 1));
		for (k = 0; k < Min(SPI_processed, SAMPLE_VALUES); k++)
			appendStringInfo(&why, "%s%s", k ? ", " : ", e.g. ",
							 sample_literal(SPI_getvalue(tt->vals[k], tt->tupdesc, 1)));
		if (SPI_processed > SAMPLE_VALUES)
			appendStringInfoString(&why, ", ...");
		sg->ignore = lappend(sg->ignore,
							 new_proposal(d->table, d->source, NULL, NULL, why.data));
	}
}

/*
 * The layout, collected: the engine's preparation (privileges, locks,
 * rights, the layout check) in a subtransaction rolled back, and (propose)
 * the proposals made while its locks are held.
 */
static void
suggest_layout(Suggest *sg, bool propose)
{
	ResourceOwner owner = CurrentResourceOwner;
	ConvertState *st = suggest_state(sg);
	ListCell   *lc;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(sg->work);
	PG_TRY();
	{
		lg_conv_prepare(st);
		lg_hasher_free(st->hasher);
		if (propose)
		{
			propose_column_map(sg, st);
			propose_ignore(sg, st);
		}
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(sg->work);
		RollbackAndReleaseCurrentSubTransaction();
		CurrentResourceOwner = owner;
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(sg->work);
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(sg->work);
	CurrentResourceOwner = owner;

	sg->prep = st;
	foreach(lc, st->layout)
		if (((LayoutDecision *) lfirst(lc))->kind == LAYOUT_BAD_KEY)
			sg->scan_blocked = true;
}

/* ------------------------------------------------------------------------
 * The scan: value_map proposed, row problems and orphans counted
 * ------------------------------------------------------------------------
 */

/* The label of enum type a value is equal to but for case, _ and spaces */
static char *
alike_label(Oid enum_type, const char *value, char **labels_out)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1] = {ObjectIdGetDatum(enum_type)};
	char	   *nv = normalized(value);
	char	   *found = NULL;
	int			nfound = 0;
	StringInfoData labels;
	uint64		k;

	if (SPI_execute_with_args("SELECT e.enumlabel FROM pg_catalog.pg_enum e"
							  " WHERE e.enumtypid OPERATOR(pg_catalog.=) $1"
							  " ORDER BY e.enumsortorder",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed on pg_enum");
	initStringInfo(&labels);
	for (k = 0; k < SPI_processed; k++)
	{
		char	   *l = SPI_getvalue(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, 1);

		appendStringInfo(&labels, "%s%s", k ? ", " : "", l);
		if (strcmp(normalized(l), nv) == 0)
		{
			found = l;
			nfound++;
		}
	}
	*labels_out = labels.data;
	return nfound == 1 ? found : NULL;
}

/* The enum type of a target column read by label (the layout's decision) */
static Oid
enum_type_of(ConvertState *st, int table, const char *column, bool *notnull)
{
	ListCell   *lc;

	foreach(lc, st->layout)
	{
		LayoutDecision *d = lfirst(lc);

		if (d->table == table && d->column && strcmp(d->column, column) == 0)
		{
			*notnull = d->notnull;
			return d->dst_type;
		}
	}
	return InvalidOid;
}

/* value_map for the values no label takes; true if any was new */
static bool
propose_value_map(Suggest *sg, ConvertState *st, bool first)
{
	bool		added = false;
	int			i;
	int			k;
	ListCell   *lc;

	for (i = 0; i < LG_NTABLES; i++)
		foreach(lc, st->tables[i].problems)
		{
			ProblemStat *ps = lfirst(lc);
			Oid			type;
			bool		notnull = false;

			if (strcmp(ps->problem, "value is not a label (map it with value_map)") != 0)
				continue;
			if (first)
				sg->label_problems = lappend(sg->label_problems,
											 psprintf("%s.%s: " INT64_FORMAT " row%s whose value is no label of the target",
													  lg_tables[i].name, ps->column, ps->count,
													  ps->count == 1 ? "" : "s"));
			type = enum_type_of(st, i, ps->column, &notnull);
			for (k = 0; k < ps->nvalues && OidIsValid(type); k++)
			{
				ListCell   *lc2;
				bool		have = false;
				char	   *labels;
				char	   *label;

				foreach(lc2, sg->value_map)
				{
					Proposal   *p = lfirst(lc2);

					if (strcmp(p->rule.table, lg_tables[i].name) == 0 &&
						strcmp(p->rule.column, ps->column) == 0 &&
						strcmp(p->rule.from, ps->values[k]) == 0)
						have = true;
				}
				if (have)
					continue;
				label = alike_label(type, ps->values[k], &labels);
				sg->value_map = lappend(sg->value_map,
										new_proposal(i, ps->column, label, ps->values[k],
													 label ?
													 psprintf("the label %s but for case, underscores or spaces",
															  quote_literal_cstr(label)) :
													 one_line(psprintf(notnull ?
																	   "no label is alike: NULL, and the column is NOT NULL: these rows (and their children) are quarantined; or one of %s" :
																	   "no label is alike: NULL; or one of %s",
																	   labels))));
				added = true;
			}
		}
	return added;
}

/*
 * The scan of convert_legacy_problems(), with the rules proposed so far;
 * again while it finds values for value_map (it keeps a few per column).
 */
static void
suggest_scan(Suggest *sg)
{
	int			pass;
	int			nestlevel = NewGUCNestLevel();

	/* each table's NOTICE, once per pass, would only hide the call */
	(void) set_config_option("client_min_messages", "warning", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	for (pass = 0; pass < SUGGEST_PASSES; pass++)
	{
		ConvertState *st = suggest_state(sg);

		lg_conv_run_dry(st, sg->work);
		sg->last = st;
		if (!propose_value_map(sg, st, pass == 0))
			break;
	}
	AtEOXact_GUC(true, nestlevel);
}

/* ------------------------------------------------------------------------
 * The text
 * ------------------------------------------------------------------------
 */

/* Items of a list argument, a line each: comma, then the comment */
static void
append_items(StringInfo out, List *items, List *whys, const char *indent)
{
	ListCell   *lc;
	ListCell   *lw;

	forboth(lc, items, lw, whys)
	{
		appendStringInfo(out, "%s%s%s  -- %s\n", indent, (char *) lfirst(lc),
						 lnext(items, lc) ? "," : "", one_line(lfirst(lw)));
	}
}

/* What was read how, a few lines per table */
static void
append_columns(StringInfo out, ConvertState *st)
{
	int			i;
	ListCell   *lc;

	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];
		int			by_name = 0;
		StringInfoData other;
		StringInfoData defaults;

		if (!OidIsValid(ts->src_relid))
		{
			appendStringInfo(out, "-- %s: no table %s: read as empty\n", ts->spec->name,
							 one_line(lg_conv_qualified(st->src_schema, lg_conv_source_name(st, ts->spec))));
			continue;
		}
		initStringInfo(&other);
		initStringInfo(&defaults);
		foreach(lc, st->layout)
		{
			LayoutDecision *d = lfirst(lc);

			if (d->table != i)
				continue;
			if (d->kind == LAYOUT_DEFAULT)
				appendStringInfo(&defaults, "%s%s", defaults.len ? ", " : "", d->column);
			if (d->kind != LAYOUT_READ)
				continue;
			if (strcmp(d->how, "name") == 0)
				by_name++;
			else
				appendStringInfo(&other, "--   %s from %s (%s)\n", d->column,
								 one_line(quote_identifier(d->source)),
								 strcmp(d->how, "column_map") == 0 ? "column_map, below" :
								 "a name the application's history gave it");
			if (d->mode == COL_ENUM)
				appendStringInfo(&other, "--   %s by enum label, %s into %s\n", d->column,
								 format_type_be(d->src_type), format_type_be(d->dst_type));
			else if (d->mode == COL_CAST)
				appendStringInfo(&other, "--   %s cast, %s into %s\n", d->column,
								 format_type_be(d->src_type),
								 format_type_with_typemod(d->dst_type, d->dst_typmod));
			else if (d->mode == COL_ID || d->mode == COL_FK || d->mode == COL_TENANT)
			{
				if (d->src_type != INT2OID && d->src_type != INT4OID && d->src_type != INT8OID)
					appendStringInfo(&other, "--   %s a key of type %s: integers mapped by legacy_uuid(), UUIDs kept\n",
									 d->column, format_type_be(d->src_type));
			}
		}
		appendStringInfo(out, "-- %s: %d column%s by name%s%s\n%s", ts->spec->name, by_name,
						 by_name == 1 ? "" : "s",
						 defaults.len ? "; from defaults: " : "", defaults.data, other.data);
	}
}

/*
 * Might source column "column" say what boolean target column "target"
 * holds?  Of type boolean or an enum, named like a status or a state, or
 * sharing a word with it ("active").
 */
static bool
says_flag(Oid relid, const char *column, const char *target)
{
	Oid			type = get_atttype(relid, get_attnum(relid, column));
	char	   *lower = asc_tolower(column, strlen(column));

	return type == BOOLOID || type_is_enum(type) ||
		strstr(lower, "status") || strstr(lower, "state") ||
		shared_word(column, target);
}

/*
 * The source columns of target table d->table proposed for ignore_columns,
 * as a list, or "": all of them, or (flag) those that might say what d's
 * boolean column holds.
 */
static char *
unread_columns(Suggest *sg, ConvertState *st, LayoutDecision *d, bool flag)
{
	Oid			relid = st->tables[d->table].src_relid;
	StringInfoData cands;
	ListCell   *lc;

	initStringInfo(&cands);
	foreach(lc, sg->ignore)
	{
		Proposal   *p = lfirst(lc);

		if (strcmp(p->rule.table, lg_tables[d->table].name) != 0 ||
			(flag && !says_flag(relid, p->rule.column, d->column)))
			continue;
		appendStringInfo(&cands, "%s%s", cands.len ? ", " : "",
						 one_line(quote_identifier(p->rule.column)));
	}
	return cands.data;
}

/*
 * What no program can decide: said where the call would fail, and where a
 * boolean target takes its default in every row while columns of its table
 * are dropped (accounts.is_active, when the source says it in a status
 * column: a reshape, which a view expresses).
 */
static void
append_decide(StringInfo out, Suggest *sg, ConvertState *st)
{
	ListCell   *lc;

	foreach(lc, st->layout)
	{
		LayoutDecision *d = lfirst(lc);
		const char *t = lg_tables[d->table].name;

		switch (d->kind)
		{
			case LAYOUT_DEFAULT:
				{
					char	   *cands;

					if (d->dst_type != BOOLOID)
						break;
					cands = unread_columns(sg, st, d, true);
					if (cands[0] == '\0')
						break;
					appendStringInfo(out,
									 "-- DECIDE: %s.%s has no source column: every row gets its default.\n"
									 "--   If %s, dropped below, says it, read %s through a view that computes it\n"
									 "--   (doc/tutorial.md, step 1: a schema of views); otherwise nothing to do.\n",
									 t, d->column, cands, t);
					break;
				}
			case LAYOUT_MISSING:
				{
					char	   *cands = unread_columns(sg, st, d, false);

					appendStringInfo(out,
									 "-- DECIDE: %s.%s is NOT NULL without a default, and no source column is of a similar name.\n"
									 "--   Either map the source column that holds it, column_map => pg_catalog.jsonb_build_object(%s, %s)%s,\n"
									 "--   or read %s through a view that computes it (doc/tutorial.md, step 1: a schema of views).\n",
									 t, d->column,
									 quote_literal_cstr(psprintf("%s.source_column", t)),
									 quote_literal_cstr(d->column),
									 cands[0] ? psprintf(" (unread here: %s)", cands) : "",
									 t);
					break;
				}
			case LAYOUT_NO_CAST:
				appendStringInfo(out,
								 "-- DECIDE: %s\n"
								 "--   Either read %s through a view that converts it (doc/tutorial.md, step 1), or fix the source.\n",
								 one_line(d->problem), t);
				break;
			case LAYOUT_BAD_KEY:
			case LAYOUT_OTHER:
				appendStringInfo(out, "-- DECIDE: %s\n", one_line(d->problem));
				break;
			default:
				break;
		}
	}
}

/* on_orphan and on_error, with what the scan counted */
static void
append_modes(StringInfo out, Suggest *sg)
{
	ConvertState *st = sg->last;
	int64		orphans = 0;
	int			i;
	int			f;
	ListCell   *lc;

	if (st == NULL)
	{
		appendStringInfoString(out, "    on_orphan => 'error'\001  -- the rows were not scanned: decide the key columns above first\n");
		return;
	}
	for (i = 0; i < LG_NTABLES; i++)
		for (f = 0; f < lg_tables[i].nfks; f++)
		{
			OrphanStat *os = &st->tables[i].orphans[f];
			int			k;

			if (os->count == 0)
				continue;
			orphans += os->count;
			appendStringInfo(out, "    -- orphans: %s.%s: " INT64_FORMAT " row%s whose %s has no row in %s; missing keys ",
							 lg_tables[i].name, lg_tables[i].fks[f].column, os->count,
							 os->count == 1 ? "" : "s", lg_tables[i].fks[f].column,
							 lg_tables[i].fks[f].parent);
			for (k = 0; k < os->nsamples; k++)
				appendStringInfo(out, "%s%s", k ? ", " : "", sample_literal(os->samples[k]));
			appendStringInfoString(out, os->more ? ", ...\n" : "\n");
		}
	if (orphans > 0)
		appendStringInfoString(out, "    on_orphan => 'quarantine',  -- the orphans and their children kept aside in legacy_quarantine; 'null' sets a nullable key NULL; 'error' refuses\n");
	else
		appendStringInfoString(out, "    on_orphan => 'error',  -- no orphans found\n");

	foreach(lc, sg->label_problems)
		appendStringInfo(out, "    -- %s: value_map, below\n", (char *) lfirst(lc));
	for (i = 0; i < LG_NTABLES; i++)
		foreach(lc, st->tables[i].problems)
		{
			ProblemStat *ps = lfirst(lc);
			int			k;

			appendStringInfo(out, "    -- row problem: %s.%s: %s: " INT64_FORMAT " row%s, keys ",
							 lg_tables[i].name, ps->column, one_line(ps->problem), ps->count,
							 ps->count == 1 ? "" : "s");
			for (k = 0; k < ps->nkeys; k++)
				appendStringInfo(out, "%s%s", k ? ", " : "", sample_literal(ps->keys[k]));
			appendStringInfoString(out, ps->count > ps->nkeys ? ", ...\n" : "\n");
		}
	if (st->problem_rows > 0)
		appendStringInfo(out, "    on_error => 'quarantine'\001  -- " INT64_FORMAT " row%s kept aside in legacy_quarantine; 'error' refuses them; or fix them at the source\n",
						 st->problem_rows, st->problem_rows == 1 ? "" : "s");
	else
		appendStringInfoString(out, "    on_error => 'error'\001  -- no other row problem found\n");
}

static char *
suggest_text(Suggest *sg, const char *schema)
{
	ConvertState *st = sg->last ? sg->last : sg->prep;
	StringInfoData out;
	StringInfoData modes;
	List	   *args = NIL;
	List	   *items;
	List	   *whys;
	ListCell   *lc;

	initStringInfo(&out);
	appendStringInfo(&out,
					 "-- The conversion of schema %s, as lane_google.convert_legacy_suggest() proposes it:\n"
					 "-- every decision on a line of its own.  Run it as it is (a dry run), edit what you decide\n"
					 "-- otherwise, then remove the dry_run line to convert.\n"
					 "--\n"
					 "-- Columns read:\n",
					 one_line(quote_identifier(schema)));
	append_columns(&out, st);
	append_decide(&out, sg, st);

	appendStringInfo(&out, "SELECT * FROM lane_google.convert_legacy(%s,\n",
					 quote_literal_cstr(schema));
	appendStringInfoString(&out, "    dry_run => true,  -- remove this line to convert\n");
	if (st->nsrc_schemas > 1)
	{
		int			k;

		appendStringInfoString(&out, "    also_from => ARRAY[");
		for (k = 1; k < st->nsrc_schemas; k++)
			appendStringInfo(&out, "%s%s", k > 1 ? ", " : "",
							 quote_literal_cstr(get_namespace_name(st->src_schemas[k])));
		appendStringInfoString(&out, "]::pg_catalog.name[],  -- the schemas searched, in order, for a table the first lacks\n");
	}

	/* the modes, each with the comments that lead to it */
	initStringInfo(&modes);
	append_modes(&modes, sg);
	args = lappend(args, modes.data);

	if (sg->column_map != NIL)
	{
		StringInfoData a;

		initStringInfo(&a);
		appendStringInfoString(&a, "    column_map => pg_catalog.jsonb_build_object(\n");
		items = whys = NIL;
		foreach(lc, sg->column_map)
		{
			Proposal   *p = lfirst(lc);

			items = lappend(items, psprintf("%s, %s",
											quote_literal_cstr(psprintf("%s.%s", p->rule.table, p->rule.column)),
											quote_literal_cstr(p->rule.to)));
			whys = lappend(whys, p->why);
		}
		append_items(&a, items, whys, "        ");
		appendStringInfoString(&a, "    )\001\n");
		args = lappend(args, a.data);
	}
	if (sg->ignore != NIL)
	{
		StringInfoData a;

		initStringInfo(&a);
		appendStringInfoString(&a, "    ignore_columns => ARRAY[\n");
		items = whys = NIL;
		foreach(lc, sg->ignore)
		{
			Proposal   *p = lfirst(lc);

			items = lappend(items, quote_literal_cstr(psprintf("%s.%s", p->rule.table, p->rule.column)));
			whys = lappend(whys, p->why);
		}
		append_items(&a, items, whys, "        ");
		appendStringInfoString(&a, "    ]\001\n");
		args = lappend(args, a.data);
	}
	if (sg->value_map != NIL)
	{
		StringInfoData a;
		List	   *cols = NIL;

		initStringInfo(&a);
		appendStringInfoString(&a, "    value_map => pg_catalog.jsonb_build_object(\n");
		/* a line per column, then a line per value */
		foreach(lc, sg->value_map)
		{
			Proposal   *p = lfirst(lc);
			char	   *key = psprintf("%s.%s", p->rule.table, p->rule.column);
			ListCell   *lc2;

			foreach(lc2, cols)
				if (strcmp(lfirst(lc2), key) == 0)
					break;
			if (lc2 == NULL)
				cols = lappend(cols, key);
		}
		foreach(lc, cols)
		{
			ListCell   *lc2;

			appendStringInfo(&a, "        %s, pg_catalog.jsonb_build_object(\n",
							 quote_literal_cstr(lfirst(lc)));
			items = whys = NIL;
			foreach(lc2, sg->value_map)
			{
				Proposal   *p = lfirst(lc2);

				if (strcmp(psprintf("%s.%s", p->rule.table, p->rule.column),
						   (char *) lfirst(lc)) != 0)
					continue;
				items = lappend(items, psprintf("%s, %s", quote_literal_cstr(p->rule.from),
												p->rule.to ? quote_literal_cstr(p->rule.to) : "NULL"));
				whys = lappend(whys, p->why);
			}
			append_items(&a, items, whys, "            ");
			appendStringInfo(&a, "        )%s\n", lnext(cols, lc) ? "," : "");
		}
		appendStringInfoString(&a, "    )\001\n");
		args = lappend(args, a.data);
	}

	/*
	 * Each argument's text marks with \001 where its comma goes (comments
	 * hold no control character: one_line())
	 */
	foreach(lc, args)
	{
		char	   *a = lfirst(lc);
		char	   *mark = strchr(a, '\001');

		if (mark == NULL)
		{
			appendStringInfoString(&out, a);
			continue;
		}
		appendBinaryStringInfo(&out, a, mark - a);
		if (lnext(args, lc))
			appendStringInfoChar(&out, ',');
		appendStringInfoString(&out, mark + 1);
	}
	appendStringInfoString(&out, ");\n");
	return out.data;
}

/*
 * convert_legacy_suggest(source_schema name, also_from name[]) returns text:
 * the call.
 */
LG_GUARDED_FUNCTION(lg_convert_legacy_suggest)
{
	Suggest		sg;
	MemoryContext old;
	char	   *schema;
	char	   *call;
	text	   *result;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("source_schema of convert_legacy_suggest() must not be NULL")));
	memset(&sg, 0, sizeof(sg));
	schema = pstrdup(NameStr(*PG_GETARG_NAME(0)));
	sg.schema = get_namespace_oid(schema, false);
	if (PG_NARGS() > 1 && !PG_ARGISNULL(1))
		sg.also_from = PG_GETARG_ARRAYTYPE_P(1);
	if (sg.schema == lg_extension_schema())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source schema %s is lane_google's own schema",
						quote_identifier(schema)),
				 errdetail("convert_legacy() copies legacy tables of another schema into the extension's tables."),
				 errhint("To convert the extension's own 1.0 tables, run ALTER EXTENSION lane_google UPDATE.")));
	/* as convert_legacy_problems(): its dry runs lock the targets to write */
	if (IsInParallelMode() || RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot convert in a read-only transaction")));
	PreventCommandIfReadOnly("convert_legacy_suggest()");

	sg.work = AllocSetContextCreate(CurrentMemoryContext, "lane_google suggestion",
									ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(sg.work);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	MemoryContextSwitchTo(sg.work);

	suggest_layout(&sg, true);
	if (!sg.scan_blocked)
		suggest_scan(&sg);
	else
		suggest_layout(&sg, false); /* the layout with the proposals */
	call = suggest_text(&sg, schema);

	SPI_finish();
	MemoryContextSwitchTo(old);
	result = cstring_to_text(call);
	MemoryContextDelete(sg.work);
	PG_RETURN_TEXT_P(result);
}
