/*-------------------------------------------------------------------------
 *
 * lane_google.c
 *	  Module entry point: the module magic and the extension's settings,
 *	  and small helpers every capability shares.
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
#include "fmgr.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/rel.h"

#include "lane_google.h"

PG_MODULE_MAGIC;

int			lg_max_memory_kb = 65536;
int			lg_progress_rows = 1000000;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomIntVariable("lane_google.max_memory",
							"Memory a conversion or validation may use for key sets.",
							"Past it, key sets fall back to index probes of the parent table.",
							&lg_max_memory_kb,
							65536,
							1024,
							MAX_KILOBYTES,
							PGC_USERSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("lane_google.progress_rows",
							"Rows between progress reports of a running conversion.",
							NULL,
							&lg_progress_rows,
							1000000,
							1000,
							INT_MAX,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	lg_online_init();

	MarkGUCPrefixReserved("lane_google");
}

/*
 * The schema the extension is installed in; an error if it is not installed.
 */
Oid
lg_extension_schema(void)
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
		result = ((Form_pg_extension) GETSTRUCT(tuple))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (!OidIsValid(result))
		elog(ERROR, "could not find extension %u", extoid);
	return result;
}

/* lane_google.max_memory in bytes */
Size
lg_memory_budget(void)
{
	return (Size) lg_max_memory_kb * 1024;
}
