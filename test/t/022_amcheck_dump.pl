# 022_amcheck_dump.pl: integrity after the fact.
#
# After every conversion path (ALTER EXTENSION UPDATE 1.0 -> 2.0, 2.0 -> 1.0,
# convert_legacy() with each on_orphan mode) amcheck finds nothing wrong in
# any table (verify_heapam) or btree index (bt_index_check with
# heapallindexed), catalogs included; and a pg_dump of the converted database
# restored into a fresh one gives back every row, the namespace and the
# mapping.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use LgReliab;

my $node = PostgreSQL::Test::Cluster->new('amcheck');
$node->init;
$node->append_conf('postgresql.conf', "log_statement = none\n");
$node->start;

my $db = 'postgres';
my @tables = lg_tables();

LgReliab::lg_seed($node, $db, 0.2);
is(lg_amcheck($node, $db), '', 'amcheck: nothing wrong after the 1.0 rows were loaded');

$node->safe_psql($db, "ALTER EXTENSION lane_google UPDATE TO '2.0'");
is(lg_amcheck($node, $db), '', 'amcheck: nothing wrong after 1.0 -> 2.0');

$node->safe_psql($db, "ALTER EXTENSION lane_google UPDATE TO '1.0'");
is(lg_amcheck($node, $db), '', 'amcheck: nothing wrong after 2.0 -> 1.0');

# convert_legacy, with orphans in the source for the quarantine and null modes
LgReliab::lg_make_legacy_source($node, $db);
$node->safe_psql(
	$db, q{
	INSERT INTO legacy.ads (ad_group_id, google_ad_id) VALUES (999999, 'orphan');
	INSERT INTO legacy.account_users (account_id, user_id, invited_by) VALUES (1, 150, 999999);
});
my $truncate = "TRUNCATE " . join(', ', map { "lane_google.$_" } @tables)
  . ", lane_google.legacy_quarantine";
for my $mode ('quarantine', 'null')
{
	# 'null' converts the row whose nullable key it sets NULL, and keeps the
	# original in the quarantine too: two rows there in either mode
	$node->safe_psql($db,
		"SELECT count(*) FROM lane_google.convert_legacy('legacy', on_orphan => '$mode')");
	my $q = $node->safe_psql($db, "SELECT count(*) FROM lane_google.legacy_quarantine");
	is($q, '2', "convert_legacy on_orphan => '$mode' kept the orphans in the quarantine");
	is(lg_amcheck($node, $db), '',
		"amcheck: nothing wrong after convert_legacy on_orphan => '$mode'");
	$node->safe_psql($db, $truncate) if $mode ne 'null';
}
$node->safe_psql($db,
	"DELETE FROM legacy.ads WHERE google_ad_id = 'orphan'; DELETE FROM legacy.account_users WHERE invited_by = 999999"
);
$node->safe_psql($db, $truncate);
$node->safe_psql($db,
	"SELECT count(*) FROM lane_google.convert_legacy('legacy')");
is(lg_amcheck($node, $db), '', "amcheck: nothing wrong after convert_legacy");

# the converted rows go down and up again
$node->safe_psql($db, "ALTER EXTENSION lane_google UPDATE TO '1.0'");
$node->safe_psql($db, "ALTER EXTENSION lane_google UPDATE TO '2.0'");
is(lg_amcheck($node, $db), '',
	'amcheck: nothing wrong after converted rows went 2.0 -> 1.0 -> 2.0');

# some rows born at 2.0, and one quarantined row, for the dump
$node->safe_psql(
	$db, q{
	INSERT INTO lane_google.accounts (name, google_customer_id) VALUES ('born at 2.0', 'new-1');
	INSERT INTO lane_google.legacy_quarantine (table_name, reason, row_data)
	VALUES ('ads', 'test', '{"id": 1}');
});

# ---------------------------------------------------------------------------
# pg_dump, restore into a fresh database: rows, namespace, mapping
# ---------------------------------------------------------------------------
my $dump = "$PostgreSQL::Test::Utils::tmp_check/lane_google.dump";
command_ok(
	[ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr($db) ],
	'pg_dump of the converted database');
$node->safe_psql($db, 'CREATE DATABASE restored');
command_ok(
	[
		'pg_restore', '--exit-on-error', '-d', $node->connstr('restored'),
		$dump
	],
	'pg_restore into a fresh database');

# pg_dump records no extension version: the restore installs the default,
# 2.2, which holds the same tables; 2.2 -> 2.0 gives back what was dumped
is(lg_extversion($node, 'restored'), '2.2', 'the restore installs the default version, 2.2');
$node->safe_psql('restored', "ALTER EXTENSION lane_google UPDATE TO '2.0'");

# legacy_config: the restore's CREATE EXTENSION draws a namespace of its own
# beside the dumped one, which, older, stays in force
sub without_config
{
	my ($s) = @_;
	$s =~ s/^lane_google\.legacy_config\|.*$//m;
	return $s;
}
is( without_config(lg_state($node, 'restored')),
	without_config(lg_state($node, $db)),
	'every row of every table is back, in the extension and in the source schema'
);
my $mapping = q{
	SELECT lane_google.legacy_namespace(),
	       lane_google.legacy_uuid('users', 1), lane_google.legacy_uuid('ads', 12345),
	       (SELECT lane_google.legacy_id_of('campaigns', id) FROM lane_google.campaigns
	         WHERE legacy_id = 7)};
is($node->safe_psql('restored', $mapping),
	$node->safe_psql($db, $mapping),
	'the namespace and the mapping are back');
my $every_key = join(
	"\nUNION ALL ",
	map {
		"SELECT '$_', count(*) FROM lane_google.$_ WHERE legacy_id IS NOT NULL AND id <> lane_google.legacy_uuid('$_', legacy_id)"
	} @tables);
is($node->safe_psql('restored', "SELECT string_agg(x, ',') FROM ($every_key) AS s(x, n) WHERE n > 0"),
	'', 'every converted key is the mapping of its legacy id after the restore');
is(lg_extversion($node, 'restored'), '2.0', 'the restored extension is at 2.0 after 2.1 -> 2.0');
is(lg_amcheck($node, 'restored'), '', 'amcheck: nothing wrong in the restored database');

# the restored database goes back to 1.0 like the original
$node->safe_psql('restored', "ALTER EXTENSION lane_google UPDATE TO '1.0'");
$node->safe_psql($db, "ALTER EXTENSION lane_google UPDATE TO '1.0'");
is( without_config(lg_state($node, 'restored')),
	without_config(lg_state($node, $db)),
	'after 2.0 -> 1.0 the restored database equals the original');

$node->stop;
done_testing();
