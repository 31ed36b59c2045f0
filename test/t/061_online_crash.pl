# test/t/061_online_crash.pl: the online backfill and the swap survive
# SIGKILL of the whole server.
#
# - The backfill (CALL online_backfill with small batches and a pause) is
#   killed 5 times, each once it has provably reached a point: k committed
#   batches in lane_google_online.progress (4 times, at growing k, so the
#   kills fall in different tables), and once every table is copied, the
#   backfill waiting (pg_locks) for its advisory lock, which the test holds,
#   before its log application and index builds.  After each restart the committed
#   batches are there and every shadow holds exactly the rows its progress
#   row counts (no row copied twice, none lost); the backfill is called
#   again and resumes.  At the end the swap gives the catalog of a fresh 2.1
#   and the same rows, byte for byte, as an uninterrupted online run and as
#   the offline update.
# - The swap is killed while it waits for its last lock (pg_locks shows it
#   waiting, having applied the log and locked the tables before): after the
#   restart the database is in the before state (1.1, catalog and rows as
#   before the swap, the online state complete), and the swap then succeeds.
#   Likewise killed before its table locks, waiting for a shadow a session
#   reads once it has applied the log: the shadow and the log as before.
use strict;
use warnings FATAL => 'all';

use FindBin;
use IPC::Run;
use Time::HiRes qw(sleep time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use LgPaths;

# The compatibility views' indexes on legacy_id::integer (dropped by
# drop_compat()) are the one difference from a fresh 2.1 after the swap
sub catalog_sans_compat
{
	my ($db) = @_;
	return join("\n", grep { !/_lg_compat_/ } split /\n/, catalog($db));
}

my $tmp = PostgreSQL::Test::Utils::tempdir();
my $node = PostgreSQL::Test::Cluster->new('online_crash');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
client_min_messages = warning
TimeZone = 'UTC'
restart_after_crash = off
});
$node->start;
lg_paths_init($node, $tmp);

createdb('ref21');
query('ref21', "CREATE EXTENSION lane_google VERSION '2.1'");
my $want21 = catalog('ref21');

createdb('seed');
query('seed', "CREATE EXTENSION lane_google VERSION '1.0'");
generate('seed', '0.005');
query('seed', "ALTER EXTENSION lane_google UPDATE TO '1.1'");

createdb('offline', 'seed');
update_to('offline', '2.1');
my $rows_offline = rows_text('offline');

createdb('straight', 'seed');
query('straight', 'SELECT lane_google.online_start()');
query('straight', 'CALL lane_google.online_backfill(batch_rows => 100)');
update_to('straight', '2.1');
same_text(rows_text('straight'), $rows_offline, 'uninterrupted online run: the offline rows');

# Every server process, killed at once; then crash recovery
sub kill_server
{
	my $pm = $node->{_pid};
	my @pids = ($pm, grep { /^\d+$/ } split /\s+/, `ps -o pid= --ppid $pm`);
	kill 'KILL', @pids;
	$node->{_pid} = undef;
	for (1 .. 500)
	{
		last unless grep { kill 0, $_ } @pids;
		sleep 0.02;
	}
	$node->start;
}

# After a kill during the swap: the extension at 1.1 with the catalog and
# rows of before it
sub before_swap_is
{
	my ($db, $cat, $rows, $what) = @_;
	is(query($db, "SELECT extversion FROM pg_extension WHERE extname = 'lane_google'"), '1.1',
		"$what: still at 1.1");
	same_text(catalog($db), $cat, "$what: the catalog as before the swap");
	same_text(rows_text($db), $rows, "$what: the rows as before the swap");
}

# Runs $sql in the background; returns the harness
sub background
{
	my ($db, $sql, %env) = @_;
	my ($out, $err) = ('', '');
	local @ENV{ keys %env } = values %env;
	return IPC::Run::start(
		[
			$node->installed_command('psql'), '-XAtq', '-v', 'ON_ERROR_STOP=1',
			'-d', $node->connstr($db), '-c', $sql
		],
		'>', \$out, '2>', \$err);
}

sub wait_for
{
	my ($db, $sql, $what) = @_;
	my $t0 = time;
	while (time - $t0 < 180)
	{
		return 1 if query($db, $sql) eq 't';
		sleep 0.02;
	}
	fail("timed out waiting for $what");
	return 0;
}

# --- five kills during the backfill ------------------------------------------

my $db = 'crashy';
createdb($db, 'seed');
query($db, 'SELECT lane_google.online_start()');
my $total = query($db, 'SELECT sum(rows_estimated) FROM lane_google.online_status()');
my $batches_all = int($total / 100);
my $consistent = join(' + ', map {
	"(SELECT count(*) FROM lane_google_online.$_) - (SELECT rows_copied FROM lane_google_online.progress WHERE table_name = '$_')"
} @tables);

my ($blocker, $blocker_in, $blocker_out) = (undef, '', '');
for my $k (1 .. 5)
{
	my ($point, $h);
	if ($k < 5)
	{
		$h = background($db, "CALL lane_google.online_backfill(batch_rows => 100, pause => '30ms')");
		my $target = int($batches_all * $k / 5);
		$point = "$target batches committed";
		wait_for($db, "SELECT sum(batches) >= $target FROM lane_google_online.progress", $point);
	}
	else
	{
		# every table copied, the backfill then stopped by the test holding
		# its advisory lock: killed between the copy and the log application
		$point = 'every table copied, before the log application';
		query($db, q{SELECT count(*) FROM generate_series(1, 100000) WHERE lane_google._online_copy_batch(100)});
		$blocker = IPC::Run::start(
			[ $node->installed_command('psql'), '-XAtq', '-d', $node->connstr($db) ],
			'<', \$blocker_in, '>', \$blocker_out, '2>', \my $blocker_err);
		$blocker_in .= "SELECT pg_advisory_lock(27751, 10); SELECT 'locked';\n";
		$blocker->pump until $blocker_out =~ /locked/;
		$h = background($db, "CALL lane_google.online_backfill(batch_rows => 100)");
		wait_for(
			$db, q{SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
			                       WHERE l.locktype = 'advisory' AND l.objid = 10 AND NOT l.granted
			                         AND a.query LIKE 'CALL lane_google.online_backfill%')
			          AND (SELECT bool_and(copied) FROM lane_google_online.progress)},
			$point);
	}
	my $seen = query($db, 'SELECT sum(batches) FROM lane_google_online.progress');
	kill_server();
	$h->finish;
	$blocker->kill_kill if $k == 5;
	my $after = query($db, 'SELECT sum(batches) FROM lane_google_online.progress');
	ok($after >= $seen, "kill $k ($point): the $seen batches committed before are there ($after)");
	is(query($db, "SELECT $consistent"), '0',
		"kill $k: every shadow holds exactly the rows its progress counts");
	note('state after kill ' . $k . ': '
		  . query($db, "SELECT string_agg(state || ' ' || rows_copied, ', ') FROM lane_google.online_status()"));
}
my ($rc, $out, $err) = $node->psql($db, 'CALL lane_google.online_backfill(batch_rows => 100)');
is($rc, 0, 'the backfill resumes and finishes') or diag($err);
is(query($db, "SELECT string_agg(DISTINCT state, ',') FROM lane_google.online_status()"),
	'complete', 'complete');
is(query($db, 'SELECT sum(rows_copied) FROM lane_google.online_status()'),
	query('seed', join(' + ', 'SELECT 0', map { "(SELECT count(*) FROM lane_google.$_)" } @tables)),
	'every row copied exactly once over the six runs');
update_to($db, '2.1');
same_text(catalog_sans_compat($db), $want21,
	'after 5 kills: the catalog of a fresh 2.1 (but for the compatibility views\' indexes)');
same_text(rows_text($db), $rows_offline, 'after 5 kills: the same rows as the uninterrupted and offline runs');

# --- a kill during the swap -------------------------------------------------

$db = 'swapkill';
createdb($db, 'seed');
query($db, 'SELECT lane_google.online_start()');
query($db, 'CALL lane_google.online_backfill()');
# a change to carry across in the swap
query($db, "UPDATE lane_google.campaigns SET name = 'changed before the swap' WHERE id = (SELECT min(id) FROM lane_google.campaigns)");
my $cat_before = catalog($db);
my $rows_before = rows_text($db);

my ($in, $hout, $herr) = ('', '', '');
my $holder = IPC::Run::start(
	[ $node->installed_command('psql'), '-XAtq', '-d', $node->connstr($db) ],
	'<', \$in, '>', \$hout, '2>', \$herr);
$in .= "BEGIN; SELECT count(*) FROM lane_google.conversation_messages; SELECT 'holding';\n";
$holder->pump until $hout =~ /holding/;
my $swap = background($db, "ALTER EXTENSION lane_google UPDATE TO '2.1'",
	PGOPTIONS => '-c lane_google.swap_lock_timeout=600s');
wait_for(
	$db, q{
	SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
	                WHERE c.relname = 'conversation_messages' AND l.mode = 'AccessExclusiveLock'
	                  AND NOT l.granted)},
	'the swap waiting for its last lock');
ok( query($db, q{
	SELECT count(*) = 10 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
	 WHERE c.relnamespace = 'lane_google'::regnamespace AND l.mode = 'AccessExclusiveLock' AND l.granted
	   AND c.relkind = 'r' AND c.relname NOT LIKE 'legacy%'}),
	'the swap holds the other 10 tables when killed');
kill_server();
$swap->finish;
$holder->kill_kill;
before_swap_is($db, $cat_before, $rows_before, 'killed during the swap');
is(query($db, "SELECT string_agg(DISTINCT state, ',') FROM lane_google.online_status()"),
	'complete', 'killed during the swap: the online state intact');
update_to($db, '2.1');
same_text(catalog_sans_compat($db), $want21,
	'the swap after the kill: the catalog of a fresh 2.1 (but for the compatibility views\' indexes)');
is( query($db, q{SELECT count(*) FROM lane_google_v1.campaigns WHERE name = 'changed before the swap'}),
	'1', 'the swap after the kill: the change made before it carried across');

# --- a kill during the swap's work before its table locks ---------------------
# The swap has applied the log (a change made before it is in its shadow,
# uncommitted) and waits for a shadow a session reads: killed there, nothing
# of it remains.

$db = 'prekill';
createdb($db, 'seed');
query($db, 'SELECT lane_google.online_start()');
query($db, 'CALL lane_google.online_backfill()');
query($db, "UPDATE lane_google.campaigns SET name = 'changed before the swap' WHERE id = (SELECT max(id) FROM lane_google.campaigns)");
$cat_before = catalog($db);
$rows_before = rows_text($db);
my $shadows_before = query($db, 'SELECT md5(string_agg(c::text, \'\' ORDER BY c.legacy_id)) FROM lane_google_online.campaigns c');
my $pending_before = query($db, 'SELECT count(*) FROM lane_google_online.changes');
($in, $hout, $herr) = ('', '', '');
$holder = IPC::Run::start(
	[ $node->installed_command('psql'), '-XAtq', '-d', $node->connstr($db) ],
	'<', \$in, '>', \$hout, '2>', \$herr);
$in .= "BEGIN; SELECT count(*) FROM lane_google_online.ads; SELECT 'holding';\n";
$holder->pump until $hout =~ /holding/;
$swap = background($db, "ALTER EXTENSION lane_google UPDATE TO '2.1'",
	PGOPTIONS => '-c lane_google.swap_lock_timeout=600s');
wait_for(
	$db, q{
	SELECT EXISTS (SELECT 1 FROM pg_locks l
	                WHERE l.relation = 'lane_google_online.ads'::regclass
	                  AND l.mode = 'AccessExclusiveLock' AND NOT l.granted)},
	'the swap waiting for a shadow, before its table locks');
ok( query($db, q{
	SELECT NOT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
	                    WHERE c.relnamespace = 'lane_google'::regnamespace AND l.mode = 'AccessExclusiveLock')}),
	'the swap holds no ACCESS EXCLUSIVE lock on a legacy table when killed');
kill_server();
$swap->finish;
$holder->kill_kill;
before_swap_is($db, $cat_before, $rows_before, 'killed before the table locks');
is(query($db, 'SELECT md5(string_agg(c::text, \'\' ORDER BY c.legacy_id)) FROM lane_google_online.campaigns c'),
	$shadows_before, 'killed before the table locks: the shadow as before (its application rolled back)');
is(query($db, 'SELECT count(*) FROM lane_google_online.changes'), $pending_before,
	'killed before the table locks: the change log as before');
update_to($db, '2.1');
same_text(catalog_sans_compat($db), $want21,
	'the swap after that kill: the catalog of a fresh 2.1 (but for the compatibility views\' indexes)');
is( query($db, q{SELECT count(*) FROM lane_google_v1.campaigns WHERE name = 'changed before the swap'}),
	'1', 'the swap after that kill: the change made before it carried across');

$node->stop;
done_testing();
