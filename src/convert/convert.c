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
#include "catalog/objectaddress.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/progress.h"
#include "commands/trigger.h"
#include "common/int.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "pgstat.h"
#include "rewrite/rewriteHandler.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/array.h"
#include "utils/catcache.h"
#include "utils/datum.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "lane_google.h"
#include "keyset.h"

PG_FUNCTION_INFO_V1(lg_convert_legacy);
PG_FUNCTION_INFO_V1(lg_convert_legacy_problems);
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
	COL_CAST,					/* another type: PostgreSQL's assignment cast */
	COL_ENUM,					/* into an enum: by label (value_map, case) */
	COL_DEFAULT,				/* not in the source: the target's default */
	COL_ID,						/* the primary key */
	COL_FK,						/* a foreign key */
	COL_LEGACY_ID				/* the legacy id, from the source key */
} ColMode;

typedef struct ColMap
{
	ColMode		mode;
	AttrNumber	src_attno;		/* 0 when not read from the source */
	KeyKind		kind;			/* for COL_ID, COL_FK */
	Oid			src_type;
	int			fk;				/* index into the table's fks, for COL_FK */
	FmgrInfo	src_out;		/* the source value's text form */
	bool		src_bpchar;		/* blank-padded: trailing blanks ignored */
	ExprState  *expr;			/* COL_CAST: over the source row; COL_DEFAULT:
								 * the default, NULL for none */
	bool		notnull;
	const char *name;			/* target column name */
	const char *src_name;		/* source column name */
	/* COL_ENUM: the target type's labels, and the caller's value_map */
	Oid			enum_type;
	int			nlabels;
	char	  **labels;
	Oid		   *label_oids;
	int			nvalues;
	char	  **value_from;
	char	  **value_to;		/* a label of enum_type, or NULL for NULL */
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

/*
 * A row problem of one column (a value with no enum label, NULL into NOT
 * NULL, a key that is no key, a failed cast), counted with sample keys and
 * sample values.
 */
typedef struct ProblemStat
{
	const char *column;
	char	   *problem;
	int			sqlstate;		/* of a failed cast; 0 for the checks */
	int64		count;
	int			nkeys;
	char	   *keys[MAX_SAMPLES];
	int			nvalues;		/* distinct */
	char	   *values[MAX_SAMPLES];
} ProblemStat;

/* A caller's rule about one column: "table.column" */
typedef struct ColumnRule
{
	char	   *table;
	char	   *column;
	char	   *to;				/* column_map: target column; value_map: label */
	char	   *from;			/* value_map: the source value */
	bool		used;
} ColumnRule;

typedef struct TableState
{
	const LgTable *spec;
	Oid			src_relid;
	Oid			dst_relid;
	char		src_relkind;
	bool		src_by_query;	/* read by the executor, not a heap scan */
	Oid			src_owner;		/* the source's owner */
	bool		src_as_owner;	/* its code runs as src_owner (check_source_owners) */
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
	int64		rows_nulled;	/* converted with a key set NULL */
	int64		rows_unchanged; /* catch-up: in the target already, equal */
	int64		rows_updated;	/* catch-up: in the target, changed since */
	int64		rows_missing;	/* catch-up: target rows no source row maps to */
	bool		catch_up;		/* the target held rows before */
	List	   *problems;		/* ProblemStat */
	StringInfoData note;
	double		seconds;
} TableState;

typedef struct ConvertState
{
	Oid			src_schema;
	const char *src_prefix;		/* source table name = prefix || name */
	Oid			dst_schema;
	OrphanMode	mode;
	bool		upgrade;		/* the 1.0 -> 2.0 update script */
	bool		quarantine_problems;	/* on_error => 'quarantine' */
	bool		problems_only;	/* convert_legacy_problems(): list them */
	List	   *column_map;		/* ColumnRule: table.source column -> target */
	List	   *ignore_columns; /* ColumnRule: table.source column */
	List	   *value_map;		/* ColumnRule: table.column, from -> to */
	int64		problem_rows;	/* rows with a problem, every table */
	LgHasher   *hasher;
	pg_uuid_t	root;
	LgKeyBudget budget;			/* the key sets' memory */
	Snapshot	probe_snapshot;
	SPIPlanPtr	quarantine_plan;
	MemoryContext cxt;			/* lives as long as the conversion */
	bool		write;			/* false once an orphan dooms the run */
	TableState	tables[LG_NTABLES];
	bool		carry;			/* dependents => 'carry' (dependents.c) */
	void	   *carry_plan;
} ConvertState;

/* Error context: which row of which table is being converted */
typedef struct RowContext
{
	const char *table;
	const char *column;
	int64		row;			/* its number in the read; 0 between rows */
	ItemPointerData tid;		/* its ctid, when read by a heap scan */
} RowContext;

static void
row_error_callback(void *arg)
{
	RowContext *rc = (RowContext *) arg;

	if (rc->row == 0)
		errcontext("writing the converted rows of legacy table %s", rc->table);
	else if (!ItemPointerIsValid(&rc->tid))
	{
		if (rc->column)
			errcontext("converting column %s of legacy table %s, row " INT64_FORMAT,
					   rc->column, rc->table, rc->row);
		else
			errcontext("converting legacy table %s, row " INT64_FORMAT,
					   rc->table, rc->row);
	}
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

/* ------------------------------------------------------------------------
 * Whose rights a source is read with
 * ------------------------------------------------------------------------
 */

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

/* Begin reading a source with the rights check_source_owners() chose */
static void
source_rights_begin(const TableState *ts, LgAsOwner *save)
{
	if (ts->src_as_owner)
		lg_begin_as_owner(ts->src_owner, save);
}

static void
source_rights_end(const TableState *ts, LgAsOwner *save)
{
	if (ts->src_as_owner)
		lg_end_as_owner(save);
}

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
 * same name, then a name from the application's history; 0 if none.
 */
static AttrNumber
source_attno(ConvertState *st, const LgTable *t, Relation src,
			 const char *name, const char *alias)
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
			return a;
		}
	}
	if (!mapped_away(st, t, name) &&
		(a = get_attnum(relid, name)) != InvalidAttrNumber)
		return a;
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

/*
 * Build the column map of one table, appending any mismatch to problems.
 * final: for the conversion itself (expressions ready to run, the table's
 * note written), not only for the layout check.
 */
static ColMap *
build_colmap(ConvertState *st, TableState *ts, Relation src, Relation dst,
			 StringInfo problems, bool final)
{
	TupleDesc	dd = RelationGetDescr(dst);
	TupleDesc	sd = RelationGetDescr(src);
	ColMap	   *map = palloc0(sizeof(ColMap) * dd->natts);
	bool	   *used = palloc0(sizeof(bool) * (sd->natts + 1));
	const LgTable *t = ts->spec;
	char	   *sname = qualified(st->src_schema, source_table_name(st, t));
	StringInfoData defaults;
	StringInfoData renamed;
	StringInfoData ignored;
	int			i;

	initStringInfo(&defaults);
	initStringInfo(&renamed);
	initStringInfo(&ignored);

	for (i = 0; i < dd->natts; i++)
	{
		Form_pg_attribute da = TupleDescAttr(dd, i);
		const char *name = NameStr(da->attname);
		const char *alias = NULL;
		ColMap	   *c = &map[i];
		bool		key = false;
		int			f;
		Form_pg_attribute sa;
		Oid			outfn;
		bool		isvarlena;

		if (da->attisdropped)
			continue;
		c->name = name;
		c->notnull = da->attnotnull;

		if (strcmp(name, "legacy_id") == 0)
		{
			c->mode = COL_LEGACY_ID;
			continue;
		}
		c->mode = COL_COPY;
		if (strcmp(name, "id") == 0)
		{
			c->mode = COL_ID;
			key = true;
		}
		for (f = 0; f < t->nfks; f++)
			if (strcmp(name, t->fks[f].column) == 0)
			{
				c->mode = COL_FK;
				c->fk = f;
				alias = t->fks[f].alias;
				key = true;
			}

		c->src_attno = source_attno(st, t, src, name, alias);
		if (c->src_attno <= 0)
		{
			Node	   *def = NULL;

			/* not in the source: the default, as INSERT would give it */
			if (c->mode != COL_ID)
				def = build_column_default(dst, i + 1);
			if (def == NULL && (da->attnotnull || c->mode == COL_ID))
			{
				appendStringInfo(problems,
								 "\n%s: column \"%s\" is missing, and %s.%s is NOT NULL without a default",
								 sname, name, t->name, name);
				continue;
			}
			c->mode = COL_DEFAULT;
			c->src_attno = 0;
			if (final && def)
				c->expr = ExecInitExpr(expression_planner((Expr *) def), NULL);
			appendStringInfo(&defaults, "%s%s", defaults.len ? ", " : "", name);
			continue;
		}
		used[c->src_attno] = true;
		sa = TupleDescAttr(sd, c->src_attno - 1);
		c->src_type = sa->atttypid;
		c->src_name = pstrdup(NameStr(sa->attname));
		c->src_bpchar = (getBaseType(sa->atttypid) == BPCHAROID);
		getTypeOutputInfo(sa->atttypid, &outfn, &isvarlena);
		fmgr_info(outfn, &c->src_out);
		if (strcmp(c->src_name, name) != 0)
			appendStringInfo(&renamed, "%s%s from %s", renamed.len ? ", " : "",
							 name, c->src_name);

		if (key)
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

		/* into an enum from another enum or from text: by label */
		if (type_is_enum(da->atttypid) &&
			(type_is_enum(sa->atttypid) ||
			 TypeCategory(getBaseType(sa->atttypid)) == TYPCATEGORY_STRING))
		{
			c->mode = COL_ENUM;
			enum_setup(st, t, c, da->atttypid, sname, problems);
			continue;
		}

		/*
		 * Another type: PostgreSQL's assignment cast, as INSERT INTO target
		 * SELECT would apply it.  Where there is none and the source is a
		 * string type, the target type's input function reads the text, as
		 * COPY would (JSON held in text, dates in varchar); typmods as an
		 * assignment applies them (too long is an error, never truncated).
		 */
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
			if (e == NULL)
			{
				appendStringInfo(problems,
								 "\n%s: column \"%s\" is of type %s, and there is no assignment cast to %s",
								 sname, NameStr(sa->attname),
								 format_type_be(sa->atttypid),
								 format_type_with_typemod(da->atttypid, da->atttypmod));
				continue;
			}
			c->mode = COL_CAST;
			if (final)
				c->expr = ExecInitExpr(expression_planner((Expr *) e), NULL);
		}
	}

	for (i = 0; i < sd->natts; i++)
	{
		Form_pg_attribute sa = TupleDescAttr(sd, i);

		if (sa->attisdropped || used[i + 1])
			continue;
		if (is_ignored(st, t, NameStr(sa->attname)))
		{
			appendStringInfo(&ignored, "%s%s", ignored.len ? ", " : "",
							 NameStr(sa->attname));
			continue;
		}
		appendStringInfo(problems,
						 "\n%s: column \"%s\" has no place in %s and would be lost",
						 sname, NameStr(sa->attname),
						 qualified(st->dst_schema, t->name));
	}

	if (final)
	{
		if (renamed.len)
			appendStringInfo(&ts->note, "%sread %s", ts->note.len ? "; " : "", renamed.data);
		if (defaults.len)
			appendStringInfo(&ts->note, "%sfrom defaults: %s", ts->note.len ? "; " : "", defaults.data);
		if (ignored.len)
			appendStringInfo(&ts->note, "%signored: %s", ts->note.len ? "; " : "", ignored.data);
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
	bool		fire_triggers;	/* the target has user INSERT triggers */
	TransitionCaptureState *transition;
} Writer;

/*
 * The triggers of a target (the ResultRelInfo's own copy): its foreign-key
 * check triggers are switched off, since the conversion has checked every
 * key against its parent already (in bulk, what they would repeat row by
 * row).  True when a user's INSERT trigger remains to fire.
 */
static bool
writer_prepare_triggers(TriggerDesc *td)
{
	bool		user = false;
	int			i;

	if (td == NULL)
		return false;
	for (i = 0; i < td->numtriggers; i++)
	{
		Trigger    *tg = &td->triggers[i];

		if (RI_FKey_trigger_type(tg->tgfoid) != RI_TRIGGER_NONE)
			tg->tgenabled = TRIGGER_DISABLED;
		else if (TRIGGER_FOR_INSERT(tg->tgtype) && lg_trigger_fires(tg))
			user = true;
	}
	return user;
}

/*
 * maintain_indexes false: the caller rebuilds the table's indexes after the
 * load (the table was empty), which beats inserting every key into them.
 *
 * A user's INSERT triggers on the target fire as COPY FROM fires them:
 * BEFORE STATEMENT now, AFTER ROW (and transition tables) queued as rows are
 * written, AFTER STATEMENT and the queued events at writer_finish().
 * (BEFORE ROW triggers are refused before anything is written.)
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
	w->estate->es_output_cid = w->cid;
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

	w->fire_triggers = writer_prepare_triggers(w->rri->ri_TrigDesc);
	if (w->fire_triggers)
	{
		/* where the queued events find the table again */
		w->estate->es_opened_result_relations =
			lappend(w->estate->es_opened_result_relations, w->rri);
		AfterTriggerBeginQuery();
		ExecBSInsertTriggers(w->estate, w->rri);
		w->transition = MakeTransitionCaptureState(w->rri->ri_TrigDesc,
												   RelationGetRelid(rel),
												   CMD_INSERT);
	}
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
			r = lg_ExecInsertIndexTuples(w->rri, w->slots[i], w->estate,
										 false, false, NULL, NIL, false);
			list_free(r);
			ResetPerTupleExprContext(w->estate);
		}
	}
	if (w->fire_triggers)
		for (i = 0; i < w->nslots; i++)
			ExecARInsertTriggers(w->estate, w->rri, w->slots[i], NIL,
								 w->transition);
	for (i = 0; i < w->nslots; i++)
		ExecClearTuple(w->slots[i]);
	w->nslots = 0;
	w->nbytes = 0;
	MemoryContextReset(w->batch_cxt);
}

/* The table's CHECK constraints on a formed row */
static void
writer_check(Writer *w, TupleTableSlot *slot)
{
	ExprContext *econtext;
	ListCell   *lc;
	int			i = 0;

	if (w->checks == NIL)
		return;
	econtext = GetPerTupleExprContext(w->estate);
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

/* Add a formed row; checks the table's CHECK constraints first */
static void
writer_add(Writer *w, Datum *values, bool *nulls)
{
	TupleTableSlot *slot = w->slots[w->nslots];
	MemoryContext old = MemoryContextSwitchTo(w->batch_cxt);
	HeapTuple	tup = heap_form_tuple(RelationGetDescr(w->rel), values, nulls);

	MemoryContextSwitchTo(old);
	/* the slot owns the tuple: table_multi_insert() then takes it as it is */
	ExecStoreHeapTuple(tup, slot, true);
	writer_check(w, slot);

	w->nbytes += tup->t_len;
	if (++w->nslots == BATCH_TUPLES || w->nbytes >= BATCH_BYTES)
		writer_flush(w);
}

/*
 * Catch-up: replace a row the target holds (tid) by its new contents, with
 * its index entries, as UPDATE does.  Only on a table opened with index
 * maintenance (a target that held rows).
 */
static void
writer_update(Writer *w, ItemPointer tid, Datum *values, bool *nulls,
			  Snapshot snapshot)
{
	TupleTableSlot *slot = w->slots[BATCH_TUPLES - 1];
	HeapTuple	tup;
	MemoryContext old;

	TU_UpdateIndexes update_indexes;

	/* pending inserts first: the last slot serves the update */
	writer_flush(w);
	old = MemoryContextSwitchTo(w->batch_cxt);
	tup = heap_form_tuple(RelationGetDescr(w->rel), values, nulls);
	MemoryContextSwitchTo(old);
	ExecStoreHeapTuple(tup, slot, false);
	writer_check(w, slot);
	simple_table_tuple_update(w->rel, tid, slot, snapshot, &update_indexes);
	if (update_indexes != TU_None && w->rri->ri_NumIndices > 0)
	{
		ExprContext *econtext = GetPerTupleExprContext(w->estate);
		List	   *r;

		/*
		 * update = false: that flag only hints "index unchanged" to
		 * bottom-up deletion, from a range table this executor state has not
		 */
		econtext->ecxt_scantuple = slot;
		r = lg_ExecInsertIndexTuples(w->rri, slot, w->estate, false, false, NULL,
									 NIL, update_indexes == TU_Summarizing);
		list_free(r);
		ResetPerTupleExprContext(w->estate);
	}
	ExecClearTuple(slot);
	MemoryContextReset(w->batch_cxt);
}

/* Every row written; the table's indexes are complete after this */
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
}

/*
 * The statement is over: AFTER STATEMENT triggers, then the queued AFTER
 * ROW events.  After any index rebuild, so that what the triggers read
 * through an index is complete.
 */
static void
writer_finish(Writer *w)
{
	if (w->fire_triggers)
	{
		ExecASInsertTriggers(w->estate, w->rri, w->transition);
		AfterTriggerEndQuery(w->estate);
	}
	/* the slots the triggers' events were read into */
	ExecResetTupleTable(w->estate->es_tupleTable, false);
	FreeExecutorState(w->estate);
	MemoryContextDelete(w->batch_cxt);
}

/* ------------------------------------------------------------------------
 * Quarantine
 * ------------------------------------------------------------------------
 */

static void
quarantine_row(ConvertState *st, const TableState *ts, TupleTableSlot *srcslot,
			   const char *reason)
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
								   qualified(st->dst_schema, "legacy_quarantine"));
		Oid			types[3] = {TEXTOID, TEXTOID, JSONBOID};

		st->quarantine_plan = SPI_prepare(sql, 3, types);
		if (st->quarantine_plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(st->quarantine_plan);
	}
	row = ExecFetchSlotHeapTupleDatum(srcslot);
	/* a type of the source's may have its own cast to json: the owner's code */
	source_rights_begin(ts, &save);
	json = DirectFunctionCall1(row_to_json, row);
	source_rights_end(ts, &save);
	values[0] = CStringGetTextDatum(ts->spec->name);
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
	ReindexParams params = {0};

	lg_reindex_relation(relid, REINDEX_REL_CHECK_CONSTRAINTS, &params);
	CommandCounterIncrement();
}

static void
record_orphan(ConvertState *st, OrphanStat *os, const char *value)
{
	os->count++;
	if (os->nsamples < MAX_SAMPLES)
		os->samples[os->nsamples++] = MemoryContextStrdup(st->cxt, value);
}

/* A value's text form for a report: at most 64 bytes of it */
static char *
sample_text(ColMap *c, Datum d, bool isnull)
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
 * Source rows in a batch, their non-key columns converted: casts may fail,
 * and a failure must become a row problem, not end the conversion, so the
 * casts of a batch run in one subtransaction; only when it fails is each
 * value retried in a subtransaction of its own.  Tables without casts take
 * one row at a time straight from the scan.
 */
#define CONV_BATCH 256

typedef struct ConvBatch
{
	int			n;
	int			natts;
	TupleTableSlot *slots[CONV_BATCH];	/* the rows, copies or the read's own */
	TupleTableSlot *copies[CONV_BATCH];
	ItemPointerData tids[CONV_BATCH];
	Datum	   *values;			/* n x natts */
	bool	   *nulls;
	const char **problem;		/* n x natts: a problem, or NULL */
	int		   *sqlstate;
} ConvBatch;

/* Is this error a bad value (a row problem), not a failure of the run? */
static bool
is_value_error(ErrorData *edata)
{
	int			cat = ERRCODE_TO_CATEGORY(edata->sqlerrcode);

	return edata->elevel == ERROR &&
		(cat == ERRCODE_DATA_EXCEPTION ||
		 cat == ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION);
}

static void
eval_cast(ColMap *c, ConvBatch *b, int r, int i, ExprContext *econtext)
{
	int			x = r * b->natts + i;

	econtext->ecxt_scantuple = b->slots[r];
	b->values[x] = ExecEvalExpr(c->expr, econtext, &b->nulls[x]);
}

static void
eval_all_casts(ColMap *map, ConvBatch *b, ExprContext *econtext)
{
	int			r;
	int			i;

	for (r = 0; r < b->n; r++)
		for (i = 0; i < b->natts; i++)
			if (map[i].mode == COL_CAST && !b->nulls[r * b->natts + i])
				eval_cast(&map[i], b, r, i, econtext);
}

/*
 * Casts in a subtransaction: one value's (r, i), or with r < 0 the whole
 * batch's.  NULL when they ran; the error when one failed on a value.
 * Errors that are not about a value (a cancel, out of memory) end the run.
 */
static ErrorData *
casts_in_subtransaction(ColMap *map, ConvBatch *b, int r, int i,
						ExprContext *econtext)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *volatile result = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		if (r < 0)
			eval_all_casts(map, b, econtext);
		else
			eval_cast(&map[i], b, r, i, econtext);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (!is_value_error(edata))
			ReThrowError(edata);
		result = edata;
	}
	PG_END_TRY();
	return result;
}

/* One value's cast in a subtransaction: a failure is the value's problem */
static void
try_cast(ColMap *map, ConvBatch *b, int r, int i, ExprContext *econtext)
{
	ErrorData  *edata = casts_in_subtransaction(map, b, r, i, econtext);
	int			x = r * b->natts + i;

	if (edata == NULL)
		return;
	b->nulls[x] = true;
	b->problem[x] = edata->message;
	b->sqlstate[x] = edata->sqlerrcode;
}

/*
 * Run the casts of the batch in one subtransaction; when that fails, each
 * value again in its own, a failure becoming the value's problem.
 */
static void
eval_casts(ColMap *map, ConvBatch *b, ExprContext *econtext)
{
	ErrorData  *edata = casts_in_subtransaction(map, b, -1, 0, econtext);
	int			r;
	int			i;

	if (edata == NULL)
		return;
	FreeErrorData(edata);

	/* the slow path: each value alone */
	for (r = 0; r < b->n; r++)
		for (i = 0; i < b->natts; i++)
			if (map[i].mode == COL_CAST &&
				!b->slots[r]->tts_isnull[map[i].src_attno - 1])
			{
				CHECK_FOR_INTERRUPTS();
				try_cast(map, b, r, i, econtext);
			}
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

		source_rights_begin(ts, &save);
		eval_casts(map, b, econtext);
		source_rights_end(ts, &save);
	}
	ResetExprContext(econtext);
}

/* Equal contents, whatever the header or compression of either */
static bool
datum_same(Datum a, Datum b, Form_pg_attribute att)
{
	if (att->attlen == -1)
	{
		struct varlena *x = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(a));
		struct varlena *y = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(b));

		return VARSIZE_ANY_EXHDR(x) == VARSIZE_ANY_EXHDR(y) &&
			memcmp(VARDATA_ANY(x), VARDATA_ANY(y), VARSIZE_ANY_EXHDR(x)) == 0;
	}
	return datumIsEqual(a, b, att->attbyval, att->attlen);
}

/*
 * Catch-up: is the row in the target already?  Unchanged: nothing to do;
 * changed: updated to the source's contents.  Columns the source lacks
 * (filled from defaults) keep what the target holds.  false: a new row.
 */
static bool
catch_up_row(ConvertState *st, TableState *ts, ColMap *map, Writer *w,
			 Datum *values, bool *nulls, const pg_uuid_t *id)
{
	TupleDesc	dd = RelationGetDescr(w->rel);
	TupleTableSlot *old;
	LgKey		key;
	bool		changed = false;
	int			i;

	/* the target's row by its primary key, as keyset.c probes it */
	lg_keyset_probe_open(ts->ukeys, st->probe_snapshot);
	key.values[0] = UUIDPGetDatum(id);
	old = lg_keyset_probe_fetch(ts->ukeys, &key);
	if (old == NULL)
		return false;
	slot_getallattrs(old);
	for (i = 0; i < dd->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(dd, i);

		if (att->attisdropped || map[i].mode == COL_DEFAULT)
		{
			values[i] = old->tts_values[i];
			nulls[i] = old->tts_isnull[i];
			continue;
		}
		if (nulls[i] != old->tts_isnull[i] ||
			(!nulls[i] && !datum_same(values[i], old->tts_values[i], att)))
			changed = true;
	}
	if (!changed)
	{
		ts->rows_unchanged++;
		return true;
	}
	if (st->write)
		writer_update(w, &old->tts_tid, values, nulls, st->probe_snapshot);
	ts->rows_updated++;
	return true;
}

/*
 * Catch-up: the rows the target held before that no source row maps to now
 * (deleted at the source, or written to the target directly): those whose
 * uuid the table's key set lacks.  -1 when the set was not kept in memory.
 */
static int64
count_missing(ConvertState *st, TableState *ts)
{
	return lg_keyset_count_absent(ts->ukeys, st->probe_snapshot);
}

/* One table's conversion while it runs */
typedef struct TableRun
{
	Relation	src;
	Relation	dst;
	ColMap	   *map;
	char	   *src_qname;
	Writer		w;
	bool		bulk;			/* empty target: its indexes rebuilt after */
	Datum	   *values;			/* the target row being formed */
	bool	   *nulls;
	MemoryContext row_cxt;		/* reset after every row */
	RowContext	rowctx;
	ErrorContextCallback errcb;
	Snapshot	snapshot;		/* what the source is read with */
	instr_time	start;
	/* source rows waiting for their values to be converted together */
	bool		casts;			/* the table has casts: rows are batched */
	ConvBatch  *batch;
	MemoryContext batch_cxt;	/* reset after every batch */
	ExprContext *econtext;
} TableRun;

/*
 * Open a table's source and target, its column map, the writer; progress
 * shows in pg_stat_progress_copy from now on.
 */
static void
table_run_begin(ConvertState *st, TableState *ts, TableRun *run)
{
	StringInfoData problems;
	TupleDesc	dd;
	ConvBatch  *b;
	int			nrows;
	int			i;

	memset(run, 0, sizeof(TableRun));
	INSTR_TIME_SET_CURRENT(run->start);

	run->src = table_open(ts->src_relid, NoLock);
	run->dst = table_open(ts->dst_relid, NoLock);
	dd = RelationGetDescr(run->dst);
	run->src_qname = qualified(st->src_schema, source_table_name(st, ts->spec));

	initStringInfo(&problems);
	run->map = build_colmap(st, ts, run->src, run->dst, &problems, true);
	if (problems.len > 0)		/* checked before: cannot happen */
		elog(ERROR, "layout of %s changed during conversion", run->src_qname);
	for (i = 0; i < dd->natts; i++)
		if (run->map[i].mode == COL_CAST)
			run->casts = true;

	run->values = palloc(sizeof(Datum) * dd->natts);
	run->nulls = palloc(sizeof(bool) * dd->natts);

	/* children probe parents with a snapshot that sees the parents' rows */
	CommandCounterIncrement();
	st->probe_snapshot = RegisterSnapshot(GetLatestSnapshot());

	/*
	 * An empty target (always so in the update) is loaded without index
	 * maintenance, and its indexes are rebuilt once it is full.  A target
	 * that holds rows is caught up: a row there already is compared with its
	 * source row, and updated if the source changed it since.
	 */
	run->bulk = st->upgrade || table_is_empty(run->dst, st->probe_snapshot);
	ts->catch_up = !run->bulk;
	/* its uuids, to find the target's rows no source row maps to */
	if (ts->catch_up && ts->want_keys && ts->ukeys->state == LG_KEYS_EMPTY)
		(void) lg_keyset_begin(ts->ukeys, 0);
	writer_open(&run->w, run->dst, !run->bulk);
	run->row_cxt = AllocSetContextCreate(CurrentMemoryContext,
										 "lane_google conversion row",
										 ALLOCSET_DEFAULT_SIZES);
	run->batch_cxt = AllocSetContextCreate(CurrentMemoryContext,
										   "lane_google conversion values",
										   ALLOCSET_DEFAULT_SIZES);
	run->econtext = CreateStandaloneExprContext();

	/* rows batched for their casts, one at a time straight from the read else */
	nrows = run->casts ? CONV_BATCH : 1;
	b = run->batch = palloc0(sizeof(ConvBatch));
	b->natts = dd->natts;
	b->values = palloc(sizeof(Datum) * dd->natts * nrows);
	b->nulls = palloc(sizeof(bool) * dd->natts * nrows);
	b->problem = palloc(sizeof(char *) * dd->natts * nrows);
	b->sqlstate = palloc(sizeof(int) * dd->natts * nrows);
	if (run->casts)
		for (i = 0; i < CONV_BATCH; i++)
			b->copies[i] = MakeSingleTupleTableSlot(RelationGetDescr(run->src),
													&TTSOpsMinimalTuple);

	pgstat_progress_start_command(PROGRESS_COMMAND_COPY, ts->src_relid);
	{
		const int	idx[3] = {PROGRESS_COPY_COMMAND, PROGRESS_COPY_TYPE,
		PROGRESS_COPY_BYTES_TOTAL};
		int64		val[3] = {PROGRESS_COPY_COMMAND_FROM, PROGRESS_COPY_TYPE_CALLBACK,
			0};

		/* the size is known for a heap scan; a query's, like a pipe's, is not */
		if (!ts->src_by_query)
			val[2] = (int64) RelationGetNumberOfBlocks(run->src) * BLCKSZ;
		pgstat_progress_update_multi_param(3, idx, val);
	}

	run->rowctx.table = run->src_qname;
	run->errcb.callback = row_error_callback;
	run->errcb.arg = &run->rowctx;
	run->errcb.previous = error_context_stack;
	error_context_stack = &run->errcb;

	/*
	 * The latest snapshot, not the transaction's: every table is locked
	 * against writers by now, and in REPEATABLE READ the transaction's
	 * snapshot may predate the locks, missing rows committed in between
	 * (which the update would then drop with the old table).
	 */
	run->snapshot = RegisterSnapshot(GetLatestSnapshot());
}

/* A row's problem: counted, and said in its quarantine reason */
static void
row_problem(ConvertState *st, TableState *ts, StringInfo reason,
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

/*
 * Row r of the batch, its non-key values converted: its keys mapped and
 * checked, its problems counted, then written, quarantined or counted.
 */
static void
convert_batch_row(ConvertState *st, TableState *ts, TableRun *run, int r)
{
	const LgTable *t = ts->spec;
	TupleDesc	dd = RelationGetDescr(run->dst);
	ConvBatch  *b = run->batch;
	TupleTableSlot *row = b->slots[r];
	ColMap	   *map = run->map;
	Datum	   *values = run->values;
	bool	   *nulls = run->nulls;
	bool		orphaned = false;
	bool		quarantine = false;
	bool		nulled = false;
	int			nproblems = 0;
	StringInfoData reason;
	int64		id_int = 0;
	KeyParse	id_kind = KEY_BAD;
	pg_uuid_t  *id_uuid;
	char	   *key = NULL;
	MemoryContext old;
	int			i;

	CHECK_FOR_INTERRUPTS();
	ts->rows_read++;
	run->rowctx.row = ts->rows_read;
	run->rowctx.tid = b->tids[r];
	old = MemoryContextSwitchTo(run->row_cxt);
	initStringInfo(&reason);
	id_uuid = palloc(UUID_LEN);

	/* the row's key first: it names the row in every report */
	for (i = 0; i < dd->natts; i++)
		if (map[i].mode == COL_ID)
		{
			ColMap	   *c = &map[i];
			Datum		d = row->tts_values[c->src_attno - 1];
			bool		isnull = row->tts_isnull[c->src_attno - 1];
			const char *problem = "key is NULL";

			if (!isnull)
				id_kind = parse_key(c, d, &id_int, id_uuid, &problem);
			if (id_kind == KEY_INT)
				lg_map_legacy_id(st->hasher, &ts->ns, id_int, id_uuid);
			if (id_kind != KEY_BAD)
				key = key_text(id_kind == KEY_INT, id_int, id_uuid);
			else
			{
				/* no key to name it by: its place in the read */
				if (ItemPointerIsValid(&b->tids[r]))
					key = psprintf("ctid (%u,%u)",
								   ItemPointerGetBlockNumber(&b->tids[r]),
								   ItemPointerGetOffsetNumber(&b->tids[r]));
				else
					key = psprintf("row " INT64_FORMAT, ts->rows_read);
				row_problem(st, ts, &reason, c->name, problem, 0, key,
							isnull ? NULL : sample_text(c, d, false));
				nproblems++;
			}
			values[i] = UUIDPGetDatum(id_uuid);
			nulls[i] = false;
		}

	for (i = 0; i < dd->natts; i++)
	{
		ColMap	   *c = &map[i];
		int			x = r * b->natts + i;

		if (TupleDescAttr(dd, i)->attisdropped)
		{
			nulls[i] = true;
			continue;
		}
		if (c->mode == COL_LEGACY_ID || c->mode == COL_ID)
			continue;

		run->rowctx.column = c->name;
		values[i] = b->values[x];
		nulls[i] = b->nulls[x];

		if (b->problem[x])
		{
			row_problem(st, ts, &reason, c->name, b->problem[x], b->sqlstate[x],
						key, sample_text(c, row->tts_values[c->src_attno - 1], false));
			nproblems++;
			continue;
		}
		if (nulls[i])
		{
			if (c->notnull)
			{
				row_problem(st, ts, &reason, c->name,
							"NULL into a NOT NULL column", 0, key, NULL);
				nproblems++;
			}
			continue;
		}

		if (c->mode == COL_FK)
		{
			const LgForeignKey *fk = &t->fks[c->fk];
			TableState *p = &st->tables[lg_table_index(fk->parent)];
			pg_uuid_t  *u = palloc(UUID_LEN);
			int64		v = 0;
			const char *problem = NULL;
			KeyParse	kind = parse_key(c, values[i], &v, u, &problem);
			bool		found;

			if (kind == KEY_BAD)
			{
				row_problem(st, ts, &reason, c->name, problem, 0, key,
							sample_text(c, values[i], false));
				nproblems++;
				nulls[i] = true;
				continue;
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
			values[i] = UUIDPGetDatum(u);
			if (!found)
			{
				char	   *k = key_text(kind == KEY_INT, v, u);

				orphaned = true;
				record_orphan(st, &ts->orphans[c->fk], k);
				appendStringInfo(&reason, "%sorphan: %s = %s has no row in %s",
								 reason.len ? "; " : "", c->name, k, fk->parent);
				if (st->mode == ORPHAN_NULL && fk->nullable)
				{
					nulls[i] = true;
					nulled = true;
					appendStringInfoString(&reason, ", set to NULL");
				}
				else
					quarantine = true;
			}
		}
	}
	run->rowctx.column = NULL;

	/* legacy_id: the integer id, or NULL for a row converted already */
	for (i = 0; i < dd->natts; i++)
		if (map[i].mode == COL_LEGACY_ID)
		{
			values[i] = Int64GetDatum(id_int);
			nulls[i] = (id_kind != KEY_INT);
		}

	if (nproblems > 0)
	{
		st->problem_rows++;
		if (st->quarantine_problems)
			quarantine = true;
		else
		{
			/*
			 * The run will fail (or only lists its problems): stop writing,
			 * but go on checking, keeping the row's key so that its
			 * children are not reported as well.
			 */
			st->write = false;
			quarantine = false;
		}
	}
	if (orphaned && st->mode == ORPHAN_ERROR)
	{
		/* the same for an orphan, when orphans are an error */
		st->write = false;
		quarantine = false;
	}

	if (quarantine)
	{
		/* not converted: kept whole, with its reasons */
		quarantine_row(st, ts, row, reason.data);
		ts->rows_quarantined++;
	}
	else if (id_kind != KEY_BAD)
	{
		if (id_kind == KEY_INT)
			lg_keyset_add_int(ts->ikeys, id_int);
		lg_keyset_add_uuid(ts->ukeys, id_uuid);

		if (nproblems == 0 && !(orphaned && st->mode == ORPHAN_ERROR))
		{
			if (nulled)
			{
				/* converted, a key set NULL: the original row is kept too */
				quarantine_row(st, ts, row, reason.data);
				ts->rows_nulled++;
			}
			if (!ts->catch_up ||
				!catch_up_row(st, ts, map, &run->w, values, nulls, id_uuid))
			{
				if (st->write)
					writer_add(&run->w, values, nulls);
			}
			ts->rows_converted++;
		}
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(run->row_cxt);

	if ((ts->rows_read & 1023) == 0)
	{
		const int	idx[3] = {PROGRESS_COPY_TUPLES_PROCESSED,
			PROGRESS_COPY_TUPLES_EXCLUDED, PROGRESS_COPY_BYTES_PROCESSED};
		int64		val[3] = {ts->rows_converted, ts->rows_quarantined, 0};

		if (ItemPointerIsValid(&b->tids[r]))
			val[2] = (int64) ItemPointerGetBlockNumber(&b->tids[r]) * BLCKSZ;
		pgstat_progress_update_multi_param(3, idx, val);
	}
	if (lg_progress_rows > 0 && ts->rows_read % lg_progress_rows == 0)
		elog(DEBUG1, "lane_google: %s: " INT64_FORMAT " rows read",
			 t->name, ts->rows_read);
}

/* The rows of the batch: their values converted together, then each row */
static void
convert_batch(ConvertState *st, TableState *ts, TableRun *run)
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

/*
 * One source row (every attribute of the source's descriptor in the slot).
 * A table with casts keeps a copy for its batch; any other is converted now.
 */
static void
convert_row(ConvertState *st, TableState *ts, TableRun *run,
			TupleTableSlot *srcslot)
{
	ConvBatch  *b = run->batch;

	b->tids[b->n] = srcslot->tts_tid;
	if (run->casts)
	{
		b->slots[b->n] = ExecCopySlot(b->copies[b->n], srcslot);
		slot_getallattrs(b->slots[b->n]);
	}
	else
		b->slots[b->n] = srcslot;
	if (++b->n == (run->casts ? CONV_BATCH : 1))
		convert_batch(st, ts, run);
}

/*
 * A plain table with no inheritance children: one sequential scan of its
 * heap, the fastest read there is (the update's sources are all of this
 * kind).
 */
static void
read_source_heap(ConvertState *st, TableState *ts, TableRun *run)
{
	TupleTableSlot *srcslot = table_slot_create(run->src, NULL);
	TableScanDesc scan = table_beginscan(run->src, run->snapshot, 0, NULL);

	while (table_scan_getnextslot(scan, ForwardScanDirection, srcslot))
	{
		slot_getallattrs(srcslot);
		convert_row(st, ts, run, srcslot);
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(srcslot);
}

/*
 * Any other source: what SELECT of it returns, through the executor, read
 * in batches from a cursor.  So a partitioned table gives the rows of every
 * partition, a table with inheritance children theirs too, and a view, a
 * materialized view or a foreign table reads as its owner or its server
 * answers.  The query names the source's columns in attribute order (a
 * dropped column has none), and each row goes into a slot of the source's
 * own descriptor, as a heap scan would give it.
 */
static void
read_source_query(ConvertState *st, TableState *ts, TableRun *run)
{
	TupleDesc	sd = RelationGetDescr(run->src);
	TupleTableSlot *srcslot = MakeSingleTupleTableSlot(sd, &TTSOpsVirtual);
	AttrNumber *attnos = palloc(sizeof(AttrNumber) * Max(sd->natts, 1));
	int			ncols = 0;
	Datum	   *qvalues = palloc(sizeof(Datum) * Max(sd->natts, 1));
	bool	   *qnulls = palloc(sizeof(bool) * Max(sd->natts, 1));
	StringInfoData sql;
	Portal		portal;
	LgAsOwner	save;
	int			i;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (i = 0; i < sd->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(sd, i);

		if (a->attisdropped)
			continue;
		appendStringInfo(&sql, "%s%s", ncols ? ", " : "",
						 quote_identifier(NameStr(a->attname)));
		attnos[ncols++] = a->attnum;
	}
	appendStringInfo(&sql, " FROM %s", run->src_qname);

	/*
	 * read-only: the cursor runs with the active snapshot, the run's.  It is
	 * planned, opened and fetched from with the source's rights (its
	 * owner's, check_source_owners()): planning may run a view's immutable
	 * functions already.  The rows are converted and written with the
	 * caller's.
	 */
	source_rights_begin(ts, &save);
	PushActiveSnapshot(run->snapshot);
	portal = SPI_cursor_open_with_args(NULL, sql.data, 0, NULL, NULL, NULL,
									   true, 0);
	PopActiveSnapshot();
	source_rights_end(ts, &save);
	if (portal == NULL)
		elog(ERROR, "could not open a cursor on %s: %s", run->src_qname,
			 SPI_result_code_string(SPI_result));

	for (;;)
	{
		SPITupleTable *tt;
		uint64		n;
		uint64		r;

		source_rights_begin(ts, &save);
		SPI_cursor_fetch(portal, true, BATCH_TUPLES);
		source_rights_end(ts, &save);
		/* the rows' own SPI calls (the quarantine) replace SPI_tuptable */
		tt = SPI_tuptable;
		n = SPI_processed;
		if (n == 0)
			break;
		for (r = 0; r < n; r++)
		{
			ExecClearTuple(srcslot);
			memset(srcslot->tts_isnull, true, sizeof(bool) * sd->natts);
			heap_deform_tuple(tt->vals[r], tt->tupdesc, qvalues, qnulls);
			for (i = 0; i < ncols; i++)
			{
				srcslot->tts_values[attnos[i] - 1] = qvalues[i];
				srcslot->tts_isnull[attnos[i] - 1] = qnulls[i];
			}
			ExecStoreVirtualTuple(srcslot);
			convert_row(st, ts, run, srcslot);
		}
		SPI_freetuptable(tt);
	}
	/* ending the scan runs the source's code too (a foreign data wrapper's) */
	source_rights_begin(ts, &save);
	SPI_cursor_close(portal);
	source_rights_end(ts, &save);
	ExecDropSingleTupleTableSlot(srcslot);
	pfree(attnos);
	pfree(qvalues);
	pfree(qnulls);
}

/*
 * Every row read: the key set complete, the rows flushed, the indexes
 * rebuilt, the target's AFTER triggers fired; then the table's NOTICE.
 */
static void
table_run_end(ConvertState *st, TableState *ts, TableRun *run)
{
	int			i;

	if (run->batch->n > 0)
		convert_batch(st, ts, run);
	UnregisterSnapshot(run->snapshot);
	if (run->casts)
		for (i = 0; i < CONV_BATCH; i++)
			ExecDropSingleTupleTableSlot(run->batch->copies[i]);
	FreeExprContext(run->econtext, true);

	/* duplicate legacy ids: said in their own words before the index would */
	keys_finish(ts, run->src_qname);
	if (ts->catch_up)
		ts->rows_missing = count_missing(st, ts);

	run->rowctx.column = "id";
	run->rowctx.row = 0;
	writer_close(&run->w);
	error_context_stack = run->errcb.previous;
	pgstat_progress_end_command();
	for (i = 0; i < LG_NTABLES; i++)
		lg_keyset_probe_close(st->tables[i].ukeys);
	UnregisterSnapshot(st->probe_snapshot);
	st->probe_snapshot = NULL;
	MemoryContextDelete(run->row_cxt);
	MemoryContextDelete(run->batch_cxt);

	table_close(run->src, NoLock);

	if (run->bulk && !st->upgrade && st->write)
		rebuild_indexes(ts->dst_relid);
	/* the writer's ResultRelInfo needs the target open until its triggers ran */
	writer_finish(&run->w);
	table_close(run->dst, NoLock);

	{
		instr_time	elapsed;

		INSTR_TIME_SET_CURRENT(elapsed);
		INSTR_TIME_SUBTRACT(elapsed, run->start);
		ts->seconds = INSTR_TIME_GET_DOUBLE(elapsed);
	}

	if (ts->catch_up)
		ereport(NOTICE,
				(errmsg("lane_google: %s: read " INT64_FORMAT ", converted " INT64_FORMAT " (" INT64_FORMAT " unchanged, " INT64_FORMAT " updated), quarantined " INT64_FORMAT,
						ts->spec->name, ts->rows_read, ts->rows_converted,
						ts->rows_unchanged, ts->rows_updated, ts->rows_quarantined),
				 errdetail("%.2f s, %.0f rows/s", ts->seconds,
						   ts->seconds > 0 ? ts->rows_read / ts->seconds : 0.0)));
	else
		ereport(NOTICE,
				(errmsg("lane_google: %s: read " INT64_FORMAT ", converted " INT64_FORMAT ", quarantined " INT64_FORMAT,
						ts->spec->name, ts->rows_read, ts->rows_converted, ts->rows_quarantined),
				 errdetail("%.2f s, %.0f rows/s", ts->seconds,
						   ts->seconds > 0 ? ts->rows_read / ts->seconds : 0.0)));
}

static void
convert_table(ConvertState *st, TableState *ts)
{
	TableRun	run;

	if (!OidIsValid(ts->src_relid))
	{
		/* a table the application never had: an empty one */
		char	   *sname = qualified(st->src_schema, source_table_name(st, ts->spec));

		appendStringInfo(&ts->note, "%sno table %s: read as empty",
						 ts->note.len ? "; " : "", sname);
		ereport(NOTICE,
				(errmsg("lane_google: %s: no table %s, read as empty",
						ts->spec->name, sname)));
		return;
	}
	table_run_begin(st, ts, &run);
	if (ts->src_by_query)
		read_source_query(st, ts, &run);
	else
		read_source_heap(st, ts, &run);
	table_run_end(st, ts, &run);
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
	return object_aclcheck(NamespaceRelationId, nspid, GetUserId(), ACL_USAGE);
}

/*
 * Called by RangeVarGetRelidExtended() before it locks the relation a name
 * resolves to, and again whenever the name comes to mean another relation
 * while it waited (dropped, renamed, re-created): the caller locks only what
 * it may use, as LOCK TABLE's callback checks.
 */
static void
check_privilege_callback(const RangeVar *rv, Oid relid, Oid oldrelid,
						 void *arg)
{
	AclMode		mode = *(AclMode *) arg;
	char		relkind;
	AclResult	acl;

	if (!OidIsValid(relid))
		return;					/* missing: the caller says so */
	relkind = get_rel_relkind(relid);
	if (relkind == '\0')
		return;					/* dropped meanwhile: resolved again */
	acl = pg_class_aclcheck(relid, GetUserId(), mode);
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, get_relkind_objtype(relkind), rv->relname);
}

/*
 * The relation schema.name means, with the privilege checked, locked in the
 * given mode (NoLock: not locked) the way PostgreSQL's own commands lock
 * what they name: once the lock is granted, the name is resolved again, and
 * if it now means another relation (the one waited for was dropped or
 * renamed meanwhile) that one is checked and locked instead.  InvalidOid if
 * none.
 */
static Oid
resolve_relation(Oid schema, const char *name, LOCKMODE lockmode,
				 AclMode privilege)
{
	RangeVar   *rv = makeRangeVar(get_namespace_name(schema), pstrdup(name), -1);

	return RangeVarGetRelidExtended(rv, lockmode, RVR_MISSING_OK,
									check_privilege_callback, &privilege);
}

/*
 * Privileges before locks: a caller who may not read every source and
 * write every target waits for no lock, so never queues ahead of others.
 */
static void
check_privileges(ConvertState *st)
{
	int			i;

	if (!st->upgrade)
	{
		AclResult	acl = object_aclcheck_namespace(st->src_schema);

		if (acl != ACLCHECK_OK)
			aclcheck_error(acl, OBJECT_SCHEMA, get_namespace_name(st->src_schema));
	}
	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];

		(void) resolve_relation(st->src_schema,
								source_table_name(st, ts->spec),
								NoLock, ACL_SELECT);
		(void) resolve_relation(st->dst_schema, ts->spec->name,
								NoLock, ACL_INSERT);
	}
}

/* The root namespace, which must not change under us, and each table's */
static void
read_namespace(ConvertState *st)
{
	Oid			cfg;
	int			i;

	/* set_legacy_namespace takes EXCLUSIVE */
	cfg = get_relname_relid("legacy_config", st->dst_schema);
	if (OidIsValid(cfg))
		LockRelationOid(cfg, ShareLock);
	lg_root_namespace(&st->root);
	st->hasher = lg_hasher_create();
	for (i = 0; i < LG_NTABLES; i++)
		lg_table_namespace(st->hasher, &st->root, lg_tables[i].name,
						   &st->tables[i].ns);
}

/*
 * Sources, SHARE (readers go on, writers wait: their rows would be lost):
 * a table, a partitioned table or a table with inheritance children (each
 * partition and child locked too), a view, a materialized view, a foreign
 * table.  Everything but a plain table without children is read through
 * the executor.
 */
static void
lock_sources(ConvertState *st, StringInfo problems)
{
	int			i;
	int			found = 0;

	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];
		char	   *sname = source_table_name(st, ts->spec);

		ts->src_relid = resolve_relation(st->src_schema, sname, ShareLock,
										 ACL_SELECT);
		if (!OidIsValid(ts->src_relid))
		{
			/* the application never had it: an empty table (not in the update) */
			if (st->upgrade)
				appendStringInfo(problems, "\n%s: table is missing",
								 qualified(st->src_schema, sname));
			continue;
		}
		found++;
		ts->src_relkind = get_rel_relkind(ts->src_relid);
		switch (ts->src_relkind)
		{
			case RELKIND_RELATION:
			case RELKIND_PARTITIONED_TABLE:
				if (has_subclass(ts->src_relid))
				{
					/* writers into a partition or child lock only that */
					list_free(find_all_inheritors(ts->src_relid, ShareLock, NULL));
					ts->src_by_query = true;
				}
				else
					ts->src_by_query = (ts->src_relkind != RELKIND_RELATION);
				break;
			case RELKIND_VIEW:
			case RELKIND_MATVIEW:
			case RELKIND_FOREIGN_TABLE:
				ts->src_by_query = true;
				break;
			default:
				appendStringInfo(problems,
								 "\n%s: is not a table, view, materialized view or foreign table",
								 qualified(st->src_schema, sname));
				ts->src_relid = InvalidOid;
				break;
		}
	}
	if (found == 0 && !st->upgrade)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("schema %s holds none of lane_google's tables",
						quote_identifier(get_namespace_name(st->src_schema))),
				 errhint("convert_legacy() reads the tables named as lane_google's (users, accounts, campaigns, ...) in the schema given.")));
}

/* Targets, SHARE ROW EXCLUSIVE (readers go on, writers and a second conversion wait) */
static void
lock_targets(ConvertState *st)
{
	int			i;

	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];

		ts->dst_relid = resolve_relation(st->dst_schema, ts->spec->name,
										 ShareRowExclusiveLock, ACL_INSERT);
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
	}
}

/*
 * Whose rights each source is read with.  Reading a source may run code of
 * its owner's: a view's functions and operators, a foreign table's wrapper,
 * a cast from a column type, a type's cast to json (the quarantine), and
 * through a view, any function it calls.  PostgreSQL runs such code with the
 * rights of whoever reads; convert_legacy() is typically run by a DBA
 * (superuser) over an application role's tables, so that would hand the
 * DBA's rights to the application role.  Instead:
 *
 * - a caller with the owner's privileges (the owner itself, a member of it,
 *	 a superuser) reads the source as its owner, in a security-restricted
 *	 operation: what PostgreSQL's own maintenance commands do (REFRESH
 *	 MATERIALIZED VIEW, ANALYZE, CLUSTER, index builds), and what the owner
 *	 could do itself;
 * - otherwise, an owner with the caller's privileges (a superuser's view
 *	 granted to a delegate role, say) leaves the source read as the caller,
 *	 as a SELECT of it would be: its code gains no right it did not have;
 * - otherwise neither may be lent to the other's code: refused, by name.
 *
 * The caller still needs SELECT on every source (check_privileges()).
 */
static void
choose_source_rights(ConvertState *st)
{
	Oid			caller = GetUserId();
	int			i;

	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];
		HeapTuple	tup;

		if (!OidIsValid(ts->src_relid))
			continue;
		tup = SearchSysCache1(RELOID, ObjectIdGetDatum(ts->src_relid));
		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for relation %u", ts->src_relid);
		ts->src_owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
		ReleaseSysCache(tup);

		if (has_privs_of_role(caller, ts->src_owner))
			ts->src_as_owner = true;
		else if (has_privs_of_role(ts->src_owner, caller))
			ts->src_as_owner = false;
		else
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("source %s is owned by role %s, whose privileges role %s does not have",
							qualified(st->src_schema, source_table_name(st, ts->spec)),
							quote_identifier(GetUserNameFromId(ts->src_owner, false)),
							quote_identifier(GetUserNameFromId(caller, false))),
					 errdetail("Reading a source runs code of its owner's (a view's functions, a cast of its column types); convert_legacy() runs it with the owner's rights when the caller has them, or with the caller's when the owner has those, never otherwise."),
					 errhint("Nothing was converted.  Run convert_legacy() as role %s, a member of it, or a superuser.",
							 quote_identifier(GetUserNameFromId(ts->src_owner, false)))));
	}
}

/*
 * Row-level security, as validate_fk_integrity() refuses it: the conversion
 * reads every row of a source below the executor (a policy would hide some,
 * and they would be lost without a word) and writes the targets in bulk
 * (below the policies' WITH CHECK).  A view reads as its definition says,
 * policies of the tables under it included: that is its owner's choice.
 */
static void
check_row_security(ConvertState *st)
{
	int			i;

	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];

		if (OidIsValid(ts->src_relid) &&
			check_enable_rls(ts->src_relid, InvalidOid, true) == RLS_ENABLED)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("row-level security is enabled for source table %s",
							qualified(st->src_schema, source_table_name(st, ts->spec))),
					 errdetail("convert_legacy must read every row of its sources; a policy would hide some, and they would not be converted."),
					 errhint("Run it as the table's owner or a role with BYPASSRLS.")));

		/*
		 * Read through the executor as its owner (a partitioned table, or
		 * one with inheritance children): FORCE ROW LEVEL SECURITY would
		 * filter its rows for the owner too.
		 */
		if (OidIsValid(ts->src_relid) && ts->src_by_query && ts->src_as_owner &&
			check_enable_rls(ts->src_relid, ts->src_owner, true) == RLS_ENABLED)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("row-level security is forced for source table %s, which is read as its owner",
							qualified(st->src_schema, source_table_name(st, ts->spec))),
					 errdetail("convert_legacy must read every row of its sources; a policy would hide some, and they would not be converted."),
					 errhint("ALTER TABLE %s NO FORCE ROW LEVEL SECURITY for the conversion.",
							 qualified(st->src_schema, source_table_name(st, ts->spec)))));
		if (check_enable_rls(ts->dst_relid, InvalidOid, true) == RLS_ENABLED)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("row-level security is enabled for target table %s",
							qualified(st->dst_schema, ts->spec->name)),
					 errdetail("convert_legacy writes rows in bulk, where the table's policies would not check them."),
					 errhint("Run it as the table's owner or a role with BYPASSRLS.")));
	}
}

/*
 * A user's BEFORE INSERT row trigger on a target could change or drop rows
 * whose keys the conversion has checked against their parents (and counted
 * as converted): refused, by name.  Other INSERT triggers fire, as COPY
 * fires them (writer_open).
 */
static void
check_target_triggers(ConvertState *st)
{
	int			i;
	int			j;

	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];
		Relation	dst = table_open(ts->dst_relid, NoLock);
		TriggerDesc *td = dst->trigdesc;

		for (j = 0; td && j < td->numtriggers; j++)
		{
			Trigger    *tg = &td->triggers[j];

			if (TRIGGER_FOR_ROW(tg->tgtype) && TRIGGER_FOR_BEFORE(tg->tgtype) &&
				TRIGGER_FOR_INSERT(tg->tgtype) && lg_trigger_fires(tg))
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("table %s has a BEFORE INSERT row trigger, \"%s\"",
								qualified(st->dst_schema, ts->spec->name),
								tg->tgname),
						 errdetail("A BEFORE row trigger may change or skip rows whose keys the conversion has checked against their parents."),
						 errhint("Disable it for the conversion (ALTER TABLE ... DISABLE TRIGGER %s) and enable it again after.",
								 quote_identifier(tg->tgname))));
		}
		lg_check_trigger_rights(dst, qualified(st->dst_schema, ts->spec->name),
								TRIGGER_TYPE_INSERT, "The conversion's inserts");
		table_close(dst, NoLock);
	}

	/* the quarantine is written by an INSERT: its triggers fire too */
	if (!st->upgrade)
	{
		Oid			q = get_relname_relid("legacy_quarantine", st->dst_schema);

		if (OidIsValid(q))
		{
			Relation	rel = table_open(q, AccessShareLock);

			lg_check_trigger_rights(rel, qualified(st->dst_schema, "legacy_quarantine"),
									TRIGGER_TYPE_INSERT, "The conversion's inserts");
			table_close(rel, AccessShareLock);
		}
	}
}

/* Every source's layout against its target's: the mismatches, all of them */
static void
check_layouts(ConvertState *st, StringInfo problems)
{
	int			i;
	int			j;

	for (i = 0; i < LG_NTABLES; i++)
	{
		TableState *ts = &st->tables[i];
		Relation	src;
		Relation	dst;

		if (!OidIsValid(ts->src_relid))
			continue;
		src = table_open(ts->src_relid, NoLock);
		dst = table_open(ts->dst_relid, NoLock);
		pfree(build_colmap(st, ts, src, dst, problems, false));

		/* parents keep uuid keys when any child may reference them by uuid */
		for (j = 0; j < ts->spec->nfks; j++)
		{
			AttrNumber	a = source_attno(st, ts->spec, src,
										 ts->spec->fks[j].column,
										 ts->spec->fks[j].alias);
			KeyKind		kind;

			if (a > 0 &&
				key_type_ok(TupleDescAttr(RelationGetDescr(src), a - 1)->atttypid, &kind) &&
				kind != KIND_INT)
				st->tables[lg_table_index(ts->spec->fks[j].parent)].want_uuids = true;
		}
		{
			AttrNumber	a = source_attno(st, ts->spec, src, "id", NULL);
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
			}
		}
	}
}

/*
 * The 1.0 tables had primary keys: no duplicates to detect in tables no one
 * references, so those keep no key set at all.
 */
static void
keep_referenced_keysets(ConvertState *st)
{
	int			i;
	int			j;

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

/*
 * Resolve, lock and check every table before anything is written.  Locks
 * in the tables' fixed order: the namespace, the sources, the targets.
 */
static void
prepare(ConvertState *st)
{
	StringInfoData problems;
	int			i;

	st->cxt = CurrentMemoryContext;
	initStringInfo(&problems);
	for (i = 0; i < LG_NTABLES; i++)
	{
		st->tables[i].spec = &lg_tables[i];
		st->tables[i].want_keys = true;
		initStringInfo(&st->tables[i].note);
	}

	check_privileges(st);
	read_namespace(st);
	lock_sources(st, &problems);
	choose_source_rights(st);
	lock_targets(st);
	/* below the executor: not over Citus tables (citus.c) */
	for (i = 0; i < LG_NTABLES; i++)
	{
		const char *fn = st->upgrade ? "ALTER EXTENSION lane_google UPDATE" : "convert_legacy()";

		lg_citus_refuse_table(st->tables[i].src_relid, fn);
		lg_citus_refuse_table(st->tables[i].dst_relid, fn);
	}
	check_row_security(st);
	check_target_triggers(st);
	check_layouts(st, &problems);

	if (problems.len > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("the legacy tables in schema %s do not match lane_google's layout",
						quote_identifier(get_namespace_name(st->src_schema))),
				 errdetail("Problems:%s", problems.data),
				 errhint("Nothing was converted.  Fix the source tables and run the conversion again.")));

	if (st->upgrade)
		keep_referenced_keysets(st);
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

/* "N rows, keys a, b; values "x", "y"" of a problem */
static void
append_problem(StringInfo detail, const char *table, ProblemStat *ps)
{
	int			k;

	appendStringInfo(detail, "%s%s.%s: %s: " INT64_FORMAT " row%s, key%s ",
					 detail->len ? "\n" : "", table, ps->column, ps->problem,
					 ps->count, ps->count == 1 ? "" : "s",
					 ps->nkeys == 1 ? "" : "s");
	for (k = 0; k < ps->nkeys; k++)
		appendStringInfo(detail, "%s%s", k ? ", " : "", ps->keys[k]);
	if (ps->count > ps->nkeys)
		appendStringInfoString(detail, ", ...");
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
static void
report_problems(ConvertState *st)
{
	StringInfoData detail;
	int			i;
	int			f;
	int			k;
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
				for (k = 0; k < os->nsamples; k++)
					appendStringInfo(&detail, "%s%s", k ? ", " : "", os->samples[k]);
				if (os->count > os->nsamples)
					appendStringInfoString(&detail, ", ...");
			}
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg(INT64_FORMAT " legacy row%s cannot be converted as %s",
					st->problem_rows, st->problem_rows == 1 ? "" : "s",
					st->problem_rows == 1 ? "it is" : "they are"),
			 errdetail("%s", detail.data),
			 errhint("Nothing was changed.  Map the values (value_map), fix the rows, or use on_error => 'quarantine' to convert the rest and keep these rows aside; convert_legacy_problems() lists the problems as rows.")));
}

static void
run_conversion(ConvertState *st)
{
	int			i;

	prepare(st);
	/* dependents => 'carry': the plan, or the refusal, before any row is read */
	if (st->carry)
		st->carry_plan = lg_dependents_source_plan(st->src_schema);
	keys_begin(st);
	st->write = !st->problems_only;
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
	if (!st->problems_only)
	{
		report_problems(st);
		report_orphans(st);
	}
	if (st->carry)
		lg_dependents_source_carry(st->carry_plan, st->mode != ORPHAN_ERROR);
	lg_hasher_free(st->hasher);
	st->hasher = NULL;
}

/* ------------------------------------------------------------------------
 * The caller's rules: column_map, ignore_columns, value_map
 * ------------------------------------------------------------------------
 */

/* "table.column", the table one of the 11 */
static ColumnRule *
parse_rule(const char *arg, const char *s)
{
	ColumnRule *r = palloc0(sizeof(ColumnRule));
	size_t		len = strcspn(s, ".");

	if (s[len] != '.' || len == 0 || s[len + 1] == '\0' ||
		lg_find_table(pnstrdup(s, len)) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s entry \"%s\" must be table.column, the table one of lane_google's",
						arg, s)));
	r->table = pnstrdup(s, len);
	r->column = pstrdup(s + len + 1);
	return r;
}

static bool
jsonb_is(Jsonb *j, const char *type)
{
	text	   *t = DatumGetTextPP(DirectFunctionCall1(jsonb_typeof,
													   JsonbPGetDatum(j)));

	return strcmp(text_to_cstring(t), type) == 0;
}

/* Rows of a query with one argument, through SPI */
static SPITupleTable *
rule_query(const char *sql, Oid type, Datum arg)
{
	int			rc = SPI_execute_with_args(sql, 1, &type, &arg, NULL, true, 0);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	return SPI_tuptable;
}

static void
parse_rules(ConvertState *st, Jsonb *column_map, ArrayType *ignore_columns,
			Jsonb *value_map)
{
	SPITupleTable *tt;
	MemoryContext cxt = CurrentMemoryContext;
	uint64		i;

	if (!jsonb_is(column_map, "object"))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column_map must be a JSON object of \"table.source_column\": \"target_column\"")));
	tt = rule_query("SELECT e.key, e.value OPERATOR(pg_catalog.#>>) '{}'::pg_catalog.text[],"
					" pg_catalog.jsonb_typeof(e.value) "
					"FROM pg_catalog.jsonb_each($1) e",
					JSONBOID, JsonbPGetDatum(column_map));
	for (i = 0; i < SPI_processed; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);
		ColumnRule *r = parse_rule("column_map", SPI_getvalue(tt->vals[i], tt->tupdesc, 1));
		char	   *type = SPI_getvalue(tt->vals[i], tt->tupdesc, 3);

		if (strcmp(type, "string") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("column_map entry \"%s.%s\" must name a target column as a string",
							r->table, r->column)));
		r->to = SPI_getvalue(tt->vals[i], tt->tupdesc, 2);
		st->column_map = lappend(st->column_map, r);
		MemoryContextSwitchTo(old);
	}

	/* as a NULL argument is: a NULL element is no column to ignore */
	if (array_contains_nulls(ignore_columns))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("ignore_columns must not contain NULL elements"),
				 errhint("Name each column to ignore as table.column.")));
	tt = rule_query("SELECT c FROM pg_catalog.unnest($1) c",
					TEXTARRAYOID, PointerGetDatum(ignore_columns));
	for (i = 0; i < SPI_processed; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);

		st->ignore_columns = lappend(st->ignore_columns,
									 parse_rule("ignore_columns",
												SPI_getvalue(tt->vals[i], tt->tupdesc, 1)));
		MemoryContextSwitchTo(old);
	}

	if (!jsonb_is(value_map, "object"))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("value_map must be a JSON object of \"table.column\": {\"source value\": \"label\", ...}")));
	tt = rule_query("SELECT e.key FROM pg_catalog.jsonb_each($1) e "
					"WHERE pg_catalog.jsonb_typeof(e.value) OPERATOR(pg_catalog.<>) 'object'::pg_catalog.text",
					JSONBOID, JsonbPGetDatum(value_map));
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("value_map entry \"%s\" must be a JSON object of \"source value\": \"label\"",
						SPI_getvalue(tt->vals[0], tt->tupdesc, 1))));
	tt = rule_query("SELECT e.key, v.key, v.value OPERATOR(pg_catalog.#>>) '{}'::pg_catalog.text[],"
					" pg_catalog.jsonb_typeof(v.value) "
					"FROM pg_catalog.jsonb_each($1) e, pg_catalog.jsonb_each(e.value) v",
					JSONBOID, JsonbPGetDatum(value_map));
	for (i = 0; i < SPI_processed; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);
		ColumnRule *r = parse_rule("value_map", SPI_getvalue(tt->vals[i], tt->tupdesc, 1));
		char	   *type = SPI_getvalue(tt->vals[i], tt->tupdesc, 4);

		r->from = SPI_getvalue(tt->vals[i], tt->tupdesc, 2);
		if (strcmp(type, "null") == 0)
			r->to = NULL;
		else if (strcmp(type, "string") == 0)
			r->to = SPI_getvalue(tt->vals[i], tt->tupdesc, 3);
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("value_map maps \"%s\" of %s.%s to a %s; map to a label (a string) or null",
							r->from, r->table, r->column, type)));
		st->value_map = lappend(st->value_map, r);
		MemoryContextSwitchTo(old);
	}
}

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
		values[9] = CStringGetTextDatum(ts->note.data);
		nulls[9] = (ts->note.len == 0);
		tuplestore_putvalues(tupstore, tupdesc, values, nulls);
	}
}

static Datum
text_array(char **items, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	int			k;

	for (k = 0; k < n; k++)
		d[k] = CStringGetTextDatum(items[k]);
	return PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* The problems: a row per table, column and problem */
static void
put_problems(ConvertState *st, Tuplestorestate *tupstore, TupleDesc tupdesc)
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

/*
 * convert_legacy(source_schema name, on_orphan text, dry_run boolean
 *				  [, on_error text, column_map jsonb, ignore_columns text[],
 *				  value_map jsonb, source_timezone text[, dependents text]]):
 * 3 arguments at version 2.0 (the same library serves both), 9 from 2.1.
 * convert_legacy_problems(source_schema name, column_map jsonb,
 *				  ignore_columns text[], value_map jsonb,
 *				  source_timezone text): the problems of a dry run, as rows.
 */
static Datum
convert_entry(FunctionCallInfo fcinfo, bool problems_only)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const char *fname = problems_only ? "convert_legacy_problems()" : "convert_legacy()";
	ConvertState *st;
	Name		source;
	char	   *on_orphan = "error";
	char	   *on_error = "error";
	char	   *source_timezone = "UTC";
	char	   *dependents = "keep";
	bool		dry_run = problems_only;
	Jsonb	   *column_map = NULL;
	ArrayType  *ignore_columns = NULL;
	Jsonb	   *value_map = NULL;
	int			first_rule = -1;
	TupleDesc	tupdesc;
	Tuplestorestate *tupstore;
	MemoryContext per_query;
	MemoryContext old;
	MemoryContext work;
	ResourceOwner owner = CurrentResourceOwner;
	int			nestlevel;
	int			i;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s must be called in a context that accepts a set", fname)));

	if (problems_only ? PG_NARGS() != 5 :
		(PG_NARGS() != 3 && PG_NARGS() != 8 && PG_NARGS() != 9))
		elog(ERROR, "%s called with %d arguments", fname, PG_NARGS());
	for (i = 0; i < PG_NARGS(); i++)
		if (PG_ARGISNULL(i))
		{
			static const char *const names[] = {"source_schema", "on_orphan",
				"dry_run", "on_error", "column_map", "ignore_columns",
			"value_map", "source_timezone", "dependents"};
			static const char *const pnames[] = {"source_schema", "column_map",
			"ignore_columns", "value_map", "source_timezone"};

			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s of %s must not be NULL",
							problems_only ? pnames[i] : names[i], fname)));
		}
	source = PG_GETARG_NAME(0);
	if (problems_only)
		first_rule = 1;
	else
	{
		on_orphan = text_to_cstring(PG_GETARG_TEXT_PP(1));
		dry_run = PG_GETARG_BOOL(2);
		if (PG_NARGS() >= 8)
		{
			on_error = text_to_cstring(PG_GETARG_TEXT_PP(3));
			first_rule = 4;
		}
		if (PG_NARGS() == 9)
			dependents = text_to_cstring(PG_GETARG_TEXT_PP(8));
	}
	if (first_rule > 0)
	{
		column_map = PG_GETARG_JSONB_P(first_rule);
		ignore_columns = PG_GETARG_ARRAYTYPE_P(first_rule + 1);
		value_map = PG_GETARG_JSONB_P(first_rule + 2);
		source_timezone = text_to_cstring(PG_GETARG_TEXT_PP(first_rule + 3));
	}

	st = palloc0(sizeof(ConvertState));
	st->mode = parse_orphan_mode(on_orphan);
	if (strcmp(on_error, "quarantine") == 0)
		st->quarantine_problems = true;
	else if (strcmp(on_error, "error") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("on_error must be 'error' or 'quarantine', not '%s'", on_error)));
	if (strcmp(dependents, "carry") == 0)
		st->carry = true;
	else if (strcmp(dependents, "keep") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dependents must be 'keep' or 'carry', not '%s'", dependents)));
	st->problems_only = problems_only;
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
	PreventCommandIfReadOnly(fname);

	per_query = rsinfo->econtext->ecxt_per_query_memory;
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	work = AllocSetContextCreate(CurrentMemoryContext, "lane_google conversion",
								 ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(work);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	MemoryContextSwitchTo(work);
	if (first_rule > 0)
	{
		parse_rules(st, column_map, ignore_columns, value_map);
		MemoryContextSwitchTo(work);
	}
	nestlevel = set_source_timezone(source_timezone);

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

	AtEOXact_GUC(true, nestlevel);
	if (st->quarantine_plan)
		SPI_freeplan(st->quarantine_plan);
	SPI_finish();

	MemoryContextSwitchTo(per_query);
	tupstore = tuplestore_begin_heap(true, false, work_mem);
	tupdesc = CreateTupleDescCopy(tupdesc);
	if (problems_only)
		put_problems(st, tupstore, tupdesc);
	else
		put_report(st, tupstore, tupdesc);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tupstore;
	rsinfo->setDesc = tupdesc;

	MemoryContextSwitchTo(old);
	MemoryContextDelete(work);
	return (Datum) 0;
}

static Datum lg_convert_legacy_body(PG_FUNCTION_ARGS);

/* lg_convert_legacy() runs under search_path pg_catalog, pg_temp (guard.c) */
Datum
lg_convert_legacy(PG_FUNCTION_ARGS)
{
	return lg_guard_call(lg_convert_legacy_body, fcinfo);
}

static Datum
lg_convert_legacy_body(PG_FUNCTION_ARGS)
{
	return convert_entry(fcinfo, false);
}

static Datum lg_convert_legacy_problems_body(PG_FUNCTION_ARGS);

/* lg_convert_legacy_problems() runs under search_path pg_catalog, pg_temp (guard.c) */
Datum
lg_convert_legacy_problems(PG_FUNCTION_ARGS)
{
	return lg_guard_call(lg_convert_legacy_problems_body, fcinfo);
}

static Datum
lg_convert_legacy_problems_body(PG_FUNCTION_ARGS)
{
	return convert_entry(fcinfo, true);
}

/*
 * _lg_upgrade_convert(source_prefix text): the 1.0 -> 2.0 update script's
 * step.  The 1.0 tables, renamed to source_prefix || name, are converted
 * into the new, empty 2.0 tables of the same schema; each gets its primary
 * key once loaded.  Orphans are an error.
 */
static Datum lg_upgrade_convert_body(PG_FUNCTION_ARGS);

/* lg_upgrade_convert() runs under search_path pg_catalog, pg_temp (guard.c) */
Datum
lg_upgrade_convert(PG_FUNCTION_ARGS)
{
	return lg_guard_call(lg_upgrade_convert_body, fcinfo);
}

static Datum
lg_upgrade_convert_body(PG_FUNCTION_ARGS)
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
static Datum lg_upgrade_mark_validated_body(PG_FUNCTION_ARGS);

/* lg_upgrade_mark_validated() runs under search_path pg_catalog, pg_temp (guard.c) */
Datum
lg_upgrade_mark_validated(PG_FUNCTION_ARGS)
{
	return lg_guard_call(lg_upgrade_mark_validated_body, fcinfo);
}

static Datum
lg_upgrade_mark_validated_body(PG_FUNCTION_ARGS)
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
