/*-------------------------------------------------------------------------
 *
 * keyset.c
 *	  Key sets: the set of a parent table's keys, within
 *	  lane_google.max_memory, with a way out when it does not fit.  The one
 *	  implementation behind the conversion's foreign-key checks (convert/)
 *	  and validate_fk_integrity() (validate.c); see keyset.h for the API.
 *
 * Forms:
 *	one integer column	an int64 array while filling; then a bitmap when
 *						the keys are dense enough that it is no larger, else
 *						the array sorted (binary search)
 *	one uuid column		an open-addressing hash set of the bare 16 bytes,
 *						filled and probed in prefetched batches where the
 *						user can batch
 *	anything else		an open-addressing hash set of (hash, key) slots,
 *						hashed with each type's default hash opclass, which
 *						agrees with its btree equality
 * Large slot arrays are aligned to 2 MB and offered to transparent huge pages.
 *
 * The budget: every set of a run charges one LgKeyBudget
 * (lane_google.max_memory), growth included (a doubled array is charged
 * before the old one is released).  The fallback policy, one for every user:
 *	1. a set that needs more room first evicts built sets that no user has
 *	   pinned (they are built again if needed again);
 *	2. if that is not enough, the set is "over": its memory is released, a
 *	   message says so (at the level its user chose), and its users fall
 *	   back, without running out of memory and without a different answer:
 *	   LG_FALLBACK_SORT (a one-column key, for a user that can wait for the
 *	   end of its scan): the user's values and the table's keys are sorted
 *	   by tuplesort, which spills to disk, and merged;
 *	   LG_FALLBACK_PROBE (everything else): one probe of the table's unique
 *	   index per key.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/mman.h>

#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/tuplesort.h"
#include "utils/typcache.h"

#include "lane_google.h"
#include "keyset.h"

#define LG_KEY_SLOT_KEYOFF	8	/* a slot's key, after its hash */
#define SLOT_HASH(slot)		(*(const uint32 *) (slot))

/* Large slot arrays: aligned to and marked for 2 MB pages */
#define HUGE_PAGE	((Size) 2 * 1024 * 1024)

#if defined(__GNUC__) || defined(__clang__)
#define ks_prefetch(p) __builtin_prefetch(p)
#else
#define ks_prefetch(p) ((void) 0)
#endif

struct LgKeySort
{
	LgKeySet   *ks;
	Tuplesortstate *values;		/* the user's values */
};

static void ks_over(LgKeySet *ks);

int			lg_max_memory_kb = 65536;

/* lane_google.max_memory: the budget of every key set (see LgKeyBudget) */
void
lg_keyset_init(void)
{
	DefineCustomIntVariable("lane_google.max_memory",
							"Memory a conversion or validation may use for key sets.",
							"Past it, key sets fall back to index probes of the parent table.",
							&lg_max_memory_kb,
							65536,
							1024,
							MAX_KILOBYTES,
							PGC_USERSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);
}

/* lane_google.max_memory in bytes */
Size
lg_memory_budget(void)
{
	return (Size) lg_max_memory_kb * 1024;
}

/* ---------------------------------------------------------------------
 * Key columns
 * ---------------------------------------------------------------------
 */

bool
lg_key_is_int_type(Oid typid)
{
	return typid == INT2OID || typid == INT4OID || typid == INT8OID;
}

int64
lg_key_int_value(Oid typid, Datum d)
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

static inline uint32
mix64(uint64 h)
{
	h ^= h >> 33;
	h *= UINT64CONST(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64CONST(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return (uint32) h;
}

/* the hash of a uuid column; never 0 */
static inline uint32
uuid_hash(const unsigned char *u)
{
	uint64		a,
				b;
	uint32		h;

	memcpy(&a, u, sizeof(uint64));
	memcpy(&b, u + sizeof(uint64), sizeof(uint64));
	h = mix64(a ^ (b * UINT64CONST(0x9e3779b97f4a7c15)));
	return h ? h : 1;
}

static inline bool
uuid_is_zero(const char *p)
{
	uint64		a,
				b;

	memcpy(&a, p, sizeof(uint64));
	memcpy(&b, p + sizeof(uint64), sizeof(uint64));
	return (a | b) == 0;
}

static uint32
key_hash(LgKeySet *ks, LgKey *key)
{
	uint32		h = 0;
	int			i;

	for (i = 0; i < ks->nkeys; i++)
	{
		uint32		hc;

		switch (ks->kinds[i])
		{
			case LG_KEY_INT:
				hc = mix64((uint64) key->ints[i]);
				break;
			case LG_KEY_UUID:
				hc = uuid_hash(DatumGetUUIDP(key->values[i])->data);
				break;
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

/* ---------------------------------------------------------------------
 * The budget
 * ---------------------------------------------------------------------
 */

void
lg_keybudget_init(LgKeyBudget *budget)
{
	memset(budget, 0, sizeof(LgKeyBudget));
	budget->limit = lg_memory_budget();
}

/* memory for one of nsorts sorts, in kB: a share of what the sets leave */
int
lg_keybudget_sort_kb(LgKeyBudget *budget, int nsorts)
{
	Size		avail = budget->limit > budget->used ? budget->limit - budget->used : 0;

	return (int) Max(avail / Max(nsorts, 1) / 1024, 64);
}

/* release a set's memory; its state is the caller's */
static void
ks_release_all(LgKeySet *ks)
{
	if (ks->cxt)
		MemoryContextDelete(ks->cxt);
	ks->cxt = NULL;
	ks->budget->used -= ks->bytes;
	ks->bytes = 0;
	ks->ints = NULL;
	ks->bitmap = NULL;
	ks->slots = NULL;
	ks->slots_alloc = NULL;
	ks->slots_bytes = 0;
	ks->nints = ks->count = ks->capacity = 0;
	ks->has_zero_uuid = false;
}

/*
 * Make room for nbytes more, evicting built sets no user has pinned; false
 * if it cannot fit.
 */
static bool
ks_reserve(LgKeySet *ks, Size nbytes)
{
	LgKeyBudget *budget = ks->budget;
	ListCell   *lc;

	if (budget->used + nbytes > budget->limit)
	{
		foreach(lc, budget->sets)
		{
			LgKeySet   *other = (LgKeySet *) lfirst(lc);

			if (other != ks && !other->pinned && other->state == LG_KEYS_BUILT)
			{
				lg_keyset_free(other);
				if (budget->used + nbytes <= budget->limit)
					break;
			}
		}
	}
	if (budget->used + nbytes > budget->limit)
		return false;
	budget->used += nbytes;
	ks->bytes += nbytes;
	budget->peak = Max(budget->peak, budget->used);
	return true;
}

static void
ks_release(LgKeySet *ks, Size nbytes)
{
	Assert(ks->bytes >= nbytes && ks->budget->used >= nbytes);
	ks->bytes -= nbytes;
	ks->budget->used -= nbytes;
}

/* the set does not fit: release it, say so, and let its users fall back */
static void
ks_over(LgKeySet *ks)
{
	ks_release_all(ks);
	ks->state = LG_KEYS_OVER;
	ereport(ks->over_elevel,
			(errmsg("key set of \"%s\" exceeds lane_google.max_memory (%d kB): %s instead",
					ks->name, lg_max_memory_kb,
					ks->fallback == LG_FALLBACK_SORT ? "sorting and merging" :
					"probing its unique index")));
}

/* ---------------------------------------------------------------------
 * Creating a set
 * ---------------------------------------------------------------------
 */

/*
 * Describe the keys of table relid (named name in messages): nkeys columns,
 * their attnums and base types, collations (NULL: none), the unique index
 * on them (InvalidOid: the primary key).  can_sort: the users can take
 * LG_FALLBACK_SORT.  In CurrentMemoryContext, for the whole run; the set
 * starts empty, its "over" message at DEBUG1.
 */
LgKeySet *
lg_keyset_create(LgKeyBudget *budget, Oid relid, const char *name, int nkeys,
				 const AttrNumber *attnums, const Oid *types,
				 const Oid *collations, Oid indexoid, bool can_sort)
{
	LgKeySet   *ks = palloc0(sizeof(LgKeySet));
	int			i;

	Assert(nkeys >= 1 && nkeys <= INDEX_MAX_KEYS);
	ks->budget = budget;
	ks->home = CurrentMemoryContext;
	ks->relid = relid;
	ks->name = pstrdup(name);
	ks->indexoid = indexoid;
	ks->nkeys = nkeys;
	ks->hashable = true;
	ks->state = LG_KEYS_EMPTY;
	ks->over_elevel = DEBUG1;
	for (i = 0; i < nkeys; i++)
	{
		Oid			base = types[i];

		ks->attnums[i] = attnums[i];
		ks->types[i] = base;
		ks->collations[i] = collations ? collations[i] : InvalidOid;
		get_typlenbyval(base, &ks->typlen[i], &ks->typbyval[i]);
		ks->offsets[i] = ks->width;
		if (lg_key_is_int_type(base))
		{
			ks->kinds[i] = LG_KEY_INT;
			ks->width += sizeof(int64);
		}
		else if (base == UUIDOID)
		{
			ks->kinds[i] = LG_KEY_UUID;
			ks->width += UUID_LEN;
		}
		else
		{
			TypeCacheEntry *tc = lookup_type_cache(base,
												   TYPECACHE_HASH_PROC_FINFO |
												   TYPECACHE_EQ_OPR_FINFO);

			ks->kinds[i] = LG_KEY_GENERIC;
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
	ks->is_int = (nkeys == 1 && ks->kinds[0] == LG_KEY_INT);
	ks->is_uuid = (nkeys == 1 && ks->kinds[0] == LG_KEY_UUID);
	ks->slotsize = ks->is_uuid ? UUID_LEN : MAXALIGN(LG_KEY_SLOT_KEYOFF + ks->width);

	if (nkeys == 1)
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
	ks->fallback = (can_sort && ks->sortable) ? LG_FALLBACK_SORT : LG_FALLBACK_PROBE;
	budget->sets = lappend(budget->sets, ks);
	return ks;
}

/* ---------------------------------------------------------------------
 * Hash sets
 * ---------------------------------------------------------------------
 */

static inline char *
ks_slot(LgKeySet *ks, uint64 i)
{
	return ks->slots + i * ks->slotsize;
}

static bool
slot_equal(LgKeySet *ks, const char *slot, LgKey *key)
{
	int			i;

	for (i = 0; i < ks->nkeys; i++)
	{
		const char *p = slot + ks->offsets[i];

		switch (ks->kinds[i])
		{
			case LG_KEY_INT:
				{
					int64		v;

					memcpy(&v, p, sizeof(int64));
					if (v != key->ints[i])
						return false;
					break;
				}
			case LG_KEY_UUID:
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

/* is the key in the (multi-column or generic) set?  h is key_hash() */
static bool
hash_contains(LgKeySet *ks, LgKey *key, uint32 h)
{
	uint64		mask = ks->capacity - 1;
	uint64		i = h & mask;

	for (;;)
	{
		const char *slot = ks_slot(ks, i);
		uint32		sh = SLOT_HASH(slot);

		if (sh == 0)
			return false;
		if (sh == h && slot_equal(ks, slot + LG_KEY_SLOT_KEYOFF, key))
			return true;
		i = (i + 1) & mask;
	}
}

/* place a filled slot into slots known not to hold its key */
static void
hash_place(char *slots, uint64 capacity, int slotsize, const char *slot)
{
	uint64		mask = capacity - 1;
	uint64		i = SLOT_HASH(slot) & mask;

	while (SLOT_HASH(slots + i * slotsize) != 0)
		i = (i + 1) & mask;
	memcpy(slots + i * slotsize, slot, slotsize);
}

/* is the uuid in a one-uuid set?  h is its uuid_hash() */
static bool
uuid_contains(LgKeySet *ks, const pg_uuid_t *u, uint32 h)
{
	uint64		mask = ks->capacity - 1;
	uint64		i = h & mask;

	if (uuid_is_zero((const char *) u->data))
		return ks->has_zero_uuid;
	for (;;)
	{
		const char *slot = ks->slots + i * UUID_LEN;

		if (memcmp(slot, u->data, UUID_LEN) == 0)
			return true;
		if (uuid_is_zero(slot))
			return false;
		i = (i + 1) & mask;
	}
}

/* place a uuid into slots known not to hold it */
static void
uuid_place(char *slots, uint64 capacity, const char *u)
{
	uint64		mask = capacity - 1;
	uint64		i = uuid_hash((const unsigned char *) u) & mask;

	while (!uuid_is_zero(slots + i * UUID_LEN))
		i = (i + 1) & mask;
	memcpy(slots + i * UUID_LEN, u, UUID_LEN);
}

/* (re)allocate the slots at capacity, moving what they held; false: no room */
static bool
hash_alloc(LgKeySet *ks, uint64 capacity)
{
	Size		nbytes = capacity * ks->slotsize;
	Size		charge = nbytes;
	bool		huge = nbytes >= 2 * HUGE_PAGE;
	void	   *alloc;
	char	   *slots;
	uint64		i;

	if (huge)
		charge += HUGE_PAGE;
	if (!ks_reserve(ks, charge))
		return false;
	alloc = MemoryContextAllocHuge(ks->cxt, charge);
	slots = huge ? (char *) TYPEALIGN(HUGE_PAGE, alloc) : (char *) alloc;
#ifdef MADV_HUGEPAGE
	if (huge)
		(void) madvise(slots, TYPEALIGN_DOWN(HUGE_PAGE, nbytes), MADV_HUGEPAGE);
#endif
	memset(slots, 0, nbytes);
	if (ks->slots)
	{
		for (i = 0; i < ks->capacity; i++)
		{
			char	   *old = ks_slot(ks, i);

			if (ks->is_uuid)
			{
				if (!uuid_is_zero(old))
					uuid_place(slots, capacity, old);
			}
			else if (SLOT_HASH(old) != 0)
				hash_place(slots, capacity, ks->slotsize, old);
		}
		pfree(ks->slots_alloc);
		ks_release(ks, ks->slots_bytes);
	}
	ks->slots = slots;
	ks->slots_alloc = alloc;
	ks->slots_bytes = charge;
	ks->capacity = capacity;
	return true;
}

/* room for one more at a load factor of 0.7; false: no room */
static inline bool
hash_grow(LgKeySet *ks)
{
	if ((ks->count + 1) * 10 > ks->capacity * 7)
		return hash_alloc(ks, ks->capacity * 2);
	return true;
}

/* add a key to a (multi-column or generic) set; false: no room */
static bool
hash_add(LgKeySet *ks, LgKey *key, uint32 h)
{
	char		slot[LG_KEY_SLOT_KEYOFF + INDEX_MAX_KEYS * UUID_LEN];
	MemoryContext old;
	int			i;

	if (!hash_grow(ks))
		return false;
	if (hash_contains(ks, key, h))
	{
		ks->has_dup = true;
		return true;
	}
	memset(slot, 0, ks->slotsize);
	memcpy(slot, &h, sizeof(uint32));
	for (i = 0; i < ks->nkeys; i++)
	{
		char	   *p = slot + LG_KEY_SLOT_KEYOFF + ks->offsets[i];

		switch (ks->kinds[i])
		{
			case LG_KEY_INT:
				memcpy(p, &key->ints[i], sizeof(int64));
				break;
			case LG_KEY_UUID:
				memcpy(p, DatumGetUUIDP(key->values[i])->data, UUID_LEN);
				break;
			default:
				{
					Datum		d = key->values[i];

					if (!ks->typbyval[i])
					{
						/* the copy lives with the set: charge it */
						old = MemoryContextSwitchTo(ks->cxt);
						d = datumCopy(d, false, ks->typlen[i]);
						MemoryContextSwitchTo(old);
						if (!ks_reserve(ks, GetMemoryChunkSpace(DatumGetPointer(d))))
							return false;
					}
					memcpy(p, &d, sizeof(Datum));
					break;
				}
		}
	}
	hash_place(ks->slots, ks->capacity, ks->slotsize, slot);
	ks->count++;
	return true;
}

/* add a uuid to a one-uuid set; false: no room */
static bool
uuid_add(LgKeySet *ks, const pg_uuid_t *u, uint32 h)
{
	uint64		mask;
	uint64		i;

	if (uuid_is_zero((const char *) u->data))
	{
		if (ks->has_zero_uuid && !ks->has_dup)
		{
			ks->has_dup = true;
			ks->dup_uuid = *u;
		}
		ks->has_zero_uuid = true;
		return true;
	}
	if (!hash_grow(ks))
		return false;
	mask = ks->capacity - 1;
	i = h & mask;
	for (;;)
	{
		char	   *slot = ks->slots + i * UUID_LEN;

		if (memcmp(slot, u->data, UUID_LEN) == 0)
		{
			if (!ks->has_dup)
			{
				ks->has_dup = true;
				ks->dup_uuid = *u;
			}
			return true;
		}
		if (uuid_is_zero(slot))
		{
			memcpy(slot, u->data, UUID_LEN);
			ks->count++;
			return true;
		}
		i = (i + 1) & mask;
	}
}

/* ---------------------------------------------------------------------
 * Integer sets
 * ---------------------------------------------------------------------
 */

static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/* false: no room */
static bool
int_add(LgKeySet *ks, int64 v)
{
	if (ks->nints == (int64) ks->capacity)
	{
		uint64		newcap = ks->capacity * 2;
		int64	   *newarr;

		if (!ks_reserve(ks, newcap * sizeof(int64)))
			return false;
		newarr = MemoryContextAllocHuge(ks->cxt, newcap * sizeof(int64));
		memcpy(newarr, ks->ints, ks->nints * sizeof(int64));
		pfree(ks->ints);
		ks_release(ks, ks->capacity * sizeof(int64));
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

static void
int_dup(LgKeySet *ks, int64 v)
{
	if (!ks->has_dup)
	{
		ks->has_dup = true;
		ks->dup_int = v;
	}
}

/* the keys are in: a bitmap if it is no larger than the array, else sort */
static void
int_finish(LgKeySet *ks)
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
		ks_reserve(ks, words * sizeof(uint64)))
	{
		ks->bitmap = MemoryContextAllocHuge(ks->cxt, words * sizeof(uint64));
		memset(ks->bitmap, 0, words * sizeof(uint64));
		for (i = 0; i < ks->nints; i++)
		{
			uint64		off = (uint64) ks->ints[i] - (uint64) ks->minval;
			uint64		bit = UINT64CONST(1) << (off % 64);

			if (ks->bitmap[off / 64] & bit)
				int_dup(ks, ks->ints[i]);
			ks->bitmap[off / 64] |= bit;
		}
		pfree(ks->ints);
		ks_release(ks, ks->capacity * sizeof(int64));
		ks->ints = NULL;
	}
	else
	{
		qsort(ks->ints, ks->nints, sizeof(int64), cmp_int64);
		for (i = 1; i < ks->nints; i++)
			if (ks->ints[i] == ks->ints[i - 1])
			{
				int_dup(ks, ks->ints[i]);
				break;
			}
	}
}

static bool
int_contains(LgKeySet *ks, int64 v)
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
 * Filling a set
 * ---------------------------------------------------------------------
 */

/*
 * Start filling the set, sized for about estimate keys (0: unknown).  false
 * if it cannot be held at all: over (a type without hash support, no room).
 */
bool
lg_keyset_begin(LgKeySet *ks, double estimate)
{
	uint64		cap = 1024;
	bool		ok;

	Assert(ks->state == LG_KEYS_EMPTY);
	ks->has_dup = false;
	if (!ks->hashable && !ks->is_int)
	{
		ks->state = LG_KEYS_OVER;	/* quietly: it was never a candidate */
		return false;
	}
	ks->cxt = AllocSetContextCreate(ks->home, "lane_google key set",
									ALLOCSET_DEFAULT_SIZES);
	ks->bytes = 0;
	ks->state = LG_KEYS_BUILDING;
	if (ks->is_int)
	{
		while (cap < estimate && cap < (uint64) 1 << 40)
			cap *= 2;
		if (cap * sizeof(int64) > ks->budget->limit / 2)
			cap = 1024;
		ok = ks_reserve(ks, cap * sizeof(int64));
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
		if (cap * ks->slotsize > ks->budget->limit / 2)
			cap = 1024;
		ks->count = 0;
		ks->capacity = 0;
		ok = hash_alloc(ks, cap);
	}
	if (!ok)
		ks_over(ks);
	return ok;
}

/*
 * Add a key.  A no-op unless the set is being filled.  Returns whether it
 * still is: false once the set is over (or was never started).
 */
bool
lg_keyset_add(LgKeySet *ks, LgKey *key)
{
	bool		ok;

	if (ks->state != LG_KEYS_BUILDING)
		return false;
	if (ks->is_int)
		ok = int_add(ks, key->ints[0]);
	else if (ks->is_uuid)
		ok = uuid_add(ks, DatumGetUUIDP(key->values[0]),
					  uuid_hash(DatumGetUUIDP(key->values[0])->data));
	else
		ok = hash_add(ks, key, key_hash(ks, key));
	if (!ok)
		ks_over(ks);
	return ok;
}

bool
lg_keyset_add_int(LgKeySet *ks, int64 v)
{
	if (ks->state != LG_KEYS_BUILDING)
		return false;
	Assert(ks->is_int);
	if (!int_add(ks, v))
	{
		ks_over(ks);
		return false;
	}
	return true;
}

bool
lg_keyset_add_uuid(LgKeySet *ks, const pg_uuid_t *u)
{
	if (ks->state != LG_KEYS_BUILDING)
		return false;
	Assert(ks->is_uuid);
	if (!uuid_add(ks, u, uuid_hash(u->data)))
	{
		ks_over(ks);
		return false;
	}
	return true;
}

/*
 * Queue a uuid for a batched add or lookup in a one-uuid set, its slot
 * prefetched; true when the batch is full and must be processed.  The set
 * must hold its slots (building or built).
 */
bool
lg_keyset_batch_push(LgKeyBatch *b, LgKeySet *ks, const pg_uuid_t *u)
{
	uint32		h = uuid_hash(u->data);

	b->uuids[b->n] = *u;
	b->hashes[b->n] = h;
	ks_prefetch(ks_slot(ks, h & (ks->capacity - 1)));
	return ++b->n == LG_KEY_BATCH;
}

/* add a batch of uuids; as lg_keyset_add() */
static bool
ks_add_batch(LgKeySet *ks, LgKeyBatch *b)
{
	int			j;

	for (j = 0; j < b->n; j++)
	{
		if (!uuid_add(ks, &b->uuids[j], b->hashes[j]))
		{
			b->n = 0;
			ks_over(ks);
			return false;
		}
	}
	b->n = 0;
	return true;
}

/* the keys are in: ready for lookups (duplicates met are in has_dup) */
void
lg_keyset_finish(LgKeySet *ks)
{
	if (ks->state != LG_KEYS_BUILDING)
		return;
	if (ks->is_int)
		int_finish(ks);
	ks->state = LG_KEYS_BUILT;
}

/* A table and, if it is partitioned, all its partitions: what a scan reads */
static List *
table_and_partitions(Oid relid)
{
	if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
		return find_all_inheritors(relid, AccessShareLock, NULL);
	return list_make1_oid(relid);
}

/*
 * One sequential scan of a set's table under a snapshot, leaf partition
 * after leaf partition: how every scan of this file reads a table.
 * leaf_scan_next() puts the next row in ls->slot.
 */
typedef struct LeafScan
{
	List	   *rels;			/* the table and its partitions */
	int			next;			/* index in rels of the next to open */
	Snapshot	snapshot;
	Relation	rel;			/* the leaf being read, or NULL */
	TableScanDesc scan;
	TupleTableSlot *slot;
	uint64		n;				/* rows read, for interrupt checks */
} LeafScan;

static void
leaf_scan_begin(LeafScan *ls, Oid relid, Snapshot snapshot)
{
	memset(ls, 0, sizeof(LeafScan));
	ls->rels = table_and_partitions(relid);
	ls->snapshot = snapshot;
}

/* close the leaf being read */
static void
leaf_scan_close(LeafScan *ls)
{
	table_endscan(ls->scan);
	ExecDropSingleTupleTableSlot(ls->slot);
	table_close(ls->rel, NoLock);
	ls->scan = NULL;
	ls->slot = NULL;
	ls->rel = NULL;
}

/* the next row, in ls->slot; false once every leaf is read */
static bool
leaf_scan_next(LeafScan *ls)
{
	for (;;)
	{
		if (ls->scan != NULL)
		{
			if ((++ls->n & 4095) == 0)
				CHECK_FOR_INTERRUPTS();
			if (table_scan_getnextslot(ls->scan, ForwardScanDirection, ls->slot))
				return true;
			leaf_scan_close(ls);
		}
		if (ls->next >= list_length(ls->rels))
			return false;
		ls->rel = table_open(list_nth_oid(ls->rels, ls->next++), AccessShareLock);
		if (ls->rel->rd_rel->relkind != RELKIND_RELATION)
		{
			table_close(ls->rel, NoLock);
			ls->rel = NULL;
			continue;
		}
		ls->slot = table_slot_create(ls->rel, NULL);
		ls->scan = table_beginscan(ls->rel, ls->snapshot, 0, NULL);
	}
}

/* end the scan, also when it stopped before the last row */
static void
leaf_scan_end(LeafScan *ls)
{
	if (ls->scan != NULL)
		leaf_scan_close(ls);
	list_free(ls->rels);
}

/* read a row's key; false if a column is NULL */
static bool
row_key(LgKeySet *ks, TupleTableSlot *slot, LgKey *key)
{
	int			i;

	for (i = 0; i < ks->nkeys; i++)
	{
		bool		isnull;
		Datum		d = slot_getattr(slot, ks->attnums[i], &isnull);

		if (isnull)
			return false;
		if (ks->kinds[i] == LG_KEY_INT)
			key->ints[i] = lg_key_int_value(ks->types[i], d);
		else if (ks->kinds[i] == LG_KEY_GENERIC && ks->typlen[i] == -1)
			d = PointerGetDatum(PG_DETOAST_DATUM_PACKED(d));
		key->values[i] = d;
	}
	return true;
}

/*
 * Build the set from its table (and its partitions) with one sequential
 * scan under snapshot.  true if it is built; false if it is over.
 */
bool
lg_keyset_build(LgKeySet *ks, Snapshot snapshot)
{
	List	   *rels;
	ListCell   *lc;
	double		estimate = 0;
	bool		ok;
	MemoryContext rowcxt;
	LeafScan	ls;
	LgKey		key;
	LgKeyBatch *batch = NULL;

	rels = table_and_partitions(ks->relid);
	foreach(lc, rels)
	{
		Relation	rel = table_open(lfirst_oid(lc), AccessShareLock);

		if (rel->rd_rel->relkind == RELKIND_RELATION && rel->rd_rel->reltuples > 0)
			estimate += rel->rd_rel->reltuples;
		table_close(rel, NoLock);
	}
	list_free(rels);

	ok = lg_keyset_begin(ks, estimate);
	if (!ok)
		return false;
	if (ks->is_uuid)
		batch = palloc0(sizeof(LgKeyBatch));
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "lane_google key set row",
								   ALLOCSET_SMALL_SIZES);
	leaf_scan_begin(&ls, ks->relid, snapshot);
	while (ok && leaf_scan_next(&ls))
	{
		MemoryContext old;

		if (batch)
		{
			bool		isnull;
			Datum		d = slot_getattr(ls.slot, ks->attnums[0], &isnull);

			if (!isnull && lg_keyset_batch_push(batch, ks, DatumGetUUIDP(d)))
				ok = ks_add_batch(ks, batch);
			continue;
		}
		MemoryContextReset(rowcxt);
		old = MemoryContextSwitchTo(rowcxt);
		if (row_key(ks, ls.slot, &key))
			ok = lg_keyset_add(ks, &key);
		MemoryContextSwitchTo(old);
	}
	leaf_scan_end(&ls);
	if (ok && batch)
		ok = ks_add_batch(ks, batch);
	if (batch)
		pfree(batch);
	MemoryContextDelete(rowcxt);
	if (ok)
		lg_keyset_finish(ks);
	return ok;
}

/* release the keys: a built set is empty again, an over set stays over */
void
lg_keyset_free(LgKeySet *ks)
{
	ks_release_all(ks);
	if (ks->state == LG_KEYS_BUILT || ks->state == LG_KEYS_BUILDING)
		ks->state = LG_KEYS_EMPTY;
}

/* ---------------------------------------------------------------------
 * Lookups
 * ---------------------------------------------------------------------
 */

/* is the key in the set?  Only for built sets. */
bool
lg_keyset_contains(LgKeySet *ks, LgKey *key)
{
	Assert(ks->state == LG_KEYS_BUILT);
	if (ks->is_int)
		return int_contains(ks, key->ints[0]);
	if (ks->is_uuid)
		return uuid_contains(ks, DatumGetUUIDP(key->values[0]),
							 uuid_hash(DatumGetUUIDP(key->values[0])->data));
	return hash_contains(ks, key, key_hash(ks, key));
}

/* is v in the set?  false unless the set is built */
bool
lg_keyset_contains_int(LgKeySet *ks, int64 v)
{
	Assert(ks->is_int);
	return ks->state == LG_KEYS_BUILT && int_contains(ks, v);
}

/* is u in the set?  false unless the set is built */
bool
lg_keyset_contains_uuid(LgKeySet *ks, const pg_uuid_t *u)
{
	Assert(ks->is_uuid);
	return ks->state == LG_KEYS_BUILT && uuid_contains(ks, u, uuid_hash(u->data));
}

/* look a full batch up in a built one-uuid set: found[j] for uuid j */
void
lg_keyset_check_batch(LgKeySet *ks, LgKeyBatch *b, bool *found)
{
	int			j;

	Assert(ks->state == LG_KEYS_BUILT && ks->is_uuid);
	for (j = 0; j < b->n; j++)
		found[j] = uuid_contains(ks, &b->uuids[j], b->hashes[j]);
	b->n = 0;
}

/*
 * How many rows of the set's own table (and its partitions), read under
 * snapshot, hold a key the set lacks (rows with a NULL key column are no
 * key, and not counted); -1 unless the set is built.  One sequential scan,
 * a one-uuid set looked up in batches.
 */
int64
lg_keyset_count_absent(LgKeySet *ks, Snapshot snapshot)
{
	return lg_keyset_scan_absent(ks, snapshot, NULL, NULL);
}

/*
 * The same, and fn called with each such row's slot when fn is given (the
 * rows are then looked up one at a time, as the slot is needed while it
 * holds the row).
 */
int64
lg_keyset_scan_absent(LgKeySet *ks, Snapshot snapshot, LgKeyAbsentFn fn,
					  void *arg)
{
	LeafScan	ls;
	LgKeyBatch *batch = NULL;
	bool		found[LG_KEY_BATCH];
	MemoryContext rowcxt;
	int64		absent = 0;

	if (ks->state != LG_KEYS_BUILT)
		return -1;
	if (ks->is_uuid && fn == NULL)
		batch = palloc0(sizeof(LgKeyBatch));
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "lane_google key set row",
								   ALLOCSET_SMALL_SIZES);
	leaf_scan_begin(&ls, ks->relid, snapshot);
	while (leaf_scan_next(&ls))
	{
		LgKey		key;
		MemoryContext old;

		if (batch)
		{
			bool		isnull;
			Datum		d = slot_getattr(ls.slot, ks->attnums[0], &isnull);
			int			j;

			if (!isnull && lg_keyset_batch_push(batch, ks, DatumGetUUIDP(d)))
			{
				lg_keyset_check_batch(ks, batch, found);
				for (j = 0; j < LG_KEY_BATCH; j++)
					absent += !found[j];
			}
			continue;
		}
		MemoryContextReset(rowcxt);
		old = MemoryContextSwitchTo(rowcxt);
		if (row_key(ks, ls.slot, &key) && !lg_keyset_contains(ks, &key))
		{
			absent++;
			if (fn)
				fn(arg, ls.slot);
		}
		MemoryContextSwitchTo(old);
	}
	leaf_scan_end(&ls);
	if (batch)
	{
		int			n = batch->n;
		int			j;

		lg_keyset_check_batch(ks, batch, found);
		for (j = 0; j < n; j++)
			absent += !found[j];
		pfree(batch);
	}
	MemoryContextDelete(rowcxt);
	return absent;
}

/* ---------------------------------------------------------------------
 * Fallback: index probes
 * ---------------------------------------------------------------------
 */

/* open the probe of the table's unique index under snapshot; idempotent */
void
lg_keyset_probe_open(LgKeySet *ks, Snapshot snapshot)
{
	Oid			indexoid = ks->indexoid;
	MemoryContext old;
	int			i,
				j;

	if (ks->iscan != NULL)
		return;
	/* the scan lives as long as the set, whatever context the caller is in */
	old = MemoryContextSwitchTo(ks->home);
	if (get_rel_relkind(ks->relid) == RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("key set of partitioned table \"%s\" does not fit in lane_google.max_memory",
						get_rel_name(ks->relid)),
				 errhint("Raise lane_google.max_memory.")));

	ks->prel = table_open(ks->relid, AccessShareLock);
	if (!OidIsValid(indexoid))
		indexoid = lg_RelationGetPrimaryKeyIndex(ks->prel);
	if (!OidIsValid(indexoid))
		elog(ERROR, "table \"%s\" has no primary key to probe",
			 RelationGetRelationName(ks->prel));
	ks->irel = index_open(indexoid, AccessShareLock);
	if (ks->irel->rd_rel->relam != BTREE_AM_OID ||
		ks->irel->rd_index->indnkeyatts != ks->nkeys)
		elog(ERROR, "unexpected unique index \"%s\" for a key set",
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
			elog(ERROR, "index \"%s\" does not match the key columns",
				 RelationGetRelationName(ks->irel));
		eqop = get_opfamily_member(opfamily, opcintype, opcintype,
								   BTEqualStrategyNumber);
		if (!OidIsValid(eqop))
			elog(ERROR, "missing equality operator for index \"%s\"",
				 RelationGetRelationName(ks->irel));
		ks->eqproc[i] = get_opcode(eqop);
		ks->idxcoll[i] = ks->irel->rd_indcollation[i];
	}
	ks->probe_snapshot = snapshot;
	ks->iscan = lg_index_beginscan(ks->prel, ks->irel, snapshot, ks->nkeys, 0);
	ks->pslot = table_slot_create(ks->prel, NULL);
	MemoryContextSwitchTo(old);
}

void
lg_keyset_probe_close(LgKeySet *ks)
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
	ks->probe_snapshot = NULL;
}

/* does the table hold the key?  One probe of its index (open) */
bool
lg_keyset_probe(LgKeySet *ks, LgKey *key)
{
	bool		found = (lg_keyset_probe_fetch(ks, key) != NULL);

	ExecClearTuple(ks->pslot);
	return found;
}

/*
 * The table's row that holds the key, by one probe of its index (open): in a
 * slot of the set's that keeps it until the next probe or the close; NULL if
 * there is none.
 */
TupleTableSlot *
lg_keyset_probe_fetch(LgKeySet *ks, LgKey *key)
{
	ScanKeyData skeys[INDEX_MAX_KEYS];
	MemoryContext old;
	bool		found;
	int			i;

	Assert(ks->iscan != NULL);
	for (i = 0; i < ks->nkeys; i++)
	{
		int			j = ks->keypos[i];
		Datum		d;

		if (ks->kinds[j] == LG_KEY_INT)
		{
			int64		v = key->ints[j];

			switch (ks->types[j])
			{
				case INT2OID:
					if (v < PG_INT16_MIN || v > PG_INT16_MAX)
						return NULL;
					d = Int16GetDatum((int16) v);
					break;
				case INT4OID:
					if (v < PG_INT32_MIN || v > PG_INT32_MAX)
						return NULL;
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

	/*
	 * In the scan's context: the index may allocate what lives as long as
	 * the scan while it reads (btree's killedItems, once it meets a dead
	 * tuple), and the caller's context is often a row's, reset before the
	 * scan ends.
	 */
	old = MemoryContextSwitchTo(ks->home);
	found = index_getnext_slot(ks->iscan, ForwardScanDirection, ks->pslot);
	MemoryContextSwitchTo(old);
	return found ? ks->pslot : NULL;
}

/* ---------------------------------------------------------------------
 * Fallback: sort and merge (one-column keys)
 * ---------------------------------------------------------------------
 */

/* a value as the sort sees it: integers as int8, varlena detoasted */
static Datum
sort_value(LgKeySet *ks, Oid valtype, Datum d)
{
	if (ks->is_int)
		return Int64GetDatum(lg_key_int_value(valtype, d));
	if (ks->sorttyplen == -1)
		return PointerGetDatum(PG_DETOAST_DATUM_PACKED(d));
	return d;
}

/* start sorting a user's values for the set's one column */
LgKeySort *
lg_keysort_begin(LgKeySet *ks, int mem_kb)
{
	LgKeySort  *sort = palloc0(sizeof(LgKeySort));

	Assert(ks->sortable);
	sort->ks = ks;
	sort->values = tuplesort_begin_datum(ks->sorttype, ks->sortop,
										 ks->collations[0], false, mem_kb,
										 NULL, TUPLESORT_NONE);
	return sort;
}

/*
 * A user's value: of type valtype, an integer type for an integer set, else
 * the set's own type.
 */
void
lg_keysort_put(LgKeySort *sort, Oid valtype, Datum d)
{
	tuplesort_putdatum(sort->values, sort_value(sort->ks, valtype, d), false);
}

/*
 * Sort the table's keys and merge: orphan(arg, value) for every value put
 * that meets no equal key, in order.  Ends the sort.
 */
void
lg_keysort_merge(LgKeySort *sort, Snapshot snapshot, int mem_kb,
				 LgKeyOrphanFn orphan, void *arg)
{
	LgKeySet   *ks = sort->ks;
	Tuplesortstate *keys;
	LeafScan	ls;
	Datum		pv = (Datum) 0,
				cv;
	bool		isnull;
	bool		have_p;
	MemoryContext rowcxt;

	tuplesort_performsort(sort->values);

	keys = tuplesort_begin_datum(ks->sorttype, ks->sortop, ks->collations[0],
								 false, mem_kb, NULL, TUPLESORT_NONE);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "lane_google key sort row",
								   ALLOCSET_SMALL_SIZES);
	leaf_scan_begin(&ls, ks->relid, snapshot);
	while (leaf_scan_next(&ls))
	{
		Datum		d = slot_getattr(ls.slot, ks->attnums[0], &isnull);
		MemoryContext old;

		if (isnull)
			continue;
		MemoryContextReset(rowcxt);
		old = MemoryContextSwitchTo(rowcxt);
		tuplesort_putdatum(keys, sort_value(ks, ks->types[0], d), false);
		MemoryContextSwitchTo(old);
	}
	leaf_scan_end(&ls);
	MemoryContextDelete(rowcxt);
	tuplesort_performsort(keys);

	have_p = lg_tuplesort_getdatum(keys, true, &pv, &isnull, NULL);
	while (lg_tuplesort_getdatum(sort->values, true, &cv, &isnull, NULL))
	{
		int32		c = -1;

		while (have_p &&
			   (c = DatumGetInt32(FunctionCall2Coll(&ks->sortcmp, ks->collations[0],
													pv, cv))) < 0)
		{
			if (!ks->sorttypbyval)
				pfree(DatumGetPointer(pv));
			have_p = lg_tuplesort_getdatum(keys, true, &pv, &isnull, NULL);
		}
		if (!have_p || c != 0)
			orphan(arg, cv);
		if (!ks->sorttypbyval)
			pfree(DatumGetPointer(cv));
		CHECK_FOR_INTERRUPTS();
	}
	tuplesort_end(keys);
	tuplesort_end(sort->values);
	pfree(sort);
}
