/*-------------------------------------------------------------------------
 *
 * online_swap.c
 *	  What the online conversion (online/) calls: the relations carrying
 *	  will lock, the plan with its trial and refusal at online_start(), and
 *	  the swap's detach and convert under its locks; and what
 *	  conversion_plan() adds to its actions while an online conversion is
 *	  under way.  The locks are the caller's, taken within its budget.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/syscache.h"

#include "lane_google.h"
#include "dependents_int.h"

/*
 * The relations carrying the dependents will lock (ACCESS EXCLUSIVE):
 * referencing tables and carried views, from the plan without its trial
 * (catalog reads only).  *has_views: the trial has views to re-create, and
 * needs the 11 tables and those referencing tables exclusively.
 */
List *
lg_dependents_relations(bool *has_views)
{
	DepPlan    *plan = dep_build_plan(CurrentMemoryContext, false, false);
	List	   *rels = NIL;
	ListCell   *lc;

	*has_views = false;
	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if (it->type == DT_FK || it->type == DT_REF)
			rels = list_append_unique_oid(rels, it->relid);
		else if (it->type == DT_VIEW)
		{
			rels = list_append_unique_oid(rels, it->viewid);
			*has_views = true;
		}
	}
	return rels;
}

/*
 * online_start(): the plan with its trial (the caller holds the locks, so
 * the trial runs) and the refusal, naming every object that cannot be
 * carried.  Nothing is kept: the swap plans again.
 */
void
lg_dependents_check(const char *hint)
{
	DepPlan    *plan = dep_build_plan(CurrentMemoryContext, true, false);

	if (plan->ncannot > 0)
		dep_refuse(plan, hint);
}

/* The swap, under its locks: detach, then convert (to uuid: no set-aside table) */
void
lg_dependents_swap_detach(void)
{
	dep_detach(false);
}

void
lg_dependents_swap_convert(void)
{
	dep_convert("");
}

/*
 * conversion_plan() during an online conversion (its staging schema
 * exists): what of the carrying happens under the swap's locks, and grows
 * with the data.
 */
void
dep_online_actions(DepPlan *plan)
{
	ListCell   *lc;

	if (!plan->to_uuid || !OidIsValid(get_namespace_oid("lane_google_online", true)))
		return;
	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if (it->reason)
			continue;
		if ((it->type == DT_FK || it->type == DT_REF) && it->to_type)
		{
			HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(it->relid));
			double		rows = 0;

			if (HeapTupleIsValid(tup))
			{
				rows = Max(((Form_pg_class) GETSTRUCT(tup))->reltuples, 0);
				ReleaseSysCache(tup);
			}
			it->action = dep_pfmt(plan, "%s; online: the swap rewrites %s (about %.0f rows) under its locks, in time that grows with the table",
								  it->action, it->relname, rows);
		}
		else if (it->type == DT_VIEW && it->matview && it->populated)
			it->action = dep_pfmt(plan, "%s; online: refreshed under the swap's locks", it->action);
	}
}
