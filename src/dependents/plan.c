/*-------------------------------------------------------------------------
 *
 * plan.c
 *	  The plan of a key conversion: every object outside the extension that
 *	  depends on the 11 tables (foreign keys into them from other tables,
 *	  views and materialized views over them, registered references: integer
 *	  or text columns holding their ids without a constraint, triggers,
 *	  policies, indexes, rules and the rest), what the conversion does with
 *	  each, or why it cannot.  conversion_plan() lists it; inside an update
 *	  the same plan runs first, and anything it cannot carry fails the update
 *	  before a row of the 11 tables is read (dep_refuse()).
 *
 *	  This file finds the 11 tables' direct dependents and sorts them by kind,
 *	  hands each kind to its own file (plan_keys.c, plan_views.c,
 *	  plan_carried.c), finds what depends on a column whose type the
 *	  conversion changes, and keeps the application's grants on the 11 tables.
 *	  The plan only reads the catalogs; the trial (trial.c) is the one part
 *	  that writes, always rolled back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "lane_google.h"
#include "dependents_int.h"

/*
 * The indexes, constraints and triggers the extension's own scripts create
 * on the 11 tables, at 1.x, 2.x and 3.0.  Anything else on them is the user's.
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
	"_lg_v1_users_pkey",
	/* 3.0's tenant keys (scripts/tenant-layout.sql) */
	"account_users_id_idx", "ad_groups_account_id_campaign_id_fkey",
	"ad_groups_account_id_campaign_id_idx", "ad_groups_id_idx",
	"ad_groups_set_account_id", "ads_account_id_ad_group_id_fkey",
	"ads_account_id_ad_group_id_idx", "ads_id_idx", "ads_set_account_id",
	"analytics_snapshots_account_id_campaign_id_fkey",
	"analytics_snapshots_account_id_campaign_id_snapshot_date_pe_key",
	"analytics_snapshots_id_idx", "analytics_snapshots_set_account_id",
	"approval_requests_account_id_campaign_id_fkey",
	"approval_requests_account_id_campaign_id_idx",
	"approval_requests_id_idx", "approval_requests_set_account_id",
	"budget_alerts_account_id_campaign_id_fkey",
	"budget_alerts_account_id_campaign_id_idx", "budget_alerts_id_idx",
	"budget_alerts_set_account_id", "campaigns_id_idx",
	"conversation_messages_id_idx", "conversation_messages_set_user_id",
	"conversation_messages_user_id_conversation_id_fkey",
	"conversation_messages_user_id_conversation_id_idx",
	"conversations_id_idx"
};

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
 * names (not what it skips or hands to dep_plan_foreign_keys() and dep_plan_views())
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

/* The dependents of the 11 tables, classified */
static void
plan_direct(DepPlan *plan, List **fk_oids, List **seeds)
{
	Oid			argtypes[2] = {OIDARRAYOID, TEXTARRAYOID};
	Datum		args[2];
	uint64		n;
	int			i;

	args[0] = dep_roots_array(plan);
	args[1] = own_names_array();
	if (SPI_execute_with_args(dependents_sql, 2, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	n = SPI_processed;
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		Oid			objid = DatumGetObjectId(dep_col_datum(i, 1, &isnull));
		char	   *category = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 4);

		if (category == NULL || strcmp(category, "own") == 0 || strcmp(category, "skip") == 0)
			continue;
		if (strcmp(category, "foreign key") == 0)
			*fk_oids = lappend_oid(*fk_oids, objid);
		else if (strcmp(category, "view") == 0 || strcmp(category, "materialized view") == 0)
		{
			Oid			viewid = DatumGetObjectId(dep_col_datum(i, 5, &isnull));

			*seeds = list_append_unique_oid(*seeds, viewid);
		}
		else if (!dep_collect_carried(plan, category, objid))
			dep_plan_cannot(plan, category, dep_col(plan, i, 2), dep_col(plan, i, 3),
							cannot_reason(category));
	}
}

/*
 * What depends on a referencing column that changes type: its plain indexes
 * and unique keys are rebuilt, its NOT NULL constraint (18) stays, views over
 * it are carried; anything else
 * (a CHECK, a default, an expression index, a policy, a trigger's WHEN)
 * would not survive the type change.
 */
void
dep_plan_column_dependents(DepPlan *plan, List **seeds)
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

	dep_spi_exec(psprintf(
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
			Oid			viewid = DatumGetObjectId(dep_col_datum(i, 5, &isnull));
			Oid			relid = DatumGetObjectId(dep_col_datum(i, 6, &isnull));
			MemoryContext old = MemoryContextSwitchTo(plan->cxt);

			*seeds = list_append_unique_oid(*seeds, viewid);
			/* the trial needs this table in its target layout */
			plan->shadow_rels = list_append_unique_oid(plan->shadow_rels, relid);
			MemoryContextSwitchTo(old);
			continue;
		}
		dep_plan_cannot(plan, category, dep_col(plan, i, 2), dep_col(plan, i, 3),
						"uses a referencing column whose type the update changes");
	}
}

/* The application's grants on the 11 tables, to apply to the new ones */
static void
plan_root_grants(DepPlan *plan)
{
	Oid			argtypes[1] = {OIDARRAYOID};
	Datum		args[1];

	args[0] = dep_roots_array(plan);
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
	plan->root_grants = SPI_processed > 0 ? dep_col(plan, 0, 1) : NULL;
}

/*
 * The whole plan.  try_views: re-create the views in a rolled-back trial;
 * may_wait: wait for the trial's locks (inside the update) rather than skip
 * the trial when a table is in use (conversion_plan()).
 */
DepPlan *
dep_build_plan(MemoryContext cxt, bool try_views, bool may_wait)
{
	DepPlan    *plan = MemoryContextAllocZero(cxt, sizeof(DepPlan));
	List	   *fk_oids = NIL;
	List	   *seeds = NIL;
	char	   *regtab;
	int			nest;

	plan->cxt = cxt;
	plan->schema = lg_extension_schema();
	plan->to_uuid = dep_keys_are_integer(plan->schema);
	plan_roots(plan);

	nest = dep_catalog_begin();
	/* catalog queries of a few thousand rows: compiling them costs more */
	(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);

	regtab = dep_references_table(plan);
	plan_direct(plan, &fk_oids, &seeds);
	dep_plan_foreign_keys(plan, fk_oids, regtab);
	dep_plan_references(plan, regtab);
	dep_plan_column_dependents(plan, &seeds);
	dep_plan_views(plan, seeds);
	plan_root_grants(plan);
	dep_plan_root_flags(plan);
	dep_plan_carried(plan);
	if (try_views)
		dep_trial_views(plan, may_wait);

	dep_catalog_end(nest);
	return plan;
}

/* The update refuses, naming every object it cannot carry */
void
dep_refuse(DepPlan *plan, const char *hint)
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
