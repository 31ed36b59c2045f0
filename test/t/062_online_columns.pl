# test/t/062_online_columns.pl: a legacy table's columns changed during an
# online conversion (issue 17, finding 6).
#
# online_start() makes the shadow tables with the columns the legacy tables
# have then; the backfill copies rows into them and the swap puts them in
# place.  A column added, renamed, dropped or changed in type afterwards
# cannot be carried (the rows copied so far lack it, and ALTER TABLE's
# rewrites fire no capture trigger): the next step refuses, SQLSTATE 55000,
# naming the table and the column, with what to do, and changes nothing:
# - an added column: at the next batch of the copy, at the log's
#   application after the copy, and at the swap (ALTER EXTENSION UPDATE, the
#   extension left at 1.1); dropped again, the backfill goes on;
# - a renamed column (renamed back, it goes on), a column changed in type
#   (the compatibility view dropped first: it pins the type), a column
#   dropped (with the compatibility view, by CASCADE);
# - starting over (online_abort(), online_start()) takes the tables as they
#   are: the update to 2.1 then completes, with the added column and its
#   values, without the dropped one.
use strict;
use warnings FATAL => 'all';

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use LgPaths;

my ($node, $tmp) = lg_paths_node('online_columns');

createdb('cols');
query('cols', "CREATE EXTENSION lane_google VERSION '1.0'");
generate('cols', '0.001');
query('cols', "ALTER EXTENSION lane_google UPDATE TO '1.1'");

# refused(SQL, RE, WHAT): SQL fails with SQLSTATE 55000 and a message matching RE
sub refused
{
	my ($sql, $re, $what) = @_;
	my ($rc, $out, $err) = $node->psql('cols', "\\set VERBOSITY verbose\n$sql");
	isnt($rc, 0, "$what: refused");
	like($err, $re, "$what: named, with what to do");
	unlike($err, qr/SPI_|INSERT INTO lane_google_online/, "$what: no internal error");
	return;
}

sub ok_sql
{
	my ($sql, $what) = @_;
	my ($rc, $out, $err) = $node->psql('cols', $sql);
	is($rc, 0, $what) or diag($err);
	return;
}

my $status = q{SELECT string_agg(table_name || ' ' || state || ' ' || rows_copied, ', ' ORDER BY table_name)
  FROM lane_google.online_status()};

query('cols', 'SELECT lane_google.online_start()');

# an added column, before the first batch
query('cols', "ALTER TABLE lane_google.campaigns ADD COLUMN note text DEFAULT 'n'");
my $before = query('cols', $status);
refused('CALL lane_google.online_backfill(batch_rows => 50)',
	qr/ERROR:  55000: column "note" was added to table lane_google\.campaigns during the online conversion\n.*DETAIL:  Its shadow table lane_google_online\.campaigns has no such column\.  online_start\(\) made the shadow tables with the columns the legacy tables had then.*\n.*HINT:  Drop the column again, or start the online conversion over: SELECT lane_google\.online_abort\(\), then SELECT lane_google\.online_start\(\), whose new shadow tables have the columns the tables have then\./,
	'column added before the copy');
is(query('cols', $status), $before, 'column added before the copy: nothing copied');
query('cols', 'ALTER TABLE lane_google.campaigns DROP COLUMN note');

# copy a few batches, then add a column to a table already copied
query('cols', 'SELECT lane_google._online_copy_batch(50) FROM generate_series(1, 3)');
query('cols', 'ALTER TABLE lane_google.users ADD COLUMN nickname text');
refused('SELECT lane_google._online_copy_batch(50)',
	qr/ERROR:  55000: column "nickname" was added to table lane_google\.users during the online conversion/,
	'column added to a table already copied, at the next batch');
query('cols', 'ALTER TABLE lane_google.users DROP COLUMN nickname');
ok_sql('CALL lane_google.online_backfill(batch_rows => 50)', 'dropped again: the backfill completes');
is(query('cols', "SELECT string_agg(DISTINCT state, ',') FROM lane_google.online_status()"),
	'complete', 'the backfill is complete');

# after the copy: the log's application, with a change logged
query('cols', q{UPDATE lane_google.ads SET final_url = 'https://example.com/' WHERE id = (SELECT min(id) FROM lane_google.ads);
ALTER TABLE lane_google.ads ADD COLUMN extra integer});
refused('SELECT lane_google._online_apply()',
	qr/ERROR:  55000: column "extra" was added to table lane_google\.ads during the online conversion/,
	'column added after the copy, at the log\'s application');
query('cols', 'ALTER TABLE lane_google.ads DROP COLUMN extra');

# renamed, then renamed back
query('cols', 'ALTER TABLE lane_google.campaigns RENAME COLUMN google_campaign_id TO gcid');
refused('CALL lane_google.online_backfill()',
	qr/ERROR:  55000: column "google_campaign_id" of table lane_google\.campaigns was renamed to "gcid" during the online conversion\n.*DETAIL:  Table lane_google\.campaigns has column "gcid" and not "google_campaign_id", which its shadow table lane_google_online\.campaigns has\..*\n.*HINT:  Rename it back, or start the online conversion over/,
	'column renamed');
query('cols', 'ALTER TABLE lane_google.campaigns RENAME COLUMN gcid TO google_campaign_id');

# changed in type: the compatibility view pins it, until it is dropped
my ($rc, $out, $err) = $node->psql('cols', 'ALTER TABLE lane_google.ads ALTER COLUMN final_url TYPE text');
like($err, qr/cannot alter type of a column used by a view or rule/,
	'a type change is refused by PostgreSQL while the compatibility view exists');
query('cols', 'DROP VIEW lane_google_v1.ads; ALTER TABLE lane_google.ads ALTER COLUMN final_url TYPE text');
refused('CALL lane_google.online_backfill()',
	qr/ERROR:  55000: column "final_url" of table lane_google\.ads changed type during the online conversion\n.*DETAIL:  It is text; its shadow table lane_google_online\.ads has character varying\(2048\)\..*\n.*HINT:  Change it back to character varying\(2048\), or start the online conversion over/,
	'column changed in type');
query('cols', 'ALTER TABLE lane_google.ads ALTER COLUMN final_url TYPE varchar(2048)');
ok_sql('CALL lane_google.online_backfill()', 'changed back: the backfill goes on');

# dropped (with the compatibility view that reads it)
query('cols', 'ALTER TABLE lane_google.budget_alerts DROP COLUMN recommended_action CASCADE');
refused('CALL lane_google.online_backfill()',
	qr/ERROR:  55000: column "recommended_action" of table lane_google\.budget_alerts was dropped during the online conversion\n.*DETAIL:  Its shadow table lane_google_online\.budget_alerts still has it\..*\n.*HINT:  A dropped column cannot be put back: start the online conversion over/,
	'column dropped');

# the swap, with no change logged on the table
query('cols', "ALTER TABLE lane_google.users ADD COLUMN nickname text DEFAULT 'nick'");
refused("ALTER EXTENSION lane_google UPDATE TO '2.1'",
	qr/ERROR:  55000: column "nickname" was added to table lane_google\.users during the online conversion/,
	'column added before the swap');
is(query('cols', "SELECT extversion FROM pg_extension WHERE extname = 'lane_google'"), '1.1',
	'the swap refused: still at 1.1');

# starting over takes the tables as they are
query('cols', 'SELECT lane_google.online_abort()');
query('cols', 'SELECT lane_google.online_start()');
ok_sql('CALL lane_google.online_backfill()', 'started over: the backfill completes');
update_to('cols', '2.1');
is( query('cols', q{SELECT count(*) FILTER (WHERE nickname = 'nick') = count(*) AND count(*) > 0 FROM lane_google.users}),
	't', '2.1: the column added before online_start() is there, with its values');
is( query('cols', q{SELECT count(*) FROM pg_attribute WHERE attrelid = 'lane_google.budget_alerts'::regclass
  AND attname = 'recommended_action' AND NOT attisdropped}),
	'0', '2.1: the column dropped before online_start() is not');

done_testing();
