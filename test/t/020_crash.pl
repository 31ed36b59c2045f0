# 020_crash.pl: a conversion interrupted at any moment leaves the database
# exactly as it was before, or (when it had committed) exactly as after.
#
# The commands: ALTER EXTENSION lane_google UPDATE (1.0 -> 2.0 and back)
# and convert_legacy(), on generated rows.  The interruptions:
# - SIGKILL of the postmaster and of every server process (then a restart
#   and crash recovery), 14 times;
# - SIGKILL of the converting backend alone (the postmaster reinitializes);
# - statement_timeout; pg_cancel_backend() from another session.
#
# Every interruption lands at a point the command has provably reached, not
# at a fraction of a measured time (which misses when the machine is busy):
# the command passes gates, numbered in the order it reaches them - each DDL
# command of the update scripts (an event trigger; the engine's primary keys
# are DDL too, so gates fall between its tables) and each target table of
# convert_legacy() once its rows are written (an AFTER INSERT statement
# trigger).  The test holds an advisory lock; the command's session is told
# one gate number, where it waits for that lock; once pg_locks shows it
# waiting there, the interruption comes.  A first, ungated run of each
# command counts its gates, and the kills are spread over all of them, from
# the first to the last (after which only the commit is left).
#
# After each: the extension version, the relations of the extension's schema
# and of the source schema, a checksum of every row of every table, the
# sequences, the namespace and the quarantine equal the state before (every
# interruption hit the command before it committed, which is asserted); then
# the command runs again to success.  Finally amcheck finds nothing wrong in
# any table or index.
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
my $gate_key = 4242;

# The gates.  lg.count counts them in the command's transaction; at the one
# numbered lg.gate (a session setting) the command waits for the advisory
# lock the test holds; lg.measure = on logs every gate reached.
$node->safe_psql(
	$db, qq{
CREATE TABLE public.gate_log (n int);
CREATE FUNCTION public.lg_gate() RETURNS void LANGUAGE plpgsql AS \$\$
DECLARE
    n int := coalesce(nullif(current_setting('lg.count', true), ''), '0')::int + 1;
BEGIN
    PERFORM set_config('lg.count', n::text, true);
    IF current_setting('lg.measure', true) = 'on' THEN
        INSERT INTO public.gate_log VALUES (n);
    END IF;
    IF n = coalesce(nullif(current_setting('lg.gate', true), ''), '0')::int THEN
        PERFORM pg_advisory_xact_lock_shared($gate_key);
    END IF;
END \$\$;
CREATE FUNCTION public.lg_ddl_gate() RETURNS event_trigger LANGUAGE plpgsql AS
    \$\$ BEGIN PERFORM public.lg_gate(); END \$\$;
CREATE EVENT TRIGGER lg_ddl_gate ON ddl_command_end EXECUTE FUNCTION public.lg_ddl_gate();
CREATE FUNCTION public.lg_insert_gate() RETURNS trigger LANGUAGE plpgsql AS
    \$\$ BEGIN PERFORM public.lg_gate(); RETURN NULL; END \$\$;
});

# Server processes: the postmaster and its children
sub server_pids
{
	my $pm = $node->{_pid};
	my @children = split /\s+/, `ps -o pid= --ppid $pm`;
	return ($pm, grep { /^\d+$/ } @children);
}

# Runs $sql ungated, logging its gates: returns its seconds and its gates
sub measure
{
	my ($sql) = @_;
	$node->safe_psql($db, "TRUNCATE public.gate_log");
	my $t0 = time;
	$node->safe_psql($db, "SET lg.measure = on; $sql");
	my $secs = time - $t0;
	my $gates = $node->safe_psql($db, "SELECT coalesce(max(n), 0) FROM public.gate_log");
	$node->safe_psql($db, "TRUNCATE public.gate_log");
	die "no gate passed by: $sql" unless $gates > 0;
	return ($secs, $gates);
}

# $k of $n gates spread from the first (k = 0) to the last (k = n - 1)
sub spread
{
	my ($gates, $k, $n) = @_;
	return 1 + int(($gates - 1) * $k / ($n - 1) + 0.5);
}

# A session holding the gates' advisory lock
sub gate_holder
{
	my $holder = $node->background_psql($db);
	$holder->query_safe("SELECT pg_advisory_lock($gate_key)");
	return $holder;
}

# Ends it (its server process may be gone already)
sub gate_release
{
	my ($holder) = @_;
	local $SIG{PIPE} = 'IGNORE';
	eval { $holder->quit; };
	return;
}

# Runs $sql in the background, told to wait at gate $gate; once pg_locks
# shows it waiting there, interrupts it ($how).  For 'timeout' the session's
# statement_timeout is $timeout seconds: it strikes while the command waits
# at the gate (or, on a machine slow enough, before; never after the end).
# Returns whether the command succeeded, and its stderr.
sub interrupt
{
	my ($how, $sql, $gate, $timeout) = @_;
	my ($out, $err) = ('', '');
	my $holder = gate_holder();
	my $opts = "-c lg.gate=$gate";
	$opts .= " -c statement_timeout=" . int($timeout * 1000) if $how eq 'timeout';
	my $connstr = $node->connstr($db) . " application_name=$app options='$opts'";
	my $h = IPC::Run::start(
		[
			$node->installed_command('psql'), '-XAtq', '-v',
			'ON_ERROR_STOP=1', '-d', $connstr, '-c', $sql
		],
		'>', \$out, '2>', \$err);

	my $waiting = qq{
		SELECT a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		 WHERE a.application_name = '$app' AND l.locktype = 'advisory' AND NOT l.granted};
	my $pid = '';
	# the timeout needs no help: it strikes while the command is held at
	# its gate (or before it, on a machine slow enough), never after
	if ($how ne 'timeout')
	{
		$node->poll_query_until($db, "SELECT count(*) > 0 FROM ($waiting) w")
		  or die "the command never reached gate $gate: $err";
		$pid = $node->safe_psql($db, $waiting);
	}

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
		kill 'KILL', $pid;
		$h->finish;
		# the postmaster reinitializes: wait for it
		lg_wait_restarted($node, $db)
		  or die "server did not come back";
	}
	elsif ($how eq 'cancel')
	{
		$node->safe_psql($db, "SELECT pg_cancel_backend($pid)");
		$h->finish;
	}
	else
	{
		$h->finish;
	}
	gate_release($holder);
	return ($h->result == 0, $err);
}

# One case: interrupt, compare, rerun.  Returns the state now (= $after).
my %mid;
sub crash_case
{
	my ($how, $name, $sql, $before, $after, $gate, $timeout) = @_;
	my ($ok, $err) = interrupt($how, $sql, $gate, $timeout);
	my $state = lg_state($node, $db);
	my $label = "$how $name at gate $gate";
	$mid{$how}++ unless $ok;
	ok(!$ok, "$label: the interruption hit the command before it committed");
	is($state, $before, "$label: the state is the before state");
	if ($how eq 'timeout' || $how eq 'cancel')
	{
		like($err, qr/canceling statement due to (statement timeout|user request)/,
			"$label: the command fails with the cancel's error");
	}
	if ($state ne $after)
	{
		$node->safe_psql($db, $sql);
		is(lg_state($node, $db), $after, "$label: the rerun succeeds");
	}
	return;
}

# ---------------------------------------------------------------------------
# The states, how long each command takes and how many gates it passes
# ---------------------------------------------------------------------------
my $v1 = lg_state($node, $db);
my ($d_up, $g_up) = measure($up);
my $v2 = lg_state($node, $db);
my ($d_down, $g_down) = measure($down);
is(lg_state($node, $db), $v1, '1.0 -> 2.0 -> 1.0 gives back every row');
note sprintf("update %.2f s, %d gates; downgrade %.2f s, %d gates",
	$d_up, $g_up, $d_down, $g_down);

# ---------------------------------------------------------------------------
# SIGKILL of the whole server during the updates: 5 gates of each, spread
# from the first to the last
# ---------------------------------------------------------------------------
my $n = 5;
for my $i (0 .. 2 * $n - 1)
{
	my $k = int($i / 2);
	if (lg_extversion($node, $db) eq '1.0')
	{
		crash_case('server', '1.0 -> 2.0', $up, $v1, $v2, spread($g_up, $k, $n));
	}
	else
	{
		crash_case('server', '2.0 -> 1.0', $down, $v2, $v1, spread($g_down, $k, $n));
	}
}

# ---------------------------------------------------------------------------
# convert_legacy('legacy') into the empty 2.0 tables; a gate after each
# target's rows are written
# ---------------------------------------------------------------------------
$node->safe_psql($db, $down) if lg_extversion($node, $db) ne '1.0';
LgReliab::lg_make_legacy_source($node, $db);
$node->safe_psql($db,
	join('', map { "CREATE TRIGGER lg_insert_gate AFTER INSERT ON lane_google.$_ FOR EACH STATEMENT EXECUTE FUNCTION public.lg_insert_gate();\n" } @tables));
my $c0 = lg_state($node, $db);
my ($d_convert, $g_convert) = measure($convert);
my $c1 = lg_state($node, $db);
$node->safe_psql($db, $truncate);
is(lg_state($node, $db), $c0, 'emptied targets give back the before state');
note sprintf("convert_legacy %.2f s, %d gates", $d_convert, $g_convert);

for my $k (0 .. 3)
{
	crash_case('server', 'convert_legacy', $convert, $c0, $c1,
		spread($g_convert, $k, 4));
	$node->safe_psql($db, $truncate);
}

# ---------------------------------------------------------------------------
# SIGKILL of the backend alone; statement_timeout; pg_cancel_backend
# ---------------------------------------------------------------------------
for my $how ('backend', 'timeout', 'cancel')
{
	crash_case($how, 'convert_legacy', $convert, $c0, $c1,
		spread($g_convert, 1, 3), $d_convert + 2);
	$node->safe_psql($db, $truncate);
}
$node->safe_psql($db,
	join('', map { "DROP TRIGGER lg_insert_gate ON lane_google.$_;\n" } @tables));

# the updates, on the converted rows (legacy_id kept by convert_legacy)
$node->safe_psql($db, $convert);
my $w2 = lg_state($node, $db);
$node->safe_psql($db, $down);
my $w1 = lg_state($node, $db);
for my $how ('backend', 'timeout', 'cancel')
{
	crash_case($how, '1.0 -> 2.0', $up, $w1, $w2, spread($g_up, 1, 3), $d_up + 2);
	crash_case($how, '2.0 -> 1.0', $down, $w2, $w1, spread($g_down, 1, 3), $d_down + 2);
}

note sprintf("interrupted mid-command: %d server kills, %d backend kills, %d timeouts, %d cancels",
	map { $mid{$_} // 0 } qw(server backend timeout cancel));
is($mid{server} // 0, 14, 'every server kill hit a running command');
is($mid{backend} // 0, 3, 'every backend kill hit a running command');

is(lg_amcheck($node, $db), '', 'amcheck finds nothing wrong after the crashes');

$node->stop;
done_testing();
