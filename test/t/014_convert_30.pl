# test/t/014_convert_30.pl: convert_legacy() straight into the 3.0 tables
# (doc/citus.md, "Built: convert_legacy() into 3.0"), on a plain PostgreSQL.
#
# The engine fills each tenant key (account_id, user_id of
# conversation_messages) from the converted parent row, as the extension's
# set_tenant_key() trigger would.  Checked here:
# - the rows equal, byte for byte, those of the other path (1.0 -> 2.2 ->
#   3.0 by ALTER EXTENSION UPDATE) from the same legacy rows, with the map
#   of tenant keys in memory and with it given up (lane_google.max_memory
#   1MB: each parent row fetched by id), the set_tenant_key() triggers
#   enabled or disabled; validate_fk_integrity() finds nothing;
# - an orphan is quarantined, and its children with it (on_orphan);
# - a legacy schema keyed by tenant already (ad_groups.account_id an
#   integer): read and checked; a value that is not its campaign's account
#   is a row problem, by row, and nothing is converted (or the row is
#   quarantined, on_error => 'quarantine', and its ads as orphans);
# - a user's own BEFORE INSERT trigger on a 3.0 table is still refused.
use strict;
use warnings FATAL => 'all';

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use LgPaths;
use LgReliab;

my ($node, $tmp) = lg_paths_node('convert30');

# psql's error, with its SQLSTATE
sub fails
{
	my ($db, $sql) = @_;
	my ($ret, $out, $err) = $node->psql($db, "\\set VERBOSITY verbose\n$sql");
	return $ret == 0 ? '' : $err;
}

# --- the same legacy rows, two ways -------------------------------------------

createdb('seed10');
query('seed10', "CREATE EXTENSION lane_google VERSION '1.0'");
generate('seed10', '0.05');

# the way of the updates: 1.0 -> 3.0 through 2.2
createdb('ref', 'seed10');
update_to('ref', '3.0');
my $ns = query('ref', 'SELECT lane_google.legacy_namespace()');
my $want = rows_text('ref');
like($want, qr/^ads \d{5,} /m, 'ref: ads has its rows');

# A database with the 1.0 rows in schema legacy and the extension at 3.0,
# empty, under ref's legacy namespace
sub direct_db
{
	my ($db) = @_;
	createdb($db, 'seed10');
	lg_make_legacy_source($node, $db);
	update_to($db, '3.0');
	query($db, "SELECT lane_google.set_legacy_namespace('$ns')");
	return;
}

# convert_legacy('legacy'), with SET lines before it; the NOTICEs
sub convert
{
	my ($db, $set, $args) = @_;
	$args //= '';
	my ($ret, $out, $err) = $node->psql($db,
		"SET client_min_messages = notice; $set SELECT count(*) FROM lane_google.convert_legacy('legacy'$args)");
	is($ret, 0, "$db: convert_legacy('legacy'$args) at 3.0") or diag($err);
	return $err;
}

direct_db('direct');
my $notices = convert('direct', '');
is(rows_text('direct'), $want, 'direct: the rows equal the updates\' rows, tenant keys included');
is(query('direct', 'SELECT count(*) FROM lane_google.validate_fk_integrity()'), '0',
	'direct: validate_fk_integrity() finds nothing');
unlike($notices, qr/tenant keys of/, 'direct: the tenant keys fit in memory');

# the map given up: each parent row fetched by id; the triggers disabled
direct_db('small');
query('small', 'ALTER TABLE lane_google.ads DISABLE TRIGGER ads_set_account_id');
$notices = convert('small', "SET lane_google.max_memory = '1MB';");
like($notices,
	qr/tenant keys of "(campaigns|ad_groups)" exceed lane_google.max_memory \(1024 kB\): fetching each parent row by id instead/,
	'small: the map of tenant keys is given up past lane_google.max_memory');
is(rows_text('small'), $want, 'small: the same rows, fetched by id');
is(query('small', 'SELECT count(*) FROM lane_google.validate_fk_integrity()'), '0',
	'small: validate_fk_integrity() finds nothing');

# --- an orphan ------------------------------------------------------------------

direct_db('orphan');
query('orphan', q{
UPDATE legacy.ad_groups SET campaign_id = 999999999 WHERE id = (SELECT min(id) FROM legacy.ad_groups);
});
my $lost = query('orphan', q{
SELECT count(*) FROM legacy.ads WHERE ad_group_id = (SELECT min(id) FROM legacy.ad_groups)});
ok($lost > 0, 'orphan: the orphaned ad group has ads');
convert('orphan', '', ", on_orphan => 'quarantine'");
is(query('orphan', q{SELECT count(*) FROM lane_google.legacy_quarantine
  WHERE table_name = 'ad_groups'}), '1', 'orphan: the ad group is quarantined');
is(query('orphan', q{SELECT count(*) FROM lane_google.legacy_quarantine
  WHERE table_name = 'ads'}), $lost, 'orphan: and its ads with it');
is(query('orphan', qq{
SELECT (SELECT count(*) FROM lane_google.ads) + $lost = (SELECT count(*) FROM legacy.ads)
   AND NOT EXISTS (SELECT FROM lane_google.ads a JOIN lane_google.ad_groups g ON g.id = a.ad_group_id
                    WHERE a.account_id <> g.account_id)
   AND NOT EXISTS (SELECT FROM lane_google.ads WHERE account_id IS NULL)}), 't',
	'orphan: every other ad converted, under its ad group\'s account');

# --- a legacy schema keyed by tenant already --------------------------------------

direct_db('keyed');
query('keyed', q{
ALTER TABLE legacy.ad_groups ADD COLUMN account_id integer;
UPDATE legacy.ad_groups g SET account_id = c.account_id FROM legacy.campaigns c WHERE c.id = g.campaign_id;
});
convert('keyed', '');
is(rows_text('keyed'), $want, 'keyed: ad_groups.account_id read and checked: the same rows');

query('keyed', q{
TRUNCATE lane_google.users, lane_google.accounts, lane_google.conversations CASCADE;
UPDATE legacy.ad_groups SET account_id = account_id % 5 + 1 + (CASE WHEN account_id <= 5 THEN 5 ELSE 0 END)
 WHERE id IN (SELECT id FROM legacy.ad_groups ORDER BY id LIMIT 2);
});
my $err = fails('keyed', "SELECT count(*) FROM lane_google.convert_legacy('legacy')");
like($err, qr/22000: 2 legacy rows cannot be converted as they are\n.*ad_groups.account_id: is not the account_id of its campaigns row: 2 rows, keys 1, 2/,
	'keyed: an account that is not its campaign\'s is a row problem');
is(query('keyed', 'SELECT count(*) FROM lane_google.campaigns'), '0',
	'keyed: and nothing is converted');
convert('keyed', '', ", on_error => 'quarantine', on_orphan => 'quarantine'");
is(query('keyed', q{SELECT count(*) FROM lane_google.legacy_quarantine
  WHERE table_name = 'ad_groups' AND reason LIKE '%is not the account_id of its campaigns row%'}), '2',
	'keyed: on_error => quarantine: the two rows quarantined');
is(query('keyed', q{SELECT count(*) FROM lane_google.ad_groups g JOIN lane_google.campaigns c
  ON c.id = g.campaign_id AND c.account_id = g.account_id}),
	query('keyed', 'SELECT count(*) - 2 FROM legacy.ad_groups'),
	'keyed: every other ad group converted, under its campaign\'s account');

# --- a user's own BEFORE INSERT trigger: still refused --------------------------------

direct_db('trig');
query('trig', q{
CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER touch BEFORE INSERT ON lane_google.ads FOR EACH ROW EXECUTE FUNCTION public.touch();
});
like(fails('trig', "SELECT count(*) FROM lane_google.convert_legacy('legacy')"),
	qr/55000: table lane_google.ads has a BEFORE INSERT row trigger, "touch"/,
	'trig: a user\'s BEFORE INSERT trigger is refused by name');

done_testing();
