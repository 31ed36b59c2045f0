# test/t/080_docs.pl: the documentation says what the catalog says.
#
# doc/reference.md documents each function as
#   ### lane_google.name(identity arguments) -> result     (a function)
#   ### CALL lane_google.name(identity arguments)          (a procedure)
#   Versions: 1.0, 1.1, 2.0, 2.1
#   Properties: STABLE, STRICT, PARALLEL SAFE; EXECUTE: PUBLIC
#   Properties (1.0, 2.0): ...                 (for those versions only)
# (a line may end in " \", Markdown's hard line break)
# and each setting as
#   ### Setting lane_google.name
#   Default: `64MB`
#   Range: 1024 to 2147483647 kB
# At each version the scripts reach (a fresh CREATE EXTENSION ... VERSION),
# every function of the extension must have its entry, with the arguments as
# pg_get_function_identity_arguments() prints them, the result as
# pg_get_function_result() does, the version in its Versions line and its
# volatility, strictness, parallel safety and PUBLIC's EXECUTE as pg_proc
# has them; every entry must name a function that exists at each version it
# lists.  Every lane_google.* setting in pg_settings is documented with its
# default (SHOW) and range, and no other setting is.  Besides: every SQLSTATE
# that src/*.c raises has a section in doc/troubleshooting.md; the README
# names every function meant for users, has no line over 120 characters, and
# every relative link of the README, CHANGELOG.md and doc/*.md leads to a
# file and, with a #fragment, to a heading there.
use strict;
use warnings FATAL => 'all';

use FindBin;
use File::Spec;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = File::Spec->catdir($FindBin::RealBin, '..', '..');
# every version the extension's scripts reach (1.0, 1.1, 2.0, 2.1, and any
# added later: its functions need their entries too)
my %seen_version;
for (glob File::Spec->catfile($root, 'lane_google--*.sql'))
{
	my ($names) = m{lane_google--(.*)\.sql$};
	$seen_version{$_} = 1 for split /--/, $names;
}
my @versions = sort keys %seen_version;
ok(scalar(@versions) >= 4, "the scripts reach versions @versions");

sub slurp_doc
{
	my ($rel) = @_;
	my $path = File::Spec->catfile($root, split m{/}, $rel);
	open my $fh, '<', $path or die "cannot read $path: $!";
	local $/;
	my $text = <$fh>;
	close $fh;
	return $text;
}

# --- what doc/reference.md says ------------------------------------------------

my $reference = slurp_doc('doc/reference.md');
my (%doc_fn, %doc_guc, @order);
{
	my $cur;
	for my $line (split /\n/, $reference)
	{
		$line =~ s/ \\$//;    # a hard line break
		if ($line =~ /^### (CALL )?lane_google\.(\w+)\((.*?)\)(?: -> (.+))?$/)
		{
			my ($call, $name, $args, $result) = ($1, $2, $3, $4);
			my $key = "$name($args)";
			$cur = {
				heading => $line,
				kind => $call ? 'p' : 'f',
				result => $result // '',
				versions => undef,
				props => {}
			};
			ok(!exists $doc_fn{$key}, "reference.md documents $key once");
			$doc_fn{$key} = $cur;
			push @order, $key;
		}
		elsif ($line =~ /^### Setting (lane_google\.\w+)$/)
		{
			$cur = { setting => $1 };
			$doc_guc{$1} = $cur;
		}
		elsif ($line =~ /^#/)
		{
			undef $cur;
		}
		elsif ($cur && !$cur->{setting} && $line =~ /^Versions: (.*)$/)
		{
			$cur->{versions} = [ split /,\s*/, $1 ];
		}
		elsif ($cur && !$cur->{setting} && $line =~ /^Properties(?: \(([^)]*)\))?: (.*)$/)
		{
			my @for = defined $1 ? split(/,\s*/, $1) : ('*');
			$cur->{props}{$_} = $2 for @for;
		}
		elsif ($cur && $cur->{setting} && $line =~ /^Default: `([^`]*)`$/)
		{
			$cur->{default} = $1;
		}
		elsif ($cur && $cur->{setting} && $line =~ /^Range: (.*)$/)
		{
			$cur->{range} = $1;
		}
	}
}
ok(scalar(@order) > 0, 'reference.md has function entries');
for my $key (@order)
{
	ok(defined $doc_fn{$key}{versions}, "reference.md: $key has a Versions line");
	$doc_fn{$key}{versions} //= [];
}

# --- what the catalog says, at every version ----------------------------------

my $node = PostgreSQL::Test::Cluster->new('docs');
$node->init;
$node->append_conf('postgresql.conf', "fsync = off\n");
$node->start;

my %vol = (i => 'IMMUTABLE', s => 'STABLE', v => 'VOLATILE');
my %par = (s => 'PARALLEL SAFE', r => 'PARALLEL RESTRICTED', u => 'PARALLEL UNSAFE');
my %cat;    # version -> key -> { result, kind, props }
for my $v (@versions)
{
	(my $db = "v$v") =~ s/\./_/;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, "CREATE EXTENSION lane_google VERSION '$v'");
	my $rows = $node->safe_psql(
		$db, q{
SELECT p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid),
       coalesce(pg_catalog.pg_get_function_result(p.oid), ''), p.prokind,
       p.provolatile, p.proisstrict, p.proparallel,
       EXISTS (SELECT 1 FROM pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
                WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid
   AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.deptype = 'e'
  JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'lane_google'
 ORDER BY 1, 2});
	for my $row (split /\n/, $rows)
	{
		my ($name, $args, $result, $kind, $v_, $strict, $p, $public) = split /\|/, $row, -1;
		$cat{$v}{"$name($args)"} = {
			result => $result,
			kind => $kind,
			props => sprintf('%s, %s, %s; EXECUTE: %s',
				$vol{$v_}, $strict eq 't' ? 'STRICT' : 'CALLED ON NULL INPUT',
				$par{$p}, $public eq 't' ? 'PUBLIC' : 'owner')
		};
	}
	ok(scalar(keys %{ $cat{$v} }) > 0, "version $v: the extension has functions");
}

# every function of every version: documented, with its signature and properties
for my $v (@versions)
{
	for my $key (sort keys %{ $cat{$v} })
	{
		my $c = $cat{$v}{$key};
		my $d = $doc_fn{$key};
		if (!$d)
		{
			fail("version $v: lane_google.$key is documented in doc/reference.md");
			diag("add a heading: ### "
				  . ($c->{kind} eq 'p' ? "CALL lane_google.$key" : "lane_google.$key -> $c->{result}"));
			next;
		}
		ok((grep { $_ eq $v } @{ $d->{versions} }),
			"version $v: the Versions line of lane_google.$key lists $v");
		is($d->{kind} eq 'p' ? '' : $d->{result}, $c->{kind} eq 'p' ? '' : $c->{result},
			"version $v: lane_google.$key returns what reference.md says");
		is($d->{kind}, $c->{kind} eq 'p' ? 'p' : 'f',
			"version $v: lane_google.$key is documented as a " . ($c->{kind} eq 'p' ? 'procedure' : 'function'));
		is($d->{props}{$v} // $d->{props}{'*'} // '(none)', $c->{props},
			"version $v: the properties of lane_google.$key");
	}
}

# every documented function exists at every version it lists, as documented
for my $key (@order)
{
	for my $v (@{ $doc_fn{$key}{versions} })
	{
		ok(exists $cat{$v}{$key}, "reference.md: lane_google.$key exists at version $v");
	}
	my @listed = grep { my $x = $_; grep { $_ eq $x } @versions } @{ $doc_fn{$key}{versions} };
	is(scalar(@listed), scalar(@{ $doc_fn{$key}{versions} }),
		"reference.md: the Versions line of lane_google.$key names known versions only");
}

# --- settings -----------------------------------------------------------------

my $gucs = $node->safe_psql(
	'v2_1', q{LOAD 'lane_google';
SELECT name, min_val, max_val, coalesce(unit, ''), pg_catalog.current_setting(name)
  FROM pg_catalog.pg_settings WHERE name LIKE 'lane\_google.%' ORDER BY 1});
my %seen_guc;
for my $row (split /\n/, $gucs)
{
	my ($name, $min, $max, $unit, $show) = split /\|/, $row, -1;
	$seen_guc{$name} = 1;
	my $d = $doc_guc{$name};
	ok($d, "setting $name is documented in doc/reference.md") or next;
	is($d->{default} // '(none)', $show, "setting $name: its documented default is what SHOW gives");
	is($d->{range} // '(none)', "$min to $max" . ($unit ne '' ? " $unit" : ''),
		"setting $name: its documented range");
}
ok(scalar(keys %seen_guc) >= 3, 'pg_settings lists the lane_google settings');
ok($seen_guc{$_}, "documented setting $_ exists in pg_settings") for sort keys %doc_guc;

# --- troubleshooting: every SQLSTATE the C code raises ---------------------------

my $includedir = `$ENV{PG_CONFIG} --includedir-server` if $ENV{PG_CONFIG};
$includedir = `pg_config --includedir-server` unless $includedir;
chomp $includedir;
my %sqlstate;
{
	open my $fh, '<', "$includedir/utils/errcodes.h" or die "errcodes.h: $!";
	while (<$fh>)
	{
		next unless /^#define (ERRCODE_\w+)\s+MAKE_SQLSTATE\((.*)\)/;
		my ($name, $chars) = ($1, $2);
		$sqlstate{$name} = join '', $chars =~ /'(.)'/g;
	}
	close $fh;
}
my %raised;
for my $c (glob File::Spec->catfile($root, 'src', '*.c'))
{
	open my $fh, '<', $c or die "$c: $!";
	while (<$fh>)
	{
		$raised{$1} = 1 while /errcode\((ERRCODE_\w+)\)/g;
	}
	close $fh;
}
ok(scalar(keys %raised) > 10, 'src/*.c raises errors with errcode()');
my $trouble = slurp_doc('doc/troubleshooting.md');
for my $code (sort keys %raised)
{
	my $state = $sqlstate{$code};
	ok(defined $state && $trouble =~ /^## \Q$state\E /m,
		"doc/troubleshooting.md has a section for $code (" . ($state // '?') . ")");
}

# --- README: an index of every function, short lines ------------------------------

my $readme = slurp_doc('README.md');
my %user_fn;
for my $v (@versions)
{
	for my $key (keys %{ $cat{$v} })
	{
		my ($name) = $key =~ /^(\w+)\(/;
		next if $name =~ /^_/ || $cat{$v}{$key}{result} eq 'trigger';
		$user_fn{$name} = 1;
	}
}
like($readme, qr/\b\Q$_\E\(/, "README names $_()") for sort keys %user_fn;
my @long = grep { length($_) > 120 } split /\n/, $readme;
is(scalar(@long), 0, 'README has no line over 120 characters')
  or diag(join "\n", @long);
like($readme, qr/^bash test\/demo\.sh /m, 'README gives the demo command');
like($readme, qr/^bash test\/run_tests\.sh /m, 'README gives the test command');
like(slurp_doc('.ci/run'), qr/bash test\/run_tests\.sh/, 'CI runs the README\'s test command');

# --- links between the documents -----------------------------------------------

sub anchors
{
	my ($text) = @_;
	my %a;
	my $in_code = 0;
	for my $line (split /\n/, $text)
	{
		$in_code = !$in_code if $line =~ /^```/;
		next if $in_code || $line !~ /^#+ (.*)$/;
		my $slug = lc $1;
		$slug =~ s/[^a-z0-9 _-]//g;
		$slug =~ s/ /-/g;
		$a{$slug} = 1;
	}
	return \%a;
}
my @docs = ('README.md', 'CHANGELOG.md',
	map { "doc/" . (File::Spec->splitpath($_))[2] } glob File::Spec->catfile($root, 'doc', '*.md'));
for my $doc (@docs)
{
	my $text = slurp_doc($doc);
	my ($dir) = $doc =~ m{^(.*/)?};
	$dir //= '';
	while ($text =~ /\]\(([^)\s]+)\)/g)
	{
		my $link = $1;
		next if $link =~ /^[a-z]+:/;
		my ($file, $frag) = split /#/, $link, 2;
		my $target = $file eq '' ? $doc : File::Spec->canonpath("$dir$file");
		1 while $target =~ s{[^/]+/\.\./}{};
		my $path = File::Spec->catfile($root, split m{/}, $target);
		ok(-e $path, "$doc: the link to $link leads to a file") or next;
		next unless defined $frag && $target =~ /\.md$/;
		ok(anchors(slurp_doc($target))->{$frag}, "$doc: the link to $link leads to a heading");
	}
}

done_testing();
