/*-------------------------------------------------------------------------
 *
 * keyset.h
 *	  Key sets (keyset.c): the set of a parent table's keys, held within
 *	  lane_google.max_memory, with a way out when it does not fit.  The
 *	  conversion (convert/) checks every foreign-key value of a legacy row
 *	  against one; validate_fk_integrity() (validate.c) checks every
 *	  referencing row of a schema against one.
 *
 * Life of a set: lg_keyset_create() describes the keys; lg_keyset_begin()
 * starts it; lg_keyset_add*() fill it (or lg_keyset_build() reads the table
 * itself); lg_keyset_finish() makes it ready for lg_keyset_contains*().
 * Every set of a run charges one LgKeyBudget.  A set that does not fit is
 * "over" (LG_KEYS_OVER): its users fall back to lg_keyset_probe() (the
 * table's unique index) or, for a one-column key whose user can wait for the
 * end of its scan, to lg_keysort_*() (sort both sides, merge).  A built set
 * also answers the converse, lg_keyset_count_absent(): how many rows of its
 * own table hold a key it lacks (a catch-up's rows gone from the source);
 * lg_keyset_probe_fetch() gives the row a probe found.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LG_KEYSET_H
#define LG_KEYSET_H

#include "access/genam.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "nodes/pg_list.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"
#include "utils/uuid.h"

/* How a key column is held */
typedef enum LgKeyKind
{
	LG_KEY_INT,					/* int2/int4/int8: as int64 */
	LG_KEY_UUID,				/* uuid: its 16 bytes inline */
	LG_KEY_GENERIC				/* any type with hash and equality: a Datum */
} LgKeyKind;

typedef enum LgKeyState
{
	LG_KEYS_EMPTY,				/* not started (or evicted, or not wanted) */
	LG_KEYS_BUILDING,			/* being filled: lg_keyset_add*() */
	LG_KEYS_BUILT,				/* ready: lg_keyset_contains*() */
	LG_KEYS_OVER				/* did not fit: its users fall back */
} LgKeyState;

/* What the users of a set that did not fit do instead */
typedef enum LgKeyFallback
{
	LG_FALLBACK_PROBE,			/* probe the table's unique index per key */
	LG_FALLBACK_SORT			/* sort both sides and merge (one column) */
} LgKeyFallback;

/* One key, in the set's representation */
typedef struct LgKey
{
	int64		ints[INDEX_MAX_KEYS];	/* LG_KEY_INT columns */
	Datum		values[INDEX_MAX_KEYS]; /* the other columns */
} LgKey;

/* The memory every key set of one run shares: lane_google.max_memory */
typedef struct LgKeyBudget
{
	Size		limit;
	Size		used;
	Size		peak;
	List	   *sets;			/* every set charged here */
} LgKeyBudget;

/*
 * A key set.  Its users read the description and the state, and set pinned
 * and remaining; the rest is keyset.c's.
 */
typedef struct LgKeySet
{
	/* what the keys are: lg_keyset_create() */
	const char *name;			/* the table's name, for messages */
	Oid			relid;			/* the table that holds the keys */
	Oid			indexoid;		/* its unique index on them, or InvalidOid
								 * for its primary key */
	int			nkeys;
	AttrNumber	attnums[INDEX_MAX_KEYS];
	Oid			types[INDEX_MAX_KEYS];	/* base types */
	Oid			collations[INDEX_MAX_KEYS];
	LgKeyKind	kinds[INDEX_MAX_KEYS];
	int16		typlen[INDEX_MAX_KEYS];
	bool		typbyval[INDEX_MAX_KEYS];
	FmgrInfo	hashfn[INDEX_MAX_KEYS];
	FmgrInfo	eqfn[INDEX_MAX_KEYS];
	bool		hashable;		/* every column can be held */
	bool		is_int;			/* one integer column */
	bool		is_uuid;		/* one uuid column */
	LgKeyFallback fallback;
	int			over_elevel;	/* level of the "does not fit" message */

	/* where it stands */
	LgKeyBudget *budget;
	LgKeyState	state;
	bool		pinned;			/* in use: never evicted for another set */
	int			remaining;		/* the users' count of users still to come */
	MemoryContext home;			/* where it was created: lives as long */
	MemoryContext cxt;			/* the keys' memory, a child of home */
	Size		bytes;			/* what it is charged */

	/* a key met twice while the set was filled (legacy tables may hold one) */
	bool		has_dup;
	int64		dup_int;
	pg_uuid_t	dup_uuid;

	/* one integer column: a bitmap when the keys are dense, else sorted */
	int64	   *ints;
	int64		nints;
	int64		minval;
	int64		maxval;
	uint64	   *bitmap;

	/*
	 * other keys: an open-addressing hash set.  One uuid column: slots are
	 * the bare 16 bytes, all-zero = empty (the zero uuid is a flag).  Else
	 * slot i is slotsize bytes, its hash (uint32, 0 = empty) first and the
	 * key at LG_KEY_SLOT_KEYOFF, so that a probe touches one cache line.
	 */
	char	   *slots;
	void	   *slots_alloc;	/* what to pfree */
	Size		slots_bytes;	/* what the slots are charged */
	int			width;			/* bytes of key */
	int			slotsize;
	int			offsets[INDEX_MAX_KEYS];
	uint64		capacity;		/* slots, or room in ints */
	uint64		count;
	bool		has_zero_uuid;

	/* sort-and-merge fallback: one column, sorted as int8 or its own type */
	bool		sortable;
	Oid			sorttype;
	Oid			sortop;
	FmgrInfo	sortcmp;
	FmgrInfo	sortout;
	int16		sorttyplen;
	bool		sorttypbyval;

	/* index-probe fallback */
	Snapshot	probe_snapshot;
	Relation	prel;
	Relation	irel;
	IndexScanDesc iscan;
	TupleTableSlot *pslot;
	int			keypos[INDEX_MAX_KEYS]; /* index column -> key position */
	Oid			eqproc[INDEX_MAX_KEYS];
	Oid			idxcoll[INDEX_MAX_KEYS];
} LgKeySet;

/*
 * One-uuid keys are added or looked up in batches: the slots of a batch are
 * prefetched first, so that the cache misses of a large set overlap.
 */
#define LG_KEY_BATCH 32

typedef struct LgKeyBatch
{
	int			n;
	uint32		hashes[LG_KEY_BATCH];
	pg_uuid_t	uuids[LG_KEY_BATCH];
} LgKeyBatch;

typedef struct LgKeySort LgKeySort;

/* called by lg_keysort_merge() for each value with no equal key */
typedef void (*LgKeyOrphanFn) (void *arg, Datum value);

/* called by lg_keyset_scan_absent() for each row whose key the set lacks */
typedef void (*LgKeyAbsentFn) (void *arg, TupleTableSlot *slot);

extern void lg_keybudget_init(LgKeyBudget *budget);
extern int	lg_keybudget_sort_kb(LgKeyBudget *budget, int nsorts);

extern LgKeySet *lg_keyset_create(LgKeyBudget *budget, Oid relid,
								  const char *name, int nkeys,
								  const AttrNumber *attnums, const Oid *types,
								  const Oid *collations, Oid indexoid,
								  bool can_sort);
extern bool lg_keyset_begin(LgKeySet *ks, double estimate);
extern bool lg_keyset_add(LgKeySet *ks, LgKey *key);
extern bool lg_keyset_add_int(LgKeySet *ks, int64 v);
extern bool lg_keyset_add_uuid(LgKeySet *ks, const pg_uuid_t *u);
extern void lg_keyset_finish(LgKeySet *ks);
extern bool lg_keyset_build(LgKeySet *ks, Snapshot snapshot);
extern void lg_keyset_free(LgKeySet *ks);

extern bool lg_keyset_contains(LgKeySet *ks, LgKey *key);
extern bool lg_keyset_contains_int(LgKeySet *ks, int64 v);
extern bool lg_keyset_contains_uuid(LgKeySet *ks, const pg_uuid_t *u);

extern bool lg_keyset_batch_push(LgKeyBatch *b, LgKeySet *ks, const pg_uuid_t *u);
extern void lg_keyset_check_batch(LgKeySet *ks, LgKeyBatch *b, bool *found);
extern int64 lg_keyset_count_absent(LgKeySet *ks, Snapshot snapshot);
extern int64 lg_keyset_scan_absent(LgKeySet *ks, Snapshot snapshot,
								   LgKeyAbsentFn fn, void *arg);

extern void lg_keyset_probe_open(LgKeySet *ks, Snapshot snapshot);
extern bool lg_keyset_probe(LgKeySet *ks, LgKey *key);
extern TupleTableSlot *lg_keyset_probe_fetch(LgKeySet *ks, LgKey *key);
extern void lg_keyset_probe_close(LgKeySet *ks);

extern LgKeySort *lg_keysort_begin(LgKeySet *ks, int mem_kb);
extern void lg_keysort_put(LgKeySort *sort, Oid valtype, Datum d);
extern void lg_keysort_merge(LgKeySort *sort, Snapshot snapshot, int mem_kb,
							 LgKeyOrphanFn orphan, void *arg);

extern bool lg_key_is_int_type(Oid typid);
extern int64 lg_key_int_value(Oid typid, Datum d);

#endif							/* LG_KEYSET_H */
