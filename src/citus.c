/*-------------------------------------------------------------------------
 *
 * citus.c
 *	  What lane_google does on a Citus cluster, without linking Citus: the
 *	  citus extension and its catalogs (pg_dist_partition, pg_dist_shard,
 *	  pg_dist_local_group, pg_dist_node) are looked up by name, and Citus's
 *	  own functions called through SPI, schema-qualified.
 *
 * Two rules, so that nothing is silently wrong there:
 *
 * - One legacy namespace per cluster.  The coordinator's is the cluster's:
 *   CREATE EXTENSION draws one on every node (Citus runs the extension's
 *   script on each worker, and again on a node added later), so a worker's
 *   own is not to be trusted.  On a worker (pg_dist_local_group.groupid is
 *   not 0) every reader of the namespace (legacy_uuid(), legacy_namespace(),
 *   convert_legacy()) first checks it against the coordinator's, once per
 *   transaction, by asking the coordinator for legacy_uuid('users', 0) and
 *   comparing it with the worker's own: a worker whose namespace differs, or
 *   that cannot reach the coordinator, refuses.  set_legacy_namespace() on
 *   the coordinator sets the namespace of every active worker too (and
 *   fails if one cannot be set), so SELECT set_legacy_namespace(
 *   legacy_namespace()) on the coordinator brings a node added later in
 *   line.  A check rather than a copy kept in a Citus reference table: a
 *   reference table is replicated to a new node only later (or not at all
 *   until replicate_reference_tables()), and reading its shard from inside
 *   a query pushed down to a worker would be a nested distributed query;
 *   the check needs nothing but the coordinator to be up, and answers for
 *   the namespace actually in use.
 *
 * - The functions that read or write tables below the executor refuse Citus
 *   tables (distributed, reference, Citus local tables) and shards by name:
 *   on the coordinator such a table's own storage holds none of its rows
 *   (or only those left from before it was distributed), on a worker a
 *   shard holds a part of them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/uuid.h"

#include "lane_google.h"

/* the table legacy_uuid() is asked about on both nodes, and the id */
#define LG_FINGERPRINT_TABLE	"users"
#define LG_FINGERPRINT_ID		0

/* Is the citus extension installed in this database? */
bool
lg_citus_installed(void)
{
	return OidIsValid(get_extension_oid("citus", true));
}

/* the transaction's local id, to check the namespace once per transaction */
#define LG_LXID lg_my_lxid()

static void
citus_spi_connect(void)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

static void
citus_spi_exec(const char *sql, int nargs, Oid *argtypes, Datum *values)
{
	if (SPI_execute_with_args(sql, nargs, argtypes, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", sql);
}

/* The Citus group of this node: 0 on a coordinator or a node on its own */
static int32
citus_local_group(void)
{
	int32		groupid = 0;
	bool		isnull;

	citus_spi_connect();
	citus_spi_exec("SELECT groupid FROM pg_catalog.pg_dist_local_group", 0, NULL, NULL);
	if (SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			groupid = DatumGetInt32(d);
	}
	SPI_finish();
	return groupid;
}

/* Is this node a Citus worker (a node whose namespace is not the cluster's)? */
bool
lg_citus_is_worker(void)
{
	return lg_citus_installed() && citus_local_group() != 0;
}

/*
 * What Citus table relid is, in *t: its kind (LG_CITUS_NONE if it is not a
 * Citus table), the kind's name ("distributed table", ...), its
 * co-location group and its distribution column (hash-distributed tables).
 * A shard (on any node: NAME_SHARDID, a shard of the Citus table NAME of
 * the same schema) is LG_CITUS_SHARD, NAME in t->shard_of.
 */
void
lg_citus_describe_table(Oid relid, LgCitusTable *t)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	char	   *relname = get_rel_name(relid);
	char	   *us;
	MemoryContext caller = CurrentMemoryContext;

	memset(t, 0, sizeof(LgCitusTable));
	t->kind = LG_CITUS_NONE;
	if (!OidIsValid(relid) || !lg_citus_installed())
		return;

	values[0] = ObjectIdGetDatum(relid);
	citus_spi_connect();
	citus_spi_exec("SELECT p.partmethod::pg_catalog.text, p.repmodel::pg_catalog.text,"
				   " p.colocationid,"
				   " CASE WHEN p.partmethod OPERATOR(pg_catalog.=) 'h'::pg_catalog.\"char\""
				   " THEN pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) END"
				   " FROM pg_catalog.pg_dist_partition p"
				   " WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
				   1, argtypes, values);
	if (SPI_processed > 0)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *method = SPI_getvalue(tup, desc, 1);
		char	   *repmodel = SPI_getvalue(tup, desc, 2);
		bool		isnull;
		Datum		coloc = SPI_getbinval(tup, desc, 3, &isnull);
		char	   *distcol = SPI_getvalue(tup, desc, 4);

		t->colocationid = isnull ? 0 : DatumGetInt32(coloc);
		if (method != NULL && method[0] != 'n')
		{
			t->kind = LG_CITUS_DISTRIBUTED;
			t->kindname = "distributed table";
			if (distcol != NULL)
				t->distcol = get_attnum(relid, distcol);
		}
		else if (repmodel != NULL && repmodel[0] == 't')
		{
			t->kind = LG_CITUS_REFERENCE;
			t->kindname = "reference table";
		}
		else if (t->colocationid != 0)
		{
			t->kind = LG_CITUS_SINGLE_SHARD;
			t->kindname = "single-shard distributed table";
		}
		else
		{
			t->kind = LG_CITUS_LOCAL;
			t->kindname = "Citus local table";
		}
		SPI_finish();
		return;
	}

	/* a shard: NAME_SHARDID, whose logical table is NAME in the same schema */
	us = relname ? strrchr(relname, '_') : NULL;
	if (us != NULL && us[1] != '\0' && strspn(us + 1, "0123456789") == strlen(us + 1) &&
		strlen(us + 1) < 19)
	{
		Oid			sargtypes[2] = {INT8OID, OIDOID};
		Datum		svalues[2];

		svalues[0] = Int64GetDatum((int64) strtoll(us + 1, NULL, 10));
		svalues[1] = ObjectIdGetDatum(get_rel_namespace(relid));
		citus_spi_exec("SELECT c.relname::pg_catalog.text FROM pg_catalog.pg_dist_shard s"
					   " JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) s.logicalrelid"
					   " WHERE s.shardid OPERATOR(pg_catalog.=) $1"
					   " AND c.relnamespace OPERATOR(pg_catalog.=) $2",
					   2, sargtypes, svalues);
		if (SPI_processed > 0)
		{
			char	   *logical = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

			if (logical != NULL && strlen(logical) == (size_t) (us - relname) &&
				strncmp(logical, relname, us - relname) == 0)
			{
				t->shard_of = MemoryContextStrdup(caller, logical);
				t->kind = LG_CITUS_SHARD;
				t->kindname = "shard";
			}
		}
	}
	SPI_finish();
}

/*
 * Refuse relid if it is a Citus table or a shard of one: function (as
 * "convert_legacy()") reads or writes tables below the executor, where
 * Citus does not see it.
 */
void
lg_citus_refuse_table(Oid relid, const char *function)
{
	LgCitusTable t;
	char	   *name;

	lg_citus_describe_table(relid, &t);
	if (t.kind == LG_CITUS_NONE)
		return;

	name = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
	if (t.kind == LG_CITUS_SHARD)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s cannot read table %s: it is a shard of Citus table %s",
						function, name,
						quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
												   t.shard_of)),
				 errdetail("A shard holds only a part of its table's rows."),
				 errhint("Run %s on the coordinator over tables that are not Citus tables (undistribute_table() makes one a plain table again).",
						 function)));
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s does not support Citus tables: %s is a %s",
					function, name, t.kindname),
			 errdetail("%s reads and writes table storage directly; the rows of a Citus table live in its shards, and this node's storage of %s holds none of them (or only rows left from before it was distributed).",
					   function, name),
			 errhint("Run it over tables that are not Citus tables: undistribute_table('%s') makes this one a plain table again.",
					 name)));
}

/* Refuse if any of the 11 tables named in schema is a Citus table */
void
lg_citus_refuse_tables(Oid schema, const char *function)
{
	int			i;

	if (!lg_citus_installed())
		return;
	for (i = 0; i < LG_NTABLES; i++)
		lg_citus_refuse_table(get_relname_relid(lg_tables[i].name, schema), function);
}

/*
 * Run command on the nodes the query nodes_sql lists (node name, port),
 * through Citus's master_run_on_worker(), and fail naming the first node
 * where it failed.  Returns the result of the first node (NULL if none),
 * in the caller's memory context.
 */
static char *
citus_run_on_nodes(const char *nodes_sql, const char *command, const char *what,
				   int *nnodes)
{
	StringInfoData sql;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	char	   *first = NULL;
	MemoryContext caller = CurrentMemoryContext;
	uint64		i;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "WITH n AS (%s)"
					 " SELECT r.node_name, r.node_port, r.success, r.result"
					 " FROM pg_catalog.master_run_on_worker("
					 "(SELECT pg_catalog.array_agg(n.nodename::pg_catalog.text ORDER BY n.nodename, n.nodeport) FROM n),"
					 " (SELECT pg_catalog.array_agg(n.nodeport::pg_catalog.int4 ORDER BY n.nodename, n.nodeport) FROM n),"
					 " (SELECT pg_catalog.array_agg($1 ORDER BY n.nodename, n.nodeport) FROM n),"
					 " true) r"
					 " WHERE EXISTS (SELECT FROM n)",
					 nodes_sql);
	values[0] = CStringGetTextDatum(command);

	citus_spi_connect();
	citus_spi_exec(sql.data, 1, argtypes, values);
	*nnodes = (int) SPI_processed;
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *success = SPI_getvalue(tup, desc, 3);
		char	   *result = SPI_getvalue(tup, desc, 4);

		if (success == NULL || success[0] != 't')
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("could not %s on node %s:%s",
							what, SPI_getvalue(tup, desc, 1), SPI_getvalue(tup, desc, 2)),
					 errdetail("%s", result ? result : "no result"),
					 errhint("The node runs it in a session of its own, which sees nothing this transaction has not committed yet (an extension created or updated in it included).")));
		if (i == 0 && result != NULL)
			first = MemoryContextStrdup(caller, result);
	}
	SPI_finish();
	return first;
}

/*
 * On a Citus worker: refuse unless root, the worker's namespace, is the
 * coordinator's.  Checked once per transaction (and again if the worker's
 * namespace changed within it).
 */
void
lg_citus_check_namespace(const pg_uuid_t *root, LgLegacyUuidText legacy_uuid_text)
{
	static LocalTransactionId checked_lxid = InvalidLocalTransactionId;
	static pg_uuid_t checked_root;
	StringInfoData command;
	char	   *mine;
	char	   *theirs;
	int			nnodes;

	if (checked_lxid == LG_LXID && checked_lxid != InvalidLocalTransactionId &&
		memcmp(checked_root.data, root->data, UUID_LEN) == 0)
		return;
	if (!lg_citus_is_worker())
	{
		checked_lxid = LG_LXID;
		memcpy(checked_root.data, root->data, UUID_LEN);
		return;
	}

	mine = legacy_uuid_text(root, LG_FINGERPRINT_TABLE, LG_FINGERPRINT_ID);
	initStringInfo(&command);
	appendStringInfo(&command,
					 "SELECT %s.legacy_uuid('%s'::pg_catalog.text, %d::pg_catalog.int8)",
					 quote_identifier(get_namespace_name(lg_extension_schema())),
					 LG_FINGERPRINT_TABLE, LG_FINGERPRINT_ID);
	theirs = citus_run_on_nodes("SELECT d.nodename, d.nodeport FROM pg_catalog.pg_dist_node d"
								" WHERE d.groupid OPERATOR(pg_catalog.=) 0"
								" AND d.noderole OPERATOR(pg_catalog.=) 'primary'",
								command.data,
								"compare the legacy namespace with the coordinator's",
								&nnodes);
	if (nnodes == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot check this Citus worker's legacy namespace against the coordinator's"),
				 errdetail("The coordinator is not in this node's Citus metadata (pg_dist_node), and ids derived on a worker must be the coordinator's."),
				 errhint("Register the coordinator: SELECT citus_set_coordinator_host(...) on the coordinator.")));
	if (theirs == NULL || strcmp(mine, theirs) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the legacy namespace of this Citus worker is not the coordinator's"),
				 errdetail("legacy_uuid() here would give other ids than on the coordinator: every node drew its own namespace when the extension was created on it."),
				 errhint("On the coordinator, run SELECT %s.set_legacy_namespace(%s.legacy_namespace()); it sets the namespace of every worker.",
						 quote_identifier(get_namespace_name(lg_extension_schema())),
						 quote_identifier(get_namespace_name(lg_extension_schema())))));
	checked_lxid = LG_LXID;
	memcpy(checked_root.data, root->data, UUID_LEN);
}

/*
 * set_legacy_namespace() on a Citus coordinator: the same namespace on
 * every active worker.  A worker that cannot be set fails the call (the
 * coordinator's change rolls back; workers set already differ from the
 * coordinator then, and refuse until the call succeeds).
 */
void
lg_citus_propagate_namespace(const pg_uuid_t *ns)
{
	StringInfoData command;
	const char *qschema;
	int			nnodes;

	if (!lg_citus_installed() || citus_local_group() != 0)
		return;
	qschema = quote_identifier(get_namespace_name(lg_extension_schema()));
	initStringInfo(&command);
	appendStringInfo(&command, "SELECT %s.set_legacy_namespace('%s'::pg_catalog.uuid)",
					 qschema,
					 DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(ns))));
	(void) citus_run_on_nodes("SELECT d.nodename, d.nodeport FROM pg_catalog.pg_dist_node d"
							  " WHERE d.groupid OPERATOR(pg_catalog.<>) 0 AND d.isactive"
							  " AND d.noderole OPERATOR(pg_catalog.=) 'primary'",
							  command.data, "set the legacy namespace", &nnodes);
}
