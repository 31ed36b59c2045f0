# test/t/090_citus.pl: lane_google on a Citus cluster (a coordinator and two
# workers, then a third worker added later), all on Unix sockets.
#
# Skipped when Citus is not installed for the server under test (Citus 13
# supports PostgreSQL 15 to 17; run_tests.sh builds it from ../shared/vendor
# for a PostgreSQL 15 run).  What is checked (nothing silently wrong):
# - one legacy namespace per cluster: every node drew its own at CREATE
#   EXTENSION; legacy_uuid() on a worker refuses while its namespace is not
#   the coordinator's (asked directly, or pushed down by Citus);
#   set_legacy_namespace(legacy_namespace()) on the coordinator sets every
#   worker's, after which ids agree on every node, in pushed-down queries
#   too; a worker set to another namespace, and a node added later, refuse
#   until the coordinator sets them;
# - convert_legacy() from a schema with a distributed and a reference table
#   reads them through Citus: the rows of the plain tables; conversion_plan()
#   of it refuses, naming a table, with SQLSTATE 0A000;
#   validate_fk_integrity() over co-located distributed tables checks them on
#   the shards from the coordinator (test/t/091_citus_validate.pl: every
#   case), and refuses on a worker, whose shards hold only some rows.
# - distribute() (3.0) on the path of doc/citus.md "From 1.x on one node to
#   Citus, step by step": 1.0 with rows converted to 3.0 on the coordinator
#   alone, the workers added, the namespace set; each refusal with its
#   SQLSTATE (no Citus, no worker, a worker's namespace, on a worker, a worker
#   at another version, a worker down, a worker's own rows, another table's
#   foreign key, twice); kill -9 on a worker while distribute() waits there
#   for a lock another session holds (pg_locks): nothing left half done, then
#   it runs; rows, relationships, catalog, pg_dist_partition, empty shells,
#   single-shard EXPLAINs, uuid_generate_v7() keys, Citus refusing a row
#   without account_id; 3.0 -> 2.2 refused while distributed; undistribute()
#   and the catalogs (coordinator and worker1) as before.
use strict;
use warnings FATAL => 'all';

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;


use lib $FindBin::RealBin;
use LgCitus;
use LgPaths;
use LgReliab qw(lg_seed lg_make_legacy_source);

my @nodes = lg_citus_cluster();
my ($coord, $w1, $w2) = @nodes;

# --- one legacy namespace per cluster ----------------------------------------
$coord->safe_psql('postgres', "CREATE EXTENSION lane_google VERSION '1.0'");
is( $w1->safe_psql('postgres',
		"SELECT extversion FROM pg_extension WHERE extname = 'lane_google'"),
	'1.0',
	'CREATE EXTENSION on the coordinator created it on the workers');

my $legacy_uuid = "SELECT lane_google.legacy_uuid('campaigns', 42)";
my $want = $coord->safe_psql('postgres', $legacy_uuid);
like($want, qr/^[0-9a-f-]{36}$/, 'legacy_uuid() on the coordinator');
for my $w ($w1, $w2)
{
	like(
		error_of($w, $legacy_uuid),
		qr/ERROR:  55000: the legacy namespace of this Citus worker is not the coordinator's.*HINT:  On the coordinator, run SELECT lane_google\.set_legacy_namespace\(lane_google\.legacy_namespace\(\)\)/s,
		$w->name . ": legacy_uuid() refuses while the worker's namespace is its own");
}
like(
	error_of($w1, 'SELECT lane_google.legacy_namespace()'),
	qr/not the coordinator's/,
	'legacy_namespace() on a worker refuses too');

# A distributed table whose ids legacy_uuid() maps: Citus pushes the call
# down to the workers' shards
$coord->safe_psql(
	'postgres', q{
CREATE TABLE ids (id bigint PRIMARY KEY);
SELECT create_distributed_table('ids', 'id', shard_count => 8);
INSERT INTO ids SELECT g FROM generate_series(1, 200) AS g;
});
my $pushed =
  "SELECT md5(string_agg(u::text, ',' ORDER BY id)) FROM (SELECT id, lane_google.legacy_uuid('campaigns', id) AS u FROM ids) s";
like(
	$coord->safe_psql('postgres', "EXPLAIN (VERBOSE, COSTS OFF) $pushed"),
	qr/Query: SELECT .*legacy_uuid\('campaigns'::text, id\).* FROM public\.ids_\d+/,
	'EXPLAIN: legacy_uuid() runs on the workers');
like(error_of($coord, $pushed), qr/not the coordinator's/,
	'a pushed-down legacy_uuid() refuses rather than give the workers\' ids');

$coord->safe_psql('postgres',
	'SELECT lane_google.set_legacy_namespace(lane_google.legacy_namespace())');
my $ns = $coord->safe_psql('postgres', 'SELECT lane_google.legacy_namespace()');
for my $w ($w1, $w2)
{
	is($w->safe_psql('postgres', $legacy_uuid),
		$want, $w->name . ': set_legacy_namespace() on the coordinator set the worker\'s');
}
is( $coord->safe_psql(
		'postgres',
		"SELECT string_agg(DISTINCT result, ',') FROM run_command_on_workers(\$\$$legacy_uuid\$\$)"),
	$want,
	'run_command_on_workers: every worker gives the coordinator\'s id');
is( $coord->safe_psql('postgres', $pushed),
	$coord->safe_psql(
		'postgres',
		"SELECT md5(string_agg(lane_google.legacy_uuid('campaigns', g)::text, ',' ORDER BY g)) FROM generate_series(1, 200) AS g"
	),
	'pushed down to the shards, legacy_uuid() gives the coordinator\'s ids');

# A worker given another namespace refuses until the coordinator sets it
$w1->safe_psql('postgres',
	'SELECT lane_google.set_legacy_namespace(gen_random_uuid())');
like(error_of($w1, $legacy_uuid), qr/not the coordinator's/,
	'a worker set to another namespace refuses');
like(error_of($coord, $pushed), qr/not the coordinator's/,
	'and so do queries pushed down to it');
$coord->safe_psql('postgres',
	'SELECT lane_google.set_legacy_namespace(lane_google.legacy_namespace())');
is($w1->safe_psql('postgres', $legacy_uuid), $want, 'set again from the coordinator');

# A node added later: Citus creates the extension there, with a namespace
# of its own
my $w3 = PostgreSQL::Test::Cluster->new('worker3');
lg_citus_start_node($w3);
$coord->safe_psql('postgres',
	"SELECT citus_add_node('" . $w3->host . "', " . $w3->port . ')');
is( $w3->safe_psql('postgres',
		"SELECT extversion FROM pg_extension WHERE extname = 'lane_google'"),
	'1.0',
	'a node added later has the extension');
isnt($w3->safe_psql('postgres', 'SELECT root_namespace FROM lane_google.legacy_config'),
	$ns, 'with a namespace of its own');
like(error_of($w3, $legacy_uuid), qr/not the coordinator's/,
	'the node added later refuses');
$coord->safe_psql('postgres',
	'SELECT lane_google.set_legacy_namespace(lane_google.legacy_namespace())');
is($w3->safe_psql('postgres', $legacy_uuid), $want,
	'set from the coordinator, it agrees');
$coord->safe_psql('postgres',
	"SELECT citus_remove_node('" . $w3->host . "', " . $w3->port . ')');
$w3->stop;

# --- functions below the executor refuse Citus tables -----------------------
$coord->safe_psql('postgres',
	'DROP TABLE ids; DROP EXTENSION lane_google');
lg_seed($coord, 'postgres', 0.05);
# Citus runs ALTER EXTENSION UPDATE on the workers too, where the update's
# conversion reads the namespace: refused until the coordinator set theirs
like(
	error_of($coord, "ALTER EXTENSION lane_google UPDATE TO '2.0'"),
	qr/not the coordinator's/,
	'ALTER EXTENSION UPDATE refuses while the workers\' namespaces are their own');
$coord->safe_psql('postgres',
	'SELECT lane_google.set_legacy_namespace(lane_google.legacy_namespace())');
lg_make_legacy_source($coord, 'postgres');
$coord->safe_psql('postgres', "ALTER EXTENSION lane_google UPDATE TO '2.1'");

# legacy.TABLE replaced by a Citus table holding its rows (HOW is
# create_distributed_table or create_reference_table), and back
sub citus_copy
{
	my ($t, $how) = @_;
	my $args = $how eq 'create_distributed_table' ? ", 'id', shard_count => 8" : '';
	$coord->safe_psql(
		'postgres', qq{
ALTER TABLE legacy.$t RENAME TO ${t}_plain;
CREATE TABLE legacy.$t AS SELECT * FROM legacy.${t}_plain;
ALTER TABLE legacy.$t ADD PRIMARY KEY (id);
SELECT $how('legacy.$t'$args);
});
	return;
}

sub plain_again
{
	my ($t) = @_;
	$coord->safe_psql('postgres',
		"DROP TABLE legacy.$t; ALTER TABLE legacy.${t}_plain RENAME TO $t");
	return;
}

# convert_legacy() reads Citus sources through Citus (092_citus_convert.pl
# converts into distributed tables): the same rows as from the plain tables
lg_paths_init($coord, PostgreSQL::Test::Utils::tempdir());
citus_copy('campaigns', 'create_distributed_table');
citus_copy('users', 'create_reference_table');
like(
	error_of($coord, "SELECT * FROM lane_google.conversion_plan('legacy')"),
	qr/ERROR:  0A000: conversion_plan\(\) does not support Citus tables: legacy\.(campaigns is a distributed|users is a reference) table/,
	'conversion_plan() of a schema with Citus tables refuses, naming one');
is( $coord->safe_psql(
		'postgres',
		"SELECT sum(rows_converted) > 0 FROM lane_google.convert_legacy('legacy')"),
	't',
	'convert_legacy() from a schema with a distributed and a reference table converts');
my $from_citus = rows_text('postgres');
$coord->safe_psql('postgres', 'TRUNCATE ' . join(', ', map { "lane_google.$_" } @tables));
plain_again('campaigns');
plain_again('users');
is( $coord->safe_psql(
		'postgres',
		"SELECT sum(rows_converted) > 0 FROM lane_google.convert_legacy('legacy')"),
	't',
	'plain tables again: convert_legacy() converts');
same_text(rows_text('postgres'), $from_citus, 'the same rows as from the Citus tables');
# after a conversion the coordinator can still bring its workers in line
# (setting the namespace in force changes no key), but not change it
is( $coord->safe_psql(
		'postgres',
		'SELECT lane_google.set_legacy_namespace(lane_google.legacy_namespace())'),
	'',
	'after the conversion, set_legacy_namespace(legacy_namespace()) is allowed');
like(
	error_of($coord, 'SELECT lane_google.set_legacy_namespace(gen_random_uuid())'),
	qr/cannot change the legacy namespace after rows were converted/,
	'another namespace is not');
is($w2->safe_psql('postgres', $legacy_uuid),
	$coord->safe_psql('postgres', $legacy_uuid),
	'worker2 agrees with the coordinator');

# validate_fk_integrity() over distributed tables, co-located by key
$coord->safe_psql(
	'postgres', q{
CREATE SCHEMA vt;
CREATE TABLE vt.parent (id bigint PRIMARY KEY);
CREATE TABLE vt.child (id bigint, parent_id bigint REFERENCES vt.parent (id), PRIMARY KEY (parent_id, id));
SELECT create_distributed_table('vt.parent', 'id', shard_count => 8);
SELECT create_distributed_table('vt.child', 'parent_id', colocate_with => 'vt.parent');
INSERT INTO vt.parent SELECT g FROM generate_series(1, 50) g;
INSERT INTO vt.child SELECT g, g FROM generate_series(1, 50) g;
});
is($coord->safe_psql('postgres', "SELECT count(*) FROM lane_google.validate_fk_integrity('vt')"),
	'0', 'validate_fk_integrity() over co-located distributed tables on the coordinator: checked on the shards');
like(
	error_of($w1, "SELECT * FROM lane_google.validate_fk_integrity('vt')"),
	qr/ERROR:  0A000: validate_fk_integrity\(\) (does not support Citus tables: vt\.child is a distributed table|cannot read table vt\.child_\d+: it is a shard of Citus table vt\.child)/,
	'and on a worker, whose shards hold only some of the rows');

# --- distribute() and undistribute() (3.0) ------------------------------------
# The path of doc/citus.md, "From 1.x on one node to Citus, step by step":
# 1.0 with rows on a node of its own (the workers removed), UPDATE TO '2.2'
# and '3.0' there; the workers added (Citus creates lane_google 3.0 on
# them), the namespace set, then distribute().
$coord->safe_psql('postgres',
	'DROP SCHEMA vt CASCADE; DROP SCHEMA legacy CASCADE; DROP EXTENSION lane_google');
$coord->safe_psql('postgres',
	"SELECT citus_remove_node('" . $_->host . "', " . $_->port . ')')
  for ($w1, $w2);
lg_seed($coord, 'postgres', 0.05);
$coord->safe_psql('postgres', "ALTER EXTENSION lane_google UPDATE TO '2.2'");
$coord->safe_psql('postgres', "ALTER EXTENSION lane_google UPDATE TO '3.0'");
lg_paths_init($coord, PostgreSQL::Test::Utils::tempdir());
my $rows_before = rows_text('postgres');
my $relations_before = relations_text('postgres');
my $catalog_before = catalog('postgres');
like($rows_before, qr/^ads 5000 [0-9a-f]{32}$/m, 'the 3.0 tables hold the converted rows');

# distribute() without Citus in the database
$coord->safe_psql('postgres', 'CREATE DATABASE nocitus');
$coord->safe_psql('nocitus', "CREATE EXTENSION lane_google VERSION '3.0'");
like(
	error_of_db($coord, 'nocitus', 'SELECT lane_google.distribute()'),
	qr/ERROR:  55000: lane_google\.distribute\(\) needs Citus, which is not installed in this database.*HINT:  Install Citus on every node/s,
	'distribute() without Citus refuses (55000)');
like(
	error_of($coord, 'SELECT lane_google.distribute()'),
	qr/ERROR:  55000: lane_google\.distribute\(\) needs a Citus worker, and none is registered.*HINT:  .*citus_add_node/s,
	'distribute() without a worker refuses (55000)');

# the workers again: Citus creates lane_google at the coordinator's version
$coord->safe_psql('postgres',
	"SELECT citus_add_node('" . $_->host . "', " . $_->port . ')')
  for ($w1, $w2);
is($w1->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'lane_google'"),
	'3.0', 'a worker added to the 3.0 coordinator has lane_google 3.0');
like(
	error_of($coord, 'SELECT lane_google.distribute()'),
	qr/ERROR:  55000: cannot distribute the tables of lane_google: a worker's legacy namespace is not the coordinator's.*DETAIL:  The coordinator has [0-9a-f-]{36}\.\n\S+:\d+ has [0-9a-f-]{36}\n\S+:\d+ has [0-9a-f-]{36}\n.*HINT:  .*set_legacy_namespace\(lane_google\.legacy_namespace\(\)\)/s,
	'distribute() refuses while the workers have their own namespaces, naming each (55000)');
$coord->safe_psql('postgres',
	'SELECT lane_google.set_legacy_namespace(lane_google.legacy_namespace())');

like(
	error_of($w1, 'SELECT lane_google.distribute()'),
	qr/ERROR:  55000: lane_google\.distribute\(\) runs on the Citus coordinator, and this node is a worker/,
	'distribute() on a worker refuses (55000)');

# a worker left at another version (the update run with propagation off)
$w2->safe_psql('postgres',
	"SET citus.enable_ddl_propagation = off; ALTER EXTENSION lane_google UPDATE TO '2.2'");
my $w2_name = $w2->host . ':' . $w2->port;
like(
	error_of($coord, 'SELECT lane_google.distribute()'),
	qr/ERROR:  55000: cannot distribute the tables of lane_google: a worker has another version of the extension.*DETAIL:  The coordinator has lane_google 3\.0\.\n\Q$w2_name\E has lane_google 2\.2\n.*HINT:  Nothing was changed\.  Bring every worker to 3\.0: on that worker, SET citus\.enable_ddl_propagation = off; ALTER EXTENSION lane_google UPDATE TO '3\.0'/s,
	'distribute() refuses a worker at another version, by node (55000)');
$w2->safe_psql('postgres',
	"SET citus.enable_ddl_propagation = off; ALTER EXTENSION lane_google UPDATE TO '3.0'");

# a worker that is down
$w2->stop;
like(
	error_of($coord, 'SELECT lane_google.distribute()'),
	qr/ERROR:  08006: cannot distribute the tables of lane_google: a worker cannot be reached.*DETAIL:  \Q$w2_name\E: .*HINT:  Nothing was changed\.  Start the worker/s,
	'distribute() refuses while a worker is down, naming it (08006)');
$w2->start;

# a worker's own copy of a table holding a row
$w1->safe_psql('postgres',
	"INSERT INTO lane_google.accounts (name, google_customer_id) VALUES ('stray', 'stray-1')");
my $w1_name = $w1->host . ':' . $w1->port;
like(
	error_of($coord, 'SELECT lane_google.distribute()'),
	qr/ERROR:  55000: cannot distribute the tables of lane_google: a worker's own copies of the tables hold rows.*DETAIL:  \Q$w1_name\E: lane_google\.accounts holds 1 rows\n/s,
	'distribute() refuses a worker whose tables hold rows, by node and table (55000)');
$w1->safe_psql('postgres', 'TRUNCATE lane_google.accounts CASCADE');

# another table's foreign key into the 11
$coord->safe_psql('postgres',
	'CREATE TABLE public.notes (user_id uuid REFERENCES lane_google.users (id))');
like(
	error_of($coord, 'SELECT lane_google.distribute()'),
	qr/ERROR:  2BP01: lane_google\.distribute\(\) cannot move the 11 tables: other tables have foreign keys with them.*DETAIL:  Foreign keys: notes_user_id_fkey on public\.notes\./s,
	'distribute() refuses while another table has a foreign key into the 11 (2BP01)');
$coord->safe_psql('postgres', 'DROP TABLE public.notes');
like(
	error_of($coord, 'SELECT lane_google.undistribute()'),
	qr/ERROR:  55000: the tables of lane_google are not distributed.*HINT:  Nothing to undo/s,
	'undistribute() before distribute() refuses (55000)');
is($coord->safe_psql('postgres', 'SELECT count(*) FROM pg_dist_partition'), '0',
	'every refusal left the tables as they were');
same_text(catalog('postgres'), $catalog_before, 'and the catalog');

# kill -9 on a worker while distribute() waits for it: a session on
# worker1 holds a lock that distribute() needs there (ACCESS SHARE on its
# conversation_messages: distribute()'s reads pass, its ALTER TABLE waits)
my $w1_catalog_before;
{
	lg_paths_init($w1, PostgreSQL::Test::Utils::tempdir());
	$w1_catalog_before = catalog('postgres');
	lg_paths_init($coord, PostgreSQL::Test::Utils::tempdir());
}
kill_while_waiting(
	coord => $coord,
	worker => $w1,
	lock_sql => 'BEGIN; LOCK TABLE lane_google.conversation_messages IN ACCESS SHARE MODE',
	sql => 'SELECT lane_google.distribute(4)',
	waiting => q{SELECT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
	 WHERE c.relname = 'conversation_messages' AND c.relnamespace = 'lane_google'::regnamespace
	   AND l.mode = 'AccessExclusiveLock' AND NOT l.granted},
	what => 'distribute() (for ACCESS EXCLUSIVE on conversation_messages)',
	checks => sub {
		like($coord->safe_psql('postgres',
				"SELECT state FROM pg_stat_activity WHERE query LIKE 'SELECT lane_google.distribute(4)%'"),
			qr/^active$/, 'the coordinator\'s distribute() is still running');
		is($coord->safe_psql('postgres', 'SELECT count(*) FROM pg_dist_partition'), '0',
			'no other session sees its work');
	});
is($coord->safe_psql('postgres', 'SELECT count(*) FROM pg_dist_partition'), '0',
	'after the kill: no table distributed');
same_text(rows_text('postgres'), $rows_before, 'after the kill: every row on the coordinator as it was');
same_text(catalog('postgres'), $catalog_before, 'after the kill: the catalog as it was');
for my $w ($w1, $w2)
{
	is( $w->safe_psql('postgres',
			q{SET citus.override_table_visibility = off; SELECT count(*) FROM pg_class WHERE relnamespace = 'lane_google'::regnamespace AND relname ~ '_[0-9]+$'}),
		'0', $w->name . ': after the kill, no shard left');
}

# distribute(), the second time
is($coord->safe_psql('postgres', 'SELECT lane_google.distribute(4)'), '', 'distribute() after the worker restarted');
# (Citus hides shards from pg_class but for its own sessions: the checks of
# shards left look past that, and see them while they exist)
ok( $w1->safe_psql('postgres',
		q{SET citus.override_table_visibility = off; SELECT count(*) FROM pg_class WHERE relnamespace = 'lane_google'::regnamespace AND relname ~ '_[0-9]+$'}) > 0,
	'worker1 holds shards, seen past Citus\'s hiding of them');
is( $coord->safe_psql(
		'postgres', q{
SELECT string_agg(line, E'\n' ORDER BY line) FROM (
SELECT format('%s %s %s %s %s', c.relname, p.partmethod, p.repmodel,
              coalesce(column_to_column_name(p.logicalrelid, p.partkey), '-'),
              dense_rank() OVER (ORDER BY p.colocationid)) AS line
  FROM pg_dist_partition p JOIN pg_class c ON c.oid = p.logicalrelid
 WHERE c.relnamespace = 'lane_google'::regnamespace) s}),
	join("\n",
		'account_users h s account_id 2',
		'accounts n t - 1',
		'ad_groups h s account_id 2',
		'ads h s account_id 2',
		'analytics_snapshots h s account_id 2',
		'approval_requests h s account_id 2',
		'budget_alerts h s account_id 2',
		'campaigns h s account_id 2',
		'conversation_messages h s user_id 3',
		'conversations h s user_id 3',
		'users n t - 1'),
	'pg_dist_partition: users and accounts reference tables, the tenant tables by account_id co-located with campaigns, the conversations by user_id');
is($coord->safe_psql('postgres', q{SELECT count(DISTINCT shardid) FROM pg_dist_shard WHERE logicalrelid = 'lane_google.campaigns'::regclass}),
	'4', 'campaigns has the shard_count given');
same_text(rows_text('postgres'), $rows_before, 'distributed: every row and value as before (per-table checksums)');
# the relationships, joined by id alone (across shards: Citus runs no
# such outer join), on a local copy of the distributed tables
$coord->safe_psql('postgres',
	"CREATE SCHEMA snap;\n"
	  . join('', map { "CREATE TABLE snap.$_ AS SELECT * FROM lane_google.$_;\n" } @LgPaths::tables));
same_text(relations_text('postgres', 'snap'), $relations_before, 'distributed: every relationship as before');
$coord->safe_psql('postgres', 'DROP SCHEMA snap CASCADE');
my $local_size = q{SELECT sum(pg_relation_size(c.oid)) FROM pg_class c
	 WHERE c.relnamespace = 'lane_google'::regnamespace AND c.relkind = 'r'
	   AND c.relname IN ('users', 'accounts', 'account_users', 'campaigns', 'ad_groups', 'ads', 'analytics_snapshots',
	                     'approval_requests', 'budget_alerts', 'conversations', 'conversation_messages')};
for my $n ($coord, $w1, $w2)
{
	is($n->safe_psql('postgres', $local_size), '0',
		$n->name . ': the shells of the 11 tables keep no rows in their own storage');
}
is( $coord->safe_psql('postgres',
		q{SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'lane_google'::regnamespace AND conrelid::regclass::text !~ '_[0-9]+$'}),
	'14', 'the 14 foreign keys again');
# (the coordinator holds a placement of each reference table: users_NNN)
same_text(join("\n", grep { !/_\d{6,}\b/ } split /\n/, catalog('postgres')),
	$catalog_before, 'distributed: the extension\'s catalog as before (keys, comments, triggers), the placements aside');

# the application, by account
my ($acct, $camp) = split /\|/,
  $coord->safe_psql('postgres', 'SELECT account_id, id FROM lane_google.campaigns ORDER BY id LIMIT 1');
like(
	$coord->safe_psql('postgres',
		"EXPLAIN (COSTS OFF) INSERT INTO lane_google.ad_groups (account_id, campaign_id, name) VALUES ('$acct', '$camp', 'new group')"),
	qr/Task Count: 1\n/, 'EXPLAIN: an INSERT into ad_groups with account_id is single-shard');
my $by_account = "SELECT c.name, g.name FROM lane_google.campaigns c"
  . " JOIN lane_google.ad_groups g ON g.account_id = c.account_id AND g.campaign_id = c.id"
  . " WHERE c.account_id = '$acct'";
like($coord->safe_psql('postgres', "EXPLAIN (COSTS OFF) $by_account"),
	qr/Task Count: 1\n/, 'EXPLAIN: an account\'s campaigns with their ad groups, single-shard');
my $n_groups = $coord->safe_psql('postgres', "SELECT count(*) FROM ($by_account) s");
$coord->safe_psql('postgres',
	"INSERT INTO lane_google.ad_groups (account_id, campaign_id, name) VALUES ('$acct', '$camp', 'new group')");
is($coord->safe_psql('postgres', "SELECT count(*) FROM ($by_account) s"), $n_groups + 1,
	'the new ad group is read back with its campaign');
is( $coord->safe_psql('postgres',
		"SELECT lane_google.uuid_extract_version(id) FROM lane_google.ad_groups WHERE account_id = '$acct' AND name = 'new group'"),
	'7', 'its key is a uuid_generate_v7() default');
like(
	error_of($coord, "INSERT INTO lane_google.ad_groups (campaign_id, name) VALUES ('$camp', 'no tenant')"),
	qr/ERROR:  \w+: cannot perform an INSERT without a partition column value/,
	'an INSERT into a child without account_id is refused by Citus');
like(
	error_of($coord, "INSERT INTO lane_google.ads (ad_group_id) SELECT id FROM lane_google.ad_groups WHERE account_id = '$acct' LIMIT 1"),
	qr/ERROR:  \w+: the partition column of table lane_google\.ads should have a value/,
	'an INSERT ... SELECT without account_id too');
$coord->safe_psql('postgres', "DELETE FROM lane_google.ad_groups WHERE account_id = '$acct' AND name = 'new group'");
same_text(rows_text('postgres'), $rows_before, 'the rows as before once the new one is deleted');

# validate_fk_integrity() over the distributed tables, from the coordinator:
# sound, then an ad planted on a worker's shard without its ad group (the
# triggers off there, as a bulk load with them off would leave it) is found,
# with its key, where the coordinator's own storage of ads holds no row
is($coord->safe_psql('postgres', 'SELECT count(*) FROM lane_google.validate_fk_integrity()'),
	'0', 'validate_fk_integrity() over the distributed tables: sound');
# (the shard of ads with the most rows: 5 accounts at this scale, hashed by
# their uuids under a namespace drawn anew each run, may leave a shard empty,
# and a row is planted by copying one of the shard's)
my ($ads_shard, $ads_port) = split /\|/, $coord->safe_psql('postgres', q{
SELECT r.shardid, n.nodeport
  FROM run_command_on_shards('lane_google.ads', 'SELECT count(*) FROM %s') r
  JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)
 ORDER BY r.result::bigint DESC, r.shardid LIMIT 1});
my ($holder) = grep { $_->port == $ads_port } ($w1, $w2);
my $orphan_key = $holder->safe_psql('postgres', qq{
SET session_replication_role = replica;
INSERT INTO lane_google.ads_$ads_shard
SELECT (jsonb_populate_record(NULL::lane_google.ads_$ads_shard,
        to_jsonb(a) || jsonb_build_object('id', gen_random_uuid(),
                                          'ad_group_id', '00000000-0000-4000-8000-0000000000ad'))).*
  FROM lane_google.ads_$ads_shard a LIMIT 1
RETURNING '(' || account_id || ',' || ad_group_id || ')'});
is($coord->safe_psql('postgres',
		q{SELECT constraint_name || ' ' || problem || ' ' || rows || ' ' || sample::text FROM lane_google.validate_fk_integrity()}),
	"ads_account_id_ad_group_id_fkey orphan_rows 1 {\"$orphan_key\"}",
	'validate_fk_integrity(): the ad planted on a shard of ' . $holder->name . ', counted with its key');
$holder->safe_psql('postgres', "DELETE FROM lane_google.ads_$ads_shard WHERE ad_group_id = '00000000-0000-4000-8000-0000000000ad'");
is($coord->safe_psql('postgres', 'SELECT count(*) FROM lane_google.validate_fk_integrity()'),
	'0', 'and sound again once it is deleted');

like(
	error_of($coord, 'SELECT lane_google.distribute()'),
	qr/ERROR:  55000: the tables of lane_google are already distributed.*HINT:  lane_google\.undistribute\(\)/s,
	'distribute() twice refuses (55000)');
like(
	error_of($coord, "ALTER EXTENSION lane_google UPDATE TO '2.2'"),
	qr/ERROR:  55000: cannot update extension lane_google to 2\.2 while its tables are distributed.*HINT:  Nothing was changed\.  Run SELECT lane_google\.undistribute\(\) on the coordinator first/s,
	'3.0 -> 2.2 refuses while distributed, naming undistribute()');
is($coord->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'lane_google'"),
	'3.0', '... and the extension stays at 3.0');
is($coord->safe_psql('postgres', 'SELECT count(*) FROM pg_dist_partition'), '11', '... distributed');
is( $coord->safe_psql('postgres',
		q{SELECT string_agg(DISTINCT p.proacl::text, ',') FROM pg_proc p WHERE p.proname IN ('distribute', 'undistribute') AND p.pronamespace = 'lane_google'::regnamespace}),
	'{postgres=X/postgres}', 'distribute() and undistribute(): EXECUTE for the owner alone');

# undistribute(): every row back on the coordinator, the catalog as before
is($coord->safe_psql('postgres', 'SELECT lane_google.undistribute()'), '', 'undistribute()');
is($coord->safe_psql('postgres', 'SELECT count(*) FROM pg_dist_partition'), '0', 'no Citus table left');
is($coord->safe_psql('postgres', q{SELECT count(*) FROM pg_trigger WHERE tgfoid = 'citus_truncate_trigger'::regproc}),
	'0', 'no Citus trigger left on the coordinator');
same_text(rows_text('postgres'), $rows_before, 'undistributed: every row and value as before');
same_text(relations_text('postgres'), $relations_before, 'undistributed: every relationship as before');
same_text(catalog('postgres'), $catalog_before, 'undistributed: the catalog as before distribute()');
for my $w ($w1, $w2)
{
	is( $w->safe_psql('postgres',
			q{SET citus.override_table_visibility = off; SELECT count(*) FROM pg_class WHERE relnamespace = 'lane_google'::regnamespace AND relname ~ '_[0-9]+$'}),
		'0', $w->name . ': no shard left');
	is($w->safe_psql('postgres', 'SELECT count(*) FROM pg_dist_partition'), '0',
		$w->name . ': no Citus metadata of the 11 tables left');
}
lg_paths_init($w1, PostgreSQL::Test::Utils::tempdir());
same_text(catalog('postgres'), $w1_catalog_before, 'worker1: the catalog of its own lane_google as before');
lg_paths_init($coord, PostgreSQL::Test::Utils::tempdir());
$coord->safe_psql('postgres', "ALTER EXTENSION lane_google UPDATE TO '2.2'");
is($coord->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'lane_google'"),
	'2.2', 'undistributed, 3.0 -> 2.2 runs');

$_->stop for @nodes;
done_testing();
