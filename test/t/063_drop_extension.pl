# test/t/063_drop_extension.pl: DROP EXTENSION takes what the extension
# created outside its scripts with it (issue 17, finding 5).
#
# online_start() creates schemas lane_google_online (the staging tables) and
# lane_google_v1 (the compatibility views and sequences, kept at 2.1 after
# the swap until drop_compat()); each depends on the extension:
# - during an online conversion (1.1) and at 2.1 with the compatibility
#   views, DROP EXTENSION refuses, naming the schemas; DROP EXTENSION ...
#   CASCADE drops them with everything in them (nothing named lane_google_*
#   is left but the extension's own schema), and a fresh CREATE EXTENSION
#   can start an online conversion again;
# - online_abort() and drop_compat() leave no dependency: DROP EXTENSION
#   then needs no CASCADE;
# - a dump taken during an online conversion, restored (the extension at 1.1
#   first, as 001_dump_restore.pl restores 1.x): the staging schema and its
#   rows come back, the capture triggers do not (pg_dump does not dump
#   triggers on an extension's tables), so the changes made after the
#   restore are not captured: each backfill step and the swap (after a
#   complete backfill) refuse,
#   naming a table and why, with the way out; online_abort() and
#   online_start() then convert every row, those changes included.
use strict;
use warnings FATAL => 'all';

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use LgPaths;

my ($node, $tmp) = lg_paths_node('drop_extension');

# What is left outside the extension's own schema
my $left_sql = q{
SELECT coalesce(string_agg(n.nspname || ': ' || (SELECT count(*) FROM pg_class c WHERE c.relnamespace = n.oid)
                           || ' relations', ', ' ORDER BY n.nspname), 'nothing')
  FROM pg_namespace n WHERE n.nspname LIKE 'lane\_google\_%'};

createdb('seed');
query('seed', "CREATE EXTENSION lane_google VERSION '1.0'");
generate('seed', '0.001');
query('seed', "ALTER EXTENSION lane_google UPDATE TO '1.1'");

# --- during an online conversion ----------------------------------------------
createdb('during', 'seed');
query('during', 'SELECT lane_google.online_start()');
query('during', 'SELECT lane_google._online_copy_batch(50) FROM generate_series(1, 3)');
my ($rc, $out, $err) = $node->psql('during', 'DROP EXTENSION lane_google');
like($err, qr/cannot drop extension lane_google because other objects depend on it\nDETAIL:  schema lane_google_online depends on extension lane_google\n/,
	'during an online conversion: DROP EXTENSION refuses, naming the staging schema');
like($err, qr/^schema lane_google_v1 depends on extension lane_google$/m,
	'and the compatibility views\' schema');
query('during', 'DROP EXTENSION lane_google CASCADE');
is(query('during', $left_sql), 'nothing', 'DROP EXTENSION ... CASCADE: nothing of the online conversion is left');
query('during', "CREATE EXTENSION lane_google VERSION '1.1'");
($rc, $out, $err) = $node->psql('during', 'SELECT lane_google.online_start()');
is($rc, 0, 'a fresh CREATE EXTENSION starts an online conversion again') or diag($err);

# --- at 2.1 after the swap, with the compatibility views -------------------------
createdb('swapped', 'seed');
query('swapped', 'SELECT lane_google.online_start()');
query('swapped', 'CALL lane_google.online_backfill()');
update_to('swapped', '2.1');
like(query('swapped', $left_sql), qr/^lane_google_v1: 22 relations$/,
	'2.1 after the swap: the compatibility views and sequences');
createdb('swapped_compat', 'swapped');
($rc, $out, $err) = $node->psql('swapped', 'DROP EXTENSION lane_google');
like($err, qr/DETAIL:  schema lane_google_v1 depends on extension lane_google\n/,
	'2.1 with the compatibility views: DROP EXTENSION refuses, naming their schema');
query('swapped', 'DROP EXTENSION lane_google CASCADE');
is(query('swapped', $left_sql), 'nothing', '2.1: DROP EXTENSION ... CASCADE drops them');

# drop_compat(), then no CASCADE is needed
query('swapped_compat', 'SELECT lane_google.drop_compat()');
($rc, $out, $err) = $node->psql('swapped_compat', 'DROP EXTENSION lane_google');
is($rc, 0, 'after drop_compat(): DROP EXTENSION needs no CASCADE') or diag($err);
is(query('swapped_compat', $left_sql), 'nothing', 'after drop_compat(): nothing left');

# --- online_abort() leaves no dependency ------------------------------------------
createdb('aborted', 'seed');
query('aborted', 'SELECT lane_google.online_start()');
query('aborted', 'SELECT lane_google.online_abort()');
($rc, $out, $err) = $node->psql('aborted', 'DROP EXTENSION lane_google');
is($rc, 0, 'after online_abort(): DROP EXTENSION needs no CASCADE') or diag($err);
is(query('aborted', $left_sql), 'nothing', 'after online_abort(): nothing left');

# --- a dump taken during an online conversion, restored -------------------------
createdb('dumped', 'seed');
query('dumped', 'SELECT lane_google.online_start()');
query('dumped', 'CALL lane_google.online_backfill()');
$node->command_ok([ 'pg_dump', '-Fc', '-d', 'dumped', '-f', "$tmp/online.dump" ],
	'pg_dump during an online conversion');
createdb('restored');
query('restored', "CREATE EXTENSION lane_google VERSION '1.1'");
my $list = `pg_restore -l "$tmp/online.dump"`;
is($?, 0, 'pg_restore -l');
$list = join("\n", grep { !/ SCHEMA - lane_google / } split /\n/, $list) . "\n";
PostgreSQL::Test::Utils::append_to_file("$tmp/online.list", $list);
$node->command_ok(
	[ 'pg_restore', '--exit-on-error', '-L', "$tmp/online.list", '-d', 'restored', "$tmp/online.dump" ],
	'restored into a database with the extension at 1.1');
is( query('restored', q{SELECT count(*) FROM lane_google.online_status() WHERE rows_copied > 0}),
	query('dumped', q{SELECT count(*) FROM lane_google.online_status() WHERE rows_copied > 0}),
	'restored: the staging schema and its progress are back');
is( query('restored', q{SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'lane\_google\_online\_%'}),
	'0', 'restored: without the capture triggers');
query('restored', q{UPDATE lane_google.users SET first_name = 'after the restore' WHERE id = (SELECT min(id) FROM lane_google.users)});
for my $step ('CALL lane_google.online_backfill()', 'SELECT lane_google._online_apply()',
	"ALTER EXTENSION lane_google UPDATE TO '2.1'")
{
	($rc, $out, $err) = $node->psql('restored', "\\set VERBOSITY verbose\n$step");
	like($err, qr/ERROR:  55000: table lane_google\.users has lost the online conversion's change capture\nDETAIL:  Its trigger lane_google_online_capture, which online_start\(\) created, is missing or not enabled ALWAYS: .* A database restored from a dump taken during an online conversion is in this state .*\nHINT:  Start the online conversion over: SELECT lane_google\.online_abort\(\), then SELECT lane_google\.online_start\(\)\./s,
		"restored: refused with what to do: $step");
}
is(query('restored', "SELECT extversion FROM pg_extension WHERE extname = 'lane_google'"), '1.1',
	'restored: the swap refused, still at 1.1');
query('restored', 'SELECT lane_google.online_abort()');
query('restored', 'SELECT lane_google.online_start()');
query('restored', 'CALL lane_google.online_backfill()');
update_to('restored', '2.1');
is(query('restored', q{SELECT count(*) FROM lane_google.users WHERE first_name = 'after the restore'}), '1',
	'started over: the change made after the restore is converted');

done_testing();
