/*-------------------------------------------------------------------------
 *
 * pg_version_compat.h
 *	  Every difference between the PostgreSQL majors lane_google builds on
 *	  (15, 16, 17 and 18) that its C code meets, in one place: the C files
 *	  call the names defined here and hold no version tests of their own.
 *	  As Citus's pg_version_compat.h and pgvector keep theirs.
 *
 *	  Each entry says which major changed what.  An lg_ name wraps a core
 *	  function whose arguments changed; a core name defined here stands for
 *	  a function an older major lacks.  Differences in the catalogs the SQL
 *	  built by the C code reads are handled where that SQL is
 *	  (src/dependents/: see LG_PG_NOTNULL_CONSTRAINTS below).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_VERSION_COMPAT_H
#define PG_VERSION_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 150000
#error "lane_google needs PostgreSQL 15 or later"
#endif

#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "miscadmin.h"
#include "utils/acl.h"

/*
 * 17: the backend's local transaction id moved into MyProc->vxid.
 */
#if PG_VERSION_NUM >= 170000
#define lg_my_lxid() (MyProc->vxid.lxid)
#else
#define lg_my_lxid() (MyProc->lxid)
#endif

/*
 * 17: a virtual transaction id names its backend by proc number
 * (ProcNumberGetProc, storage/procarray.h) where 15 and 16 had a backend id
 * (BackendIdGetProc, storage/sinvaladt.h).  The PGPROC of the holder of a
 * conflicting lock (GetLockConflicts), NULL for a prepared transaction.
 */
#if PG_VERSION_NUM >= 170000
#include "storage/procarray.h"
#define lg_vxid_proc(vxid) \
	((vxid).procNumber == INVALID_PROC_NUMBER ? NULL : ProcNumberGetProc((vxid).procNumber))
#else
#include "storage/sinvaladt.h"
#define lg_vxid_proc(vxid) \
	((vxid).backendId == InvalidBackendId ? NULL : BackendIdGetProc((vxid).backendId))
#endif

/*
 * 16: tuplesort_getdatum() gained "copy".  15 always copied a by-reference
 * Datum into the caller's context; copy = true keeps that.
 */
#if PG_VERSION_NUM >= 160000
#define lg_tuplesort_getdatum(state, forward, val, isNull, abbrev) \
	tuplesort_getdatum((state), (forward), true, (val), (isNull), (abbrev))
#else
#define lg_tuplesort_getdatum(state, forward, val, isNull, abbrev) \
	tuplesort_getdatum((state), (forward), (val), (isNull), (abbrev))
#endif

/*
 * 18: RelationGetPrimaryKeyIndex() gained "deferrable_ok".  Before 18 a
 * DEFERRABLE primary key was never returned (RelationGetIndexList skipped
 * indexes that are not immediate): false keeps that.
 */
#if PG_VERSION_NUM >= 180000
#define lg_RelationGetPrimaryKeyIndex(rel) RelationGetPrimaryKeyIndex((rel), false)
#else
#define lg_RelationGetPrimaryKeyIndex(rel) RelationGetPrimaryKeyIndex(rel)
#endif

/* 18: index_beginscan() gained an instrumentation argument (none here) */
#if PG_VERSION_NUM >= 180000
#define lg_index_beginscan(heap, index, snapshot, nkeys, norderbys) \
	index_beginscan((heap), (index), (snapshot), NULL, (nkeys), (norderbys))
#else
#define lg_index_beginscan(heap, index, snapshot, nkeys, norderbys) \
	index_beginscan((heap), (index), (snapshot), (nkeys), (norderbys))
#endif

/*
 * 16: simple_table_tuple_update() reports which indexes need new entries
 * (TU_UpdateIndexes) instead of a bool, and ExecInsertIndexTuples() gained
 * "onlySummarizing" to go with it.  15: all of them or none.
 */
#if PG_VERSION_NUM < 160000
typedef bool TU_UpdateIndexes;

#define TU_None			false
#define TU_All			true
#define TU_Summarizing	2		/* never returned by 15 */
#define lg_ExecInsertIndexTuples(rri, slot, estate, update, noDupErr, specConflict, arbiter, onlySummarizing) \
	ExecInsertIndexTuples((rri), (slot), (estate), (update), (noDupErr), (specConflict), (arbiter))
#else
#define lg_ExecInsertIndexTuples(rri, slot, estate, update, noDupErr, specConflict, arbiter, onlySummarizing) \
	ExecInsertIndexTuples((rri), (slot), (estate), (update), (noDupErr), (specConflict), (arbiter), (onlySummarizing))
#endif

/*
 * 16: object_ownercheck() and object_aclcheck() replaced the per-class
 * pg_*_ownercheck() and pg_*_aclcheck().  15: the classes lane_google asks
 * about.
 */
#if PG_VERSION_NUM < 160000
static inline bool
object_ownercheck(Oid classid, Oid objectid, Oid roleid)
{
	switch (classid)
	{
		case RelationRelationId:
			return pg_class_ownercheck(objectid, roleid);
		case NamespaceRelationId:
			return pg_namespace_ownercheck(objectid, roleid);
		default:
			elog(ERROR, "unexpected class %u in object_ownercheck", classid);
	}
	return false;				/* keep the compiler quiet */
}

static inline AclResult
object_aclcheck(Oid classid, Oid objectid, Oid roleid, AclMode mode)
{
	switch (classid)
	{
		case NamespaceRelationId:
			return pg_namespace_aclcheck(objectid, roleid, mode);
		default:
			elog(ERROR, "unexpected class %u in object_aclcheck", classid);
	}
	return ACLCHECK_NO_PRIV;	/* keep the compiler quiet */
}
#endif

/* 16: stringToQualifiedNameList() gained a soft-error context (none here) */
#if PG_VERSION_NUM >= 160000
#define lg_stringToQualifiedNameList(string) stringToQualifiedNameList((string), NULL)
#else
#define lg_stringToQualifiedNameList(string) stringToQualifiedNameList(string)
#endif

/* 17: reindex_relation() gained the REINDEX statement it runs for (none) */
#if PG_VERSION_NUM >= 170000
#define lg_reindex_relation(relid, flags, params) \
	reindex_relation(NULL, (relid), (flags), (params))
#else
#define lg_reindex_relation(relid, flags, params) \
	reindex_relation((relid), (flags), (params))
#endif

/* 17: intervals can be infinite; before 17 none is */
#if PG_VERSION_NUM >= 170000
#define lg_interval_not_finite(interval) INTERVAL_NOT_FINITE(interval)
#else
#define lg_interval_not_finite(interval) false
#endif

/*
 * 18: a NOT NULL constraint is a pg_constraint row of contype 'n', which
 * depends on its table alone (before 18 it was attnotnull only).  The
 * dependents' plan, which takes the constraints on the 11 tables that are not
 * lane_google's own for the application's, leaves them out: they are part of
 * the table, made and dropped with its columns.
 */
#if PG_VERSION_NUM >= 180000
#define LG_PG_NOTNULL_CONSTRAINTS 1
#endif

#endif							/* PG_VERSION_COMPAT_H */
