# 020_crash.pl: a conversion interrupted at any moment leaves the database
# exactly as it was before, or (when it had committed) exactly as after.
#
# The commands: ALTER EXTENSION lane_google UPDATE (1.0 -> 2.0 and back)
# and convert_legacy(), on generated rows.  The interruptions, each at a
# different moment of the command's run:
# - SIGKILL of the postmaster and of every server process (then a restart
#   and crash recovery), 14 times;
# - SIGKILL of the converting backend alone (the postmaster reinitializes);
# - statement_timeout; pg_cancel_backend() from another session.
# After each: the extension version, the relations of the extension's schema
# and of the source schema, a checksum of every row of every table, the
# sequences, the namespace and the quarantine equal the state before or the
# state after; then the command runs again to success.  Finally amcheck
# finds nothing wrong in any table or index.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use IPC::Run;
use Time::HiRes qw(sleep time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use LgReliab;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf(
	'postgresql.conf', qq{
restart_after_crash = on
log_statement = none
shared_buffers = 128MB
});
$node->start;

my $db = 'postgres';
my $app = 'lg_victim';
my @tables = lg_tables();

LgReliab::lg_seed($node, $db, 0.5);

my $up = "ALTER EXTENSION lane_google UPDATE TO '2.0'";
my $down = "ALTER EXTENSION lane_google UPDATE TO '1.0'";
my $convert =
  "SELECT count(*) FROM lane_google.convert_legacy('legacy', on_orphan => 'quarantine')";
my $truncate = "TRUNCATE " . join(', ', map { "lane_google.$_" } @tables);

# Server processes: the postmaster and its children
sub server_pids
{
	my $pm = $node->{_pid};
	my @children = split /\s+/, `ps -o pid= --ppid $pm`;
	return ($pm, grep { /^\d+$/ } @children);
}

sub timed
{
	my ($sql) = @_;
	my $t0 = time;
	$node->safe_psql($db, $sql);
	return time - $t0;
}

# Runs $sql in the background and interrupts it $delay seconds after its
# backend became active.  Returns whether it was still running then.
sub interrupt
{
	my ($how, $sql, $delay) = @_;
	my ($out, $err) = ('', '');
	my $connstr = $node->connstr($db) . " application_name=$app";
	$connstr .= " options='-c statement_timeout=" . int($delay * 1000) . "'"
	  if $how eq 'timeout';
	my $h = IPC::Run::start(
		[
			$node->installed_command('psql'), '-XAtq', '-v',
			'ON_ERROR_STOP=1', '-d', $connstr, '-c', $sql
		],
		'>', \$out, '2>', \$err);

	my $pid = '';
	my $t0 = time;
	while (time - $t0 < 60)
	{
		$pid = $node->safe_psql($db,
			"SELECT pid FROM pg_stat_activity WHERE application_name = '$app' AND state = 'active'"
		);
		last if $pid ne '' || !$h->pumpable;
		sleep 0.02;
	}
	sleep $delay if $how ne 'timeout';
	$h->pump_nb if $h->pumpable;
	my $running = $h->pumpable ? 1 : 0;

	if ($how eq 'server')
	{
		my @pids = server_pids();
		kill 'KILL', @pids;
		$node->{_pid} = undef;
		# wait until every server process is gone
		for (1 .. 500)
		{
			last unless grep { kill 0, $_ } @pids;
			sleep 0.02;
		}
		$h->finish;
		$node->start;
	}
	elsif ($how eq 'backend')
	{
		kill 'KILL', $pid if $pid ne '';
		$h->finish;
		# the postmaster reinitializes: wait for it
		$node->poll_query_until($db, 'SELECT true')
		  or die "server did not come back";
	}
	elsif ($how eq 'cancel')
	{
		$node->safe_psql($db, "SELECT pg_cancel_backend($pid)") if $pid ne '';
		$h->finish;
	}
	else
	{
		$h->finish;
	}
	my $ok = $h->result == 0;
	return ($running, $ok, $err);
}

# One case: interrupt, compare, rerun.  Returns the state now (= $after).
my %mid;
sub crash_case
{
	my ($how, $name, $sql, $before, $after, $delay) = @_;
	my ($running, $ok, $err) = interrupt($how, $sql, $delay);
	my $state = lg_state($node, $db);
	my $label = sprintf("%s %s at %.2f s", $how, $name, $delay);
	$mid{$how}++ if $running && !$ok;
	if ($ok)
	{
		is($state, $after, "$label: the command had committed, the state is the after state");
	}
	else
	{
		ok($state eq $before || $state eq $after,
			"$label: the state is the before state or the after state");
		if ($how eq 'timeout' || $how eq 'cancel')
		{
			like($err, qr/canceling statement due to (statement timeout|user request)/,
				"$label: the command fails with the cancel's error");
			is($state, $before, "$label: nothing changed");
		}
	}
	if ($state ne $after)
	{
		$node->safe_psql($db, $sql);
		is(lg_state($node, $db), $after, "$label: the rerun succeeds");
	}
	return;
}

# ---------------------------------------------------------------------------
# The states, and how long each command takes
# ---------------------------------------------------------------------------
my $v1 = lg_state($node, $db);
my $d_up = timed($up);
my $v2 = lg_state($node, $db);
my $d_down = timed($down);
is(lg_state($node, $db), $v1, '1.0 -> 2.0 -> 1.0 gives back every row');
note sprintf("update %.2f s, downgrade %.2f s", $d_up, $d_down);

# ---------------------------------------------------------------------------
# SIGKILL of the whole server during the updates: 10 moments spread over the
# command's run, the last ones near or past its end
# ---------------------------------------------------------------------------
my $n = 10;
for my $i (0 .. $n - 1)
{
	my $frac = 0.05 + 1.1 * $i / ($n - 1);
	if (lg_extversion($node, $db) eq '1.0')
	{
		crash_case('server', '1.0 -> 2.0', $up, $v1, $v2, $d_up * $frac);
	}
	else
	{
		crash_case('server', '2.0 -> 1.0', $down, $v2, $v1, $d_down * $frac);
	}
}

# ---------------------------------------------------------------------------
# convert_legacy('legacy') into the empty 2.0 tables
# ---------------------------------------------------------------------------
$node->safe_psql($db, $down) if lg_extversion($node, $db) ne '1.0';
LgReliab::lg_make_legacy_source($node, $db);
my $c0 = lg_state($node, $db);
my $d_convert = timed($convert);
my $c1 = lg_state($node, $db);
$node->safe_psql($db, $truncate);
is(lg_state($node, $db), $c0, 'emptied targets give back the before state');
note sprintf("convert_legacy %.2f s", $d_convert);

for my $i (0 .. 3)
{
	crash_case('server', 'convert_legacy', $convert, $c0, $c1,
		$d_convert * (0.1 + 0.3 * $i));
	$node->safe_psql($db, $truncate);
}

# ---------------------------------------------------------------------------
# SIGKILL of the backend alone; statement_timeout; pg_cancel_backend
# ---------------------------------------------------------------------------
for my $how ('backend', 'timeout', 'cancel')
{
	crash_case($how, 'convert_legacy', $convert, $c0, $c1, $d_convert * 0.5);
	$node->safe_psql($db, $truncate);
}

# the updates, on the converted rows (legacy_id kept by convert_legacy)
$node->safe_psql($db, $convert);
my $w2 = lg_state($node, $db);
$node->safe_psql($db, $down);
my $w1 = lg_state($node, $db);
for my $how ('backend', 'timeout', 'cancel')
{
	crash_case($how, '1.0 -> 2.0', $up, $w1, $w2, $d_up * 0.5);
	crash_case($how, '2.0 -> 1.0', $down, $w2, $w1, $d_down * 0.5);
}

note sprintf("interrupted mid-command: %d server kills, %d backend kills, %d timeouts, %d cancels",
	map { $mid{$_} // 0 } qw(server backend timeout cancel));
cmp_ok($mid{server} // 0, '>=', 10,
	'at least 10 server kills hit a running command');
cmp_ok($mid{backend} // 0, '>=', 1,
	'backend kills hit a running command');

is(lg_amcheck($node, $db), '', 'amcheck finds nothing wrong after the crashes');

$node->stop;
done_testing();
