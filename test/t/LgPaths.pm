# test/t/LgPaths.pm: what the upgrade-path tests compare (010_upgrade_paths.pl,
# 011_versions_11_21.pl): the extension's catalog as one text, per-table row
# checksums, rows without their keys, relationships, unmapped rows; and
# the legacy-data generator.
#
#   lg_paths_init($node, $tmpdir)   the cluster the functions below query
#   catalog($db)                    the catalog of the installed extension
#   rows_text, content_text, relations_text, unmapped_rows, next_ids($db)
#   same_text($got, $want, $name)   equal, or a unified diff
#   generate($db, $scale)           test/gen_legacy.sh --target extension
package LgPaths;

use strict;
use warnings;

use Exporter 'import';
use FindBin;
use File::Spec;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT = qw(lg_paths_init lg_paths_node query createdb update_to same_text catalog
  reference_catalogs catalog_is rows_text keys_sql content_text relations_text next_ids unmapped_rows
  lines_of generate @tables @fks %tenant_key);

my $gen = File::Spec->catfile($FindBin::RealBin, '..', 'gen_legacy.sh');
my ($node, $tmp);

sub lg_paths_init
{
	($node, $tmp) = @_;
	return;
}

# The suites' node, started (fsync off, warnings only, UTC, restarted after a
# crash), and a temporary directory; the helpers below work on them
sub lg_paths_node
{
	my ($name) = @_;
	my $n = PostgreSQL::Test::Cluster->new($name);
	$n->init;
	$n->append_conf(
		'postgresql.conf', q{
fsync = off
client_min_messages = warning
TimeZone = 'UTC'
restart_after_crash = on
});
	$n->start;
	lg_paths_init($n, PostgreSQL::Test::Utils::tempdir());
	return ($n, $tmp);
}

our @tables = qw(users accounts account_users campaigns ad_groups ads
  analytics_snapshots approval_requests budget_alerts conversations
  conversation_messages);

# The 14 foreign keys: referencing table, column, referenced table
our @fks = (
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
    -- columns by their position among the table's live columns: a column
    -- dropped (3.0 -> 2.2 drops account_id) leaves a dropped attribute
    -- that no row, view, COPY or dump shows and that only a new table
    -- would shed; the columns a user sees, in their order, are compared
    SELECT format('column %s.%s: %s %s not null %s default %s identity %s generated %s collation %s',
                  t.relname,
                  lpad((row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum))::text, 3, '0'),
                  a.attname,
                  pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), a.attidentity,
                  a.attgenerated, a.attcollation)
      FROM tabs t
      JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
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

# One query of the SELECTs, its rows in their order: a UNION ALL alone gives
# no order (PostgreSQL 18 ran one as a Parallel Append)
sub in_order
{
	my $i = 0;
	return 'SELECT l FROM ('
	  . join("\nUNION ALL\n", map { $i++; (my $q = $_) =~ s/^SELECT /SELECT $i, /; $q } @_)
	  . ') AS u(o, l) ORDER BY o';
}

# reference_catalogs(VERSION...): each version freshly installed (CREATE
# EXTENSION ... VERSION in database refNN); its catalog, by version, is what
# catalog_is() compares with
my %reference;

sub reference_catalogs
{
	for my $v (@_)
	{
		(my $db = "ref$v") =~ s/\.//;
		createdb($db);
		query($db, "CREATE EXTENSION lane_google VERSION '$v'");
		$reference{$v} = catalog($db);
	}
	return \%reference;
}

# catalog_is(DB, VERSION, PATH): DB's catalog equals a fresh VERSION's
sub catalog_is
{
	my ($db, $version, $path) = @_;
	same_text(catalog($db), $reference{$version},
		"catalog after $path ($db) = fresh CREATE EXTENSION VERSION '$version'");
}

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
		$db, in_order(
			map {
				"SELECT '$_ ' || count(*) || ' ' || coalesce(md5(string_agg(x::text, E'\\n' ORDER BY x.id)), '-') FROM lane_google.$_ x"
			} @tables));
}

# The tenant key a child table has at 3.0 (doc/citus.md): a key as well
our %tenant_key = (
	ad_groups => 'account_id',
	ads => 'account_id',
	analytics_snapshots => 'account_id',
	approval_requests => 'account_id',
	budget_alerts => 'account_id',
	conversation_messages => 'user_id');

# The key columns of a table: id, legacy_id, its foreign keys and its
# tenant key (absent before 3.0: removing it from a row is then a no-op)
sub keys_sql
{
	my ($t) = @_;
	return "ARRAY['"
	  . join("', '", 'id', 'legacy_id', @{ $fkcols{$t} || [] },
		$tenant_key{$t} ? ($tenant_key{$t}) : ())
	  . "']::text[]";
}

# Per table: the multiset of rows without their keys (the same at 1.0 and 2.0)
sub content_text
{
	my ($db) = @_;
	return query(
		$db, in_order(
			map {
				my $k = keys_sql($_);
				"SELECT '$_ ' || count(*) || ' ' || coalesce(md5(string_agg(r, E'\\n' ORDER BY r COLLATE \"C\")), '-')"
				  . " FROM (SELECT (to_jsonb(x) - $k)::text AS r FROM lane_google.$_ x) s"
			} @tables));
}

# Per foreign key: the multiset of (child without keys, its parent without
# keys): a relationship that changed shows here whatever the key values.
# SCHEMA (lane_google unless given): where the 11 tables are read
sub relations_text
{
	my ($db, $schema) = @_;
	$schema //= 'lane_google';
	return query(
		$db, in_order(
			map {
				my ($c, $col, $p) = @$_;
				my ($ck, $pk) = (keys_sql($c), keys_sql($p));
				"SELECT '$c.$col -> $p ' || count(*) || ' ' || count(p.id) || ' '"
				  . " || coalesce(md5(string_agg(((to_jsonb(c) - $ck) || jsonb_build_object('parent', to_jsonb(p) - $pk))::text,"
				  . " E'\\n' ORDER BY ((to_jsonb(c) - $ck) || jsonb_build_object('parent', to_jsonb(p) - $pk))::text COLLATE \"C\")), '-')"
				  . " FROM $schema.$c c LEFT JOIN $schema.$p p ON p.id = c.$col"
			} @fks));
}

# 1.0: per table, the id the next INSERT gets and the one it should get
sub next_ids
{
	my ($db) = @_;
	return query(
		$db, in_order(
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
		$db, in_order(
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

1;
