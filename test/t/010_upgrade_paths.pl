# test/t/010_upgrade_paths.pl: every path through the version graph.
#
# For every version V (1.0, 2.0) and every path that reaches it (a fresh
# CREATE EXTENSION ... VERSION V, 1.0 -> 2.0, 2.0 -> 1.0, 1.0 -> 2.0 -> 1.0,
# 2.0 -> 1.0 -> 2.0, 1.0 -> 2.0 -> 1.0 -> 2.0), all with rows in the tables, the catalog equals the catalog of a
# fresh CREATE EXTENSION lane_google VERSION 'V' (catalog queries, not
# pg_dump: the extension's members, then per member table its columns in
# attnum order, dropped ones included, constraints, indexes, triggers, the
# pg_extension_config_dump registrations and the sequences).  Then the rows:
# 1.0 -> 2.0 -> 1.0 gives back byte-identical tables; 2.0 -> 1.0 -> 2.0 keeps
# every row, the converted rows' ids and every relationship, rows born at 2.0
# get the ids past the largest; the identity sequences end past the largest
# id; edge ids (0, negative, 2^31-1), empty tables and all-NULL foreign keys;
# legacy_uuid() against Python's uuid module; pg_dump / pg_restore of a
# converted database.  Versions 1.1 and 2.1: 011_versions_11_21.pl.
use strict;
use warnings FATAL => 'all';

use FindBin;
use File::Spec;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;


use lib $FindBin::RealBin;
use LgPaths;

my ($node, $tmp) = lg_paths_node('paths');

lg_paths_init($node, $tmp);

# --- Data --------------------------------------------------------------------

# Edge rows at 1.0: ids 0, negative, 2^31-1 and -2^31, empty tables (ads,
# analytics_snapshots, budget_alerts, conversations, conversation_messages),
# tables whose every nullable foreign key is NULL (campaigns,
# approval_requests)
my $edge_sql = <<'SQL';
SET search_path = lane_google, pg_catalog;
INSERT INTO users (id, email, username, password_hash, salt, first_name, last_name, created_at, updated_at) VALUES
    (0, 'zero@example.org', 'zero', 'h', 's', 'Zero', 'Id', '2025-01-01', '2025-01-01'),
    (-5, 'neg@example.org', 'neg', 'h', 's', 'Negative', 'Id', '2025-01-02', '2025-01-02'),
    (2147483647, 'max@example.org', 'max', 'h', 's', 'Max', 'Id', '2025-01-03', '2025-01-03'),
    (1, 'one@example.org', 'one', 'h', 's', 'One', 'Id', '2025-01-04', '2025-01-04');
INSERT INTO accounts (id, name, google_customer_id, created_at, updated_at) VALUES
    (-2147483648, 'Min account', '100-000-0001', '2025-01-01', '2025-01-01'),
    (7, 'Seven', '100-000-0007', '2025-01-01', '2025-01-01');
INSERT INTO account_users (id, account_id, user_id, role, invited_by, created_at, updated_at) VALUES
    (0, 7, 0, 'owner', NULL, '2025-01-01', '2025-01-01'),
    (2147483647, -2147483648, 2147483647, 'editor', -5, '2025-01-01', '2025-01-01'),
    (-1, -2147483648, 0, 'viewer', 2147483647, '2025-01-01', '2025-01-01');
INSERT INTO campaigns (id, account_id, created_by_id, name, customer_id, budget_amount, created_at, updated_at) VALUES
    (-1, 7, NULL, 'Negative', '100-000-0007', 10.50, '2025-01-01', '2025-01-01'),
    (0, -2147483648, NULL, 'Zero', '100-000-0001', 0, '2025-01-01', '2025-01-01'),
    (2147483647, -2147483648, NULL, 'Max', '100-000-0001', NULL, '2025-01-01', '2025-01-01');
INSERT INTO ad_groups (id, campaign_id, name, created_at, updated_at) VALUES
    (5, 2147483647, 'Group five', '2025-01-01', '2025-01-01'),
    (-5, -1, 'Group minus five', '2025-01-01', '2025-01-01');
INSERT INTO approval_requests (id, campaign_id, requester_id, approved_by, request_type, title, created_at, updated_at) VALUES
    (2147483647, 0, 2147483647, NULL, 'budget_change', 'Max', '2025-01-01', '2025-01-01'),
    (-2147483648, -1, 0, NULL, 'launch', 'Min', '2025-01-01', '2025-01-01');
SQL

# Rows born at 2.0 (uuid_generate_v7 keys), pointing at other born rows and,
# where there are any, at converted rows
my $born_sql = <<'SQL';
SET search_path = lane_google, pg_catalog;
CREATE FUNCTION pg_temp.t0(i integer) RETURNS timestamptz LANGUAGE sql
    AS $$ SELECT timestamptz '2026-03-01 00:00:00+00' + i * interval '1 hour' $$;
-- a born row by number; the converted row of smallest legacy id, if any
CREATE FUNCTION pg_temp.born(t text, i integer) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE r uuid;
BEGIN
    EXECUTE format('SELECT id FROM lane_google.%I WHERE legacy_id IS NULL ORDER BY created_at, id OFFSET %s LIMIT 1', t, i - 1) INTO STRICT r;
    RETURN r;
END $$;
CREATE FUNCTION pg_temp.old(t text) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE r uuid;
BEGIN
    EXECUTE format('SELECT id FROM lane_google.%I WHERE legacy_id IS NOT NULL ORDER BY legacy_id LIMIT 1', t) INTO r;
    RETURN r;
END $$;
INSERT INTO users (email, username, password_hash, salt, first_name, last_name, role, status, created_at, updated_at)
SELECT format('born%s@example.org', i), format('born_user_%s', i), md5(i::text), 'salt', 'Born', format('User %s', i),
       (ARRAY['admin', 'manager', 'analyst', 'viewer'])[1 + i % 4]::user_role, 'active', pg_temp.t0(i), pg_temp.t0(i + 1)
  FROM generate_series(1, 6) AS i;
INSERT INTO accounts (name, google_customer_id, monthly_budget_limit, created_at, updated_at)
SELECT format('Born account %s', i), format('born-%s', i), i * 1000.25, pg_temp.t0(i), pg_temp.t0(i)
  FROM generate_series(1, 3) AS i;
INSERT INTO account_users (account_id, user_id, role, invited_by, created_at, updated_at)
SELECT pg_temp.born('accounts', 1 + i % 3), pg_temp.born('users', i), 'editor'::account_role,
       CASE i % 3 WHEN 0 THEN NULL WHEN 1 THEN pg_temp.born('users', 1 + i % 6)
                  ELSE coalesce(pg_temp.old('users'), pg_temp.born('users', 1)) END,
       pg_temp.t0(i), pg_temp.t0(i)
  FROM generate_series(1, 6) AS i
UNION ALL
SELECT coalesce(pg_temp.old('accounts'), pg_temp.born('accounts', 3)), pg_temp.born('users', 1), 'owner'::account_role, NULL,
       pg_temp.t0(7), pg_temp.t0(7);
INSERT INTO campaigns (account_id, created_by_id, name, customer_id, status, budget_amount, created_at, updated_at)
SELECT CASE WHEN i % 2 = 0 THEN pg_temp.born('accounts', 1) ELSE coalesce(pg_temp.old('accounts'), pg_temp.born('accounts', 2)) END,
       CASE i % 3 WHEN 0 THEN NULL WHEN 1 THEN pg_temp.born('users', i)
                  ELSE coalesce(pg_temp.old('users'), pg_temp.born('users', 2)) END,
       format('Born campaign %s', i), 'born', 'active', i * 100, pg_temp.t0(i), pg_temp.t0(i)
  FROM generate_series(1, 4) AS i;
INSERT INTO ad_groups (campaign_id, name, cpc_bid, created_at, updated_at)
SELECT CASE WHEN i <= 3 THEN pg_temp.born('campaigns', i) ELSE coalesce(pg_temp.old('campaigns'), pg_temp.born('campaigns', 4)) END,
       format('Born group %s', i), 1.25, pg_temp.t0(i), pg_temp.t0(i)
  FROM generate_series(1, 4) AS i;
INSERT INTO ads (ad_group_id, google_ad_id, headlines, created_at, updated_at)
SELECT CASE WHEN i <= 4 THEN pg_temp.born('ad_groups', i) ELSE coalesce(pg_temp.old('ad_groups'), pg_temp.born('ad_groups', 1)) END,
       format('born-ad-%s', i), jsonb_build_array(format('Headline %s', i)), pg_temp.t0(i), pg_temp.t0(i)
  FROM generate_series(1, 6) AS i;
INSERT INTO analytics_snapshots (campaign_id, snapshot_date, impressions, clicks, cost, created_at)
SELECT CASE WHEN i <= 3 THEN pg_temp.born('campaigns', 1 + i % 2) ELSE coalesce(pg_temp.old('campaigns'), pg_temp.born('campaigns', 3)) END,
       date '2031-01-01' + i, i * 1000, i * 10, i * 1.5, pg_temp.t0(i)
  FROM generate_series(1, 4) AS i;
INSERT INTO approval_requests (campaign_id, requester_id, approved_by, request_type, title, created_at, updated_at)
SELECT CASE WHEN i <= 2 THEN pg_temp.born('campaigns', i) ELSE coalesce(pg_temp.old('campaigns'), pg_temp.born('campaigns', 1)) END,
       CASE WHEN i <= 2 THEN pg_temp.born('users', i) ELSE coalesce(pg_temp.old('users'), pg_temp.born('users', 3)) END,
       CASE i WHEN 1 THEN NULL WHEN 2 THEN pg_temp.born('users', 4) ELSE coalesce(pg_temp.old('users'), pg_temp.born('users', 5)) END,
       'budget_change', format('Born request %s', i), pg_temp.t0(i), pg_temp.t0(i)
  FROM generate_series(1, 3) AS i;
INSERT INTO budget_alerts (campaign_id, alert_type, message, current_spend, budget_limit, projected_spend, created_at)
SELECT CASE WHEN i <= 2 THEN pg_temp.born('campaigns', i) ELSE coalesce(pg_temp.old('campaigns'), pg_temp.born('campaigns', 2)) END,
       'at_risk', format('Born alert %s', i), 90, 100, 120, pg_temp.t0(i)
  FROM generate_series(1, 3) AS i;
INSERT INTO conversations (user_id, title, created_at, updated_at)
SELECT CASE WHEN i <= 2 THEN pg_temp.born('users', i) ELSE coalesce(pg_temp.old('users'), pg_temp.born('users', 6)) END,
       format('Born conversation %s', i), pg_temp.t0(i), pg_temp.t0(i)
  FROM generate_series(1, 3) AS i;
INSERT INTO conversation_messages (conversation_id, role, content, created_at)
SELECT CASE WHEN i <= 4 THEN pg_temp.born('conversations', 1 + i % 3) ELSE coalesce(pg_temp.old('conversations'), pg_temp.born('conversations', 1)) END,
       (ARRAY['user', 'assistant', 'system'])[1 + i % 3]::message_role, format('Born message %s', i), pg_temp.t0(i)
  FROM generate_series(1, 6) AS i;
SQL

# --- The reference catalogs ----------------------------------------------------

my %want = %{ reference_catalogs('1.0', '2.0') };
like($want{'1.0'}, qr/^column users\.001: id integer not null t default  identity d/m,
	'1.0 reference: integer identity keys');
like($want{'2.0'}, qr/^column users\.024: legacy_id bigint/m,
	'2.0 reference: legacy_id last');
isnt($want{'1.0'}, $want{'2.0'}, 'the two versions differ');

# --- Seeds: 1.0 with generated rows, 1.0 with edge rows, 2.0 born rows ----------

createdb('seed1');
query('seed1', "CREATE EXTENSION lane_google VERSION '1.0'");
generate('seed1', '0.001');
catalog_is('seed1', '1.0', 'fresh 1.0 with rows');
my $seed1_rows = rows_text('seed1');
my $seed1_content = content_text('seed1');
my $seed1_rel = relations_text('seed1');
unlike($seed1_rows, qr/ 0 -$/m, 'seed1: every table has rows');

createdb('edge1');
query('edge1', "CREATE EXTENSION lane_google VERSION '1.0'");
query('edge1', $edge_sql);
catalog_is('edge1', '1.0', 'fresh 1.0 with edge rows');
my $edge1_rows = rows_text('edge1');

createdb('seed2');
query('seed2', "CREATE EXTENSION lane_google VERSION '2.0'");
query('seed2', $born_sql);
catalog_is('seed2', '2.0', 'fresh 2.0 with rows');
my $seed2_content = content_text('seed2');
my $seed2_rel = relations_text('seed2');


# --- 1.0 -> 2.0 ------------------------------------------------------------------

createdb('up', 'seed1');
update_to('up', '2.0');
catalog_is('up', '2.0', '1.0 -> 2.0');
same_text(content_text('up'), $seed1_content, '1.0 -> 2.0 keeps every row');
same_text(relations_text('up'), $seed1_rel, '1.0 -> 2.0 keeps every relationship');
same_text(unmapped_rows('up'), join("\n", map { "$_ 0" } @tables),
	'1.0 -> 2.0: every id is legacy_uuid(table, legacy_id)');
same_text(
	query('up', join("\nUNION ALL\n", map { "SELECT '$_ ' || md5(string_agg(legacy_id::text, ',' ORDER BY legacy_id)) FROM lane_google.$_" } @tables)),
	query('seed1', join("\nUNION ALL\n", map { "SELECT '$_ ' || md5(string_agg(id::text, ',' ORDER BY id)) FROM lane_google.$_" } @tables)),
	'1.0 -> 2.0: legacy_id keeps every original id');

# --- 2.0 -> 1.0 (rows born at 2.0 only) --------------------------------------------

createdb('down', 'seed2');
update_to('down', '1.0');
catalog_is('down', '1.0', '2.0 -> 1.0');
same_text(content_text('down'), $seed2_content, '2.0 -> 1.0 keeps every row');
same_text(relations_text('down'), $seed2_rel, '2.0 -> 1.0 keeps every relationship');
is( query('down', join("\nUNION ALL\n", map { "SELECT '$_ ' || (min(id) = 1 AND max(id) = count(*))::text FROM lane_google.$_" } @tables)),
	join("\n", map { "$_ true" } @tables),
	'2.0 -> 1.0: rows born at 2.0 numbered from 1');
is( query('down', "SELECT string_agg(username, ',' ORDER BY id) FROM lane_google.users"),
	join(',', map { "born_user_$_" } 1 .. 6),
	'2.0 -> 1.0: new ids in created_at order');
my $next = lines_of(next_ids('down'));
is_deeply([ grep { $next->{$_}[0] != $next->{$_}[1] } @tables ], [],
	'2.0 -> 1.0: every identity sequence ends past the largest id');

# --- 1.0 -> 2.0 -> 1.0: byte-identical ----------------------------------------------

createdb('rt1', 'seed1');
update_to('rt1', '2.0');
catalog_is('rt1', '2.0', '1.0 -> 2.0');
update_to('rt1', '1.0');
catalog_is('rt1', '1.0', '1.0 -> 2.0 -> 1.0');
same_text(rows_text('rt1'), $seed1_rows, '1.0 -> 2.0 -> 1.0 gives back byte-identical tables');
$next = lines_of(next_ids('rt1'));
is_deeply([ grep { $next->{$_}[0] != $next->{$_}[1] } @tables ], [],
	'1.0 -> 2.0 -> 1.0: every identity sequence ends past the largest id');

# Edge ids, empty tables, all-NULL foreign keys
createdb('rte', 'edge1');
update_to('rte', '2.0');
catalog_is('rte', '2.0', '1.0 (edge rows) -> 2.0');
same_text(unmapped_rows('rte'), join("\n", map { "$_ 0" } @tables),
	'edge rows: every id is legacy_uuid(table, legacy_id)');
is( query('rte', "SELECT string_agg(legacy_id::text, ',' ORDER BY legacy_id) FROM lane_google.users"),
	'-5,0,1,2147483647', 'edge rows: ids 0, negative and 2^31-1 kept in legacy_id');
is( query('rte', "SELECT count(*) FILTER (WHERE created_by_id IS NULL) || '/' || count(*) FROM lane_google.campaigns"),
	'3/3', 'edge rows: a foreign key NULL in every row stays NULL');
is( query('rte', "SELECT count(*) FROM lane_google.ads") . query('rte', "SELECT count(*) FROM lane_google.conversation_messages"),
	'00', 'edge rows: empty tables stay empty');
my $edge_triples = query('rte',
	    "SELECT 'users ' || legacy_id || ' ' || id FROM lane_google.users "
	  . "UNION ALL SELECT 'accounts ' || legacy_id || ' ' || id FROM lane_google.accounts "
	  . "UNION ALL SELECT 'approval_requests ' || legacy_id || ' ' || id FROM lane_google.approval_requests");
update_to('rte', '1.0');
catalog_is('rte', '1.0', '1.0 (edge rows) -> 2.0 -> 1.0');
same_text(rows_text('rte'), $edge1_rows, 'edge rows: 1.0 -> 2.0 -> 1.0 gives back byte-identical tables');
is(query('rte', 'SELECT last_value || is_called::text FROM lane_google.users_id_seq'),
	'2147483647true', 'edge rows: no id left after 2^31-1');
my ($rc, $out, $err) = $node->psql('rte',
	"INSERT INTO lane_google.users (email, username, password_hash, salt, first_name, last_name) VALUES ('n', 'n', 'h', 's', 'f', 'l')");
like($err, qr/reached maximum value of sequence "users_id_seq"/,
	'edge rows: an INSERT past 2^31-1 fails as it did at 1.0');
is(query('rte', 'SELECT nextval(\'lane_google.accounts_id_seq\')'), '8',
	'edge rows: a sequence past a table of 7 and -2^31 gives 8');

# --- 1.0 -> 2.0, rows born at 2.0, -> 1.0 -> 2.0 ------------------------------------

createdb('mixed', 'seed1');
update_to('mixed', '2.0');
query('mixed', $born_sql);
is( query('mixed', join("\nUNION ALL\n", map { "SELECT count(*) FILTER (WHERE legacy_id IS NULL AND substr(id::text, 15, 1) <> '7') FROM lane_google.$_" } @tables)),
	join("\n", (0) x @tables), 'rows born at 2.0 have uuid_generate_v7 ids');
my %s0;    # per table: largest converted id, born rows, converted (legacy_id, id) pairs
for my $t (@tables)
{
	my ($max, $born, $pairs) = split /\|/, query('mixed',
		"SELECT coalesce(max(legacy_id), 0), count(*) FILTER (WHERE legacy_id IS NULL), "
		  . "md5(string_agg(legacy_id || ' ' || id, ',' ORDER BY legacy_id) FILTER (WHERE legacy_id IS NOT NULL)) "
		  . "FROM lane_google.$t");
	$s0{$t} = { max => $max, born => $born, pairs => $pairs };
}
ok((grep { $s0{$_}{born} > 0 } @tables) == @tables, 'every table has rows born at 2.0');
my $mixed_content = content_text('mixed');
my $mixed_rel = relations_text('mixed');

update_to('mixed', '1.0');
catalog_is('mixed', '1.0', '1.0 -> 2.0 -> 1.0 with rows born at 2.0');
same_text(content_text('mixed'), $mixed_content, '2.0 -> 1.0 keeps every row, born or converted');
same_text(relations_text('mixed'), $mixed_rel,
	'2.0 -> 1.0: references to rows born at 2.0 follow their new ids');
my @bad;
for my $t (@tables)
{
	my ($n, $lo, $hi, $old) = split /\|/, query('mixed',
		"SELECT count(*) FILTER (WHERE id > $s0{$t}{max}), min(id) FILTER (WHERE id > $s0{$t}{max}), "
		  . "max(id) FILTER (WHERE id > $s0{$t}{max}), "
		  . "md5(string_agg(id || ' ' || lane_google.legacy_uuid('$t', id), ',' ORDER BY id) FILTER (WHERE id <= $s0{$t}{max})) "
		  . "FROM lane_google.$t");
	my $m = $s0{$t}{max};
	push @bad, "$t: born ids $n from $lo to $hi, want $s0{$t}{born} from " . ($m + 1) . ' to ' . ($m + $s0{$t}{born})
	  unless $n == $s0{$t}{born} && $lo == $m + 1 && $hi == $m + $s0{$t}{born};
	push @bad, "$t: converted rows do not have their original ids back" unless $old eq $s0{$t}{pairs};
}
is_deeply(\@bad, [], '2.0 -> 1.0: converted rows get their ids back, born rows the ids past the largest');
$next = lines_of(next_ids('mixed'));
is_deeply([ grep { $next->{$_}[0] != $next->{$_}[1] } @tables ], [],
	'2.0 -> 1.0: every identity sequence ends past the largest id');
my $max_user = query('mixed', 'SELECT max(id) FROM lane_google.users');
my $max_campaign = query('mixed', 'SELECT max(id) FROM lane_google.campaigns');
is( query('mixed', q{BEGIN;
INSERT INTO lane_google.users (email, username, password_hash, salt, first_name, last_name)
    VALUES ('after@example.org', 'after', 'h', 's', 'After', 'Downgrade') RETURNING id;
INSERT INTO lane_google.campaigns (account_id, created_by_id, name, customer_id)
    SELECT min(id), max(id), 'After', 'x' FROM lane_google.accounts RETURNING id;
ROLLBACK}),
	($max_user + 1) . "\n" . ($max_campaign + 1),
	'2.0 -> 1.0: an INSERT gets the largest id + 1');
my $mixed1_rows = rows_text('mixed');

update_to('mixed', '2.0');
catalog_is('mixed', '2.0', '1.0 -> 2.0 -> 1.0 -> 2.0 (2.0 -> 1.0 -> 2.0)');
same_text(content_text('mixed'), $mixed_content, '2.0 -> 1.0 -> 2.0 keeps every row');
same_text(relations_text('mixed'), $mixed_rel, '2.0 -> 1.0 -> 2.0 keeps every relationship');
same_text(unmapped_rows('mixed'), join("\n", map { "$_ 0" } @tables),
	'2.0 -> 1.0 -> 2.0: every id is legacy_uuid(table, legacy_id), born rows included');
@bad = ();
for my $t (@tables)
{
	my ($n, $lo, $hi, $pairs) = split /\|/, query('mixed',
		"SELECT count(*) FILTER (WHERE legacy_id > $s0{$t}{max}), min(legacy_id) FILTER (WHERE legacy_id > $s0{$t}{max}), "
		  . "max(legacy_id) FILTER (WHERE legacy_id > $s0{$t}{max}), "
		  . "md5(string_agg(legacy_id || ' ' || id, ',' ORDER BY legacy_id) FILTER (WHERE legacy_id <= $s0{$t}{max})) "
		  . "FROM lane_google.$t");
	my $m = $s0{$t}{max};
	push @bad, "$t: converted rows changed ids" unless $pairs eq $s0{$t}{pairs};
	push @bad, "$t: born rows have legacy ids $n from $lo to $hi"
	  unless $n == $s0{$t}{born} && $lo == $m + 1 && $hi == $m + $s0{$t}{born};
}
is_deeply(\@bad, [],
	'2.0 -> 1.0 -> 2.0: converted rows keep their uuids, born rows get legacy_uuid of their new ids');

# Down once more: the same bytes as the first time down
update_to('mixed', '1.0');
same_text(rows_text('mixed'), $mixed1_rows, '2.0 -> 1.0 twice gives the same tables');
update_to('mixed', '2.0');

# 2.0 -> 1.0 -> 2.0 from a fresh 2.0
createdb('rt2', 'seed2');
update_to('rt2', '1.0');
update_to('rt2', '2.0');
catalog_is('rt2', '2.0', '2.0 -> 1.0 -> 2.0');
same_text(content_text('rt2'), $seed2_content, '2.0 -> 1.0 -> 2.0 (fresh 2.0) keeps every row');
same_text(relations_text('rt2'), $seed2_rel, '2.0 -> 1.0 -> 2.0 (fresh 2.0) keeps every relationship');
same_text(unmapped_rows('rt2'), join("\n", map { "$_ 0" } @tables),
	'2.0 -> 1.0 -> 2.0 (fresh 2.0): every id is legacy_uuid(table, legacy_id)');

# --- legacy_uuid() against Python's uuid module ---------------------------------------

SKIP:
{
	my ($python) = map { "$_/python3" } grep { -x "$_/python3" } split /:/, $ENV{PATH};
	skip 'python3 not found', 2 unless $python;
	my $ns = query('mixed', 'SELECT lane_google.legacy_namespace()');
	my $triples = query('mixed', join("\nUNION ALL\n",
		map { "(SELECT '$_ ' || legacy_id || ' ' || id FROM lane_google.$_ ORDER BY legacy_id LIMIT 2)"
			. " UNION ALL (SELECT '$_ ' || legacy_id || ' ' || id FROM lane_google.$_ ORDER BY legacy_id DESC LIMIT 1)" } @tables));
	my $py = 'import sys, uuid
ns = uuid.UUID(sys.argv[1])
for line in sys.stdin.read().splitlines():
    table, legacy_id, _ = line.split(" ")
    print(table, legacy_id, uuid.uuid5(uuid.uuid5(ns, table), legacy_id))';
	my ($pyout, $pyerr);
	IPC::Run::run([ $python, '-c', $py, $ns ], '<', \$triples, '>', \$pyout, '2>', \$pyerr)
	  or diag($pyerr);
	chomp $pyout;
	same_text($pyout, $triples,
		'legacy_uuid() = uuid5(uuid5(legacy_namespace(), table), str(id)) in Python');

	IPC::Run::run([ $python, '-c', $py, query('edge1', 'SELECT lane_google.legacy_namespace()') ],
		'<', \$edge_triples, '>', \$pyout, '2>', \$pyerr)
	  or diag($pyerr);
	chomp $pyout;
	same_text($pyout, $edge_triples, 'legacy_uuid() of ids 0, negative, 2^31-1, -2^31 in Python');
}

# --- pg_dump / pg_restore of a converted database --------------------------------------

my $dump = "$tmp/mixed.dump";
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', 'mixed' ], 'pg_dump -Fc of a converted 2.0 database');
createdb('restored');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', 'restored', $dump ],
	'pg_restore into a fresh database');
# pg_dump records no extension version: the restore creates the default
# (2.2), which holds the same tables; 2.2 -> 2.0 gives back what was dumped
is(query('restored', "SELECT extversion FROM pg_extension WHERE extname = 'lane_google'"),
	'2.2', 'pg_restore installs the default version');
update_to('restored', '2.0');
catalog_is('restored', '2.0', 'pg_dump / pg_restore, then 2.2 -> 2.0');
same_text(rows_text('restored'), rows_text('mixed'), 'the restored database reads back the same rows');
my $campaign = query('mixed', 'SELECT legacy_id FROM lane_google.campaigns ORDER BY legacy_id OFFSET 5 LIMIT 1');
my $mapping = "SELECT lane_google.legacy_namespace(), lane_google.legacy_uuid('campaigns', 42), "
  . "lane_google.legacy_id_of('campaigns', lane_google.legacy_uuid('campaigns', $campaign)), "
  . "lane_google.legacy_uuid('campaigns', $campaign) = (SELECT id FROM lane_google.campaigns WHERE legacy_id = $campaign)";
is(query('restored', $mapping), query('mixed', $mapping),
	'the restored database keeps the mapping (legacy_namespace, legacy_uuid, legacy_id_of)');
like(query('restored', $mapping), qr/\|$campaign\|t$/, 'legacy_id_of inverts legacy_uuid after the restore');

$node->stop;
done_testing();
