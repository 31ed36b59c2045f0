/*-------------------------------------------------------------------------
 *
 * dependents.c
 *	  Owns the plan and carrying dependents across: the objects outside the
 *	  extension that depend on the 11 tables (foreign keys into them from
 *	  other tables, views and materialized views over them, registered
 *	  references: integer or text columns holding their ids without a
 *	  constraint), what the key conversion does with each, and doing it.
 *
 *	  conversion_plan() lists them, one row per object, with what the update
 *	  will do or why it cannot.  Inside an update the same plan runs first:
 *	  anything it cannot carry fails the update before a row of the 11
 *	  tables is read.  Then, in the update's one transaction:
 *
 *	  detach	the plan, refusal, and a trial: every carried view is
 *				re-created, inside a subtransaction that is rolled back,
 *				against empty tables of the target layout put in place of
 *				the real ones by renames (catalog work only, no row read);
 *				a view that cannot be re-created (it compares a key with an
 *				integer, say) fails the update there.  Definitions, owners,
 *				options, grants and comments are kept in transaction memory.
 *	  convert	after the rows of the 11 tables are converted, while the
 *				tables set aside still exist: the carried views and foreign
 *				keys are dropped and each referencing column changes type in
 *				place (ALTER COLUMN ... TYPE ... USING: its indexes rebuilt),
 *				to uuid by legacy_uuid(referenced table, value), a pure
 *				function, or back to its integer type by the legacy_id of the
 *				row set aside (a hash built once per referenced table).
 *	  attach	after the new keys exist: the foreign keys re-created with
 *				their names and definitions (valid ones marked validated: the
 *				mapping is one-to-one and every table involved is locked),
 *				the views and materialized views (refreshed) re-created with
 *				owner, options, grants and comments; the user's grants on the
 *				11 tables applied to the new tables.
 *
 *	  The released scripts (1.0--2.0, 2.0--1.0) never change, but they call
 *	  this library: validate_fk_integrity() in their pre-flight (the first C
 *	  they run, before any row is read), _lg_upgrade_convert() and
 *	  _lg_upgrade_mark_validated().  lg_dependents_update_hook() and the two
 *	  step hooks let the released 1.0 -> 2.0 carry dependents the same way,
 *	  and make the released 2.0 -> 1.0 refuse early when it would fail late.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "parser/analyze.h"
#include "parser/parser.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/regproc.h"
#include "utils/resowner.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "utils/uuid.h"

#include "lane_google.h"

PG_FUNCTION_INFO_V1(lg_conversion_plan);
PG_FUNCTION_INFO_V1(lg_dependents_detach);
PG_FUNCTION_INFO_V1(lg_dependents_convert);
PG_FUNCTION_INFO_V1(lg_dependents_attach);
PG_FUNCTION_INFO_V1(lg_dependents_legacy_id);
PG_FUNCTION_INFO_V1(lg_add_legacy_reference);
PG_FUNCTION_INFO_V1(lg_conversion_plan_source);

static void add_source_reference(Oid relid, const char *colname, const char *referenced);
static char *reference_table_refusal(Oid relid);

/*
 * The indexes, constraints and triggers the extension's own scripts create
 * on the 11 tables, at 1.x and 2.x.  Anything else on them is the user's.
 * Objects a later script adds on the 11 tables are named _lg_... or listed
 * here.
 */
static const char *const own_names[] = {
	"account_users_account_id_fkey", "account_users_account_id_user_id_key",
	"account_users_invited_by_fkey", "account_users_invited_by_idx",
	"account_users_pkey", "account_users_set_updated_at",
	"account_users_user_id_fkey", "account_users_user_id_idx",
	"accounts_google_customer_id_key", "accounts_pkey", "accounts_set_updated_at",
	"ad_groups_campaign_id_fkey", "ad_groups_campaign_id_idx", "ad_groups_pkey",
	"ad_groups_set_updated_at", "ads_ad_group_id_fkey", "ads_ad_group_id_idx",
	"ads_pkey", "ads_set_updated_at", "analytics_snapshots_campaign_id_fkey",
	"analytics_snapshots_campaign_id_snapshot_date_period_type_key",
	"analytics_snapshots_pkey", "approval_requests_approved_by_fkey",
	"approval_requests_approved_by_idx", "approval_requests_campaign_id_fkey",
	"approval_requests_campaign_id_idx", "approval_requests_pkey",
	"approval_requests_requester_id_fkey", "approval_requests_requester_id_idx",
	"approval_requests_set_updated_at", "budget_alerts_campaign_id_fkey",
	"budget_alerts_campaign_id_idx", "budget_alerts_pkey",
	"campaigns_account_id_fkey", "campaigns_account_id_idx",
	"campaigns_budget_amount_check", "campaigns_created_by_id_fkey",
	"campaigns_created_by_id_idx", "campaigns_google_campaign_id_idx",
	"campaigns_pkey", "campaigns_set_updated_at", "campaigns_status_idx",
	"conversation_messages_conversation_id_fkey",
	"conversation_messages_conversation_id_idx", "conversation_messages_pkey",
	"conversations_pkey", "conversations_set_updated_at",
	"conversations_user_id_fkey", "conversations_user_id_idx",
	"users_created_at_idx", "users_email_key", "users_pkey", "users_role_idx",
	"users_set_updated_at", "users_status_idx", "users_username_key",
	"_lg_v1_users_pkey"
};

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
	char	   *condef;			/* DT_FK: pg_get_constraintdef(), by do_detach() */
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

/* plan_views(): a carried view by its oid */
typedef struct ViewEntry
{
	Oid			viewid;
	DepItem    *item;
} ViewEntry;

typedef enum DepStage
{
	STAGE_PLANNED,
	STAGE_CONVERTED,
	STAGE_ATTACHED
} DepStage;

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
	List	   *carry_oids[7];	/* CARRY_*: objects plan_direct() found */
} DepPlan;

/* The kinds plan_direct() hands to plan_carried() */
#define CARRY_TRIGGER		0
#define CARRY_POLICY		1
#define CARRY_STATISTICS	2
#define CARRY_PUBLICATION	3
#define CARRY_RULE			4
#define CARRY_FUNCTION		5
#define CARRY_INDEX			6

/* The plan of the update running in this transaction, if any */
static DepPlan *pending = NULL;
static bool callback_registered = false;

static bool collect_carried(DepPlan *plan, const char *category, Oid objid);
static void plan_row_security(DepPlan *plan, int r, bool enable, bool force);
static void plan_carried(DepPlan *plan);
static void trial_carried(DepPlan *plan);
static void detach_carried(DepPlan *plan);
static void convert_carried(DepPlan *plan);
static void attach_carried(DepPlan *plan);

static void
dep_xact_callback(XactEvent event, void *arg)
{
	/* TopTransactionContext, which holds it, is gone or going */
	pending = NULL;
}

/* ---------------------------------------------------------------------------
 * small helpers
 * ---------------------------------------------------------------------------
 */

static void
spi_exec(const char *sql, int expect)
{
	int			rc = SPI_execute(sql, false, 0);

	if (rc != expect)
		elog(ERROR, "SPI_execute failed (%d): %s", rc, sql);
}

static char *
col(DepPlan *plan, int row, int c)
{
	char	   *v = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, c);

	return v ? MemoryContextStrdup(plan->cxt, v) : NULL;
}

static Datum
col_datum(int row, int c, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, c, isnull);
}

static DepItem *
new_item(DepPlan *plan, DepType type, const char *kind)
{
	DepItem    *it = MemoryContextAllocZero(plan->cxt, sizeof(DepItem));
	MemoryContext old = MemoryContextSwitchTo(plan->cxt);

	it->type = type;
	it->kind = pstrdup(kind);
	plan->items = lappend(plan->items, it);
	MemoryContextSwitchTo(old);
	return it;
}

/* psprintf() into the plan's memory */
#define pfmt(plan, ...) MemoryContextStrdup((plan)->cxt, psprintf(__VA_ARGS__))

/* text[] of own_names, for the catalog queries */
static Datum
own_names_array(void)
{
	Datum	   *elems = palloc(sizeof(Datum) * lengthof(own_names));
	int			i;

	for (i = 0; i < lengthof(own_names); i++)
		elems[i] = CStringGetTextDatum(own_names[i]);
	return PointerGetDatum(construct_array(elems, lengthof(own_names), TEXTOID,
										   -1, false, TYPALIGN_INT));
}

static Datum
oid_array(List *oids)
{
	int			n = list_length(oids);
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	ListCell   *lc;
	int			i = 0;

	foreach(lc, oids)
		elems[i++] = ObjectIdGetDatum(lfirst_oid(lc));
	return PointerGetDatum(construct_array(elems, n, OIDOID, sizeof(Oid), true,
										   TYPALIGN_INT));
}

/*
 * Run with search_path = pg_catalog, pg_temp: every name the deparser prints
 * (pg_get_viewdef, pg_get_constraintdef) is then schema-qualified, and every
 * statement built from them means the same objects whatever the user's path.
 * pg_temp is named last: left out, it would be searched first for relations
 * and types, and a temporary "text" or "uuid" would capture a cast.
 */
static int
enter_catalog_path(void)
{
	int			nest = NewGUCNestLevel();

	(void) set_config_option("search_path", LG_SAFE_SEARCH_PATH,
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	return nest;
}

static char *
schema_name(DepPlan *plan)
{
	return MemoryContextStrdup(plan->cxt,
							   quote_identifier(get_namespace_name(plan->schema)));
}

/* The key columns of table t (id and its foreign keys) */
static bool
is_key_column(const LgTable *t, const char *colname)
{
	int			i;

	if (strcmp(colname, "id") == 0)
		return true;
	for (i = 0; i < t->nfks; i++)
		if (strcmp(t->fks[i].column, colname) == 0)
			return true;
	return false;
}

/* ---------------------------------------------------------------------------
 * the plan
 * ---------------------------------------------------------------------------
 */

/* users.id integer: the update goes to uuid keys */
static bool
keys_are_integer(Oid schema)
{
	Oid			relid = get_relname_relid("users", schema);
	AttrNumber	attnum;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table %s.users does not exist", get_namespace_name(schema))));
	attnum = get_attnum(relid, "id");
	return get_atttype(relid, attnum) != UUIDOID;
}

static void
plan_roots(DepPlan *plan)
{
	int			i;

	for (i = 0; i < LG_NTABLES; i++)
	{
		plan->roots[i] = get_relname_relid(lg_tables[i].name, plan->schema);
		if (!OidIsValid(plan->roots[i]))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("table %s.%s does not exist",
							get_namespace_name(plan->schema), lg_tables[i].name)));
	}
}

static const char *
root_name(DepPlan *plan, Oid relid)
{
	int			i;

	for (i = 0; i < LG_NTABLES; i++)
		if (plan->roots[i] == relid)
			return lg_tables[i].name;
	return NULL;
}

/*
 * A NOT NULL constraint (contype 'n', PostgreSQL 18 on: see
 * LG_PG_NOTNULL_CONSTRAINTS) is part of its table, as attnotnull is before
 * 18: never a dependent of the application's.
 */
static const char *const dependents_sql =
"WITH roots AS ("
"    SELECT c.oid AS relid, c.reltype FROM pg_catalog.pg_class c"
"     WHERE c.oid OPERATOR(pg_catalog.=) ANY ($1)"
"), deps AS ("
"    SELECT d.classid, d.objid"
"      FROM pg_catalog.pg_depend d"
"     WHERE d.deptype OPERATOR(pg_catalog.=) ANY (ARRAY['n', 'a']::pg_catalog.\"char\"[])"
"       AND ((d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
"             AND d.refobjid OPERATOR(pg_catalog.=) ANY (SELECT relid FROM roots))"
"         OR (d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass"
"             AND d.refobjid OPERATOR(pg_catalog.=) ANY (SELECT reltype FROM roots)))"
"     GROUP BY d.classid, d.objid"
"), classified(classid, objid, category, ev_class) AS MATERIALIZED ("
"SELECT d.classid, d.objid,"
"  CASE"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_constraint'::pg_catalog.regclass THEN"
"    (SELECT CASE WHEN con.contype OPERATOR(pg_catalog.=) 'n' THEN 'skip'"
"                 WHEN con.conrelid OPERATOR(pg_catalog.=) ANY (SELECT relid FROM roots)"
"                 THEN CASE WHEN con.conname::text OPERATOR(pg_catalog.=) ANY ($2) OR con.conname OPERATOR(pg_catalog.~~) '\\_lg\\_%' THEN 'own'"
"                      ELSE 'constraint' END"
"                 WHEN con.conparentid OPERATOR(pg_catalog.<>) 0 THEN 'skip'"
"                 WHEN con.contype OPERATOR(pg_catalog.=) 'f' THEN 'foreign key'"
"                 ELSE 'constraint' END"
"       FROM pg_catalog.pg_constraint con WHERE con.oid OPERATOR(pg_catalog.=) d.objid)"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass THEN"
"    (SELECT CASE WHEN c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['i', 'I']::pg_catalog.\"char\"[])"
"                      AND (c.relname::text OPERATOR(pg_catalog.=) ANY ($2) OR c.relname OPERATOR(pg_catalog.~~) '\\_lg\\_%') THEN 'own'"
"                 WHEN c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['i', 'I']::pg_catalog.\"char\"[]) THEN 'index'"
"                 WHEN c.relkind OPERATOR(pg_catalog.=) 't' THEN 'skip'"
"                 WHEN c.relkind OPERATOR(pg_catalog.=) 'S' THEN 'sequence'"
"                 ELSE 'table' END"
"       FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) d.objid)"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass THEN"
"    (SELECT CASE WHEN c.oid OPERATOR(pg_catalog.=) ANY (SELECT relid FROM roots) THEN 'rule'"
"                 WHEN r.rulename OPERATOR(pg_catalog.=) '_RETURN' AND c.relnamespace IN"
"                      (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname OPERATOR(pg_catalog.=) 'lane_google_v1') THEN 'skip'"
"                 WHEN r.rulename OPERATOR(pg_catalog.=) '_RETURN' AND c.relkind OPERATOR(pg_catalog.=) 'v' THEN 'view'"
"                 WHEN r.rulename OPERATOR(pg_catalog.=) '_RETURN' AND c.relkind OPERATOR(pg_catalog.=) 'm' THEN 'materialized view'"
"                 ELSE 'rule' END"
"       FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) r.ev_class"
"      WHERE r.oid OPERATOR(pg_catalog.=) d.objid)"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_trigger'::pg_catalog.regclass THEN"
"    (SELECT CASE WHEN t.tgisinternal THEN 'skip'"
"                 WHEN t.tgname::text OPERATOR(pg_catalog.=) ANY ($2) OR t.tgname OPERATOR(pg_catalog.~~) '\\_lg\\_%'"
"                      OR t.tgname OPERATOR(pg_catalog.~~) 'lane\\_google\\_online\\_%' THEN 'own'"
"                 ELSE 'trigger' END"
"       FROM pg_catalog.pg_trigger t WHERE t.oid OPERATOR(pg_catalog.=) d.objid)"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_attrdef'::pg_catalog.regclass THEN"
"    (SELECT CASE WHEN a.adrelid OPERATOR(pg_catalog.=) ANY (SELECT relid FROM roots) THEN 'own' ELSE 'default' END"
"       FROM pg_catalog.pg_attrdef a WHERE a.oid OPERATOR(pg_catalog.=) d.objid)"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_policy'::pg_catalog.regclass THEN 'policy'"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass THEN 'statistics object'"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_publication_rel'::pg_catalog.regclass THEN 'publication'"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass THEN 'function'"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass THEN 'type'"
"  ELSE 'other' END,"
"  CASE WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
"       THEN (SELECT r.ev_class FROM pg_catalog.pg_rewrite r WHERE r.oid OPERATOR(pg_catalog.=) d.objid) END"
"  FROM deps d"
")"
/*
 * pg_describe_object() is most of the cost: only for what plan_direct()
 * names (not what it skips or hands to plan_foreign_keys() and plan_views())
 */
"SELECT c.objid,"
"       CASE WHEN c.category OPERATOR(pg_catalog.=) ANY (ARRAY['own', 'skip', 'foreign key', 'view', 'materialized view']::pg_catalog.text[]) THEN NULL"
"            ELSE pg_catalog.pg_describe_object(c.classid, c.objid, 0) END,"
"       CASE WHEN c.category OPERATOR(pg_catalog.=) ANY (ARRAY['own', 'skip', 'foreign key', 'view', 'materialized view']::pg_catalog.text[]) THEN NULL"
"            ELSE (SELECT pg_catalog.min(pg_catalog.pg_describe_object(d.refclassid, d.refobjid, 0))"
"                    FROM pg_catalog.pg_depend d"
"                   WHERE d.classid OPERATOR(pg_catalog.=) c.classid AND d.objid OPERATOR(pg_catalog.=) c.objid AND d.deptype OPERATOR(pg_catalog.=) ANY (ARRAY['n', 'a']::pg_catalog.\"char\"[])"
"                     AND ((d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
"                           AND d.refobjid OPERATOR(pg_catalog.=) ANY (SELECT relid FROM roots))"
"                       OR (d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass"
"                           AND d.refobjid OPERATOR(pg_catalog.=) ANY (SELECT reltype FROM roots)))) END,"
"       c.category, c.ev_class"
"  FROM classified c ORDER BY 4, 2";

static const char *
cannot_reason(const char *category)
{
	if (strcmp(category, "trigger") == 0)
		return "a trigger of the application's on a table the update rebuilds";
	if (strcmp(category, "policy") == 0)
		return "a row security policy on a table the update rebuilds";
	if (strcmp(category, "rule") == 0)
		return "a rule on or over a table the update rebuilds";
	if (strcmp(category, "publication") == 0)
		return "publication membership of a table the update rebuilds";
	if (strcmp(category, "statistics object") == 0)
		return "a statistics object on a table the update rebuilds";
	if (strcmp(category, "function") == 0)
		return "a SQL function whose body (BEGIN ATOMIC) depends on the table";
	if (strcmp(category, "index") == 0 || strcmp(category, "constraint") == 0)
		return "added by the application to a table the update rebuilds";
	if (strcmp(category, "type") == 0 || strcmp(category, "table") == 0)
		return "uses the table's row type, which the update drops";
	return "depends on a table the update rebuilds";
}

static void
plan_cannot(DepPlan *plan, const char *category, const char *identity,
			const char *on_what, const char *reason)
{
	DepItem    *it = new_item(plan, DT_NONE, category);

	it->identity = MemoryContextStrdup(plan->cxt, identity);
	it->depends_on = MemoryContextStrdup(plan->cxt, on_what);
	it->action = MemoryContextStrdup(plan->cxt, "none: the update refuses");
	it->reason = MemoryContextStrdup(plan->cxt, reason);
	plan->ncannot++;
}

/* legacy_references, or NULL when this version has none (1.0, 2.0) */
static char *
references_table(DepPlan *plan)
{
	Oid			relid = get_relname_relid("legacy_references", plan->schema);

	if (!OidIsValid(relid))
		return NULL;
	return pfmt(plan, "%s.legacy_references", schema_name(plan));
}

static void
plan_foreign_keys(DepPlan *plan, List *fk_oids, const char *regtab)
{
	int			i;
	uint64		n;
	Oid			argtypes[1] = {OIDARRAYOID};
	Datum		args[1];
	char	  **legacy_types;
	char	   *sql;

	if (fk_oids == NIL)
		return;
	args[0] = oid_array(fk_oids);

	/*
	 * The definitions (pg_get_constraintdef) only for the update, once it no
	 * longer refuses: do_detach().  Column 12: the type a referencing column
	 * returns to at the integer version.
	 */
	sql = psprintf("SELECT con.conrelid, pg_catalog.format('%%I.%%I', n.nspname, c.relname),"
				   "       con.conname, con.oid,"
				   "       con.convalidated, con.confrelid,"
				   "       pg_catalog.array_length(con.conkey, 1),"
				   "       (SELECT pg_catalog.string_agg(ra.attname, ',' ORDER BY k.i)"
				   "          FROM pg_catalog.unnest(con.confkey) WITH ORDINALITY AS k(attnum, i)"
				   "          JOIN pg_catalog.pg_attribute ra ON ra.attrelid OPERATOR(pg_catalog.=) con.confrelid"
				   "                                         AND ra.attnum OPERATOR(pg_catalog.=) k.attnum),"
				   "       a.attname, a.atttypid, pg_catalog.format_type(a.atttypid, a.atttypmod),"
				   "       %s"
				   "  FROM pg_catalog.pg_constraint con"
				   "  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) con.conrelid"
				   "  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
				   "  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) con.conrelid"
				   "                                AND a.attnum OPERATOR(pg_catalog.=) con.conkey[1]"
				   " WHERE con.oid OPERATOR(pg_catalog.=) ANY ($1)"
				   " ORDER BY 2, 3",
				   regtab
				   ? psprintf("(SELECT pg_catalog.format_type(r.legacy_type, NULL) FROM %s r"
							  "  WHERE r.tab OPERATOR(pg_catalog.=) con.conrelid AND r.col OPERATOR(pg_catalog.=) a.attname"
							  "    AND r.legacy_type IS NOT NULL)", regtab)
				   : "NULL::pg_catalog.text");
	if (SPI_execute_with_args(sql, 1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	n = SPI_processed;
	legacy_types = palloc(sizeof(char *) * (n + 1));

	/* copy out */
	{
		SPITupleTable *tt = SPI_tuptable;
		DepItem   **items = palloc(sizeof(DepItem *) * (n + 1));

		for (i = 0; i < n; i++)
		{
			DepItem    *it = new_item(plan, DT_FK, "foreign key");
			bool		isnull;
			const char *refcols;
			const char *parent;
			const LgTable *t;
			int			ncols;
			Oid			atttypid;

			SPI_tuptable = tt;
			it->relid = DatumGetObjectId(col_datum(i, 1, &isnull));
			it->relname = col(plan, i, 2);
			it->conname = col(plan, i, 3);
			it->conoid = DatumGetObjectId(col_datum(i, 4, &isnull));
			it->validated = DatumGetBool(col_datum(i, 5, &isnull));
			parent = root_name(plan, DatumGetObjectId(col_datum(i, 6, &isnull)));
			ncols = DatumGetInt32(col_datum(i, 7, &isnull));
			refcols = col(plan, i, 8);
			it->colname = col(plan, i, 9);
			atttypid = DatumGetObjectId(col_datum(i, 10, &isnull));
			it->from_type = col(plan, i, 11);
			legacy_types[i] = col(plan, i, 12);
			it->referenced = MemoryContextStrdup(plan->cxt, parent);
			it->identity = pfmt(plan, "%s on %s", quote_identifier(it->conname), it->relname);
			it->depends_on = pfmt(plan, "%s.%s(%s)", schema_name(plan), quote_identifier(parent), refcols);
			items[i] = it;
			t = lg_find_table(parent);

			if (ncols == 1 && strcmp(refcols, "id") == 0)
			{
				if (plan->to_uuid && atttypid != INT2OID && atttypid != INT4OID &&
					atttypid != INT8OID)
					it->reason = pfmt(plan, "column %s is %s: only smallint, integer and bigint references convert",
									  quote_identifier(it->colname), it->from_type);
				else if (!plan->to_uuid && atttypid != UUIDOID)
					it->reason = pfmt(plan, "column %s is %s, not uuid",
									  quote_identifier(it->colname), it->from_type);
			}
			else
			{
				/* a unique key of non-key columns: the constraint is re-created as it is */
				char	   *copy = pstrdup(refcols);
				char	   *tok;
				char	   *save;

				for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
					if (is_key_column(t, tok))
						it->reason = pfmt(plan, "references key columns (%s) of %s together with other columns",
										  refcols, parent);
			}
		}
		/* the target types, once the tuple table is no longer needed */
		for (i = 0; i < n; i++)
		{
			DepItem    *it = items[i];

			if (it->reason)
			{
				it->action = MemoryContextStrdup(plan->cxt, "none: the update refuses");
				plan->ncannot++;
				continue;
			}
			plan->ncarried++;
			if (strcmp(it->depends_on + strlen(it->depends_on) - 4, "(id)") != 0)
			{
				it->action = MemoryContextStrdup(plan->cxt, "re-create the constraint (its columns keep their type)");
				continue;
			}
			if (plan->to_uuid)
			{
				it->to_type = MemoryContextStrdup(plan->cxt, "uuid");
				it->action = pfmt(plan, "convert %s %s -> uuid by legacy_uuid('%s', %s); re-create the constraint",
								  quote_identifier(it->colname), it->from_type,
								  it->referenced, quote_identifier(it->colname));
			}
			else
			{
				it->to_type = legacy_types[i] ? legacy_types[i]
					: MemoryContextStrdup(plan->cxt, "integer");
				it->action = pfmt(plan, "convert %s uuid -> %s by the legacy id of the %s row; re-create the constraint",
								  quote_identifier(it->colname), it->to_type, it->referenced);
			}
		}
	}
}

/*
 * Which registrations a plan reads: "campaigns" names the extension's table
 * (the update's), "public.campaigns" an application's legacy table that
 * convert_legacy() copies from schema public (that source's carry).
 */
static char *
references_filter(DepPlan *plan)
{
	if (!OidIsValid(plan->src_schema))
		return "pg_catalog.strpos(r.referenced, '.') OPERATOR(pg_catalog.=) 0";
	return psprintf("pg_catalog.starts_with(r.referenced, %s)",
					quote_literal_cstr(psprintf("%s.",
												quote_identifier(get_namespace_name(plan->src_schema)))));
}

static void
plan_references(DepPlan *plan, const char *regtab)
{
	uint64		n;
	int			i;
	SPITupleTable *tt;

	if (regtab == NULL)
		return;
	spi_exec(psprintf("SELECT r.tab, pg_catalog.format('%%I.%%I', n.nspname, c.relname), r.col,"
					  "       pg_catalog.regexp_replace(r.referenced, '^.*\\.', ''), a.atttypid, pg_catalog.format_type(a.atttypid, a.atttypmod),"
					  "       pg_catalog.format_type(r.legacy_type, NULL), r.tab::pg_catalog.text"
					  "  FROM %s r"
					  "  LEFT JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) r.tab"
					  "  LEFT JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
					  "  LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) r.tab AND a.attname OPERATOR(pg_catalog.=) r.col"
					  "                                    AND NOT a.attisdropped"
					  " WHERE NOT r.declared AND %s ORDER BY 2, 3", regtab,
					  references_filter(plan)),
			 SPI_OK_SELECT);
	n = SPI_processed;
	tt = SPI_tuptable;
	for (i = 0; i < n; i++)
	{
		DepItem    *it;
		bool		isnull;
		Oid			atttypid;
		ListCell   *lc;
		bool		dup = false;
		Oid			relid;
		char	   *colname;

		SPI_tuptable = tt;
		relid = DatumGetObjectId(col_datum(i, 1, &isnull));
		colname = col(plan, i, 3);
		foreach(lc, plan->items)
		{
			DepItem    *other = lfirst(lc);

			if (other->type == DT_FK && other->relid == relid &&
				strcmp(other->colname, colname) == 0)
				dup = true;
		}
		if (dup)
			continue;			/* a declared foreign key carries it */

		it = new_item(plan, DT_REF, "registered reference");
		it->relid = relid;
		it->colname = colname;
		it->relname = col(plan, i, 2);
		it->referenced = col(plan, i, 4);
		it->depends_on = pfmt(plan, "%s.%s(id)", schema_name(plan), quote_identifier(it->referenced));
		if (it->relname == NULL)
		{
			it->identity = pfmt(plan, "%s.%s", col(plan, i, 8), quote_identifier(colname));
			it->reason = MemoryContextStrdup(plan->cxt, "the registered table no longer exists");
		}
		else
		{
			char	   *refusal;

			it->identity = pfmt(plan, "%s.%s", it->relname, quote_identifier(colname));
			atttypid = DatumGetObjectId(col_datum(i, 5, &isnull));
			/* registered before add_legacy_reference() refused these */
			if ((refusal = reference_table_refusal(relid)) != NULL)
				it->reason = pfmt(plan, "table %s: not an application's table", refusal);
			else if (isnull)
				it->reason = MemoryContextStrdup(plan->cxt, "the registered column no longer exists");
			else
			{
				it->from_type = col(plan, i, 6);
				if (plan->to_uuid && atttypid != INT2OID && atttypid != INT4OID &&
					atttypid != INT8OID && atttypid != TEXTOID && atttypid != VARCHAROID)
					it->reason = pfmt(plan, "column is %s: only smallint, integer, bigint, text and varchar references convert",
									  it->from_type);
				else if (!plan->to_uuid && atttypid != UUIDOID)
					it->reason = pfmt(plan, "column is %s, not uuid", it->from_type);
			}
		}
		if (it->reason)
		{
			it->action = MemoryContextStrdup(plan->cxt, "none: the update refuses");
			plan->ncannot++;
			continue;
		}
		plan->ncarried++;
		if (plan->to_uuid)
		{
			it->to_type = MemoryContextStrdup(plan->cxt, "uuid");
			it->action = pfmt(plan, "convert %s %s -> uuid by legacy_uuid('%s', %s)",
							  quote_identifier(colname), it->from_type, it->referenced,
							  quote_identifier(colname));
		}
		else
		{
			char	   *lt = col(plan, i, 7);

			it->to_type = lt ? lt : MemoryContextStrdup(plan->cxt, "integer");
			it->action = pfmt(plan, "convert %s uuid -> %s by the legacy id of the %s row",
							  quote_identifier(colname), it->to_type, it->referenced);
		}
	}
}

/*
 * What depends on a referencing column that changes type: its plain indexes
 * and unique keys are rebuilt, its NOT NULL constraint (18) stays, views over
 * it are carried; anything else
 * (a CHECK, a default, an expression index, a policy, a trigger's WHEN)
 * would not survive the type change.
 */
static void
plan_column_dependents(DepPlan *plan, List **seeds)
{
	ListCell   *lc;
	StringInfoData pairs;
	StringInfoData roots;
	uint64		n;
	int			i;
	int			r;

	initStringInfo(&pairs);
	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if ((it->type == DT_FK || it->type == DT_REF) && it->reason == NULL && it->to_type)
			appendStringInfo(&pairs, "%s(%u,%d)", pairs.len ? "," : "",
							 it->relid, get_attnum(it->relid, it->colname));
	}
	if (pairs.len == 0)
		return;
	initStringInfo(&roots);
	for (r = 0; r < LG_NTABLES; r++)
		appendStringInfo(&roots, "%s%u", r ? "," : "", plan->roots[r]);

	spi_exec(psprintf(
					  "SELECT DISTINCT d.objid,"
					  "       CASE WHEN d.category OPERATOR(pg_catalog.=) ANY (ARRAY['skip', 'view']::pg_catalog.text[]) THEN NULL"
					  "            ELSE pg_catalog.pg_describe_object(d.classid, d.objid, 0) END,"
					  "       CASE WHEN d.category OPERATOR(pg_catalog.=) ANY (ARRAY['skip', 'view']::pg_catalog.text[]) THEN NULL"
					  "            ELSE pg_catalog.pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid) END,"
					  "       d.category, d.ev_class, d.relid"
					  "  FROM (SELECT d.classid, d.objid, d.refclassid, d.refobjid, d.refobjsubid,"
					  "  CASE"
					  "  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_constraint'::pg_catalog.regclass THEN"
					  "    (SELECT CASE WHEN con.contype OPERATOR(pg_catalog.=) 'f' AND con.confrelid OPERATOR(pg_catalog.=) ANY ('{%s}'::pg_catalog.oid[]) THEN 'skip'"
					  "                 WHEN con.contype OPERATOR(pg_catalog.=) ANY (ARRAY['p', 'u', 'n']::pg_catalog.\"char\"[]) THEN 'skip'"
					  "                 ELSE 'constraint' END"
					  "       FROM pg_catalog.pg_constraint con WHERE con.oid OPERATOR(pg_catalog.=) d.objid)"
					  "  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass THEN"
					  "    (SELECT CASE WHEN i.indexprs IS NULL AND i.indpred IS NULL THEN 'skip' ELSE 'index' END"
					  "       FROM pg_catalog.pg_index i WHERE i.indexrelid OPERATOR(pg_catalog.=) d.objid)"
					  "  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass THEN"
					  "    (SELECT CASE WHEN r.rulename OPERATOR(pg_catalog.=) '_RETURN' AND c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['v', 'm']::pg_catalog.\"char\"[]) THEN 'view'"
					  "                 ELSE 'rule' END"
					  "       FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) r.ev_class"
					  "      WHERE r.oid OPERATOR(pg_catalog.=) d.objid)"
					  "  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass THEN 'skip'"
					  "  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_attrdef'::pg_catalog.regclass THEN 'default'"
					  "  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_policy'::pg_catalog.regclass THEN 'policy'"
					  "  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_trigger'::pg_catalog.regclass THEN 'trigger'"
					  "  ELSE 'other' END,"
					  "  CASE WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
					  "       THEN (SELECT r.ev_class FROM pg_catalog.pg_rewrite r WHERE r.oid OPERATOR(pg_catalog.=) d.objid) END,"
					  "  p.relid::pg_catalog.oid"
					  "  FROM pg_catalog.pg_depend d"
					  "  JOIN (VALUES %s) AS p(relid, attnum)"
					  "    ON d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
					  "   AND d.refobjid OPERATOR(pg_catalog.=) p.relid::pg_catalog.oid AND d.refobjsubid OPERATOR(pg_catalog.=) p.attnum"
					  " WHERE d.deptype OPERATOR(pg_catalog.=) ANY (ARRAY['n', 'a']::pg_catalog.\"char\"[])"
					  "   AND d.classid OPERATOR(pg_catalog.<>) 'pg_catalog.pg_type'::pg_catalog.regclass"
					  " OFFSET 0) AS d(classid, objid, refclassid, refobjid, refobjsubid, category, ev_class, relid)"
					  " ORDER BY 2",
					  roots.data, pairs.data),
			 SPI_OK_SELECT);
	n = SPI_processed;
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		char	   *category = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 4);

		if (category == NULL || strcmp(category, "skip") == 0)
			continue;
		if (strcmp(category, "view") == 0)
		{
			Oid			viewid = DatumGetObjectId(col_datum(i, 5, &isnull));
			Oid			relid = DatumGetObjectId(col_datum(i, 6, &isnull));
			MemoryContext old = MemoryContextSwitchTo(plan->cxt);

			*seeds = list_append_unique_oid(*seeds, viewid);
			/* the trial needs this table in its target layout */
			plan->shadow_rels = list_append_unique_oid(plan->shadow_rels, relid);
			MemoryContextSwitchTo(old);
			continue;
		}
		plan_cannot(plan, category, col(plan, i, 2), col(plan, i, 3),
					"uses a referencing column whose type the update changes");
	}
}

/* The dependents of the 11 tables, classified */
static void
plan_direct(DepPlan *plan, List **fk_oids, List **seeds)
{
	Oid			argtypes[2] = {OIDARRAYOID, TEXTARRAYOID};
	Datum		args[2];
	List	   *roots = NIL;
	uint64		n;
	int			i;
	int			r;

	for (r = 0; r < LG_NTABLES; r++)
		roots = lappend_oid(roots, plan->roots[r]);
	args[0] = oid_array(roots);
	args[1] = own_names_array();
	if (SPI_execute_with_args(dependents_sql, 2, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	n = SPI_processed;
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		Oid			objid = DatumGetObjectId(col_datum(i, 1, &isnull));
		char	   *category = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 4);

		if (category == NULL || strcmp(category, "own") == 0 || strcmp(category, "skip") == 0)
			continue;
		if (strcmp(category, "foreign key") == 0)
			*fk_oids = lappend_oid(*fk_oids, objid);
		else if (strcmp(category, "view") == 0 || strcmp(category, "materialized view") == 0)
		{
			Oid			viewid = DatumGetObjectId(col_datum(i, 5, &isnull));

			*seeds = list_append_unique_oid(*seeds, viewid);
		}
		else if (!collect_carried(plan, category, objid))
			plan_cannot(plan, category, col(plan, i, 2), col(plan, i, 3),
						cannot_reason(category));
	}
}

/*
 * Views over the 11 tables or over converted columns, and every view over
 * those, with the depth that orders their re-creation.  Anything else that
 * depends on one of them cannot be carried.
 */
static void
plan_views(DepPlan *plan, List *seeds)
{
	Oid			argtypes[1] = {OIDARRAYOID};
	Datum		args[1];
	uint64		n;
	int			i;
	List	   *views = NIL;
	SPITupleTable *tt;
	HTAB	   *byoid;
	HASHCTL		ctl;

	if (seeds == NIL)
		return;
	/* the views by oid: the queries below name thousands of them */
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(ViewEntry);
	ctl.hcxt = CurrentMemoryContext;
	byoid = hash_create("lane_google views", 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	args[0] = oid_array(seeds);
	if (SPI_execute_with_args(
							  "WITH RECURSIVE v(oid, depth) AS ("
							  "    SELECT s, 1 FROM pg_catalog.unnest($1) AS s"
							  "  UNION ALL"
							  "    SELECT r.ev_class, v.depth OPERATOR(pg_catalog.+) 1 FROM v"
							  "      JOIN pg_catalog.pg_depend d"
							  "        ON d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
							  "       AND d.refobjid OPERATOR(pg_catalog.=) v.oid"
							  "       AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
							  "      JOIN pg_catalog.pg_rewrite r ON r.oid OPERATOR(pg_catalog.=) d.objid"
							  "     WHERE r.ev_class OPERATOR(pg_catalog.<>) v.oid AND v.depth OPERATOR(pg_catalog.<) 100"
							  ")"
							  "SELECT v.oid, pg_catalog.max(v.depth),"
							  "       pg_catalog.format('%I.%I', n.nspname, c.relname), c.relkind,"
							  "       pg_catalog.pg_get_viewdef(v.oid),"
							  "       pg_catalog.pg_get_userbyid(c.relowner),"
							  "       pg_catalog.array_to_string(c.reloptions, ', '),"
							  "       c.relispopulated,"
							  "       (SELECT ds.description FROM pg_catalog.pg_description ds"
							  "         WHERE ds.objoid OPERATOR(pg_catalog.=) v.oid AND ds.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
							  "           AND ds.objsubid OPERATOR(pg_catalog.=) 0),"
							  "       (SELECT t.spcname FROM pg_catalog.pg_tablespace t WHERE t.oid OPERATOR(pg_catalog.=) c.reltablespace),"
							  "       (SELECT pg_catalog.string_agg(pg_catalog.format('GRANT %s ON %I.%I TO %s%s',"
							  "                 a.privilege_type, n.nspname, c.relname,"
							  "                 CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'"
							  "                      ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END,"
							  "                 CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END), '; ')"
							  "          FROM pg_catalog.aclexplode(c.relacl) AS a),"
							  "       (SELECT pg_catalog.string_agg(pg_catalog.pg_get_indexdef(i.indexrelid), '; ')"
							  "          FROM pg_catalog.pg_index i WHERE i.indrelid OPERATOR(pg_catalog.=) v.oid),"
							  "       (SELECT pg_catalog.string_agg(pg_catalog.format('COMMENT ON COLUMN %I.%I.%I IS %L',"
							  "                 n.nspname, c.relname, a.attname, ds.description), '; ')"
							  "          FROM pg_catalog.pg_description ds"
							  "          JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) ds.objoid AND a.attnum OPERATOR(pg_catalog.=) ds.objsubid"
							  "         WHERE ds.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
							  "           AND ds.objoid OPERATOR(pg_catalog.=) v.oid AND ds.objsubid OPERATOR(pg_catalog.>) 0),"
							  "       c.relacl IS NOT NULL"
							  "  FROM v JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) v.oid"
							  "  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
							  " GROUP BY v.oid, n.nspname, c.relname, c.relkind, c.relowner, c.reloptions,"
							  "          c.relispopulated, c.reltablespace, c.relacl"
							  " ORDER BY 2, 3",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	n = SPI_processed;
	tt = SPI_tuptable;
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		bool		matview;
		DepItem    *it;
		char	   *opts;
		char	   *spc;
		char	   *def;
		StringInfoData after;
		const char *what;
		char	   *v;

		SPI_tuptable = tt;
		matview = DatumGetChar(col_datum(i, 4, &isnull)) == RELKIND_MATVIEW;
		what = matview ? "MATERIALIZED VIEW" : "VIEW";
		it = new_item(plan, DT_VIEW, matview ? "materialized view" : "view");
		it->viewid = DatumGetObjectId(col_datum(i, 1, &isnull));
		views = lappend_oid(views, it->viewid);
		((ViewEntry *) hash_search(byoid, &it->viewid, HASH_ENTER, NULL))->item = it;
		it->depth = DatumGetInt32(col_datum(i, 2, &isnull));
		it->identity = col(plan, i, 3);
		it->matview = matview;
		def = col(plan, i, 5);
		opts = col(plan, i, 7);
		it->populated = DatumGetBool(col_datum(i, 8, &isnull));
		spc = col(plan, i, 10);
		/* pg_get_viewdef ends with ';' */
		if (def && strlen(def) > 0 && def[strlen(def) - 1] == ';')
			def[strlen(def) - 1] = '\0';
		it->create_sql = pfmt(plan, "CREATE %s %s%s%s%s%s AS %s",
							  what, it->identity,
							  opts && *opts ? " WITH (" : "", opts && *opts ? opts : "",
							  opts && *opts ? ")" : "",
							  spc ? psprintf(" TABLESPACE %s", quote_identifier(spc)) : "",
							  def);
		it->drop_sql = pfmt(plan, "DROP %s %s", what, it->identity);
		it->query_sql = MemoryContextStrdup(plan->cxt, def);

		initStringInfo(&after);
		appendStringInfo(&after, "ALTER %s %s OWNER TO %s", what, it->identity,
						 quote_identifier(col(plan, i, 6)));
		if (DatumGetBool(col_datum(i, 14, &isnull)))
		{
			appendStringInfo(&after, "; REVOKE ALL ON %s FROM %s", it->identity,
							 quote_identifier(col(plan, i, 6)));
			if ((v = col(plan, i, 11)) != NULL)
				appendStringInfo(&after, "; %s", v);
		}
		if ((v = col(plan, i, 9)) != NULL)
			appendStringInfo(&after, "; COMMENT ON %s %s IS %s", what, it->identity,
							 quote_literal_cstr(v));
		if ((v = col(plan, i, 13)) != NULL)
			appendStringInfo(&after, "; %s", v);
		if ((v = col(plan, i, 12)) != NULL)
			appendStringInfo(&after, "; %s", v);
		it->after_sql = MemoryContextStrdup(plan->cxt, after.data);
		it->depends_on = MemoryContextStrdup(plan->cxt, "");
		it->action = matview
			? MemoryContextStrdup(plan->cxt, it->populated
								  ? "drop; re-create over the converted tables with its owner, options, grants, comments and indexes; refresh"
								  : "drop; re-create over the converted tables with its owner, options, grants, comments and indexes (unpopulated, as it was)")
			: MemoryContextStrdup(plan->cxt, "drop; re-create over the converted tables with its owner, options, grants and comments");
		plan->ncarried++;
	}

	/* what the views depend on, for the plan's depends_on column */
	args[0] = oid_array(views);
	if (SPI_execute_with_args(
							  "SELECT r.ev_class, pg_catalog.string_agg(DISTINCT pg_catalog.format('%I.%I', n.nspname, c.relname), ', ')"
							  "  FROM pg_catalog.pg_rewrite r"
							  "  JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
							  "                             AND d.objid OPERATOR(pg_catalog.=) r.oid"
							  "                             AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
							  "  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) d.refobjid AND c.oid OPERATOR(pg_catalog.<>) r.ev_class"
							  "  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
							  " WHERE r.ev_class OPERATOR(pg_catalog.=) ANY ($1)"
							  " GROUP BY r.ev_class",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			viewid = DatumGetObjectId(col_datum(i, 1, &isnull));
		ViewEntry  *e = hash_search(byoid, &viewid, HASH_FIND, NULL);

		if (e)
			e->item->depends_on = col(plan, i, 2);
	}

	/* the views other carried views read: the trial re-creates those */
	if (SPI_execute_with_args(
							  "SELECT DISTINCT d.refobjid FROM pg_catalog.pg_rewrite r"
							  "  JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
							  "                             AND d.objid OPERATOR(pg_catalog.=) r.oid"
							  "                             AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
							  " WHERE r.ev_class OPERATOR(pg_catalog.=) ANY ($1)"
							  "   AND d.refobjid OPERATOR(pg_catalog.=) ANY ($1) AND d.refobjid OPERATOR(pg_catalog.<>) r.ev_class",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			viewid = DatumGetObjectId(col_datum(i, 1, &isnull));
		ViewEntry  *e = hash_search(byoid, &viewid, HASH_FIND, NULL);

		if (e)
			e->item->parent = true;
	}

	/* anything else over a carried view */
	if (SPI_execute_with_args(
							  "SELECT DISTINCT pg_catalog.pg_describe_object(d.classid, d.objid, 0),"
							  "       pg_catalog.pg_describe_object(d.refclassid, d.refobjid, 0),"
							  "       CASE"
							  "         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_trigger'::pg_catalog.regclass THEN 'trigger'"
							  "         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass THEN 'rule'"
							  "         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass THEN 'function'"
							  "         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_policy'::pg_catalog.regclass THEN 'policy'"
							  "         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass THEN 'statistics object'"
							  "         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_publication_rel'::pg_catalog.regclass THEN 'publication'"
							  "         ELSE 'other' END"
							  "  FROM pg_catalog.pg_depend d"
							  "  JOIN pg_catalog.pg_class v ON v.oid OPERATOR(pg_catalog.=) ANY ($1)"
							  " WHERE d.deptype OPERATOR(pg_catalog.=) ANY (ARRAY['n', 'a']::pg_catalog.\"char\"[])"
							  "   AND ((d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid OPERATOR(pg_catalog.=) v.oid)"
							  "     OR (d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass AND d.refobjid OPERATOR(pg_catalog.=) v.reltype))"
							  "   AND NOT (d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
							  "            AND (SELECT r.ev_class FROM pg_catalog.pg_rewrite r WHERE r.oid OPERATOR(pg_catalog.=) d.objid)"
							  "                OPERATOR(pg_catalog.=) ANY ($1))"
							  "   AND NOT (d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
							  "            AND (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) d.objid) OPERATOR(pg_catalog.=) ANY (ARRAY['i', 't']::pg_catalog.\"char\"[]))"
							  "   AND d.classid OPERATOR(pg_catalog.<>) 'pg_catalog.pg_type'::pg_catalog.regclass"
							  "   AND d.classid OPERATOR(pg_catalog.<>) 'pg_catalog.pg_attrdef'::pg_catalog.regclass"
							  " ORDER BY 1",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *category = col(plan, i, 3);

		plan_cannot(plan, category, col(plan, i, 1), col(plan, i, 2),
					"depends on a view the update re-creates");
	}
}

/* The application's grants on the 11 tables, to apply to the new ones */
static void
plan_root_grants(DepPlan *plan)
{
	Oid			argtypes[1] = {OIDARRAYOID};
	Datum		args[1];
	List	   *roots = NIL;
	int			r;

	for (r = 0; r < LG_NTABLES; r++)
		roots = lappend_oid(roots, plan->roots[r]);
	args[0] = oid_array(roots);
	if (SPI_execute_with_args(
							  "SELECT pg_catalog.string_agg(g, '; ' ORDER BY g) FROM ("
							  "  SELECT pg_catalog.format('GRANT %s ON %I.%I TO %s%s', a.privilege_type,"
							  "           n.nspname, c.relname,"
							  "           CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'"
							  "                ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END,"
							  "           CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END) AS g"
							  "    FROM pg_catalog.pg_class c"
							  "    JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace,"
							  "         pg_catalog.aclexplode(c.relacl) AS a"
							  "   WHERE c.oid OPERATOR(pg_catalog.=) ANY ($1) AND a.grantee OPERATOR(pg_catalog.<>) c.relowner"
							  "  UNION ALL"
							  "  SELECT pg_catalog.format('GRANT %s (%I) ON %I.%I TO %s%s', a.privilege_type,"
							  "           att.attname, n.nspname, c.relname,"
							  "           CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'"
							  "                ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END,"
							  "           CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)"
							  "    FROM pg_catalog.pg_class c"
							  "    JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
							  "    JOIN pg_catalog.pg_attribute att ON att.attrelid OPERATOR(pg_catalog.=) c.oid AND att.attnum OPERATOR(pg_catalog.>) 0"
							  "                                    AND NOT att.attisdropped,"
							  "         pg_catalog.aclexplode(att.attacl) AS a"
							  "   WHERE c.oid OPERATOR(pg_catalog.=) ANY ($1) AND a.grantee OPERATOR(pg_catalog.<>) c.relowner"
							  "     AND att.attname OPERATOR(pg_catalog.<>) 'legacy_id') AS gr",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	plan->root_grants = SPI_processed > 0 ? col(plan, 0, 1) : NULL;
}

/*
 * Row security on one of the 11 tables: the new table would come without it.
 */
static void
plan_root_flags(DepPlan *plan)
{
	int			r;

	for (r = 0; r < LG_NTABLES; r++)
	{
		HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(plan->roots[r]));
		Form_pg_class form;

		if (!HeapTupleIsValid(tup))
			continue;
		form = (Form_pg_class) GETSTRUCT(tup);
		if (form->relrowsecurity || form->relforcerowsecurity)
			plan_row_security(plan, r, form->relrowsecurity, form->relforcerowsecurity);
		ReleaseSysCache(tup);
	}
}

/* ---------------------------------------------------------------------------
 * carried by SQL kept in the plan: triggers, row security and policies,
 * statistics objects, publication membership
 *
 * Each is kept as the SQL that re-creates it (PostgreSQL's own deparsers:
 * pg_get_triggerdef, pg_get_expr, pg_get_statisticsobjdef), tried before any
 * row is read against the empty tables of the target layout, dropped at
 * convert when it would otherwise stop the tables set aside from going (or
 * keep its name), and re-created at attach, after the views.
 * ---------------------------------------------------------------------------
 */

/* plan_direct(): the kinds carried here are collected, not refused */
static bool
collect_carried(DepPlan *plan, const char *category, Oid objid)
{
	int			k;
	MemoryContext old;

	if (strcmp(category, "trigger") == 0)
		k = CARRY_TRIGGER;
	else if (strcmp(category, "policy") == 0)
		k = CARRY_POLICY;
	else if (strcmp(category, "statistics object") == 0)
		k = CARRY_STATISTICS;
	else if (strcmp(category, "publication") == 0)
		k = CARRY_PUBLICATION;
	else if (strcmp(category, "rule") == 0)
		k = CARRY_RULE;
	else if (strcmp(category, "function") == 0)
		k = CARRY_FUNCTION;
	else if (strcmp(category, "index") == 0)
		k = CARRY_INDEX;
	else
		return false;
	old = MemoryContextSwitchTo(plan->cxt);
	plan->carry_oids[k] = list_append_unique_oid(plan->carry_oids[k], objid);
	MemoryContextSwitchTo(old);
	return true;
}

static DepItem *
new_sql_item(DepPlan *plan, const char *kind, const char *identity,
			 const char *depends_on)
{
	DepItem    *it = new_item(plan, DT_SQL, kind);

	it->identity = MemoryContextStrdup(plan->cxt, identity);
	it->depends_on = MemoryContextStrdup(plan->cxt, depends_on);
	plan->ncarried++;
	return it;
}

/* Run a catalog query over one oid[] of carried objects */
static void
carry_query(const char *sql, List *oids, DepPlan *plan)
{
	Oid			argtypes[2] = {OIDARRAYOID, OIDARRAYOID};
	Datum		args[2];
	List	   *roots = NIL;
	int			r;

	for (r = 0; r < LG_NTABLES; r++)
		roots = lappend_oid(roots, plan->roots[r]);
	args[0] = oid_array(oids);
	args[1] = oid_array(roots);
	if (SPI_execute_with_args(sql, 2, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
}

/*
 * Triggers of the application's on the 11 tables: pg_get_triggerdef (which
 * names the table and function qualified), the enabled state, the comment.
 * They go with the tables set aside; the trigger function is not touched.
 */
static void
plan_triggers(DepPlan *plan)
{
	uint64		i;

	if (plan->carry_oids[CARRY_TRIGGER] == NIL)
		return;
	carry_query("SELECT pg_catalog.pg_describe_object(t.tableoid, t.oid, 0),"
				"       pg_catalog.format('%I.%I', n.nspname, c.relname),"
				"       pg_catalog.quote_ident(t.tgname), pg_catalog.pg_get_triggerdef(t.oid),"
				"       CASE WHEN t.tgenabled OPERATOR(pg_catalog.=) 'D' THEN 'DISABLE' WHEN t.tgenabled OPERATOR(pg_catalog.=) 'R' THEN 'ENABLE REPLICA'"
				"                        WHEN t.tgenabled OPERATOR(pg_catalog.=) 'A' THEN 'ENABLE ALWAYS' END,"
				"       pg_catalog.obj_description(t.oid, 'pg_trigger'),"
				"       t.tgname OPERATOR(pg_catalog.~~) 'lane\\_google\\_online\\_%'"
				"  FROM pg_catalog.pg_trigger t"
				"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.tgrelid"
				"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
				" WHERE t.oid OPERATOR(pg_catalog.=) ANY ($1) ORDER BY 1",
				plan->carry_oids[CARRY_TRIGGER], plan);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		char	   *rel = col(plan, i, 2);
		char	   *name = col(plan, i, 3);
		char	   *enabled = col(plan, i, 5);
		char	   *comment = col(plan, i, 6);
		StringInfoData redo;
		DepItem    *it;

		/* the online conversion's capture triggers are the extension's */
		if (DatumGetBool(col_datum(i, 7, &isnull)))
			continue;
		it = new_sql_item(plan, "trigger", col(plan, i, 1), psprintf("table %s", rel));
		initStringInfo(&redo);
		appendStringInfoString(&redo, col(plan, i, 4));
		if (enabled)
			appendStringInfo(&redo, "; ALTER TABLE %s %s TRIGGER %s", rel, enabled, name);
		if (comment)
			appendStringInfo(&redo, "; COMMENT ON TRIGGER %s ON %s IS %s", name, rel,
							 quote_literal_cstr(comment));
		it->redo_sql = MemoryContextStrdup(plan->cxt, redo.data);
		it->trial_sql = col(plan, i, 4);
		it->detach_sql = pfmt(plan, "DROP TRIGGER %s ON %s", name, rel);
		it->action = enabled
			? pfmt(plan, "re-create on the new table with its definition, comment and state (%s)",
				   enabled)
			: MemoryContextStrdup(plan->cxt, "re-create on the new table with its definition and comment");
	}
}

/*
 * Row security policies: on the 11 tables (they go with the tables set
 * aside), and on other tables whose expressions read the 11 tables (dropped
 * at convert: they would stop the tables set aside from going).
 */
static void
plan_policies(DepPlan *plan)
{
	uint64		i;

	if (plan->carry_oids[CARRY_POLICY] == NIL)
		return;
	carry_query("SELECT pg_catalog.pg_describe_object(p.tableoid, p.oid, 0),"
				"       pg_catalog.format('%I.%I', n.nspname, c.relname),"
				"       pg_catalog.quote_ident(p.polname),"
				"       CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,"
				"       CASE WHEN p.polcmd OPERATOR(pg_catalog.=) 'r' THEN 'SELECT' WHEN p.polcmd OPERATOR(pg_catalog.=) 'a' THEN 'INSERT'"
				"                     WHEN p.polcmd OPERATOR(pg_catalog.=) 'w' THEN 'UPDATE' WHEN p.polcmd OPERATOR(pg_catalog.=) 'd' THEN 'DELETE' ELSE 'ALL' END,"
				"       (SELECT pg_catalog.string_agg(CASE WHEN r.r OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'"
				"                 ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(r.r)) END, ', ' ORDER BY r.i)"
				"          FROM pg_catalog.unnest(p.polroles) WITH ORDINALITY AS r(r, i)),"
				"       pg_catalog.pg_get_expr(p.polqual, p.polrelid),"
				"       pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid),"
				"       pg_catalog.obj_description(p.oid, 'pg_policy'),"
				"       p.polrelid OPERATOR(pg_catalog.=) ANY ($2)"
				"  FROM pg_catalog.pg_policy p"
				"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) p.polrelid"
				"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
				" WHERE p.oid OPERATOR(pg_catalog.=) ANY ($1) ORDER BY 1",
				plan->carry_oids[CARRY_POLICY], plan);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		char	   *rel = col(plan, i, 2);
		char	   *name = col(plan, i, 3);
		char	   *qual = col(plan, i, 7);
		char	   *check = col(plan, i, 8);
		char	   *comment = col(plan, i, 9);
		bool		on_root = DatumGetBool(col_datum(i, 10, &isnull));
		char	   *create;
		DepItem    *it;

		create = psprintf("CREATE POLICY %s ON %s AS %s FOR %s TO %s%s%s%s%s",
						  name, rel, col(plan, i, 4), col(plan, i, 5), col(plan, i, 6),
						  qual ? " USING (" : "", qual ? qual : "", qual ? ")" : "",
						  check ? psprintf(" WITH CHECK (%s)", check) : "");
		it = new_sql_item(plan, "policy", col(plan, i, 1), psprintf("table %s", rel));
		it->redo_sql = comment
			? pfmt(plan, "%s; COMMENT ON POLICY %s ON %s IS %s", create, name, rel,
				   quote_literal_cstr(comment))
			: MemoryContextStrdup(plan->cxt, create);
		if (on_root)
		{
			it->trial_sql = MemoryContextStrdup(plan->cxt, create);
			it->action = MemoryContextStrdup(plan->cxt,
											 "re-create on the new table with its command, roles, expressions and comment");
		}
		else
		{
			it->pre_sql = pfmt(plan, "DROP POLICY %s ON %s", name, rel);
			it->trial_sql = pfmt(plan, "DROP POLICY IF EXISTS %s ON %s; %s", name, rel, create);
			it->action = MemoryContextStrdup(plan->cxt,
											 "drop; re-create over the converted tables with its command, roles, expressions and comment");
		}
	}
}

/* ENABLE / FORCE ROW LEVEL SECURITY of one of the 11 tables */
static void
plan_row_security(DepPlan *plan, int r, bool enable, bool force)
{
	char	   *rel = psprintf("%s.%s", schema_name(plan), quote_identifier(lg_tables[r].name));
	DepItem    *it;

	it = new_sql_item(plan, "row security",
					  psprintf("row level security on table %s.%s",
							   get_namespace_name(plan->schema), lg_tables[r].name),
					  psprintf("table %s.%s", get_namespace_name(plan->schema), lg_tables[r].name));
	it->redo_sql = pfmt(plan, "ALTER TABLE %s %s ROW LEVEL SECURITY%s%s%s", rel,
						enable ? "ENABLE" : "DISABLE",
						force ? "; ALTER TABLE " : "", force ? rel : "",
						force ? " FORCE ROW LEVEL SECURITY" : "");
	it->action = pfmt(plan, "%s%s row level security on the new table",
					  enable ? "enable" : "",
					  force ? (enable ? " and force" : "force") : "");
}

/*
 * Statistics objects on the 11 tables: dropped at convert (their name would
 * be taken), re-created with owner, statistics target and comment.
 */
static void
plan_statistics(DepPlan *plan)
{
	uint64		i;

	if (plan->carry_oids[CARRY_STATISTICS] == NIL)
		return;
	carry_query("SELECT pg_catalog.pg_describe_object(s.tableoid, s.oid, 0),"
				"       pg_catalog.format('%I.%I', n.nspname, s.stxname),"
				"       pg_catalog.pg_get_statisticsobjdef(s.oid),"
				"       pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(s.stxowner)),"
				"       CASE WHEN s.stxstattarget OPERATOR(pg_catalog.>=) 0 THEN s.stxstattarget END,"
				"       pg_catalog.obj_description(s.oid, 'pg_statistic_ext'),"
				"       pg_catalog.format('%I.%I', cn.nspname, c.relname)"
				"  FROM pg_catalog.pg_statistic_ext s"
				"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) s.stxnamespace"
				"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) s.stxrelid"
				"  JOIN pg_catalog.pg_namespace cn ON cn.oid OPERATOR(pg_catalog.=) c.relnamespace"
				" WHERE s.oid OPERATOR(pg_catalog.=) ANY ($1) ORDER BY 1",
				plan->carry_oids[CARRY_STATISTICS], plan);
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *name = col(plan, i, 2);
		char	   *def = col(plan, i, 3);
		char	   *target = col(plan, i, 5);
		char	   *comment = col(plan, i, 6);
		StringInfoData redo;
		DepItem    *it;

		it = new_sql_item(plan, "statistics object", col(plan, i, 1),
						  psprintf("table %s", col(plan, i, 7)));
		initStringInfo(&redo);
		appendStringInfo(&redo, "%s; ALTER STATISTICS %s OWNER TO %s", def, name, col(plan, i, 4));
		if (target)
			appendStringInfo(&redo, "; ALTER STATISTICS %s SET STATISTICS %s", name, target);
		if (comment)
			appendStringInfo(&redo, "; COMMENT ON STATISTICS %s IS %s", name,
							 quote_literal_cstr(comment));
		it->redo_sql = MemoryContextStrdup(plan->cxt, redo.data);
		it->pre_sql = pfmt(plan, "DROP STATISTICS %s", name);
		it->trial_sql = pfmt(plan, "DROP STATISTICS IF EXISTS %s; %s", name, def);
		it->action = MemoryContextStrdup(plan->cxt,
										 "re-create on the new table with its owner, statistics target and comment");
	}
}

/*
 * The application's own indexes on the 11 tables (plain, unique, partial,
 * on expressions): pg_get_indexdef, which names the table qualified, with
 * the same name, tablespace and comment.  Tried unnamed (the original
 * still holds the name), dropped before the tables set aside go, created
 * IF NOT EXISTS: the online swap's shadows already have a copy.
 */
static void
plan_indexes(DepPlan *plan)
{
	uint64		i;

	if (plan->carry_oids[CARRY_INDEX] == NIL)
		return;
	carry_query("SELECT pg_catalog.pg_describe_object('pg_catalog.pg_class'::pg_catalog.regclass, ic.oid, 0),"
				"       pg_catalog.format('%I.%I', n.nspname, ic.relname),"
				"       pg_catalog.pg_get_indexdef(ic.oid),"
				"       pg_catalog.length(pg_catalog.format('CREATE %sINDEX %I ON ',"
				"           CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END, ic.relname)),"
				"       CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END,"
				"       pg_catalog.obj_description(ic.oid, 'pg_class'),"
				"       pg_catalog.format('%I.%I', n.nspname, c.relname)"
				"  FROM pg_catalog.pg_index i"
				"  JOIN pg_catalog.pg_class ic ON ic.oid OPERATOR(pg_catalog.=) i.indexrelid"
				"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.indrelid"
				"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) ic.relnamespace"
				" WHERE ic.oid OPERATOR(pg_catalog.=) ANY ($1) ORDER BY 1",
				plan->carry_oids[CARRY_INDEX], plan);
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *name = col(plan, i, 2);
		char	   *def = col(plan, i, 3);
		int			head = atoi(col(plan, i, 4));
		char	   *unique = col(plan, i, 5);
		char	   *comment = col(plan, i, 6);
		char	   *rest;
		StringInfoData redo;
		DepItem    *it;

		/* "CREATE [UNIQUE ]INDEX name ON ": what follows the name */
		if (def == NULL || (int) strlen(def) < head ||
			strncmp(def + head - 4, " ON ", 4) != 0)
			elog(ERROR, "unexpected index definition: %s", def ? def : "(null)");
		rest = def + head - 3;
		it = new_sql_item(plan, "index", col(plan, i, 1), psprintf("table %s", col(plan, i, 7)));
		initStringInfo(&redo);
		appendStringInfo(&redo, "CREATE %sINDEX IF NOT EXISTS %s", unique,
						 def + strlen("CREATE ") + strlen(unique) + strlen("INDEX "));
		if (comment)
			appendStringInfo(&redo, "; COMMENT ON INDEX %s IS %s", name,
							 quote_literal_cstr(comment));
		it->redo_sql = MemoryContextStrdup(plan->cxt, redo.data);
		it->pre_sql = pfmt(plan, "DROP INDEX %s", name);
		it->trial_sql = pfmt(plan, "CREATE %sINDEX %s", unique, rest);
		it->action = MemoryContextStrdup(plan->cxt,
										 "re-create on the new table with its name, definition and comment");
	}
}

/*
 * Membership of the 11 tables in publications (not FOR ALL TABLES, nor FOR
 * TABLES IN SCHEMA: the new tables are in those by themselves), with the
 * column list and row filter of PostgreSQL 15.
 */
static void
plan_publications(DepPlan *plan)
{
	uint64		i;

	if (plan->carry_oids[CARRY_PUBLICATION] == NIL)
		return;
	carry_query("SELECT pg_catalog.pg_describe_object(pr.tableoid, pr.oid, 0),"
				"       pg_catalog.quote_ident(p.pubname),"
				"       pg_catalog.format('%I.%I', n.nspname, c.relname),"
				"       (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY k.i)"
				"          FROM pg_catalog.unnest(pr.prattrs::pg_catalog.int2[]) WITH ORDINALITY AS k(attnum, i)"
				"          JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) pr.prrelid AND a.attnum OPERATOR(pg_catalog.=) k.attnum),"
				"       pg_catalog.pg_get_expr(pr.prqual, pr.prrelid)"
				"  FROM pg_catalog.pg_publication_rel pr"
				"  JOIN pg_catalog.pg_publication p ON p.oid OPERATOR(pg_catalog.=) pr.prpubid"
				"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) pr.prrelid"
				"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
				" WHERE pr.oid OPERATOR(pg_catalog.=) ANY ($1) ORDER BY 1",
				plan->carry_oids[CARRY_PUBLICATION], plan);
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *pub = col(plan, i, 2);
		char	   *rel = col(plan, i, 3);
		char	   *cols = col(plan, i, 4);
		char	   *qual = col(plan, i, 5);
		DepItem    *it;

		it = new_sql_item(plan, "publication", col(plan, i, 1),
						  psprintf("table %s", rel));
		it->redo_sql = pfmt(plan, "ALTER PUBLICATION %s ADD TABLE %s%s%s%s%s%s%s", pub, rel,
							cols ? " (" : "", cols ? cols : "", cols ? ")" : "",
							qual ? " WHERE (" : "", qual ? qual : "", qual ? ")" : "");
		it->trial_sql = it->redo_sql;
		it->detach_sql = pfmt(plan, "ALTER PUBLICATION %s DROP TABLE %s", pub, rel);
		it->action = pfmt(plan, "add the new table to publication %s%s%s", pub,
						  cols ? " with its column list" : "",
						  qual ? (cols ? " and row filter" : " with its row filter") : "");
	}
}

/*
 * Rules of the application's on the 11 tables, and on other tables whose
 * actions read or write the 11 tables: taken off before any row is written
 * (a rule on a table set aside would act on the way back's UPDATE), and
 * re-created after with their enabled state and comment.
 */
static void
plan_rules(DepPlan *plan)
{
	uint64		i;

	if (plan->carry_oids[CARRY_RULE] == NIL)
		return;
	carry_query("SELECT pg_catalog.pg_describe_object(r.tableoid, r.oid, 0),"
				"       pg_catalog.format('%I.%I', n.nspname, c.relname),"
				"       pg_catalog.quote_ident(r.rulename), pg_catalog.pg_get_ruledef(r.oid),"
				"       CASE WHEN r.ev_enabled OPERATOR(pg_catalog.=) 'D' THEN 'DISABLE' WHEN r.ev_enabled OPERATOR(pg_catalog.=) 'R' THEN 'ENABLE REPLICA'"
				"                         WHEN r.ev_enabled OPERATOR(pg_catalog.=) 'A' THEN 'ENABLE ALWAYS' END,"
				"       pg_catalog.obj_description(r.oid, 'pg_rewrite'),"
				"       r.ev_class OPERATOR(pg_catalog.=) ANY ($2)"
				"  FROM pg_catalog.pg_rewrite r"
				"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) r.ev_class"
				"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
				" WHERE r.oid OPERATOR(pg_catalog.=) ANY ($1) ORDER BY 1",
				plan->carry_oids[CARRY_RULE], plan);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		char	   *rel = col(plan, i, 2);
		char	   *name = col(plan, i, 3);
		char	   *def = col(plan, i, 4);
		char	   *enabled = col(plan, i, 5);
		char	   *comment = col(plan, i, 6);
		bool		on_root = DatumGetBool(col_datum(i, 7, &isnull));
		StringInfoData redo;
		DepItem    *it;

		/* pg_get_ruledef ends with ';' */
		if (def && strlen(def) > 0 && def[strlen(def) - 1] == ';')
			def[strlen(def) - 1] = '\0';
		it = new_sql_item(plan, "rule", col(plan, i, 1), psprintf("table %s", rel));
		initStringInfo(&redo);
		appendStringInfoString(&redo, def);
		if (enabled)
			appendStringInfo(&redo, "; ALTER TABLE %s %s RULE %s", rel, enabled, name);
		if (comment)
			appendStringInfo(&redo, "; COMMENT ON RULE %s ON %s IS %s", name, rel,
							 quote_literal_cstr(comment));
		it->redo_sql = MemoryContextStrdup(plan->cxt, redo.data);
		it->detach_sql = pfmt(plan, "DROP RULE %s ON %s", name, rel);
		it->trial_sql = pfmt(plan, "DROP RULE IF EXISTS %s ON %s; %s", name, rel, def);
		it->action = pfmt(plan, "%s with its definition%s comment%s%s%s",
						  on_root ? "re-create on the new table" : "drop; re-create over the converted tables",
						  enabled ? "," : " and", enabled ? " and state (" : "",
						  enabled ? enabled : "", enabled ? ")" : "");
	}
}

/*
 * Functions whose bodies PostgreSQL records as depending on the 11 tables
 * (SQL functions with BEGIN ATOMIC bodies; any function using their row
 * types): dropped before the tables set aside go, re-created after from
 * pg_get_functiondef with owner, privileges and comment.  What depends on
 * such a function (a view, a default, a policy, another function) is
 * refused by name.
 */
static void
plan_functions(DepPlan *plan)
{
	uint64		i;
	uint64		n;
	SPITupleTable *tt;
	List	   *funcs = NIL;

	if (plan->carry_oids[CARRY_FUNCTION] == NIL)
		return;
	carry_query("SELECT pg_catalog.pg_describe_object(p.tableoid, p.oid, 0),"
				"       p.oid::pg_catalog.regprocedure::pg_catalog.text,"
				"       CASE WHEN p.prokind OPERATOR(pg_catalog.<>) 'a' THEN pg_catalog.pg_get_functiondef(p.oid) END,"
				"       pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(p.proowner)),"
				"       p.proacl IS NOT NULL,"
				"       (SELECT pg_catalog.string_agg(pg_catalog.format('GRANT %s ON ROUTINE %s TO %s%s',"
				"                 a.privilege_type, p.oid::pg_catalog.regprocedure,"
				"                 CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'"
				"                      ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END,"
				"                 CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END), '; ')"
				"          FROM pg_catalog.aclexplode(p.proacl) AS a),"
				"       pg_catalog.obj_description(p.oid, 'pg_proc'),"
				"       p.oid,"
				"       (SELECT pg_catalog.string_agg(DISTINCT pg_catalog.format('%I.%I', n.nspname, c.relname), ', ')"
				"          FROM pg_catalog.pg_depend d"
				"          JOIN pg_catalog.pg_class c"
				"            ON (d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass AND c.oid OPERATOR(pg_catalog.=) d.refobjid)"
				"            OR (d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass AND c.reltype OPERATOR(pg_catalog.=) d.refobjid)"
				"          JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
				"         WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid OPERATOR(pg_catalog.=) p.oid"
				"           AND c.oid OPERATOR(pg_catalog.=) ANY ($2))"
				"  FROM pg_catalog.pg_proc p"
				" WHERE p.oid OPERATOR(pg_catalog.=) ANY ($1)"
				" ORDER BY 1",
				plan->carry_oids[CARRY_FUNCTION], plan);
	n = SPI_processed;
	tt = SPI_tuptable;
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		char	   *sig;
		char	   *def;
		char	   *owner;
		char	   *grants;
		char	   *comment;
		StringInfoData redo;
		DepItem    *it;
		MemoryContext old;

		SPI_tuptable = tt;
		sig = col(plan, i, 2);
		def = col(plan, i, 3);
		owner = col(plan, i, 4);
		grants = col(plan, i, 6);
		comment = col(plan, i, 7);
		if (def == NULL)
		{
			plan_cannot(plan, "aggregate", col(plan, i, 1), "",
						"an aggregate depending on a table the update rebuilds");
			continue;
		}
		it = new_sql_item(plan, "function", col(plan, i, 1), col(plan, i, 9) ? col(plan, i, 9) : "");
		it->objid = DatumGetObjectId(col_datum(i, 8, &isnull));
		old = MemoryContextSwitchTo(plan->cxt);
		funcs = lappend_oid(funcs, it->objid);
		MemoryContextSwitchTo(old);
		initStringInfo(&redo);
		/* created inside the extension's script: not one of its members */
		appendStringInfo(&redo, "%s; ALTER EXTENSION %s DROP ROUTINE %s; ALTER ROUTINE %s OWNER TO %s",
						 def, LG_EXTENSION_NAME, sig, sig, owner);
		if (DatumGetBool(col_datum(i, 5, &isnull)))
		{
			appendStringInfo(&redo, "; REVOKE ALL ON ROUTINE %s FROM PUBLIC; REVOKE ALL ON ROUTINE %s FROM %s",
							 sig, sig, owner);
			if (grants)
				appendStringInfo(&redo, "; %s", grants);
		}
		if (comment)
			appendStringInfo(&redo, "; COMMENT ON ROUTINE %s IS %s", sig, quote_literal_cstr(comment));
		it->redo_sql = MemoryContextStrdup(plan->cxt, redo.data);
		it->pre_sql = pfmt(plan, "DROP ROUTINE %s", sig);
		it->trial_sql = pfmt(plan, "DROP ROUTINE %s CASCADE; %s", sig, def);
		it->action = MemoryContextStrdup(plan->cxt,
										 "drop; re-create over the converted tables with its owner, privileges and comment");
	}

	/* what the update does not re-create around them */
	if (funcs == NIL)
		return;
	carry_query("SELECT CASE WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
				"            THEN (SELECT pg_catalog.pg_describe_object(r.tableoid, r.oid, 0) FROM pg_catalog.pg_rewrite w"
				"                    JOIN pg_catalog.pg_class r ON r.oid OPERATOR(pg_catalog.=) w.ev_class WHERE w.oid OPERATOR(pg_catalog.=) d.objid)"
				"            ELSE pg_catalog.pg_describe_object(d.classid, d.objid, 0) END,"
				"       pg_catalog.pg_describe_object(d.refclassid, d.refobjid, 0),"
				"       CASE"
				"         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass THEN 'view'"
				"         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_attrdef'::pg_catalog.regclass THEN 'default'"
				"         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass THEN 'function'"
				"         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_policy'::pg_catalog.regclass THEN 'policy'"
				"         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_trigger'::pg_catalog.regclass THEN 'trigger'"
				"         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_constraint'::pg_catalog.regclass THEN 'constraint'"
				"         WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass THEN 'index'"
				"         ELSE 'other' END"
				"  FROM pg_catalog.pg_depend d"
				" WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass"
				"   AND d.refobjid OPERATOR(pg_catalog.=) ANY ($1) AND d.deptype OPERATOR(pg_catalog.=) 'n'"
				" ORDER BY 1",
				funcs, plan);
	for (i = 0; i < SPI_processed; i++)
		plan_cannot(plan, col(plan, i, 3), col(plan, i, 1), col(plan, i, 2),
					pfmt(plan, "depends on %s, which the update re-creates", col(plan, i, 2)));
}

/*
 * What a carried view's columns have besides their comments: privileges
 * (GRANT ... (col) ON view) and defaults (ALTER VIEW ... SET DEFAULT),
 * applied after its grants.
 */
static void
plan_view_columns(DepPlan *plan)
{
	ListCell   *lc;
	List	   *views = NIL;
	uint64		i;

	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if (it->type == DT_VIEW)
			views = lappend_oid(views, it->viewid);
	}
	if (views == NIL)
		return;
	carry_query("SELECT a.attrelid,"
				"       pg_catalog.concat_ws('; ',"
				"         (SELECT pg_catalog.string_agg(pg_catalog.format('GRANT %s (%I) ON %I.%I TO %s%s',"
				"                   x.privilege_type, a.attname, n.nspname, c.relname,"
				"                   CASE WHEN x.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'"
				"                        ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(x.grantee)) END,"
				"                   CASE WHEN x.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END), '; ')"
				"            FROM pg_catalog.aclexplode(a.attacl) AS x),"
				"         (SELECT pg_catalog.format('ALTER %s %I.%I ALTER COLUMN %I SET DEFAULT %s',"
				"                   CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END,"
				"                   n.nspname, c.relname, a.attname, pg_catalog.pg_get_expr(ad.adbin, ad.adrelid))"
				"            FROM pg_catalog.pg_attrdef ad WHERE ad.adrelid OPERATOR(pg_catalog.=) a.attrelid AND ad.adnum OPERATOR(pg_catalog.=) a.attnum)),"
				"       (SELECT pg_catalog.format('ALTER VIEW %I.%I ALTER COLUMN %I SET DEFAULT %s',"
				"                   n.nspname, c.relname, a.attname, pg_catalog.pg_get_expr(ad.adbin, ad.adrelid))"
				"          FROM pg_catalog.pg_attrdef ad WHERE ad.adrelid OPERATOR(pg_catalog.=) a.attrelid AND ad.adnum OPERATOR(pg_catalog.=) a.attnum)"
				"  FROM pg_catalog.pg_attribute a"
				"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) a.attrelid"
				"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
				" WHERE a.attrelid OPERATOR(pg_catalog.=) ANY ($1) AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"
				"   AND (a.attacl IS NOT NULL OR a.atthasdef)"
				" ORDER BY a.attrelid, a.attnum",
				views, plan);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			viewid = DatumGetObjectId(col_datum(i, 1, &isnull));
		char	   *sql = col(plan, i, 2);

		char	   *setdef = col(plan, i, 3);

		if (sql == NULL || *sql == '\0')
			continue;
		foreach(lc, plan->items)
		{
			DepItem    *it = lfirst(lc);

			if (it->type != DT_VIEW || it->viewid != viewid)
				continue;
			it->after_sql = pfmt(plan, "%s; %s", it->after_sql, sql);
			/* a default may not fit the column's new type: tried first */
			if (setdef)
				it->trial_sql = it->trial_sql
					? pfmt(plan, "%s; %s", it->trial_sql, setdef)
					: pfmt(plan, "DROP %s IF EXISTS %s CASCADE; %s%s; %s",
						   it->matview ? "MATERIALIZED VIEW" : "VIEW", it->identity,
						   it->create_sql, it->matview ? " WITH NO DATA" : "", setdef);
		}
	}
}

/*
 * Defaults and anything else of the application's that use the sequences
 * of the 11 tables' integer keys (nextval('lane_google.users_id_seq')): the
 * sequences go with the integer keys.
 */
static void
plan_sequence_users(DepPlan *plan)
{
	uint64		i;

	if (!plan->to_uuid)
		return;
	carry_query("SELECT pg_catalog.pg_describe_object(d.classid, d.objid, 0),"
				"       pg_catalog.format('sequence %I.%I', n.nspname, s.relname),"
				"       pg_catalog.format('%I.%I', n.nspname, s.relname)"
				"  FROM pg_catalog.pg_depend o"
				"  JOIN pg_catalog.pg_class s ON s.oid OPERATOR(pg_catalog.=) o.objid AND s.relkind OPERATOR(pg_catalog.=) 'S'"
				"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) s.relnamespace"
				"  JOIN pg_catalog.pg_depend d ON d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
				"                             AND d.refobjid OPERATOR(pg_catalog.=) s.oid AND d.deptype OPERATOR(pg_catalog.=) 'n'"
				" WHERE o.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
				"   AND o.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
				"   AND o.refobjid OPERATOR(pg_catalog.=) ANY ($2) AND o.deptype OPERATOR(pg_catalog.=) ANY (ARRAY['a', 'i']::pg_catalog.\"char\"[])"
				"   AND NOT (d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_attrdef'::pg_catalog.regclass"
				"            AND (SELECT ad.adrelid FROM pg_catalog.pg_attrdef ad WHERE ad.oid OPERATOR(pg_catalog.=) d.objid)"
				"                OPERATOR(pg_catalog.=) ANY ($2))"
				" ORDER BY 1",
				NIL, plan);
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *identity = col(plan, i, 1);

		plan_cannot(plan, strncmp(identity, "default", 7) == 0 ? "default" : "sequence user",
					identity, col(plan, i, 2),
					pfmt(plan, "uses sequence %s, which the update drops with the integer keys;"
						 " give it a sequence of its own first (CREATE SEQUENCE s;"
						 " SELECT setval('s', last_value) FROM %s; then use nextval('s'))",
						 col(plan, i, 3), col(plan, i, 3)));
	}
}

/*
 * convert_legacy's carry sets a reference to a row that was not converted
 * NULL (on_orphan 'quarantine' or 'null') by an UPDATE of the application's
 * table, which checks the row against every CHECK constraint of the table
 * with the rights of the role converting (typically a superuser; the table
 * an application role's).  A constraint calling a function (or an
 * operator's) that is not SECURITY DEFINER, of a role without those
 * privileges, would lend it those rights: refused, named, before the
 * UPDATE (everything is rolled back).  The type change of a referencing
 * column re-checks only the constraints on that column, which the plan
 * refuses anyway (their expressions would change type).
 */
static const char update_rights_sql[] =
"SELECT pg_catalog.quote_ident(c.conname::pg_catalog.text),"
"       p.oid::pg_catalog.regprocedure::pg_catalog.text,"
"       pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(p.proowner)::pg_catalog.text)"
"  FROM pg_catalog.pg_constraint c"
"  JOIN pg_catalog.pg_depend d"
"    ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_constraint'::pg_catalog.regclass"
"   AND d.objid OPERATOR(pg_catalog.=) c.oid"
"  LEFT JOIN pg_catalog.pg_operator o"
"    ON d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_operator'::pg_catalog.regclass"
"   AND o.oid OPERATOR(pg_catalog.=) d.refobjid"
"  JOIN pg_catalog.pg_proc p"
"    ON p.oid OPERATOR(pg_catalog.=) CASE WHEN d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass"
"                                         THEN d.refobjid ELSE o.oprcode::pg_catalog.oid END"
" WHERE c.conrelid OPERATOR(pg_catalog.=) $1 AND c.contype OPERATOR(pg_catalog.=) 'c'"
"   AND NOT p.prosecdef"
"   AND NOT pg_catalog.pg_has_role(p.proowner, $2, 'USAGE')"
" ORDER BY 1, 2 LIMIT 1";

/*
 * The quarantine's to_jsonb() of such a row calls the cast to json of a
 * column's type (not a built-in one), with the caller's rights too.
 */
static const char json_cast_rights_sql[] =
"SELECT pg_catalog.quote_ident(a.attname::pg_catalog.text),"
"       p.oid::pg_catalog.regprocedure::pg_catalog.text,"
"       pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(p.proowner)::pg_catalog.text)"
"  FROM pg_catalog.pg_attribute a"
"  JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) a.atttypid"
"  JOIN pg_catalog.pg_cast k"
"    ON k.castsource OPERATOR(pg_catalog.=) ANY (ARRAY[a.atttypid, t.typbasetype, t.typelem])"
"   AND k.casttarget OPERATOR(pg_catalog.=) 'pg_catalog.json'::pg_catalog.regtype"
"  JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) k.castfunc"
" WHERE a.attrelid OPERATOR(pg_catalog.=) $1 AND a.attnum OPERATOR(pg_catalog.>) 0"
"   AND NOT a.attisdropped"
"   AND NOT p.prosecdef"
"   AND NOT pg_catalog.pg_has_role(p.proowner, $2, 'USAGE')"
" ORDER BY 1, 2 LIMIT 1";

static void
check_update_rights(DepItem *it)
{
	Oid			argtypes[2] = {OIDOID, OIDOID};
	Datum		args[2];
	Relation	rel;

	/* its triggers */
	rel = relation_open(it->relid, AccessShareLock);
	lg_check_trigger_rights(rel, it->relname, TRIGGER_TYPE_UPDATE,
							"Setting references to rows that were not converted NULL would");
	relation_close(rel, AccessShareLock);

	/* its CHECK constraints */
	args[0] = ObjectIdGetDatum(it->relid);
	args[1] = ObjectIdGetDatum(GetUserId());
	if (SPI_execute_with_args(update_rights_sql, 2, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	if (SPI_processed > 0)
	{
		char	   *conname = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		char	   *func = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		char	   *owner = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);

		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("check constraint %s on table %s would run function %s of role %s with the rights of role %s",
						conname, it->relname, func, owner,
						quote_identifier(GetUserNameFromId(GetUserId(), false))),
				 errdetail("Setting references to rows that were not converted NULL checks the rows against the table's constraints with the caller's rights; the function is not SECURITY DEFINER, and its owner does not have the caller's privileges."),
				 errhint("Nothing was converted.  Drop the constraint for the conversion and add it again after, fix the references first, or have a role trusted with your rights own the function.")));
	}

	/* the quarantine's copy of the row: its columns' casts to json */
	if (SPI_execute_with_args(json_cast_rights_sql, 2, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("column %s of table %s has a cast to json, function %s of role %s, which would run with the rights of role %s",
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), it->relname,
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2),
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3),
						quote_identifier(GetUserNameFromId(GetUserId(), false))),
				 errdetail("Setting references to rows that were not converted NULL keeps the rows as they were in legacy_quarantine, as jsonb, with the caller's rights; the function is not SECURITY DEFINER, and its owner does not have the caller's privileges."),
				 errhint("Nothing was converted.  Fix the references first, or have a role trusted with your rights own the function.")));
}

/* Everything above, from build_plan() */
static void
plan_carried(DepPlan *plan)
{
	plan_view_columns(plan);
	plan_functions(plan);
	plan_triggers(plan);
	plan_policies(plan);
	plan_statistics(plan);
	plan_indexes(plan);
	plan_publications(plan);
	plan_rules(plan);
	plan_sequence_users(plan);
}

/* In trial_run(): each carried object with a trial, in its own subtransaction */
static void
trial_carried(DepPlan *plan)
{
	ListCell   *lc;

	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);
		MemoryContext cxt2 = CurrentMemoryContext;
		ResourceOwner owner2 = CurrentResourceOwner;

		if ((it->type != DT_SQL && it->type != DT_VIEW) || it->trial_sql == NULL || it->reason)
			continue;
		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(cxt2);
		PG_TRY();
		{
			spi_exec(it->trial_sql, SPI_OK_UTILITY);
			/* nothing carried here needs another: each leaves no trace */
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt2);
			CurrentResourceOwner = owner2;
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(cxt2);
			edata = CopyErrorData();
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt2);
			CurrentResourceOwner = owner2;
			it->reason = pfmt(plan, "cannot be re-created over the converted tables: %s",
							  edata->message);
			it->action = MemoryContextStrdup(plan->cxt, "none: the update refuses");
			plan->ncannot++;
			plan->ncarried--;
			FreeErrorData(edata);
		}
		PG_END_TRY();
	}
}

/*
 * In do_detach(), once the update goes ahead: the triggers and publication
 * membership leave the tables the update writes (the way back updates the
 * tables set aside: a trigger would fire, a row filter would refuse).
 */
static void
detach_carried(DepPlan *plan)
{
	ListCell   *lc;

	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if (it->type == DT_SQL && it->detach_sql)
			spi_exec(it->detach_sql, SPI_OK_UTILITY);
	}
}

/* In do_convert(), before the referencing columns change */
static void
convert_carried(DepPlan *plan)
{
	ListCell   *lc;

	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if (it->type == DT_SQL && it->pre_sql)
			spi_exec(it->pre_sql, SPI_OK_UTILITY);
	}
}

/* In do_attach(), after the views */
static void
attach_carried(DepPlan *plan)
{
	ListCell   *lc;

	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if (it->type == DT_SQL && it->redo_sql)
			spi_exec(it->redo_sql, SPI_OK_UTILITY);
	}
}

/* ---------------------------------------------------------------------------
 * the trial: re-create every carried view against the target layout
 * ---------------------------------------------------------------------------
 */

/* Lock relid for the trial; false when it cannot be had at once */
static bool
trial_lock(Oid relid, bool may_wait)
{
	if (may_wait)
	{
		LockRelationOid(relid, AccessExclusiveLock);
		return true;
	}
	return ConditionalLockRelationOid(relid, AccessExclusiveLock);
}

/* Put an empty table of the target layout in place of each root and referencing table */
static void
trial_shadows(DepPlan *plan, bool may_wait)
{
	char	   *nsp = schema_name(plan);
	int			r;
	ListCell   *lc;
	List	   *done = NIL;

	/* convert_legacy's views are re-pointed at the extension's real tables */
	for (r = 0; r < LG_NTABLES && !OidIsValid(plan->src_schema); r++)
	{
		const LgTable *t = &lg_tables[r];
		StringInfoData create;
		Relation	rel;
		TupleDesc	desc;
		bool		first;
		int			k;

		if (!trial_lock(plan->roots[r], may_wait))
			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errmsg("table %s is in use", t->name)));
		spi_exec(psprintf("ALTER TABLE %s.%s RENAME TO %s", nsp, quote_identifier(t->name),
						  quote_identifier(psprintf("_lg_trial_%s", t->name))),
				 SPI_OK_UTILITY);

		/*
		 * What CREATE TABLE (LIKE ...) copies (names, types, collations, NOT
		 * NULL), the keys already of the target type: no rewrite of the new
		 * table by ALTER COLUMN ... TYPE.
		 */
		rel = relation_open(plan->roots[r], NoLock);
		desc = RelationGetDescr(rel);
		initStringInfo(&create);
		appendStringInfo(&create, "CREATE TABLE %s.%s (", nsp, quote_identifier(t->name));
		first = true;
		for (k = 0; k < desc->natts; k++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, k);
			const char *attname = NameStr(att->attname);
			bool		key = is_key_column(t, attname);

			if (att->attisdropped || (!plan->to_uuid && strcmp(attname, "legacy_id") == 0))
				continue;
			appendStringInfo(&create, "%s%s %s", first ? "" : ", ", quote_identifier(attname),
							 key ? (plan->to_uuid ? "uuid" : "integer")
							 : format_type_with_typemod(att->atttypid, att->atttypmod));
			if (!key && OidIsValid(att->attcollation) &&
				att->attcollation != get_typcollation(att->atttypid))
				appendStringInfo(&create, " COLLATE %s",
								 generate_collation_name(att->attcollation));
			if (att->attnotnull)
				appendStringInfoString(&create, " NOT NULL");
			first = false;
		}
		if (plan->to_uuid)
			appendStringInfoString(&create, ", legacy_id bigint");
		appendStringInfoChar(&create, ')');
		relation_close(rel, NoLock);
		spi_exec(create.data, SPI_OK_UTILITY);
	}

	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);
		ListCell   *lc2;
		StringInfoData alter;
		char	   *shadow;
		bool		first;

		if ((it->type != DT_FK && it->type != DT_REF) || it->reason || !it->to_type)
			continue;
		if (list_member_oid(done, it->relid) || !list_member_oid(plan->shadow_rels, it->relid))
			continue;
		done = lappend_oid(done, it->relid);
		if (!trial_lock(it->relid, may_wait))
			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errmsg("table %s is in use", it->relname)));
		shadow = psprintf("_lg_trial_%u", it->relid);
		spi_exec(psprintf("ALTER TABLE %s RENAME TO %s", it->relname, shadow), SPI_OK_UTILITY);
		spi_exec(psprintf("CREATE TABLE %s (LIKE %s.%s)", it->relname,
						  quote_identifier(get_namespace_name(get_rel_namespace(it->relid))),
						  shadow),
				 SPI_OK_UTILITY);
		initStringInfo(&alter);
		appendStringInfo(&alter, "ALTER TABLE %s", it->relname);
		first = true;
		foreach(lc2, plan->items)
		{
			DepItem    *o = lfirst(lc2);

			if ((o->type == DT_FK || o->type == DT_REF) && !o->reason && o->to_type &&
				o->relid == it->relid)
			{
				appendStringInfo(&alter, "%s ALTER %s TYPE %s USING NULL",
								 first ? "" : ",", quote_identifier(o->colname), o->to_type);
				first = false;
			}
		}
		spi_exec(alter.data, SPI_OK_UTILITY);
	}
}

/*
 * Parse analysis of a view's query: what CREATE VIEW would check of its
 * types and operators, without the catalog work (a view no other carried
 * view reads is only analysed).
 */
static void
analyse_query(const char *sql)
{
	List	   *raw = raw_parser(sql, RAW_PARSE_DEFAULT);

	if (list_length(raw) != 1)
		elog(ERROR, "a view definition is one statement");
	(void) parse_analyze_fixedparams(linitial_node(RawStmt, raw), sql, NULL, 0, NULL);
}

/* Inside the trial's subtransaction: shadows, then each view in turn */
static void
trial_run(DepPlan *plan, bool may_wait)
{
	ListCell   *lc;
	List	   *rev = NIL;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool in_sub = false;

	trial_shadows(plan, may_wait);
	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		/* re-created parents must go first, and with them what reads them */
		if (it->type == DT_VIEW && (it->parent || it->depth > 1))
			rev = lcons(it, rev);
	}
	foreach(lc, rev)
	{
		spi_exec(((DepItem *) lfirst(lc))->drop_sql, SPI_OK_UTILITY);
	}

	/*
	 * A view that is only analysed writes nothing: those share one
	 * subtransaction (one per view made the trial quadratic: each end of a
	 * subtransaction visits the whole relation cache), begun again after a
	 * failure, whose rollback loses nothing.  A view re-created for the
	 * views that read it has a subtransaction of its own, kept.
	 */
	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);
		MemoryContext cxt2 = CurrentMemoryContext;

		if (it->type != DT_VIEW)
			continue;
		if (in_sub && it->parent)
		{
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt2);
			CurrentResourceOwner = owner;
			in_sub = false;
		}
		if (!in_sub)
		{
			BeginInternalSubTransaction(NULL);
			MemoryContextSwitchTo(cxt2);
			in_sub = true;
		}
		PG_TRY();
		{
			if (it->parent)
			{
				spi_exec(it->matview ? psprintf("%s WITH NO DATA", it->create_sql) : it->create_sql,
						 SPI_OK_UTILITY);
				ReleaseCurrentSubTransaction();
				MemoryContextSwitchTo(cxt2);
				CurrentResourceOwner = owner;
				in_sub = false;
			}
			else
				analyse_query(it->query_sql);
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(cxt2);
			edata = CopyErrorData();
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt2);
			CurrentResourceOwner = owner;
			in_sub = false;
			it->reason = pfmt(plan, "cannot be re-created over the converted tables: %s",
							  edata->message);
			it->action = MemoryContextStrdup(plan->cxt, "none: the update refuses");
			plan->ncannot++;
			plan->ncarried--;
			FreeErrorData(edata);
		}
		PG_END_TRY();
	}
	if (in_sub)
	{
		MemoryContext cxt2 = CurrentMemoryContext;

		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt2);
		CurrentResourceOwner = owner;
	}
	trial_carried(plan);
}

/*
 * Try every carried view.  Inside one subtransaction that is always rolled
 * back: the renames and empty tables are catalog work, no row is read (the
 * materialized views are created WITH NO DATA).  Each view in a nested
 * subtransaction of its own so that every failure is named.
 */
static void
trial_views(DepPlan *plan, bool may_wait)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ListCell   *lc;
	volatile bool any = false;
	char	   *volatile not_tried = NULL;

	foreach(lc, plan->items)
		if (((DepItem *) lfirst(lc))->type == DT_VIEW ||
			(((DepItem *) lfirst(lc))->type == DT_SQL && ((DepItem *) lfirst(lc))->trial_sql))
			any = true;
	if (!any)
		return;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		trial_run(plan, may_wait);
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		if (may_wait)
			ReThrowError(edata);
		not_tried = pfmt(plan, "; its re-creation was not tried (%s): the update tries it before reading a row",
						 edata->message);
	}
	PG_END_TRY();

	if (not_tried)
		foreach(lc, plan->items)
		{
			DepItem    *it = lfirst(lc);

			if ((it->type == DT_VIEW || (it->type == DT_SQL && it->trial_sql)) && !it->reason)
				it->action = pfmt(plan, "%s%s", it->action, not_tried);
		}
}

/*
 * The whole plan.  try_views: re-create the views in a rolled-back trial;
 * may_wait: wait for the trial's locks (inside the update) rather than skip
 * the trial when a table is in use (conversion_plan()).
 */
static DepPlan *
build_plan(MemoryContext cxt, bool try_views, bool may_wait)
{
	DepPlan    *plan = MemoryContextAllocZero(cxt, sizeof(DepPlan));
	List	   *fk_oids = NIL;
	List	   *seeds = NIL;
	char	   *regtab;
	int			nest;

	plan->cxt = cxt;
	plan->schema = lg_extension_schema();
	plan->to_uuid = keys_are_integer(plan->schema);
	plan_roots(plan);

	nest = enter_catalog_path();
	/* catalog queries of a few thousand rows: compiling them costs more */
	(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	regtab = references_table(plan);
	plan_direct(plan, &fk_oids, &seeds);
	plan_foreign_keys(plan, fk_oids, regtab);
	plan_references(plan, regtab);
	plan_column_dependents(plan, &seeds);
	plan_views(plan, seeds);
	plan_root_grants(plan);
	plan_root_flags(plan);
	plan_carried(plan);
	if (try_views)
		trial_views(plan, may_wait);

	SPI_finish();
	AtEOXact_GUC(true, nest);
	return plan;
}

/* The update refuses, naming every object it cannot carry */
static void
refuse(DepPlan *plan, const char *hint)
{
	StringInfoData detail;
	ListCell   *lc;

	initStringInfo(&detail);
	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if (it->reason)
			appendStringInfo(&detail, "%s%s%s%s: %s", detail.len ? "\n" : "",
							 strncmp(it->identity, it->kind, strlen(it->kind)) == 0 ? "" : it->kind,
							 strncmp(it->identity, it->kind, strlen(it->kind)) == 0 ? "" : " ",
							 it->identity, it->reason);
	}
	ereport(ERROR,
			(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
			 errmsg("lane_google cannot carry %d dependent object%s across the key conversion",
					plan->ncannot, plan->ncannot == 1 ? "" : "s"),
			 errdetail_internal("%s", detail.data),
			 errhint("%s", hint)));
}

#define REFUSE_HINT "Nothing was changed and no row was read.  Drop or change these objects, update, and re-create them; SELECT * FROM lane_google.conversion_plan() lists what the update will do with every dependent object."

/* ---------------------------------------------------------------------------
 * the three steps of the update
 * ---------------------------------------------------------------------------
 */

static void
check_in_update(const char *fname)
{
	if (!creating_extension ||
		CurrentExtensionObject != get_extension_oid(LG_EXTENSION_NAME, true))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s() runs only inside ALTER EXTENSION lane_google UPDATE", fname)));
}

/* registered references: every value must be a key of the referenced table */
static void
check_reference_orphans(DepPlan *plan, DepItem *it, const char *prefix)
{
	char	   *nsp = schema_name(plan);
	const char *src = quote_identifier(psprintf("%s%s", prefix, it->referenced));
	const char *c = quote_identifier(it->colname);
	char	   *sql;

	if (plan->to_uuid)
		sql = psprintf("SELECT pg_catalog.count(*), pg_catalog.string_agg(v, ', ') FILTER (WHERE rn OPERATOR(pg_catalog.<=) 10)"
					   "  FROM (SELECT r.%s::pg_catalog.text AS v, pg_catalog.row_number() OVER () AS rn"
					   "          FROM %s r WHERE r.%s IS NOT NULL AND NOT EXISTS"
					   "               (SELECT FROM %s.%s p WHERE p.id::pg_catalog.text OPERATOR(pg_catalog.=) pg_catalog.btrim(r.%s::pg_catalog.text))) AS o",
					   c, it->relname, c, nsp, src, c);
	else
		sql = psprintf("SELECT pg_catalog.count(*), pg_catalog.string_agg(v, ', ') FILTER (WHERE rn OPERATOR(pg_catalog.<=) 10)"
					   "  FROM (SELECT r.%s::pg_catalog.text AS v, pg_catalog.row_number() OVER () AS rn"
					   "          FROM %s r WHERE r.%s IS NOT NULL AND NOT EXISTS"
					   "               (SELECT FROM %s.%s p WHERE p.id OPERATOR(pg_catalog.=) r.%s)) AS o",
					   c, it->relname, c, nsp, src, c);
	spi_exec(sql, SPI_OK_SELECT);
	if (SPI_processed > 0)
	{
		bool		isnull;
		int64		n = DatumGetInt64(col_datum(0, 1, &isnull));

		if (n > 0)
			ereport(ERROR,
					(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
					 errmsg("registered reference %s holds %lld value%s that %s no row of %s",
							it->identity, (long long) n, n == 1 ? "" : "s",
							n == 1 ? "is" : "are", it->referenced),
					 errdetail("Values: %s.", col(plan, 0, 2)),
					 errhint("Nothing was changed.  Fix or clear these values, or remove the registration with lane_google.remove_legacy_reference().")));
	}
}

static void
do_detach(bool released)
{
	DepPlan    *plan;

	/* already planned by this update (a hook, then the script's own call) */
	if (pending != NULL && pending->stage != STAGE_ATTACHED)
		return;
	pending = NULL;
	if (!callback_registered)
	{
		RegisterXactCallback(dep_xact_callback, NULL);
		callback_registered = true;
	}
	plan = build_plan(AllocSetContextCreate(TopTransactionContext,
											"lane_google dependents",
											ALLOCSET_DEFAULT_SIZES),
					  true, true);
	if (plan->ncannot > 0)
		refuse(plan, REFUSE_HINT);

	/*
	 * Registered references have no constraint: like the update's own
	 * pre-flight for the 11 tables, every value must be a key of the table it
	 * names before anything changes.  The definitions of the foreign keys to
	 * re-create, which the plan itself does not need.
	 */
	{
		ListCell   *lc;
		int			nest = enter_catalog_path();

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		foreach(lc, plan->items)
		{
			DepItem    *it = lfirst(lc);

			if (it->type == DT_REF)
				check_reference_orphans(plan, it, "");
			if (it->type == DT_FK)
				it->condef = MemoryContextStrdup(plan->cxt,
												 TextDatumGetCString(DirectFunctionCall1(pg_get_constraintdef,
																						 ObjectIdGetDatum(it->conoid))));
		}
		detach_carried(plan);
		SPI_finish();
		AtEOXact_GUC(true, nest);
	}
	plan->released = released;
	plan->stage = STAGE_PLANNED;
	pending = plan;
	if (plan->ncarried > 0)
		ereport(NOTICE,
				(errmsg("lane_google: carrying %d dependent object%s across the key conversion",
						plan->ncarried, plan->ncarried == 1 ? "" : "s")));
}

static void
do_convert(const char *prefix)
{
	DepPlan    *plan = pending;
	ListCell   *lc;
	List	   *rev = NIL;
	List	   *rels = NIL;
	char	   *nsp;
	int			nest;

	if (plan == NULL || plan->stage != STAGE_PLANNED)
		return;
	nsp = schema_name(plan);
	nest = enter_catalog_path();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* views, the deepest first */
	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if (it->type == DT_VIEW)
			rev = lcons(it, rev);
	}
	foreach(lc, rev)
	{
		spi_exec(((DepItem *) lfirst(lc))->drop_sql, SPI_OK_UTILITY);
	}

	/* policies on other tables over the 11, statistics objects */
	convert_carried(plan);

	/* foreign keys */
	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if (it->type == DT_FK)
			spi_exec(psprintf("ALTER TABLE %s DROP CONSTRAINT %s", it->relname,
							  quote_identifier(it->conname)),
					 SPI_OK_UTILITY);
	}

	/* referencing columns, one ALTER TABLE (one rewrite) per table */
	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);
		StringInfoData alter;
		ListCell   *lc2;
		bool		first = true;

		if ((it->type != DT_FK && it->type != DT_REF) || !it->to_type ||
			list_member_oid(rels, it->relid))
			continue;
		rels = lappend_oid(rels, it->relid);
		initStringInfo(&alter);
		appendStringInfo(&alter, "ALTER TABLE %s", it->relname);
		foreach(lc2, plan->items)
		{
			DepItem    *o = lfirst(lc2);
			const char *c;
			bool		is_text;

			if ((o->type != DT_FK && o->type != DT_REF) || !o->to_type || o->relid != it->relid)
				continue;
			c = quote_identifier(o->colname);
			is_text = strcmp(o->from_type, "smallint") != 0 && strcmp(o->from_type, "integer") != 0 &&
				strcmp(o->from_type, "bigint") != 0;
			/* text references are trimmed; integers go straight to int8 */
			if (plan->to_uuid)
				appendStringInfo(&alter, "%s ALTER %s TYPE uuid USING %s.legacy_uuid(%s, %s%s%s::pg_catalog.int8)",
								 first ? "" : ",", c, nsp, quote_literal_cstr(o->referenced),
								 is_text ? "pg_catalog.btrim(" : "", c,
								 is_text ? "::pg_catalog.text)" : "");
			else
				appendStringInfo(&alter, "%s ALTER %s TYPE %s USING %s._lg_dependents_legacy_id(%s, %s)::%s",
								 first ? "" : ",", c, o->to_type, nsp,
								 quote_literal_cstr(psprintf("%s.%s", nsp,
															 quote_identifier(psprintf("%s%s", prefix, o->referenced)))),
								 c, o->to_type);
			first = false;
		}
		spi_exec(alter.data, SPI_OK_UTILITY);
	}

	SPI_finish();
	AtEOXact_GUC(true, nest);
	plan->stage = STAGE_CONVERTED;
}

/* As _lg_upgrade_mark_validated: the mapping is one-to-one, every table locked */
static void
mark_validated(Oid relid, const char *conname)
{
	Relation	conrel = table_open(ConstraintRelationId, RowExclusiveLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;

	if (!CheckRelationOidLockedByMe(relid, AccessExclusiveLock, false))
		elog(ERROR, "table %u is not locked by the update", relid);
	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(conrel, ConstraintRelidTypidNameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tuple);
		HeapTuple	copy;

		if (con->contype != CONSTRAINT_FOREIGN || con->convalidated ||
			strcmp(NameStr(con->conname), conname) != 0)
			continue;
		copy = heap_copytuple(tuple);
		((Form_pg_constraint) GETSTRUCT(copy))->convalidated = true;
		CatalogTupleUpdate(conrel, &copy->t_self, copy);
		heap_freetuple(copy);
	}
	systable_endscan(scan);
	CacheInvalidateRelcacheByRelid(relid);
	table_close(conrel, RowExclusiveLock);
}

static void
do_attach(void)
{
	DepPlan    *plan = pending;
	ListCell   *lc;
	char	   *regtab;
	int			nest;

	if (plan == NULL || plan->stage != STAGE_CONVERTED)
		return;
	nest = enter_catalog_path();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	regtab = references_table(plan);

	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);
		bool		not_valid;

		if (it->type != DT_FK)
			continue;
		not_valid = strstr(it->condef, " NOT VALID") != NULL;
		spi_exec(psprintf("ALTER TABLE %s ADD CONSTRAINT %s %s%s", it->relname,
						  quote_identifier(it->conname), it->condef,
						  not_valid ? "" : " NOT VALID"),
				 SPI_OK_UTILITY);
		CommandCounterIncrement();
		if (it->validated)
			mark_validated(it->relid, it->conname);
	}

	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if (it->type != DT_VIEW)
			continue;
		/* a materialized view is created empty, and refreshed below */
		spi_exec(it->matview ? psprintf("%s WITH NO DATA", it->create_sql) : it->create_sql,
				 SPI_OK_UTILITY);
		/* created inside the extension's script: not one of its members */
		if (!OidIsValid(plan->src_schema))
			spi_exec(psprintf("ALTER EXTENSION %s DROP %s %s", LG_EXTENSION_NAME,
							  it->matview ? "MATERIALIZED VIEW" : "VIEW", it->identity),
					 SPI_OK_UTILITY);
		spi_exec(it->after_sql, SPI_OK_UTILITY);
	}

	/* triggers, row security, policies, statistics, publications */
	attach_carried(plan);

	if (plan->root_grants)
		spi_exec(plan->root_grants, SPI_OK_UTILITY);

	/*
	 * The materialized views that were populated, in the order they were
	 * created (one over another after it), once everything they may read is
	 * as it will be: REFRESH runs its query as the view's owner, in a
	 * security-restricted operation, not as the superuser running the
	 * update, so the owner's grants on the new tables must be back (an
	 * ordinary role owning a view over them was refused before: issue 17,
	 * finding 4), and their row security policies too (the owner sees the
	 * rows the policies let it see, as before the update).
	 */
	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if (it->type == DT_VIEW && it->matview && it->populated)
			spi_exec(psprintf("REFRESH MATERIALIZED VIEW %s", it->identity), SPI_OK_UTILITY);
	}

	/* remember what each converted column was, for the way back */
	if (regtab)
	{
		foreach(lc, plan->items)
		{
			DepItem    *it = lfirst(lc);

			if ((it->type != DT_FK && it->type != DT_REF) || !it->to_type)
				continue;
			if (plan->to_uuid && it->type == DT_FK)
				spi_exec(psprintf("INSERT INTO %s (tab, col, referenced, legacy_type, declared)"
								  " VALUES ('%u'::pg_catalog.regclass, %s, %s, %s::pg_catalog.regtype, true)"
								  " ON CONFLICT (tab, col) DO UPDATE SET legacy_type = excluded.legacy_type",
								  regtab, it->relid, quote_literal_cstr(it->colname),
								  quote_literal_cstr(it->referenced), quote_literal_cstr(it->from_type)),
						 SPI_OK_INSERT);
			else if (plan->to_uuid)
				spi_exec(psprintf("UPDATE %s SET legacy_type = %s::pg_catalog.regtype"
								  " WHERE tab OPERATOR(pg_catalog.=) '%u'::pg_catalog.oid"
								  "   AND col OPERATOR(pg_catalog.=) %s::pg_catalog.name",
								  regtab, quote_literal_cstr(it->from_type), it->relid,
								  quote_literal_cstr(it->colname)),
						 SPI_OK_UPDATE);
			else if (it->type == DT_FK)
				spi_exec(psprintf("DELETE FROM %s WHERE tab OPERATOR(pg_catalog.=) '%u'::pg_catalog.oid"
								  " AND col OPERATOR(pg_catalog.=) %s::pg_catalog.name AND declared",
								  regtab, it->relid, quote_literal_cstr(it->colname)),
						 SPI_OK_DELETE);
		}
	}

	SPI_finish();
	AtEOXact_GUC(true, nest);
	plan->stage = STAGE_ATTACHED;
}

/* ---------------------------------------------------------------------------
 * the hooks the released scripts reach through this library
 * ---------------------------------------------------------------------------
 */

/* The version the running ALTER EXTENSION is going to, or NULL */
static char *
update_target(void)
{
	Oid			extoid = get_extension_oid(LG_EXTENSION_NAME, true);
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	char	   *result = NULL;

	if (!creating_extension || !OidIsValid(extoid) || CurrentExtensionObject != extoid)
		return NULL;
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_pg_extension_extversion,
									 RelationGetDescr(rel), &isnull);

		if (!isnull)
			result = text_to_cstring(DatumGetTextPP(d));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return result;
}

#ifdef LG_PG_NOTNULL_CONSTRAINTS
/*
 * PostgreSQL 18 on: before an update rebuilds the 11 tables, their NOT NULL
 * constraints (pg_constraint rows named <table>_<column>_not_null) step
 * aside, as the scripts' own renames do for the primary keys.  A constraint
 * name is chosen unique within the schema, so the new tables, created while
 * the old ones still exist, would otherwise get <table>_<column>_not_null1
 * and the like, unlike a fresh CREATE EXTENSION.  The old tables go at the
 * end of the update, these constraints with them; a failed update rolls the
 * renames back.  The tables are taken in lg_tables' order, parents first, the
 * order in which the scripts lock them.
 */
static void
set_aside_notnull_names(Oid schema)
{
	Oid			argtypes[2] = {OIDOID, TEXTARRAYOID};
	Datum		args[2];
	Datum		names[LG_NTABLES];
	const char *nspname = get_namespace_name(schema);
	uint64		n;
	uint64		i;
	int			t;

	for (t = 0; t < LG_NTABLES; t++)
		names[t] = CStringGetTextDatum(lg_tables[t].name);
	args[0] = ObjectIdGetDatum(schema);
	args[1] = PointerGetDatum(construct_array(names, LG_NTABLES, TEXTOID, -1, false, TYPALIGN_INT));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT c.relname::pg_catalog.text, con.conname::pg_catalog.text"
							  "  FROM pg_catalog.pg_constraint con"
							  "  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) con.conrelid"
							  " WHERE con.contype OPERATOR(pg_catalog.=) 'n'"
							  "   AND c.relnamespace OPERATOR(pg_catalog.=) $1"
							  "   AND c.relname::pg_catalog.text OPERATOR(pg_catalog.=) ANY ($2)"
							  " ORDER BY pg_catalog.array_position($2, c.relname::pg_catalog.text), 2",
							  2, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	n = SPI_processed;
	{
		SPITupleTable *tt = SPI_tuptable;
		char	  **rels = palloc(sizeof(char *) * (n + 1));
		char	  **cons = palloc(sizeof(char *) * (n + 1));

		for (i = 0; i < n; i++)
		{
			rels[i] = SPI_getvalue(tt->vals[i], tt->tupdesc, 1);
			cons[i] = SPI_getvalue(tt->vals[i], tt->tupdesc, 2);
		}
		for (i = 0; i < n; i++)
		{
			char	   *aside = ChooseConstraintName("_lg_old", cons[i], "aside", schema, NIL);

			spi_exec(psprintf("ALTER TABLE %s.%s RENAME CONSTRAINT %s TO %s",
							  quote_identifier(nspname), quote_identifier(rels[i]),
							  quote_identifier(cons[i]), quote_identifier(aside)),
					 SPI_OK_UTILITY);
		}
	}
	SPI_finish();
}
#endif

/*
 * Called first thing by validate_fk_integrity(), which the released update
 * scripts' pre-flight calls before reading any row.  ALTER EXTENSION records
 * the target version before it runs a script.  Outside lane_google's own
 * released 1.0 <-> 2.0 scripts, nothing happens.
 */
void
lg_dependents_update_hook(void)
{
	char	   *target = update_target();
	Oid			schema;
#ifdef LG_PG_NOTNULL_CONSTRAINTS
	bool		rebuilds;
#endif

	if (target == NULL)
		return;
	schema = lg_extension_schema();
#ifdef LG_PG_NOTNULL_CONSTRAINTS
	/* an update between 1.x and 2.x rebuilds the tables */
	rebuilds = (strcmp(target, "1.0") == 0 || strcmp(target, "1.1") == 0 ||
				strcmp(target, "2.0") == 0 || strcmp(target, "2.1") == 0) &&
		(target[0] == '2') == keys_are_integer(schema);
#endif
	if (strcmp(target, "2.0") == 0 && keys_are_integer(schema))
		do_detach(true);
	else if (strcmp(target, "1.0") == 0 && !keys_are_integer(schema))
	{
		DepPlan    *plan = build_plan(CurrentMemoryContext, false, false);

		if (plan->ncannot + plan->ncarried > 0)
		{
			ListCell   *lc;

			foreach(lc, plan->items)
			{
				DepItem    *it = lfirst(lc);

				if (!it->reason)
				{
					it->reason = MemoryContextStrdup(plan->cxt, "the released 2.0 -> 1.0 script cannot carry dependents");
					plan->ncannot++;
				}
			}
			refuse(plan, "Nothing was changed and no row was read.  Update to 2.1 and then to 1.1, which carries them across: ALTER EXTENSION lane_google UPDATE TO '2.1'; ALTER EXTENSION lane_google UPDATE TO '1.1';");
		}
	}
#ifdef LG_PG_NOTNULL_CONSTRAINTS
	if (rebuilds)
		set_aside_notnull_names(schema);
#endif
}

/* End of _lg_upgrade_convert(): the 1.0 tables are set aside under prefix */
void
lg_dependents_after_convert(const char *prefix)
{
	if (pending != NULL && pending->released)
		do_convert(prefix);
}

/* End of _lg_upgrade_mark_validated(): the new keys exist */
void
lg_dependents_after_keys(void)
{
	if (pending != NULL && pending->released)
		do_attach();
}

/* ---------------------------------------------------------------------------
 * SQL-callable functions
 * ---------------------------------------------------------------------------
 */

/*
 * conversion_plan(): one row per object outside the extension that depends
 * on the 11 tables, what the next key conversion (1.x -> 2.x or back) does
 * with it, or why it cannot.
 */
static void online_actions(DepPlan *plan);

static Datum lg_conversion_plan_body(PG_FUNCTION_ARGS);

/* lg_conversion_plan() runs under search_path pg_catalog, pg_temp (guard.c) */
Datum
lg_conversion_plan(PG_FUNCTION_ARGS)
{
	return lg_guard_call(lg_conversion_plan_body, fcinfo);
}

static Datum
lg_conversion_plan_body(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	DepPlan    *plan;
	ListCell   *lc;

	/* the update it plans converts below the executor (citus.c) */
	lg_citus_refuse_tables(lg_extension_schema(), "conversion_plan()");
	InitMaterializedSRF(fcinfo, 0);
	plan = build_plan(CurrentMemoryContext, true, false);
	online_actions(plan);
	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		values[0] = CStringGetTextDatum(it->kind);
		values[1] = CStringGetTextDatum(it->identity ? it->identity : "");
		values[2] = CStringGetTextDatum(it->depends_on ? it->depends_on : "");
		values[3] = CStringGetTextDatum(it->action ? it->action : "");
		if (it->reason)
			values[4] = CStringGetTextDatum(it->reason);
		else
			nulls[4] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

static Datum lg_dependents_detach_body(PG_FUNCTION_ARGS);

/* lg_dependents_detach() runs under search_path pg_catalog, pg_temp (guard.c) */
Datum
lg_dependents_detach(PG_FUNCTION_ARGS)
{
	return lg_guard_call(lg_dependents_detach_body, fcinfo);
}

static Datum
lg_dependents_detach_body(PG_FUNCTION_ARGS)
{
	check_in_update("_lg_dependents_detach");
	do_detach(false);
	PG_RETURN_VOID();
}

static Datum lg_dependents_convert_body(PG_FUNCTION_ARGS);

/* lg_dependents_convert() runs under search_path pg_catalog, pg_temp (guard.c) */
Datum
lg_dependents_convert(PG_FUNCTION_ARGS)
{
	return lg_guard_call(lg_dependents_convert_body, fcinfo);
}

static Datum
lg_dependents_convert_body(PG_FUNCTION_ARGS)
{
	check_in_update("_lg_dependents_convert");
	do_convert(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_VOID();
}

static Datum lg_dependents_attach_body(PG_FUNCTION_ARGS);

/* lg_dependents_attach() runs under search_path pg_catalog, pg_temp (guard.c) */
Datum
lg_dependents_attach(PG_FUNCTION_ARGS)
{
	return lg_guard_call(lg_dependents_attach_body, fcinfo);
}

static Datum
lg_dependents_attach_body(PG_FUNCTION_ARGS)
{
	check_in_update("_lg_dependents_attach");
	do_attach();
	PG_RETURN_VOID();
}

/*
 * _lg_dependents_legacy_id(set_aside regclass, id uuid) -> bigint: the
 * legacy id of the row with that uuid in a 2.x table set aside by the
 * downgrade.  The first call builds a hash of the whole table (one scan);
 * every call after is a probe.  A uuid with no row is an error naming it.
 */
typedef struct IdEntry
{
	pg_uuid_t	id;
	int64		legacy_id;
} IdEntry;

typedef struct IdCache
{
	Oid			relid;
	HTAB	   *hash;
} IdCache;

Datum
lg_dependents_legacy_id(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	pg_uuid_t  *id = PG_GETARG_UUID_P(1);
	IdCache    *cache = (IdCache *) fcinfo->flinfo->fn_extra;
	IdEntry    *e;

	if (cache == NULL || cache->relid != relid)
	{
		MemoryContext fcxt = fcinfo->flinfo->fn_mcxt;
		HASHCTL		ctl;
		uint64		i;
		char	   *sql;
		int			guard;

		check_in_update("_lg_dependents_legacy_id");
		/* the one statement, under the pinned search_path (guard.c) */
		guard = lg_guard_begin();
		cache = MemoryContextAllocZero(fcxt, sizeof(IdCache));
		cache->relid = relid;
		ctl.keysize = sizeof(pg_uuid_t);
		ctl.entrysize = sizeof(IdEntry);
		ctl.hcxt = fcxt;
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		sql = psprintf("SELECT id, legacy_id FROM %s WHERE legacy_id IS NOT NULL",
					   quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
												  get_rel_name(relid)));
		spi_exec(sql, SPI_OK_SELECT);
		cache->hash = hash_create("lane_google legacy ids", Max(SPI_processed, 16), &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		for (i = 0; i < SPI_processed; i++)
		{
			bool		isnull;
			pg_uuid_t  *u = DatumGetUUIDP(col_datum(i, 1, &isnull));
			bool		found;

			e = hash_search(cache->hash, u, HASH_ENTER, &found);
			e->legacy_id = DatumGetInt64(col_datum(i, 2, &isnull));
		}
		SPI_finish();
		lg_guard_end(guard);
		fcinfo->flinfo->fn_extra = cache;
	}
	e = hash_search(cache->hash, id, HASH_FIND, NULL);
	if (e == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("value %s references no row of %s",
						DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(id))),
						get_rel_name(relid)),
				 errhint("Nothing was changed.  Fix or clear the value, then update again.")));
	else
		PG_RETURN_INT64(e->legacy_id);
}

/*
 * Why a registered reference cannot be in table relid, or NULL when it can:
 * the update would change the type of the column (ALTER TABLE ... ALTER
 * COLUMN ... TYPE), which is for the application's tables only, not for a
 * system catalog, another extension's table (its own scripts own its
 * layout), or one of lane_google's own (the update converts those itself).
 */
static char *
reference_table_refusal(Oid relid)
{
	Oid			nsp = get_rel_namespace(relid);
	char	   *nspname = get_namespace_name(nsp);
	Oid			extoid;

	if (IsCatalogRelationOid(relid) || IsCatalogNamespace(nsp) || IsToastNamespace(nsp) ||
		(nspname && strcmp(nspname, "information_schema") == 0))
		return psprintf("%s is a system catalog",
						quote_qualified_identifier(nspname, get_rel_name(relid)));
	extoid = getExtensionOfObject(RelationRelationId, relid);
	if (OidIsValid(extoid))
	{
		char	   *extname = get_extension_name(extoid);

		if (extname && strcmp(extname, LG_EXTENSION_NAME) == 0)
			return psprintf("%s belongs to extension \"%s\", which converts its own tables itself",
							quote_qualified_identifier(nspname, get_rel_name(relid)), extname);
		return psprintf("%s belongs to extension \"%s\"",
						quote_qualified_identifier(nspname, get_rel_name(relid)),
						extname ? extname : "?");
	}
	if (nspname && (strcmp(nspname, "lane_google_online") == 0 ||
					strcmp(nspname, "lane_google_v1") == 0))
		return psprintf("%s belongs to lane_google's online conversion",
						quote_qualified_identifier(nspname, get_rel_name(relid)));
	return NULL;
}

/*
 * The column a registration names: it exists, in an application's table the
 * caller owns.  Returns its attnum.
 */
static AttrNumber
reference_column(Oid relid, const char *colname)
{
	AttrNumber	attnum = get_attnum(relid, colname);
	char	   *refusal;

	if (attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist",
						colname, get_rel_name(relid))));
	if ((refusal = reference_table_refusal(relid)) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot register column \"%s\" of table %s as a legacy reference",
						colname,
						quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
												   get_rel_name(relid))),
				 errdetail_internal("Table %s.", refusal),
				 errhint("A legacy reference is a column of one of the application's tables, whose type the update changes.")));
	if (get_rel_relkind(relid) != RELKIND_RELATION &&
		get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", get_rel_name(relid))));
	if (!object_ownercheck(RelationRelationId, relid, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s", get_rel_name(relid))));
	return attnum;
}

/*
 * add_legacy_reference(tab regclass, col name, referenced text): register a
 * column holding ids of one of the 11 tables without a constraint.
 */
static Datum lg_add_legacy_reference_body(PG_FUNCTION_ARGS);

/* lg_add_legacy_reference() runs under search_path pg_catalog, pg_temp (guard.c) */
Datum
lg_add_legacy_reference(PG_FUNCTION_ARGS)
{
	return lg_guard_call(lg_add_legacy_reference_body, fcinfo);
}

static Datum
lg_add_legacy_reference_body(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *colname;
	char	   *referenced;
	Oid			schema;
	bool		to_uuid;
	AttrNumber	attnum;
	Oid			atttypid;
	int			r;

	/* declared STRICT so far: for a declaration that is not */
	for (r = 0; r < 3; r++)
		if (PG_ARGISNULL(r))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s of add_legacy_reference() must not be NULL",
							r == 0 ? "tab" : r == 1 ? "col" : "referenced")));
	relid = PG_GETARG_OID(0);
	colname = NameStr(*PG_GETARG_NAME(1));
	referenced = text_to_cstring(PG_GETARG_TEXT_PP(2));
	schema = lg_extension_schema();
	to_uuid = keys_are_integer(schema);

	/* "schema.table": a legacy table of the application's (convert_legacy) */
	if (strchr(referenced, '.') != NULL)
	{
		add_source_reference(relid, colname, referenced);
		PG_RETURN_VOID();
	}
	if (lg_find_table(referenced) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is not one of the lane_google tables", referenced)));
	for (r = 0; r < LG_NTABLES; r++)
		if (get_relname_relid(lg_tables[r].name, schema) == relid)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("table %s is one of the lane_google tables, which the update converts itself",
							get_rel_name(relid))));
	attnum = reference_column(relid, colname);
	atttypid = get_atttype(relid, attnum);
	if (to_uuid ? !(atttypid == INT2OID || atttypid == INT4OID || atttypid == INT8OID ||
					atttypid == TEXTOID || atttypid == VARCHAROID)
		: atttypid != UUIDOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" is of type %s", colname, format_type_be(atttypid)),
				 errdetail(to_uuid
						   ? "At integer keys a reference is a smallint, integer, bigint, text or varchar column."
						   : "At uuid keys a reference is a uuid column.")));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	spi_exec(psprintf("INSERT INTO %s.legacy_references (tab, col, referenced, legacy_type)"
					  " VALUES ('%u'::pg_catalog.regclass, %s, %s, %s)"
					  " ON CONFLICT (tab, col) DO UPDATE SET referenced = excluded.referenced,"
					  "   declared = false",
					  quote_identifier(get_namespace_name(schema)), relid,
					  quote_literal_cstr(colname), quote_literal_cstr(referenced),
					  to_uuid ? psprintf("'%u'::pg_catalog.regtype", atttypid) : "NULL"),
			 SPI_OK_INSERT);
	SPI_finish();
	PG_RETURN_VOID();
}

/* ---------------------------------------------------------------------------
 * convert_legacy(..., dependents => 'carry'): the application's own legacy
 * tables are the source.  The same plan, with the source tables as its
 * roots: the objects of other tables and views that depend on them are
 * carried onto the extension's tables; the source tables themselves, and
 * everything on them (their indexes, constraints, triggers, rules,
 * policies, sequences, publication membership), stay as they are.
 * ---------------------------------------------------------------------------
 */

static const char *const source_dependents_sql =
"WITH roots AS ("
"    SELECT c.oid AS relid, c.reltype FROM pg_catalog.pg_class c"
"     WHERE c.oid OPERATOR(pg_catalog.=) ANY ($1)"
"), deps AS ("
"    SELECT d.classid, d.objid,"
"           pg_catalog.min(pg_catalog.pg_describe_object(d.refclassid, d.refobjid, 0)) AS on_what"
"      FROM pg_catalog.pg_depend d"
"     WHERE d.deptype OPERATOR(pg_catalog.=) ANY (ARRAY['n', 'a']::pg_catalog.\"char\"[])"
"       AND ((d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
"             AND d.refobjid OPERATOR(pg_catalog.=) ANY (SELECT relid FROM roots))"
"         OR (d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass"
"             AND d.refobjid OPERATOR(pg_catalog.=) ANY (SELECT reltype FROM roots)))"
"     GROUP BY d.classid, d.objid"
")"
"SELECT d.objid, pg_catalog.pg_describe_object(d.classid, d.objid, 0), d.on_what,"
"  CASE"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_constraint'::pg_catalog.regclass THEN"
"    (SELECT CASE WHEN con.conrelid OPERATOR(pg_catalog.=) ANY (SELECT relid FROM roots) THEN 'skip'"
"                 WHEN con.conparentid OPERATOR(pg_catalog.<>) 0 THEN 'skip'"
"                 WHEN con.contype OPERATOR(pg_catalog.=) 'f' THEN 'foreign key'"
"                 ELSE 'constraint' END"
"       FROM pg_catalog.pg_constraint con WHERE con.oid OPERATOR(pg_catalog.=) d.objid)"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass THEN"
"    (SELECT CASE WHEN c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['i', 'I', 't', 'S']::pg_catalog.\"char\"[]) THEN 'skip' ELSE 'table' END"
"       FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) d.objid)"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass THEN"
"    (SELECT CASE WHEN c.oid OPERATOR(pg_catalog.=) ANY (SELECT relid FROM roots) THEN 'skip'"
"                 WHEN r.rulename OPERATOR(pg_catalog.=) '_RETURN' AND c.relkind OPERATOR(pg_catalog.=) 'v' THEN 'view'"
"                 WHEN r.rulename OPERATOR(pg_catalog.=) '_RETURN' AND c.relkind OPERATOR(pg_catalog.=) 'm' THEN 'materialized view'"
"                 ELSE 'rule' END"
"       FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) r.ev_class"
"      WHERE r.oid OPERATOR(pg_catalog.=) d.objid)"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_trigger'::pg_catalog.regclass THEN"
"    (SELECT CASE WHEN t.tgisinternal OR t.tgrelid OPERATOR(pg_catalog.=) ANY (SELECT relid FROM roots) THEN 'skip'"
"                 ELSE 'trigger' END"
"       FROM pg_catalog.pg_trigger t WHERE t.oid OPERATOR(pg_catalog.=) d.objid)"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_attrdef'::pg_catalog.regclass THEN"
"    (SELECT CASE WHEN a.adrelid OPERATOR(pg_catalog.=) ANY (SELECT relid FROM roots) THEN 'skip' ELSE 'default' END"
"       FROM pg_catalog.pg_attrdef a WHERE a.oid OPERATOR(pg_catalog.=) d.objid)"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_policy'::pg_catalog.regclass THEN"
"    (SELECT CASE WHEN p.polrelid OPERATOR(pg_catalog.=) ANY (SELECT relid FROM roots) THEN 'skip' ELSE 'policy' END"
"       FROM pg_catalog.pg_policy p WHERE p.oid OPERATOR(pg_catalog.=) d.objid)"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass THEN"
"    (SELECT CASE WHEN s.stxrelid OPERATOR(pg_catalog.=) ANY (SELECT relid FROM roots) THEN 'skip' ELSE 'statistics object' END"
"       FROM pg_catalog.pg_statistic_ext s WHERE s.oid OPERATOR(pg_catalog.=) d.objid)"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_publication_rel'::pg_catalog.regclass THEN 'skip'"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass THEN 'function'"
"  WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass THEN 'type'"
"  ELSE 'other' END,"
"  CASE WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
"       THEN (SELECT r.ev_class FROM pg_catalog.pg_rewrite r WHERE r.oid OPERATOR(pg_catalog.=) d.objid) END"
"  FROM deps d ORDER BY 4, 2";

static const char *
source_cannot_reason(const char *category)
{
	if (strcmp(category, "function") == 0)
		return "a SQL function whose body (BEGIN ATOMIC) reads the legacy table: it cannot be re-pointed at lane_google's";
	if (strcmp(category, "type") == 0 || strcmp(category, "table") == 0)
		return "uses the legacy table's row type";
	return "depends on the legacy table and cannot be re-pointed at lane_google's";
}

#define SOURCE_REFUSE_HINT "Nothing was changed and no row was read.  Drop or change these objects and run again, or convert with dependents => 'keep' (the default); SELECT * FROM lane_google.conversion_plan('%s') lists what the carry does with every dependent object."

/* Source tables: the 11 names in src_schema (InvalidOid where absent) */
static void
plan_source_roots(DepPlan *plan)
{
	int			i;

	for (i = 0; i < LG_NTABLES; i++)
		plan->roots[i] = get_relname_relid(lg_tables[i].name, plan->src_schema);
}

/* The dependents of the source tables that are not theirs */
static void
plan_source_direct(DepPlan *plan, List **fk_oids, List **seeds)
{
	Oid			argtypes[1] = {OIDARRAYOID};
	Datum		args[1];
	List	   *roots = NIL;
	uint64		n;
	int			i;
	int			r;

	for (r = 0; r < LG_NTABLES; r++)
		if (OidIsValid(plan->roots[r]))
			roots = lappend_oid(roots, plan->roots[r]);
	args[0] = oid_array(roots);
	if (SPI_execute_with_args(source_dependents_sql, 1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	n = SPI_processed;
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		Oid			objid = DatumGetObjectId(col_datum(i, 1, &isnull));
		char	   *category = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 4);

		if (category == NULL || strcmp(category, "skip") == 0)
			continue;
		if (strcmp(category, "foreign key") == 0)
			*fk_oids = lappend_oid(*fk_oids, objid);
		else if (strcmp(category, "view") == 0 || strcmp(category, "materialized view") == 0)
		{
			Oid			viewid = DatumGetObjectId(col_datum(i, 5, &isnull));

			*seeds = list_append_unique_oid(*seeds, viewid);
		}
		else
			plan_cannot(plan, category, col(plan, i, 2), col(plan, i, 3),
						source_cannot_reason(category));
	}
}

/*
 * A view's definition re-pointed at the extension's tables: the deparser's
 * text (pg_get_viewdef under search_path pg_catalog, so every relation is
 * schema-qualified) with each source table's qualified name, where it
 * stands as a relation (not inside a literal or a quoted identifier, not
 * part of a longer name, not a function or a type cast), replaced by the
 * extension's table of the same name.  The text is then analysed again by
 * PostgreSQL over the new column types in the trial: a column the
 * extension's table lacks, or a key compared with an integer, fails there
 * and is refused by name.  NULL when the view reads no source table.
 */
static char *
retarget_view_text(DepPlan *plan, const char *def)
{
	StringInfoData out;
	const char *p = def;
	char		quote = 0;
	int			changed = 0;
	int			r;
	char	   *from[LG_NTABLES];
	char	   *to[LG_NTABLES];

	for (r = 0; r < LG_NTABLES; r++)
	{
		from[r] = OidIsValid(plan->roots[r])
			? quote_qualified_identifier(get_namespace_name(plan->src_schema), lg_tables[r].name)
			: NULL;
		to[r] = quote_qualified_identifier(get_namespace_name(plan->schema), lg_tables[r].name);
	}
	initStringInfo(&out);
	while (*p)
	{
		if (quote == 0 && (p == def || strchr(" \t\n(,", p[-1]) != NULL))
		{
			for (r = 0; r < LG_NTABLES; r++)
			{
				size_t		len;

				if (from[r] == NULL || strncmp(p, from[r], (len = strlen(from[r]))) != 0 ||
					(p[len] != '\0' && strchr(" \t\n),;", p[len]) == NULL))
					continue;
				appendStringInfoString(&out, to[r]);
				p += len;
				changed++;
				break;
			}
			if (r < LG_NTABLES)
				continue;
		}
		if (quote == 0 && (*p == '\'' || *p == '"'))
			quote = *p;
		else if (quote != 0 && *p == quote)
			quote = 0;			/* a doubled quote leaves and enters again */
		appendStringInfoChar(&out, *p);
		p++;
	}
	return changed > 0 ? out.data : NULL;
}

/*
 * The plan's items re-pointed at the extension's tables: the views'
 * definitions, the foreign keys' REFERENCES, and what the plan says.
 */
static void
plan_source_retarget(DepPlan *plan)
{
	ListCell   *lc;
	char	   *ext = schema_name(plan);
	char	   *src = MemoryContextStrdup(plan->cxt,
										  quote_identifier(get_namespace_name(plan->src_schema)));

	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if ((it->type == DT_FK || it->type == DT_REF) && it->depends_on &&
			strncmp(it->depends_on, ext, strlen(ext)) == 0)
			it->depends_on = pfmt(plan, "%s%s", src, it->depends_on + strlen(ext));
		if (it->type == DT_FK && it->reason == NULL)
		{
			char	   *from = psprintf(" REFERENCES %s.%s(", src, quote_identifier(it->referenced));
			char	   *at;

			/* the plan leaves definitions to do_detach(), which this path skips */
			if (it->condef == NULL)
				it->condef = MemoryContextStrdup(plan->cxt,
												 TextDatumGetCString(DirectFunctionCall1(pg_get_constraintdef,
																						 ObjectIdGetDatum(it->conoid))));
			at = strstr(it->condef, from);

			if (at == NULL)
			{
				it->reason = MemoryContextStrdup(plan->cxt, "its definition names the legacy table in a way the carry cannot re-point");
				it->action = MemoryContextStrdup(plan->cxt, "none: convert_legacy refuses");
				plan->ncannot++;
				plan->ncarried--;
				continue;
			}
			it->condef = pfmt(plan, "%.*s REFERENCES %s.%s(%s", (int) (at - it->condef), it->condef,
							  ext, quote_identifier(it->referenced), at + strlen(from));
			it->action = pfmt(plan, "%s referencing %s.%s", it->action, ext,
							  quote_identifier(it->referenced));
		}
		else if (it->type == DT_VIEW && it->reason == NULL)
		{
			char	   *def = retarget_view_text(plan, it->query_sql);

			if (def == NULL)
				continue;		/* reads a converted column, no source table */
			it->create_sql = pfmt(plan, "%.*s%s",
								  (int) (strlen(it->create_sql) - strlen(it->query_sql)),
								  it->create_sql, def);
			it->query_sql = MemoryContextStrdup(plan->cxt, def);
			it->action = pfmt(plan, "drop; re-create reading %s's tables instead of %s's, with its owner, options, grants and comments%s",
							  ext, src, it->matview ? (it->populated ? ", indexes; refresh" : ", indexes (unpopulated, as it was)") : "");
		}
	}
}

/* The carry alters the referencing tables and re-creates the views: their owner's */
static void
check_source_owners(DepPlan *plan)
{
	ListCell   *lc;

	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);
		Oid			relid = it->type == DT_VIEW ? it->viewid : it->relid;

		if (it->type != DT_FK && it->type != DT_REF && it->type != DT_VIEW)
			continue;
		if (!object_ownercheck(RelationRelationId, relid, GetUserId()))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("must be owner of %s %s to carry it onto lane_google's tables",
							it->type == DT_VIEW ? it->kind : "table",
							it->type == DT_VIEW ? it->identity : it->relname),
					 errhint("Nothing was changed and no row was read.  Run the carrying conversion as the owner of the application's tables, or convert with dependents => 'keep'.")));
	}
}

/* The whole plan of convert_legacy's carry from src_schema */
static DepPlan *
build_source_plan(MemoryContext cxt, Oid src_schema, bool try_views, bool may_wait)
{
	DepPlan    *plan = MemoryContextAllocZero(cxt, sizeof(DepPlan));
	List	   *fk_oids = NIL;
	List	   *seeds = NIL;
	char	   *regtab;
	int			nest;
	ListCell   *lc;

	plan->cxt = cxt;
	plan->schema = lg_extension_schema();
	plan->src_schema = src_schema;
	if (src_schema == plan->schema)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source schema %s is lane_google's own schema",
						quote_identifier(get_namespace_name(src_schema)))));
	if (keys_are_integer(plan->schema))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the lane_google tables are not at version 2.x"),
				 errhint("convert_legacy() copies into the uuid tables: run ALTER EXTENSION lane_google UPDATE first.")));
	plan->to_uuid = true;
	plan_source_roots(plan);

	nest = enter_catalog_path();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	regtab = references_table(plan);
	plan_source_direct(plan, &fk_oids, &seeds);
	plan_foreign_keys(plan, fk_oids, regtab);
	plan_references(plan, regtab);
	plan_column_dependents(plan, &seeds);
	plan_views(plan, seeds);
	plan_source_retarget(plan);
	plan_view_columns(plan);
	if (may_wait && plan->ncannot == 0)
		check_source_owners(plan);
	if (try_views)
		trial_views(plan, may_wait);
	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if (it->reason)
			it->action = MemoryContextStrdup(plan->cxt, "none: convert_legacy refuses");
	}

	SPI_finish();
	AtEOXact_GUC(true, nest);
	return plan;
}

/*
 * convert_legacy(..., dependents => 'carry'), before any source row is
 * read (the sources are locked): the plan, the refusal naming everything it
 * cannot carry, and registered text references that hold no integer.
 */
void *
lg_dependents_source_plan(Oid src_schema)
{
	DepPlan    *plan = build_source_plan(CurrentMemoryContext, src_schema, true, true);
	ListCell   *lc;
	int			nest;

	if (plan->ncannot > 0)
		refuse(plan, psprintf(SOURCE_REFUSE_HINT, get_namespace_name(src_schema)));

	nest = enter_catalog_path();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);
		const char *c;

		if (it->type != DT_REF)
			continue;
		c = quote_identifier(it->colname);
		spi_exec(psprintf("SELECT pg_catalog.count(*), pg_catalog.string_agg(pg_catalog.quote_literal(v), ', ') FILTER (WHERE rn OPERATOR(pg_catalog.<=) 5)"
						  "  FROM (SELECT r.%s::pg_catalog.text AS v, pg_catalog.row_number() OVER () AS rn"
						  "          FROM %s r WHERE r.%s IS NOT NULL"
						  "           AND r.%s::pg_catalog.text OPERATOR(pg_catalog.!~) '^\\s*-?[0-9]{1,18}\\s*$') AS o",
						  c, it->relname, c, c),
				 SPI_OK_SELECT);
		if (SPI_processed > 0)
		{
			bool		isnull;
			int64		n = DatumGetInt64(col_datum(0, 1, &isnull));

			if (n > 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						 errmsg("registered reference %s holds %lld value%s that %s no legacy id",
								it->identity, (long long) n, n == 1 ? "" : "s", n == 1 ? "is" : "are"),
						 errdetail("Values: %s.", col(plan, 0, 2)),
						 errhint("Nothing was changed and no row was read.  Fix or clear these values, or remove the registration with lane_google.remove_legacy_reference().")));
		}
	}
	SPI_finish();
	AtEOXact_GUC(true, nest);
	if (plan->ncarried > 0)
		ereport(NOTICE,
				(errmsg("lane_google: carrying %d dependent object%s from schema %s onto lane_google's tables",
						plan->ncarried, plan->ncarried == 1 ? "" : "s",
						quote_identifier(get_namespace_name(src_schema)))));
	return plan;
}

/*
 * References whose row was not converted (quarantined, or missing from the
 * source: a registered reference has no constraint).  on_orphan 'error':
 * one error naming them all.  'quarantine' or 'null': the reference is set
 * NULL (the application's row itself is never deleted) and the row as it
 * was is kept in legacy_quarantine with its reason; in a NOT NULL column
 * that is an error too.
 */
static void
source_dangling(DepPlan *plan, bool orphans_null)
{
	char	   *nsp = schema_name(plan);
	StringInfoData detail;
	int64		total = 0;
	int64		nulled = 0;
	ListCell   *lc;

	initStringInfo(&detail);
	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);
		const char *c;
		char	   *cond;
		bool		isnull;
		int64		n;
		bool		notnull;

		if ((it->type != DT_FK && it->type != DT_REF) || !it->to_type)
			continue;
		c = quote_identifier(it->colname);
		cond = psprintf("r.%s IS NOT NULL AND NOT EXISTS (SELECT FROM %s.%s p"
						" WHERE p.id OPERATOR(pg_catalog.=) %s.legacy_uuid(%s, pg_catalog.btrim(r.%s::pg_catalog.text)::pg_catalog.int8))",
						c, nsp, quote_identifier(it->referenced), nsp,
						quote_literal_cstr(it->referenced), c);
		spi_exec(psprintf("SELECT pg_catalog.count(*), pg_catalog.string_agg(v, ', ') FILTER (WHERE rn OPERATOR(pg_catalog.<=) 5)"
						  "  FROM (SELECT r.%s::pg_catalog.text AS v, pg_catalog.row_number() OVER () AS rn"
						  "          FROM %s r WHERE %s) AS o", c, it->relname, cond),
				 SPI_OK_SELECT);
		n = DatumGetInt64(col_datum(0, 1, &isnull));
		if (n == 0)
			continue;
		{
			Relation	rel = relation_open(it->relid, AccessShareLock);

			notnull = TupleDescAttr(RelationGetDescr(rel),
									get_attnum(it->relid, it->colname) - 1)->attnotnull;
			relation_close(rel, AccessShareLock);
		}
		if (!orphans_null || notnull)
		{
			appendStringInfo(&detail, "%s%s.%s -> %s: " INT64_FORMAT " row%s, key%s %s%s%s",
							 detail.len ? "\n" : "", it->relname, c, it->referenced, n,
							 n == 1 ? "" : "s", n == 1 ? "" : "s", col(plan, 0, 2),
							 n > 5 ? ", ..." : "", notnull && orphans_null ? " (NOT NULL column)" : "");
			total += n;
			continue;
		}
		/* the UPDATE below runs the table's triggers and checks as the caller */
		check_update_rights(it);
		spi_exec(psprintf("INSERT INTO %s.legacy_quarantine (table_name, reason, row_data)"
						  " SELECT %s, %s, pg_catalog.to_jsonb(r) FROM %s r WHERE %s",
						  nsp, quote_literal_cstr(it->relname),
						  quote_literal_cstr(psprintf("%s references a %s row that was not converted: set NULL by the carry",
													  it->colname, it->referenced)),
						  it->relname, cond),
				 SPI_OK_INSERT);
		spi_exec(psprintf("UPDATE %s r SET %s = NULL WHERE %s", it->relname, c, cond), SPI_OK_UPDATE);
		nulled += n;
	}
	if (total > 0)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg(INT64_FORMAT " reference%s of the application's tables point%s at legacy rows that were not converted",
						total, total == 1 ? "" : "s", total == 1 ? "s" : ""),
				 errdetail("%s", detail.data),
				 errhint("Nothing was changed.  Fix these rows, or use on_orphan => 'quarantine' or 'null' to set nullable references NULL (the rows are kept in lane_google.legacy_quarantine).")));
	if (nulled > 0)
		ereport(NOTICE,
				(errmsg("lane_google: set " INT64_FORMAT " reference%s to rows that were not converted to NULL; the rows as they were are in legacy_quarantine",
						nulled, nulled == 1 ? "" : "s")));
}

/* The update's steps, on this plan: pending never outlives them */
static void
source_steps(DepPlan *plan)
{
	if (!callback_registered)
	{
		RegisterXactCallback(dep_xact_callback, NULL);
		callback_registered = true;
	}
	plan->stage = STAGE_PLANNED;
	pending = plan;
	PG_TRY();
	{
		do_convert("");
		do_attach();
	}
	PG_FINALLY();
	{
		pending = NULL;
	}
	PG_END_TRY();
}

/*
 * After the rows are converted: the references whose row was not
 * converted, then the update's own steps (views and foreign keys dropped,
 * referencing columns to uuid, everything re-created onto the extension's
 * tables), then the registrations now name the extension's tables.
 */
void
lg_dependents_source_carry(void *arg, bool orphans_null)
{
	DepPlan    *plan = (DepPlan *) arg;
	List	   *validate = NIL;
	ListCell   *lc;
	int			nest;

	nest = enter_catalog_path();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	source_dangling(plan, orphans_null);
	/* a foreign key onto a non-key column: its rows were not all converted */
	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if (it->type == DT_FK && !it->to_type && it->validated)
		{
			it->validated = false;
			validate = lappend(validate, it);
		}
	}
	SPI_finish();
	AtEOXact_GUC(true, nest);

	source_steps(plan);

	nest = enter_catalog_path();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	foreach(lc, validate)
	{
		DepItem    *it = lfirst(lc);

		spi_exec(psprintf("ALTER TABLE %s VALIDATE CONSTRAINT %s", it->relname,
						  quote_identifier(it->conname)),
				 SPI_OK_UTILITY);
	}
	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);

		if (it->type == DT_REF)
			spi_exec(psprintf("UPDATE %s SET referenced = %s"
							  " WHERE tab OPERATOR(pg_catalog.=) '%u'::pg_catalog.oid"
							  "   AND col OPERATOR(pg_catalog.=) %s::pg_catalog.name",
							  references_table(plan), quote_literal_cstr(it->referenced),
							  it->relid, quote_literal_cstr(it->colname)),
					 SPI_OK_UPDATE);
	}
	SPI_finish();
	AtEOXact_GUC(true, nest);
}

/*
 * conversion_plan(source_schema name): what convert_legacy(source_schema,
 * dependents => 'carry') would do with every object depending on the
 * application's legacy tables in that schema.
 */
static Datum lg_conversion_plan_source_body(PG_FUNCTION_ARGS);

/* lg_conversion_plan_source() runs under search_path pg_catalog, pg_temp (guard.c) */
Datum
lg_conversion_plan_source(PG_FUNCTION_ARGS)
{
	return lg_guard_call(lg_conversion_plan_source_body, fcinfo);
}

static Datum
lg_conversion_plan_source_body(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			src_schema = get_namespace_oid(NameStr(*PG_GETARG_NAME(0)), false);
	DepPlan    *plan;
	ListCell   *lc;

	/* convert_legacy(), whose carry it plans, refuses Citus tables (citus.c) */
	lg_citus_refuse_tables(src_schema, "conversion_plan()");
	InitMaterializedSRF(fcinfo, 0);
	plan = build_source_plan(CurrentMemoryContext, src_schema, true, false);
	foreach(lc, plan->items)
	{
		DepItem    *it = lfirst(lc);
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		values[0] = CStringGetTextDatum(it->kind);
		values[1] = CStringGetTextDatum(it->identity ? it->identity : "");
		values[2] = CStringGetTextDatum(it->depends_on ? it->depends_on : "");
		values[3] = CStringGetTextDatum(it->action ? it->action : "");
		if (it->reason)
			values[4] = CStringGetTextDatum(it->reason);
		else
			nulls[4] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * add_legacy_reference(tab, col, 'schema.table'): a column of the
 * application's holding ids of its own legacy table schema.table (one of
 * the 11 names), which convert_legacy(schema, dependents => 'carry')
 * converts; afterwards the registration names the extension's table.
 */
static void
add_source_reference(Oid relid, const char *colname, const char *referenced)
{
	List	   *names = lg_stringToQualifiedNameList(referenced);
	Oid			schema = lg_extension_schema();
	Oid			src_schema;
	const char *table;
	AttrNumber	attnum;
	Oid			atttypid;
	char	   *stored;

	if (list_length(names) != 2 || lg_find_table(strVal(lsecond(names))) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is not one of the lane_google tables, nor schema.table of one of their names", referenced)));
	src_schema = get_namespace_oid(strVal(linitial(names)), false);
	table = strVal(lsecond(names));
	if (src_schema == schema)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("name the extension's table without its schema: '%s'", table)));
	if (keys_are_integer(schema))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("references into the application's legacy tables are for convert_legacy(), at version 2.x")));
	if (!OidIsValid(get_relname_relid(table, src_schema)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s.%s\" does not exist", get_namespace_name(src_schema), table)));
	if (get_rel_namespace(relid) == src_schema && lg_find_table(get_rel_name(relid)) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table %s is one of the legacy tables convert_legacy() copies, which it leaves as they are",
						get_rel_name(relid))));
	attnum = reference_column(relid, colname);
	atttypid = get_atttype(relid, attnum);
	if (!(atttypid == INT2OID || atttypid == INT4OID || atttypid == INT8OID ||
		  atttypid == TEXTOID || atttypid == VARCHAROID))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" is of type %s", colname, format_type_be(atttypid)),
				 errdetail("A reference into a legacy table is a smallint, integer, bigint, text or varchar column.")));

	stored = psprintf("%s.%s", quote_identifier(get_namespace_name(src_schema)), table);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	spi_exec(psprintf("INSERT INTO %s.legacy_references (tab, col, referenced, legacy_type)"
					  " VALUES ('%u'::pg_catalog.regclass, %s, %s, '%u'::pg_catalog.regtype)"
					  " ON CONFLICT (tab, col) DO UPDATE SET referenced = excluded.referenced,"
					  "   legacy_type = excluded.legacy_type, declared = false",
					  quote_identifier(get_namespace_name(schema)), relid,
					  quote_literal_cstr(colname), quote_literal_cstr(stored), atttypid),
			 SPI_OK_INSERT);
	SPI_finish();
}

/* ---------------------------------------------------------------------------
 * the online conversion (online.c): the same plan, refusal and steps, the
 * locks taken by the caller within its budget
 * ---------------------------------------------------------------------------
 */

/*
 * The relations carrying the dependents will lock (ACCESS EXCLUSIVE):
 * referencing tables and carried views, from the plan without its trial
 * (catalog reads only).  *has_views: the trial has views to re-create, and
 * needs the 11 tables and those referencing tables exclusively.
 */
List *
lg_dependents_relations(bool *has_views)
{
	DepPlan    *plan = build_plan(CurrentMemoryContext, false, false);
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
	DepPlan    *plan = build_plan(CurrentMemoryContext, true, false);

	if (plan->ncannot > 0)
		refuse(plan, hint);
}

/* The swap, under its locks: detach, then convert (to uuid: no set-aside table) */
void
lg_dependents_swap_detach(void)
{
	do_detach(false);
}

void
lg_dependents_swap_convert(void)
{
	do_convert("");
}

/*
 * conversion_plan() during an online conversion (its staging schema
 * exists): what of the carrying happens under the swap's locks, and grows
 * with the data.
 */
static void
online_actions(DepPlan *plan)
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
			it->action = pfmt(plan, "%s; online: the swap rewrites %s (about %.0f rows) under its locks, in time that grows with the table",
							  it->action, it->relname, rows);
		}
		else if (it->type == DT_VIEW && it->matview && it->populated)
			it->action = pfmt(plan, "%s; online: refreshed under the swap's locks", it->action);
	}
}
