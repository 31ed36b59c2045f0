/*-------------------------------------------------------------------------
 *
 * validate.c
 *	  validate_fk_integrity(): checks every foreign key of a schema against
 *	  its data and the catalog, and reports one row per problem.
 *
 * Problems reported:
 *	orphan_rows		rows whose key has no parent (exact count, sample keys)
 *	not_validated	a constraint marked NOT VALID (with its orphan count)
 *	type_mismatch	a referencing column whose type differs from the
 *					referenced column's
 *	missing_index	no index leads with the referencing columns
 *
 * How: the foreign keys come from pg_constraint.  Each referenced key set is
 * built once by one sequential scan of the parent (single integer keys: a
 * bitmap or a sorted int64 array; uuid and other keys: an open-addressing
 * hash set), and each referencing table is scanned once for all of its
 * foreign keys.  Key sets share a memory budget (lane_google.max_memory);
 * past it, a single-column key is checked by sorting the referencing and
 * referenced values (tuplesort, spilling to disk) and merging them, and a
 * multi-column key by probing the parent's unique index per referencing
 * row: slower, still correct, never out of memory.  Every scan uses one
 * registered snapshot and every table is locked with AccessShareLock only,
 * as a SELECT would be.
 *
 * Key semantics follow PostgreSQL's RI checks: a referencing value is
 * compared in the referenced column's type (integer keys of any width as
 * int64; other types coerced to the referenced type and compared with that
 * type's default hash opclass, which agrees with its btree equality).
 * MATCH SIMPLE: a key with any NULL column is not checked.  MATCH FULL: an
 * all-NULL key is not checked, a partly NULL key is an orphan.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/mman.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_am.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "parser/parse_coerce.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/tuplesort.h"
#include "utils/typcache.h"

#include "lane_google.h"

PG_FUNCTION_INFO_V1(lg_validate_fk_integrity);

#define VK_MAX_SAMPLE_LIMIT 1000

/* How a key column is stored in a key set */
typedef enum VkKind
{
	VK_INT,						/* int2/int4/int8: as int64 */
	VK_UUID,					/* uuid: its 16 bytes inline */
	VK_GENERIC					/* any hashable type: a Datum */
} VkKind;

/* How a referencing value becomes a referenced-type value */
typedef enum VkConv
{
	VK_CONV_NONE,				/* same representation */
	VK_CONV_FUNC,				/* a cast function */
	VK_CONV_IO					/* output of one type, input of the other */
} VkConv;

typedef enum VkState
{
	VK_EMPTY,					/* not built (yet, or evicted) */
	VK_BUILT,					/* key set in memory */
	VK_PROBE					/* too big: probe the parent's unique index */
} VkState;

/*
 * The key set of a referenced table's key columns, shared by every foreign
 * key that references the same columns.
 */
typedef struct VkKeySet
{
	Oid			relid;
	int			nkeys;
	AttrNumber	attnums[INDEX_MAX_KEYS];
	Oid			types[INDEX_MAX_KEYS];	/* base types */
	Oid			collations[INDEX_MAX_KEYS];
	VkKind		kinds[INDEX_MAX_KEYS];
	int16		typlen[INDEX_MAX_KEYS];
	bool		typbyval[INDEX_MAX_KEYS];
	FmgrInfo	hashfn[INDEX_MAX_KEYS];
	FmgrInfo	eqfn[INDEX_MAX_KEYS];
	bool		hashable;
	Oid			indexoid;		/* the unique index the constraints use */

	int			remaining;		/* referencing tables still to scan */
	bool		pinned;			/* needed by the table being scanned */
	VkState		state;
	Size		bytes;			/* memory charged to the budget */
	MemoryContext cxt;

	/* single uuid key: slots are the bare 16 bytes, all-zero = empty */
	bool		is_uuid;
	bool		has_zero_uuid;

	/* single integer key */
	bool		is_int;
	int64	   *ints;
	int64		nints;
	int64		minval;
	int64		maxval;
	uint64	   *bitmap;

	/*
	 * hash set: slot i is slotsize bytes at slots + i * slotsize, its hash
	 * (uint32, 0 = empty) first and the key at VK_KEYOFF, so that a probe
	 * touches one cache line
	 */
	char	   *slots;
	void	   *slots_alloc;	/* what to pfree */
	Size		slots_bytes;	/* what the slots are charged */
	int			width;			/* bytes of key */
	int			slotsize;
	int			offsets[INDEX_MAX_KEYS];
	uint64		capacity;
	uint64		count;

	/*
	 * Past the budget, a single-column key is checked by sorting: the
	 * referencing values and the referenced ones are sorted (tuplesort
	 * spills to disk within its memory) and merged.  The sort type is int8
	 * for integer keys, else the referenced column's base type.
	 */
	bool		sortable;
	Oid			sorttype;
	Oid			sortop;
	FmgrInfo	sortcmp;
	FmgrInfo	sortout;
	int16		sorttyplen;
	bool		sorttypbyval;

	/* index probes (multi-column keys past the budget) */
	Relation	prel;
	Relation	irel;
	IndexScanDesc iscan;
	TupleTableSlot *pslot;
	int			keypos[INDEX_MAX_KEYS]; /* index column -> key position */
	Oid			eqproc[INDEX_MAX_KEYS];
	Oid			idxcoll[INDEX_MAX_KEYS];
} VkKeySet;

/*
 * Single uuid keys are probed in batches: the slots of a batch are
 * prefetched first, so that the cache misses of a large key set overlap.
 */
#define VK_BATCH 32

typedef struct VkBatch
{
	int			n;
	uint32		hashes[VK_BATCH];
	pg_uuid_t	uuids[VK_BATCH];
} VkBatch;

#if defined(__GNUC__) || defined(__clang__)
#define vk_prefetch(p) __builtin_prefetch(p)
#else
#define vk_prefetch(p) ((void) 0)
#endif

/* One foreign key constraint to check */
typedef struct VkForeignKey
{
	Oid			conoid;
	char	   *conname;
	Oid			relid;
	Oid			confrelid;
	Oid			conindid;
	char		matchtype;
	bool		validated;
	int			nkeys;
	AttrNumber	conkey[INDEX_MAX_KEYS];
	AttrNumber	confkey[INDEX_MAX_KEYS];
	Oid			childtypes[INDEX_MAX_KEYS]; /* declared types */
	Oid			childbase[INDEX_MAX_KEYS];
	char	   *colnames[INDEX_MAX_KEYS];

	VkKeySet   *ks;
	VkConv		conv[INDEX_MAX_KEYS];
	FmgrInfo	convfn[INDEX_MAX_KEYS];
	int			convnargs[INDEX_MAX_KEYS];
	FmgrInfo	childout[INDEX_MAX_KEYS];
	FmgrInfo	parentin[INDEX_MAX_KEYS];
	VkBatch    *batch;			/* during a scan, when batched */
	Tuplesortstate *childsort;	/* during a scan, when sorting */
	Oid			parentioparam[INDEX_MAX_KEYS];

	/* results */
	int64		orphans;
	int			nsamples;
	char	  **samples;
	List	   *mismatches;		/* text of each mismatched column */
	bool		has_index;
} VkForeignKey;

/* A referencing table and its foreign keys */
typedef struct VkChild
{
	Oid			relid;
	List	   *fks;
} VkChild;

/* One result row */
typedef struct VkProblem
{
	char	   *nspname;
	char	   *relname;
	const char *conname;
	const char *problem;
	Datum		values[7];
	bool		nulls[7];
} VkProblem;

/* The whole run */
typedef struct VkRun
{
	Snapshot	snapshot;
	Size		budget;
	Size		used;
	Size		peak;
	int			sample_limit;
	List	   *keysets;
	MemoryContext rowcxt;
} VkRun;

/* a referencing row's key, in the referenced representation */
typedef struct VkKey
{
	int64		ints[INDEX_MAX_KEYS];
	Datum		values[INDEX_MAX_KEYS];
} VkKey;


static inline uint32
vk_mix64(uint64 h)
{
	h ^= h >> 33;
	h *= UINT64CONST(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64CONST(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return (uint32) h;
}

static bool
vk_is_int_type(Oid typid)
{
	return typid == INT2OID || typid == INT4OID || typid == INT8OID;
}

static int64
vk_int_value(Oid typid, Datum d)
{
	switch (typid)
	{
		case INT2OID:
			return DatumGetInt16(d);
		case INT4OID:
			return DatumGetInt32(d);
		default:
			return DatumGetInt64(d);
	}
}

/* ---------------------------------------------------------------------
 * Memory budget
 * ---------------------------------------------------------------------
 */

/*
 * Make room for nbytes more in the budget, evicting key sets that the table
 * being scanned does not need.  false if it cannot fit.
 */
static void vk_keyset_free(VkRun *run, VkKeySet *ks);

static bool
vk_reserve(VkRun *run, VkKeySet *ks, Size nbytes)
{
	ListCell   *lc;

	if (run->used + nbytes > run->budget)
	{
		foreach(lc, run->keysets)
		{
			VkKeySet   *other = (VkKeySet *) lfirst(lc);

			if (other != ks && !other->pinned && other->state == VK_BUILT)
			{
				vk_keyset_free(run, other);
				if (run->used + nbytes <= run->budget)
					break;
			}
		}
	}
	if (run->used + nbytes > run->budget)
		return false;
	run->used += nbytes;
	ks->bytes += nbytes;
	run->peak = Max(run->peak, run->used);
	return true;
}

static void
vk_release(VkRun *run, VkKeySet *ks, Size nbytes)
{
	Assert(ks->bytes >= nbytes && run->used >= nbytes);
	ks->bytes -= nbytes;
	run->used -= nbytes;
}

static void
vk_keyset_free(VkRun *run, VkKeySet *ks)
{
	if (ks->cxt)
		MemoryContextDelete(ks->cxt);
	ks->cxt = NULL;
	run->used -= ks->bytes;
	ks->bytes = 0;
	ks->ints = NULL;
	ks->bitmap = NULL;
	ks->slots = NULL;
	ks->slots_alloc = NULL;
	ks->slots_bytes = 0;
	ks->nints = ks->count = ks->capacity = 0;
	ks->has_zero_uuid = false;
	if (ks->state == VK_BUILT)
		ks->state = VK_EMPTY;
}

/* ---------------------------------------------------------------------
 * Hash set of multi-column or non-integer keys
 * ---------------------------------------------------------------------
 */

/* the hash of a uuid key column; vk_hash_key() of a single uuid key */
static inline uint32
vk_uuid_hash(const pg_uuid_t *u)
{
	uint64		a,
				b;
	uint32		h;

	memcpy(&a, u->data, sizeof(uint64));
	memcpy(&b, u->data + sizeof(uint64), sizeof(uint64));
	h = vk_mix64(a ^ (b * UINT64CONST(0x9e3779b97f4a7c15)));
	return h ? h : 1;
}

static uint32
vk_hash_key(VkKeySet *ks, VkKey *key)
{
	uint32		h = 0;
	int			i;

	for (i = 0; i < ks->nkeys; i++)
	{
		uint32		hc;

		switch (ks->kinds[i])
		{
			case VK_INT:
				hc = vk_mix64((uint64) key->ints[i]);
				break;
			case VK_UUID:
				{
					const unsigned char *u = DatumGetUUIDP(key->values[i])->data;
					uint64		a,
								b;

					memcpy(&a, u, 8);
					memcpy(&b, u + 8, 8);
					hc = vk_mix64(a ^ (b * UINT64CONST(0x9e3779b97f4a7c15)));
					break;
				}
			default:
				hc = DatumGetUInt32(FunctionCall1Coll(&ks->hashfn[i],
													  ks->collations[i],
													  key->values[i]));
				break;
		}
		h = (i == 0) ? hc : hash_combine(h, hc);
	}
	return h ? h : 1;
}

static bool
vk_slot_equal(VkKeySet *ks, const char *slot, VkKey *key)
{
	int			i;

	for (i = 0; i < ks->nkeys; i++)
	{
		const char *p = slot + ks->offsets[i];

		switch (ks->kinds[i])
		{
			case VK_INT:
				{
					int64		v;

					memcpy(&v, p, sizeof(int64));
					if (v != key->ints[i])
						return false;
					break;
				}
			case VK_UUID:
				if (memcmp(p, DatumGetUUIDP(key->values[i])->data, UUID_LEN) != 0)
					return false;
				break;
			default:
				{
					Datum		d;

					memcpy(&d, p, sizeof(Datum));
					if (!DatumGetBool(FunctionCall2Coll(&ks->eqfn[i],
														ks->collations[i],
														d, key->values[i])))
						return false;
					break;
				}
		}
	}
	return true;
}

#define VK_KEYOFF	8			/* a slot's key, after its hash */
#define VK_SLOT_HASH(slot)	(*(const uint32 *) (slot))

static inline char *
vk_slot(VkKeySet *ks, uint64 i)
{
	return ks->slots + i * ks->slotsize;
}

/*
 * Queue a uuid key for a batched lookup in ks, its slot prefetched; true when
 * the batch is full and must be processed.
 */
static inline bool
vk_batch_push(VkBatch *b, VkKeySet *ks, Datum d)
{
	uint32		h;

	memcpy(&b->uuids[b->n], DatumGetUUIDP(d), sizeof(pg_uuid_t));
	h = vk_uuid_hash(&b->uuids[b->n]);
	b->hashes[b->n] = h;
	vk_prefetch(vk_slot(ks, h & (ks->capacity - 1)));
	return ++b->n == VK_BATCH;
}

/* is the key in the set?  h is vk_hash_key(ks, key) */
static bool
vk_hash_contains_h(VkKeySet *ks, VkKey *key, uint32 h)
{
	uint64		mask = ks->capacity - 1;
	uint64		i = h & mask;

	for (;;)
	{
		const char *slot = vk_slot(ks, i);
		uint32		sh = VK_SLOT_HASH(slot);

		if (sh == 0)
			return false;
		if (sh == h && vk_slot_equal(ks, slot + VK_KEYOFF, key))
			return true;
		i = (i + 1) & mask;
	}
}

static bool
vk_hash_contains(VkKeySet *ks, VkKey *key)
{
	return vk_hash_contains_h(ks, key, vk_hash_key(ks, key));
}

/* place a filled slot into a table known not to hold its key */
static void
vk_hash_place(char *slots, uint64 capacity, int slotsize, const char *slot)
{
	uint64		mask = capacity - 1;
	uint64		i = VK_SLOT_HASH(slot) & mask;

	while (VK_SLOT_HASH(slots + i * slotsize) != 0)
		i = (i + 1) & mask;
	memcpy(slots + i * slotsize, slot, slotsize);
}

static inline bool
vk_uuid_is_zero(const char *p)
{
	uint64		a,
				b;

	memcpy(&a, p, sizeof(uint64));
	memcpy(&b, p + sizeof(uint64), sizeof(uint64));
	return (a | b) == 0;
}

/* is the uuid in a single-uuid set?  h is its vk_hash_key() */
static bool
vk_uuid_contains(VkKeySet *ks, const pg_uuid_t *u, uint32 h)
{
	uint64		mask = ks->capacity - 1;
	uint64		i = h & mask;

	if (vk_uuid_is_zero((const char *) u->data))
		return ks->has_zero_uuid;
	for (;;)
	{
		const char *slot = ks->slots + i * UUID_LEN;

		if (memcmp(slot, u->data, UUID_LEN) == 0)
			return true;
		if (vk_uuid_is_zero(slot))
			return false;
		i = (i + 1) & mask;
	}
}

/* place a uuid into slots known not to hold it */
static void
vk_uuid_place(VkKeySet *ks, char *slots, uint64 capacity, const char *u)
{
	uint64		mask = capacity - 1;
	VkKey		key;
	uint64		i;

	key.values[0] = PointerGetDatum(u);
	i = vk_hash_key(ks, &key) & mask;
	while (!vk_uuid_is_zero(slots + i * UUID_LEN))
		i = (i + 1) & mask;
	memcpy(slots + i * UUID_LEN, u, UUID_LEN);
}

/*
 * Large slot arrays are aligned to 2MB and marked for transparent huge pages
 * where the kernel offers them: probes land anywhere in the array, and with
 * 4kB pages nearly every one of them would also miss the TLB.
 */
#define VK_HUGE_PAGE	((Size) 2 * 1024 * 1024)

static bool
vk_hash_alloc(VkRun *run, VkKeySet *ks, uint64 capacity)
{
	Size		nbytes = capacity * ks->slotsize;
	Size		charge = nbytes;
	bool		huge = nbytes >= 2 * VK_HUGE_PAGE;
	void	   *alloc;
	char	   *slots;
	uint64		i;

	if (huge)
		charge += VK_HUGE_PAGE;
	if (!vk_reserve(run, ks, charge))
		return false;
	alloc = MemoryContextAllocHuge(ks->cxt, charge);
	slots = huge ? (char *) TYPEALIGN(VK_HUGE_PAGE, alloc) : (char *) alloc;
#ifdef MADV_HUGEPAGE
	if (huge)
		(void) madvise(slots, TYPEALIGN_DOWN(VK_HUGE_PAGE, nbytes), MADV_HUGEPAGE);
#endif
	memset(slots, 0, nbytes);
	if (ks->slots)
	{
		for (i = 0; i < ks->capacity; i++)
		{
			char	   *old = vk_slot(ks, i);

			if (ks->is_uuid)
			{
				if (!vk_uuid_is_zero(old))
					vk_uuid_place(ks, slots, capacity, old);
			}
			else if (VK_SLOT_HASH(old) != 0)
				vk_hash_place(slots, capacity, ks->slotsize, old);
		}
		pfree(ks->slots_alloc);
		vk_release(run, ks, ks->slots_bytes);
	}
	ks->slots = slots;
	ks->slots_alloc = alloc;
	ks->slots_bytes = charge;
	ks->capacity = capacity;
	return true;
}

/* add a referenced key; false if the budget is exhausted */
static bool
vk_hash_add(VkRun *run, VkKeySet *ks, VkKey *key, uint32 h)
{
	char		slot[VK_KEYOFF + INDEX_MAX_KEYS * UUID_LEN];
	int			i;

	if ((ks->count + 1) * 10 > ks->capacity * 7 &&
		!vk_hash_alloc(run, ks, ks->capacity * 2))
		return false;
	if (vk_hash_contains_h(ks, key, h))
		return true;
	memset(slot, 0, ks->slotsize);
	memcpy(slot, &h, sizeof(uint32));
	for (i = 0; i < ks->nkeys; i++)
	{
		char	   *p = slot + VK_KEYOFF + ks->offsets[i];

		switch (ks->kinds[i])
		{
			case VK_INT:
				memcpy(p, &key->ints[i], sizeof(int64));
				break;
			case VK_UUID:
				memcpy(p, DatumGetUUIDP(key->values[i])->data, UUID_LEN);
				break;
			default:
				{
					Datum		d = key->values[i];

					if (!ks->typbyval[i])
					{
						d = datumCopy(d, false, ks->typlen[i]);
						/* the copy lives in ks->cxt: charge it */
						if (!vk_reserve(run, ks, GetMemoryChunkSpace(DatumGetPointer(d))))
							return false;
					}
					memcpy(p, &d, sizeof(Datum));
					break;
				}
		}
	}
	vk_hash_place(ks->slots, ks->capacity, ks->slotsize, slot);
	ks->count++;
	return true;
}

static bool vk_hash_alloc(VkRun *run, VkKeySet *ks, uint64 capacity);

/* add a uuid to a single-uuid set; false if the budget is exhausted */
static bool
vk_uuid_add(VkRun *run, VkKeySet *ks, const pg_uuid_t *u, uint32 h)
{
	uint64		mask;
	uint64		i;

	if (vk_uuid_is_zero((const char *) u->data))
	{
		ks->has_zero_uuid = true;
		return true;
	}
	if ((ks->count + 1) * 10 > ks->capacity * 7 &&
		!vk_hash_alloc(run, ks, ks->capacity * 2))
		return false;
	mask = ks->capacity - 1;
	i = h & mask;
	for (;;)
	{
		char	   *slot = ks->slots + i * UUID_LEN;

		if (memcmp(slot, u->data, UUID_LEN) == 0)
			return true;
		if (vk_uuid_is_zero(slot))
		{
			memcpy(slot, u->data, UUID_LEN);
			ks->count++;
			return true;
		}
		i = (i + 1) & mask;
	}
}

/* ---------------------------------------------------------------------
 * Integer set: a bitmap when the keys are dense, else a sorted array
 * ---------------------------------------------------------------------
 */

static int
vk_int64_cmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

static bool
vk_int_add(VkRun *run, VkKeySet *ks, int64 v)
{
	if (ks->nints == (int64) ks->capacity)
	{
		uint64		newcap = ks->capacity * 2;
		int64	   *newarr;

		if (!vk_reserve(run, ks, newcap * sizeof(int64)))
			return false;
		newarr = MemoryContextAllocHuge(ks->cxt, newcap * sizeof(int64));
		memcpy(newarr, ks->ints, ks->nints * sizeof(int64));
		pfree(ks->ints);
		vk_release(run, ks, ks->capacity * sizeof(int64));
		ks->ints = newarr;
		ks->capacity = newcap;
	}
	ks->ints[ks->nints++] = v;
	if (ks->nints == 1 || v < ks->minval)
		ks->minval = v;
	if (ks->nints == 1 || v > ks->maxval)
		ks->maxval = v;
	return true;
}

/* after the parent scan: a bitmap if it is no larger than the array */
static void
vk_int_finish(VkRun *run, VkKeySet *ks)
{
	uint64		span;
	Size		words;
	int64		i;

	if (ks->nints == 0)
		return;
	span = (uint64) ks->maxval - (uint64) ks->minval;
	words = span / 64 + 1;
	if (span < (uint64) ks->nints * 64 &&
		words * sizeof(uint64) <= (Size) ks->nints * sizeof(int64) &&
		vk_reserve(run, ks, words * sizeof(uint64)))
	{
		ks->bitmap = MemoryContextAllocHuge(ks->cxt, words * sizeof(uint64));
		memset(ks->bitmap, 0, words * sizeof(uint64));
		for (i = 0; i < ks->nints; i++)
		{
			uint64		off = (uint64) ks->ints[i] - (uint64) ks->minval;

			ks->bitmap[off / 64] |= UINT64CONST(1) << (off % 64);
		}
		pfree(ks->ints);
		vk_release(run, ks, ks->capacity * sizeof(int64));
		ks->ints = NULL;
	}
	else
		qsort(ks->ints, ks->nints, sizeof(int64), vk_int64_cmp);
}

static bool
vk_int_contains(VkKeySet *ks, int64 v)
{
	if (ks->nints == 0 || v < ks->minval || v > ks->maxval)
		return false;
	if (ks->bitmap)
	{
		uint64		off = (uint64) v - (uint64) ks->minval;

		return (ks->bitmap[off / 64] >> (off % 64)) & 1;
	}
	else
	{
		int64		lo = 0,
					hi = ks->nints - 1;

		while (lo <= hi)
		{
			int64		mid = lo + (hi - lo) / 2;

			if (ks->ints[mid] == v)
				return true;
			if (ks->ints[mid] < v)
				lo = mid + 1;
			else
				hi = mid - 1;
		}
		return false;
	}
}

/* ---------------------------------------------------------------------
 * Building a key set from the referenced table
 * ---------------------------------------------------------------------
 */

/* read the referenced key of a parent row; false if a column is NULL */
static bool
vk_parent_key(VkKeySet *ks, TupleTableSlot *slot, VkKey *key)
{
	int			i;

	for (i = 0; i < ks->nkeys; i++)
	{
		bool		isnull;
		Datum		d = slot_getattr(slot, ks->attnums[i], &isnull);

		if (isnull)
			return false;
		if (ks->kinds[i] == VK_INT)
			key->ints[i] = vk_int_value(ks->types[i], d);
		else if (ks->kinds[i] == VK_GENERIC && ks->typlen[i] == -1)
			d = PointerGetDatum(PG_DETOAST_DATUM_PACKED(d));
		key->values[i] = d;
	}
	return true;
}

/* insert a batch of single uuid keys whose slots were prefetched */
static bool
vk_add_uuid_batch(VkRun *run, VkKeySet *ks, VkBatch *b)
{
	int			j;

	for (j = 0; j < b->n; j++)
	{
		if (!vk_uuid_add(run, ks, &b->uuids[j], b->hashes[j]))
			return false;
	}
	b->n = 0;
	return true;
}

/* A table and, if it is partitioned, all its partitions: what a scan reads */
static List *
vk_table_and_partitions(Oid relid)
{
	if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
		return find_all_inheritors(relid, AccessShareLock, NULL);
	return list_make1_oid(relid);
}

/* scan one leaf relation into the key set; false if out of budget */
static bool
vk_build_from(VkRun *run, VkKeySet *ks, Relation rel)
{
	TableScanDesc scan;
	TupleTableSlot *slot;
	VkKey		key;
	bool		ok = true;
	uint64		n = 0;
	VkBatch    *batch = NULL;

	if (ks->is_uuid)
		batch = palloc0(sizeof(VkBatch));

	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, run->snapshot, 0, NULL);
	while (ok && table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		MemoryContext old;

		if ((++n & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
		if (batch)
		{
			bool		isnull;
			Datum		d = slot_getattr(slot, ks->attnums[0], &isnull);

			if (isnull)
				continue;
			if (vk_batch_push(batch, ks, d))
				ok = vk_add_uuid_batch(run, ks, batch);
			continue;
		}
		MemoryContextReset(run->rowcxt);
		old = MemoryContextSwitchTo(run->rowcxt);
		if (vk_parent_key(ks, slot, &key))
		{
			MemoryContextSwitchTo(ks->cxt);
			ok = ks->is_int ? vk_int_add(run, ks, key.ints[0])
				: vk_hash_add(run, ks, &key, vk_hash_key(ks, &key));
		}
		MemoryContextSwitchTo(old);
	}
	if (ok && batch)
		ok = vk_add_uuid_batch(run, ks, batch);
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	MemoryContextReset(run->rowcxt);
	if (batch)
		pfree(batch);
	return ok;
}

static void
vk_keyset_build(VkRun *run, VkKeySet *ks)
{
	List	   *rels;
	ListCell   *lc;
	bool		ok = true;
	double		estimate = 0;
	uint64		cap;

	if (!ks->hashable && !ks->is_int)
	{
		ks->state = VK_PROBE;	/* sorted, or probed */
		return;
	}

	rels = vk_table_and_partitions(ks->relid);

	foreach(lc, rels)
	{
		Relation	rel = table_open(lfirst_oid(lc), AccessShareLock);

		if (rel->rd_rel->relkind == RELKIND_RELATION && rel->rd_rel->reltuples > 0)
			estimate += rel->rd_rel->reltuples;
		table_close(rel, NoLock);
	}

	ks->cxt = AllocSetContextCreate(CurrentMemoryContext, "lane_google key set",
									ALLOCSET_DEFAULT_SIZES);
	ks->bytes = 0;
	cap = 1024;
	if (ks->is_int)
	{
		while (cap < estimate && cap < (uint64) 1 << 40)
			cap *= 2;
		if (cap * sizeof(int64) > run->budget / 2)
			cap = 1024;
		ok = vk_reserve(run, ks, cap * sizeof(int64));
		if (ok)
		{
			ks->ints = MemoryContextAllocHuge(ks->cxt, cap * sizeof(int64));
			ks->capacity = cap;
			ks->nints = 0;
		}
	}
	else
	{
		while (cap * 7 < estimate * 10 && cap < (uint64) 1 << 40)
			cap *= 2;
		if (cap * ks->slotsize > run->budget / 2)
			cap = 1024;
		ks->count = 0;
		ks->capacity = 0;
		ok = vk_hash_alloc(run, ks, cap);
	}

	foreach(lc, rels)
	{
		Relation	rel;

		if (!ok)
			break;
		rel = table_open(lfirst_oid(lc), AccessShareLock);
		if (rel->rd_rel->relkind == RELKIND_RELATION)
			ok = vk_build_from(run, ks, rel);
		table_close(rel, NoLock);
	}

	if (ok)
	{
		if (ks->is_int)
			vk_int_finish(run, ks);
		ks->state = VK_BUILT;
	}
	else
	{
		ks->state = VK_EMPTY;
		vk_keyset_free(run, ks);
		ks->state = VK_PROBE;
		ereport(DEBUG1,
				(errmsg("key set of \"%s\" exceeds lane_google.max_memory: %s instead",
						get_rel_name(ks->relid),
						ks->sortable ? "sorting and merging" : "probing its unique index")));
	}
}

/* ---------------------------------------------------------------------
 * Index probes (the fallback past the memory budget)
 * ---------------------------------------------------------------------
 */

static void
vk_probe_open(VkRun *run, VkKeySet *ks)
{
	int			i,
				j;

	if (get_rel_relkind(ks->relid) == RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("key set of partitioned table \"%s\" does not fit in lane_google.max_memory",
						get_rel_name(ks->relid)),
				 errhint("Raise lane_google.max_memory.")));

	ks->prel = table_open(ks->relid, AccessShareLock);
	ks->irel = index_open(ks->indexoid, AccessShareLock);
	if (ks->irel->rd_rel->relam != BTREE_AM_OID ||
		ks->irel->rd_index->indnkeyatts != ks->nkeys)
		elog(ERROR, "unexpected unique index \"%s\" for a foreign key",
			 RelationGetRelationName(ks->irel));
	for (i = 0; i < ks->nkeys; i++)
	{
		AttrNumber	att = ks->irel->rd_index->indkey.values[i];
		Oid			opfamily = ks->irel->rd_opfamily[i];
		Oid			opcintype = ks->irel->rd_opcintype[i];
		Oid			eqop;

		ks->keypos[i] = -1;
		for (j = 0; j < ks->nkeys; j++)
			if (ks->attnums[j] == att)
				ks->keypos[i] = j;
		if (ks->keypos[i] < 0)
			elog(ERROR, "index \"%s\" does not match the referenced columns",
				 RelationGetRelationName(ks->irel));
		eqop = get_opfamily_member(opfamily, opcintype, opcintype,
								   BTEqualStrategyNumber);
		if (!OidIsValid(eqop))
			elog(ERROR, "missing equality operator for index \"%s\"",
				 RelationGetRelationName(ks->irel));
		ks->eqproc[i] = get_opcode(eqop);
		ks->idxcoll[i] = ks->irel->rd_indcollation[i];
	}
	ks->iscan = index_beginscan(ks->prel, ks->irel, run->snapshot, ks->nkeys, 0);
	ks->pslot = table_slot_create(ks->prel, NULL);
}

static void
vk_probe_close(VkKeySet *ks)
{
	if (ks->iscan)
		index_endscan(ks->iscan);
	if (ks->pslot)
		ExecDropSingleTupleTableSlot(ks->pslot);
	if (ks->irel)
		index_close(ks->irel, NoLock);
	if (ks->prel)
		table_close(ks->prel, NoLock);
	ks->iscan = NULL;
	ks->pslot = NULL;
	ks->irel = NULL;
	ks->prel = NULL;
}

static bool
vk_probe_contains(VkKeySet *ks, VkKey *key)
{
	ScanKeyData skeys[INDEX_MAX_KEYS];
	bool		found;
	int			i;

	for (i = 0; i < ks->nkeys; i++)
	{
		int			j = ks->keypos[i];
		Datum		d;

		if (ks->kinds[j] == VK_INT)
		{
			int64		v = key->ints[j];

			switch (ks->types[j])
			{
				case INT2OID:
					if (v < PG_INT16_MIN || v > PG_INT16_MAX)
						return false;
					d = Int16GetDatum((int16) v);
					break;
				case INT4OID:
					if (v < PG_INT32_MIN || v > PG_INT32_MAX)
						return false;
					d = Int32GetDatum((int32) v);
					break;
				default:
					d = Int64GetDatum(v);
					break;
			}
		}
		else
			d = key->values[j];
		ScanKeyEntryInitialize(&skeys[i], 0, i + 1, BTEqualStrategyNumber,
							   InvalidOid, ks->idxcoll[i], ks->eqproc[i], d);
	}
	index_rescan(ks->iscan, skeys, ks->nkeys, NULL, 0);
	found = index_getnext_slot(ks->iscan, ForwardScanDirection, ks->pslot);
	ExecClearTuple(ks->pslot);
	return found;
}

/* ---------------------------------------------------------------------
 * Scanning a referencing table
 * ---------------------------------------------------------------------
 */

/* a referencing value in the referenced type */
static Datum
vk_convert(VkForeignKey *fk, int i, Datum d)
{
	switch (fk->conv[i])
	{
		case VK_CONV_FUNC:
			if (fk->convnargs[i] == 1)
				return FunctionCall1(&fk->convfn[i], d);
			return FunctionCall3(&fk->convfn[i], d, Int32GetDatum(-1),
								 BoolGetDatum(false));
		case VK_CONV_IO:
			return InputFunctionCall(&fk->parentin[i],
									 OutputFunctionCall(&fk->childout[i], d),
									 fk->parentioparam[i], -1);
		default:
			return d;
	}
}

static char *
vk_key_text(VkForeignKey *fk, Datum *vals, bool *nulls)
{
	StringInfoData buf;
	int			i;

	if (fk->nkeys == 1)
		return nulls[0] ? pstrdup("NULL") : OutputFunctionCall(&fk->childout[0], vals[0]);
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '(');
	for (i = 0; i < fk->nkeys; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		if (nulls[i])
			appendStringInfoString(&buf, "NULL");
		else
			appendStringInfoString(&buf, OutputFunctionCall(&fk->childout[i], vals[i]));
	}
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

static void
vk_record_orphan(VkRun *run, VkForeignKey *fk, Datum *vals, bool *nulls,
				 MemoryContext resultcxt)
{
	char	   *text;
	int			i;

	fk->orphans++;
	if (fk->nsamples >= run->sample_limit)
		return;
	text = vk_key_text(fk, vals, nulls);
	for (i = 0; i < fk->nsamples; i++)
	{
		if (strcmp(fk->samples[i], text) == 0)
		{
			pfree(text);
			return;
		}
	}
	fk->samples[fk->nsamples++] = MemoryContextStrdup(resultcxt, text);
	pfree(text);
}

static void
vk_check_row(VkRun *run, VkForeignKey *fk, TupleTableSlot *slot,
			 MemoryContext resultcxt)
{
	Datum		vals[INDEX_MAX_KEYS];
	bool		nulls[INDEX_MAX_KEYS];
	int			nnull = 0;
	int			i;
	VkKeySet   *ks = fk->ks;
	VkKey		key;
	bool		found;

	for (i = 0; i < fk->nkeys; i++)
	{
		vals[i] = slot_getattr(slot, fk->conkey[i], &nulls[i]);
		if (nulls[i])
			nnull++;
	}
	if (nnull > 0)
	{
		/* MATCH FULL: all or none NULL; MATCH SIMPLE: any NULL passes */
		if (fk->matchtype == FKCONSTR_MATCH_FULL && nnull < fk->nkeys)
			vk_record_orphan(run, fk, vals, nulls, resultcxt);
		return;
	}

	for (i = 0; i < fk->nkeys; i++)
	{
		/* set by the loop above: nkeys >= 1 */
		/* cppcheck-suppress uninitvar */
		Datum		d = vals[i];

		if (ks->kinds[i] == VK_INT)
		{
			if (vk_is_int_type(fk->childbase[i]))
				key.ints[i] = vk_int_value(fk->childbase[i], d);
			else
				key.ints[i] = vk_int_value(ks->types[i], vk_convert(fk, i, d));
		}
		else
		{
			if (fk->conv[i] != VK_CONV_NONE)
				d = vk_convert(fk, i, d);
			if (ks->kinds[i] == VK_GENERIC && ks->typlen[i] == -1)
				d = PointerGetDatum(PG_DETOAST_DATUM_PACKED(d));
			key.values[i] = d;
		}
	}

	if (ks->state == VK_PROBE)
		found = vk_probe_contains(ks, &key);
	else if (ks->is_int)
		found = vk_int_contains(ks, key.ints[0]);
	else if (ks->is_uuid)
		found = vk_uuid_contains(ks, DatumGetUUIDP(key.values[0]),
								 vk_hash_key(ks, &key));
	else
		found = vk_hash_contains(ks, &key);
	if (!found)
		vk_record_orphan(run, fk, vals, nulls, resultcxt);
}

/* probe a batch of single uuid keys, in scan order */
static void
vk_flush_batch(VkRun *run, VkForeignKey *fk, MemoryContext resultcxt)
{
	VkBatch    *b = fk->batch;
	VkKeySet   *ks = fk->ks;
	VkKey		key;
	int			j;

	for (j = 0; j < b->n; j++)
	{
		if (!vk_uuid_contains(ks, &b->uuids[j], b->hashes[j]))
		{
			bool		isnull = false;

			key.values[0] = UUIDPGetDatum(&b->uuids[j]);

			vk_record_orphan(run, fk, &key.values[0], &isnull, resultcxt);
		}
	}
	b->n = 0;
}

static void
vk_batch_row(VkRun *run, VkForeignKey *fk, TupleTableSlot *slot,
			 MemoryContext resultcxt)
{
	VkBatch    *b = fk->batch;
	VkKeySet   *ks = fk->ks;
	bool		isnull;
	Datum		d = slot_getattr(slot, fk->conkey[0], &isnull);

	/* a single NULL column passes under MATCH SIMPLE and MATCH FULL */
	if (isnull)
		return;
	if (vk_batch_push(b, ks, d))
		vk_flush_batch(run, fk, resultcxt);
}

/* a key value as the sort sees it */
static Datum
vk_sort_value(VkKeySet *ks, Oid valtype, Datum d)
{
	if (ks->is_int)
		return Int64GetDatum(vk_int_value(valtype, d));
	if (ks->sorttyplen == -1)
		return PointerGetDatum(PG_DETOAST_DATUM_PACKED(d));
	return d;
}

static void
vk_sort_row(VkForeignKey *fk, TupleTableSlot *slot)
{
	VkKeySet   *ks = fk->ks;
	bool		isnull;
	Datum		d = slot_getattr(slot, fk->conkey[0], &isnull);
	Oid			valtype = fk->childbase[0];

	/* a single NULL column passes under MATCH SIMPLE and MATCH FULL */
	if (isnull)
		return;
	if (!(ks->is_int && vk_is_int_type(valtype)) && fk->conv[0] != VK_CONV_NONE)
	{
		d = vk_convert(fk, 0, d);
		valtype = ks->types[0];
	}
	tuplesort_putdatum(fk->childsort, vk_sort_value(ks, valtype, d), false);
}

/* memory for one sort, in kB: a share of what the key sets leave */
static int
vk_sort_mem(VkRun *run, int nsorts)
{
	Size		avail = run->budget > run->used ? run->budget - run->used : 0;

	return (int) Max(avail / Max(nsorts, 1) / 1024, 64);
}

/*
 * The referencing values are sorted: sort the referenced ones and merge,
 * counting every referencing value that meets no equal referenced value.
 */
static void
vk_sort_merge(VkRun *run, VkForeignKey *fk, MemoryContext resultcxt)
{
	VkKeySet   *ks = fk->ks;
	Tuplesortstate *psort;
	List	   *rels;
	ListCell   *lc;
	Datum		pv = (Datum) 0,
				cv;
	bool		isnull;
	bool		have_p;

	tuplesort_performsort(fk->childsort);

	psort = tuplesort_begin_datum(ks->sorttype, ks->sortop, ks->collations[0],
								  false, vk_sort_mem(run, 2), NULL,
								  TUPLESORT_NONE);
	rels = vk_table_and_partitions(ks->relid);
	foreach(lc, rels)
	{
		Relation	rel = table_open(lfirst_oid(lc), AccessShareLock);
		TableScanDesc scan;
		TupleTableSlot *slot;
		uint64		n = 0;

		if (rel->rd_rel->relkind != RELKIND_RELATION)
		{
			table_close(rel, NoLock);
			continue;
		}
		slot = table_slot_create(rel, NULL);
		scan = table_beginscan(rel, run->snapshot, 0, NULL);
		while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
		{
			Datum		d = slot_getattr(slot, ks->attnums[0], &isnull);
			MemoryContext old;

			if ((++n & 4095) == 0)
				CHECK_FOR_INTERRUPTS();
			if (isnull)
				continue;
			MemoryContextReset(run->rowcxt);
			old = MemoryContextSwitchTo(run->rowcxt);
			tuplesort_putdatum(psort, vk_sort_value(ks, ks->types[0], d), false);
			MemoryContextSwitchTo(old);
		}
		table_endscan(scan);
		ExecDropSingleTupleTableSlot(slot);
		table_close(rel, NoLock);
	}
	tuplesort_performsort(psort);

	have_p = tuplesort_getdatum(psort, true, &pv, &isnull, NULL);
	while (tuplesort_getdatum(fk->childsort, true, &cv, &isnull, NULL))
	{
		int32		c = -1;

		while (have_p &&
			   (c = DatumGetInt32(FunctionCall2Coll(&ks->sortcmp, ks->collations[0],
													pv, cv))) < 0)
		{
			if (!ks->sorttypbyval)
				pfree(DatumGetPointer(pv));
			have_p = tuplesort_getdatum(psort, true, &pv, &isnull, NULL);
		}
		if (!have_p || c != 0)
		{
			fk->orphans++;
			if (fk->nsamples < run->sample_limit)
			{
				char	   *text = OutputFunctionCall(&ks->sortout, cv);
				int			i;
				bool		seen = false;

				for (i = 0; i < fk->nsamples && !seen; i++)
					seen = strcmp(fk->samples[i], text) == 0;
				if (!seen)
					fk->samples[fk->nsamples++] = MemoryContextStrdup(resultcxt, text);
				pfree(text);
			}
		}
		if (!ks->sorttypbyval)
			pfree(DatumGetPointer(cv));
		CHECK_FOR_INTERRUPTS();
	}
	tuplesort_end(psort);
	tuplesort_end(fk->childsort);
	fk->childsort = NULL;
}

static void
vk_scan_child(VkRun *run, VkChild *child, MemoryContext resultcxt)
{
	Relation	rel;
	TableScanDesc scan;
	TupleTableSlot *slot;
	ListCell   *lc;
	AttrNumber	maxatt = 0;
	uint64		n = 0;
	int			nfks = list_length(child->fks);
	VkForeignKey **fks = palloc(sizeof(VkForeignKey *) * nfks);
	int			k = 0;
	int			nsorts = 0;
	bool		allbatched = true;

	foreach(lc, child->fks)
	{
		VkForeignKey *fk = (VkForeignKey *) lfirst(lc);
		int			i;

		fks[k++] = fk;
		for (i = 0; i < fk->nkeys; i++)
			maxatt = Max(maxatt, fk->conkey[i]);
		fk->batch = NULL;
		fk->childsort = NULL;
		if (fk->ks->state == VK_PROBE && fk->ks->sortable)
			nsorts++;
		if (fk->nkeys == 1 && fk->ks->state == VK_BUILT && fk->ks->is_uuid &&
			fk->childbase[0] == UUIDOID &&
			fk->conv[0] == VK_CONV_NONE)
			fk->batch = palloc0(sizeof(VkBatch));
		else
			allbatched = false;
	}

	for (k = 0; k < nfks; k++)
	{
		VkKeySet   *ks = fks[k]->ks;

		if (ks->state == VK_PROBE && ks->sortable)
			fks[k]->childsort = tuplesort_begin_datum(ks->sorttype, ks->sortop,
													  ks->collations[0], false,
													  vk_sort_mem(run, nsorts),
													  NULL, TUPLESORT_NONE);
	}

	rel = table_open(child->relid, AccessShareLock);
	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, run->snapshot, 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		MemoryContext old;

		if ((++n & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
		slot_getsomeattrs(slot, maxatt);
		if (!allbatched)
			MemoryContextReset(run->rowcxt);
		old = MemoryContextSwitchTo(run->rowcxt);
		for (k = 0; k < nfks; k++)
		{
			if (fks[k]->batch)
				vk_batch_row(run, fks[k], slot, resultcxt);
			else if (fks[k]->childsort)
				vk_sort_row(fks[k], slot);
			else
				vk_check_row(run, fks[k], slot, resultcxt);
		}
		MemoryContextSwitchTo(old);
	}
	for (k = 0; k < nfks; k++)
	{
		if (fks[k]->batch)
		{
			vk_flush_batch(run, fks[k], resultcxt);
			pfree(fks[k]->batch);
			fks[k]->batch = NULL;
		}
	}
	for (k = 0; k < nfks; k++)
	{
		if (fks[k]->childsort)
			vk_sort_merge(run, fks[k], resultcxt);
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, NoLock);
	MemoryContextReset(run->rowcxt);
	pfree(fks);
}

/* ---------------------------------------------------------------------
 * Reading the catalog
 * ---------------------------------------------------------------------
 */

static VkKeySet *
vk_keyset_for(VkRun *run, VkForeignKey *fk)
{
	ListCell   *lc;
	VkKeySet   *ks;
	int			i;
	Relation	prel;

	foreach(lc, run->keysets)
	{
		ks = (VkKeySet *) lfirst(lc);
		if (ks->relid == fk->confrelid && ks->nkeys == fk->nkeys &&
			memcmp(ks->attnums, fk->confkey, sizeof(AttrNumber) * fk->nkeys) == 0)
			return ks;
	}

	ks = palloc0(sizeof(VkKeySet));
	ks->relid = fk->confrelid;
	ks->nkeys = fk->nkeys;
	ks->indexoid = fk->conindid;
	ks->hashable = true;
	ks->state = VK_EMPTY;
	prel = table_open(fk->confrelid, NoLock);
	for (i = 0; i < fk->nkeys; i++)
	{
		Form_pg_attribute att = TupleDescAttr(RelationGetDescr(prel),
											  fk->confkey[i] - 1);
		Oid			base = getBaseType(att->atttypid);

		ks->attnums[i] = fk->confkey[i];
		ks->types[i] = base;
		ks->collations[i] = att->attcollation;
		get_typlenbyval(base, &ks->typlen[i], &ks->typbyval[i]);
		ks->offsets[i] = ks->width;
		if (vk_is_int_type(base))
		{
			ks->kinds[i] = VK_INT;
			ks->width += sizeof(int64);
		}
		else if (base == UUIDOID)
		{
			ks->kinds[i] = VK_UUID;
			ks->width += UUID_LEN;
		}
		else
		{
			TypeCacheEntry *tc = lookup_type_cache(base,
												   TYPECACHE_HASH_PROC_FINFO |
												   TYPECACHE_EQ_OPR_FINFO);

			ks->kinds[i] = VK_GENERIC;
			ks->width += sizeof(Datum);
			if (!OidIsValid(tc->hash_proc) || !OidIsValid(tc->eq_opr))
				ks->hashable = false;
			else
			{
				fmgr_info(tc->hash_proc, &ks->hashfn[i]);
				fmgr_info(tc->eq_opr_finfo.fn_oid, &ks->eqfn[i]);
			}
		}
	}
	ks->is_int = (ks->nkeys == 1 && ks->kinds[0] == VK_INT);
	ks->is_uuid = (ks->nkeys == 1 && ks->kinds[0] == VK_UUID);
	ks->slotsize = ks->is_uuid ? UUID_LEN : MAXALIGN(VK_KEYOFF + ks->width);
	if (ks->nkeys == 1)
	{
		TypeCacheEntry *tc;
		Oid			outfn;
		bool		isvarlena;

		ks->sorttype = ks->is_int ? INT8OID : ks->types[0];
		tc = lookup_type_cache(ks->sorttype,
							   TYPECACHE_LT_OPR | TYPECACHE_CMP_PROC_FINFO);
		if (OidIsValid(tc->lt_opr) && OidIsValid(tc->cmp_proc))
		{
			ks->sortable = true;
			ks->sortop = tc->lt_opr;
			fmgr_info(tc->cmp_proc, &ks->sortcmp);
			getTypeOutputInfo(ks->sorttype, &outfn, &isvarlena);
			fmgr_info(outfn, &ks->sortout);
			get_typlenbyval(ks->sorttype, &ks->sorttyplen, &ks->sorttypbyval);
		}
	}
	table_close(prel, NoLock);
	run->keysets = lappend(run->keysets, ks);
	return ks;
}

/* how a referencing column's values reach the referenced representation */
static void
vk_setup_conversion(VkForeignKey *fk, int i)
{
	VkKeySet   *ks = fk->ks;
	Oid			child = fk->childbase[i];
	Oid			parent = ks->types[i];
	Oid			outfn;
	bool		isvarlena;

	getTypeOutputInfo(fk->childtypes[i], &outfn, &isvarlena);
	fmgr_info(outfn, &fk->childout[i]);
	fk->conv[i] = VK_CONV_NONE;

	if ((ks->kinds[i] == VK_INT && vk_is_int_type(child)) ||
		child == parent || IsBinaryCoercible(child, parent))
		return;

	{
		Oid			funcid = InvalidOid;
		CoercionPathType path = find_coercion_pathway(parent, child,
													  COERCION_IMPLICIT,
													  &funcid);

		if (path == COERCION_PATH_RELABELTYPE)
			return;
		if (path == COERCION_PATH_FUNC && OidIsValid(funcid))
		{
			fk->conv[i] = VK_CONV_FUNC;
			fmgr_info(funcid, &fk->convfn[i]);
			fk->convnargs[i] = get_func_nargs(funcid);
		}
		else
		{
			Oid			infn;

			fk->conv[i] = VK_CONV_IO;
			getTypeInputInfo(parent, &infn, &fk->parentioparam[i]);
			fmgr_info(infn, &fk->parentin[i]);
		}
	}
}

/* does an index of the referencing table lead with the key columns? */
static bool
vk_has_leading_index(Relation rel, VkForeignKey *fk)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	bool		result = false;

	foreach(lc, indexes)
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index idx;
		int			i,
					j;
		bool		match = true;

		if (!HeapTupleIsValid(tup))
			continue;
		idx = (Form_pg_index) GETSTRUCT(tup);
		if (!idx->indisvalid || idx->indnkeyatts < fk->nkeys ||
			!heap_attisnull(tup, Anum_pg_index_indpred, NULL))
			match = false;
		for (i = 0; match && i < fk->nkeys; i++)
		{
			bool		found = false;

			for (j = 0; j < fk->nkeys; j++)
				if (idx->indkey.values[i] == fk->conkey[j])
					found = true;
			match = found;
		}
		ReleaseSysCache(tup);
		if (match)
		{
			result = true;
			break;
		}
	}
	list_free(indexes);
	return result;
}

/* permission to read the key columns of a table, or an error */
static void
vk_check_select(Oid relid, AttrNumber *attnums, int natts)
{
	Oid			userid = GetUserId();
	int			i;

	if (pg_class_aclcheck(relid, userid, ACL_SELECT) != ACLCHECK_OK)
	{
		for (i = 0; i < natts; i++)
			if (pg_attribute_aclcheck(relid, attnums[i], userid, ACL_SELECT) != ACLCHECK_OK)
				aclcheck_error(ACLCHECK_NO_PRIV,
							   get_relkind_objtype(get_rel_relkind(relid)),
							   get_rel_name(relid));
	}
	if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("row-level security is enabled for table \"%s\"",
						get_rel_name(relid)),
				 errdetail("validate_fk_integrity must read every row of the tables it checks."),
				 errhint("Run it as the table owner or a role with BYPASSRLS.")));
}

/* every foreign key declared on a table of the schema */
static List *
vk_read_foreign_keys(Oid nspoid)
{
	Relation	conrel;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *result = NIL;

	conrel = table_open(ConstraintRelationId, AccessShareLock);
	scan = systable_beginscan(conrel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);
		VkForeignKey *fk;
		char		relkind;
		Oid			pf_eq_oprs[INDEX_MAX_KEYS];
		Oid			pp_eq_oprs[INDEX_MAX_KEYS];
		Oid			ff_eq_oprs[INDEX_MAX_KEYS];
		int			ndelset;
		AttrNumber	delset[INDEX_MAX_KEYS];

		if (con->contype != CONSTRAINT_FOREIGN || con->connamespace != nspoid)
			continue;
		relkind = get_rel_relkind(con->conrelid);
		/* partitioned tables are checked through their partitions */
		if (relkind != RELKIND_RELATION)
			continue;
		/* clones made for the partitions of a referenced table: skip */
		if (OidIsValid(con->conparentid))
		{
			HeapTuple	ptup = SearchSysCache1(CONSTROID,
											   ObjectIdGetDatum(con->conparentid));
			bool		clone = false;

			if (HeapTupleIsValid(ptup))
			{
				clone = ((Form_pg_constraint) GETSTRUCT(ptup))->confrelid != con->confrelid;
				ReleaseSysCache(ptup);
			}
			if (clone)
				continue;
		}

		fk = palloc0(sizeof(VkForeignKey));
		fk->conoid = con->oid;
		fk->conname = pstrdup(NameStr(con->conname));
		fk->relid = con->conrelid;
		fk->confrelid = con->confrelid;
		fk->conindid = con->conindid;
		fk->matchtype = con->confmatchtype;
		fk->validated = con->convalidated;
		DeconstructFkConstraintRow(tup, &fk->nkeys, fk->conkey, fk->confkey,
								   pf_eq_oprs, pp_eq_oprs, ff_eq_oprs,
								   &ndelset, delset);
		result = lappend(result, fk);
	}
	systable_endscan(scan);
	table_close(conrel, AccessShareLock);
	return result;
}

/* ---------------------------------------------------------------------
 * Results
 * ---------------------------------------------------------------------
 */

static ArrayType *
vk_text_array(char **items, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
		d[i] = CStringGetTextDatum(items[i]);
	return construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT);
}

static VkProblem *
vk_problem(VkForeignKey *fk, const char *problem)
{
	VkProblem  *p = palloc0(sizeof(VkProblem));

	p->nspname = get_namespace_name(get_rel_namespace(fk->relid));
	p->relname = get_rel_name(fk->relid);
	p->conname = fk->conname;
	p->problem = problem;
	p->values[0] = CStringGetDatum(fk->conname);
	p->values[1] = ObjectIdGetDatum(fk->relid);
	p->values[2] = PointerGetDatum(vk_text_array(fk->colnames, fk->nkeys));
	p->values[3] = ObjectIdGetDatum(fk->confrelid);
	p->values[4] = CStringGetTextDatum(problem);
	p->nulls[5] = true;
	p->nulls[6] = true;
	return p;
}

static int
vk_problem_cmp(const ListCell *a, const ListCell *b)
{
	VkProblem  *x = (VkProblem *) lfirst(a);
	VkProblem  *y = (VkProblem *) lfirst(b);
	int			c;

	if ((c = strcmp(x->nspname, y->nspname)) != 0)
		return c;
	if ((c = strcmp(x->relname, y->relname)) != 0)
		return c;
	if ((c = strcmp(x->conname, y->conname)) != 0)
		return c;
	return strcmp(x->problem, y->problem);
}

static int
vk_child_cmp(const ListCell *a, const ListCell *b)
{
	VkChild    *x = (VkChild *) lfirst(a);
	VkChild    *y = (VkChild *) lfirst(b);

	return (x->relid > y->relid) - (x->relid < y->relid);
}

/* ---------------------------------------------------------------------
 * The SQL function
 * ---------------------------------------------------------------------
 */

Datum
lg_validate_fk_integrity(PG_FUNCTION_ARGS)
{
	Name		schema = PG_GETARG_NAME(0);
	int32		sample_limit = PG_GETARG_INT32(1);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			nspoid;
	List	   *fks;
	List	   *children = NIL;
	List	   *problems = NIL;
	ListCell   *lc;
	VkRun		run;
	MemoryContext workcxt;
	MemoryContext oldcxt;

	/* the released update scripts' pre-flight: dependents first (dependents.c) */
	lg_dependents_update_hook();

	if (sample_limit < 0 || sample_limit > VK_MAX_SAMPLE_LIMIT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sample_limit must be between 0 and %d", VK_MAX_SAMPLE_LIMIT)));

	nspoid = get_namespace_oid(NameStr(*schema), true);
	if (!OidIsValid(nspoid))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_SCHEMA_NAME),
				 errmsg("schema \"%s\" does not exist", NameStr(*schema))));

	InitMaterializedSRF(fcinfo, 0);

	workcxt = AllocSetContextCreate(CurrentMemoryContext,
									"validate_fk_integrity",
									ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(workcxt);

	memset(&run, 0, sizeof(run));
	run.budget = lg_memory_budget();
	run.sample_limit = sample_limit;
	run.rowcxt = AllocSetContextCreate(workcxt, "validate_fk_integrity row",
									   ALLOCSET_DEFAULT_SIZES);

	fks = vk_read_foreign_keys(nspoid);

	/* permissions first, before a single row is read */
	foreach(lc, fks)
	{
		VkForeignKey *fk = (VkForeignKey *) lfirst(lc);

		vk_check_select(fk->relid, fk->conkey, fk->nkeys);
		vk_check_select(fk->confrelid, fk->confkey, fk->nkeys);
	}

	/* lock as a SELECT does, then take the one snapshot every scan uses */
	foreach(lc, fks)
	{
		VkForeignKey *fk = (VkForeignKey *) lfirst(lc);

		LockRelationOid(fk->relid, AccessShareLock);
		LockRelationOid(fk->confrelid, AccessShareLock);
		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(fk->relid)) ||
			!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(fk->confrelid)))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("a table of constraint \"%s\" was dropped concurrently",
							fk->conname)));
	}
	run.snapshot = RegisterSnapshot(GetTransactionSnapshot());

	/* catalog checks; group the foreign keys by referencing table */
	foreach(lc, fks)
	{
		VkForeignKey *fk = (VkForeignKey *) lfirst(lc);
		Relation	rel = table_open(fk->relid, NoLock);
		Relation	prel = table_open(fk->confrelid, NoLock);
		VkChild    *child = NULL;
		ListCell   *lc2;
		int			i;

		fk->ks = vk_keyset_for(&run, fk);
		fk->samples = palloc(sizeof(char *) * Max(sample_limit, 1));
		for (i = 0; i < fk->nkeys; i++)
		{
			Form_pg_attribute catt = TupleDescAttr(RelationGetDescr(rel),
												   fk->conkey[i] - 1);
			Form_pg_attribute patt = TupleDescAttr(RelationGetDescr(prel),
												   fk->confkey[i] - 1);

			fk->colnames[i] = pstrdup(NameStr(catt->attname));
			fk->childtypes[i] = catt->atttypid;
			fk->childbase[i] = getBaseType(catt->atttypid);
			vk_setup_conversion(fk, i);
			if (catt->atttypid != patt->atttypid ||
				catt->atttypmod != patt->atttypmod)
				fk->mismatches =
					lappend(fk->mismatches,
							psprintf("%s %s -> %s %s",
									 NameStr(catt->attname),
									 format_type_with_typemod(catt->atttypid, catt->atttypmod),
									 NameStr(patt->attname),
									 format_type_with_typemod(patt->atttypid, patt->atttypmod)));
		}
		fk->has_index = vk_has_leading_index(rel, fk);
		table_close(prel, NoLock);
		table_close(rel, NoLock);

		foreach(lc2, children)
		{
			if (((VkChild *) lfirst(lc2))->relid == fk->relid)
				child = (VkChild *) lfirst(lc2);
		}
		if (child == NULL)
		{
			child = palloc0(sizeof(VkChild));
			child->relid = fk->relid;
			children = lappend(children, child);
		}
		child->fks = lappend(child->fks, fk);
		fk->ks->remaining++;
	}
	list_sort(children, vk_child_cmp);

	/* one scan per referencing table, checking all of its foreign keys */
	foreach(lc, children)
	{
		VkChild    *child = (VkChild *) lfirst(lc);
		ListCell   *lc2;

		foreach(lc2, child->fks)
			((VkForeignKey *) lfirst(lc2))->ks->pinned = true;
		foreach(lc2, child->fks)
		{
			VkKeySet   *ks = ((VkForeignKey *) lfirst(lc2))->ks;

			if (ks->state == VK_EMPTY)
			{
				instr_time	start,
							duration;

				INSTR_TIME_SET_CURRENT(start);
				vk_keyset_build(&run, ks);
				INSTR_TIME_SET_CURRENT(duration);
				INSTR_TIME_SUBTRACT(duration, start);
				ereport(DEBUG2,
						(errmsg("validate_fk_integrity: key set of \"%s\" built in %.3f s",
								get_rel_name(ks->relid),
								INSTR_TIME_GET_DOUBLE(duration))));
			}
			if (ks->state == VK_PROBE && !ks->sortable && ks->iscan == NULL)
				vk_probe_open(&run, ks);
		}

		{
			instr_time	start,
						duration;

			INSTR_TIME_SET_CURRENT(start);
			vk_scan_child(&run, child, workcxt);
			INSTR_TIME_SET_CURRENT(duration);
			INSTR_TIME_SUBTRACT(duration, start);
			ereport(DEBUG2,
					(errmsg("validate_fk_integrity: \"%s\" checked in %.3f s",
							get_rel_name(child->relid),
							INSTR_TIME_GET_DOUBLE(duration))));
		}

		foreach(lc2, child->fks)
		{
			VkKeySet   *ks = ((VkForeignKey *) lfirst(lc2))->ks;

			ks->pinned = false;
			if (--ks->remaining == 0)
			{
				vk_probe_close(ks);
				vk_keyset_free(&run, ks);
			}
		}
	}
	foreach(lc, run.keysets)
	{
		VkKeySet   *ks = (VkKeySet *) lfirst(lc);

		vk_probe_close(ks);
		vk_keyset_free(&run, ks);
	}
	UnregisterSnapshot(run.snapshot);

	ereport(DEBUG2,
			(errmsg("validate_fk_integrity: %d foreign keys, key sets peaked at %zu kB of %zu kB",
					list_length(fks), run.peak / 1024, run.budget / 1024)));

	/* the rows, in a stable order */
	foreach(lc, fks)
	{
		VkForeignKey *fk = (VkForeignKey *) lfirst(lc);
		VkProblem  *p;

		if (fk->orphans > 0)
		{
			p = vk_problem(fk, "orphan_rows");
			p->values[5] = Int64GetDatum(fk->orphans);
			p->values[6] = PointerGetDatum(vk_text_array(fk->samples, fk->nsamples));
			p->nulls[5] = p->nulls[6] = false;
			problems = lappend(problems, p);
		}
		if (!fk->validated)
		{
			p = vk_problem(fk, "not_validated");
			p->values[5] = Int64GetDatum(fk->orphans);
			p->values[6] = PointerGetDatum(vk_text_array(fk->samples, fk->nsamples));
			p->nulls[5] = p->nulls[6] = false;
			problems = lappend(problems, p);
		}
		if (fk->mismatches != NIL)
		{
			char	  **items = palloc(sizeof(char *) * list_length(fk->mismatches));
			int			i = 0;
			ListCell   *lc2;

			foreach(lc2, fk->mismatches)
				items[i++] = (char *) lfirst(lc2);
			p = vk_problem(fk, "type_mismatch");
			p->values[6] = PointerGetDatum(vk_text_array(items, i));
			p->nulls[6] = false;
			problems = lappend(problems, p);
		}
		if (!fk->has_index)
		{
			StringInfoData buf;
			char	   *item;
			int			i;

			initStringInfo(&buf);
			appendStringInfo(&buf, "CREATE INDEX ON %s (",
							 quote_qualified_identifier(get_namespace_name(get_rel_namespace(fk->relid)),
														get_rel_name(fk->relid)));
			for (i = 0; i < fk->nkeys; i++)
				appendStringInfo(&buf, "%s%s", i ? ", " : "",
								 quote_identifier(fk->colnames[i]));
			appendStringInfoChar(&buf, ')');
			item = buf.data;
			p = vk_problem(fk, "missing_index");
			p->values[6] = PointerGetDatum(vk_text_array(&item, 1));
			p->nulls[6] = false;
			problems = lappend(problems, p);
		}
	}
	list_sort(problems, vk_problem_cmp);

	foreach(lc, problems)
	{
		VkProblem  *p = (VkProblem *) lfirst(lc);
		NameData	conname;

		namestrcpy(&conname, p->conname);
		p->values[0] = NameGetDatum(&conname);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
							 p->values, p->nulls);
	}

	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(workcxt);
	return (Datum) 0;
}
