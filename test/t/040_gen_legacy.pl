# test/t/040_gen_legacy.pl: the legacy data generator (test/gen_legacy.sh)
# makes what the conversion tests and the benchmark rely on.
#
# Row counts in the seed's proportions; every foreign key sound (the load
# skips the per-row triggers, so soundness is checked here, for all 14
# foreign keys); the same rows for the same scale whatever the number of
# sessions; identity sequences past the largest id; ids with gaps; NULLs in
# the nullable keys; --orphans N gives exactly N orphans per foreign key; the
# application's mixed layout has the key kinds of schema-spec.md and sound
# text keys.
use strict;
use warnings;

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $gen = "$FindBin::RealBin/../gen_legacy.sh";
my @tables = qw(users accounts account_users campaigns ad_groups ads
  analytics_snapshots approval_requests budget_alerts conversations
  conversation_messages);
my %base = (
	users => 10000, accounts => 2000, account_users => 20000,
	campaigns => 100000, ad_groups => 300000, ads => 1000000,
	analytics_snapshots => 2000000, approval_requests => 50000,
	budget_alerts => 50000, conversations => 50000,
	conversation_messages => 500000);
# child, column, parent (campaigns' creator is created_by in the mixed layout)
my @fks = (
	[qw(account_users account_id accounts)], [qw(account_users user_id users)],
	[qw(account_users invited_by users)],    [qw(campaigns account_id accounts)],
	[qw(campaigns created_by_id users)],     [qw(ad_groups campaign_id campaigns)],
	[qw(ads ad_group_id ad_groups)], [qw(analytics_snapshots campaign_id campaigns)],
	[qw(approval_requests campaign_id campaigns)],
	[qw(approval_requests requester_id users)],
	[qw(approval_requests approved_by users)],
	[qw(budget_alerts campaign_id campaigns)], [qw(conversations user_id users)],
	[qw(conversation_messages conversation_id conversations)]);

my $node = PostgreSQL::Test::Cluster->new('gen_legacy');
$node->init;
$node->start;
$node->safe_psql('postgres', $_) foreach ('CREATE DATABASE ext', 'CREATE DATABASE ext2', 'CREATE DATABASE app');
$node->safe_psql($_, "CREATE EXTENSION lane_google VERSION '1.0'") foreach ('ext', 'ext2');

sub gen
{
	my ($db, @args) = @_;
	local $ENV{PGHOST} = $node->host;
	local $ENV{PGPORT} = $node->port;
	local $ENV{PGDATABASE} = $db;
	my ($stdout, $stderr);
	my $ok = IPC::Run::run([ 'bash', $gen, @args ], '>', \$stdout, '2>', \$stderr);
	return ($ok, $stdout, $stderr);
}

# one line per foreign key: child.column orphans
sub orphans
{
	my ($db, $schema, $creator) = @_;
	my @q;
	foreach my $fk (@fks)
	{
		my ($child, $col, $parent) = @$fk;
		$col = $creator if $col eq 'created_by_id';
		push @q, "SELECT '$child.$col', count(*) FROM $schema.$child c WHERE c.$col IS NOT NULL"
		  . " AND NOT EXISTS (SELECT 1 FROM $schema.$parent p WHERE p.id = c.$col)";
	}
	return $node->safe_psql($db, join(' UNION ALL ', @q));
}

sub digest
{
	my ($db) = @_;
	return join ',', map {
		$node->safe_psql($db,
			"SELECT count(*) || ' ' || md5(string_agg(r::text, '|' ORDER BY r.id)) FROM lane_google.$_ r")
	} @tables;
}

my $scale = 0.005;

# --- extension target ----------------------------------------------------------
my ($ok, $out, $err) = gen('ext', '--scale', $scale, '--jobs', '1');
ok($ok, 'gen_legacy.sh --target extension') or diag($err);
foreach my $t (@tables)
{
	my $want = int($base{$t} * $scale + 0.5);
	is($node->safe_psql('ext', "SELECT count(*) FROM lane_google.$t"), $want, "$t: $want rows");
	like($out, qr/^$t\s+$want$/m, "$t count printed");
}
is(orphans('ext', 'lane_google', 'created_by_id') =~ tr/|//, 14, 'all 14 foreign keys checked');
unlike(orphans('ext', 'lane_google', 'created_by_id'), qr/\|[1-9]/, 'no orphan in any foreign key');

is($node->safe_psql('ext', 'SELECT count(*) FROM lane_google.ads WHERE id % 7 = 0'), '0',
	'every 7th id unused');
cmp_ok($node->safe_psql('ext', 'SELECT max(id) - count(*) FROM lane_google.ads'), '>', 0, 'ids have gaps');
foreach my $c ([qw(account_users invited_by)], [qw(campaigns created_by_id)], [qw(approval_requests approved_by)])
{
	my $f = $node->safe_psql('ext', "SELECT avg(($c->[1] IS NULL)::int) FROM lane_google.$c->[0]");
	ok($f >= 0.2 && $f <= 0.4, "$c->[0].$c->[1] NULL in 20-40% of rows ($f)");
}
is($node->safe_psql('ext',
	"SELECT count(*) FROM lane_google.users WHERE email !~ '^[a-z]+\\.[a-z]+\\.[0-9]+@[a-z.-]+\$'"),
	'0', 'emails look like emails');
is($node->safe_psql('ext', "SELECT count(DISTINCT status) FROM lane_google.campaigns"), '5',
	'all campaign statuses used');

# identity sequences past the largest id: a row without an id inserts
$node->safe_psql('ext', "INSERT INTO lane_google.accounts (name, google_customer_id) VALUES ('new', 'new-1')");
ok($node->safe_psql('ext', "SELECT id > (SELECT max(id) FROM lane_google.accounts WHERE name <> 'new') FROM lane_google.accounts WHERE name = 'new'") eq 't',
	'identity sequence set past the largest id');
$node->safe_psql('ext', "DELETE FROM lane_google.accounts WHERE name = 'new'");

# deterministic, whatever the number of sessions
($ok, $out, $err) = gen('ext2', '--scale', $scale, '--jobs', '3');
ok($ok, 'a second run with 3 sessions') or diag($err);
is(digest('ext2'), digest('ext'), 'same rows for the same scale');

# non-empty tables are refused without --replace
($ok, $out, $err) = gen('ext', '--scale', $scale);
ok(!$ok && $err =~ /not empty/, 'refuses to add to non-empty tables');

# --orphans: exactly N per foreign key
($ok, $out, $err) = gen('ext', '--scale', $scale, '--replace', '--orphans', '3');
ok($ok, 'gen_legacy.sh --replace --orphans 3') or diag($err);
my @o = split /\n/, orphans('ext', 'lane_google', 'created_by_id');
is(scalar(grep { /\|3$/ } @o), 14, 'exactly 3 orphans in each of the 14 foreign keys') or diag(join "\n", @o);

# the extension at another version is refused
$node->safe_psql('postgres', 'CREATE DATABASE v2');
$node->safe_psql('v2', 'CREATE EXTENSION lane_google');
($ok, $out, $err) = gen('v2', '--scale', $scale);
ok(!$ok && $err =~ /VERSION '1\.0'/, 'needs the extension at 1.0');

# --- app target, integer layout ---------------------------------------------------
($ok, $out, $err) = gen('app', '--scale', $scale, '--target', 'app', '--schema', 'legacy_int');
ok($ok, 'gen_legacy.sh --target app --layout integer') or diag($err);
unlike(orphans('app', 'legacy_int', 'created_by_id'), qr/\|[1-9]/, 'integer layout: no orphans');
is($node->safe_psql('app', "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'legacy_int.campaigns'::regclass AND attname = 'status'"),
	'legacy_int.campaign_status', 'integer layout: enum types of its own');
is($node->safe_psql('app', "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'legacy_int'::regnamespace"),
	'0', 'no foreign-key constraints');

# --- app target, mixed layout -------------------------------------------------------
($ok, $out, $err) = gen('app', '--scale', $scale, '--target', 'app', '--schema', 'legacy_app', '--layout', 'mixed');
ok($ok, 'gen_legacy.sh --target app --layout mixed') or diag($err);
my %kinds = (
	'users.id' => 'character varying(36)', 'accounts.id' => 'character varying(50)',
	'account_users.id' => 'integer', 'account_users.user_id' => 'character varying(36)',
	'account_users.invited_by' => 'character varying(36)',
	'campaigns.account_id' => 'character varying(50)', 'campaigns.created_by' => 'character varying(36)',
	'approval_requests.id' => 'character varying(36)', 'approval_requests.requester_id' => 'character varying(50)',
	'conversations.id' => 'character varying(36)', 'conversation_messages.id' => 'character varying(36)',
	'conversation_messages.conversation_id' => 'character varying(36)',
	'campaigns.status' => 'character varying(20)', 'campaigns.brief' => 'json', 'ads.descriptions' => 'text',
	'analytics_snapshots.campaign_id' => 'integer');
foreach my $k (sort keys %kinds)
{
	my ($t, $c) = split /\./, $k;
	is($node->safe_psql('app', "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'legacy_app.$t'::regclass AND attname = '$c'"),
		$kinds{$k}, "mixed layout: $k is $kinds{$k}");
}
is($node->safe_psql('app', "SELECT count(*) FROM legacy_app.users WHERE id !~ '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\$'"),
	'0', 'mixed layout: users.id holds UUID text');
is($node->safe_psql('app', "SELECT count(*) FROM legacy_app.conversation_messages WHERE id !~ '^[1-9][0-9]*\$'"),
	'0', 'mixed layout: conversation_messages.id holds decimal integers');
unlike(orphans('app', 'legacy_app', 'created_by'), qr/\|[1-9]/, 'mixed layout: text keys all resolve');
($ok, $out, $err) = gen('app', '--scale', $scale, '--target', 'app', '--schema', 'legacy_app', '--layout', 'mixed',
	'--replace', '--orphans', '2');
ok($ok, 'mixed layout with --orphans 2') or diag($err);
@o = split /\n/, orphans('app', 'legacy_app', 'created_by');
is(scalar(grep { /\|2$/ } @o), 14, 'mixed layout: exactly 2 orphans in each foreign key') or diag(join "\n", @o);

$node->stop;
done_testing();
