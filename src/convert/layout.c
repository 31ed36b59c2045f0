/*-------------------------------------------------------------------------
 *
 * layout.c
 *	  The layout mapping: for every column of a target, where its value
 *	  comes from -- the source column of the caller's column_map, of the
 *	  same name, or of a name from the application's history; the target's
 *	  default where the source has none -- and how it converts: as it is,
 *	  by enum label (value_map), or by PostgreSQL's assignment cast.  Every
 *	  source column must find a place (or be ignored by ignore_columns).
 *	  The layout check runs this over every table before anything is
 *	  written, and says every mismatch of every table in one error.
 *
 * Collecting (convert_legacy_suggest()): the same mapping, but each
 * decision is recorded (LayoutDecision: which source column, found how,
 * converted how; every mismatch) and no mismatch fails the check; a target
 * column that cannot be mapped then reads as NULL without its NOT NULL
 * check, so that the rows can still be scanned for their problems.
 *
 * Invariants: the same map is built for the check and for the conversion
 * (final: only then are expressions made ready to run and the table's note
 * written), so a layout the check passed converts as checked.  Key columns
 * convert from integer, text or uuid types only.  Every caller's rule that
 * names a column is marked used; the check refuses those that name none.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "rewrite/rewriteHandler.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "convert/convert_int.h"

/* Names the application's own history gave a column of the 2.0 tables */
static const struct
{
	const char *table;
	const char *column;
	const char *alias;
}			column_aliases[] =
{
	/* the SQLAlchemy model could not use the name "metadata" */
	{"conversation_messages", "metadata", "message_metadata"},
};

/* Is source column `name` of table t the source of a column_map rule? */
static bool
mapped_away(ConvertState *st, const LgTable *t, const char *name)
{
	ListCell   *lc;

	foreach(lc, st->column_map)
	{
		ColumnRule *r = lfirst(lc);

		if (strcmp(r->table, t->name) == 0 && strcmp(r->column, name) == 0)
			return true;
	}
	return false;
}

/*
 * The source column for a target column: the caller's column_map, then the
 * same name, then a name from the application's history; 0 if none.  *how
 * (if not NULL) says which.
 */
static AttrNumber
source_attno(ConvertState *st, const LgTable *t, Relation src,
			 const char *name, const char *alias, const char **how)
{
	Oid			relid = RelationGetRelid(src);
	AttrNumber	a;
	ListCell   *lc;
	int			i;

	foreach(lc, st->column_map)
	{
		ColumnRule *r = lfirst(lc);

		if (strcmp(r->table, t->name) == 0 && strcmp(r->to, name) == 0)
		{
			a = get_attnum(relid, r->column);
			if (a > 0)
				r->used = true;
			if (how)
				*how = "column_map";
			return a;
		}
	}
	if (how)
		*how = "name";
	if (!mapped_away(st, t, name) &&
		(a = get_attnum(relid, name)) != InvalidAttrNumber)
		return a;
	if (how)
		*how = "alias";
	if (alias && !mapped_away(st, t, alias) &&
		(a = get_attnum(relid, alias)) != InvalidAttrNumber)
		return a;
	for (i = 0; i < lengthof(column_aliases); i++)
		if (strcmp(column_aliases[i].table, t->name) == 0 &&
			strcmp(column_aliases[i].column, name) == 0 &&
			!mapped_away(st, t, column_aliases[i].alias) &&
			(a = get_attnum(relid, column_aliases[i].alias)) != InvalidAttrNumber)
			return a;
	return InvalidAttrNumber;
}

static bool
is_ignored(ConvertState *st, const LgTable *t, const char *name)
{
	ListCell   *lc;

	foreach(lc, st->ignore_columns)
	{
		ColumnRule *r = lfirst(lc);

		if (strcmp(r->table, t->name) == 0 && strcmp(r->column, name) == 0)
		{
			r->used = true;
			return true;
		}
	}
	return false;
}

/* An enum column's labels, and the caller's value_map for it */
static void
enum_setup(ConvertState *st, const LgTable *t, ColMap *c, Oid enum_type,
		   const char *sname, StringInfo problems)
{
	CatCList   *list = SearchSysCacheList1(ENUMTYPOIDNAME,
										   ObjectIdGetDatum(enum_type));
	ListCell   *lc;
	int			k;

	c->enum_type = enum_type;
	c->nlabels = list->n_members;
	c->labels = palloc(sizeof(char *) * Max(list->n_members, 1));
	c->label_oids = palloc(sizeof(Oid) * Max(list->n_members, 1));
	for (k = 0; k < list->n_members; k++)
	{
		HeapTuple	tup = &list->members[k]->tuple;
		Form_pg_enum en = (Form_pg_enum) GETSTRUCT(tup);

		c->labels[k] = pstrdup(NameStr(en->enumlabel));
		c->label_oids[k] = en->oid;
	}
	ReleaseCatCacheList(list);

	c->nvalues = 0;
	c->value_from = palloc(sizeof(char *) * Max(list_length(st->value_map), 1));
	c->value_to = palloc(sizeof(char *) * Max(list_length(st->value_map), 1));
	foreach(lc, st->value_map)
	{
		ColumnRule *r = lfirst(lc);

		if (strcmp(r->table, t->name) != 0 || strcmp(r->column, c->name) != 0)
			continue;
		r->used = true;
		if (r->to)
		{
			for (k = 0; k < c->nlabels; k++)
				if (strcmp(c->labels[k], r->to) == 0)
					break;
			if (k == c->nlabels)
				appendStringInfo(problems,
								 "\n%s: value_map maps \"%s\" of column \"%s\" to \"%s\", which is not a label of %s",
								 sname, r->from, c->name, r->to,
								 format_type_be(enum_type));
		}
		c->value_from[c->nvalues] = r->from;
		c->value_to[c->nvalues] = r->to;
		c->nvalues++;
	}
}

/* Can a key convert from this type, and as what kind of key? */
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

/* A table's column map while it is built */
typedef struct LayoutBuild
{
	ConvertState *st;
	TableState *ts;
	const LgTable *t;
	char	   *sname;			/* the source, qualified: names it in problems */
	StringInfo	problems;		/* every mismatch, appended */
	bool		final;			/* for the conversion, not only the check */
	bool		collect;		/* the check, recording its decisions */
	bool	   *used;			/* source columns read, by attribute number */
	/* the table's note: what was read from another name, defaulted, ignored */
	StringInfoData renamed;
	StringInfoData defaults;
	StringInfoData ignored;
} LayoutBuild;

/*
 * Collecting: record a decision about target column c (NULL for a source
 * column's) and source column sa (NULL if none); a mismatch's words are what
 * was appended to the problems since problems_len.
 */
static LayoutDecision *
record_decision(LayoutBuild *lb, LayoutKind kind, ColMap *c,
				Form_pg_attribute da, Form_pg_attribute sa, int problems_len)
{
	LayoutDecision *d;

	if (!lb->collect)
		return NULL;
	d = palloc0(sizeof(LayoutDecision));
	d->kind = kind;
	d->table = lg_table_index(lb->t->name);
	if (c)
	{
		d->column = pstrdup(c->name);
		d->mode = c->mode;
		d->notnull = c->notnull;
	}
	if (da)
	{
		d->dst_type = da->atttypid;
		d->dst_typmod = da->atttypmod;
	}
	if (sa)
	{
		d->source = pstrdup(NameStr(sa->attname));
		d->src_attno = sa->attnum;
		d->src_type = sa->atttypid;
	}
	if (lb->problems->len > problems_len)
		d->problem = pstrdup(lb->problems->data + problems_len + 1);	/* no \n */
	lb->st->layout = lappend(lb->st->layout, d);
	return d;
}

/*
 * What a target column is: the primary key, a foreign key (with the other
 * name legacy layouts gave it, if any), or another column.  True for keys.
 */
static bool
colmap_role(const LgTable *t, ColMap *c, const char **alias)
{
	bool		key = false;
	int			f;

	c->mode = COL_COPY;
	if (strcmp(c->name, "id") == 0)
	{
		c->mode = COL_ID;
		key = true;
	}
	for (f = 0; f < t->nfks; f++)
		if (strcmp(c->name, t->fks[f].column) == 0)
		{
			c->mode = COL_FK;
			c->fk = f;
			*alias = t->fks[f].alias;
			key = true;
		}
	return key;
}

/*
 * A target column (number i) the source lacks: the default, as INSERT would
 * give it; a problem where the column is NOT NULL (or the primary key)
 * without one.
 */
static void
colmap_default(LayoutBuild *lb, Relation dst, int i, ColMap *c)
{
	Form_pg_attribute da = TupleDescAttr(RelationGetDescr(dst), i);
	Node	   *def = NULL;

	int			len = lb->problems->len;

	if (c->mode != COL_ID)
		def = build_column_default(dst, i + 1);
	if (def == NULL && (da->attnotnull || c->mode == COL_ID))
	{
		appendStringInfo(lb->problems,
						 "\n%s: column \"%s\" is missing, and %s.%s is NOT NULL without a default",
						 lb->sname, c->name, lb->t->name, c->name);
		/* no key: no row can be scanned (collecting, the scan is skipped) */
		record_decision(lb, c->mode == COL_ID ? LAYOUT_BAD_KEY : LAYOUT_MISSING,
						c, da, NULL, len);
		if (!lb->st->collect_layout || c->mode == COL_ID)
			return;
		/* collecting: read as NULL, unchecked (rows.c never writes then) */
		c->notnull = false;
	}
	else
		record_decision(lb, LAYOUT_DEFAULT, c, da, NULL, len);
	c->mode = COL_DEFAULT;
	c->src_attno = 0;
	if (lb->final && def)
		c->expr = ExecInitExpr(expression_planner((Expr *) def), NULL);
	appendStringInfo(&lb->defaults, "%s%s", lb->defaults.len ? ", " : "",
					 c->name);
}

/* The source column a target column reads: its type, text form and name */
static void
colmap_source(LayoutBuild *lb, Form_pg_attribute sa, ColMap *c)
{
	Oid			outfn;
	bool		isvarlena;

	lb->used[c->src_attno] = true;
	c->src_type = sa->atttypid;
	c->src_name = pstrdup(NameStr(sa->attname));
	c->src_bpchar = (getBaseType(sa->atttypid) == BPCHAROID);
	getTypeOutputInfo(sa->atttypid, &outfn, &isvarlena);
	fmgr_info(outfn, &c->src_out);
	if (strcmp(c->src_name, c->name) != 0)
		appendStringInfo(&lb->renamed, "%s%s from %s",
						 lb->renamed.len ? ", " : "", c->name, c->src_name);
}

/*
 * Another type: PostgreSQL's assignment cast, as INSERT INTO target SELECT
 * would apply it.  Where there is none and the source is a string type, the
 * target type's input function reads the text, as COPY would (JSON held in
 * text, dates in varchar); typmods as an assignment applies them (too long
 * is an error, never truncated).  NULL when there is no way.
 */
static Node *
colmap_cast_expr(ColMap *c, Form_pg_attribute da, Form_pg_attribute sa)
{
	Var		   *var = makeVar(1, c->src_attno, sa->atttypid,
							  sa->atttypmod, sa->attcollation, 0);
	Node	   *e;

	e = coerce_to_target_type(NULL, (Node *) var, sa->atttypid,
							  da->atttypid, da->atttypmod,
							  COERCION_ASSIGNMENT,
							  COERCE_IMPLICIT_CAST, -1);
	if (e == NULL &&
		TypeCategory(getBaseType(sa->atttypid)) == TYPCATEGORY_STRING)
	{
		CoerceViaIO *io = makeNode(CoerceViaIO);

		io->arg = (Expr *) var;
		io->resulttype = da->atttypid;
		io->resultcollid = da->attcollation;
		io->coerceformat = COERCE_IMPLICIT_CAST;
		io->location = -1;
		e = coerce_to_target_type(NULL, (Node *) io, da->atttypid,
								  da->atttypid, da->atttypmod,
								  COERCION_ASSIGNMENT,
								  COERCE_IMPLICIT_CAST, -1);
	}
	return e;
}

/* A column other than a key, read from the source: copied, by label, cast */
static void
colmap_convert(LayoutBuild *lb, Form_pg_attribute da, Form_pg_attribute sa,
			   ColMap *c)
{
	Node	   *e;

	if (sa->atttypid == da->atttypid &&
		(da->atttypmod < 0 || sa->atttypmod == da->atttypmod))
		return;					/* COL_COPY */

	/* into an enum from another enum or from text: by label */
	if (type_is_enum(da->atttypid) &&
		(type_is_enum(sa->atttypid) ||
		 TypeCategory(getBaseType(sa->atttypid)) == TYPCATEGORY_STRING))
	{
		c->mode = COL_ENUM;
		enum_setup(lb->st, lb->t, c, da->atttypid, lb->sname, lb->problems);
		return;
	}

	e = colmap_cast_expr(c, da, sa);
	if (e == NULL)
	{
		int			len = lb->problems->len;

		appendStringInfo(lb->problems,
						 "\n%s: column \"%s\" is of type %s, and there is no assignment cast to %s",
						 lb->sname, NameStr(sa->attname),
						 format_type_be(sa->atttypid),
						 format_type_with_typemod(da->atttypid, da->atttypmod));
		record_decision(lb, LAYOUT_NO_CAST, c, da, sa, len);
		if (lb->st->collect_layout)
		{
			/* collecting: read as NULL, unchecked, as a missing column */
			c->mode = COL_DEFAULT;
			c->src_attno = 0;
			c->notnull = false;
		}
		return;
	}
	c->mode = COL_CAST;
	if (lb->final)
		c->expr = ExecInitExpr(expression_planner((Expr *) e), NULL);
}

/*
 * A key column's source (sa) must be of a type keys convert from; else a
 * problem, recorded (problems_len: where its words begin).
 */
static bool
colmap_key_type(LayoutBuild *lb, ColMap *c, Form_pg_attribute da,
				Form_pg_attribute sa, int problems_len)
{
	if (key_type_ok(sa->atttypid, &c->kind))
		return true;
	appendStringInfo(lb->problems,
					 "\n%s: key column \"%s\" is of type %s; keys convert from smallint, integer, bigint, text, varchar or uuid",
					 lb->sname, NameStr(sa->attname),
					 format_type_be(sa->atttypid));
	record_decision(lb, LAYOUT_BAD_KEY, c, da, sa, problems_len);
	return false;
}

/*
 * 3.0's tenant key (TableState's tenant_col): the parent row's, which the
 * engine looks up once the row's parent column is converted (rows.c).  A
 * source that has the column (a legacy schema keyed by tenant already) is
 * read as a key of the table it names, and each row's value must be its
 * parent's.
 */
static void
colmap_tenant(LayoutBuild *lb, Relation src, Relation dst, int i, ColMap *c)
{
	Form_pg_attribute da = TupleDescAttr(RelationGetDescr(dst), i);
	int			len = lb->problems->len;
	const char *how = NULL;
	Form_pg_attribute sa;
	LayoutDecision *d;
	int			j;

	c->mode = COL_TENANT;
	c->via = -1;
	for (j = 0; j < RelationGetDescr(dst)->natts; j++)
		if (!TupleDescAttr(RelationGetDescr(dst), j)->attisdropped &&
			strcmp(NameStr(TupleDescAttr(RelationGetDescr(dst), j)->attname),
				   lb->ts->tenant_via) == 0)
			c->via = j;
	if (c->via < 0)
		elog(ERROR, "table \"%s\" has no column \"%s\"",
			 RelationGetRelationName(dst), lb->ts->tenant_via);
	c->src_attno = source_attno(lb->st, lb->t, src, c->name, NULL, &how);
	if (c->src_attno <= 0)
	{
		c->src_attno = 0;
		if (lb->final)
			appendStringInfo(&lb->ts->note, "%s%s from %s",
							 lb->ts->note.len ? "; " : "", c->name,
							 lg_tables[lb->ts->tenant_parent].name);
		return;
	}
	sa = TupleDescAttr(RelationGetDescr(src), c->src_attno - 1);
	colmap_source(lb, sa, c);
	if (!colmap_key_type(lb, c, da, sa, len))
		return;
	if ((d = record_decision(lb, LAYOUT_READ, c, da, sa, len)) != NULL)
		d->how = how;
}

/* Target column number i in the map (nothing for a dropped one) */
static void
colmap_column(LayoutBuild *lb, Relation src, Relation dst, int i, ColMap *c)
{
	Form_pg_attribute da = TupleDescAttr(RelationGetDescr(dst), i);
	const char *alias = NULL;
	const char *how = NULL;
	Form_pg_attribute sa;
	bool		key;
	int			len = lb->problems->len;
	LayoutDecision *d;

	if (da->attisdropped)
		return;
	c->name = NameStr(da->attname);
	c->notnull = da->attnotnull;

	if (strcmp(c->name, "legacy_id") == 0)
	{
		c->mode = COL_LEGACY_ID;
		return;
	}
	if (lb->ts->tenant_col && strcmp(c->name, lb->ts->tenant_col) == 0)
	{
		colmap_tenant(lb, src, dst, i, c);
		return;
	}
	key = colmap_role(lb->t, c, &alias);

	c->src_attno = source_attno(lb->st, lb->t, src, c->name, alias, &how);
	if (c->src_attno <= 0)
	{
		colmap_default(lb, dst, i, c);
		return;
	}
	sa = TupleDescAttr(RelationGetDescr(src), c->src_attno - 1);
	colmap_source(lb, sa, c);

	if (key)
	{
		if (!colmap_key_type(lb, c, da, sa, len))
			return;
	}
	else
	{
		colmap_convert(lb, da, sa, c);
		if (lb->problems->len > len)
		{
			/* no cast: recorded as such; a value_map label that is none */
			if (c->mode == COL_ENUM)
				record_decision(lb, LAYOUT_OTHER, c, da, sa, len);
			return;
		}
	}
	if ((d = record_decision(lb, LAYOUT_READ, c, da, sa, len)) != NULL)
		d->how = how;
}

/* Source columns no target column reads: ignored as asked, or a problem */
static void
colmap_unused(LayoutBuild *lb, Relation src)
{
	TupleDesc	sd = RelationGetDescr(src);
	int			i;

	for (i = 0; i < sd->natts; i++)
	{
		Form_pg_attribute sa = TupleDescAttr(sd, i);

		int			len = lb->problems->len;

		if (sa->attisdropped || lb->used[i + 1])
			continue;
		if (is_ignored(lb->st, lb->t, NameStr(sa->attname)))
		{
			appendStringInfo(&lb->ignored, "%s%s", lb->ignored.len ? ", " : "",
							 NameStr(sa->attname));
			record_decision(lb, LAYOUT_IGNORED, NULL, NULL, sa, len);
			continue;
		}
		appendStringInfo(lb->problems,
						 "\n%s: column \"%s\" has no place in %s and would be lost",
						 lb->sname, NameStr(sa->attname),
						 lg_conv_qualified(lb->st->dst_schema, lb->t->name));
		record_decision(lb, LAYOUT_UNUSED, NULL, NULL, sa, len);
	}
}

/*
 * Build the column map of one table, appending any mismatch to problems.
 * final: for the conversion itself (expressions ready to run, the table's
 * note written), not only for the layout check.  Collecting
 * (st->collect_layout), mismatches go to a scratch buffer, and the check
 * (not final) records its decisions in st->layout.
 */
ColMap *
lg_conv_build_colmap(ConvertState *st, TableState *ts, Relation src,
					 Relation dst, StringInfo problems, bool final)
{
	TupleDesc	dd = RelationGetDescr(dst);
	ColMap	   *map = palloc0(sizeof(ColMap) * dd->natts);
	LayoutBuild lb;
	StringInfoData scratch;
	int			i;

	lb.st = st;
	lb.ts = ts;
	lb.t = ts->spec;
	lb.used = palloc0(sizeof(bool) * (RelationGetDescr(src)->natts + 1));
	lb.sname = lg_conv_qualified(ts->src_schema,
								 lg_conv_source_name(st, ts->spec));
	lb.problems = problems;
	if (st->collect_layout)
	{
		initStringInfo(&scratch);
		lb.problems = &scratch;
	}
	lb.final = final;
	lb.collect = st->collect_layout && !final;
	initStringInfo(&lb.defaults);
	initStringInfo(&lb.renamed);
	initStringInfo(&lb.ignored);

	for (i = 0; i < dd->natts; i++)
		colmap_column(&lb, src, dst, i, &map[i]);
	colmap_unused(&lb, src);

	if (final)
	{
		if (lb.renamed.len)
			appendStringInfo(&ts->note, "%sread %s", ts->note.len ? "; " : "",
							 lb.renamed.data);
		if (lb.defaults.len)
			appendStringInfo(&ts->note, "%sfrom defaults: %s",
							 ts->note.len ? "; " : "", lb.defaults.data);
		if (lb.ignored.len)
			appendStringInfo(&ts->note, "%signored: %s",
							 ts->note.len ? "; " : "", lb.ignored.data);
	}
	pfree(lb.used);
	return map;
}

/* Every source's layout against its target's: the mismatches, all of them */
void
lg_conv_check_layouts(ConvertState *st, StringInfo problems)
{
	int			i;
	int			j;
	StringInfoData scratch;

	/* collecting: the caller's rules that name nothing are decisions too */
	if (st->collect_layout)
	{
		initStringInfo(&scratch);
		problems = &scratch;
	}

	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];
		Relation	src;
		Relation	dst;

		if (!OidIsValid(ts->src_relid))
			continue;
		src = table_open(ts->src_relid, NoLock);
		dst = table_open(ts->dst_relid, NoLock);
		pfree(lg_conv_build_colmap(st, ts, src, dst, problems, false));

		/* parents keep uuid keys when any child may reference them by uuid */
		for (j = 0; j < ts->spec->nfks; j++)
		{
			AttrNumber	a = source_attno(st, ts->spec, src,
										 ts->spec->fks[j].column,
										 ts->spec->fks[j].alias, NULL);
			KeyKind		kind;

			if (a > 0 &&
				key_type_ok(TupleDescAttr(RelationGetDescr(src), a - 1)->atttypid, &kind) &&
				kind != KIND_INT)
				st->tables[lg_table_index(ts->spec->fks[j].parent)].want_uuids = true;
		}
		{
			AttrNumber	a = source_attno(st, ts->spec, src, "id", NULL, NULL);
			KeyKind		kind;

			if (a > 0 &&
				key_type_ok(TupleDescAttr(RelationGetDescr(src), a - 1)->atttypid, &kind) &&
				kind != KIND_INT)
				ts->want_uuids = true;
		}
		table_close(dst, NoLock);
		table_close(src, NoLock);
	}

	/* the caller's rules must each have named a column */
	{
		List	   *lists[3] = {st->column_map, st->ignore_columns, st->value_map};
		const char *names[3] = {"column_map", "ignore_columns", "value_map"};
		const char *why[3] = {
			"which is no column of the source table, or whose target is no column of the target",
			"which is no column of the source table, or one converted",
		"which is no enum column converted by label"};
		ListCell   *lc;

		for (j = 0; j < 3; j++)
		{
			foreach(lc, lists[j])
			{
				ColumnRule *r = lfirst(lc);

				if (r->used ||
					!OidIsValid(st->tables[lg_table_index(r->table)].src_relid))
					continue;
				appendStringInfo(problems, "\n%s names %s.%s, %s",
								 names[j], r->table, r->column, why[j]);
				if (st->collect_layout)
				{
					LayoutDecision *d = palloc0(sizeof(LayoutDecision));

					d->kind = LAYOUT_OTHER;
					d->table = lg_table_index(r->table);
					d->problem = pstrdup(strrchr(problems->data, '\n') + 1);
					st->layout = lappend(st->layout, d);
				}
			}
		}
	}
}

/*
 * Would source column sa convert into column number i of target dst, as
 * the layout mapping would convert it (a key from a key type; another
 * column as it is, by enum label, or by a cast)?  For proposals of
 * convert_legacy_suggest(): the mapping's own rules, asked in advance.
 */
bool
lg_conv_column_converts(const LgTable *t, Relation dst, int i,
						Form_pg_attribute sa)
{
	Form_pg_attribute da = TupleDescAttr(RelationGetDescr(dst), i);
	ColMap		c;
	const char *alias = NULL;
	KeyKind		kind;

	if (da->attisdropped || strcmp(NameStr(da->attname), "legacy_id") == 0)
		return false;
	memset(&c, 0, sizeof(c));
	c.name = NameStr(da->attname);
	c.src_attno = sa->attnum;
	if (colmap_role(t, &c, &alias))
		return key_type_ok(sa->atttypid, &kind);
	if (sa->atttypid == da->atttypid)
		return true;
	if (type_is_enum(da->atttypid) &&
		(type_is_enum(sa->atttypid) ||
		 TypeCategory(getBaseType(sa->atttypid)) == TYPCATEGORY_STRING))
		return true;
	return colmap_cast_expr(&c, da, sa) != NULL;
}
