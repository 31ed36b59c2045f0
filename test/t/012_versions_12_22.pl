# test/t/012_versions_12_22.pl: the paths through versions 1.2 and 2.2.
#
# 1.2 is 1.1 and 2.2 is 2.1 with every object a user sees described
# (COMMENT ON); their update scripts are generated from scripts/ by the
# Makefile, and no install script exists: PostgreSQL reaches them through
# 1.0--1.1--1.2 and 2.0--2.1--2.2.  For every path the catalog (comments
# included) must equal a fresh CREATE EXTENSION ... VERSION of its end:
# - 1.1 -> 1.2 -> 1.1 and 2.1 -> 2.2 -> 2.1 change no row and end where they
#   started;
# - 1.2 -> 2.2 (PostgreSQL goes 1.2 -> 1.1 -> 2.1 -> 2.2) converts every row
#   and relationship, every id legacy_uuid(), offline and online (the swap
#   of an online backfill started at 1.2); 2.2 -> 1.2 gives back
#   byte-identical tables; 1.0 -> 2.2 takes either shortest path;
# - at 1.2 and 2.2 every table, column of the 11 tables, function and enum
#   type of the extension has a comment; at 1.1 and 2.1 none has;
# - pg_dump / pg_restore of a 2.2 database reads back its rows at the default
#   version, 2.2, comments included;
# - CREATE EXTENSION and a plain ALTER EXTENSION UPDATE go to 2.2.
use strict;
use warnings FATAL => 'all';

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use LgPaths;

my ($node, $tmp) = lg_paths_node('versions12');

my %want = %{ reference_catalogs('1.1', '1.2', '2.1', '2.2') };


# The member objects a user sees that have no comment
my $undescribed_sql = <<'SQL';
WITH m AS (
    SELECT d.classid, d.objid
      FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
     WHERE e.extname = 'lane_google' AND d.deptype = 'e'
       AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass),
objs AS (
    SELECT m.classid, m.objid, 0 AS objsubid FROM m
      LEFT JOIN pg_catalog.pg_class c ON m.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND c.oid = m.objid
      LEFT JOIN pg_catalog.pg_type t ON m.classid = 'pg_catalog.pg_type'::pg_catalog.regclass AND t.oid = m.objid
     WHERE m.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass OR c.relkind = 'r' OR t.typtype = 'e'
    UNION ALL
    SELECT m.classid, m.objid, a.attnum FROM m
      JOIN pg_catalog.pg_class c ON m.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND c.oid = m.objid
       AND c.relkind = 'r'
      JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
SELECT pg_catalog.pg_describe_object(o.classid, o.objid, o.objsubid) AS object
  FROM objs o
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_description d
                    WHERE d.classoid = o.classid AND d.objoid = o.objid AND d.objsubid = o.objsubid)
 ORDER BY 1
SQL
my $described_sql =
  "SELECT count(*) FROM pg_catalog.pg_description d JOIN pg_catalog.pg_depend m"
  . " ON m.classid = d.classoid AND m.objid = d.objoid AND m.deptype = 'e'"
  . " AND m.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'lane_google')";

is(query('ref12', $undescribed_sql), '', '1.2: every table, column, function and type has a comment');
is(query('ref22', $undescribed_sql), '', '2.2: every table, column, function and type has a comment');
is(query('ref12', $described_sql), '207', '1.2: comments on 207 objects');
is(query('ref22', $described_sql), '218', '2.2: comments on 218 objects (convert_legacy_missing() and convert_legacy_suggest() are 2.2 only)');
is(query('ref11', $described_sql), '0', '1.1 has no comment (released as it was)');
is(query('ref21', $described_sql), '0', '2.1 has no comment (released as it was)');
like(query('ref22', q{SELECT pg_catalog.obj_description('lane_google.convert_legacy(name, text, boolean, text, jsonb, text[], jsonb, text, text, name[])'::pg_catalog.regprocedure, 'pg_proc')}),
	qr/^Copies the application's own legacy tables/, '2.2: \\df+ describes convert_legacy');

# --- 1.0 with rows, the seed of every path -----------------------------------

createdb('seed10');
query('seed10', "CREATE EXTENSION lane_google VERSION '1.0'");
generate('seed10', '0.001');
my $rows10 = rows_text('seed10');
my $content10 = content_text('seed10');
my $rel10 = relations_text('seed10');
unlike($rows10, qr/ 0 -$/m, 'seed10: every table has rows');

# 1.0 -> 1.2 (through 1.1) and back to 1.1: comments added and taken away
createdb('up12', 'seed10');
update_to('up12', '1.2');
catalog_is('up12', '1.2', '1.0 -> 1.1 -> 1.2');
same_text(rows_text('up12'), $rows10, '1.0 -> 1.2 changes no row');
createdb('back11', 'up12');
update_to('back11', '1.1');
catalog_is('back11', '1.1', '1.1 -> 1.2 -> 1.1');
same_text(rows_text('back11'), $rows10, '1.1 -> 1.2 -> 1.1 changes no row');

# 1.2 -> 2.2: every row converted
createdb('via12', 'up12');
update_to('via12', '2.2');
catalog_is('via12', '2.2', '1.2 -> 2.2');
same_text(content_text('via12'), $content10, '1.2 -> 2.2 keeps every row');
same_text(relations_text('via12'), $rel10, '1.2 -> 2.2 keeps every relationship');
same_text(unmapped_rows('via12'), join("\n", map { "$_ 0" } @tables),
	'1.2 -> 2.2: every id is legacy_uuid(table, legacy_id)');
my $rows22 = rows_text('via12');

# 1.2 -> 2.2 online: the backfill at 1.2, the swap by the update to 2.2
createdb('online12', 'up12');
# online_readiness() says where it is at each step, and what to do next
my $readiness = "SELECT phase, tables_copied, tables_total, rows_copied = rows_estimated,"
  . " changes_pending, estimated_finish IS NOT NULL, ready_to_swap, compat_sessions, next_step"
  . " FROM lane_google.online_readiness()";
is(query('online12', $readiness),
	"not started|0|11||0|f|f|0|SELECT lane_google.online_start();",
	'online_readiness() at 1.2 before online_start()');
my ($rc, $out, $err) = $node->psql('online12',
	'SET client_min_messages = notice; SELECT lane_google.online_start()');
like($err, qr/HINT:  CALL lane_google\.online_backfill\(\) copies the rows; then ALTER EXTENSION lane_google UPDATE TO '2\.2' swaps\./,
	"online_start() at 1.2: its hint names the update to 2.2");
($rc, $out, $err) = $node->psql('online12', 'BEGIN; CALL lane_google.online_backfill(); COMMIT');
like($err, qr/ERROR:  online_backfill\(\) cannot run inside a transaction block\n.*DETAIL:  It commits each batch/s,
	'online_backfill() inside BEGIN: refused by name before it copies anything (not "invalid transaction termination")');
is(query('online12', 'SELECT sum(batches) FROM lane_google_online.progress'), '0',
	'the refused backfill copied no batch');
query('online12', 'SELECT lane_google._online_copy_batch(5)');
like(query('online12', $readiness),
	qr/^copying\|0\|11\|f\|0\|t\|f\|0\|CALL lane_google\.online_backfill\(\);/,
	'online_readiness() while copying: rows left and an estimated end of the copy');
is(query('online12', 'SELECT estimated_finish > clock_timestamp() AND estimated_finish > started_at'
	  . ' FROM lane_google.online_readiness()'),
	't', 'the estimated end of the copy is ahead');
query('online12', 'CALL lane_google.online_backfill()');
query('online12', q{INSERT INTO lane_google.users (email, username, password_hash, salt, first_name, last_name)}
	  . q{ VALUES ('late@example.com', 'late', 'x', 'x', 'Late', 'Comer')});
like(query('online12', $readiness),
	qr/^ready to swap\|11\|11\|t\|1\|f\|t\|0\|ALTER EXTENSION lane_google UPDATE TO '2\.2';/,
	'online_readiness() after the backfill: ready to swap, one change captured since, the update to 2.2 next');
query('online12', "DELETE FROM lane_google.users WHERE email = 'late\@example.com'");
update_to('online12', '2.2');
same_text(rows_text('online12'), $rows22, '1.2 -> 2.2 online: the same rows as offline');

# after the swap: the compatibility views, and who still uses them
is(query('online12', $readiness),
	"swapped, compatibility views in place|11|11||0|f|f|0|"
	  . "SELECT lane_google.drop_compat();  -- the point of no return of the integer-id code",
	'online_readiness() at 2.2 after the swap: drop_compat() next');
my $old_code = $node->background_psql('online12');
$old_code->query_safe('BEGIN');
$old_code->query_safe('SELECT count(*) FROM lane_google_v1.campaigns');
my $old_pid = $old_code->query_safe('SELECT pg_backend_pid()');
is(query('online12', 'SELECT pid FROM lane_google.compat_sessions()'), $old_pid,
	'compat_sessions() names the session in a transaction on lane_google_v1');
like(query('online12', $readiness), qr/^swapped, compatibility views in place\|11\|11\|\|0\|f\|f\|1\|wait: /,
	'online_readiness(): wait, one session still uses lane_google_v1');
$old_code->query_safe('COMMIT');
$old_code->quit;
is(query('online12', 'SELECT count(*) FROM lane_google.compat_sessions()'), '0',
	'compat_sessions(): none once it committed');
query('online12', 'SELECT lane_google.drop_compat()');
is(query('online12', $readiness), "converted|11|11||0|f|f|0|none",
	'online_readiness() after drop_compat(): nothing left to do');
catalog_is('online12', '2.2', '1.2 -> 2.2 online, then drop_compat()');

# 2.1 -> 2.2 -> 2.1
createdb('via21', 'seed10');
update_to('via21', '2.1');
same_text(rows_text('via21'), $rows22, '1.0 -> 2.1 and 1.0 -> 1.2 -> 2.2 end in the same rows');
update_to('via21', '2.2');
catalog_is('via21', '2.2', '1.0 -> 2.1 -> 2.2');
same_text(rows_text('via21'), $rows22, '2.1 -> 2.2 changes no row');
update_to('via21', '2.1');
catalog_is('via21', '2.1', '2.1 -> 2.2 -> 2.1');
same_text(rows_text('via21'), $rows22, '2.1 -> 2.2 -> 2.1 changes no row');

# 1.0 -> 2.2 in one ALTER EXTENSION: either shortest path, the same end
createdb('direct', 'seed10');
update_to('direct', '2.2');
catalog_is('direct', '2.2', '1.0 -> 2.2');
same_text(rows_text('direct'), $rows22, '1.0 -> 2.2: the same rows');

# 2.2 -> 1.2: every row converted back, byte-identical to the 1.0 seed
createdb('down12', 'via12');
update_to('down12', '1.2');
catalog_is('down12', '1.2', '1.2 -> 2.2 -> 1.2');
same_text(rows_text('down12'), $rows10, '1.2 -> 2.2 -> 1.2 gives back byte-identical tables');

# --- pg_dump / pg_restore at 2.2 -----------------------------------------------

my $dump = "$tmp/via12.dump";
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', 'via12' ], 'pg_dump -Fc of a 2.2 database');
createdb('restored');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', 'restored', $dump ],
	'pg_restore into a fresh database');
# pg_dump writes CREATE EXTENSION without a version: the restore installs the
# default, 2.2, and its comments (pg_dump writes no comment of a member)
is(query('restored', "SELECT extversion FROM pg_extension WHERE extname = 'lane_google'"),
	'2.2', 'the restored database is at the default version, 2.2');
same_text(rows_text('restored'), $rows22, 'the restored 2.2 database reads back the same rows');
catalog_is('restored', '2.2', 'pg_dump / pg_restore of 2.2: the 2.2 catalog, comments included');

# --- the default version ------------------------------------------------------

createdb('dflt');
query('dflt', 'CREATE EXTENSION lane_google');
is(query('dflt', "SELECT extversion FROM pg_extension WHERE extname = 'lane_google'"),
	'2.2', 'CREATE EXTENSION lane_google installs 2.2, the default version');
catalog_is('dflt', '2.2', 'CREATE EXTENSION lane_google (default version)');

# --- grants users made survive the change of signature -------------------------
# convert_legacy and convert_legacy_problems change signature between 2.1 and
# 2.2 (also_from): the update re-creates them.  EXECUTE granted on them at 2.1
# is carried each way, as the user's own grant: pg_init_privs stays the one a
# fresh install records (so the catalogs still compare equal) and pg_dump
# dumps the grant, so that a restore has it too.
query('postgres', 'CREATE ROLE lg_converter; CREATE ROLE lg_delegate');
createdb('grants', 'seed10');
update_to('grants', '2.1');
query('grants',
	    'GRANT USAGE ON SCHEMA lane_google TO lg_converter, lg_delegate; '
	  . 'GRANT EXECUTE ON FUNCTION lane_google.convert_legacy(name, text, boolean, text, jsonb, text[], jsonb, text, text) TO lg_converter; '
	  . 'GRANT EXECUTE ON FUNCTION lane_google.convert_legacy_problems(name, jsonb, text[], jsonb, text) TO lg_delegate WITH GRANT OPTION');
my $grants_sql = q{
SELECT p.proname || ': ' || string_agg(pg_catalog.pg_get_userbyid(a.grantee) || CASE WHEN a.is_grantable THEN ' (grantable)' ELSE '' END, ', ' ORDER BY 1)
FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
WHERE p.pronamespace = 'lane_google'::regnamespace AND p.proname LIKE 'convert_legacy%'
  AND a.grantee <> p.proowner
GROUP BY p.proname ORDER BY 1};
my $init_sql = q{
SELECT p.oid::regprocedure || ' ' || coalesce(i.initprivs::text, 'none')
FROM pg_catalog.pg_proc p LEFT JOIN pg_catalog.pg_init_privs i
  ON i.objoid = p.oid AND i.classoid = 'pg_proc'::regclass
WHERE p.pronamespace = 'lane_google'::regnamespace AND p.proname LIKE 'convert_legacy%'
ORDER BY 1};
my $granted = "convert_legacy: lg_converter\nconvert_legacy_problems: lg_delegate (grantable)";
is(query('grants', $grants_sql), $granted, '2.1: the grants made');
update_to('grants', '2.2');
is(query('grants', $grants_sql), $granted, '2.1 -> 2.2: the grants carried to the new signatures');
is(query('grants', $init_sql), query('dflt', $init_sql),
	'2.1 -> 2.2: pg_init_privs as a fresh 2.2 records it (the grants are not the extension\'s)');
is(query('grants', q{SELECT count(*) FROM pg_catalog.pg_proc WHERE proname = '_lg_carry_grants'}),
	'0', 'no helper function left behind');
my ($dumped) = PostgreSQL::Test::Utils::run_command(
	[ 'pg_dump', '--schema-only', '-d', $node->connstr('grants') ]);
like($dumped, qr/GRANT ALL ON FUNCTION lane_google\.convert_legacy\([^)]*also_from name\[\][^)]*\) TO lg_converter;/,
	'pg_dump of the updated database dumps the carried grant');
like($dumped, qr/GRANT ALL ON FUNCTION lane_google\.convert_legacy_problems\([^)]*\) TO lg_delegate WITH GRANT OPTION;/,
	'pg_dump dumps the grant option too');
update_to('grants', '2.1');
is(query('grants', $grants_sql), $granted, '2.2 -> 2.1: the grants carried back');
catalog_is_after_revoke('grants');

sub catalog_is_after_revoke
{
	my ($db) = @_;
	query($db,
		    'REVOKE ALL ON FUNCTION lane_google.convert_legacy(name, text, boolean, text, jsonb, text[], jsonb, text, text) FROM lg_converter; '
		  . 'REVOKE ALL ON FUNCTION lane_google.convert_legacy_problems(name, jsonb, text[], jsonb, text) FROM lg_delegate CASCADE; '
		  . 'REVOKE USAGE ON SCHEMA lane_google FROM lg_converter, lg_delegate');
	catalog_is($db, '2.1', '2.1 -> 2.2 -> 2.1 with grants, once revoked: the 2.1 catalog');
	return;
}

# ALTER EXTENSION UPDATE from 1.0: 1.0 -> 2.0 -> 2.1 -> 2.2 or
# 1.0 -> 1.1 -> 2.1 -> 2.2, the same end
createdb('plain', 'seed10');
query('plain', 'ALTER EXTENSION lane_google UPDATE');
is(query('plain', "SELECT extversion FROM pg_extension WHERE extname = 'lane_google'"),
	'2.2', 'ALTER EXTENSION lane_google UPDATE from 1.0 goes to 2.2');
catalog_is('plain', '2.2', '1.0 -> default');
same_text(rows_text('plain'), $rows22, '1.0 -> default: the same rows as every path');

$node->stop;
done_testing();
