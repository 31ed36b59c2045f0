# 023_source_lock.pl: a source table dropped, renamed or re-created while
# convert_legacy() waits for its lock.  The conversion resolves each name
# again once its lock is granted, as PostgreSQL's own commands do
# (RangeVarGetRelidExtended): it converts the table the name means when it
# reads, never the renamed old one, and a dropped table is a clear error,
# not "could not open relation with OID n".
#
# Each case: a second session holds ACCESS EXCLUSIVE on legacy.ads; the
# conversion starts and is seen waiting for that very lock in pg_locks; only
# then does the second session change the table and commit.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use LgReliab;

my $node = PostgreSQL::Test::Cluster->new('source_lock');
$node->init;
$node->append_conf('postgresql.conf', "log_statement = none\n");
$node->start;

my $db = 'postgres';
my @tables = lg_tables();
my $truncate = "TRUNCATE " . join(', ', map { "lane_google.$_" } @tables);

LgReliab::lg_seed($node, $db, 0.1);
LgReliab::lg_make_legacy_source($node, $db);
# the original ads, to put back between cases
$node->safe_psql($db, "CREATE SCHEMA keep; CREATE TABLE keep.ads AS SELECT * FROM legacy.ads");
my $all_ads = $node->safe_psql($db, "SELECT count(*) FROM keep.ads");
cmp_ok($all_ads, '>', 100, "legacy.ads holds $all_ads rows");

sub restore_ads
{
	$node->safe_psql(
		$db, qq{
		$truncate;
		DROP TABLE IF EXISTS legacy.ads, legacy.ads_old;
		CREATE TABLE legacy.ads AS SELECT * FROM keep.ads;});
	return;
}

# Starts convert_legacy('legacy') in the background while a second session
# holds ACCESS EXCLUSIVE on legacy.ads; returns once the conversion waits
# for that lock (seen in pg_locks).
sub start_waiting_conversion
{
	my ($app) = @_;
	my $holder = $node->background_psql($db, on_error_stop => 1);
	$holder->query_safe("SET client_min_messages = warning");
	$holder->query_safe("BEGIN; LOCK TABLE legacy.ads IN ACCESS EXCLUSIVE MODE");
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[
			$node->installed_command('psql'), '-XAtq', '-v', 'ON_ERROR_STOP=1',
			'-d', $node->connstr($db) . " application_name=$app options='-c client_min_messages=warning'",
			'-c', "SELECT table_name, rows_read FROM lane_google.convert_legacy('legacy') WHERE table_name = 'ads'"
		],
		'>', \$out, '2>', \$err);
	$node->poll_query_until(
		$db, qq{
		SELECT count(*) > 0
		  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		 WHERE a.application_name = '$app' AND NOT l.granted
		   AND l.locktype = 'relation' AND l.relation = 'legacy.ads'::regclass})
	  or die "the conversion never waited for its lock on legacy.ads";
	return ($holder, $h, \$out, \$err);
}

# ---------------------------------------------------------------------------
# Renamed, and a new table by the old name: the new one is converted
# ---------------------------------------------------------------------------
{
	restore_ads();
	my ($holder, $h, $out, $err) = start_waiting_conversion('lg_rename');
	pass('the conversion waits for its lock on legacy.ads');
	$holder->query_safe(
		q{ALTER TABLE legacy.ads RENAME TO ads_old;
		  CREATE TABLE legacy.ads AS SELECT * FROM legacy.ads_old WHERE id % 2 = 0;
		  COMMIT});
	$holder->quit;
	$h->finish;
	chomp $$out;
	my $new = $node->safe_psql($db, "SELECT count(*) FROM legacy.ads");
	is($$err, '', 'the conversion succeeded');
	is($$out, "ads|$new", "it read the new legacy.ads ($new rows), not the renamed one ($all_ads)");
	is( $node->safe_psql(
			$db, q{
			SELECT count(*) FROM lane_google.ads t
			  FULL JOIN legacy.ads s ON t.legacy_id = s.id
			 WHERE t.legacy_id IS NULL OR s.id IS NULL}),
		'0',
		'the converted ads are exactly the rows of the new table');
}

# ---------------------------------------------------------------------------
# Dropped and re-created: the new table is converted
# ---------------------------------------------------------------------------
{
	restore_ads();
	my ($holder, $h, $out, $err) = start_waiting_conversion('lg_recreate');
	$holder->query_safe(
		q{DROP TABLE legacy.ads;
		  CREATE TABLE legacy.ads AS SELECT * FROM keep.ads WHERE id % 3 = 0;
		  COMMIT});
	$holder->quit;
	$h->finish;
	chomp $$out;
	my $new = $node->safe_psql($db, "SELECT count(*) FROM legacy.ads");
	is($$err, '', 'the conversion succeeded');
	is($$out, "ads|$new", "it read the re-created legacy.ads ($new rows)");
}

# ---------------------------------------------------------------------------
# Dropped: an absent source, read as empty as any table the application
# never had (convert_legacy's rule), never an internal error
# ---------------------------------------------------------------------------
{
	restore_ads();
	my ($holder, $h, $out, $err) = start_waiting_conversion('lg_drop');
	$holder->query_safe("DROP TABLE legacy.ads; COMMIT");
	$holder->quit;
	$h->finish;
	chomp $$out;
	unlike($$err, qr/could not open relation/, 'not an internal error');
	is($$err, '', 'the conversion succeeded');
	is($$out, 'ads|0', 'the dropped legacy.ads read as empty');
}

$node->stop;
done_testing();
