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
# - convert_legacy() from a schema with a distributed table and
#   conversion_plan() of it refuse, naming the table, with SQLSTATE 0A000;
#   validate_fk_integrity() over co-located distributed tables checks them on
#   the shards from the coordinator (test/t/091_citus_validate.pl: every
#   case), and refuses on a worker, whose shards hold only some rows.
use strict;
use warnings FATAL => 'all';

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use LgReliab qw(lg_seed lg_make_legacy_source);

my $coord = PostgreSQL::Test::Cluster->new('coordinator');
my ($major) = $coord->config_data('--version') =~ /PostgreSQL (\d+)/;
my $sharedir = $coord->config_data('--sharedir');
plan skip_all => "Citus 13 does not support PostgreSQL $major"
  if $major < 15 || $major > 17;
plan skip_all =>
  "Citus is not installed for this server ($sharedir/extension/citus.control missing; run_tests.sh builds it for PostgreSQL 15)"
  unless -f "$sharedir/extension/citus.control";

my @nodes = ($coord, map { PostgreSQL::Test::Cluster->new("worker$_") } 1 .. 2);

sub start_node
{
	my ($node) = @_;
	$node->init;
	$node->append_conf(
		'postgresql.conf', q{
fsync = off
shared_preload_libraries = 'citus'
wal_level = logical
max_worker_processes = 16
client_min_messages = warning
});
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION citus');
	return;
}

start_node($_) for @nodes;
my ($w1, $w2) = @nodes[ 1, 2 ];
$coord->safe_psql('postgres',
	    "SELECT citus_set_coordinator_host('"
	  . $coord->host . "', "
	  . $coord->port . ");\n"
	  . join('',
		map { "SELECT citus_add_node('" . $_->host . "', " . $_->port . ");\n" }
		  ($w1, $w2)));
is($coord->safe_psql('postgres', 'SELECT count(*) FROM pg_dist_node WHERE groupid <> 0'),
	'2', 'two workers registered by socket directory');

# An error of a statement: its SQLSTATE and message
sub error_of
{
	my ($node, $sql) = @_;
	my ($rc, $out, $err) =
	  $node->psql('postgres', $sql, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return $rc == 0 ? "no error: $out" : $err;
}

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
start_node($w3);
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

citus_copy('campaigns', 'create_distributed_table');
like(
	error_of($coord, "SELECT * FROM lane_google.convert_legacy('legacy')"),
	qr/ERROR:  0A000: convert_legacy\(\) does not support Citus tables: legacy\.campaigns is a distributed table.*HINT:  .*undistribute_table\('legacy\.campaigns'\)/s,
	'convert_legacy() from a schema with a distributed table refuses, naming it');
like(
	error_of($coord, "SELECT * FROM lane_google.conversion_plan('legacy')"),
	qr/ERROR:  0A000: conversion_plan\(\) does not support Citus tables: legacy\.campaigns is a distributed table/,
	'conversion_plan() of it refuses');
is($coord->safe_psql('postgres', 'SELECT count(*) FROM lane_google.campaigns'),
	'0', 'nothing converted');
plain_again('campaigns');
citus_copy('users', 'create_reference_table');
like(
	error_of($coord, "SELECT * FROM lane_google.convert_legacy('legacy')"),
	qr/ERROR:  0A000: convert_legacy\(\) does not support Citus tables: legacy\.users is a reference table/,
	'a reference table is refused too');
plain_again('users');
is( $coord->safe_psql(
		'postgres',
		"SELECT sum(rows_converted) > 0 FROM lane_google.convert_legacy('legacy')"),
	't',
	'plain tables again: convert_legacy() converts');
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

$_->stop for @nodes;
done_testing();
