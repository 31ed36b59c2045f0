# test/t/001_dump_restore.pl: pg_dump and pg_restore keep a lane_google
# database whole.
#
# The extension's tables are configuration tables (pg_extension_config_dump),
# so pg_dump dumps their rows although the tables themselves come from
# CREATE EXTENSION.  A restore must read back every row unchanged, the same
# legacy namespace (the dumped legacy_config row, loaded after the restore's
# CREATE EXTENSION drew a fresh one, replaces it), so the same
# legacy_uuid() values, the quarantine rows and the sequences.
#
# Version 1.0: pg_dump writes CREATE EXTENSION without a VERSION, so a plain
# restore installs the default version (2.0) and cannot load integer-keyed
# rows.  The supported way, tested here: create the extension at 1.0 in the
# new database first, then restore the dump without its CREATE SCHEMA entry.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my @app_tables = qw(users accounts account_users campaigns ad_groups ads
  analytics_snapshots approval_requests budget_alerts conversations
  conversation_messages);
my @all_tables = (@app_tables, qw(legacy_config legacy_quarantine));

my $node = PostgreSQL::Test::Cluster->new('dump_restore');
$node->init;
$node->start;

# One line per table: row count and md5 of the rows' text in a fixed order
sub digests
{
	my ($db, @tables) = @_;
	my %d;
	foreach my $t (@tables)
	{
		$d{$t} = $node->safe_psql($db,
			"SELECT count(*) || ' ' || md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), ''))"
			  . " FROM lane_google.$t r");
	}
	return \%d;
}

sub dump_db
{
	my ($db, $file) = @_;
	$node->command_ok([ 'pg_dump', '-Fc', '-d', $db, '-f', $file ],
		"pg_dump -Fc $db");
}

my $tmp = PostgreSQL::Test::Utils::tempdir;

# ---------------------------------------------------------------------------
# 2.0: every table filled, converted-style rows and new rows, NULL foreign keys
# ---------------------------------------------------------------------------
$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', 'CREATE EXTENSION lane_google');
$node->safe_psql('src', fill_sql());
$node->safe_psql('src',
	'CREATE TABLE public.app_notes (n integer PRIMARY KEY, account_id uuid);'
	  . ' INSERT INTO public.app_notes SELECT n, NULL FROM generate_series(1, 1000) n');

# The data has what the test is about
is( $node->safe_psql('src',
		"SELECT count(*) FILTER (WHERE legacy_id IS NOT NULL) || '/' || count(*) FROM lane_google.campaigns"),
	'150/300',
	'campaigns: 150 converted-style rows of 300');
is( $node->safe_psql('src',
		"SELECT count(*) FROM lane_google.campaigns WHERE legacy_id IS NOT NULL"
		  . " AND id <> lane_google.legacy_uuid('campaigns', legacy_id)"),
	'0',
	'converted-style ids are legacy_uuid(table, legacy_id)');
is( $node->safe_psql('src',
		"SELECT count(*) FROM lane_google.users WHERE legacy_id IS NULL"
		  . " AND substr(id::text, 15, 1) = '7'"),
	'150',
	'rows born at 2.0 have v7 ids');
is( $node->safe_psql('src',
		"SELECT (SELECT count(*) FROM lane_google.account_users WHERE invited_by IS NULL) > 0"
		  . " AND (SELECT count(*) FROM lane_google.campaigns WHERE created_by_id IS NULL) > 0"
		  . " AND (SELECT count(*) FROM lane_google.approval_requests WHERE approved_by IS NULL) > 0"),
	't',
	'every nullable foreign key has NULLs');

my $src_ns = $node->safe_psql('src', 'SELECT lane_google.legacy_namespace()');
my $src_42 =
  $node->safe_psql('src', "SELECT lane_google.legacy_uuid('campaigns', 42)");
my $src_seq = $node->safe_psql('src',
	'SELECT last_value || \' \' || is_called FROM lane_google.legacy_quarantine_id_seq');
my $src = digests('src', @all_tables);
foreach my $t (@app_tables)
{
	like($src->{$t}, qr/^300 /, "source $t has 300 rows");
}

dump_db('src', "$tmp/src.dump");

# Restored twice: with one job, and in parallel.  A parallel pg_restore
# cannot load the extension's tables by itself: their foreign keys exist from
# CREATE EXTENSION on, and the archive records no order between TABLE DATA
# items (pg_dump only sorts them), so -j N may load a child before its parent.
# So the extension goes first, in one job, then the rest with -j 2.
my $list_all = `pg_restore -l "$tmp/src.dump"`;
is($?, 0, 'pg_restore -l');
my @toc = grep { /^\d/ } split /\n/, $list_all;
my @ext = grep { / lane_google / } @toc;
my %is_ext = map { $_ => 1 } @ext;
PostgreSQL::Test::Utils::append_to_file("$tmp/ext.list", join("\n", @ext) . "\n");
PostgreSQL::Test::Utils::append_to_file("$tmp/rest.list",
	join("\n", grep { !$is_ext{$_} } @toc) . "\n");
ok(scalar(grep { /TABLE DATA lane_google/ } @ext) == 14,
	'the extension part of the archive: 14 tables of data (legacy_references since 2.1)');

foreach my $mode ('one job', 'extension first, then -j 2')
{
	my $dst = $mode eq 'one job' ? 'dst_one' : 'dst_parallel';
	$node->safe_psql('postgres', "CREATE DATABASE $dst");
	if ($mode eq 'one job')
	{
		$node->command_ok(
			[ 'pg_restore', '--exit-on-error', '-d', $dst, "$tmp/src.dump" ],
			"$mode: pg_restore into a fresh database");
	}
	else
	{
		$node->command_ok(
			[ 'pg_restore', '--exit-on-error', '-L', "$tmp/ext.list", '-d', $dst, "$tmp/src.dump" ],
			"$mode: the extension and its rows");
		$node->command_ok(
			[ 'pg_restore', '--exit-on-error', '-j', '2', '-L', "$tmp/rest.list", '-d', $dst, "$tmp/src.dump" ],
			"$mode: the rest");
		is($node->safe_psql($dst, 'SELECT count(*) || \' \' || sum(n) FROM public.app_notes'),
			'1000 500500', "$mode: the application's own table");
	}
	my $got = digests($dst, @app_tables, 'legacy_quarantine');
	foreach my $t (@app_tables, 'legacy_quarantine')
	{
		is($got->{$t}, $src->{$t}, "$mode: $t rows identical");
	}

	# the restored row replaced the one CREATE EXTENSION drew
	is( $node->safe_psql($dst,
			"SELECT count(*) || ' ' || bool_and(root_namespace = '$src_ns')"
			  . " FROM lane_google.legacy_config"),
		'1 true',
		"$mode: legacy_config holds the dumped row alone");
	is($node->safe_psql($dst, 'SELECT lane_google.legacy_namespace()'),
		$src_ns, "$mode: legacy_namespace() is the original");
	is( $node->safe_psql($dst, "SELECT lane_google.legacy_uuid('campaigns', 42)"),
		$src_42, "$mode: legacy_uuid('campaigns', 42) is the original");
	is( $node->safe_psql($dst,
			join(' UNION ALL ',
				map { "SELECT count(*) FROM lane_google.$_ WHERE legacy_id IS NOT NULL"
					  . " AND id <> lane_google.legacy_uuid('$_', legacy_id)" }
				  @app_tables) . ' ORDER BY 1 DESC LIMIT 1'),
		'0',
		"$mode: every converted row still maps from its legacy id");
	is( $node->safe_psql($dst,
			'SELECT last_value || \' \' || is_called FROM lane_google.legacy_quarantine_id_seq'),
		$src_seq,
		"$mode: quarantine sequence restored");
	is( $node->safe_psql($dst,
			"INSERT INTO lane_google.legacy_quarantine (table_name, reason, row_data)"
			  . " VALUES ('users', 'test', '{}') RETURNING id"),
		'6',
		"$mode: next quarantine id follows the dumped ones");

	# the restored schema works: new rows get v7 ids, FKs hold
	is( $node->safe_psql($dst,
			"INSERT INTO lane_google.accounts (name, google_customer_id) VALUES ('n', 'new')"
			  . " RETURNING substr(id::text, 15, 1)"),
		'7',
		"$mode: a new row gets a v7 id");
	my ($rc, $out, $err) = $node->psql($dst,
		"INSERT INTO lane_google.campaigns (account_id, name, customer_id)"
		  . " VALUES (gen_random_uuid(), 'orphan', '1')");
	like($err, qr/violates foreign key constraint "campaigns_account_id_fkey"/,
		"$mode: foreign keys are enforced");
}

# ---------------------------------------------------------------------------
# 1.0: integer identity keys; the sequences must come back
# ---------------------------------------------------------------------------
$node->safe_psql('postgres', 'CREATE DATABASE legacy');
$node->safe_psql('legacy', "CREATE EXTENSION lane_google VERSION '1.0'");
$node->safe_psql('legacy', fill_sql_1_0());
my $lsrc = digests('legacy', @app_tables, 'legacy_quarantine');
my %lmax;
foreach my $t (@app_tables)
{
	$lmax{$t} = $node->safe_psql('legacy', "SELECT max(id) FROM lane_google.$t");
}
is($lmax{users}, '290', '1.0 source: users ids up to 290 (300 made, 10 deleted)');
my $lns = $node->safe_psql('legacy', 'SELECT lane_google.legacy_namespace()');

dump_db('legacy', "$tmp/legacy.dump");

# A plain restore installs the default version and fails loudly, never silently
$node->safe_psql('postgres', 'CREATE DATABASE legacy_plain');
$node->command_fails(
	[ 'pg_restore', '--exit-on-error', '-d', 'legacy_plain', "$tmp/legacy.dump" ],
	'plain restore of a 1.0 dump fails (pg_dump records no extension version)');

# The way that works: the extension at 1.0 first, the dump without CREATE SCHEMA
$node->safe_psql('postgres', 'CREATE DATABASE legacy_dst');
$node->safe_psql('legacy_dst', "CREATE EXTENSION lane_google VERSION '1.0'");
my $list = `pg_restore -l "$tmp/legacy.dump"`;
is($?, 0, 'pg_restore -l');
$list = join("\n", grep { !/ SCHEMA - lane_google / } split /\n/, $list) . "\n";
PostgreSQL::Test::Utils::append_to_file("$tmp/legacy.list", $list);
$node->command_ok(
	[ 'pg_restore', '--exit-on-error', '-L', "$tmp/legacy.list", '-d', 'legacy_dst', "$tmp/legacy.dump" ],
	'restore of a 1.0 dump into a database with the extension at 1.0');
is( $node->safe_psql('legacy_dst',
		"SELECT extversion FROM pg_extension WHERE extname = 'lane_google'"),
	'1.0', 'restored at 1.0');
my $ldst = digests('legacy_dst', @app_tables, 'legacy_quarantine');
foreach my $t (@app_tables, 'legacy_quarantine')
{
	is($ldst->{$t}, $lsrc->{$t}, "1.0: $t rows identical");
}
is($node->safe_psql('legacy_dst', 'SELECT lane_google.legacy_namespace()'),
	$lns, '1.0: legacy_namespace() is the original');

# identity sequences survived: a new row's id is past every dumped id (and
# past the deleted ones: the sequence, not max(id), is what came back)
foreach my $t (@app_tables)
{
	my $next = $node->safe_psql('legacy_dst',
		"SELECT nextval(pg_get_serial_sequence('lane_google.$t', 'id'))");
	my $want = $t eq 'users' ? 301 : $lmax{$t} + 1;
	is($next, $want, "1.0: $t identity continues at $want");
}
is( $node->safe_psql('legacy_dst',
		"INSERT INTO lane_google.users (email, username, password_hash, salt, first_name, last_name)"
		  . " VALUES ('n\@example.com', 'n', 'x', 's', 'N', 'N') RETURNING id"),
	'302',
	'1.0: an insert after restore gets an id past the max');

# A database prepared before the source's namespace was set (here the 1.0
# target is prepared first, then the source sets its namespace, as a DBA does
# to make shards agree, is dumped and restored into it) ends with the
# source's namespace: the loaded row replaces the one the target drew.
$node->safe_psql('postgres', 'CREATE DATABASE legacy_early');
$node->safe_psql('legacy_early', "CREATE EXTENSION lane_google VERSION '1.0'");
$node->safe_psql('legacy',
	"SELECT lane_google.set_legacy_namespace('8f0c9a1e-3b7d-4c2a-9e51-6d4f2b8a7c03')");
dump_db('legacy', "$tmp/legacy_set.dump");
$node->command_ok(
	[ 'pg_restore', '--exit-on-error', '-L', "$tmp/legacy.list", '-d', 'legacy_early', "$tmp/legacy_set.dump" ],
	'restore into a database prepared before the namespace was set');
is($node->safe_psql('legacy_early', 'SELECT lane_google.legacy_namespace()'),
	'8f0c9a1e-3b7d-4c2a-9e51-6d4f2b8a7c03',
	'a namespace set after the target was prepared is restored');

$node->stop;
done_testing();

# ---------------------------------------------------------------------------
sub fill_sql
{
	return <<'SQL';
SET search_path = lane_google;
-- Rows 1..150 of each table look converted (id = legacy_uuid(table, i),
-- legacy_id = i), rows 151..300 are born at 2.0 (a v7 id from the default).
CREATE TEMP VIEW g AS SELECT i, i <= 150 AS conv FROM generate_series(1, 300) i;
CREATE FUNCTION pg_temp.key(t text, i int) RETURNS uuid LANGUAGE sql AS
  $$ SELECT CASE WHEN i <= 150 THEN lane_google.legacy_uuid(t, i) ELSE lane_google.uuid_generate_v7() END $$;
CREATE FUNCTION pg_temp.lid(i int) RETURNS bigint LANGUAGE sql AS
  $$ SELECT CASE WHEN i <= 150 THEN i END $$;
CREATE FUNCTION pg_temp.ts(i int) RETURNS timestamptz LANGUAGE sql AS
  $$ SELECT timestamptz '2024-01-01 00:00:00+00' + i * interval '1 hour 1 second' $$;

INSERT INTO users (id, legacy_id, email, username, password_hash, salt, first_name, last_name,
                   phone, role, status, permissions, is_verified, last_login, created_at, updated_at)
SELECT pg_temp.key('users', i), pg_temp.lid(i),
       'user' || i || '@example.com', 'user' || i, md5(i::text), left(md5(i::text), 16),
       'First' || i, 'Last' || i,
       CASE WHEN i % 3 <> 0 THEN '+1-555-' || i END,
       (enum_range(NULL::user_role))[1 + i % 4], (enum_range(NULL::user_status))[1 + i % 4],
       CASE WHEN i % 2 = 0 THEN jsonb_build_object('scopes', jsonb_build_array('read', 'n' || i)) END,
       i % 2 = 0, CASE WHEN i % 5 <> 0 THEN pg_temp.ts(i) END, pg_temp.ts(i), pg_temp.ts(i + 1)
FROM g;
CREATE TEMP TABLE n_users AS SELECT id, row_number() OVER (ORDER BY email) AS rn FROM users;

INSERT INTO accounts (id, legacy_id, name, google_customer_id, timezone, monthly_budget_limit,
                      is_active, settings, created_at, updated_at)
SELECT pg_temp.key('accounts', i), pg_temp.lid(i), 'Account ' || i, '100-' || i,
       CASE WHEN i % 2 = 0 THEN 'Europe/Paris' ELSE 'America/New_York' END,
       CASE WHEN i % 4 <> 0 THEN (i * 100.25)::numeric(12,2) END, i % 7 <> 0,
       jsonb_build_object('n', i), pg_temp.ts(i), pg_temp.ts(i)
FROM g;
CREATE TEMP TABLE n_accounts AS SELECT id, row_number() OVER (ORDER BY google_customer_id) AS rn FROM accounts;

INSERT INTO account_users (id, legacy_id, account_id, user_id, role, invited_by, joined_at, created_at, updated_at)
SELECT pg_temp.key('account_users', i), pg_temp.lid(i), a.id, u.id,
       (enum_range(NULL::account_role))[1 + i % 4],
       CASE WHEN i % 4 <> 0 THEN inv.id END,
       CASE WHEN i % 6 <> 0 THEN pg_temp.ts(i) END, pg_temp.ts(i), pg_temp.ts(i)
FROM g JOIN n_accounts a ON a.rn = i JOIN n_users u ON u.rn = 1 + (i * 7) % 300
JOIN n_users inv ON inv.rn = 1 + (i * 13) % 300;

INSERT INTO campaigns (id, legacy_id, account_id, created_by_id, name, customer_id, google_campaign_id,
                       brief, status, budget_amount, current_spend, pacing_strategy, created_at, updated_at)
SELECT pg_temp.key('campaigns', i), pg_temp.lid(i), a.id,
       CASE WHEN i % 5 <> 0 THEN u.id END,
       'Campaign ' || i, '100-' || (1 + i % 300), CASE WHEN i % 3 <> 0 THEN 'gc' || i END,
       CASE WHEN i % 2 = 0 THEN jsonb_build_object('goal', 'leads', 'n', i) END,
       (enum_range(NULL::campaign_status))[1 + i % 5], (i * 10.5)::numeric(12,2),
       (i * 1.25)::numeric(12,2), (enum_range(NULL::pacing_strategy))[1 + i % 4],
       pg_temp.ts(i), pg_temp.ts(i)
FROM g JOIN n_accounts a ON a.rn = 1 + i % 300 JOIN n_users u ON u.rn = 1 + (i * 11) % 300;
CREATE TEMP TABLE n_campaigns AS SELECT id, row_number() OVER (ORDER BY name) AS rn FROM campaigns;

INSERT INTO ad_groups (id, legacy_id, campaign_id, name, google_ad_group_id, status, cpc_bid, keywords, created_at, updated_at)
SELECT pg_temp.key('ad_groups', i), pg_temp.lid(i), c.id, 'Group ' || i,
       CASE WHEN i % 2 = 0 THEN 'ag' || i END, (enum_range(NULL::ad_status))[1 + i % 3],
       CASE WHEN i % 3 <> 0 THEN (i / 100.0)::numeric(12,2) END,
       jsonb_build_array('kw' || i, 'kw' || (i + 1)), pg_temp.ts(i), pg_temp.ts(i)
FROM g JOIN n_campaigns c ON c.rn = 1 + (i * 17) % 300;
CREATE TEMP TABLE n_ad_groups AS SELECT id, row_number() OVER (ORDER BY name) AS rn FROM ad_groups;

INSERT INTO ads (id, legacy_id, ad_group_id, google_ad_id, headlines, descriptions, final_url, status, created_at, updated_at)
SELECT pg_temp.key('ads', i), pg_temp.lid(i), ag.id, 'ad' || i,
       jsonb_build_array('Headline ' || i), jsonb_build_array('Description ' || i, 'More'),
       CASE WHEN i % 4 <> 0 THEN 'https://example.com/' || i END,
       (enum_range(NULL::ad_status))[1 + i % 3], pg_temp.ts(i), pg_temp.ts(i)
FROM g JOIN n_ad_groups ag ON ag.rn = 1 + (i * 19) % 300;

INSERT INTO analytics_snapshots (id, legacy_id, campaign_id, snapshot_date, period_type, impressions,
                                 clicks, cost, conversions, conversion_value, metrics, created_at)
SELECT pg_temp.key('analytics_snapshots', i), pg_temp.lid(i), c.id, date '2024-01-01' + i,
       (enum_range(NULL::period_type))[1 + i % 4], i * 1000, i * 10, (i * 3.5)::numeric(12,2),
       (i / 7.0)::numeric(12,2), (i * 2.25)::numeric(12,2),
       CASE WHEN i % 2 = 0 THEN jsonb_build_object('ctr', i / 100.0) END, pg_temp.ts(i)
FROM g JOIN n_campaigns c ON c.rn = 1 + i % 300;

INSERT INTO approval_requests (id, legacy_id, campaign_id, requester_id, approved_by, request_type, title,
                               description, priority, status, request_data, expires_at, created_at, updated_at)
SELECT pg_temp.key('approval_requests', i), pg_temp.lid(i), c.id, r.id,
       CASE WHEN i % 2 = 0 THEN ap.id END, 'budget_change', 'Request ' || i,
       CASE WHEN i % 3 <> 0 THEN 'Because ' || i END,
       (enum_range(NULL::priority_level))[1 + i % 4], (enum_range(NULL::approval_status))[1 + i % 4],
       jsonb_build_object('amount', i), CASE WHEN i % 5 <> 0 THEN pg_temp.ts(i + 100) END,
       pg_temp.ts(i), pg_temp.ts(i)
FROM g JOIN n_campaigns c ON c.rn = 1 + (i * 23) % 300 JOIN n_users r ON r.rn = 1 + (i * 29) % 300
JOIN n_users ap ON ap.rn = 1 + (i * 31) % 300;

INSERT INTO budget_alerts (id, legacy_id, campaign_id, alert_type, severity, message, current_spend,
                           budget_limit, projected_spend, recommended_action, resolved, resolved_at, created_at)
SELECT pg_temp.key('budget_alerts', i), pg_temp.lid(i), c.id,
       (enum_range(NULL::alert_type))[1 + i % 4], (enum_range(NULL::alert_severity))[1 + i % 4],
       'Alert ' || i, (i * 1.5)::numeric(12,2), (i * 2)::numeric(12,2), (i * 2.5)::numeric(12,2),
       CASE WHEN i % 2 = 0 THEN 'Lower bids' END, i % 3 = 0,
       CASE WHEN i % 3 = 0 THEN pg_temp.ts(i + 1) END, pg_temp.ts(i)
FROM g JOIN n_campaigns c ON c.rn = 1 + (i * 37) % 300;

INSERT INTO conversations (id, legacy_id, user_id, title, context, status, last_message_at, created_at, updated_at)
SELECT pg_temp.key('conversations', i), pg_temp.lid(i), u.id,
       CASE WHEN i % 4 <> 0 THEN 'Chat ' || i END,
       CASE WHEN i % 2 = 0 THEN jsonb_build_object('campaign', i) END,
       (enum_range(NULL::conversation_status))[1 + i % 3], pg_temp.ts(i + 2), pg_temp.ts(i), pg_temp.ts(i)
FROM g JOIN n_users u ON u.rn = 1 + (i * 41) % 300;
CREATE TEMP TABLE n_conversations AS SELECT id, row_number() OVER (ORDER BY created_at, id) AS rn FROM conversations;

INSERT INTO conversation_messages (id, legacy_id, conversation_id, role, content, metadata, created_at)
SELECT pg_temp.key('conversation_messages', i), pg_temp.lid(i), cv.id,
       (enum_range(NULL::message_role))[1 + i % 3], 'Message ' || i || E' with\ttab and ''quote''',
       CASE WHEN i % 2 = 0 THEN jsonb_build_object('tokens', i) END, pg_temp.ts(i)
FROM g JOIN n_conversations cv ON cv.rn = 1 + (i * 43) % 300;

INSERT INTO legacy_quarantine (table_name, reason, row_data)
SELECT 'campaigns', 'orphan account_id ' || (1000 + i), jsonb_build_object('id', 1000 + i, 'account_id', 5000 + i)
FROM generate_series(1, 5) i;
DELETE FROM legacy_quarantine WHERE id = 5;
SQL
}

# 1.0: the same shape with integer keys from the identity; some rows deleted so
# the sequences are past max(id) for users
sub fill_sql_1_0
{
	return <<'SQL';
SET search_path = lane_google;
INSERT INTO users (email, username, password_hash, salt, first_name, last_name, phone, role, created_at, updated_at)
SELECT 'user' || i || '@example.com', 'user' || i, md5(i::text), left(md5(i::text), 16),
       'First' || i, 'Last' || i, CASE WHEN i % 3 <> 0 THEN '+1-555-' || i END,
       (enum_range(NULL::user_role))[1 + i % 4],
       timestamptz '2024-01-01 00:00:00+00' + i * interval '1 hour',
       timestamptz '2024-01-02 00:00:00+00' + i * interval '1 hour'
FROM generate_series(1, 300) i;
INSERT INTO accounts (name, google_customer_id, settings)
SELECT 'Account ' || i, '100-' || i, jsonb_build_object('n', i) FROM generate_series(1, 300) i;
INSERT INTO account_users (account_id, user_id, invited_by)
SELECT i, 1 + (i * 7) % 290, CASE WHEN i % 4 <> 0 THEN 1 + (i * 13) % 290 END FROM generate_series(1, 300) i;
INSERT INTO campaigns (account_id, created_by_id, name, customer_id, status, budget_amount)
SELECT 1 + i % 300, CASE WHEN i % 5 <> 0 THEN 1 + (i * 11) % 290 END, 'Campaign ' || i, '100-' || i,
       (enum_range(NULL::campaign_status))[1 + i % 5], (i * 10.5)::numeric(12,2)
FROM generate_series(1, 300) i;
INSERT INTO ad_groups (campaign_id, name) SELECT 1 + (i * 17) % 300, 'Group ' || i FROM generate_series(1, 300) i;
INSERT INTO ads (ad_group_id, final_url) SELECT 1 + (i * 19) % 300, 'https://example.com/' || i FROM generate_series(1, 300) i;
INSERT INTO analytics_snapshots (campaign_id, snapshot_date, impressions)
SELECT 1 + i % 300, date '2024-01-01' + i, i * 1000 FROM generate_series(1, 300) i;
INSERT INTO approval_requests (campaign_id, requester_id, approved_by, request_type, title)
SELECT 1 + (i * 23) % 300, 1 + (i * 29) % 290, CASE WHEN i % 2 = 0 THEN 1 + (i * 31) % 290 END,
       'budget_change', 'Request ' || i
FROM generate_series(1, 300) i;
INSERT INTO budget_alerts (campaign_id, alert_type, message, current_spend, budget_limit, projected_spend)
SELECT 1 + (i * 37) % 300, (enum_range(NULL::alert_type))[1 + i % 4], 'Alert ' || i, i, i * 2, i * 3
FROM generate_series(1, 300) i;
INSERT INTO conversations (user_id, title) SELECT 1 + (i * 41) % 290, 'Chat ' || i FROM generate_series(1, 300) i;
INSERT INTO conversation_messages (conversation_id, role, content)
SELECT 1 + (i * 43) % 300, (enum_range(NULL::message_role))[1 + i % 3], 'Message ' || i
FROM generate_series(1, 300) i;
DELETE FROM users WHERE id > 290;
INSERT INTO legacy_quarantine (table_name, reason, row_data)
SELECT 'campaigns', 'orphan ' || i, jsonb_build_object('id', i) FROM generate_series(1, 3) i;
SQL
}
