/*-------------------------------------------------------------------------
 *
 * convert_int.h
 *	  What the files of the conversion engine (src/convert/) share among
 *	  themselves: the state of a conversion and of one table's run, the
 *	  column map, the bulk writer, the batches of rows whose values convert
 *	  together, and the functions each file offers the others.  Nothing here
 *	  is for other subsystems: the engine's public face is in lane_google.h
 *	  (lg_convert_init, lg_progress_rows) and its SQL-callable functions.
 *
 * Which file owns what:
 *	  convert.c		the SQL-callable entry points, the setting, the report
 *	  rules.c		the caller's arguments: on_orphan, column_map,
 *					ignore_columns, value_map
 *	  prepare.c		before anything is written: privileges, locks, whose
 *					rights a source is read with, row security, triggers
 *	  layout.c		the layout mapping: a source column per target column,
 *					enum labels, casts; the layout check
 *	  keys.c		each table's key sets, filled as it converts
 *	  read.c		one table's run: its source read by a heap scan or a
 *					query, its progress, its NOTICE
 *	  rows.c		row conversion: keys mapped and checked, values
 *					converted, each row written, quarantined or counted
 *	  casts.c		the casts of a batch, in subtransactions
 *	  writer.c		the bulk writer (table_multi_insert, as COPY FROM)
 *	  problems.c	row problems, orphans, the quarantine, their reports
 *	  catchup.c		a target that held rows before: compared, updated,
 *					the rows no source row maps to counted or listed
 *	  stage.c		on a Citus coordinator: Citus sources read by a query,
 *					Citus targets converted into staging copies, then
 *					written through Citus
 *	  suggest.c		convert_legacy_suggest(): the call, from the layout
 *					mapping's decisions (collected) and a dry run's problems
 *
 * The per-row path (read.c -> rows.c -> writer.c) crosses files through
 * the static inline functions below (a row into its batch, a row into the
 * writer) and lg_conv_convert_batch() once per batch, as convert_batch()
 * was called before the split (a batch is one row for a table without
 * casts); otherwise only for the rows that need it (catch-up, problems).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LG_CONVERT_INT_H
#define LG_CONVERT_INT_H

#include "access/heapam.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "nodes/execnodes.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapshot.h"
#include "utils/tuplestore.h"

#include "lane_google.h"
#include "keyset.h"

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
	COL_LEGACY_ID,				/* the legacy id, from the source key */
	COL_TENANT					/* 3.0's tenant key: the parent row's (tenant.c) */
} ColMode;

typedef struct ColMap
{
	ColMode		mode;
	AttrNumber	src_attno;		/* 0 when not read from the source */
	KeyKind		kind;			/* for COL_ID, COL_FK */
	Oid			src_type;
	int			fk;				/* index into the table's fks, for COL_FK */
	int			via;			/* COL_TENANT: the map index of the column
								 * naming the parent row */
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
	char	   *samples[MAX_SAMPLES];	/* distinct parent keys */
	bool		more;			/* other keys than the samples */
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

/*
 * What the layout mapping decided, one per target column and per source
 * column no target column reads, when it collects (ConvertState's
 * collect_layout: convert_legacy_suggest()) instead of failing on a
 * mismatch.  Recorded by the layout check (layout.c), in its order.
 */
typedef enum LayoutKind
{
	LAYOUT_READ,				/* a target column read from a source column */
	LAYOUT_DEFAULT,				/* a target column the source lacks: default */
	LAYOUT_MISSING,				/* ... NOT NULL without a default: a problem */
	LAYOUT_NO_CAST,				/* a source column whose type does not convert */
	LAYOUT_BAD_KEY,				/* no primary key column, or a key column of a
								 * type keys never have: no row can be read */
	LAYOUT_UNUSED,				/* a source column no target column reads */
	LAYOUT_IGNORED,				/* ... named in ignore_columns */
	LAYOUT_OTHER				/* any other mismatch: a rule naming nothing */
} LayoutKind;

typedef struct LayoutDecision
{
	LayoutKind	kind;
	int			table;			/* index into lg_tables */
	const char *column;			/* the target column, if any */
	const char *source;			/* the source column, if any */
	AttrNumber	src_attno;		/* 0 if none */
	const char *how;			/* LAYOUT_READ: how the source column was found */
	ColMode		mode;			/* LAYOUT_READ: how it converts */
	Oid			src_type;
	Oid			dst_type;
	int32		dst_typmod;
	bool		notnull;		/* the target column is NOT NULL */
	char	   *problem;		/* the layout check's words, for a mismatch */
} LayoutDecision;

typedef struct TableState
{
	const LgTable *spec;
	Oid			src_schema;		/* the schema its source was found in */
	Oid			src_relid;
	Oid			dst_relid;		/* what the run writes: the target, or its
								 * staging copy (stage.c) */
	Oid			dst_final;		/* a Citus target: the target itself */
	const char *dst_citus;		/* a Citus target: what Citus calls it */
	const char *dst_distcol;	/* ... its distribution column, or NULL */
	bool		dst_has_rows;	/* ... held rows: its copy starts with them,
								 * and only what the run changes goes back */
	struct StagedIds *staged;	/* ... the ids the run inserted and updated */
	char		src_relkind;
	bool		src_by_query;	/* read by the executor, not a heap scan */
	Oid			src_owner;		/* the source's owner */
	bool		src_as_owner;	/* its code runs as src_owner (prepare.c) */
	pg_uuid_t	ns;				/* the table's namespace under the root */
	/* the keys converted, for its children to check (keyset.c) */
	bool		want_keys;		/* false: none kept, children probe */
	bool		want_uuids;		/* a child may reference it by uuid */
	LgKeySet   *ikeys;			/* its integer ids */
	LgKeySet   *ukeys;			/* its uuid ids; probes its primary key */
	int			children_left;	/* children still to convert */
	/*
	 * 3.0's tenant key (doc/citus.md): the column the extension's
	 * set_tenant_key() trigger of the target fills (tenant_col) from the
	 * parent row (tenant_parent) named by tenant_via; NULL in 2.x.  The
	 * engine fills it itself, from the parent's map of id -> tenant key
	 * (tenants, kept while a child may ask; NULL once over
	 * lane_google.max_memory: the parent's row is fetched by id).
	 */
	const char *tenant_col;
	const char *tenant_via;
	int			tenant_parent;	/* index into tables, -1 for none */
	int			tenant_of;		/* the table tenant_col names: accounts,
								 * users */
	const char *tenant_key;		/* the column whose value its children take
								 * (its own tenant_col, or a key column) */
	AttrNumber	tenant_attno;	/* ... in dst_relid (keys.c) */
	bool		keep_tenants;	/* a child takes its tenant key from here */
	struct HTAB *tenants;
	Size		tenants_bytes;	/* charged to the budget */
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
	int64		rows_requarantined; /* of rows_quarantined: held already */
	bool		quarantine_loaded;	/* its rows in st->quarantine_seen */
	List	   *problems;		/* ProblemStat */
	StringInfoData note;
	double		seconds;
} TableState;

/* convert_legacy_missing(): a target row no source row maps to any more */
typedef struct MissingRow
{
	const char *table;
	pg_uuid_t	id;
	int64		legacy_id;
} MissingRow;

typedef struct ConvertState
{
	Oid			src_schema;		/* source_schema: the first searched */
	Oid		   *src_schemas;	/* every schema searched, in order */
	int			nsrc_schemas;	/* 0: src_schema alone */
	const char *src_prefix;		/* source table name = prefix || name */
	Oid			dst_schema;
	OrphanMode	mode;
	bool		upgrade;		/* the 1.0 -> 2.0 update script */
	bool		quarantine_problems;	/* on_error => 'quarantine' */
	bool		problems_only;	/* convert_legacy_problems(): list them */
	bool		list_missing;	/* convert_legacy_missing(): list them */
	List	   *missing;		/* MissingRow, in st->cxt */
	List	   *column_map;		/* ColumnRule: table.source column -> target */
	List	   *ignore_columns; /* ColumnRule: table.source column */
	List	   *value_map;		/* ColumnRule: table.column, from -> to */
	int64		problem_rows;	/* rows with a problem, every table */
	LgHasher   *hasher;
	pg_uuid_t	root;
	LgKeyBudget budget;			/* the key sets' memory */
	Snapshot	probe_snapshot;
	SPIPlanPtr	quarantine_plan;
	struct HTAB *quarantine_seen;	/* rows the quarantine held (problems.c) */
	MemoryContext cxt;			/* lives as long as the conversion */
	bool		write;			/* false once an orphan dooms the run */
	TableState	tables[LG_NTABLES];
	bool		carry;			/* dependents => 'carry' (dependents/) */
	bool		citus;			/* a target is a Citus table (stage.c) */
	void	   *carry_plan;
	/*
	 * convert_legacy_suggest(): the layout check collects its decisions
	 * (LayoutDecision) instead of failing; a column it cannot map reads as
	 * NULL, without its NOT NULL check, so the row problems of the others
	 * can still be counted.
	 */
	bool		collect_layout;
	List	   *layout;
} ConvertState;

/* Error context: which row of which table is being converted */
typedef struct RowContext
{
	const char *table;
	const char *column;
	int64		row;			/* its number in the read; 0 between rows */
	ItemPointerData tid;		/* its ctid, when read by a heap scan */
} RowContext;

/* The bulk writer of one target (writer.c) */
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
 * Source rows in a batch, their non-key columns converted: casts may fail,
 * and a failure must become a row problem, not end the conversion, so the
 * casts of a batch run in one subtransaction; only when it fails is each
 * value retried in a subtransaction of its own (casts.c).  Tables without
 * casts take one row at a time straight from the scan.
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

/* One table's conversion while it runs (read.c) */
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

/* ------------------------------------------------------------------------
 * Names
 * ------------------------------------------------------------------------
 */

/* A source table's name: the prefix (the update's) and the table's */
static inline char *
lg_conv_source_name(ConvertState *st, const LgTable *t)
{
	return psprintf("%s%s", st->src_prefix, t->name);
}

/* schema.name, each quoted as needed */
static inline char *
lg_conv_qualified(Oid schema, const char *name)
{
	return quote_qualified_identifier(get_namespace_name(schema), name);
}

/* ------------------------------------------------------------------------
 * Whose rights a source is read with (chosen by prepare.c)
 * ------------------------------------------------------------------------
 */

/* Begin reading a source with the rights choose_source_rights() chose */
static inline void
lg_conv_source_rights_begin(const TableState *ts, LgAsOwner *save)
{
	if (ts->src_as_owner)
		lg_begin_as_owner(ts->src_owner, save);
}

static inline void
lg_conv_source_rights_end(const TableState *ts, LgAsOwner *save)
{
	if (ts->src_as_owner)
		lg_end_as_owner(save);
}

/* convert.c: also_from, the schemas searched after the source schema */
extern void lg_conv_source_schemas(ConvertState *st, ArrayType *also_from,
								   const char *fname);

/* rules.c: the caller's arguments */
extern void lg_conv_parse_modes(ConvertState *st, const char *on_orphan,
								const char *on_error, const char *dependents);
extern void lg_conv_parse_rules(ConvertState *st, Jsonb *column_map,
								ArrayType *ignore_columns, Jsonb *value_map);

/* prepare.c: resolve, lock and check every table before anything is written */
extern void lg_conv_prepare(ConvertState *st);
extern int	lg_conv_key_table(const char *column);

/* stage.c: on a Citus coordinator */
extern void lg_conv_citus_tables(ConvertState *st);
extern void lg_conv_stage_begin(ConvertState *st);
extern void lg_conv_stage_finish(ConvertState *st);
extern void lg_conv_stage_note(ConvertState *st, TableState *ts,
							   const pg_uuid_t *id, bool inserted);

/* layout.c: the column map of a table, and the layout check */
extern ColMap *lg_conv_build_colmap(ConvertState *st, TableState *ts,
									Relation src, Relation dst,
									StringInfo problems, bool final);
extern void lg_conv_check_layouts(ConvertState *st, StringInfo problems);
extern bool lg_conv_column_converts(const LgTable *t, Relation dst, int i,
									Form_pg_attribute sa);

/* convert.c: a conversion in a subtransaction rolled back (a dry run) */
extern void lg_conv_run_dry(ConvertState *st, MemoryContext work);

/* keys.c: each table's key sets, and 3.0's tenant keys */
extern void lg_conv_keys_begin(ConvertState *st);
extern void lg_conv_tenant_add(ConvertState *st, TableState *ts,
							   const pg_uuid_t *id, Datum tenant);
extern bool lg_conv_tenant_of(ConvertState *st, TableState *p,
							  const pg_uuid_t *id, pg_uuid_t *tenant);
extern void lg_conv_keys_finish(TableState *ts, const char *src_name);
extern void lg_conv_keys_release_parents(ConvertState *st, TableState *ts);

/* read.c: one table's run */
extern void lg_conv_convert_table(ConvertState *st, TableState *ts);

/* rows.c: row conversion */
extern void lg_conv_convert_batch(ConvertState *st, TableState *ts,
								  TableRun *run);

/*
 * One source row (every attribute of the source's descriptor in the slot).
 * A table with casts keeps a copy for its batch; any other is converted now.
 * Inline: the read loops of read.c call it for every row.
 */
static inline void
lg_conv_convert_row(ConvertState *st, TableState *ts, TableRun *run,
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
		lg_conv_convert_batch(st, ts, run);
}

/* casts.c: the casts of a batch */
extern void lg_conv_eval_casts(ColMap *map, ConvBatch *b,
							   ExprContext *econtext);

/* writer.c: the bulk writer */
extern void lg_conv_writer_open(Writer *w, Relation rel, bool maintain_indexes);
extern void lg_conv_writer_flush(Writer *w);
extern void lg_conv_writer_check(Writer *w, TupleTableSlot *slot);
extern void lg_conv_writer_update(Writer *w, ItemPointer tid, Datum *values,
								  bool *nulls, Snapshot snapshot);
extern void lg_conv_writer_close(Writer *w);
extern void lg_conv_writer_finish(Writer *w);

/*
 * Add a formed row; checks the table's CHECK constraints first.  Inline:
 * rows.c adds every row.
 */
static inline void
lg_conv_writer_add(Writer *w, Datum *values, bool *nulls)
{
	TupleTableSlot *slot = w->slots[w->nslots];
	MemoryContext old = MemoryContextSwitchTo(w->batch_cxt);
	HeapTuple	tup = heap_form_tuple(RelationGetDescr(w->rel), values, nulls);

	MemoryContextSwitchTo(old);
	/* the slot owns the tuple: table_multi_insert() then takes it as it is */
	ExecStoreHeapTuple(tup, slot, true);
	if (w->checks != NIL)
		lg_conv_writer_check(w, slot);

	w->nbytes += tup->t_len;
	if (++w->nslots == BATCH_TUPLES || w->nbytes >= BATCH_BYTES)
		lg_conv_writer_flush(w);
}

/* problems.c: row problems, orphans, the quarantine */
extern char *lg_conv_sample_text(ColMap *c, Datum d, bool isnull);
extern void lg_conv_row_problem(ConvertState *st, TableState *ts,
								StringInfo reason, const char *column,
								const char *problem, int sqlstate,
								const char *key, const char *value);
extern void lg_conv_record_orphan(ConvertState *st, OrphanStat *os,
								  const char *value);
extern void lg_conv_quarantine_row(ConvertState *st, TableState *ts,
								   TupleTableSlot *srcslot, const char *reason);
extern void lg_conv_report_orphans(ConvertState *st);
extern void lg_conv_report_problems(ConvertState *st);
extern void lg_conv_put_problems(ConvertState *st, Tuplestorestate *tupstore,
								 TupleDesc tupdesc);

/* catchup.c: a target that held rows before */
extern bool lg_conv_catch_up_row(ConvertState *st, TableState *ts, ColMap *map,
								 Writer *w, Datum *values, bool *nulls,
								 const pg_uuid_t *id);
extern int64 lg_conv_count_missing(ConvertState *st, TableState *ts);
extern void lg_conv_put_missing(ConvertState *st, Tuplestorestate *tupstore,
								TupleDesc tupdesc);

#endif							/* LG_CONVERT_INT_H */
