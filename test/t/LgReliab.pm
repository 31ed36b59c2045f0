# test/t/LgReliab.pm: helpers shared by the reliability TAP tests
# (020_crash.pl, 021_concurrency.pl, 022_amcheck_dump.pl).
#
#   lg_seed($node, $db, $scale)        extension at 1.0 with generated rows
#   lg_make_legacy_source($node, $db)  copy the 1.0 tables into schema legacy
#                                      (convert_legacy's source), then update
#                                      the extension to 2.0 with empty tables
#   lg_state($node, $db)               everything a conversion may change, as
#                                      one comparable string: version, relations,
#                                      per-table row checksums, sequences,
#                                      the namespace and the quarantine
#   lg_amcheck($node, $db)             amcheck over every table (verify_heapam)
#                                      and btree index (bt_index_check with
#                                      heapallindexed), catalogs included: the
#                                      problems found, '' when none
#   lg_wait_restarted($node, $db)      after a backend was killed: wait until
#                                      the postmaster accepts connections again
package LgReliab;

use strict;
use warnings;

use Exporter 'import';
use IPC::Run;
use Time::HiRes;
use PostgreSQL::Test::Utils;

our @EXPORT = qw(lg_seed lg_make_legacy_source lg_state lg_tables
  lg_extversion lg_amcheck lg_wait_restarted);

our @TABLES = qw(users accounts account_users campaigns ad_groups ads
  analytics_snapshots approval_requests budget_alerts conversations
  conversation_messages);

sub lg_tables { return @TABLES; }

sub _seed_file
{
	my $dir = $ENV{TESTDIR} // '.';
	for my $f ("$dir/test/seed_legacy.sql", 'test/seed_legacy.sql')
	{
		return $f if -f $f;
	}
	die "test/seed_legacy.sql not found";
}

sub lg_seed
{
	my ($node, $db, $scale) = @_;
	$node->safe_psql($db, "CREATE EXTENSION lane_google VERSION '1.0'");
	$node->safe_psql(
		$db,
		slurp_file(_seed_file()),
		extra_params => [ '-v', "scale=$scale" ]);
	return;
}

# Schema "legacy": the 11 tables with the 1.0 layout and rows (identity,
# defaults and checks included, foreign keys not); the extension then goes to
# 2.0 and its tables are emptied, ready for convert_legacy('legacy').
sub lg_make_legacy_source
{
	my ($node, $db) = @_;
	my $sql = "CREATE SCHEMA legacy;\n";
	for my $t (@TABLES)
	{
		$sql .=
		  "CREATE TABLE legacy.$t (LIKE lane_google.$t INCLUDING ALL);\n"
		  . "INSERT INTO legacy.$t OVERRIDING SYSTEM VALUE SELECT * FROM lane_google.$t;\n"
		  . "SELECT setval(pg_get_serial_sequence('legacy.$t', 'id'), max(id)) FROM legacy.$t;\n";
	}
	$sql .= "ALTER EXTENSION lane_google UPDATE TO '2.0';\n";
	$sql .= "TRUNCATE " . join(', ', map { "lane_google.$_" } @TABLES) . ";\n";
	$sql .= "ANALYZE;\n";
	$node->safe_psql($db, $sql);
	return;
}

sub lg_extversion
{
	my ($node, $db) = @_;
	return $node->safe_psql($db,
		"SELECT extversion FROM pg_extension WHERE extname = 'lane_google'");
}

# One string describing all a conversion can change.  Row checksums are
# order-independent (rows sorted by their text).
sub lg_state
{
	my ($node, $db, $schemas) = @_;
	$schemas //= [ 'lane_google', 'legacy' ];
	my $in = join(', ', map { "'$_'" } @$schemas);
	my $rels = $node->safe_psql(
		$db, qq{
		SELECT n.nspname || '.' || c.relname || ':' || c.relkind::text
		  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE n.nspname IN ($in) AND c.relkind IN ('r', 'S', 'i', 'p')
		 ORDER BY 1});
	my @parts = ("version " . lg_extversion($node, $db), $rels);
	my $sql = '';
	for my $line (split /\n/, $rels)
	{
		my ($qname, $kind) = $line =~ /^(.*):(.)$/;
		my ($s, $t) = split /\./, $qname, 2;
		if ($kind eq 'r' || $kind eq 'p')
		{
			$sql .=
			  "SELECT '$qname', count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM \"$s\".\"$t\" AS x;\n";
		}
		elsif ($kind eq 'S')
		{
			# the next value it gives, however it came to be there
			$sql .=
			  "SELECT '$qname', CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM \"$s\".\"$t\";\n";
		}
	}
	push @parts, $node->safe_psql($db, $sql) if $sql ne '';
	return join("\n", @parts);
}

sub lg_amcheck
{
	my ($node, $db) = @_;
	$node->safe_psql($db, "CREATE EXTENSION IF NOT EXISTS amcheck");
	my ($ret, $heap, $err1) = $node->psql(
		$db, q{
		SELECT c.oid::regclass || ': block ' || v.blkno || ' offset '
		       || coalesce(v.offnum, 0) || ': ' || v.msg
		  FROM pg_class c,
		       LATERAL verify_heapam(c.oid, check_toast => true) AS v
		 WHERE c.relkind IN ('r', 'm', 't') AND c.relpersistence <> 't'});
	# bt_index_check() raises an error on the first problem of an index
	my ($ret2, $indexes, $err2) = $node->psql(
		$db, q{
		SELECT count(bt_index_check(c.oid, true))
		  FROM pg_index i
		  JOIN pg_class c ON c.oid = i.indexrelid
		  JOIN pg_am am ON am.oid = c.relam
		 WHERE am.amname = 'btree' AND c.relpersistence <> 't'
		   AND i.indisvalid AND i.indisready});
	my $problems = join("\n", grep { $_ ne '' } $heap, $err1, $err2);
	$problems .= "no index checked" if $problems eq '' && !($indexes > 0);
	return $problems;
}

# Each attempt is one psql -c: poll_query_until() writes its query to psql's
# standard input, and a psql refused at once during the reinitialization
# exits before that write, which IPC::Run then dies of (a broken pipe).
sub lg_wait_restarted
{
	my ($node, $db) = @_;

	for (1 .. 10 * $PostgreSQL::Test::Utils::timeout_default)
	{
		my ($stdout, $stderr) = ('', '');
		IPC::Run::run([ $node->installed_command('psql'), '-XAtq', '-d', $node->connstr($db),
			'-c', 'SELECT true' ], '<', \undef, '>', \$stdout, '2>', \$stderr);
		return 1 if $stdout =~ /^t$/m;
		Time::HiRes::usleep(100_000);
	}
	return 0;
}

1;
