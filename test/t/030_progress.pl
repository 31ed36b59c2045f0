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

$node->stop;
done_testing();
