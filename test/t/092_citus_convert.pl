# test/t/092_citus_convert.pl: convert_legacy() into the distributed 3.0
# tables (doc/citus.md, "Built: convert_legacy() into distributed tables"),
# on a coordinator and two workers, all on Unix sockets.
#
# Skipped where Citus cannot run (LgCitus.pm).  The legacy rows are
# test/seed_legacy.sql at scale 0.05, in schema legacy; the answer they must
# give is the same conversion on one node (database single, no Citus, under
# the cluster's legacy namespace).  What is checked:
# - from a local legacy schema, and from one whose tables are Citus tables
#   (reference and distributed): every row of the 11 tables as on one node,
#   tenant keys included; validate_fk_integrity() finds nothing; the
#   coordinator's own storage of the distributed tables holds nothing (the
#   rows went through Citus to the shards);
# - orphans in the legacy rows: quarantined as on one node; an orphan
#   planted in a worker's shard afterwards is found by
#   validate_fk_integrity();
# - a second run catches up as on one node (the README's quick start on the
#   distributed tables; legacy rows changed and added: the same report and
#   rows, but for the updated_at of the rows updated, which the UPDATE through
#   Citus gives set_updated_at()'s time); a row whose tenant key changed is
#   refused (Citus cannot move it);
# - refusals, nothing converted: dependents => 'carry', a call on a worker;
# - kill -9 of a worker's backend while the conversion waits there for a
#   lock another session holds on a shard of ads (pg_locks): the call fails,
#   no table holds a row, no prepared transaction is left on a worker; then
#   the conversion runs;
# - a worker added after distribute(): lane_google 3.0 there, its own tables
#   the shells, its namespace refused until set from the coordinator, shards
#   moved to it by Citus's rebalancer, every row and relationship as before.
use strict;
use warnings FATAL => 'all';

use FindBin;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use LgCitus;
use LgPaths;
use LgReliab qw(lg_seed lg_make_legacy_source);

my @nodes = lg_citus_cluster();
my ($coord, $w1, $w2) = @nodes;
lg_paths_init($coord, PostgreSQL::Test::Utils::tempdir());

# --- the cluster at 3.0, distributed, empty -------------------------------------
$coord->safe_psql('postgres', "CREATE EXTENSION lane_google VERSION '2.2'");
$coord->safe_psql('postgres',
	'SELECT lane_google.set_legacy_namespace(lane_google.legacy_namespace())');
update_to('postgres', '3.0');
$coord->safe_psql('postgres', 'SELECT lane_google.distribute(4)');
is($coord->safe_psql('postgres', q{SELECT count(*) FROM pg_dist_partition
  WHERE logicalrelid::regclass::text LIKE 'lane_google.%'}), '11', 'the 11 tables are Citus tables');
my $ns = $coord->safe_psql('postgres', 'SELECT lane_google.legacy_namespace()');

# --- the legacy rows, and their conversion on one node -----------------------------
createdb('src');
lg_seed($coord, 'src', 0.05);
lg_make_legacy_source($coord, 'src');
my ($dump, $err) = ('', '');
IPC::Run::run([ $coord->installed_command('pg_dump'), '-d', $coord->connstr('src'), '-n', 'legacy', '-O' ],
	'>', \$dump, '2>', \$err)
  or die "pg_dump: $err";
createdb('single');
# (the legacy tables' enum columns are of the extension's types)
$coord->safe_psql('single', "CREATE EXTENSION lane_google VERSION '2.2'");
for my $db ('single', 'postgres')
{
	$coord->safe_psql($db, $dump);
}
$coord->safe_psql('single', "SELECT lane_google.set_legacy_namespace('$ns')");
update_to('single', '3.0');
$coord->safe_psql('single', "SELECT count(*) FROM lane_google.convert_legacy('legacy')");
my $want = rows_text('single');
like($want, qr/^ads \d{4,} /m, 'single: converted on one node');

my @tables = qw(users accounts account_users campaigns ad_groups ads analytics_snapshots
  approval_requests budget_alerts conversations conversation_messages);
my $truncate = 'TRUNCATE ' . join(', ', map { "lane_google.$_" } @tables);
my $empty_sql = join(' + ', map { "(SELECT count(*) FROM lane_google.$_)" } @tables);

# convert_legacy(SCHEMA, ARGS) on the coordinator: its NOTICEs
sub convert
{
	my ($schema, $args, $what) = @_;
	$args //= '';
	my ($ret, $out, $e) = $coord->psql('postgres',
		"SET client_min_messages = notice; SELECT count(*) FROM lane_google.convert_legacy('$schema'$args)");
	is($ret, 0, "$what: convert_legacy('$schema'$args)") or diag($e);
	return $e;
}

# --- from a local legacy schema -------------------------------------------------------
my $notices = convert('legacy', '', 'local legacy schema');
like($notices, qr/NOTICE:  lane_google: ads: \d+ rows written through Citus to its distributed table/,
	'local legacy schema: the rows of ads written through Citus');
like($notices, qr/NOTICE:  lane_google: users: \d+ rows written through Citus to its reference table/,
	'local legacy schema: users to its reference table');
same_text(rows_text('postgres'), $want, 'local legacy schema: every row as on one node');
is($coord->safe_psql('postgres', 'SELECT count(*) FROM lane_google.validate_fk_integrity()'), '0',
	'local legacy schema: validate_fk_integrity() finds nothing');
is( $coord->safe_psql('postgres',
		'SELECT ' . join(' + ', map { "pg_relation_size('lane_google.$_')" } @tables)),
	'0', 'the coordinator\'s own storage of the 11 tables holds nothing');
is($coord->safe_psql('postgres', 'SHOW citus.multi_shard_modify_mode'), 'parallel',
	'the caller\'s citus.multi_shard_modify_mode is back');

# --- a second run catches up, as on one node --------------------------------------------
# the README's quick start, on the distributed tables: the dry run, the
# problems, again (unchanged), then legacy rows changed and added on both
# sides: the same report and rows as on one node
is( $coord->safe_psql('postgres', q{
SELECT count(*) FROM lane_google.convert_legacy('legacy', dry_run => true);
SELECT count(*) FROM lane_google.convert_legacy_problems('legacy');
SELECT sum(rows_unchanged) = sum(rows_read) FROM lane_google.convert_legacy('legacy');
SELECT name IS NOT NULL FROM lane_google.campaigns WHERE id = lane_google.legacy_uuid('campaigns', 43);}),
	"11\n0\nt\nt", 'the README\'s quick start on the distributed tables: dry run, problems, catch-up, an old id');
my $changes = q{
UPDATE legacy.campaigns SET name = name || ' (renamed)' WHERE id % 10 = 0;   -- 5 of the 50
UPDATE legacy.accounts SET name = name || ' (renamed)' WHERE id = 2;
INSERT INTO legacy.campaigns (id, account_id, name, customer_id, budget_amount, created_at, updated_at)
  SELECT 900000 + g, 1 + g % 3, 'new campaign ' || g, 'c', 10, '2025-01-01', '2025-01-01' FROM generate_series(1, 3) g;
INSERT INTO legacy.ad_groups (id, campaign_id, name, created_at, updated_at)
  SELECT 900000 + g, 900000 + g, 'new group', '2025-01-01', '2025-01-01' FROM generate_series(1, 3) g;
};
my $report = q{SELECT string_agg(format('%s %s %s %s %s', table_name, rows_read, rows_converted, rows_unchanged, rows_updated), E'\n' ORDER BY table_name)
  FROM lane_google.convert_legacy('legacy')};
$coord->safe_psql($_, $changes) for ('single', 'postgres');
my %before = map { $_ => $coord->safe_psql($_, 'SELECT clock_timestamp()') } ('single', 'postgres');
my $report1 = $coord->safe_psql('single', $report);
like($report1, qr/^campaigns \d+ \d+ \d+ [1-9]\d*$/m, 'single: the catch-up updated campaigns');
is($coord->safe_psql('postgres', $report), $report1, 'the catch-up\'s report as on one node');
# The rows as text without updated_at, in id order: a catch-up's UPDATE
# through Citus fires set_updated_at() on the shards (on one node the engine
# updates below the triggers and keeps the legacy row's)
sub rows_but_updated_at
{
	my ($db) = @_;
	return $coord->safe_psql($db, join("\nUNION ALL\n", map {
		"SELECT '$_ ' || count(*) || ' ' || md5(string_agg((to_jsonb(x) - 'updated_at')::text, E'\\n' ORDER BY x.id)) FROM lane_google.$_ x"
	} @tables));
}
same_text(rows_but_updated_at('postgres'), rows_but_updated_at('single'),
	'after the catch-up: every row as on one node, but for updated_at');
# rows updated_at since the catch-up began, per table
sub stamped
{
	my ($db) = @_;
	return $coord->safe_psql($db, join("\nUNION ALL\n", map {
		"SELECT '$_ ' || count(*) FROM lane_google.$_ WHERE updated_at >= '$before{$db}'"
	} qw(accounts campaigns ad_groups)));
}
is(stamped('postgres'), "accounts 1\ncampaigns 5\nad_groups 0",
	'on Citus the rows the catch-up updated, and only those, carry a new updated_at');
is(stamped('single'), "accounts 0\ncampaigns 0\nad_groups 0", 'on one node none does');
$want = rows_text('postgres');

# a campaign moved to another account in the legacy rows: Citus cannot move
# its row (the distribution column), nothing is written
$coord->safe_psql('postgres', 'UPDATE legacy.campaigns SET account_id = account_id % 5 + 1 WHERE id = 900001');
like(error_of($coord, "SELECT count(*) FROM lane_google.convert_legacy('legacy')"),
	qr/ERROR:  0A000: lane_google\.campaigns: 1 rows changed their account_id in the legacy rows/,
	'a row whose tenant key changed is refused by name');
same_text(rows_text('postgres'), $want, 'and nothing is written');
$coord->safe_psql('postgres', 'UPDATE legacy.campaigns SET account_id = 1 + 1 % 3 WHERE id = 900001');
$want = rows_text('single');

# --- refusals --------------------------------------------------------------------------
$coord->safe_psql('postgres', $truncate);
like(error_of($coord, "SELECT count(*) FROM lane_google.convert_legacy('legacy', dependents => 'carry')"),
	qr/ERROR:  0A000: convert_legacy\(\) cannot carry dependents into Citus tables/,
	'dependents => carry into Citus tables is refused');
$w1->safe_psql('postgres', 'SET citus.enable_ddl_propagation = off; CREATE SCHEMA w1_legacy; CREATE TABLE w1_legacy.users (id integer PRIMARY KEY)');
like(error_of($w1, "SELECT count(*) FROM lane_google.convert_legacy('w1_legacy')"),
	qr/ERROR:  0A000: convert_legacy\(\) does not support Citus tables: lane_google\.users is a reference table/,
	'on a worker, convert_legacy() refuses');
is($coord->safe_psql('postgres', "SELECT $empty_sql"), '0', 'the refusals converted nothing');

# --- from a legacy schema of Citus tables ----------------------------------------------
$coord->safe_psql('postgres', slurp_file("$FindBin::RealBin/../citus_legacy.sql"),
	extra_params => [ '-v', 'shards=4' ]);
is($coord->safe_psql('postgres', q{SELECT count(*) FROM pg_dist_partition
  WHERE logicalrelid::regclass::text LIKE 'legacy_citus.%'}), '11', 'legacy_citus: the 11 legacy tables are Citus tables');
convert('legacy_citus', '', 'legacy schema of Citus tables');
same_text(rows_text('postgres'), $want, 'legacy schema of Citus tables: every row as on one node');
is($coord->safe_psql('postgres', 'SELECT count(*) FROM lane_google.validate_fk_integrity()'), '0',
	'legacy schema of Citus tables: validate_fk_integrity() finds nothing');

# --- orphans -----------------------------------------------------------------------------
$coord->safe_psql('postgres', $truncate);
$coord->safe_psql('single', $truncate);
for my $db ('postgres', 'single')
{
	$coord->safe_psql($db, q{
UPDATE legacy.ad_groups SET campaign_id = 999999 WHERE id IN (SELECT id FROM legacy.ad_groups ORDER BY id LIMIT 2);
UPDATE legacy.conversation_messages SET conversation_id = 999999 WHERE id = (SELECT min(id) FROM legacy.conversation_messages);
});
	$coord->safe_psql($db, "SELECT count(*) FROM lane_google.convert_legacy('legacy', on_orphan => 'quarantine')");
}
$want = rows_text('single');
same_text(rows_text('postgres'), $want, 'orphans: every other row as on one node');
is( $coord->safe_psql('postgres',
		'SELECT table_name, count(*) FROM lane_google.legacy_quarantine GROUP BY 1 ORDER BY 1'),
	$coord->safe_psql('single',
		'SELECT table_name, count(*) FROM lane_google.legacy_quarantine GROUP BY 1 ORDER BY 1'),
	'orphans: the quarantine as on one node');
like($coord->safe_psql('postgres',
		'SELECT string_agg(table_name, \',\' ORDER BY table_name) FROM (SELECT DISTINCT table_name FROM lane_google.legacy_quarantine) q'),
	qr/^ad_groups,ads,conversation_messages$/, 'orphans: the ad groups, their ads and the message quarantined');

# an orphan planted in a worker's shard: found from the coordinator
# (5 accounts at this scale: a shard, a worker even, may hold none of their
# rows, as the hash of their uuids falls; the shard of ads with the most rows,
# and its worker)
my ($ad_shard, $ad_port) = split /\|/, $coord->safe_psql(
	'postgres', q{
SELECT r.result::text, n.nodeport
  FROM run_command_on_shards('lane_google.ads', 'SELECT count(*) FROM %s') r
  JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)
 ORDER BY r.result::bigint DESC, r.shardid LIMIT 1});
($ad_shard, $ad_port) = split /\|/, $coord->safe_psql(
	'postgres', q{
SELECT shard_name('lane_google.ads'::regclass, r.shardid), n.nodeport
  FROM run_command_on_shards('lane_google.ads', 'SELECT count(*) FROM %s') r
  JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)
 ORDER BY r.result::bigint DESC, r.shardid LIMIT 1});
my ($wk) = grep { $_->port == $ad_port } ($w1, $w2);
$ad_shard =~ s/^lane_google\.//;
like($ad_shard, qr/^ads_\d+$/, $wk->name . " holds $ad_shard, a shard of ads");
ok($wk->safe_psql('postgres', "SELECT count(*) FROM lane_google.$ad_shard") > 0, "$ad_shard holds ads");
$wk->safe_psql('postgres', qq{
SET session_replication_role = replica;
UPDATE lane_google.$ad_shard SET ad_group_id = '00000000-0000-0000-0000-0000000000aa'
 WHERE id = (SELECT id FROM lane_google.$ad_shard ORDER BY id LIMIT 1);
});
is( $coord->safe_psql('postgres',
		'SELECT constraint_name, rows FROM lane_google.validate_fk_integrity()'),
	'ads_account_id_ad_group_id_fkey|1',
	'an orphan planted in a shard on ' . $wk->name . ' is found');

# --- kill -9 on a worker mid-conversion ---------------------------------------------------
$coord->safe_psql('postgres', $truncate . '; TRUNCATE lane_google.legacy_quarantine');
kill_while_waiting(
	coord => $coord,
	worker => $wk,
	lock_sql => "BEGIN; SET LOCAL citus.enable_manual_changes_to_shards = on; LOCK TABLE lane_google.$ad_shard IN SHARE MODE",
	sql => "SELECT count(*) FROM lane_google.convert_legacy('legacy', on_orphan => 'quarantine')",
	waiting => qq{SELECT l.pid FROM pg_locks l
	 WHERE l.relation = 'lane_google.$ad_shard'::regclass AND NOT l.granted},
	what => "the conversion (to write $ad_shard)",
	checks => sub {
		is($coord->safe_psql('postgres', 'SELECT count(*) FROM lane_google.ad_groups'), '0',
			'no other session sees the rows written so far');
	});
is($coord->safe_psql('postgres', "SELECT $empty_sql"), '0', 'after the kill: no table holds a row');
is($coord->safe_psql('postgres', 'SELECT count(*) FROM lane_google.legacy_quarantine'), '0',
	'after the kill: nor the quarantine');
for my $w ($w1, $w2)
{
	is($w->safe_psql('postgres', 'SELECT count(*) FROM pg_prepared_xacts'), '0',
		$w->name . ': no prepared transaction left');
}
convert('legacy', ", on_orphan => 'quarantine'", 'after the kill');
same_text(rows_text('postgres'), $want, 'after the kill: the conversion runs, every row as on one node');

# --- a worker added after distribute() ----------------------------------------------------
# Citus creates lane_google 3.0 there; its own copies of the tables serve as
# the shells; its namespace is refused until the coordinator sets it; the
# rebalancer moves shards to it (by COPY, block_writes: the suite's nodes
# have no WAL senders for logical replication; the coordinator reaches itself
# by citus.local_hostname, here its socket directory).
my $w3 = PostgreSQL::Test::Cluster->new('worker3');
lg_citus_start_node($w3);
$coord->safe_psql('postgres', "SELECT citus_add_node('" . $w3->host . "', " . $w3->port . ')');
is($w3->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'lane_google'"),
	'3.0', 'worker3: Citus created lane_google 3.0 there');
same_text(rows_text('postgres'), $want, 'worker3 added: every row as before');
like(error_of($w3, "SELECT lane_google.legacy_uuid('users', 1)"), qr/not the coordinator's/,
	'worker3: legacy_uuid() refuses its own namespace');
$coord->safe_psql('postgres', 'SELECT lane_google.set_legacy_namespace(lane_google.legacy_namespace())');
is($w3->safe_psql('postgres', "SELECT lane_google.legacy_uuid('users', 1)"),
	$coord->safe_psql('postgres', "SELECT lane_google.legacy_uuid('users', 1)"),
	'worker3: the coordinator\'s namespace, once set from there');
$coord->safe_psql('postgres',
	"ALTER SYSTEM SET citus.local_hostname = '" . $coord->host . "'; SELECT pg_reload_conf()");
$coord->poll_query_until('postgres', 'SHOW citus.local_hostname', $coord->host)
  or die 'citus.local_hostname not in force';
$coord->safe_psql('postgres',
	"SELECT rebalance_table_shards(shard_transfer_mode => 'block_writes')");
ok( $coord->safe_psql('postgres',
		'SELECT count(*) FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid) WHERE n.nodeport = '
		  . $w3->port) > 0,
	'worker3 holds placements after the rebalance');
same_text(rows_text('postgres'), $want, 'after the rebalance: every row as before');
is($coord->safe_psql('postgres', 'SELECT count(*) FROM lane_google.validate_fk_integrity()'), '0',
	'after the rebalance: validate_fk_integrity() finds nothing');
is($w3->safe_psql('postgres', 'SELECT count(*) FROM lane_google.ads'),
	$coord->safe_psql('postgres', 'SELECT count(*) FROM lane_google.ads'),
	'worker3 reads every ad through Citus (its own copy of ads is a shell)');

done_testing();
