/*-------------------------------------------------------------------------
 *
 * tables.c
 *	  The Lane Google schema as the conversion sees it: the 11 tables in an
 *	  order where every parent comes before its children, and for each its
 *	  key columns and the tables they reference.  The DDL itself lives in the
 *	  extension scripts; this is the part of it the C code must know.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

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
