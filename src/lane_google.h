/*-------------------------------------------------------------------------
 *
 * lane_google.h
 *	  Declarations shared by the C files of the lane_google extension.
 *	  Which file owns what: lane_google.c the module's start-up (each
 *	  subsystem registers its settings from there); tables.c the 11 tables
 *	  and the extension's schema; rights.c whose rights another role's code
 *	  runs with; legacy.c the id -> uuid mapping; keyset.c (keyset.h) the key
 *	  sets of parents' keys, their budget and fallbacks; convert/ the
 *	  conversion engine (convert_int.h lists its files); dependents/ the
 *	  objects around the 11 tables carried across a key conversion
 *	  (dependents_int.h lists its files); validate.c
 *	  validate_fk_integrity(); uuid.c version 7; online/ the online
 *	  conversion (online_int.h lists its files);
 *	  guard.c what every entry point runs under (its search_path);
 *	  citus.c what a Citus cluster needs (one namespace, Citus tables refused).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANE_GOOGLE_H
#define LANE_GOOGLE_H

#include "postgres.h"

#include "pg_version_compat.h"

#include "fmgr.h"
#include "nodes/pg_list.h"
#include "utils/uuid.h"

#define LG_EXTENSION_NAME	"lane_google"

/* tables.c: the 11 tables, parents before children */
#define LG_NTABLES		11
#define LG_MAX_FKS		3

typedef struct LgForeignKey
{
	const char *column;			/* column name in the UUID schema */
	const char *alias;			/* another name legacy layouts used, or NULL */
	const char *parent;			/* referenced table (its id column) */
	bool		nullable;
} LgForeignKey;

typedef struct LgTable
{
	const char *name;
	int			nfks;
	LgForeignKey fks[LG_MAX_FKS];
} LgTable;

extern const LgTable lg_tables[LG_NTABLES];
extern const LgTable *lg_find_table(const char *name);
extern int	lg_table_index(const char *name);

/* the schema the extension is installed in (tables.c) */
extern Oid	lg_extension_schema(void);
extern char *lg_extension_version(void);

/*
 * Settings: each subsystem registers its own from the module's _PG_init()
 * (lane_google.c), which imports them; none imports lane_google.c back.
 */
extern int	lg_max_memory_kb;	/* lane_google.max_memory (keyset.c) */
extern int	lg_progress_rows;	/* lane_google.progress_rows (convert) */
extern void lg_keyset_init(void);
extern void lg_convert_init(void);
extern Size lg_memory_budget(void);

/*
 * guard.c: every SQL-callable entry point that runs SQL or looks anything up
 * by name runs under search_path "pg_catalog, pg_temp" (see guard.c)
 */
#define LG_SAFE_SEARCH_PATH "pg_catalog, pg_temp"

extern int	lg_guard_begin(void);
extern void lg_guard_end(int nestlevel);
extern Datum lg_guard_call(PGFunction fn, FunctionCallInfo fcinfo);

/*
 * LG_GUARDED_FUNCTION(name) { body }: the SQL-callable function name (its
 * PG_FUNCTION_INFO_V1 given apart) runs body under the pinned search_path.
 */
#define LG_GUARDED_FUNCTION(name) \
	static Datum name##_body(PG_FUNCTION_ARGS); \
	Datum \
	name(PG_FUNCTION_ARGS) \
	{ \
		return lg_guard_call(name##_body, fcinfo); \
	} \
	static Datum \
	name##_body(PG_FUNCTION_ARGS)

/*
 * An extension script runs with client_min_messages raised to WARNING; a
 * step of an update whose progress is worth seeing (the conversion, the
 * swap) shows the session's own setting until lg_guard_end(nestlevel).
 */
extern int	lg_session_messages_begin(void);

/*
 * In the PG_CATCH() of an internal subtransaction: the error copied into
 * cxt, the subtransaction rolled back, cxt and owner (those from before the
 * subtransaction) current again.
 */
struct ResourceOwnerData;
extern struct ErrorData *lg_subxact_catch(MemoryContext cxt,
										  struct ResourceOwnerData *owner);

/* online/online.c: online conversion (src/online/online_int.h has the rest) */
extern int	lg_swap_lock_timeout_ms;	/* lane_google.swap_lock_timeout */
extern void lg_online_init(void);

/* legacy.c: the legacy id -> uuid mapping */
typedef struct LgHasher LgHasher;

extern void lg_root_namespace(pg_uuid_t *root);
extern LgHasher *lg_hasher_create(void);
extern void lg_hasher_free(LgHasher *hasher);
extern void lg_uuid_v5(LgHasher *hasher, const pg_uuid_t *ns,
					   const char *name, size_t len, pg_uuid_t *result);
extern void lg_table_namespace(LgHasher *hasher, const pg_uuid_t *root,
							   const char *table_name, pg_uuid_t *result);
extern void lg_map_legacy_id(LgHasher *hasher, const pg_uuid_t *table_ns,
						   int64 legacy_id, pg_uuid_t *result);

/* rights.c: another role's code run with its owner's rights, never the caller's */
typedef struct LgAsOwner
{
	Oid			userid;			/* the caller's, restored at the end */
	int			sec_context;
	int			nestlevel;		/* of the settings changed meanwhile */
} LgAsOwner;

extern void lg_begin_as_owner(Oid owner, LgAsOwner *save);
extern void lg_end_as_owner(LgAsOwner *save);
struct RelationData;
struct Trigger;

extern bool lg_trigger_fires(const struct Trigger *tg);
extern void lg_check_trigger_rights(struct RelationData *rel, const char *qname,
									int16 events, const char *what);

/* dependents/: the objects around the 11 tables, carried across an update */
extern void lg_dependents_update_hook(void);
extern void lg_dependents_after_convert(const char *prefix);
extern void lg_dependents_after_keys(void);
/* convert_legacy(..., dependents => 'carry'): the application's tables are the source */
extern void *lg_dependents_source_plan(Oid src_schema);
extern void lg_dependents_source_carry(void *plan, bool orphans_null);
extern List *lg_dependents_relations(bool *has_views);
extern void lg_dependents_check(const char *hint);
extern void lg_dependents_swap_detach(void);
extern void lg_dependents_swap_convert(void);

/* citus.c: on a Citus cluster (Citus looked up by name, never linked) */
extern bool lg_citus_installed(void);
extern bool lg_citus_is_worker(void);
/* what a table is to Citus (lg_citus_describe_table) */
typedef enum LgCitusKind
{
	LG_CITUS_NONE,				/* not a Citus table (or no Citus) */
	LG_CITUS_DISTRIBUTED,		/* hash (or range/append) distributed */
	LG_CITUS_REFERENCE,
	LG_CITUS_SINGLE_SHARD,		/* distributed, one shard, co-located */
	LG_CITUS_LOCAL,				/* a Citus local table */
	LG_CITUS_SHARD				/* a shard of a Citus table */
} LgCitusKind;

typedef struct LgCitusTable
{
	LgCitusKind kind;
	const char *kindname;		/* "distributed table", ...; NULL if none */
	int32		colocationid;
	AttrNumber	distcol;		/* the distribution column, or 0 */
	char	   *shard_of;		/* LG_CITUS_SHARD: the logical table's name */
} LgCitusTable;

extern void lg_citus_describe_table(Oid relid, LgCitusTable *t);
extern void lg_citus_refuse_table(Oid relid, const char *function);
extern void lg_citus_refuse_tables(Oid schema, const char *function);
/* legacy_uuid(table, id) under namespace root, as text (legacy.c gives it) */
typedef char *(*LgLegacyUuidText) (const pg_uuid_t *root, const char *table, int64 id);
extern void lg_citus_check_namespace(const pg_uuid_t *root,
									 LgLegacyUuidText legacy_uuid_text);
extern void lg_citus_propagate_namespace(const pg_uuid_t *ns);

#endif							/* LANE_GOOGLE_H */
