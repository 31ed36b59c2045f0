/*-------------------------------------------------------------------------
 *
 * validate/validate.c
 *	  validate_fk_integrity(): checks every foreign key of a schema against
 *	  its data and the catalog, and reports one row per problem.  What it
 *	  owns: reading the foreign keys from the catalog, converting referencing
 *	  values to the referenced type, scanning each referencing table once,
 *	  and the report.  The key sets it checks against, their memory budget
 *	  and their fallbacks are keyset.c's, shared with the conversion.
 *
 * Problems reported:
 *	orphan_rows		rows whose key has no parent (exact count, sample keys)
 *	not_validated	a constraint marked NOT VALID (with its orphan count)
 *	type_mismatch	a referencing column whose type differs from the
 *					referenced column's
 *	missing_index	no index leads with the referencing columns
 *
 * How: the foreign keys come from pg_constraint.  Each referenced key set is
 * built once by one sequential scan of the parent (keyset.c), and each
 * referencing table is scanned once for all of its foreign keys; one-uuid
 * keys are looked up in prefetched batches.  Key sets share
 * lane_google.max_memory; past it, a single-column key is checked by
 * sorting the referencing and referenced values and merging them, and a
 * multi-column key by probing the parent's unique index per referencing
 * row: slower, still correct, never out of memory.  Every scan uses one
 * registered snapshot and every table is locked with AccessShareLock only,
 * as a SELECT would be.
 *
 * The samples are the sample_limit smallest distinct keys, in the order
 * ORDER BY over the referencing columns gives (NULLs last): the same
 * whatever the physical order of the rows, the memory budget, or the node
 * a row lives on.  (The sort fallback meets them in the referenced type's
 * order, which is the same one unless the types or collations differ.)
 *
 * On a Citus coordinator a foreign key between Citus tables is not scanned
 * (their storage there holds none of their rows): it is checked by an
 * anti-join that Citus runs on the shards (see "Foreign keys between Citus
 * tables", validate/shards.c).
 *
 * Key semantics follow PostgreSQL's RI checks: a referencing value is
 * compared in the referenced column's type (integer keys of any width as
 * int64; other types coerced to the referenced type and compared with that
 * type's default hash opclass, which agrees with its btree equality).
 * MATCH SIMPLE: a key with any NULL column is not checked.  MATCH FULL: an
 * all-NULL key is not checked, a partly NULL key is an orphan.
 *
 *-------------------------------------------------------------------------
 */
#include "validate/validate_int.h"

PG_FUNCTION_INFO_V1(lg_validate_fk_integrity);

/* ---------------------------------------------------------------------
 * Scanning a referencing table
 * ---------------------------------------------------------------------
 */

/* a referencing value in the referenced type */
static Datum
vk_convert(VkForeignKey *fk, int i, Datum d)
{
	switch (fk->conv[i])
	{
		case VK_CONV_FUNC:
			if (fk->convnargs[i] == 1)
				return FunctionCall1(&fk->convfn[i], d);
			return FunctionCall3(&fk->convfn[i], d, Int32GetDatum(-1),
								 BoolGetDatum(false));
		case VK_CONV_IO:
			return InputFunctionCall(&fk->parentin[i],
									 OutputFunctionCall(&fk->childout[i], d),
									 fk->parentioparam[i], -1);
		default:
			return d;
	}
}

static char *
vk_key_text(VkForeignKey *fk, Datum *vals, bool *nulls)
{
	StringInfoData buf;
	int			i;

	if (fk->nkeys == 1)
		return nulls[0] ? pstrdup("NULL") : OutputFunctionCall(&fk->childout[0], vals[0]);
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '(');
	for (i = 0; i < fk->nkeys; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		if (nulls[i])
			appendStringInfoString(&buf, "NULL");
		else
			appendStringInfoString(&buf, OutputFunctionCall(&fk->childout[i], vals[i]));
	}
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/* two referencing keys in the sample order: column by column, NULLs last */
static int
vk_sample_cmp(VkForeignKey *fk, Datum *av, bool *an, Datum *bv, bool *bn)
{
	int			i;

	for (i = 0; i < fk->nkeys; i++)
	{
		int32		c;

		if (an[i] || bn[i])
		{
			if (an[i] && bn[i])
				continue;
			return an[i] ? 1 : -1;
		}
		c = DatumGetInt32(FunctionCall2Coll(&fk->samplecmp[i], fk->samplecoll[i],
											av[i], bv[i]));
		if (c != 0)
			return c;
	}
	return 0;
}

/*
 * A key among the samples, if it is one of the sample_limit smallest
 * distinct keys seen so far (in the referencing columns' default btree
 * order, NULLs last: the order of ORDER BY over those columns, so that the
 * samples do not depend on where the rows lie, and a query over a Citus
 * table's shards chooses the same ones).  Without a btree order: the first
 * distinct keys seen.
 */
void
vk_add_sample(VkRun *run, VkForeignKey *fk, Datum *vals, bool *nulls)
{
	int			n = fk->nsamples;
	int			lo = 0,
				hi = n;
	int			i;
	char	   *text;
	MemoryContext old;

	if (run->sample_limit == 0)
		return;
	if (!fk->sample_sorted)
	{
		if (n >= run->sample_limit)
			return;
		text = vk_key_text(fk, vals, nulls);
		for (i = 0; i < n; i++)
		{
			if (strcmp(fk->samples[i], text) == 0)
			{
				pfree(text);
				return;
			}
		}
		fk->samples[fk->nsamples++] = MemoryContextStrdup(run->resultcxt, text);
		pfree(text);
		return;
	}

	/* past the largest of a full set: not a sample (the common case) */
	if (n >= run->sample_limit &&
		vk_sample_cmp(fk, vals, nulls, &fk->sampvals[(n - 1) * fk->nkeys],
					  &fk->sampnulls[(n - 1) * fk->nkeys]) >= 0)
		return;
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;
		int			c = vk_sample_cmp(fk, vals, nulls,
									  &fk->sampvals[mid * fk->nkeys],
									  &fk->sampnulls[mid * fk->nkeys]);

		if (c == 0)
			return;				/* a key already sampled */
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}

	/* the largest drops out of a full set */
	if (n >= run->sample_limit)
	{
		n--;
		pfree(fk->samples[n]);
		for (i = 0; i < fk->nkeys; i++)
			if (!fk->sampnulls[n * fk->nkeys + i] && !fk->typbyval[i])
				pfree(DatumGetPointer(fk->sampvals[n * fk->nkeys + i]));
	}
	memmove(&fk->samples[lo + 1], &fk->samples[lo], sizeof(char *) * (n - lo));
	memmove(&fk->sampvals[(lo + 1) * fk->nkeys], &fk->sampvals[lo * fk->nkeys],
			sizeof(Datum) * fk->nkeys * (n - lo));
	memmove(&fk->sampnulls[(lo + 1) * fk->nkeys], &fk->sampnulls[lo * fk->nkeys],
			sizeof(bool) * fk->nkeys * (n - lo));

	text = vk_key_text(fk, vals, nulls);
	old = MemoryContextSwitchTo(run->resultcxt);
	fk->samples[lo] = pstrdup(text);
	for (i = 0; i < fk->nkeys; i++)
	{
		Datum		d = vals[i];

		fk->sampnulls[lo * fk->nkeys + i] = nulls[i];
		if (nulls[i])
			d = (Datum) 0;
		else if (fk->typlen[i] == -1)
			d = PointerGetDatum(PG_DETOAST_DATUM_COPY(d));
		else
			d = datumCopy(d, fk->typbyval[i], fk->typlen[i]);
		fk->sampvals[lo * fk->nkeys + i] = d;
	}
	MemoryContextSwitchTo(old);
	pfree(text);
	fk->nsamples = n + 1;
}

static void
vk_record_orphan(VkRun *run, VkForeignKey *fk, Datum *vals, bool *nulls)
{
	fk->orphans++;
	vk_add_sample(run, fk, vals, nulls);
}

/* the key of a referencing row (no NULL column), in the referenced representation */
static void
vk_row_key(VkForeignKey *fk, Datum *vals, LgKey *key)
{
	LgKeySet   *ks = fk->ks;
	int			i;

	for (i = 0; i < fk->nkeys; i++)
	{
		Datum		d = vals[i];

		if (ks->kinds[i] == LG_KEY_INT)
		{
			if (lg_key_is_int_type(fk->childbase[i]))
				key->ints[i] = lg_key_int_value(fk->childbase[i], d);
			else
				key->ints[i] = lg_key_int_value(ks->types[i], vk_convert(fk, i, d));
		}
		else
		{
			if (fk->conv[i] != VK_CONV_NONE)
				d = vk_convert(fk, i, d);
			if (ks->kinds[i] == LG_KEY_GENERIC && ks->typlen[i] == -1)
				d = PointerGetDatum(PG_DETOAST_DATUM_PACKED(d));
			key->values[i] = d;
		}
	}
}

static void
vk_check_row(VkRun *run, VkForeignKey *fk, TupleTableSlot *slot)
{
	Datum		vals[INDEX_MAX_KEYS];
	bool		nulls[INDEX_MAX_KEYS];
	int			nnull = 0;
	int			i;
	LgKeySet   *ks = fk->ks;
	LgKey		key;
	bool		found;

	for (i = 0; i < fk->nkeys; i++)
	{
		vals[i] = slot_getattr(slot, fk->conkey[i], &nulls[i]);
		if (nulls[i])
			nnull++;
	}
	if (nnull > 0)
	{
		/* MATCH FULL: all or none NULL; MATCH SIMPLE: any NULL passes */
		if (fk->matchtype == FKCONSTR_MATCH_FULL && nnull < fk->nkeys)
			vk_record_orphan(run, fk, vals, nulls);
		return;
	}

	vk_row_key(fk, vals, &key);
	if (ks->state == LG_KEYS_BUILT)
		found = lg_keyset_contains(ks, &key);
	else
		found = lg_keyset_probe(ks, &key);
	if (!found)
		vk_record_orphan(run, fk, vals, nulls);
}

/* look up a batch of single uuid keys, in scan order */
static void
vk_flush_batch(VkRun *run, VkForeignKey *fk)
{
	LgKeyBatch *b = fk->batch;
	bool		found[LG_KEY_BATCH];
	int			n = b->n;
	int			j;

	lg_keyset_check_batch(fk->ks, b, found);
	for (j = 0; j < n; j++)
	{
		if (!found[j])
		{
			bool		isnull = false;
			Datum		d = UUIDPGetDatum(&b->uuids[j]);

			vk_record_orphan(run, fk, &d, &isnull);
		}
	}
}

static void
vk_batch_row(VkRun *run, VkForeignKey *fk, TupleTableSlot *slot)
{
	bool		isnull;
	Datum		d = slot_getattr(slot, fk->conkey[0], &isnull);

	/* a single NULL column passes under MATCH SIMPLE and MATCH FULL */
	if (isnull)
		return;
	if (lg_keyset_batch_push(fk->batch, fk->ks, DatumGetUUIDP(d)))
		vk_flush_batch(run, fk);
}

static void
vk_sort_row(VkForeignKey *fk, TupleTableSlot *slot)
{
	LgKeySet   *ks = fk->ks;
	bool		isnull;
	Datum		d = slot_getattr(slot, fk->conkey[0], &isnull);
	Oid			valtype = fk->childbase[0];

	/* a single NULL column passes under MATCH SIMPLE and MATCH FULL */
	if (isnull)
		return;
	if (!(ks->is_int && lg_key_is_int_type(valtype)) && fk->conv[0] != VK_CONV_NONE)
	{
		d = vk_convert(fk, 0, d);
		valtype = ks->types[0];
	}
	lg_keysort_put(fk->childsort, valtype, d);
}

/* a referencing value the merge found no parent for */
typedef struct VkSortOrphanArg
{
	VkRun	   *run;
	VkForeignKey *fk;
} VkSortOrphanArg;

static void
vk_sort_orphan(void *arg, Datum value)
{
	VkSortOrphanArg *a = (VkSortOrphanArg *) arg;
	VkForeignKey *fk = a->fk;
	char	   *text;
	int			i;

	fk->orphans++;
	if (fk->nsamples >= a->run->sample_limit)
		return;
	text = OutputFunctionCall(&fk->ks->sortout, value);
	for (i = 0; i < fk->nsamples; i++)
		if (strcmp(fk->samples[i], text) == 0)
		{
			pfree(text);
			return;
		}
	fk->samples[fk->nsamples++] = MemoryContextStrdup(a->run->resultcxt, text);
	pfree(text);
}

/* how each foreign key of a child is checked during its scan */
static bool
vk_plan_checks(VkRun *run, VkForeignKey **fks, int nfks)
{
	int			nsorts = 0;
	bool		allbatched = true;
	int			k;

	for (k = 0; k < nfks; k++)
	{
		VkForeignKey *fk = fks[k];
		LgKeySet   *ks = fk->ks;

		fk->batch = NULL;
		fk->childsort = NULL;
		if (ks->state == LG_KEYS_OVER && ks->fallback == LG_FALLBACK_SORT)
			nsorts++;
		if (fk->nkeys == 1 && ks->state == LG_KEYS_BUILT && ks->is_uuid &&
			fk->childbase[0] == UUIDOID && fk->conv[0] == VK_CONV_NONE)
			fk->batch = palloc0(sizeof(LgKeyBatch));
		else
			allbatched = false;
	}
	for (k = 0; k < nfks; k++)
	{
		LgKeySet   *ks = fks[k]->ks;

		if (ks->state == LG_KEYS_OVER && ks->fallback == LG_FALLBACK_SORT)
			fks[k]->childsort = lg_keysort_begin(ks, lg_keybudget_sort_kb(&run->budget, nsorts));
	}
	return allbatched;
}

/* after the scan: the last batches, then the merges of the sorted keys */
static void
vk_finish_checks(VkRun *run, VkForeignKey **fks, int nfks)
{
	int			k;

	for (k = 0; k < nfks; k++)
	{
		if (fks[k]->batch)
		{
			vk_flush_batch(run, fks[k]);
			pfree(fks[k]->batch);
			fks[k]->batch = NULL;
		}
	}
	for (k = 0; k < nfks; k++)
	{
		if (fks[k]->childsort)
		{
			VkSortOrphanArg arg = {run, fks[k]};

			lg_keysort_merge(fks[k]->childsort, run->snapshot,
							 lg_keybudget_sort_kb(&run->budget, 2),
							 vk_sort_orphan, &arg);
			fks[k]->childsort = NULL;
		}
	}
}

/* one scan of a referencing table, checking all of its foreign keys */
static void
vk_scan_child(VkRun *run, VkChild *child)
{
	Relation	rel;
	TableScanDesc scan;
	TupleTableSlot *slot;
	ListCell   *lc;
	AttrNumber	maxatt = 0;
	uint64		n = 0;
	int			nfks = list_length(child->fks);
	VkForeignKey **fks = palloc(sizeof(VkForeignKey *) * nfks);
	int			k = 0;
	bool		allbatched;

	foreach(lc, child->fks)
	{
		VkForeignKey *fk = (VkForeignKey *) lfirst(lc);
		int			i;

		fks[k++] = fk;
		for (i = 0; i < fk->nkeys; i++)
			maxatt = Max(maxatt, fk->conkey[i]);
	}
	allbatched = vk_plan_checks(run, fks, nfks);

	rel = table_open(child->relid, AccessShareLock);
	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, run->snapshot, 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		MemoryContext old;

		if ((++n & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
		slot_getsomeattrs(slot, maxatt);
		if (!allbatched)
			MemoryContextReset(run->rowcxt);
		old = MemoryContextSwitchTo(run->rowcxt);
		for (k = 0; k < nfks; k++)
		{
			if (fks[k]->batch)
				vk_batch_row(run, fks[k], slot);
			else if (fks[k]->childsort)
				vk_sort_row(fks[k], slot);
			else
				vk_check_row(run, fks[k], slot);
		}
		MemoryContextSwitchTo(old);
	}
	vk_finish_checks(run, fks, nfks);
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, NoLock);
	MemoryContextReset(run->rowcxt);
	pfree(fks);
}

/* ---------------------------------------------------------------------
 * Reading the catalog
 * ---------------------------------------------------------------------
 */

/* the key set of the columns a foreign key references, shared by all that do */
static LgKeySet *
vk_keyset_for(VkRun *run, VkForeignKey *fk)
{
	ListCell   *lc;
	LgKeySet   *ks;
	Oid			types[INDEX_MAX_KEYS];
	Oid			collations[INDEX_MAX_KEYS];
	int			i;
	Relation	prel;

	foreach(lc, run->budget.sets)
	{
		ks = (LgKeySet *) lfirst(lc);
		if (ks->relid == fk->confrelid && ks->nkeys == fk->nkeys &&
			memcmp(ks->attnums, fk->confkey, sizeof(AttrNumber) * fk->nkeys) == 0)
			return ks;
	}

	prel = table_open(fk->confrelid, NoLock);
	for (i = 0; i < fk->nkeys; i++)
	{
		Form_pg_attribute att = TupleDescAttr(RelationGetDescr(prel),
											  fk->confkey[i] - 1);

		types[i] = getBaseType(att->atttypid);
		collations[i] = att->attcollation;
	}
	ks = lg_keyset_create(&run->budget, fk->confrelid,
						  RelationGetRelationName(prel), fk->nkeys,
						  fk->confkey, types, collations, fk->conindid, true);
	table_close(prel, NoLock);
	return ks;
}

/* how a referencing column's values reach the referenced representation */
static void
vk_setup_conversion(VkForeignKey *fk, int i)
{
	LgKeySet   *ks = fk->ks;
	Oid			child = fk->childbase[i];
	Oid			parent = ks->types[i];
	Oid			outfn;
	bool		isvarlena;

	getTypeOutputInfo(fk->childtypes[i], &outfn, &isvarlena);
	fmgr_info(outfn, &fk->childout[i]);
	fk->conv[i] = VK_CONV_NONE;

	if ((ks->kinds[i] == LG_KEY_INT && lg_key_is_int_type(child)) ||
		child == parent || IsBinaryCoercible(child, parent))
		return;

	{
		Oid			funcid = InvalidOid;
		CoercionPathType path = find_coercion_pathway(parent, child,
													  COERCION_IMPLICIT,
													  &funcid);

		if (path == COERCION_PATH_RELABELTYPE)
			return;
		if (path == COERCION_PATH_FUNC && OidIsValid(funcid))
		{
			fk->conv[i] = VK_CONV_FUNC;
			fmgr_info(funcid, &fk->convfn[i]);
			fk->convnargs[i] = get_func_nargs(funcid);
		}
		else
		{
			Oid			infn;

			fk->conv[i] = VK_CONV_IO;
			getTypeInputInfo(parent, &infn, &fk->parentioparam[i]);
			fmgr_info(infn, &fk->parentin[i]);
		}
	}
}

/* does an index of the referencing table lead with the key columns? */
static bool
vk_has_leading_index(Relation rel, VkForeignKey *fk)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	bool		result = false;

	foreach(lc, indexes)
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index idx;
		int			i,
					j;
		bool		match = true;

		if (!HeapTupleIsValid(tup))
			continue;
		idx = (Form_pg_index) GETSTRUCT(tup);
		if (!idx->indisvalid || idx->indnkeyatts < fk->nkeys ||
			!heap_attisnull(tup, Anum_pg_index_indpred, NULL))
			match = false;
		for (i = 0; match && i < fk->nkeys; i++)
		{
			bool		found = false;

			for (j = 0; j < fk->nkeys; j++)
				if (idx->indkey.values[i] == fk->conkey[j])
					found = true;
			match = found;
		}
		ReleaseSysCache(tup);
		if (match)
		{
			result = true;
			break;
		}
	}
	list_free(indexes);
	return result;
}

/* permission to read the key columns of a table, or an error */
static void
vk_check_select(Oid relid, AttrNumber *attnums, int natts)
{
	Oid			userid = GetUserId();
	int			i;

	if (pg_class_aclcheck(relid, userid, ACL_SELECT) != ACLCHECK_OK)
	{
		for (i = 0; i < natts; i++)
			if (pg_attribute_aclcheck(relid, attnums[i], userid, ACL_SELECT) != ACLCHECK_OK)
				aclcheck_error(ACLCHECK_NO_PRIV,
							   get_relkind_objtype(get_rel_relkind(relid)),
							   get_rel_name(relid));
	}
	if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("row-level security is enabled for table \"%s\"",
						get_rel_name(relid)),
				 errdetail("validate_fk_integrity must read every row of the tables it checks."),
				 errhint("Run it as the table owner or a role with BYPASSRLS.")));
}

/* every foreign key declared on a table of the schema */
static List *
vk_read_foreign_keys(Oid nspoid)
{
	Relation	conrel;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *result = NIL;

	conrel = table_open(ConstraintRelationId, AccessShareLock);
	scan = systable_beginscan(conrel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);
		VkForeignKey *fk;
		char		relkind;
		Oid			pf_eq_oprs[INDEX_MAX_KEYS];
		Oid			pp_eq_oprs[INDEX_MAX_KEYS];
		Oid			ff_eq_oprs[INDEX_MAX_KEYS];
		int			ndelset;
		AttrNumber	delset[INDEX_MAX_KEYS];

		if (con->contype != CONSTRAINT_FOREIGN || con->connamespace != nspoid)
			continue;
		relkind = get_rel_relkind(con->conrelid);
		/* partitioned tables are checked through their partitions */
		if (relkind != RELKIND_RELATION)
			continue;
		/* clones made for the partitions of a referenced table: skip */
		if (OidIsValid(con->conparentid))
		{
			HeapTuple	ptup = SearchSysCache1(CONSTROID,
											   ObjectIdGetDatum(con->conparentid));
			bool		clone = false;

			if (HeapTupleIsValid(ptup))
			{
				clone = ((Form_pg_constraint) GETSTRUCT(ptup))->confrelid != con->confrelid;
				ReleaseSysCache(ptup);
			}
			if (clone)
				continue;
		}

		fk = palloc0(sizeof(VkForeignKey));
		fk->conoid = con->oid;
		fk->conname = pstrdup(NameStr(con->conname));
		fk->relid = con->conrelid;
		fk->confrelid = con->confrelid;
		fk->conindid = con->conindid;
		fk->matchtype = con->confmatchtype;
		fk->validated = con->convalidated;
		DeconstructFkConstraintRow(tup, &fk->nkeys, fk->conkey, fk->confkey,
								   pf_eq_oprs, pp_eq_oprs, ff_eq_oprs,
								   &ndelset, delset);
		memcpy(fk->pfeqop, pf_eq_oprs, sizeof(Oid) * fk->nkeys);
		result = lappend(result, fk);
	}
	systable_endscan(scan);
	table_close(conrel, AccessShareLock);
	return result;
}

/* ---------------------------------------------------------------------
 * Results
 * ---------------------------------------------------------------------
 */

static ArrayType *
vk_text_array(char **items, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
		d[i] = CStringGetTextDatum(items[i]);
	return construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT);
}

static VkProblem *
vk_problem(VkForeignKey *fk, const char *problem)
{
	VkProblem  *p = palloc0(sizeof(VkProblem));

	p->nspname = get_namespace_name(get_rel_namespace(fk->relid));
	p->relname = get_rel_name(fk->relid);
	p->conname = fk->conname;
	p->problem = problem;
	p->values[0] = CStringGetDatum(fk->conname);
	p->values[1] = ObjectIdGetDatum(fk->relid);
	p->values[2] = PointerGetDatum(vk_text_array(fk->colnames, fk->nkeys));
	p->values[3] = ObjectIdGetDatum(fk->confrelid);
	p->values[4] = CStringGetTextDatum(problem);
	p->nulls[5] = true;
	p->nulls[6] = true;
	return p;
}

static int
vk_problem_cmp(const ListCell *a, const ListCell *b)
{
	VkProblem  *x = (VkProblem *) lfirst(a);
	VkProblem  *y = (VkProblem *) lfirst(b);
	int			c;

	if ((c = strcmp(x->nspname, y->nspname)) != 0)
		return c;
	if ((c = strcmp(x->relname, y->relname)) != 0)
		return c;
	if ((c = strcmp(x->conname, y->conname)) != 0)
		return c;
	return strcmp(x->problem, y->problem);
}

static int
vk_child_cmp(const ListCell *a, const ListCell *b)
{
	VkChild    *x = (VkChild *) lfirst(a);
	VkChild    *y = (VkChild *) lfirst(b);

	return (x->relid > y->relid) - (x->relid < y->relid);
}


/* missing_index: no index leads with the columns; the one to create */
static VkProblem *
vk_missing_index_problem(VkForeignKey *fk)
{
	StringInfoData buf;
	char	   *item;
	VkProblem  *p;
	int			i;

	initStringInfo(&buf);
	appendStringInfo(&buf, "CREATE INDEX ON %s (",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(fk->relid)),
												get_rel_name(fk->relid)));
	for (i = 0; i < fk->nkeys; i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "",
						 quote_identifier(fk->colnames[i]));
	appendStringInfoChar(&buf, ')');
	item = buf.data;
	p = vk_problem(fk, "missing_index");
	p->values[6] = PointerGetDatum(vk_text_array(&item, 1));
	p->nulls[6] = false;
	return p;
}

/* ---------------------------------------------------------------------
 * The SQL function, step by step
 * ---------------------------------------------------------------------
 */

/* the schema to check, its arguments checked */
static Oid
vk_check_arguments(Name schema, int32 sample_limit)
{
	Oid			nspoid;

	/* the released update scripts' pre-flight: dependents first (dependents/) */
	lg_dependents_update_hook();

	if (sample_limit < 0 || sample_limit > VK_MAX_SAMPLE_LIMIT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sample_limit must be between 0 and %d", VK_MAX_SAMPLE_LIMIT)));

	nspoid = get_namespace_oid(NameStr(*schema), true);
	if (!OidIsValid(nspoid))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_SCHEMA_NAME),
				 errmsg("schema \"%s\" does not exist", NameStr(*schema))));
	return nspoid;
}

/*
 * Permissions first, before a single row is read; then lock as a SELECT
 * does, before the one snapshot every scan uses is taken.
 */
static void
vk_check_and_lock(List *fks)
{
	ListCell   *lc;

	foreach(lc, fks)
	{
		VkForeignKey *fk = (VkForeignKey *) lfirst(lc);

		vk_check_select(fk->relid, fk->conkey, fk->nkeys);
		vk_check_select(fk->confrelid, fk->confkey, fk->nkeys);
	}

	foreach(lc, fks)
	{
		VkForeignKey *fk = (VkForeignKey *) lfirst(lc);

		LockRelationOid(fk->relid, AccessShareLock);
		LockRelationOid(fk->confrelid, AccessShareLock);
		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(fk->relid)) ||
			!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(fk->confrelid)))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("a table of constraint \"%s\" was dropped concurrently",
							fk->conname)));
	}
}

/*
 * A foreign key's catalog checks (column types, a leading index), its key
 * set and its value conversions.
 */
static void
vk_describe_foreign_key(VkRun *run, VkForeignKey *fk)
{
	Relation	rel = table_open(fk->relid, NoLock);
	Relation	prel = table_open(fk->confrelid, NoLock);
	int			i;

	fk->samples = palloc(sizeof(char *) * Max(run->sample_limit, 1));
	fk->sampvals = palloc(sizeof(Datum) * fk->nkeys * Max(run->sample_limit, 1));
	fk->sampnulls = palloc(sizeof(bool) * fk->nkeys * Max(run->sample_limit, 1));
	fk->sample_sorted = true;
	if (!fk->citus)
		fk->ks = vk_keyset_for(run, fk);
	for (i = 0; i < fk->nkeys; i++)
	{
		Form_pg_attribute catt = TupleDescAttr(RelationGetDescr(rel),
											   fk->conkey[i] - 1);
		Form_pg_attribute patt = TupleDescAttr(RelationGetDescr(prel),
											   fk->confkey[i] - 1);
		TypeCacheEntry *tc;

		fk->colnames[i] = pstrdup(NameStr(catt->attname));
		fk->childtypes[i] = catt->atttypid;
		fk->childbase[i] = getBaseType(catt->atttypid);
		fk->typlen[i] = catt->attlen;
		fk->typbyval[i] = catt->attbyval;
		fk->samplecoll[i] = catt->attcollation;
		tc = lookup_type_cache(fk->childbase[i], TYPECACHE_CMP_PROC_FINFO);
		if (OidIsValid(tc->cmp_proc))
			fmgr_info_copy(&fk->samplecmp[i], &tc->cmp_proc_finfo, CurrentMemoryContext);
		else
			fk->sample_sorted = false;
		if (fk->citus)
		{
			Oid			outfn;
			bool		isvarlena;

			getTypeOutputInfo(fk->childtypes[i], &outfn, &isvarlena);
			fmgr_info(outfn, &fk->childout[i]);
		}
		else
			vk_setup_conversion(fk, i);
		if (catt->atttypid != patt->atttypid ||
			catt->atttypmod != patt->atttypmod)
			fk->mismatches =
				lappend(fk->mismatches,
						psprintf("%s %s -> %s %s",
								 NameStr(catt->attname),
								 format_type_with_typemod(catt->atttypid, catt->atttypmod),
								 NameStr(patt->attname),
								 format_type_with_typemod(patt->atttypid, patt->atttypmod)));
	}
	fk->has_index = vk_has_leading_index(rel, fk);
	table_close(prel, NoLock);
	table_close(rel, NoLock);
}

/* the foreign keys grouped by referencing table, in relid order */
static List *
vk_group_by_child(List *fks)
{
	List	   *children = NIL;
	ListCell   *lc;

	foreach(lc, fks)
	{
		VkForeignKey *fk = (VkForeignKey *) lfirst(lc);
		VkChild    *child = NULL;
		ListCell   *lc2;

		if (fk->citus)
			continue;			/* checked on its shards (vk_check_citus) */
		foreach(lc2, children)
		{
			if (((VkChild *) lfirst(lc2))->relid == fk->relid)
				child = (VkChild *) lfirst(lc2);
		}
		if (child == NULL)
		{
			child = palloc0(sizeof(VkChild));
			child->relid = fk->relid;
			children = lappend(children, child);
		}
		child->fks = lappend(child->fks, fk);
		fk->ks->remaining++;
	}
	list_sort(children, vk_child_cmp);
	return children;
}

/*
 * The key sets a child's scan needs: pinned, built if they are not (again,
 * if evicted), or their index probes opened if they did not fit.
 */
static void
vk_ready_keysets(VkRun *run, VkChild *child)
{
	ListCell   *lc;

	foreach(lc, child->fks)
		((VkForeignKey *) lfirst(lc))->ks->pinned = true;
	foreach(lc, child->fks)
	{
		LgKeySet   *ks = ((VkForeignKey *) lfirst(lc))->ks;

		if (ks->state == LG_KEYS_EMPTY)
		{
			instr_time	start,
						duration;

			INSTR_TIME_SET_CURRENT(start);
			(void) lg_keyset_build(ks, run->snapshot);
			INSTR_TIME_SET_CURRENT(duration);
			INSTR_TIME_SUBTRACT(duration, start);
			ereport(DEBUG2,
					(errmsg("validate_fk_integrity: key set of \"%s\" built in %.3f s",
							ks->name, INSTR_TIME_GET_DOUBLE(duration))));
		}
		if (ks->state == LG_KEYS_OVER && ks->fallback == LG_FALLBACK_PROBE)
			lg_keyset_probe_open(ks, run->snapshot);
	}
}

/* after a child's scan: unpin its key sets, and free those no one needs */
static void
vk_release_keysets(VkChild *child)
{
	ListCell   *lc;

	foreach(lc, child->fks)
	{
		LgKeySet   *ks = ((VkForeignKey *) lfirst(lc))->ks;

		ks->pinned = false;
		if (--ks->remaining == 0)
		{
			lg_keyset_probe_close(ks);
			lg_keyset_free(ks);
		}
	}
}

/* every referencing table scanned once, against its key sets */
static void
vk_check_children(VkRun *run, List *children)
{
	ListCell   *lc;

	foreach(lc, children)
	{
		VkChild    *child = (VkChild *) lfirst(lc);
		instr_time	start,
					duration;

		vk_ready_keysets(run, child);

		INSTR_TIME_SET_CURRENT(start);
		vk_scan_child(run, child);
		INSTR_TIME_SET_CURRENT(duration);
		INSTR_TIME_SUBTRACT(duration, start);
		ereport(DEBUG2,
				(errmsg("validate_fk_integrity: \"%s\" checked in %.3f s",
						get_rel_name(child->relid),
						INSTR_TIME_GET_DOUBLE(duration))));

		vk_release_keysets(child);
	}
	foreach(lc, run->budget.sets)
	{
		LgKeySet   *ks = (LgKeySet *) lfirst(lc);

		lg_keyset_probe_close(ks);
		lg_keyset_free(ks);
	}
}

/* the problems found, one per row, in a stable order */
static List *
vk_collect_problems(List *fks)
{
	List	   *problems = NIL;
	ListCell   *lc;

	foreach(lc, fks)
	{
		VkForeignKey *fk = (VkForeignKey *) lfirst(lc);
		VkProblem  *p;

		if (fk->orphans > 0)
		{
			p = vk_problem(fk, "orphan_rows");
			p->values[5] = Int64GetDatum(fk->orphans);
			p->values[6] = PointerGetDatum(vk_text_array(fk->samples, fk->nsamples));
			p->nulls[5] = p->nulls[6] = false;
			problems = lappend(problems, p);
		}
		if (!fk->validated)
		{
			p = vk_problem(fk, "not_validated");
			p->values[5] = Int64GetDatum(fk->orphans);
			p->values[6] = PointerGetDatum(vk_text_array(fk->samples, fk->nsamples));
			p->nulls[5] = p->nulls[6] = false;
			problems = lappend(problems, p);
		}
		if (fk->mismatches != NIL)
		{
			char	  **items = palloc(sizeof(char *) * list_length(fk->mismatches));
			int			i = 0;
			ListCell   *lc2;

			foreach(lc2, fk->mismatches)
				items[i++] = (char *) lfirst(lc2);
			p = vk_problem(fk, "type_mismatch");
			p->values[6] = PointerGetDatum(vk_text_array(items, i));
			p->nulls[6] = false;
			problems = lappend(problems, p);
		}
		if (!fk->has_index)
			problems = lappend(problems, vk_missing_index_problem(fk));
	}
	list_sort(problems, vk_problem_cmp);
	return problems;
}

LG_GUARDED_FUNCTION(lg_validate_fk_integrity)
{
	Name		schema = PG_GETARG_NAME(0);
	int32		sample_limit = PG_GETARG_INT32(1);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			nspoid;
	List	   *fks;
	List	   *children;
	List	   *problems;
	ListCell   *lc;
	VkRun		run;
	MemoryContext workcxt;
	MemoryContext oldcxt;

	nspoid = vk_check_arguments(schema, sample_limit);

	InitMaterializedSRF(fcinfo, 0);

	workcxt = AllocSetContextCreate(CurrentMemoryContext,
									"validate_fk_integrity",
									ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(workcxt);

	memset(&run, 0, sizeof(run));
	lg_keybudget_init(&run.budget);
	run.sample_limit = sample_limit;
	run.resultcxt = workcxt;
	run.rowcxt = AllocSetContextCreate(workcxt, "validate_fk_integrity row",
									   ALLOCSET_DEFAULT_SIZES);

	fks = vk_read_foreign_keys(nspoid);
	fks = vk_route_citus(fks);
	vk_check_and_lock(fks);
	run.snapshot = RegisterSnapshot(GetTransactionSnapshot());

	foreach(lc, fks)
	{
		vk_describe_foreign_key(&run, (VkForeignKey *) lfirst(lc));
	}
	children = vk_group_by_child(fks);
	vk_check_children(&run, children);
	foreach(lc, fks)
	{
		VkForeignKey *fk = (VkForeignKey *) lfirst(lc);

		if (fk->citus)
			vk_check_citus(&run, fk);
	}
	UnregisterSnapshot(run.snapshot);

	ereport(DEBUG2,
			(errmsg("validate_fk_integrity: %d foreign keys, key sets peaked at %zu kB of %zu kB",
					list_length(fks), run.budget.peak / 1024, run.budget.limit / 1024)));

	problems = vk_collect_problems(fks);
	foreach(lc, problems)
	{
		VkProblem  *p = (VkProblem *) lfirst(lc);
		NameData	conname;

		namestrcpy(&conname, p->conname);
		p->values[0] = NameGetDatum(&conname);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
							 p->values, p->nulls);
	}

	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(workcxt);
	return (Datum) 0;
}
