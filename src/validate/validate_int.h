/*-------------------------------------------------------------------------
 *
 * validate/validate_int.h
 *	  What the two files of validate_fk_integrity() share: validate.c (the
 *	  catalog, the scans of the referencing tables, the report) and
 *	  shards.c (foreign keys between Citus tables, checked on the shards by
 *	  a query Citus pushes down).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LG_VALIDATE_INT_H
#define LG_VALIDATE_INT_H

#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "parser/parse_coerce.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/datum.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "lane_google.h"
#include "keyset.h"

#define VK_MAX_SAMPLE_LIMIT 1000

/* How a referencing value becomes a referenced-type value */
typedef enum VkConv
{
	VK_CONV_NONE,				/* same representation */
	VK_CONV_FUNC,				/* a cast function */
	VK_CONV_IO					/* output of one type, input of the other */
} VkConv;

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
	Oid			pfeqop[INDEX_MAX_KEYS]; /* PK = FK operators */
	bool		citus;			/* checked by a query Citus pushes down */

	/* samples: the smallest distinct keys, in the referencing types' order */
	bool		sample_sorted;	/* false: no btree order (first seen kept) */
	FmgrInfo	samplecmp[INDEX_MAX_KEYS];
	Oid			samplecoll[INDEX_MAX_KEYS];
	int16		typlen[INDEX_MAX_KEYS];
	bool		typbyval[INDEX_MAX_KEYS];

	LgKeySet   *ks;				/* the referenced keys, shared */
	VkConv		conv[INDEX_MAX_KEYS];
	FmgrInfo	convfn[INDEX_MAX_KEYS];
	int			convnargs[INDEX_MAX_KEYS];
	FmgrInfo	childout[INDEX_MAX_KEYS];
	FmgrInfo	parentin[INDEX_MAX_KEYS];
	Oid			parentioparam[INDEX_MAX_KEYS];
	LgKeyBatch *batch;			/* during a scan, when batched */
	LgKeySort  *childsort;		/* during a scan, when sorting */

	/* results */
	int64		orphans;
	int			nsamples;
	char	  **samples;
	Datum	   *sampvals;		/* nsamples x nkeys, when sample_sorted */
	bool	   *sampnulls;
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
	LgKeyBudget budget;
	int			sample_limit;
	MemoryContext rowcxt;
	MemoryContext resultcxt;	/* samples live here */
} VkRun;

/* validate.c */
extern void vk_add_sample(VkRun *run, VkForeignKey *fk, Datum *vals, bool *nulls);

/* shards.c */
extern List *vk_route_citus(List *fks);
extern void vk_check_citus(VkRun *run, VkForeignKey *fk);

#endif							/* LG_VALIDATE_INT_H */
