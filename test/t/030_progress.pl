# A second session sees how far a running conversion got: each table being
# converted shows in pg_stat_progress_copy (relid = the legacy table read,
# tuples_processed, bytes_processed of bytes_total).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('progress');
$node->init;
$node->append_conf('postgresql.conf', "fsync = off\nshared_buffers = 256MB\n");
$node->start;

$node->safe_psql('postgres', q{CREATE EXTENSION lane_google VERSION '1.0'});

# enough rows that the update runs for a few seconds
local $ENV{PGHOST} = $node->host;
local $ENV{PGPORT} = $node->port;
local $ENV{PGDATABASE} = 'postgres';
my ($out, $err);
my $ok = IPC::Run::run([ 'bash', 'test/gen_legacy.sh', '--scale', '0.2' ],
	'>', \$out, '2>', \$err);
ok($ok, 'legacy data generated') or diag($err);

# a copy of the 1.0 tables, for convert_legacy below
$node->safe_psql('postgres', join('', 'CREATE SCHEMA src_tbl;',
	map { "CREATE TABLE src_tbl.$_ AS SELECT * FROM lane_google.$_;" }
	  qw(users accounts account_users campaigns ad_groups ads analytics_snapshots
	  approval_requests budget_alerts conversations conversation_messages)));

my ($stdin, $stdout, $stderr) = ('', '', '');
my $h = IPC::Run::start(
	[ 'psql', '-X', '-q', '-d', $node->connstr('postgres') ],
	'<' => \$stdin, '>' => \$stdout, '2>' => \$stderr);
$stdin .= "ALTER EXTENSION lane_google UPDATE TO '2.0';\nSELECT 'done';\n";

# poll until a conversion shows with rows processed
my (%tables, @first);
my $max_seen = 0;
my $deadline = time() + 120;
while (time() < $deadline)
{
	my $row = $node->safe_psql('postgres', q{
		SELECT c.relname, n.nspname, p.command, p.type, p.tuples_processed, p.bytes_total
		  FROM pg_stat_progress_copy p
		  JOIN pg_class c ON c.oid = p.relid
		  JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE p.pid <> pg_backend_pid()});
	if ($row ne '')
	{
		my @f = split /\|/, $row;
		@first = @f unless @first;
		$tables{ $f[0] } = 1;
		$max_seen = $f[4] if $f[4] > $max_seen;
	}
	$h->pump_nb;
	last if $stdout =~ /done/;
	usleep(20_000);
}
$h->finish;

ok(@first, 'a second session saw the conversion in pg_stat_progress_copy: '
	  . join(', ', sort keys %tables));
is($first[1], 'lane_google', 'the table in progress is a legacy table of the extension');
is($first[2], 'COPY FROM', 'shown as a COPY FROM');
is($first[3], 'CALLBACK', 'of type CALLBACK');
ok($first[5] > 0, 'bytes_total is the size of the table being read');
ok($max_seen > 0, "and its rows processed grow ($max_seen seen)");
like($stderr, qr/NOTICE:  lane_google: ads: read \d+, converted \d+, quarantined 0/,
	'the update reported each table as a NOTICE');
is($node->safe_psql('postgres', q{SELECT extversion FROM pg_extension WHERE extname = 'lane_google'}),
	'2.0', 'the update finished');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_progress_copy}), '0',
	'no progress row is left behind');

# ---------------------------------------------------------------------------
# convert_legacy() from views (read through the executor): progress shows
# for the view.  The view of ads waits, at its 5001st row (in heap order, as
# its scan reads them), for an advisory lock this test holds: 5000 rows
# converted, so the progress row has been updated 4 times (every 1024 rows),
# and the conversion is provably in the middle of that table when the second
# session looks.
# ---------------------------------------------------------------------------
my @tables = qw(users accounts account_users campaigns ad_groups ads analytics_snapshots
  approval_requests budget_alerts conversations conversation_messages);
# (serial scans from the first block: a parallel or synchronized one starts
# elsewhere)
my $gate_id = $node->safe_psql('postgres',
	'SET max_parallel_workers_per_gather = 0; SET synchronize_seqscans = off; SELECT id FROM src_tbl.ads OFFSET 5000 LIMIT 1');
$node->safe_psql('postgres', join('',
	'TRUNCATE ', join(', ', map { "lane_google.$_" } @tables), ';',
	'CREATE SCHEMA src;',
	qq{CREATE FUNCTION public.lg_gate_row(id bigint) RETURNS boolean LANGUAGE plpgsql AS
	   \$\$ BEGIN IF id = $gate_id THEN PERFORM pg_advisory_xact_lock_shared(4243); END IF; RETURN true; END \$\$;},
	map { $_ eq 'ads'
		  ? "CREATE VIEW src.ads AS SELECT * FROM src_tbl.ads WHERE public.lg_gate_row(id);"
		  : "CREATE VIEW src.$_ AS SELECT * FROM src_tbl.$_;" } @tables));
my $holder = $node->background_psql('postgres');
$holder->query_safe('SELECT pg_advisory_lock(4243)');
($stdin, $stdout, $stderr) = ('', '', '');
$h = IPC::Run::start(
	[ 'psql', '-X', '-q', '-At', '-d', $node->connstr('postgres') ],
	'<' => \$stdin, '>' => \$stdout, '2>' => \$stderr);
$stdin .= "SET synchronize_seqscans = off;\nSELECT sum(rows_converted) FROM lane_google.convert_legacy('src');\n";
$h->pump_nb;
$node->poll_query_until('postgres', q{
	SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted})
  or die 'the conversion never reached its gate';
my $row = $node->safe_psql('postgres', q{
	SELECT p.relid::regclass, p.command, p.tuples_processed, p.bytes_total
	  FROM pg_stat_progress_copy p WHERE p.pid <> pg_backend_pid()});
is($row, 'src.ads|COPY FROM|4096|0',
	'a view being converted shows in pg_stat_progress_copy: its rows processed, its size unknown (0)');
$holder->query_safe('SELECT pg_advisory_unlock(4243)');
$holder->quit;
$stdin .= "\\q\n";
$h->finish;
is($stdout, $node->safe_psql('postgres', 'SELECT ' . join(' + ', map { "(SELECT count(*) FROM src_tbl.$_)" } @tables)) . "\n",
	'the conversion from views then completed, every row converted');

$node->stop;
done_testing();
