# test/t/LgCitus.pm: a Citus cluster for the Citus suites (090_citus.pl,
# 091_citus_validate.pl): a coordinator and two workers on Unix sockets,
# each with Citus preloaded and created, the workers registered by socket
# directory.  The suite is skipped (skip_all) where Citus cannot run: a
# PostgreSQL major Citus 13 does not support, or no Citus installed for the
# server under test (run_tests.sh builds it for PostgreSQL 15).
package LgCitus;

use strict;
use warnings FATAL => 'all';

use Exporter 'import';
use PostgreSQL::Test::Cluster;
use Test::More;

our @EXPORT = qw(lg_citus_cluster lg_citus_start_node error_of error_of_db);

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

1;
