/*-------------------------------------------------------------------------
 *
 * online_compat.c
 *	  The compatibility views of the online conversion (schema
 *	  lane_google_v1, expand/contract): the 1.0 layout under a name that
 *	  survives the swap.
 *
 * Invariants: from online_start() to the swap, each view is a plain view
 * over its legacy table, with a sequence of its own that is not yet used;
 * the swap (under its ACCESS EXCLUSIVE locks) replaces it by a view over
 * the 2.x table that shows the legacy ids, sets the sequence past every
 * legacy id used, and grants on the new view what was granted on the old.
 * The views read and write with the rights of the role that uses them
 * (security_invoker, from PostgreSQL 15 on).  online_abort() drops them
 * with their schema; after the swap they are the DBA's, until
 * drop_compat().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "lane_google.h"
#include "online_int.h"

/*
 * The compatibility views read and write as the role that uses them, as the
 * 2.x tables would: its privileges on the tables under them and their
 * row-level security policies apply, not those of the view's owner (the
 * role that ran online_start(), or the update).  PostgreSQL 13 and 14 have
 * no such views: there they read with their owner's rights.
 */
#define COMPAT_VIEW_OPTIONS	" WITH (security_invoker = true)"

/*
 * The name of table t's id sequence, quoted: the legacy table's in the
 * extension's schema, the compatibility view's in lane_google_v1
 */
static const char *
id_seq(int t)
{
	return quote_identifier(psprintf("%s_id_seq", lg_tables[t].name));
}

/*
 * online_start()'s compatibility view of table t: the legacy table as it
 * is, and the sequence that will number the inserts through its successor.
 */
void
lg_online_compat_create_legacy(int t)
{
	const char *tq = quote_identifier(lg_tables[t].name);

	lg_online_spi_run(psprintf("CREATE VIEW " COMPAT ".%s" COMPAT_VIEW_OPTIONS " AS SELECT * FROM %s.%s",
							   tq, lg_online_ext_q(), tq),
					  SPI_OK_UTILITY);
	lg_online_spi_run(psprintf("CREATE SEQUENCE " COMPAT ".%s AS pg_catalog.int4", id_seq(t)),
					  SPI_OK_UTILITY);
}

/* online_abort(): the views, their sequences and their schema, if there */
void
lg_online_compat_drop_all(void)
{
	int			t;

	if (!OidIsValid(get_namespace_oid(COMPAT, true)))
		return;
	for (t = 0; t < LG_NTABLES; t++)
	{
		lg_online_spi_run(psprintf("DROP VIEW IF EXISTS " COMPAT ".%s", quote_identifier(lg_tables[t].name)),
						  SPI_OK_UTILITY);
		lg_online_spi_run(psprintf("DROP SEQUENCE IF EXISTS " COMPAT ".%s", id_seq(t)),
						  SPI_OK_UTILITY);
	}
	lg_online_spi_run("DROP SCHEMA " COMPAT, SPI_OK_UTILITY);
}

/*
 * The GRANT statements that give again what is granted on the compatibility
 * view of table t to roles other than its owner (none if it is missing).
 */
static List *
compat_view_grants(int t)
{
	Oid			nsp = get_namespace_oid(COMPAT, true);
	Oid			view = OidIsValid(nsp) ? get_relname_relid(lg_tables[t].name, nsp) : InvalidOid;
	List	   *grants = NIL;
	uint64		i;

	if (!OidIsValid(view))
		return NIL;
	if (SPI_execute(psprintf("SELECT pg_catalog.format('GRANT %%s ON " COMPAT ".%%I TO %%s%%s',"
							 "        a.privilege_type, c.relname,"
							 "        CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'PUBLIC'"
							 "             ELSE pg_catalog.quote_ident(r.rolname::pg_catalog.text) END,"
							 "        CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)"
							 "  FROM pg_catalog.pg_class c"
							 " CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) a"
							 "  LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) a.grantee"
							 " WHERE c.oid OPERATOR(pg_catalog.=) %u::pg_catalog.oid"
							 "   AND a.grantee OPERATOR(pg_catalog.<>) c.relowner"
							 " ORDER BY 1", view),
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: the grants of view %s.%s", COMPAT, lg_tables[t].name);
	for (i = 0; i < SPI_processed; i++)
		grants = lappend(grants, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
	return grants;
}

/*
 * The compatibility view of table t over its 2.x table: the 1.0 columns,
 * the id and foreign keys as the legacy ids.  The other columns are the
 * table's own, so the view is automatically updatable: UPDATE and DELETE go
 * to the table as on the table itself (a concurrently updated row is
 * re-read, not overwritten); the id and foreign keys are not updatable
 * through it.  Inserts are numbered by the view's sequence and written by
 * _compat_write().  Created inside the update script, so detached from the
 * extension: it is the DBA's, until drop_compat().  Its reads and writes,
 * and _compat_write()'s INSERT (plpgsql, not SECURITY DEFINER), are checked
 * as the role that uses it: its privileges on the 2.x tables (the parents'
 * too: the foreign keys read their legacy_id) and their policies.
 */
static void
create_compat_view(int t)
{
	const char *ext = lg_online_ext_q();
	const char *tq = quote_identifier(lg_tables[t].name);
	const char *seq = id_seq(t);
	Relation	rel = table_open(get_relname_relid(lg_tables[t].name, lg_extension_schema()),
								 AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	StringInfoData sql;
	int			i;

	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE VIEW " COMPAT ".%s" COMPAT_VIEW_OPTIONS " AS SELECT ", tq);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		const char *name = NameStr(att->attname);
		const char *parent = lg_online_fk_parent(t, name);

		if (att->attisdropped || strcmp(name, "legacy_id") == 0)
			continue;
		if (strcmp(name, "id") == 0)
			appendStringInfoString(&sql, "x.legacy_id::pg_catalog.int4 AS id, ");
		else if (parent)
			appendStringInfo(&sql,
							 "(SELECT p.legacy_id FROM %s.%s p WHERE p.id OPERATOR(pg_catalog.=) x.%s)::pg_catalog.int4 AS %s, ",
							 ext, quote_identifier(parent), quote_identifier(name),
							 quote_identifier(name));
		else
			appendStringInfo(&sql, "x.%s, ", quote_identifier(name));
	}
	sql.len -= 2;
	sql.data[sql.len] = '\0';
	appendStringInfo(&sql, " FROM %s.%s x", ext, tq);
	table_close(rel, AccessShareLock);
	lg_online_spi_run(sql.data, SPI_OK_UTILITY);

	/* inserts get the 2.x table's defaults, and the next legacy id */
	lg_online_spi_run(psprintf("ALTER VIEW " COMPAT ".%s ALTER COLUMN id SET DEFAULT pg_catalog.nextval('" COMPAT ".%s'::pg_catalog.regclass)",
					 tq, seq), SPI_OK_UTILITY);
	if (SPI_execute(psprintf("SELECT pg_catalog.format('ALTER VIEW " COMPAT ".%%I ALTER COLUMN %%I SET DEFAULT %%s', %s, a.attname,"
							 " pg_catalog.pg_get_expr(d.adbin, d.adrelid))"
							 "  FROM pg_catalog.pg_attrdef d JOIN pg_catalog.pg_attribute a"
							 "    ON a.attrelid OPERATOR(pg_catalog.=) d.adrelid AND a.attnum OPERATOR(pg_catalog.=) d.adnum"
							 " WHERE d.adrelid OPERATOR(pg_catalog.=) '%s.%s'::pg_catalog.regclass"
							 "   AND a.attname OPERATOR(pg_catalog.<>) 'id'::pg_catalog.name",
							 quote_literal_cstr(lg_tables[t].name), ext, tq),
					 false, 0) == SPI_OK_SELECT)
	{
		SPITupleTable *tt = SPI_tuptable;
		uint64		j;

		for (j = 0; j < tt->numvals; j++)
			lg_online_spi_run(SPI_getvalue(tt->vals[j], tt->tupdesc, 1), SPI_OK_UTILITY);
	}
	lg_online_spi_run(psprintf("CREATE TRIGGER compat_insert INSTEAD OF INSERT ON " COMPAT ".%s"
					 " FOR EACH ROW EXECUTE FUNCTION %s._compat_write()", tq, ext), SPI_OK_UTILITY);
	lg_online_spi_run(psprintf("ALTER EXTENSION lane_google DROP VIEW " COMPAT ".%s", tq), SPI_OK_UTILITY);
}

/*
 * The swap's first step with the compatibility views, under its locks and
 * before the legacy tables go: the next legacy id of each table, for
 * inserts through the views (next_ids), then the views over the legacy
 * tables dropped, what was granted on them kept in view_grants (what the
 * DBA granted on the views, the application's role as the README says, is
 * granted again on their successors).
 */
void
lg_online_compat_take_out(int64 *next_ids, List **view_grants)
{
	const char *ext = lg_online_ext_q();
	int			t;

	for (t = 0; t < LG_NTABLES; t++)
	{
		const char *tq = quote_identifier(lg_tables[t].name);

		next_ids[t] = lg_online_spi_int8(psprintf("SELECT greatest((SELECT CASE WHEN is_called THEN last_value OPERATOR(pg_catalog.+) 1"
												  "  ELSE last_value END FROM %s.%s),"
												  " (SELECT coalesce(pg_catalog.max(id), 0) OPERATOR(pg_catalog.+) 1 FROM %s.%s))",
												  ext, id_seq(t), ext, tq), 1);
	}
	for (t = 0; t < LG_NTABLES; t++)
	{
		view_grants[t] = compat_view_grants(t);
		lg_online_spi_run(psprintf("DROP VIEW IF EXISTS " COMPAT ".%s", quote_identifier(lg_tables[t].name)),
						  SPI_OK_UTILITY);
	}
}

/*
 * The swap's last step, once the shadows are the extension's tables: the
 * compatibility views, now over the 2.x tables, their sequences set to
 * next_ids, and the grants of view_grants again.
 */
void
lg_online_compat_put_back(const int64 *next_ids, List **view_grants)
{
	int			t;
	int			g;

	if (!OidIsValid(get_namespace_oid(COMPAT, true)))
		return;
	for (t = 0; t < LG_NTABLES; t++)
	{
		lg_online_spi_run(psprintf("SELECT pg_catalog.setval(%s::pg_catalog.regclass, " INT64_FORMAT ", false)",
								   quote_literal_cstr(psprintf(COMPAT ".%s", id_seq(t))),
								   next_ids[t]),
						  SPI_OK_SELECT);
		create_compat_view(t);
		for (g = 0; g < list_length(view_grants[t]); g++)
			lg_online_spi_run((const char *) list_nth(view_grants[t], g), SPI_OK_UTILITY);
	}
}
