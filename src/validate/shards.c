/*-------------------------------------------------------------------------
 *
 * validate/shards.c
 *	  validate_fk_integrity() on a Citus coordinator: which foreign keys
 *	  between Citus tables Citus can check on the shards (the rest refused
 *	  by name), and the anti-join it runs there for each, built from the
 *	  constraint's own operators, schema-qualified throughout.
 *
 *-------------------------------------------------------------------------
 */
#include "validate/validate_int.h"

/* ---------------------------------------------------------------------
 * Foreign keys between Citus tables: checked on the shards
 *
 * On a Citus coordinator a Citus table's own storage holds none of its
 * rows, so a foreign key whose tables are Citus tables is not scanned: it
 * is checked by an anti-join, the query PostgreSQL's own initial check of a
 * foreign key runs (RI_Initial_Check), run through SPI so that Citus's
 * executor pushes it down to the shards, which count their orphans in
 * parallel.  Only counts and at most sample_limit keys reach the
 * coordinator.  Only foreign keys Citus pushes down whole are taken:
 * between co-located distributed tables on their distribution column, to
 * a reference table, and between the tables the coordinator holds (Citus
 * local and reference tables).  Any other, and a foreign key between a
 * Citus table and a plain table, is refused by name; a shard's own copy of
 * a foreign key (the coordinator holds shards of reference and Citus local
 * tables) is the logical table's, checked once.
 * ---------------------------------------------------------------------
 */

#define VK_FUNCTION "validate_fk_integrity()"

/* can Citus run the anti-join of fk, between tables child and parent, on the shards? */
static bool
vk_citus_pushes_down(VkForeignKey *fk, LgCitusTable *child, LgCitusTable *parent)
{
	int			i;

	switch (parent->kind)
	{
		case LG_CITUS_REFERENCE:
			/* every node holds the whole reference table */
			return child->kind != LG_CITUS_NONE && child->kind != LG_CITUS_SHARD;
		case LG_CITUS_DISTRIBUTED:
			if (child->kind != LG_CITUS_DISTRIBUTED ||
				child->colocationid != parent->colocationid ||
				child->colocationid == 0 ||
				child->distcol == 0 || parent->distcol == 0)
				return false;
			/* joined on the distribution columns, matching shard to shard */
			for (i = 0; i < fk->nkeys; i++)
				if (fk->conkey[i] == child->distcol &&
					fk->confkey[i] == parent->distcol)
					return true;
			return false;
		case LG_CITUS_SINGLE_SHARD:
			return child->kind == LG_CITUS_SINGLE_SHARD &&
				child->colocationid == parent->colocationid;
		case LG_CITUS_LOCAL:
			/* both on the coordinator */
			return child->kind == LG_CITUS_LOCAL ||
				child->kind == LG_CITUS_REFERENCE;
		default:
			return false;
	}
}

static char *
vk_qualified_name(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/*
 * Which foreign keys are checked on Citus's shards (fk->citus), which by
 * scanning: the list without the shards' copies.  On a worker (its shell
 * tables hold nothing, its shards a part) every Citus table is refused by
 * name; on the coordinator the foreign keys Citus cannot push down are.
 * Reads the catalog only.
 */
List *
vk_route_citus(List *fks)
{
	List	   *result = NIL;
	ListCell   *lc;

	if (!lg_citus_installed())
		return fks;
	if (lg_citus_is_worker())
	{
		foreach(lc, fks)
		{
			VkForeignKey *fk = (VkForeignKey *) lfirst(lc);

			lg_citus_refuse_table(fk->relid, VK_FUNCTION);
			lg_citus_refuse_table(fk->confrelid, VK_FUNCTION);
		}
		return fks;
	}

	foreach(lc, fks)
	{
		VkForeignKey *fk = (VkForeignKey *) lfirst(lc);
		LgCitusTable child;
		LgCitusTable parent;

		lg_citus_describe_table(fk->relid, &child);
		if (child.kind == LG_CITUS_SHARD)
			continue;			/* a shard's copy of its table's foreign key */
		lg_citus_describe_table(fk->confrelid, &parent);
		if (child.kind == LG_CITUS_NONE && parent.kind == LG_CITUS_NONE)
		{
			result = lappend(result, fk);
			continue;
		}
		if (parent.kind == LG_CITUS_SHARD)
			lg_citus_refuse_table(fk->confrelid, VK_FUNCTION);
		if (child.kind == LG_CITUS_NONE || parent.kind == LG_CITUS_NONE)
		{
			bool		child_citus = child.kind != LG_CITUS_NONE;

			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s cannot check foreign key \"%s\" between Citus table %s and plain table %s",
							VK_FUNCTION, fk->conname,
							vk_qualified_name(child_citus ? fk->relid : fk->confrelid),
							vk_qualified_name(child_citus ? fk->confrelid : fk->relid)),
					 errdetail("%s is a %s: its rows live in its shards, not in this node's storage of it, and Citus joins it with a plain table only by moving one table's rows to the other's nodes.",
							   vk_qualified_name(child_citus ? fk->relid : fk->confrelid),
							   child_citus ? child.kindname : parent.kindname),
					 errhint("Make both tables Citus tables (citus_add_local_table_to_metadata() makes a plain table a Citus local table), or both plain tables.")));
		}
		if (!vk_citus_pushes_down(fk, &child, &parent))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s cannot check foreign key \"%s\" of %s %s on its shards",
							VK_FUNCTION, fk->conname, child.kindname,
							vk_qualified_name(fk->relid)),
					 errdetail("It references %s %s; Citus runs a query joining them on the shards only when they are co-located and joined on their distribution column, or when the referenced table is a reference table.",
							   parent.kindname, vk_qualified_name(fk->confrelid)),
					 errhint("Co-locate the tables (alter_distributed_table(..., colocate_with => ...)) and include the distribution column in the foreign key.")));
		fk->citus = true;
		result = lappend(result, fk);
	}
	return result;
}

/* expr as an operand of type wanted (as ri_triggers.c's ri_add_cast_to) */
static void
vk_append_operand(StringInfo buf, const char *expr, Oid type, Oid wanted)
{
	HeapTuple	tup;
	Form_pg_type typ;

	if (type == wanted)
	{
		appendStringInfoString(buf, expr);
		return;
	}
	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(wanted));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for type %u", wanted);
	typ = (Form_pg_type) GETSTRUCT(tup);
	appendStringInfo(buf, "(%s)::%s.%s", expr,
					 quote_identifier(get_namespace_name(typ->typnamespace)),
					 quote_identifier(NameStr(typ->typname)));
	ReleaseSysCache(tup);
}

/* left opr right, opr schema-qualified, operands cast to its input types */
static void
vk_append_qual(StringInfo buf, const char *left, Oid lefttype, Oid opr,
			   const char *right, Oid righttype)
{
	HeapTuple	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(opr));
	Form_pg_operator op;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for operator %u", opr);
	op = (Form_pg_operator) GETSTRUCT(tup);
	vk_append_operand(buf, left, lefttype, op->oprleft);
	appendStringInfo(buf, " OPERATOR(%s.%s) ",
					 quote_identifier(get_namespace_name(op->oprnamespace)),
					 NameStr(op->oprname));
	vk_append_operand(buf, right, righttype, op->oprright);
	ReleaseSysCache(tup);
}

/*
 * The anti-join of fk: the referencing rows (fk) whose key has no parent
 * (pk), as RI_Initial_Check writes it.  Their count; with samples, their
 * distinct keys in the sample order, at most limit.
 */
static char *
vk_citus_query(VkForeignKey *fk, bool samples, int limit)
{
	StringInfoData buf;
	StringInfoData cols;
	int			i;

	initStringInfo(&cols);
	for (i = 0; i < fk->nkeys; i++)
		appendStringInfo(&cols, "%sfk.%s", i ? ", " : "",
						 quote_identifier(fk->colnames[i]));

	initStringInfo(&buf);
	appendStringInfo(&buf, "SELECT %s FROM %s fk LEFT JOIN %s pk ON (",
					 samples ? cols.data : "pg_catalog.count(*)",
					 vk_qualified_name(fk->relid),
					 vk_qualified_name(fk->confrelid));
	for (i = 0; i < fk->nkeys; i++)
	{
		char	   *pkcol = psprintf("pk.%s",
									 quote_identifier(get_attname(fk->confrelid, fk->confkey[i], false)));
		char	   *fkcol = psprintf("fk.%s", quote_identifier(fk->colnames[i]));

		if (i > 0)
			appendStringInfoString(&buf, " AND ");
		vk_append_qual(&buf, pkcol, get_atttype(fk->confrelid, fk->confkey[i]),
					   fk->pfeqop[i], fkcol, fk->childtypes[i]);
	}
	appendStringInfo(&buf, ") WHERE pk.%s IS NULL AND (",
					 quote_identifier(get_attname(fk->confrelid, fk->confkey[0], false)));
	/* MATCH SIMPLE: no NULL column; MATCH FULL: not all NULL */
	for (i = 0; i < fk->nkeys; i++)
		appendStringInfo(&buf, "%sfk.%s IS NOT NULL",
						 i == 0 ? "" : fk->matchtype == FKCONSTR_MATCH_FULL ? " OR " : " AND ",
						 quote_identifier(fk->colnames[i]));
	appendStringInfoChar(&buf, ')');
	if (samples)
	{
		appendStringInfo(&buf, " GROUP BY %s", cols.data);
		if (fk->sample_sorted)
			appendStringInfo(&buf, " ORDER BY %s", cols.data);
		appendStringInfo(&buf, " LIMIT %d", limit);
	}
	pfree(cols.data);
	return buf.data;
}

static void
vk_citus_exec(const char *sql)
{
	int			rc = SPI_execute(sql, true, 0);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed (%s): %s", SPI_result_code_string(rc), sql);
}

/* a foreign key between Citus tables: its orphans counted and sampled on the shards */
void
vk_check_citus(VkRun *run, VkForeignKey *fk)
{
	char	   *count_sql = vk_citus_query(fk, false, 0);
	instr_time	start,
				duration;
	bool		isnull;
	uint64		r;

	INSTR_TIME_SET_CURRENT(start);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ereport(DEBUG1,
			(errmsg("validate_fk_integrity: \"%s\" on the shards: %s",
					fk->conname, count_sql)));
	vk_citus_exec(count_sql);
	if (SPI_processed != 1)
		elog(ERROR, "validate_fk_integrity: no count from %s", count_sql);
	fk->orphans = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
											  SPI_tuptable->tupdesc, 1, &isnull));
	if (fk->orphans > 0 && run->sample_limit > 0)
	{
		char	   *sample_sql = vk_citus_query(fk, true, run->sample_limit);

		ereport(DEBUG1,
				(errmsg("validate_fk_integrity: \"%s\" samples on the shards: %s",
						fk->conname, sample_sql)));
		vk_citus_exec(sample_sql);
		for (r = 0; r < SPI_processed; r++)
		{
			Datum		vals[INDEX_MAX_KEYS];
			bool		nulls[INDEX_MAX_KEYS];
			int			i;

			for (i = 0; i < fk->nkeys; i++)
				vals[i] = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc,
										i + 1, &nulls[i]);
			vk_add_sample(run, fk, vals, nulls);
		}
	}
	SPI_finish();
	INSTR_TIME_SET_CURRENT(duration);
	INSTR_TIME_SUBTRACT(duration, start);
	ereport(DEBUG2,
			(errmsg("validate_fk_integrity: \"%s\" checked on the shards in %.3f s",
					fk->conname, INSTR_TIME_GET_DOUBLE(duration))));
}

