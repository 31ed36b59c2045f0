# test/t/013_version_30.pl: version 3.0, the tenant-keyed layout
# (doc/citus.md, section 2), on a plain PostgreSQL.
#
# 3.0 is 2.2 with account_id (user_id for conversation_messages) as the
# tenant key of every tenant table.  Its scripts are generated from
# scripts/tenant-*.sql by the Makefile and no install script exists:
# PostgreSQL reaches 3.0 through 2.2.  Checked here:
# - every path's catalog equals a fresh CREATE EXTENSION ... VERSION of its
#   end (LgPaths: columns compared in their order, dropped attributes aside);
# - 2.2 -> 3.0 keeps every row and relationship and fills every tenant key
#   as a join through the 2.2 parents says; 3.0 -> 2.2 gives back
#   byte-identical rows; 3.0 -> 2.2 -> 3.0; 1.0 -> 3.0 in one ALTER;
# - every object 3.0 adds has a comment;
# - pg_dump / pg_restore of a 3.0 database: into the extension created at
#   3.0 first (a plain restore installs the default, 2.2, and refuses the
#   rows, naming the column);
# - an orphan planted with triggers disabled, an application's foreign key
#   into campaigns (id), a view grouped by a primary key: the update
#   refuses by name and 2.2 is left as it was; the way back refuses a view
#   on a tenant key column; a plain view keeps working both ways;
# - writes that omit the tenant key get the parent's (also under a hostile
#   search_path), a wrong one is refused by the composite foreign key;
# - kill -9 of the backend running the update, held at a provable point
#   (an advisory lock): 2.2 intact after the restart, then the update runs.
use strict;
use warnings FATAL => 'all';

use FindBin;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use LgPaths;
use LgReliab;

my ($node, $tmp) = lg_paths_node('version30');

my %want = %{ reference_catalogs('2.2', '3.0') };
like($want{'3.0'}, qr/^constraint ad_groups\.ad_groups_account_id_campaign_id_fkey: FOREIGN KEY \(account_id, campaign_id\) REFERENCES lane_google\.campaigns\(account_id, id\) ON DELETE CASCADE$/m,
	'3.0: the composite foreign key');
like($want{'3.0'}, qr/^constraint conversation_messages\.conversation_messages_pkey: PRIMARY KEY \(user_id, id\)$/m,
	'3.0: conversation_messages keyed by user');
unlike($want{'3.0'}, qr/^constraint users\.users_pkey: PRIMARY KEY \(account_id/m, '3.0: users unchanged');

# psql's error, with its SQLSTATE
sub fails
{
	my ($db, $sql) = @_;
	my ($ret, $out, $err) = $node->psql($db, "\\set VERBOSITY verbose\n$sql");
	return $ret == 0 ? '' : $err;
}

sub version_of
{
	return query($_[0], "SELECT extversion FROM pg_extension WHERE extname = 'lane_google'");
}

# --- comments ----------------------------------------------------------------

# Every member table, column, function and enum type; every constraint,
# index and trigger 3.0 adds: none without a comment
my $undescribed_sql = <<'SQL';
WITH m AS (
    SELECT d.classid, d.objid
      FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
     WHERE e.extname = 'lane_google' AND d.deptype = 'e'
       AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass),
tabs AS (
    SELECT c.oid FROM m JOIN pg_catalog.pg_class c
        ON m.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND c.oid = m.objid AND c.relkind = 'r'),
objs AS (
    SELECT m.classid, m.objid, 0 AS objsubid FROM m
      LEFT JOIN pg_catalog.pg_class c ON m.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND c.oid = m.objid
      LEFT JOIN pg_catalog.pg_type t ON m.classid = 'pg_catalog.pg_type'::pg_catalog.regclass AND t.oid = m.objid
     WHERE m.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass OR c.relkind = 'r' OR t.typtype = 'e'
    UNION ALL
    SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, a.attrelid, a.attnum FROM tabs
      JOIN pg_catalog.pg_attribute a ON a.attrelid = tabs.oid AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT 'pg_catalog.pg_constraint'::pg_catalog.regclass, co.oid, 0 FROM tabs
      JOIN pg_catalog.pg_constraint co ON co.conrelid = tabs.oid
     WHERE pg_catalog.pg_get_constraintdef(co.oid)
           ~ '^(PRIMARY KEY \((account|user)_id, id\)|FOREIGN KEY \((account|user)_id, |UNIQUE \(account_id, campaign_id)'
    UNION ALL
    SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, i.indexrelid, 0 FROM tabs
      JOIN pg_catalog.pg_index i ON i.indrelid = tabs.oid
     WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint co WHERE co.conindid = i.indexrelid)
       AND (i.indkey::int2[] = ARRAY[(SELECT a.attnum FROM pg_catalog.pg_attribute a
                                       WHERE a.attrelid = tabs.oid AND a.attname = 'id')]
            OR pg_catalog.pg_get_indexdef(i.indexrelid) ~ '\((account|user)_id, ')
    UNION ALL
    SELECT 'pg_catalog.pg_trigger'::pg_catalog.regclass, tg.oid, 0 FROM tabs
      JOIN pg_catalog.pg_trigger tg ON tg.tgrelid = tabs.oid AND tg.tgname ~ '_set_(account|user)_id$')
SELECT pg_catalog.pg_describe_object(o.classid, o.objid, o.objsubid) AS object
  FROM objs o
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_description d
                    WHERE d.classoid = o.classid AND d.objoid = o.objid AND d.objsubid = o.objsubid)
 ORDER BY 1
SQL
is(query('ref30', $undescribed_sql), '', '3.0: every table, column, function, type and tenant key object has a comment');
is(query('ref30', "SELECT count(*) FROM pg_catalog.pg_description d JOIN pg_catalog.pg_constraint co"
	  . " ON d.classoid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND d.objoid = co.oid"
	  . " JOIN pg_catalog.pg_namespace n ON n.oid = co.connamespace AND n.nspname = 'lane_google'"),
	'16', '3.0: comments on the 16 tenant key constraints (9 primary keys, 6 foreign keys, 1 unique key)');
is(query('ref22', "SELECT count(*) FROM pg_catalog.pg_description d"
	  . " WHERE d.classoid IN ('pg_catalog.pg_constraint'::pg_catalog.regclass, 'pg_catalog.pg_trigger'::pg_catalog.regclass)"),
	'0', '2.2 has no comment on a constraint or trigger');

# --- 2.2 with rows ------------------------------------------------------------

createdb('seed10');
query('seed10', "CREATE EXTENSION lane_google VERSION '1.0'");
generate('seed10', '0.001');
createdb('seed22', 'seed10');
update_to('seed22', '2.2');
my $rows22 = rows_text('seed22');
my $content22 = content_text('seed22');
my $rel22 = relations_text('seed22');
unlike($rows22, qr/ 0 -$/m, 'seed22: every table has rows');

# Per child table: its rows' tenant keys, md5 of "id key" in id order.  At
# 2.2 by a join through the parents, at 3.0 the column.
my %via = (
	ad_groups => 'JOIN lane_google.campaigns p ON p.id = x.campaign_id',
	ads => 'JOIN lane_google.ad_groups g ON g.id = x.ad_group_id JOIN lane_google.campaigns p ON p.id = g.campaign_id',
	analytics_snapshots => 'JOIN lane_google.campaigns p ON p.id = x.campaign_id',
	approval_requests => 'JOIN lane_google.campaigns p ON p.id = x.campaign_id',
	budget_alerts => 'JOIN lane_google.campaigns p ON p.id = x.campaign_id',
	conversation_messages => 'JOIN lane_google.conversations p ON p.id = x.conversation_id');
my @children = sort keys %via;

sub tenants_text
{
	my ($db, $joined) = @_;
	return join "\n", map {
		my $k = $tenant_key{$_};
		my ($from, $key) = $joined ? ("lane_google.$_ x $via{$_}", "p.$k") : ("lane_google.$_ x", "x.$k");
		query($db, "SELECT '$_ ' || count(*) || ' ' || md5(string_agg(x.id || ' ' || $key, E'\\n' ORDER BY x.id)) FROM $from");
	} @children;
}
my $tenants22 = tenants_text('seed22', 1);

# --- 2.2 -> 3.0 -> 2.2 ---------------------------------------------------------

createdb('up30', 'seed22');
update_to('up30', '3.0');
catalog_is('up30', '3.0', '2.2 -> 3.0');
is(query('up30', 'SELECT count(*) FROM lane_google.conversion_plan()'), '0',
	"conversion_plan() at 3.0 takes the layout's own keys, indexes and triggers for the extension's");
same_text(content_text('up30'), $content22, '2.2 -> 3.0 keeps every row');
same_text(relations_text('up30'), $rel22, '2.2 -> 3.0 keeps every relationship');
same_text(tenants_text('up30', 0), $tenants22,
	'2.2 -> 3.0: every account_id / user_id is the one a join through the 2.2 parents gives');
same_text(unmapped_rows('up30'), join("\n", map { "$_ 0" } @tables),
	'2.2 -> 3.0: every id is still legacy_uuid(table, legacy_id)');
is(query('up30', 'SELECT phase, tables_copied, next_step FROM lane_google.online_readiness()'),
	'converted|11|none', 'online_readiness() at 3.0: converted, nothing to do');
is(query('up30', "SELECT count(*) FROM lane_google.validate_fk_integrity('lane_google')"), '0',
	'validate_fk_integrity() at 3.0: nothing to report');
my $updated_at = join ' ', map { query('seed22', "SELECT max(updated_at) FROM lane_google.$_") } qw(ad_groups ads);
is(join(' ', map { query('up30', "SELECT max(updated_at) FROM lane_google.$_") } qw(ad_groups ads)),
	$updated_at, 'the fill touches no updated_at');

# The fill's look-up of a parent's tenant key (src/tenant_fill.c), both ways:
# a hash table of the parent read by one scan while it fits in
# maintenance_work_mem, a look-up by id per row past that (20,000 parents
# at 64 bytes each are over 1MB).  Both give what a join gives, and NULL for
# an id no parent has.
query('up30', q{
CREATE SCHEMA fill;
CREATE FUNCTION fill.tenant_of(regclass, name, uuid) RETURNS uuid
    AS '$libdir/lane_google', 'lg_tenant_of' LANGUAGE C STABLE STRICT;
CREATE TABLE fill.parent (id uuid PRIMARY KEY, account_id uuid);
INSERT INTO fill.parent
    SELECT md5('p' || i)::uuid, CASE WHEN i % 100 <> 0 THEN md5('a' || (i % 37))::uuid END
      FROM generate_series(1, 20000) i;
CREATE TABLE fill.child AS SELECT md5('p' || i)::uuid AS parent_id FROM generate_series(1, 20500) i;
ANALYZE fill.parent, fill.child});
my $fill_sql = q{
SELECT count(*) || ' ' || count(t) || ' ' || count(*) FILTER (WHERE t IS NOT DISTINCT FROM p.account_id)
  FROM (SELECT c.parent_id, fill.tenant_of('fill.parent', 'account_id', c.parent_id) AS t FROM fill.child c) x
  LEFT JOIN fill.parent p ON p.id = x.parent_id};
is(query('up30', "SET maintenance_work_mem = '64MB'; $fill_sql"), '20500 19800 20500',
	'tenant look-up by a hash table of the parent: the join\'s answer for every row, NULL for 700');
is(query('up30', "SET maintenance_work_mem = '1MB'; $fill_sql"), '20500 19800 20500',
	'tenant look-up by id per row (the parent over maintenance_work_mem): the same answers');
query('up30', 'DROP SCHEMA fill CASCADE');

createdb('back22', 'up30');
update_to('back22', '2.2');
catalog_is('back22', '2.2', '2.2 -> 3.0 -> 2.2');
same_text(rows_text('back22'), $rows22, '2.2 -> 3.0 -> 2.2 gives back byte-identical rows');

update_to('back22', '3.0');
catalog_is('back22', '3.0', '2.2 -> 3.0 -> 2.2 -> 3.0');
same_text(tenants_text('back22', 0), $tenants22, '... every tenant key filled again');

# 1.0 -> 3.0 in one ALTER EXTENSION (through 2.2)
createdb('direct', 'seed10');
update_to('direct', '3.0');
catalog_is('direct', '3.0', '1.0 -> 3.0');
same_text(content_text('direct'), $content22, '1.0 -> 3.0: every row');
same_text(tenants_text('direct', 0), $tenants22, '1.0 -> 3.0: every tenant key');

# and from 3.0 back to 1.0's successor 1.2, through 2.2
createdb('down12', 'up30');
update_to('down12', '1.2');
same_text(rows_text('down12'), rows_text('seed10'), '3.0 -> 1.2: the 1.0 rows, byte-identical');

is(version_of('seed22') . ' ' . query('postgres', "SELECT default_version FROM pg_available_extensions WHERE name = 'lane_google'"),
	'2.2 2.2', 'the default version stays 2.2');

# --- pg_dump / pg_restore at 3.0 ----------------------------------------------

my $dump = "$tmp/up30.dump";
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', 'up30' ], 'pg_dump -Fc of a 3.0 database');
# pg_dump writes CREATE EXTENSION IF NOT EXISTS without a version: a plain
# restore installs the default, 2.2, whose tables lack the tenant keys
createdb('plainrestore');
my ($out, $err) = ('', '');
IPC::Run::run([ $node->installed_command('pg_restore'), '--exit-on-error', '-d', $node->connstr('plainrestore'), $dump ],
	'>', \$out, '2>', \$err);
like($err, qr/column "account_id" of relation "ad_groups" does not exist/,
	'a plain restore of a 3.0 dump installs 2.2 and refuses the rows, naming the column');
# the way: the schema objects first (the extension at 2.2, with empty
# tables), the update to 3.0, then the rows and what comes after them (a
# database with the extension created at 3.0 beforehand does not do: the
# dump creates the schema lane_google, which exists then)
createdb('restored');
$node->command_ok([ 'pg_restore', '--exit-on-error', '--section=pre-data', '-d', 'restored', $dump ],
	'pg_restore --section=pre-data of a 3.0 dump');
is(version_of('restored'), '2.2', '... installs the default version, 2.2, its tables empty');
update_to('restored', '3.0');
$node->command_ok(
	[ 'pg_restore', '--exit-on-error', '--section=data', '--section=post-data', '-d', 'restored', $dump ],
	'pg_restore --section=data --section=post-data into it, at 3.0');
same_text(rows_text('restored'), rows_text('up30'), 'the restored 3.0 database reads back the same rows');
catalog_is('restored', '3.0', 'pg_dump / pg_restore of 3.0');

# --- refusals -------------------------------------------------------------------

# an orphan planted with triggers disabled: refused by name, 2.2 as it was
createdb('orphan', 'seed22');
query('orphan', q{
SET session_replication_role = replica;
INSERT INTO lane_google.ad_groups (id, campaign_id, name)
    VALUES ('00000000-0000-7000-8000-00000000000a', '00000000-0000-7000-8000-0000000000ca', 'orphan');
INSERT INTO lane_google.conversation_messages (id, conversation_id, role, content)
    VALUES ('00000000-0000-7000-8000-00000000000b', '00000000-0000-7000-8000-0000000000cb', 'user', 'orphan');
});
my $orphan_rows = rows_text('orphan');
my $e = fails('orphan', "ALTER EXTENSION lane_google UPDATE TO '3.0'");
like($e, qr/ERROR:  23503: cannot update extension lane_google to 3\.0: rows whose parent row is missing/,
	'an orphan refuses the update (23503)');
like($e, qr/ad_groups: 1 rows whose campaign_id matches no row of campaigns \(ids 00000000-0000-7000-8000-00000000000a\)/,
	'... naming the ad group');
like($e, qr/conversation_messages: 1 rows whose conversation_id matches no row of conversations/,
	'... and the message');
is(version_of('orphan'), '2.2', 'the orphan leaves 2.2');
same_text(rows_text('orphan'), $orphan_rows, '... with its rows');
catalog_is('orphan', '2.2', 'a refused update');

# the application's foreign key into campaigns (id), a view grouped by a
# primary key: refused by name before anything changes
createdb('appfk', 'seed22');
query('appfk', q{
CREATE TABLE public.notes (id int PRIMARY KEY, campaign_id uuid REFERENCES lane_google.campaigns (id));
CREATE VIEW public.ad_group_counts AS
    SELECT g.id, g.name, count(a.id) AS ads
      FROM lane_google.ad_groups g LEFT JOIN lane_google.ads a ON a.ad_group_id = g.id GROUP BY g.id;
CREATE VIEW public.plain_ads AS SELECT id, ad_group_id, status FROM lane_google.ads;
});
$e = fails('appfk', "ALTER EXTENSION lane_google UPDATE TO '3.0'");
like($e, qr/ERROR:  2BP01: cannot update extension lane_google to 3\.0 because other objects depend on keys it changes/,
	'dependents refuse the update (2BP01)');
like($e, qr/constraint notes_campaign_id_fkey on table public\.notes depends on index lane_google\.campaigns_pkey/,
	'... naming the foreign key into campaigns (id)');
like($e, qr/rule _RETURN on view public\.ad_group_counts depends on constraint ad_groups_pkey on table lane_google\.ad_groups/,
	'... and the view grouped by the primary key');
like($e, qr/HINT:  Nothing was changed\.  In 3\.0 the rows of the tenant tables are unique by \(account_id, id\)/,
	'... with the hint');
is(version_of('appfk'), '2.2', 'refused: still 2.2');
catalog_is('appfk', '2.2', 'a refused update (dependents)');
my $plain = query('appfk', 'SELECT count(*), md5(string_agg(id::text, \',\' ORDER BY id)) FROM public.plain_ads');
query('appfk', 'DROP TABLE public.notes; DROP VIEW public.ad_group_counts');
update_to('appfk', '3.0');
is(query('appfk', 'SELECT count(*), md5(string_agg(id::text, \',\' ORDER BY id)) FROM public.plain_ads'), $plain,
	'a plain view over a tenant table works at 3.0');
query('appfk', 'CREATE VIEW public.ad_tenants AS SELECT id, account_id FROM lane_google.ads');
$e = fails('appfk', "ALTER EXTENSION lane_google UPDATE TO '2.2'");
like($e, qr/ERROR:  2BP01: cannot update extension lane_google to 2\.2 .*\nDETAIL:  rule _RETURN on view public\.ad_tenants depends on column account_id of table lane_google\.ads/,
	'the way back refuses a view on a tenant key, by name');
is(version_of('appfk'), '3.0', 'refused: still 3.0');
query('appfk', 'DROP VIEW public.ad_tenants');
update_to('appfk', '2.2');
is(query('appfk', 'SELECT count(*), md5(string_agg(id::text, \',\' ORDER BY id)) FROM public.plain_ads'), $plain,
	'... and at 2.2 again');

# --- writes at 3.0 ---------------------------------------------------------------

createdb('writes', 'up30');
my ($camp, $acct) = split /\|/, query('writes', 'SELECT id, account_id FROM lane_google.campaigns ORDER BY id LIMIT 1');
my $other = query('writes', "SELECT id FROM lane_google.accounts WHERE id <> '$acct' ORDER BY id LIMIT 1");
is(query('writes', "INSERT INTO lane_google.ad_groups (campaign_id, name) VALUES ('$camp', 'new') RETURNING account_id"),
	$acct, 'an INSERT without account_id gets the campaign\'s');
my $group = query('writes', "SELECT id FROM lane_google.ad_groups WHERE name = 'new'");
is(query('writes', "INSERT INTO lane_google.ads (ad_group_id) VALUES ('$group') RETURNING account_id"),
	$acct, '... and an ad under it, the ad group\'s');
for my $t (qw(analytics_snapshots approval_requests budget_alerts))
{
	my %cols = (
		analytics_snapshots => "(campaign_id, snapshot_date) VALUES ('$camp', '1999-01-01')",
		approval_requests => "(campaign_id, requester_id, request_type, title) SELECT '$camp', id, 'x', 'x' FROM lane_google.users LIMIT 1",
		budget_alerts => "(campaign_id, alert_type, message, current_spend, budget_limit, projected_spend) VALUES ('$camp', 'at_risk', 'x', 1, 2, 3)");
	is(query('writes', "INSERT INTO lane_google.$t $cols{$t} RETURNING account_id"), $acct, "$t: account_id filled");
}
my ($conv, $user) = split /\|/, query('writes', 'SELECT id, user_id FROM lane_google.conversations ORDER BY id LIMIT 1');
is(query('writes', "INSERT INTO lane_google.conversation_messages (conversation_id, role, content) VALUES ('$conv', 'user', 'hi') RETURNING user_id"),
	$user, 'conversation_messages: user_id filled from the conversation');
$e = fails('writes', "INSERT INTO lane_google.ad_groups (account_id, campaign_id, name) VALUES ('$other', '$camp', 'wrong')");
like($e, qr/ERROR:  23503: insert or update on table "ad_groups" violates foreign key constraint "ad_groups_account_id_campaign_id_fkey"/,
	'a wrong account_id is refused by the composite foreign key');
$e = fails('writes', "INSERT INTO lane_google.ad_groups (campaign_id, name) VALUES ('00000000-0000-7000-8000-000000000000', 'none')");
like($e, qr/ERROR:  23503: insert or update on table "ad_groups" names a campaign_id that does not exist/,
	'a campaign that does not exist: refused by the trigger (23503)');
my $camp2 = query('writes', "SELECT id FROM lane_google.campaigns WHERE account_id = '$acct' AND id <> '$camp' LIMIT 1");
SKIP:
{
	skip 'no second campaign in the account', 1 if $camp2 eq '';
	is(query('writes', "UPDATE lane_google.ad_groups SET campaign_id = '$camp2', account_id = NULL WHERE id = '$group' RETURNING account_id"),
		$acct, 'an UPDATE of campaign_id leaving account_id NULL gets it filled');
}
# a hostile search_path: an operator = on uuid that matches everything, a
# table campaigns of its own: the trigger still finds the right campaign
query('writes', q{
CREATE SCHEMA evil;
CREATE FUNCTION evil.always(uuid, uuid) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR evil.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = evil.always);
CREATE TABLE evil.campaigns (id uuid, account_id uuid);
GRANT USAGE ON SCHEMA evil TO PUBLIC;
});
my $camp_last = query('writes', "SELECT id FROM lane_google.campaigns ORDER BY id DESC LIMIT 1");
my $acct_last = query('writes', "SELECT account_id FROM lane_google.campaigns ORDER BY id DESC LIMIT 1");
query('writes', "INSERT INTO evil.campaigns VALUES ('$camp_last', '$other')");
is(query('writes', "SET search_path = evil, pg_catalog, public;"
	  . " INSERT INTO lane_google.ad_groups (campaign_id, name) VALUES ('$camp_last', 'safe') RETURNING account_id"),
	$acct_last, 'under a hostile search_path the trigger reads lane_google.campaigns with pg_catalog\'s =');

# --- kill -9 of the backend running the update -----------------------------------

createdb('crash', 'seed22');
my $gate_key = 4343;
query('crash', qq{
CREATE FUNCTION public.lg_gate() RETURNS event_trigger LANGUAGE plpgsql AS \$\$
BEGIN
    IF current_setting('lg.gate', true) = 'on' AND tg_tag = 'CREATE INDEX' THEN
        PERFORM pg_advisory_xact_lock_shared($gate_key);
    END IF;
END \$\$;
CREATE EVENT TRIGGER lg_gate ON ddl_command_end EXECUTE FUNCTION public.lg_gate();
});
my $crash_rows = rows_text('crash');
my $holder = $node->background_psql('crash');
$holder->query_safe("SELECT pg_advisory_lock($gate_key)");
my $connstr = $node->connstr('crash') . " application_name=lg_victim options='-c lg.gate=on'";
my ($vout, $verr) = ('', '');
my $h = IPC::Run::start(
	[ $node->installed_command('psql'), '-XAtq', '-d', $connstr, '-c', "ALTER EXTENSION lane_google UPDATE TO '3.0'" ],
	'>', \$vout, '2>', \$verr);
my $waiting = q{SELECT a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
	 WHERE a.application_name = 'lg_victim' AND l.locktype = 'advisory' AND NOT l.granted};
ok($node->poll_query_until('crash', "SELECT count(*) > 0 FROM ($waiting) w"),
	'the update waits at its first CREATE INDEX (the tenant keys filled, the primary keys swapped)');
my $pid = query('crash', $waiting);
is(query('crash', "SELECT count(*) FROM pg_attribute WHERE attrelid = 'lane_google.ad_groups'::regclass AND attname = 'account_id'"),
	'0', 'no other session sees the update\'s work');
kill 'KILL', $pid;
$h->finish;
{
	local $SIG{PIPE} = 'IGNORE';
	eval { $holder->quit; };
}
ok(LgReliab::lg_wait_restarted($node, 'crash'), 'the server restarted after the kill');
is(version_of('crash'), '2.2', 'after kill -9 of the update: 2.2');
same_text(rows_text('crash'), $crash_rows, '... every row as it was');
catalog_is('crash', '2.2', 'a killed update');
query('crash', 'DROP EVENT TRIGGER lg_gate');
update_to('crash', '3.0');
same_text(tenants_text('crash', 0), $tenants22, 'the update runs after the crash');

$node->stop;
done_testing();
