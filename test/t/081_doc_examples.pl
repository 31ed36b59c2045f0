# test/t/081_doc_examples.pl: the SQL of README.md's quick start, doc/tutorial.md,
# doc/online-runbook.md and doc/reference.md runs and shows what the
# documents say.
#
# The tutorial: the practice database of its step 0 (test/gen_legacy.sh
# --scale 0.01 --target app --layout mixed, the extension at its default
# version).  The runbook: the extension at 1.0 with test/gen_legacy.sh's rows
# at scale 0.01 and a role app.  In each, every ```sql block preceded by a
# line <!-- test --> runs, in the order of the file, each in its own psql
# session.  Where a plain ``` block follows it directly, psql's output
# (aligned, errors as psql prints them, client_min_messages = warning) must
# equal it, but for trailing blanks, empty lines and "(N rows)" lines; a
# block without one must run without an error.
#
# The reference: on a copy of the tutorial's database as the tutorial leaves
# it (converted, the legacy tables beside).  Its examples not run here, and
# why: set_legacy_namespace() (its place is before the first conversion:
# sql/convert.sql and sql/uuid_v7.sql run it there),
# online_backfill() (at 1.x, mid-conversion: the runbook's blocks run it),
# the postgres_fdw source (another server), distribute() (a Citus
# coordinator with workers: test/t/090_citus.pl runs it).
use strict;
use warnings FATAL => 'all';

use FindBin;
use File::Spec;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = File::Spec->catdir($FindBin::RealBin, '..', '..');

sub marked_blocks
{
	my ($doc) = @_;
	my $path = $doc eq 'README.md' ? File::Spec->catfile($root, $doc) : File::Spec->catfile($root, 'doc', $doc);
	my $text = do { local (@ARGV, $/) = ($path); <> };
	my @blocks;
	while ($text =~ /^<!-- test -->\n```sql\n(.*?)^```\n(?:```\n(.*?)^```\n)?/msg)
	{
		push @blocks,
		  { sql => $1, want => $2, line => 1 + (substr($text, 0, $-[0]) =~ tr/\n//) };
	}
	return @blocks;
}

my $node = PostgreSQL::Test::Cluster->new('examples');
$node->init;
$node->append_conf('postgresql.conf', "fsync = off\n");
$node->start;

sub gen
{
	my ($db, @args) = @_;
	local $ENV{PGHOST} = $node->host;
	local $ENV{PGPORT} = $node->port;
	local $ENV{PGDATABASE} = $db;
	my ($out, $err);
	my $ok = IPC::Run::run([ 'bash', File::Spec->catfile($root, 'test', 'gen_legacy.sh'), @args ],
		'>', \$out, '2>', \$err);
	ok($ok, "gen_legacy.sh @args into $db") or diag($err);
}

sub normalize
{
	my ($s) = @_;
	my @out;
	for my $line (split /\n/, $s // '')
	{
		$line =~ s/^psql:[^:]*:\d+: //;
		$line =~ s/\s+$//;
		next if $line eq '' || $line =~ /^\(\d+ rows?\)$/;
		push @out, $line;
	}
	return join("\n", @out) . "\n";
}

sub run_blocks
{
	my ($doc, $db) = @_;
	my @blocks = marked_blocks($doc);
	ok(scalar(@blocks) >= ($doc eq 'README.md' ? 1 : 10), "$doc has its runnable SQL blocks marked");
	for my $b (@blocks)
	{
		my ($stdout, $stderr);
		$node->psql(
			$db, "SET client_min_messages = warning;\n" . $b->{sql},
			stdout => \$stdout,
			stderr => \$stderr,
			extra_params => [ '-P', 'format=aligned', '-P', 'tuples_only=off' ]);
		my $got = normalize(join "\n", grep { defined && $_ ne '' } $stdout, $stderr);
		my $first = (split /\n/, $b->{sql})[0];
		if (defined $b->{want})
		{
			is($got, normalize($b->{want}), "$doc line $b->{line}: $first shows what $doc says");
		}
		else
		{
			unlike($stderr // '', qr/^(?:psql:[^:]*:\d+: )?(?:ERROR|FATAL):/m,
				"$doc line $b->{line}: $first runs without an error");
		}
	}
}

# the README's quick start, on a fresh copy of the application's layout
$node->safe_psql('postgres', 'CREATE DATABASE quick');
gen('quick', qw(--scale 0.01 --target app --layout mixed));
run_blocks('README.md', 'quick');

# the tutorial
$node->safe_psql('postgres', 'CREATE DATABASE app');
gen('app', qw(--scale 0.01 --target app --layout mixed));
$node->safe_psql('app', 'CREATE EXTENSION lane_google');
run_blocks('tutorial.md', 'app');

# the reference, on the tutorial's converted database
$node->safe_psql('postgres', 'CREATE DATABASE ref TEMPLATE app');
run_blocks('reference.md', 'ref');

# the runbook
$node->safe_psql('postgres', 'CREATE DATABASE online');
$node->safe_psql('online', "CREATE EXTENSION lane_google VERSION '1.0'");
gen('online', qw(--scale 0.01));
$node->safe_psql('postgres', 'CREATE ROLE app');
run_blocks('online-runbook.md', 'online');

done_testing();
