# test/t/081_tutorial.pl: doc/tutorial.md's SQL runs and shows what the
# tutorial says.
#
# The practice database of the tutorial's step 0 (test/gen_legacy.sh --scale
# 0.01 --target app --layout mixed, the extension at its default version);
# then every ```sql block preceded by a line <!-- test --> runs, in the order
# of the file, each in its own psql session.  Where a plain ``` block follows
# it directly, psql's output (aligned, with errors as psql prints them, NOTICEs
# off) must equal it, but for trailing blanks, empty lines and "(N rows)"
# lines; a block without one must run without an error.
use strict;
use warnings FATAL => 'all';

use FindBin;
use File::Spec;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = File::Spec->catdir($FindBin::RealBin, '..', '..');
my $tutorial = File::Spec->catfile($root, 'doc', 'tutorial.md');
my $text = do { local (@ARGV, $/) = ($tutorial); <> };

# the marked blocks, each with the output block that follows it, if any
my @blocks;
while ($text =~ /^<!-- test -->\n```sql\n(.*?)^```\n(?:```\n(.*?)^```\n)?/msg)
{
	push @blocks, { sql => $1, want => $2, line => 1 + (substr($text, 0, $-[0]) =~ tr/\n//) };
}
ok(scalar(@blocks) >= 10, 'doc/tutorial.md has its runnable SQL blocks marked');

my $node = PostgreSQL::Test::Cluster->new('tutorial');
$node->init;
$node->append_conf('postgresql.conf', "fsync = off\n");
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE app');
{
	local $ENV{PGHOST} = $node->host;
	local $ENV{PGPORT} = $node->port;
	local $ENV{PGDATABASE} = 'app';
	my ($out, $err);
	my $ok = IPC::Run::run(
		[ 'bash', File::Spec->catfile($root, 'test', 'gen_legacy.sh'),
			qw(--scale 0.01 --target app --layout mixed) ],
		'>', \$out, '2>', \$err);
	ok($ok, 'step 0: the practice database is generated') or diag($err);
}
$node->safe_psql('app', 'CREATE EXTENSION lane_google');

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

for my $b (@blocks)
{
	my ($stdout, $stderr);
	$node->psql(
		'app', "SET client_min_messages = warning;\n" . $b->{sql},
		stdout => \$stdout,
		stderr => \$stderr,
		extra_params => [ '-P', 'format=aligned', '-P', 'tuples_only=off' ]);
	my $got = normalize(join "\n", grep { defined && $_ ne '' } $stdout, $stderr);
	my $first = (split /\n/, $b->{sql})[0];
	if (defined $b->{want})
	{
		is($got, normalize($b->{want}), "tutorial.md line $b->{line}: $first shows what the tutorial says");
	}
	else
	{
		is(normalize($stderr), "\n", "tutorial.md line $b->{line}: $first runs without an error");
	}
}

done_testing();
