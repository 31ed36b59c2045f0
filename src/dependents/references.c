/*-------------------------------------------------------------------------
 *
 * references.c
 *	  add_legacy_reference(): registering a column of the application's that
 *	  holds ids of one of the 11 tables without a constraint (or, as
 *	  'schema.table', ids of the application's own legacy table, for
 *	  convert_legacy's carry), in legacy_references.  What it refuses, and
 *	  the plan refuses of registrations made before: system catalogs, other
 *	  extensions' tables, lane_google's own, columns of types that do not
 *	  convert, tables the caller does not own.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/catalog.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/rel.h"

#include "lane_google.h"
#include "dependents_int.h"

PG_FUNCTION_INFO_V1(lg_add_legacy_reference);

static void add_source_reference(Oid relid, const char *colname, const char *referenced);

/*
 * Why a registered reference cannot be in table relid, or NULL when it can:
 * the update would change the type of the column (ALTER TABLE ... ALTER
 * COLUMN ... TYPE), which is for the application's tables only, not for a
 * system catalog, another extension's table (its own scripts own its
 * layout), or one of lane_google's own (the update converts those itself).
 */
char *
dep_reference_table_refusal(Oid relid)
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
	if ((refusal = dep_reference_table_refusal(relid)) != NULL)
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
LG_GUARDED_FUNCTION(lg_add_legacy_reference)
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
	to_uuid = dep_keys_are_integer(schema);

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

	dep_spi_connect();
	dep_spi_exec(psprintf("INSERT INTO %s.legacy_references (tab, col, referenced, legacy_type)"
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
	if (dep_keys_are_integer(schema))
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
	dep_spi_connect();
	dep_spi_exec(psprintf("INSERT INTO %s.legacy_references (tab, col, referenced, legacy_type)"
						  " VALUES ('%u'::pg_catalog.regclass, %s, %s, '%u'::pg_catalog.regtype)"
						  " ON CONFLICT (tab, col) DO UPDATE SET referenced = excluded.referenced,"
						  "   legacy_type = excluded.legacy_type, declared = false",
						  quote_identifier(get_namespace_name(schema)), relid,
						  quote_literal_cstr(colname), quote_literal_cstr(stored), atttypid),
				 SPI_OK_INSERT);
	SPI_finish();
}
