# test/t/LgCitus.pm: a Citus cluster for the Citus suites (090_citus.pl,
# 091_citus_validate.pl): a coordinator and two workers on Unix sockets,
# each with Citus preloaded and created, the workers registered by socket
# directory; kill_while_waiting(), a worker killed while the coordinator's
# work waits there.  The suite is skipped (skip_all) where Citus cannot run: a
# PostgreSQL major Citus 13 does not support, or no Citus installed for the
# server under test (run_tests.sh builds it for PostgreSQL 15).
package LgCitus;

use strict;
use warnings FATAL => 'all';

use Exporter 'import';
use IPC::Run;
use PostgreSQL::Test::Cluster;
use Test::More;

use LgReliab;

our @EXPORT = qw(lg_citus_cluster lg_citus_start_node error_of error_of_db kill_while_waiting);

# A node with Citus, started; restart_after_crash so that a kill -9 of a
# backend restarts it (090's worker kill)
sub lg_citus_start_node
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
restart_after_crash = on
});
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION citus');
	return;
}

# (coordinator, worker1, worker2), started and registered; one assertion
sub lg_citus_cluster
{
	my $coord = PostgreSQL::Test::Cluster->new('coordinator');
	my ($major) = $coord->config_data('--version') =~ /PostgreSQL (\d+)/;
	my $sharedir = $coord->config_data('--sharedir');
	plan skip_all => "Citus 13 does not support PostgreSQL $major"
	  if $major < 15 || $major > 17;
	plan skip_all =>
	  "Citus is not installed for this server ($sharedir/extension/citus.control missing; run_tests.sh builds it for PostgreSQL 15)"
	  unless -f "$sharedir/extension/citus.control";

	my @nodes = ($coord, map { PostgreSQL::Test::Cluster->new("worker$_") } 1 .. 2);
	lg_citus_start_node($_) for @nodes;
	$coord->safe_psql('postgres',
		    "SELECT citus_set_coordinator_host('"
		  . $coord->host . "', "
		  . $coord->port . ");\n"
		  . join('',
			map { "SELECT citus_add_node('" . $_->host . "', " . $_->port . ");\n" }
			  @nodes[ 1, 2 ]));
	is($coord->safe_psql('postgres', 'SELECT count(*) FROM pg_dist_node WHERE groupid <> 0'),
		'2', 'two workers registered by socket directory');
	return @nodes;
}

# An error of a statement: its SQLSTATE and message (or "no error: ...")
sub error_of
{
	my ($node, $sql) = @_;
	return error_of_db($node, 'postgres', $sql);
}

sub error_of_db
{
	my ($node, $db, $sql) = @_;
	my ($rc, $out, $err) =
	  $node->psql($db, $sql, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return $rc == 0 ? "no error: $out" : $err;
}

# kill -9 of a worker's backend while the coordinator's SQL waits there for
# a lock: a session on WORKER runs LOCK_SQL (and keeps its transaction), SQL
# starts on COORD, WAITING (a query on WORKER giving the waiting backend's
# pid) is polled until it finds it (one assertion, named by WHAT), CHECKS
# runs (the assertions while it waits), the backend is killed; then SQL must
# fail and WORKER restart (two assertions).  Returns SQL's stderr.
sub kill_while_waiting
{
	my (%a) = @_;
	my ($coord, $worker) = @a{qw(coord worker)};
	my $blocker = $worker->background_psql('postgres');
	$blocker->query_safe($a{lock_sql});
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ $coord->installed_command('psql'), '-XAtq', '-d', $coord->connstr('postgres'),
		  '-c', $a{sql} ],
		'>', \$out, '2>', \$err);
	ok($worker->poll_query_until('postgres', "SELECT count(*) > 0 FROM ($a{waiting}) w"),
		"$a{what} waits on " . $worker->name . ' (pg_locks)');
	$a{checks}->() if $a{checks};
	my $victim = $worker->safe_psql('postgres', $a{waiting});
	kill 'KILL', $victim;
	$h->finish;
	{
		local $SIG{PIPE} = 'IGNORE';
		eval { $blocker->quit; };
	}
	like($err, qr/ERROR: /, "$a{what} fails when " . $worker->name . ' goes down') or diag($out);
	ok(LgReliab::lg_wait_restarted($worker, 'postgres'), $worker->name . ' restarted after the kill');
	return $err;
}

1;
