# test/t/011_versions_11_21.pl: the paths through versions 1.1 and 2.1.
#
# 1.1 is 1.0 plus this round's objects that work on integer keys, 2.1 is 2.0
# plus this round's functions (2.1 was the default until 2.2).  No install script exists
# for either: PostgreSQL reaches them through 1.0--1.1 and 2.0--2.1.  For
# every path the catalog must equal a fresh CREATE EXTENSION ... VERSION of
# its end (the same catalog queries as 010_upgrade_paths.pl), and the rows:
# - 1.0 -> 1.1, 2.0 -> 2.1 and their way back change no row, and going up one
#   step and back down ends in the catalog of where it started;
# - 1.0 -> 1.1 -> 2.1 and 1.0 -> 2.0 -> 2.1 (the two shortest paths of a
#   plain ALTER EXTENSION UPDATE from 1.0) end in the same catalog and the
#   same bytes, and ALTER EXTENSION UPDATE takes one of them;
# - 1.1 -> 2.1 keeps every row and relationship, every id legacy_uuid();
# - 1.1 -> 2.1 -> 1.1 and 1.0 -> 2.1 -> 1.0 give back byte-identical tables;
# - pg_dump / pg_restore of a 2.1 database reads back every row.
use strict;
use warnings FATAL => 'all';

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use LgPaths;

my ($node, $tmp) = lg_paths_node('versions');

my %want = %{ reference_catalogs('1.0', '1.1', '2.0', '2.1') };
like($want{'1.1'}, qr/^column users\.001: id integer not null t default  identity d/m,
	'1.1 reference: integer identity keys');
like($want{'2.1'}, qr/^column users\.024: legacy_id bigint/m,
	'2.1 reference: uuid keys, legacy_id last');

# The default version (2.2 now) and a plain UPDATE: 012_versions_12_22.pl

# --- 1.0 with rows, the seed of every path -----------------------------------

createdb('seed10');
query('seed10', "CREATE EXTENSION lane_google VERSION '1.0'");
generate('seed10', '0.001');
my $rows10 = rows_text('seed10');
my $content10 = content_text('seed10');
my $rel10 = relations_text('seed10');
unlike($rows10, qr/ 0 -$/m, 'seed10: every table has rows');

# 1.0 -> 1.1 -> 1.0: objects added and dropped, no row changed
createdb('up11', 'seed10');
update_to('up11', '1.1');
catalog_is('up11', '1.1', '1.0 -> 1.1');
same_text(rows_text('up11'), $rows10, '1.0 -> 1.1 changes no row');
createdb('back10', 'up11');
update_to('back10', '1.0');
catalog_is('back10', '1.0', '1.0 -> 1.1 -> 1.0');
same_text(rows_text('back10'), $rows10, '1.0 -> 1.1 -> 1.0 changes no row');

# 1.1 -> 2.1: every row converted
createdb('via11', 'up11');
update_to('via11', '2.1');
catalog_is('via11', '2.1', '1.0 -> 1.1 -> 2.1');
same_text(content_text('via11'), $content10, '1.1 -> 2.1 keeps every row');
same_text(relations_text('via11'), $rel10, '1.1 -> 2.1 keeps every relationship');
same_text(unmapped_rows('via11'), join("\n", map { "$_ 0" } @tables),
	'1.1 -> 2.1: every id is legacy_uuid(table, legacy_id)');
my $rows21 = rows_text('via11');

# 1.0 -> 2.0 -> 2.1: the other shortest path, the same bytes
createdb('via20', 'seed10');
update_to('via20', '2.0');
my $rows20 = rows_text('via20');
update_to('via20', '2.1');
catalog_is('via20', '2.1', '1.0 -> 2.0 -> 2.1');
same_text(rows_text('via20'), $rows20, '2.0 -> 2.1 changes no row');
same_text($rows21, $rows20, '1.0 -> 1.1 -> 2.1 and 1.0 -> 2.0 -> 2.1 end in the same rows');


# 2.1 -> 2.0: back one step
createdb('back20', 'via20');
update_to('back20', '2.0');
catalog_is('back20', '2.0', '2.0 -> 2.1 -> 2.0');
same_text(rows_text('back20'), $rows20, '2.0 -> 2.1 -> 2.0 changes no row');

# 2.1 -> 1.1: every row converted back, byte-identical to the 1.0 seed
createdb('down11', 'via11');
update_to('down11', '1.1');
catalog_is('down11', '1.1', '1.1 -> 2.1 -> 1.1');
same_text(rows_text('down11'), $rows10, '1.1 -> 2.1 -> 1.1 gives back byte-identical tables');
my $next = lines_of(next_ids('down11'));
is_deeply([ grep { $next->{$_}[0] != $next->{$_}[1] } @tables ], [],
	'2.1 -> 1.1: every identity sequence ends past the largest id');

# and up again: the same uuids as the first time
update_to('down11', '2.1');
catalog_is('down11', '2.1', '1.1 -> 2.1 -> 1.1 -> 2.1');
same_text(rows_text('down11'), $rows21, '1.1 -> 2.1 -> 1.1 -> 2.1 gives back the same uuids');

# 2.1 -> 1.0 (through 2.0 or 1.1): the 1.0 bytes
createdb('down10', 'via20');
update_to('down10', '1.0');
catalog_is('down10', '1.0', '1.0 -> 2.0 -> 2.1 -> 1.0');
same_text(rows_text('down10'), $rows10, '2.1 -> 1.0 gives back byte-identical tables');

# 2.0 -> 1.1 (through 1.0 or 2.1)
createdb('across', 'back20');
update_to('across', '1.1');
catalog_is('across', '1.1', '2.0 -> 1.1');
same_text(rows_text('across'), $rows10, '2.0 -> 1.1 gives back byte-identical tables');

# --- pg_dump / pg_restore at 2.1 -----------------------------------------------

my $dump = "$tmp/via11.dump";
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', 'via11' ], 'pg_dump -Fc of a 2.1 database');
createdb('restored');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', 'restored', $dump ],
	'pg_restore into a fresh database');
# the restore installs the default version (2.2: 2.1 with comments); back to 2.1
update_to('restored', '2.1');
catalog_is('restored', '2.1', 'pg_dump / pg_restore at 2.1, then 2.2 -> 2.1');
same_text(rows_text('restored'), $rows21, 'the restored 2.1 database reads back the same rows');

$node->stop;
done_testing();
