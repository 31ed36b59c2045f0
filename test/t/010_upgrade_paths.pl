# test/t/010_upgrade_paths.pl: every path through the version graph.
#
# For every version V (1.0, 2.0) and every path that reaches it (a fresh
# CREATE EXTENSION ... VERSION V, 1.0 -> 2.0, 2.0 -> 1.0, 1.0 -> 2.0 -> 1.0,
# 2.0 -> 1.0 -> 2.0, 1.0 -> 2.0 -> 1.0 -> 2.0, CREATE EXTENSION at the default
# version), all with rows in the tables, the catalog equals the catalog of a
# fresh CREATE EXTENSION lane_google VERSION 'V' (catalog queries, not
# pg_dump: the extension's members, then per member table its columns in
# attnum order, dropped ones included, constraints, indexes, triggers, the
# pg_extension_config_dump registrations and the sequences).  Then the rows:
# 1.0 -> 2.0 -> 1.0 gives back byte-identical tables; 2.0 -> 1.0 -> 2.0 keeps
# every row, the converted rows' ids and every relationship, rows born at 2.0
# get the ids past the largest; the identity sequences end past the largest
# id; edge ids (0, negative, 2^31-1), empty tables and all-NULL foreign keys;
# legacy_uuid() against Python's uuid module; pg_dump / pg_restore of a
# converted database.
use strict;
use warnings FATAL => 'all';

use FindBin;
use File::Spec;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $gen = File::Spec->catfile($FindBin::RealBin, '..', 'gen_legacy.sh');
my $tmp = PostgreSQL::Test::Utils::tempdir();

my @tables = qw(users accounts account_users campaigns ad_groups ads
  analytics_snapshots approval_requests budget_alerts conversations
  conversation_messages);

# The 14 foreign keys: referencing table, column, referenced table
my @fks = (
	[ 'account_users', 'account_id', 'accounts' ],
	[ 'account_users', 'user_id', 'users' ],
	[ 'account_users', 'invited_by', 'users' ],
	[ 'campaigns', 'account_id', 'accounts' ],
	[ 'campaigns', 'created_by_id', 'users' ],
	[ 'ad_groups', 'campaign_id', 'campaigns' ],
	[ 'ads', 'ad_group_id', 'ad_groups' ],
	[ 'analytics_snapshots', 'campaign_id', 'campaigns' ],
	[ 'approval_requests', 'campaign_id', 'campaigns' ],
	[ 'approval_requests', 'requester_id', 'users' ],
	[ 'approval_requests', 'approved_by', 'users' ],
	[ 'budget_alerts', 'campaign_id', 'campaigns' ],
	[ 'conversations', 'user_id', 'users' ],
	[ 'conversation_messages', 'conversation_id', 'conversations' ]);
my %fkcols;
push @{ $fkcols{ $_->[0] } }, $_->[1] for @fks;

my $node = PostgreSQL::Test::Cluster->new('paths');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
fsync = off
client_min_messages = warning
TimeZone = 'UTC'
});
$node->start;

sub query
{
	my ($db, $sql) = @_;
	return $node->safe_psql($db, $sql);
}

sub createdb
{
	my ($db, $template) = @_;
	query('postgres',
		"CREATE DATABASE $db" . ($template ? " TEMPLATE $template" : ''));
}

sub update_to
{
	my ($db, $version) = @_;
	query($db, "ALTER EXTENSION lane_google UPDATE TO '$version'");
	is(query($db, "SELECT extversion FROM pg_extension WHERE extname = 'lane_google'"),
		$version, "$db: at $version");
}

# Two texts equal, or a unified diff of them
sub same_text
{
	my ($got, $want, $name) = @_;
	if ($got eq $want)
	{
		pass($name);
		return;
	}
	(my $base = $name) =~ s/[^A-Za-z0-9]+/_/g;
	my ($fw, $fg) = ("$tmp/$base.expected", "$tmp/$base.got");
	for ([ $fw, $want ], [ $fg, $got ])
	{
		open my $fh, '>', $_->[0] or die "$_->[0]: $!";
		print $fh $_->[1], "\n";
		close $fh;
	}
	my $diff = `diff -u '$fw' '$fg'`;
	fail($name);
	diag("diff expected got:\n$diff");
}

# --- The catalog of the installed extension ----------------------------------

my $catalog_sql = <<'SQL';
WITH ext AS (
    SELECT e.oid, e.extversion, e.extnamespace, e.extconfig, e.extcondition
      FROM pg_catalog.pg_extension e WHERE e.extname = 'lane_google'),
members AS (
    SELECT d.classid, d.objid, d.objsubid
      FROM pg_catalog.pg_depend d, ext
     WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass
       AND d.refobjid = ext.oid AND d.deptype = 'e'),
rels AS (
    SELECT c.oid, c.relname, c.relkind
      FROM pg_catalog.pg_class c JOIN members m
        ON m.classid = 'pg_catalog.pg_class'::regclass AND m.objid = c.oid),
tabs AS (SELECT oid, relname FROM rels WHERE relkind IN ('r', 'p')),
seqs AS (
    SELECT oid FROM rels WHERE relkind = 'S'
    UNION
    SELECT d.objid FROM pg_catalog.pg_depend d JOIN tabs t ON d.refobjid = t.oid
     WHERE d.classid = 'pg_catalog.pg_class'::regclass
       AND d.refclassid = 'pg_catalog.pg_class'::regclass
       AND d.deptype IN ('a', 'i')
       AND EXISTS (SELECT 1 FROM pg_catalog.pg_sequence s WHERE s.seqrelid = d.objid))
SELECT line FROM (
    SELECT 'extension version ' || extversion || ' schema ' || extnamespace::regnamespace AS line
      FROM ext
    UNION ALL
    SELECT 'member ' || pg_catalog.pg_describe_object(classid, objid, objsubid) FROM members
    UNION ALL
    -- whatever else lives in the schema: nothing may be left behind
    SELECT format('in schema: relation %s kind %s', c.relname, c.relkind)
      FROM pg_catalog.pg_class c, ext WHERE c.relnamespace = ext.extnamespace
    UNION ALL
    SELECT format('in schema: function %s', p.oid::regprocedure)
      FROM pg_catalog.pg_proc p, ext WHERE p.pronamespace = ext.extnamespace
    UNION ALL
    SELECT format('in schema: type %s', t.typname)
      FROM pg_catalog.pg_type t, ext WHERE t.typnamespace = ext.extnamespace
    UNION ALL
    SELECT format('relation %s: kind %s persistence %s options %s acl %s replica identity %s',
                  c.relname, c.relkind, c.relpersistence, c.reloptions, c.relacl, c.relreplident)
      FROM pg_catalog.pg_class c JOIN rels r ON r.oid = c.oid
    UNION ALL
    SELECT format('column %s.%s: %s %s not null %s default %s identity %s generated %s dropped %s collation %s',
                  t.relname, lpad(a.attnum::text, 3, '0'), a.attname,
                  pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), a.attidentity,
                  a.attgenerated, a.attisdropped, a.attcollation)
      FROM tabs t
      JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0
      LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
    UNION ALL
    SELECT format('constraint %s.%s: %s', t.relname, co.conname,
                  pg_catalog.pg_get_constraintdef(co.oid))
      FROM tabs t JOIN pg_catalog.pg_constraint co ON co.conrelid = t.oid
    UNION ALL
    SELECT format('index %s.%s: %s', t.relname, i.indexrelid::regclass,
                  pg_catalog.pg_get_indexdef(i.indexrelid))
      FROM tabs t JOIN pg_catalog.pg_index i ON i.indrelid = t.oid
    UNION ALL
    SELECT format('trigger %s.%s: %s enabled %s', t.relname, tg.tgname,
                  pg_catalog.pg_get_triggerdef(tg.oid), tg.tgenabled)
      FROM tabs t JOIN pg_catalog.pg_trigger tg ON tg.tgrelid = t.oid AND NOT tg.tgisinternal
    UNION ALL
    -- the registrations, as a set (their order means nothing to pg_dump)
    SELECT format('config dump %s where %L', c.rel::regclass, c.cond)
      FROM ext, unnest(ext.extconfig, ext.extcondition) AS c(rel, cond)
    UNION ALL
    SELECT format('sequence %s: %s start %s increment %s min %s max %s cache %s cycle %s owned by %s',
                  s.seqrelid::regclass, pg_catalog.format_type(s.seqtypid, NULL), s.seqstart,
                  s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
                  (SELECT string_agg(pg_catalog.pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid)
                                     || ' (' || d.deptype::text || ')', ', ')
                     FROM pg_catalog.pg_depend d
                    WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = s.seqrelid
                      AND d.deptype IN ('a', 'i')))
      FROM seqs q JOIN pg_catalog.pg_sequence s ON s.seqrelid = q.oid
    UNION ALL
    SELECT format('function %s: %s acl %s', p.oid::regprocedure,
                  regexp_replace(pg_catalog.pg_get_functiondef(p.oid), '\s+', ' ', 'g'), p.proacl)
      FROM members m JOIN pg_catalog.pg_proc p
        ON m.classid = 'pg_catalog.pg_proc'::regclass AND m.objid = p.oid
    UNION ALL
    SELECT format('enum %s: %s', t.typname,
                  (SELECT string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder)
                     FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid))
      FROM members m JOIN pg_catalog.pg_type t
        ON m.classid = 'pg_catalog.pg_type'::regclass AND m.objid = t.oid
     WHERE t.typtype = 'e'
    UNION ALL
    SELECT format('comment on %s: %s', pg_catalog.pg_describe_object(m.classid, m.objid, m.objsubid),
                  d.description)
      FROM members m JOIN pg_catalog.pg_description d
        ON d.classoid = m.classid AND d.objoid = m.objid AND d.objsubid = m.objsubid
) AS catalog
ORDER BY line COLLATE "C";
SQL

sub catalog
{
	my ($db) = @_;
	return query($db, $catalog_sql);
}

# --- What the rows say ---------------------------------------------------------

# Per table: row count and md5 of every row as text in id order (1.0: the
# bytes a round trip must give back)
sub rows_text
{
	my ($db) = @_;
	return query(
		$db, join(
			"\nUNION ALL\n",
			map {
				"SELECT '$_ ' || count(*) || ' ' || coalesce(md5(string_agg(x::text, E'\\n' ORDER BY x.id)), '-') FROM lane_google.$_ x"
			} @tables));
}

# The key columns of a table: id, legacy_id and its foreign keys
sub keys_sql
{
	my ($t) = @_;
	return "ARRAY['"
	  . join("', '", 'id', 'legacy_id', @{ $fkcols{$t} || [] })
	  . "']::text[]";
}

# Per table: the multiset of rows without their keys (the same at 1.0 and 2.0)
sub content_text
{
	my ($db) = @_;
	return query(
		$db, join(
			"\nUNION ALL\n",
			map {
				my $k = keys_sql($_);
				"SELECT '$_ ' || count(*) || ' ' || coalesce(md5(string_agg(r, E'\\n' ORDER BY r COLLATE \"C\")), '-')"
				  . " FROM (SELECT (to_jsonb(x) - $k)::text AS r FROM lane_google.$_ x) s"
			} @tables));
}

# Per foreign key: the multiset of (child without keys, its parent without
# keys): a relationship that changed shows here whatever the key values
sub relations_text
{
	my ($db) = @_;
	return query(
		$db, join(
			"\nUNION ALL\n",
			map {
				my ($c, $col, $p) = @$_;
				my ($ck, $pk) = (keys_sql($c), keys_sql($p));
				"SELECT '$c.$col -> $p ' || count(*) || ' ' || count(p.id) || ' '"
				  . " || coalesce(md5(string_agg(((to_jsonb(c) - $ck) || jsonb_build_object('parent', to_jsonb(p) - $pk))::text,"
				  . " E'\\n' ORDER BY ((to_jsonb(c) - $ck) || jsonb_build_object('parent', to_jsonb(p) - $pk))::text COLLATE \"C\")), '-')"
				  . " FROM lane_google.$c c LEFT JOIN lane_google.$p p ON p.id = c.$col"
			} @fks));
}

# 1.0: per table, the id the next INSERT gets and the one it should get
sub next_ids
{
	my ($db) = @_;
	return query(
		$db, join(
			"\nUNION ALL\n",
			map {
				"SELECT '$_ ' || (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM lane_google.${_}_id_seq)"
				  . " || ' ' || (SELECT greatest(coalesce(max(id), 0) + 1, 1) FROM lane_google.$_)"
			} @tables));
}

# 2.0: rows whose id is not legacy_uuid(table, legacy_id)
sub unmapped_rows
{
	my ($db) = @_;
	return query(
		$db, join(
			"\nUNION ALL\n",
			map {
				"SELECT '$_ ' || count(*) FILTER (WHERE legacy_id IS NULL OR id <> lane_google.legacy_uuid('$_', legacy_id)) FROM lane_google.$_"
			} @tables));
}

sub lines_of
{
	my ($text) = @_;
	my %h;
	for (split /\n/, $text)
	{
		my ($t, @rest) = split / /;
		$h{$t} = \@rest;
	}
	return \%h;
}

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

sub generate
{
	my ($db, $scale) = @_;
	local $ENV{PGHOST} = $node->host;
	local $ENV{PGPORT} = $node->port;
	local $ENV{PGDATABASE} = $db;
	local $ENV{PG_CONFIG} = $node->config_data('--bindir') . '/pg_config';
	my ($out, $err);
	my $ok = IPC::Run::run([ 'bash', $gen, '--scale', $scale, '--target', 'extension' ],
		'>', \$out, '2>', \$err);
	ok($ok, "$db: gen_legacy.sh --scale $scale") or diag("$out\n$err");
}

# --- The reference catalogs ----------------------------------------------------

createdb('ref1');
query('ref1', "CREATE EXTENSION lane_google VERSION '1.0'");
createdb('ref2');
query('ref2', "CREATE EXTENSION lane_google VERSION '2.0'");
my %want = ('1.0' => catalog('ref1'), '2.0' => catalog('ref2'));
like($want{'1.0'}, qr/^column users\.001: id integer not null t default  identity d/m,
	'1.0 reference: integer identity keys');
like($want{'2.0'}, qr/^column users\.024: legacy_id bigint/m,
	'2.0 reference: legacy_id last');
isnt($want{'1.0'}, $want{'2.0'}, 'the two versions differ');

sub catalog_is
{
	my ($db, $version, $path) = @_;
	same_text(catalog($db), $want{$version},
		"catalog after $path ($db) = fresh CREATE EXTENSION VERSION '$version'");
}

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

createdb('dflt');
query('dflt', 'CREATE EXTENSION lane_google');
query('dflt', $born_sql);
catalog_is('dflt', '2.0', 'CREATE EXTENSION lane_google (default version)');

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
catalog_is('restored', '2.0', 'pg_dump / pg_restore');
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
