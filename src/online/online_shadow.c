/*-------------------------------------------------------------------------
 *
 * online_shadow.c
 *	  The shadow tables of the online conversion (schema lane_google_online):
 *	  their making, their layout checked against the legacy tables, the
 *	  statement that copies legacy rows into them, their primary keys and
 *	  their other indexes.
 *
 * Invariants: a shadow has the columns of its legacy table, in the same
 * order, with the id and foreign keys turned uuid and legacy_id last;
 * every statement that copies into it maps the keys by legacy_uuid() and is
 * built only after the legacy table (locked until the transaction ends) was
 * found to have the shadow's columns still, and its capture triggers
 * enabled ALWAYS.  The primary key comes when a table's copy has ended, the
 * other unique constraints and indexes once the whole backfill has.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "lane_google.h"
#include "online_int.h"

/*
 * The shadow of table t: the legacy table's columns (LIKE copies types,
 * NOT NULL, defaults and named checks), the keys turned uuid, the id's
 * default uuid_generate_v7(), legacy_id last; no index yet.
 */
void
lg_online_create_shadow(int t)
{
	const char *ext = lg_online_ext_q();
	const char *tq = quote_identifier(lg_tables[t].name);
	StringInfoData sql;
	int			i;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "CREATE TABLE " STAGING ".%s (LIKE %s.%s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)",
					 tq, ext, tq);
	lg_online_spi_run(sql.data, SPI_OK_UTILITY);

	resetStringInfo(&sql);
	appendStringInfo(&sql,
					 "ALTER TABLE " STAGING ".%s ALTER COLUMN id TYPE pg_catalog.uuid USING NULL,"
					 " ALTER COLUMN id SET DEFAULT %s.uuid_generate_v7()",
					 tq, ext);
	for (i = 0; i < lg_tables[t].nfks; i++)
		appendStringInfo(&sql, ", ALTER COLUMN %s TYPE pg_catalog.uuid USING NULL",
						 quote_identifier(lg_tables[t].fks[i].column));
	/* the primary key comes with the copy's last batch */
	appendStringInfoString(&sql, ", ADD COLUMN legacy_id pg_catalog.int8");
	lg_online_spi_run(sql.data, SPI_OK_UTILITY);
}

/* Column name of desc, or -1 */
static int
find_column(TupleDesc desc, const char *name)
{
	int			i;

	for (i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped &&
			strcmp(NameStr(TupleDescAttr(desc, i)->attname), name) == 0)
			return i;
	return -1;
}

#define LAYOUT_DETAIL "online_start() made the shadow tables with the columns the legacy tables had then; the backfill copies the rows into them and the swap puts them in place of the legacy tables."
#define LAYOUT_RESTART "start the online conversion over: SELECT lane_google.online_abort(), then SELECT lane_google.online_start(), whose new shadow tables have the columns the tables have then"

/*
 * The legacy table t (columns ld) has the columns of its shadow (sd) by
 * name, or an error naming the first column renamed, added or dropped
 * since online_start().  ext is the extension's schema.
 */
static void
check_columns(int t, TupleDesc ld, TupleDesc sd, const char *ext)
{
	const char *tab = lg_tables[t].name;
	int			i;
	int			added = -1;
	int			dropped = -1;
	bool		was_added;
	const char *column;

	for (i = 0; i < ld->natts && added < 0; i++)
		if (!TupleDescAttr(ld, i)->attisdropped &&
			find_column(sd, NameStr(TupleDescAttr(ld, i)->attname)) < 0)
			added = i;
	for (i = 0; i < sd->natts && dropped < 0; i++)
		if (!TupleDescAttr(sd, i)->attisdropped &&
			strcmp(NameStr(TupleDescAttr(sd, i)->attname), "legacy_id") != 0 &&
			find_column(ld, NameStr(TupleDescAttr(sd, i)->attname)) < 0)
			dropped = i;

	if (added >= 0 && dropped >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("column \"%s\" of table %s.%s was renamed to \"%s\" during the online conversion",
						NameStr(TupleDescAttr(sd, dropped)->attname), ext, tab,
						NameStr(TupleDescAttr(ld, added)->attname)),
				 errdetail("Table %s.%s has column \"%s\" and not \"%s\", which its shadow table %s.%s has.  " LAYOUT_DETAIL,
						   ext, tab, NameStr(TupleDescAttr(ld, added)->attname),
						   NameStr(TupleDescAttr(sd, dropped)->attname), STAGING, tab),
				 errhint("Rename it back, or " LAYOUT_RESTART ".")));
	if (added < 0 && dropped < 0)
		return;

	/* one column added, or one dropped: each with its own way out */
	was_added = added >= 0;
	column = was_added ? NameStr(TupleDescAttr(ld, added)->attname) :
		NameStr(TupleDescAttr(sd, dropped)->attname);
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 was_added ?
			 errmsg("column \"%s\" was added to table %s.%s during the online conversion",
					column, ext, tab) :
			 errmsg("column \"%s\" of table %s.%s was dropped during the online conversion",
					column, ext, tab),
			 was_added ?
			 errdetail("Its shadow table %s.%s has no such column.  " LAYOUT_DETAIL, STAGING, tab) :
			 errdetail("Its shadow table %s.%s still has it.  " LAYOUT_DETAIL, STAGING, tab),
			 was_added ?
			 errhint("Drop the column again, or " LAYOUT_RESTART ".") :
			 errhint("A dropped column cannot be put back: %s", LAYOUT_RESTART ".")));
}

/*
 * Each column of the legacy table t (columns ld, the same names as its
 * shadow's, sd) has the type its shadow expects, or an error: a key any
 * integer type (it is copied as legacy_uuid(table, key)), another column
 * the shadow's type and typmod.  ext is the extension's schema.
 */
static void
check_types(int t, TupleDesc ld, TupleDesc sd, const char *ext)
{
	const char *tab = lg_tables[t].name;
	int			i;

	for (i = 0; i < ld->natts; i++)
	{
		Form_pg_attribute la = TupleDescAttr(ld, i);
		Form_pg_attribute sa;
		const char *name = NameStr(la->attname);
		bool		key = strcmp(name, "id") == 0 || lg_online_fk_parent(t, name) != NULL;

		if (la->attisdropped)
			continue;
		sa = TupleDescAttr(sd, find_column(sd, name));
		/* a key is copied as legacy_uuid(table, key): any integer type */
		if (key && la->atttypid != INT2OID && la->atttypid != INT4OID &&
			la->atttypid != INT8OID)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("column \"%s\" of table %s.%s changed type during the online conversion",
							name, ext, tab),
					 errdetail("It is %s; the online conversion maps it to uuid by legacy_uuid(), from an integer.  " LAYOUT_DETAIL,
							   format_type_with_typemod(la->atttypid, la->atttypmod)),
					 errhint("Change it back to integer.")));
		if (!key && (sa->atttypid != la->atttypid || sa->atttypmod != la->atttypmod))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("column \"%s\" of table %s.%s changed type during the online conversion",
							name, ext, tab),
					 errdetail("It is %s; its shadow table %s.%s has %s.  " LAYOUT_DETAIL,
							   format_type_with_typemod(la->atttypid, la->atttypmod), STAGING, tab,
							   format_type_with_typemod(sa->atttypid, sa->atttypmod)),
					 errhint("Change it back to %s, or " LAYOUT_RESTART ".",
							 format_type_with_typemod(sa->atttypid, sa->atttypmod))));
	}
}

/*
 * The legacy table t (legacy, locked by the caller) has the columns of its
 * shadow, or an error naming the first column added, dropped, renamed or
 * changed in type since online_start(), and the way out.  Carrying such a
 * change is not possible: the rows copied so far lack it, and none of
 * ALTER TABLE's rewrites (a default, a USING) fires the capture trigger that
 * would log them for a copy again; aborting and starting again is that copy.
 */
static void
check_layout(int t, Relation legacy)
{
	Oid			relid = get_relname_relid(lg_tables[t].name, get_namespace_oid(STAGING, false));
	Relation	shadow;
	const char *ext = get_namespace_name(lg_extension_schema());

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table %s.%s is missing", STAGING, lg_tables[t].name)));
	shadow = table_open(relid, AccessShareLock);
	check_columns(t, RelationGetDescr(legacy), RelationGetDescr(shadow), ext);
	check_types(t, RelationGetDescr(legacy), RelationGetDescr(shadow), ext);
	table_close(shadow, NoLock);
}

/*
 * The legacy table t (rel) has online_start()'s capture triggers, enabled
 * ALWAYS, or an error: without them its changes since were not logged and
 * the shadow cannot be brought up to date.  pg_dump does not dump triggers
 * on an extension's tables, so a database restored from a dump taken during
 * an online conversion has the staging schema and its rows but no capture:
 * a swap there would lose every change made after the restore.
 */
static void
check_capture(int t, Relation rel)
{
	static const char *const names[] = {"lane_google_online_capture", "lane_google_online_truncate"};
	TriggerDesc *td = rel->trigdesc;
	int			n;
	int			i;

	for (n = 0; n < lengthof(names); n++)
	{
		bool		found = false;

		for (i = 0; td != NULL && i < td->numtriggers && !found; i++)
			found = strcmp(td->triggers[i].tgname, names[n]) == 0 &&
				td->triggers[i].tgenabled == TRIGGER_FIRES_ALWAYS;
		if (!found)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table %s.%s has lost the online conversion's change capture",
							get_namespace_name(lg_extension_schema()), lg_tables[t].name),
					 errdetail("Its trigger %s, which online_start() created, is missing or not enabled ALWAYS: its changes may not have been captured, so the shadow tables cannot be brought up to date.  A database restored from a dump taken during an online conversion is in this state (pg_dump does not dump triggers on an extension's tables).",
							   names[n]),
					 errhint("Start the online conversion over: SELECT lane_google.online_abort(), then SELECT lane_google.online_start().")));
	}
}

/*
 * Every legacy table has the columns of its shadow (check_layout()) and its
 * capture triggers (check_capture()), at each step of the backfill and in
 * the swap under its locks: a change to them since online_start() is named
 * before a row is copied, not met as an error of the copy statement or not
 * at all.
 */
void
lg_online_check_layouts(void)
{
	int			t;

	for (t = 0; t < LG_NTABLES; t++)
	{
		Relation	rel = table_open(lg_online_legacy_relid(t), AccessShareLock);

		check_capture(t, rel);
		check_layout(t, rel);
		table_close(rel, NoLock);
	}
}

/*
 * The statement that copies the legacy rows (alias l) matching where into
 * the shadow: the same columns in the same order, keys mapped by
 * legacy_uuid(), then legacy_id.  The legacy table stays locked until the
 * transaction ends: its columns cannot change before the statement runs.
 */
char *
lg_online_copy_sql(int t, const char *where)
{
	Relation	rel = table_open(lg_online_legacy_relid(t), AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	const char *ext = lg_online_ext_q();
	const char *tq = quote_identifier(lg_tables[t].name);
	StringInfoData cols;
	StringInfoData exprs;
	int			i;

	initStringInfo(&cols);
	initStringInfo(&exprs);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		const char *name = NameStr(att->attname);
		const char *parent;

		if (att->attisdropped)
			continue;
		appendStringInfo(&cols, "%s, ", quote_identifier(name));
		if (strcmp(name, "id") == 0)
			parent = lg_tables[t].name;
		else
			parent = lg_online_fk_parent(t, name);
		if (parent)
			appendStringInfo(&exprs, "%s.legacy_uuid(%s, l.%s), ", ext,
							 quote_literal_cstr(parent), quote_identifier(name));
		else
			appendStringInfo(&exprs, "l.%s, ", quote_identifier(name));
	}
	check_layout(t, rel);
	table_close(rel, NoLock);
	return psprintf("INSERT INTO " STAGING ".%s (%slegacy_id) SELECT %sl.id FROM %s.%s l WHERE %s",
					tq, cols.data, exprs.data, ext, tq, where);
}

/*
 * The shadow's primary key, once its copy has ended (a shadow made by an
 * earlier build of online_start() may have it already).
 */
void
lg_online_build_primary_key(int t)
{
	Oid			relid = get_relname_relid(lg_tables[t].name, get_namespace_oid(STAGING, false));
	Relation	rel;
	Oid			pk;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table %s.%s is missing", STAGING, lg_tables[t].name)));
	rel = table_open(relid, AccessShareLock);
	pk = lg_RelationGetPrimaryKeyIndex(rel);
	table_close(rel, AccessShareLock);
	if (OidIsValid(pk))
		return;
	lg_online_spi_run(psprintf("ALTER TABLE " STAGING ".%s ADD CONSTRAINT %s PRIMARY KEY (id)",
					 quote_identifier(lg_tables[t].name),
					 quote_identifier(psprintf("%s_pkey", lg_tables[t].name))),
			SPI_OK_UTILITY);

	/*
	 * The compatibility views' id is legacy_id::integer: old code's WHERE id
	 * = N is an index scan on this, not a scan of the table.  It belongs to
	 * the compatibility views, not to 2.1: drop_compat() drops it (a fresh
	 * 2.1 has no index on legacy_id).  Built by a sort with the primary key,
	 * not maintained row by row during the copy.
	 */
	lg_online_spi_run(psprintf("CREATE INDEX %s ON " STAGING ".%s ((legacy_id::pg_catalog.int4))",
					 quote_identifier(psprintf("_lg_compat_%s_legacy_id", lg_tables[t].name)),
					 quote_identifier(lg_tables[t].name)),
			SPI_OK_UTILITY);
}

/*
 * Unique constraints and indexes of the legacy table other than the
 * primary key, built on the shadow under the same names.
 */
void
lg_online_build_indexes(int t)
{
	StringInfoData sql;
	uint64		i;
	SPITupleTable *tt;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT CASE WHEN c.oid IS NOT NULL"
					 "   THEN pg_catalog.format('ALTER TABLE " STAGING ".%%I ADD CONSTRAINT %%I %%s', %s, c.conname, pg_catalog.pg_get_constraintdef(c.oid))"
					 "   ELSE pg_catalog.format('CREATE %%sINDEX %%I ON " STAGING ".%%I %%s', CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END,"
					 "        ic.relname, %s, pg_catalog.substring(pg_catalog.pg_get_indexdef(i.indexrelid), ' USING .*$'::pg_catalog.text)) END"
					 "  FROM pg_catalog.pg_index i"
					 "  JOIN pg_catalog.pg_class ic ON ic.oid OPERATOR(pg_catalog.=) i.indexrelid"
					 "  LEFT JOIN pg_catalog.pg_constraint c ON c.conindid OPERATOR(pg_catalog.=) i.indexrelid"
					 "       AND c.conrelid OPERATOR(pg_catalog.=) i.indrelid"
					 "       AND c.contype OPERATOR(pg_catalog.=) ANY ('{u,x}'::pg_catalog.\"char\"[])"
					 " WHERE i.indrelid OPERATOR(pg_catalog.=) '%u'::pg_catalog.oid AND NOT i.indisprimary"
					 " ORDER BY ic.relname",
					 quote_literal_cstr(lg_tables[t].name), quote_literal_cstr(lg_tables[t].name),
					 lg_online_legacy_relid(t));
	if (SPI_execute(sql.data, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", sql.data);
	tt = SPI_tuptable;
	for (i = 0; i < tt->numvals; i++)
	{
		char	   *ddl = SPI_getvalue(tt->vals[i], tt->tupdesc, 1);

		lg_online_spi_run(ddl, SPI_OK_UTILITY);
	}
}
