/*-------------------------------------------------------------------------
 *
 * tables.c
 *	  The Lane Google schema as the conversion sees it: the 11 tables in an
 *	  order where every parent comes before its children, and for each its
 *	  key columns and the tables they reference.  The DDL itself lives in the
 *	  extension scripts; this is the part of it the C code must know.  And
 *	  the schema the extension (so the 11 tables) is installed in.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"

#include "lane_google.h"

const LgTable lg_tables[LG_NTABLES] = {
	{"users", 0, {{0}}},
	{"accounts", 0, {{0}}},
	{"account_users", 3, {
			{"account_id", NULL, "accounts", false},
			{"user_id", NULL, "users", false},
			{"invited_by", NULL, "users", true}}},
	{"campaigns", 2, {
			{"account_id", NULL, "accounts", false},
			{"created_by_id", "created_by", "users", true}}},
	{"ad_groups", 1, {{"campaign_id", NULL, "campaigns", false}}},
	{"ads", 1, {{"ad_group_id", NULL, "ad_groups", false}}},
	{"analytics_snapshots", 1, {{"campaign_id", NULL, "campaigns", false}}},
	{"approval_requests", 3, {
			{"campaign_id", NULL, "campaigns", false},
			{"requester_id", NULL, "users", false},
			{"approved_by", NULL, "users", true}}},
	{"budget_alerts", 1, {{"campaign_id", NULL, "campaigns", false}}},
	{"conversations", 1, {{"user_id", NULL, "users", false}}},
	{"conversation_messages", 1, {{"conversation_id", NULL, "conversations", false}}},
};

/* The table of that name, or NULL */
const LgTable *
lg_find_table(const char *name)
{
	int			i;

	for (i = 0; i < LG_NTABLES; i++)
		if (strcmp(lg_tables[i].name, name) == 0)
			return &lg_tables[i];
	return NULL;
}

/* Position of a table in lg_tables, or -1 */
int
lg_table_index(const char *name)
{
	const LgTable *t = lg_find_table(name);

	return t ? (int) (t - lg_tables) : -1;
}

/*
 * The extension's row of pg_extension: its schema, and its version (in the
 * caller's memory context) when version is not NULL.  An error if it is not
 * installed.  (get_extension_schema() is exported from PostgreSQL 16 on.)
 */
static Oid
extension_row(char **version)
{
	Oid			extoid = get_extension_oid(LG_EXTENSION_NAME, false);
	Oid			result = InvalidOid;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		result = ((Form_pg_extension) GETSTRUCT(tuple))->extnamespace;
		if (version)
		{
			bool		isnull;
			Datum		d = heap_getattr(tuple, Anum_pg_extension_extversion,
										 RelationGetDescr(rel), &isnull);

			*version = isnull ? pstrdup("") : TextDatumGetCString(d);
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (!OidIsValid(result))
		elog(ERROR, "could not find extension %u", extoid);
	return result;
}

/* The schema the extension is installed in; an error if it is not installed */
Oid
lg_extension_schema(void)
{
	return extension_row(NULL);
}

/* The installed version of the extension ("2.2") */
char *
lg_extension_version(void)
{
	char	   *version;

	(void) extension_row(&version);
	return version;
}
