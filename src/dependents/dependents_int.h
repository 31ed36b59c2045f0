/*-------------------------------------------------------------------------
 *
 * dependents_int.h
 *	  What the files of src/dependents/ share among themselves: the plan
 *	  (DepPlan) and its items (DepItem), the plan of the update running in
 *	  this transaction, and the helpers every step uses.  The subsystem's
 *	  API for the rest of lane_google (the released scripts' hooks,
 *	  convert_legacy's carry, the online swap) is declared in lane_google.h.
 *
 *	  Which file owns what:
 *	  util.c			SPI and memory helpers, the catalog search_path, the
 *						roots, the pending plan and its transaction callback
 *	  plan.c			the whole plan: the 11 tables' direct dependents,
 *						what depends on the converted columns, the grants on
 *						the 11 tables, and the refusal naming what cannot go
 *	  plan_keys.c		foreign keys into the 11 tables, registered references
 *	  plan_views.c		views and materialized views, their columns' extras
 *	  plan_carried.c	objects carried as SQL kept in the plan: triggers,
 *						policies, row security, statistics objects, indexes,
 *						publication membership, rules, functions; and the
 *						users of the key sequences, which cannot be carried
 *	  trial.c			the rolled-back trial against the target layout
 *	  steps.c			detach, convert and attach: the update's three steps
 *	  update_hooks.c	what the released scripts reach through the library
 *	  online_swap.c		what the online conversion (online/) calls
 *	  source_plan.c		convert_legacy(dependents => 'carry'): its plan
 *	  source_carry.c	convert_legacy(dependents => 'carry'): the carrying
 *	  references.c		add_legacy_reference() and what it refuses
 *	  sql_functions.c	conversion_plan(), the update's step functions and
 *						_lg_dependents_legacy_id()
 *
 *	  Invariants: a plan lives in its own memory context (plan->cxt) and
 *	  every string an item keeps is allocated there; every catalog query
 *	  runs between dep_catalog_begin() and dep_catalog_end(), under
 *	  search_path pg_catalog, pg_temp, so every name the deparsers print is
 *	  qualified and every statement built from them means the same objects
 *	  whatever the caller's path.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DEPENDENTS_INT_H
#define DEPENDENTS_INT_H

#include "postgres.h"

#include "lane_google.h"

typedef enum DepType
{
	DT_NONE,					/* cannot be carried, or nothing to do */
	DT_FK,						/* foreign key into one of the 11 tables */
	DT_REF,						/* registered reference */
	DT_VIEW,					/* view or materialized view */
	DT_INDEX,					/* rebuilt by its column's type change */
	DT_SQL						/* re-created by SQL kept in the plan: trigger,
								 * policy, row security, statistics object,
								 * publication membership */
} DepType;

typedef struct DepItem
{
	DepType		type;
	char	   *kind;			/* conversion_plan().object_type */
	char	   *identity;		/* conversion_plan().object */
	char	   *depends_on;
	char	   *action;
	char	   *reason;			/* NULL: carried */

	/* DT_FK, DT_REF */
	Oid			relid;			/* referencing table */
	char	   *relname;		/* its qualified name */
	char	   *colname;		/* referencing column */
	char	   *referenced;		/* one of the 11 */
	char	   *from_type;		/* the column's type now */
	char	   *to_type;		/* and after (NULL: unchanged) */
	char	   *conname;		/* DT_FK */
	char	   *condef;			/* DT_FK: pg_get_constraintdef(), by
								 * dep_detach() */
	Oid			conoid;			/* DT_FK */
	bool		validated;		/* DT_FK */

	/* DT_VIEW */
	Oid			viewid;
	int			depth;			/* re-created after every smaller depth */
	bool		matview;
	bool		populated;
	char	   *create_sql;		/* CREATE [MATERIALIZED] VIEW ... AS */
	char	   *query_sql;		/* its SELECT */
	bool		parent;			/* another carried view reads it */
	char	   *drop_sql;
	char	   *after_sql;		/* owner, grants, comments, indexes */

	/* DT_SQL */
	Oid			objid;			/* pg_trigger, pg_policy, ... row */
	char	   *detach_sql;		/* at detach: off the tables the update
								 * changes (their triggers would fire) */
	char	   *pre_sql;		/* at convert, before the tables set aside go */
	char	   *redo_sql;		/* at attach, over the new tables */
	char	   *trial_sql;		/* in the trial, against the target layout */
} DepItem;

typedef enum DepStage
{
	STAGE_PLANNED,
	STAGE_CONVERTED,
	STAGE_ATTACHED
} DepStage;

/* The kinds dep_plan_direct() hands to dep_plan_carried() */
#define CARRY_TRIGGER		0
#define CARRY_POLICY		1
#define CARRY_STATISTICS	2
#define CARRY_PUBLICATION	3
#define CARRY_RULE			4
#define CARRY_FUNCTION		5
#define CARRY_INDEX			6
#define CARRY_NKINDS		7

typedef struct DepPlan
{
	MemoryContext cxt;
	bool		to_uuid;		/* integer keys now */
	Oid			schema;
	Oid			roots[LG_NTABLES];
	List	   *items;			/* DepItem */
	int			ncannot;
	int			ncarried;
	char	   *root_grants;	/* the user's grants on the 11 tables */
	List	   *shadow_rels;	/* referencing tables some carried view reads */
	DepStage	stage;
	bool		released;		/* planned by a released script's hook */
	Oid			src_schema;		/* convert_legacy's source: the roots are its
								 * tables, carried onto schema's; InvalidOid
								 * in an update */
	List	   *carry_oids[CARRY_NKINDS];	/* CARRY_*: objects
											 * dep_plan_direct() found */
} DepPlan;

/* util.c: the plan of the update running in this transaction, if any */
extern DepPlan *dep_pending;
extern void dep_register_xact_callback(void);

/* util.c: small helpers */
extern void dep_spi_exec(const char *sql, int expect);
extern void dep_spi_connect(void);
extern char *dep_col(DepPlan *plan, int row, int c);
extern Datum dep_col_datum(int row, int c, bool *isnull);
extern DepItem *dep_new_item(DepPlan *plan, DepType type, const char *kind);
extern Datum dep_oid_array(List *oids);
extern Datum dep_roots_array(DepPlan *plan);
extern int	dep_catalog_begin(void);
extern void dep_catalog_end(int nest);
extern char *dep_schema_name(DepPlan *plan);
extern bool dep_is_key_column(const LgTable *t, const char *colname);
extern bool dep_keys_are_integer(Oid schema);
extern void dep_plan_cannot(DepPlan *plan, const char *category, const char *identity,
							const char *on_what, const char *reason);
extern char *dep_references_table(DepPlan *plan);
extern char *dep_fk_definition(DepPlan *plan, DepItem *it);

/* psprintf() into the plan's memory */
#define dep_pfmt(plan, ...) MemoryContextStrdup((plan)->cxt, psprintf(__VA_ARGS__))

/* plan.c */
extern DepPlan *dep_build_plan(MemoryContext cxt, bool try_views, bool may_wait);
extern void dep_plan_column_dependents(DepPlan *plan, List **seeds);
extern void dep_refuse(DepPlan *plan, const char *hint);

/* plan_keys.c */
extern void dep_plan_foreign_keys(DepPlan *plan, List *fk_oids, const char *regtab);
extern void dep_plan_references(DepPlan *plan, const char *regtab);

/* plan_views.c */
extern void dep_plan_views(DepPlan *plan, List *seeds);
extern void dep_plan_view_columns(DepPlan *plan);

/* plan_carried.c */
extern bool dep_collect_carried(DepPlan *plan, const char *category, Oid objid);
extern void dep_carry_query(const char *sql, List *oids, DepPlan *plan);
extern void dep_plan_root_flags(DepPlan *plan);
extern void dep_plan_carried(DepPlan *plan);

/* trial.c */
extern void dep_trial_views(DepPlan *plan, bool may_wait);

/* steps.c */
extern void dep_check_in_update(const char *fname);
extern void dep_detach(bool released);
extern void dep_convert(const char *prefix);
extern void dep_attach(void);
extern void dep_drop_views(DepPlan *plan, bool all);

/* online_swap.c */
extern void dep_online_actions(DepPlan *plan);

/* source_plan.c */
extern DepPlan *dep_build_source_plan(MemoryContext cxt, Oid src_schema,
									  bool try_views, bool may_wait);

/* references.c */
extern char *dep_reference_table_refusal(Oid relid);

#endif							/* DEPENDENTS_INT_H */
