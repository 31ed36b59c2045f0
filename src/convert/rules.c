/*-------------------------------------------------------------------------
 *
 * rules.c
 *	  The caller's arguments to convert_legacy() and
 *	  convert_legacy_problems() beyond the source schema: the modes
 *	  (on_orphan, on_error, dependents) and the rules about columns --
 *	  column_map ("table.source_column": "target_column"), ignore_columns
 *	  (table.column), value_map ("table.column": {"source value": "label"}).
 *
 * Invariants: every rule names one of lane_google's tables (table.column);
 * a malformed argument is refused before anything is locked.  Whether a
 * rule names a real column is for the layout check (layout.c), which marks
 * the rules it uses.  The JSON is taken apart by queries whose functions
 * and operators are schema-qualified.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "convert/convert_int.h"

/* ------------------------------------------------------------------------
 * The modes: on_orphan, on_error, dependents
 * ------------------------------------------------------------------------
 */

static OrphanMode
parse_orphan_mode(const char *s)
{
	if (strcmp(s, "error") == 0)
		return ORPHAN_ERROR;
	if (strcmp(s, "quarantine") == 0)
		return ORPHAN_QUARANTINE;
	if (strcmp(s, "null") == 0)
		return ORPHAN_NULL;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("on_orphan must be 'error', 'quarantine' or 'null', not '%s'", s)));
	return ORPHAN_ERROR;		/* keep compiler quiet */
}

/* on_orphan, on_error and dependents, checked in this order */
void
lg_conv_parse_modes(ConvertState *st, const char *on_orphan,
					const char *on_error, const char *dependents)
{
	st->mode = parse_orphan_mode(on_orphan);
	if (strcmp(on_error, "quarantine") == 0)
		st->quarantine_problems = true;
	else if (strcmp(on_error, "error") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("on_error must be 'error' or 'quarantine', not '%s'", on_error)));
	if (strcmp(dependents, "carry") == 0)
		st->carry = true;
	else if (strcmp(dependents, "keep") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dependents must be 'keep' or 'carry', not '%s'", dependents)));
}

/* ------------------------------------------------------------------------
 * The caller's rules: column_map, ignore_columns, value_map
 * ------------------------------------------------------------------------
 */

/* "table.column", the table one of the 11 */
static ColumnRule *
parse_rule(const char *arg, const char *s)
{
	ColumnRule *r = palloc0(sizeof(ColumnRule));
	size_t		len = strcspn(s, ".");

	if (s[len] != '.' || len == 0 || s[len + 1] == '\0' ||
		lg_find_table(pnstrdup(s, len)) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s entry \"%s\" must be table.column, the table one of lane_google's",
						arg, s)));
	r->table = pnstrdup(s, len);
	r->column = pstrdup(s + len + 1);
	return r;
}

/* Is the jsonb value of this type ("object", "string", ...)? */
static bool
jsonb_is(Jsonb *j, const char *type)
{
	text	   *t = DatumGetTextPP(DirectFunctionCall1(jsonb_typeof,
													   JsonbPGetDatum(j)));

	return strcmp(text_to_cstring(t), type) == 0;
}

/* Rows of a query with one argument, through SPI */
static SPITupleTable *
rule_query(const char *sql, Oid type, Datum arg)
{
	int			rc = SPI_execute_with_args(sql, 1, &type, &arg, NULL, true, 0);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	return SPI_tuptable;
}

/*
 * column_map, ignore_columns and value_map into the state's lists of
 * ColumnRule, allocated in the caller's memory context (SPI's is gone at
 * SPI_finish()).  Each is checked as it is read, in that order.
 */
void
lg_conv_parse_rules(ConvertState *st, Jsonb *column_map,
					ArrayType *ignore_columns, Jsonb *value_map)
{
	SPITupleTable *tt;
	MemoryContext cxt = CurrentMemoryContext;
	uint64		i;

	if (!jsonb_is(column_map, "object"))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column_map must be a JSON object of \"table.source_column\": \"target_column\"")));
	tt = rule_query("SELECT e.key, e.value OPERATOR(pg_catalog.#>>) '{}'::pg_catalog.text[],"
					" pg_catalog.jsonb_typeof(e.value) "
					"FROM pg_catalog.jsonb_each($1) e",
					JSONBOID, JsonbPGetDatum(column_map));
	for (i = 0; i < SPI_processed; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);
		ColumnRule *r = parse_rule("column_map", SPI_getvalue(tt->vals[i], tt->tupdesc, 1));
		char	   *type = SPI_getvalue(tt->vals[i], tt->tupdesc, 3);

		if (strcmp(type, "string") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("column_map entry \"%s.%s\" must name a target column as a string",
							r->table, r->column)));
		r->to = SPI_getvalue(tt->vals[i], tt->tupdesc, 2);
		st->column_map = lappend(st->column_map, r);
		MemoryContextSwitchTo(old);
	}

	/* as a NULL argument is: a NULL element is no column to ignore */
	if (array_contains_nulls(ignore_columns))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("ignore_columns must not contain NULL elements"),
				 errhint("Name each column to ignore as table.column.")));
	tt = rule_query("SELECT c FROM pg_catalog.unnest($1) c",
					TEXTARRAYOID, PointerGetDatum(ignore_columns));
	for (i = 0; i < SPI_processed; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);

		st->ignore_columns = lappend(st->ignore_columns,
									 parse_rule("ignore_columns",
												SPI_getvalue(tt->vals[i], tt->tupdesc, 1)));
		MemoryContextSwitchTo(old);
	}

	if (!jsonb_is(value_map, "object"))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("value_map must be a JSON object of \"table.column\": {\"source value\": \"label\", ...}")));
	tt = rule_query("SELECT e.key FROM pg_catalog.jsonb_each($1) e "
					"WHERE pg_catalog.jsonb_typeof(e.value) OPERATOR(pg_catalog.<>) 'object'::pg_catalog.text",
					JSONBOID, JsonbPGetDatum(value_map));
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("value_map entry \"%s\" must be a JSON object of \"source value\": \"label\"",
						SPI_getvalue(tt->vals[0], tt->tupdesc, 1))));
	tt = rule_query("SELECT e.key, v.key, v.value OPERATOR(pg_catalog.#>>) '{}'::pg_catalog.text[],"
					" pg_catalog.jsonb_typeof(v.value) "
					"FROM pg_catalog.jsonb_each($1) e, pg_catalog.jsonb_each(e.value) v",
					JSONBOID, JsonbPGetDatum(value_map));
	for (i = 0; i < SPI_processed; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);
		ColumnRule *r = parse_rule("value_map", SPI_getvalue(tt->vals[i], tt->tupdesc, 1));
		char	   *type = SPI_getvalue(tt->vals[i], tt->tupdesc, 4);

		r->from = SPI_getvalue(tt->vals[i], tt->tupdesc, 2);
		if (strcmp(type, "null") == 0)
			r->to = NULL;
		else if (strcmp(type, "string") == 0)
			r->to = SPI_getvalue(tt->vals[i], tt->tupdesc, 3);
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("value_map maps \"%s\" of %s.%s to a %s; map to a label (a string) or null",
							r->from, r->table, r->column, type)));
		st->value_map = lappend(st->value_map, r);
		MemoryContextSwitchTo(old);
	}
}
