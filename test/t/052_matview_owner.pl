# test/t/052_matview_owner.pl: a materialized view over the 11 tables owned
# by an ordinary role, across the key conversion (issue 17, finding 4).
#
# Role mv_owner has SELECT on lane_google.campaigns (and on users, by a
# column grant) and owns a materialized view over them, in a schema of its
# own; a row security policy on campaigns lets it see only the campaigns
# that are not cancelled.  The update re-creates the view over the new
# tables and refreshes it as its owner (REFRESH runs the query as the
# owner): the owner's grants and the policy must be back by then.
# - 1.0 -> 1.1 -> 2.1 (the update's own calls), 2.1 -> 1.1 (back) and
#   1.0 -> 2.0 (the released script, through this library's hooks) succeed;
# - after each, the view is populated, owned by mv_owner, with the rows it
#   had at 1.0 (keys mapped by legacy_uuid() at 2.x): the policy still
#   hides the cancelled campaigns from it;
# - mv_owner can refresh it afterwards.
use strict;
use warnings FATAL => 'all';

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use LgPaths;

my ($node, $tmp) = lg_paths_node('matview_owner');

my $app_sql = q{
CREATE ROLE mv_owner;
GRANT USAGE ON SCHEMA lane_google TO mv_owner;
GRANT SELECT ON lane_google.campaigns TO mv_owner;
GRANT SELECT (id, email) ON lane_google.users TO mv_owner;
ALTER TABLE lane_google.campaigns ENABLE ROW LEVEL SECURITY;
CREATE POLICY campaigns_not_cancelled ON lane_google.campaigns FOR SELECT TO mv_owner
    USING (status <> 'cancelled');
CREATE SCHEMA reports AUTHORIZATION mv_owner;
SET ROLE mv_owner;
CREATE MATERIALIZED VIEW reports.campaigns_per_account AS
SELECT account_id, count(*) AS campaigns FROM lane_google.campaigns GROUP BY account_id;
CREATE UNIQUE INDEX campaigns_per_account_key ON reports.campaigns_per_account (account_id);
CREATE MATERIALIZED VIEW reports.creators AS
SELECT u.email, count(*) AS campaigns
  FROM lane_google.campaigns c JOIN lane_google.users u ON u.id = c.created_by_id
 GROUP BY u.email;
RESET ROLE;
};

# The views' rows, keys mapped as the update maps them
my $rows_int = q{
SELECT 'per_account ' || lane_google.legacy_uuid('accounts', account_id) || ' ' || campaigns
  FROM reports.campaigns_per_account
UNION ALL SELECT 'creators ' || email || ' ' || campaigns FROM reports.creators
ORDER BY 1};
my $rows_uuid = q{
SELECT 'per_account ' || account_id || ' ' || campaigns FROM reports.campaigns_per_account
UNION ALL SELECT 'creators ' || email || ' ' || campaigns FROM reports.creators
ORDER BY 1};
my $state_sql = q{
SELECT string_agg(c.relname || ' ' || pg_get_userbyid(c.relowner) || ' ' || c.relispopulated, ', ' ORDER BY c.relname)
  FROM pg_class c WHERE c.relnamespace = 'reports'::regnamespace AND c.relkind = 'm'};
my $state = 'campaigns_per_account mv_owner true, creators mv_owner true';

createdb('seed');
query('seed', "CREATE EXTENSION lane_google VERSION '1.0'");
generate('seed', '0.001');
query('seed', $app_sql);
my $rows10 = query('seed', $rows_int);
my $visible = query('seed', 'SELECT sum(campaigns) FROM reports.campaigns_per_account');
cmp_ok($visible, '>', 0, 'seed: the owner sees some campaigns');
cmp_ok($visible, '<', query('seed', 'SELECT count(*) FROM lane_google.campaigns'),
	'seed: the policy hides the cancelled ones from it');
is(query('seed', $state_sql), $state, 'seed: both views populated, owned by mv_owner');

# check(DB, ROWS_SQL, WHAT)
sub check
{
	my ($db, $rows_sql, $what) = @_;
	is(query($db, $state_sql), $state, "$what: both views populated, owned by mv_owner");
	same_text(query($db, $rows_sql), $rows10,
		"$what: the views' rows as at 1.0 (the policy applied, keys mapped)");
	query($db, 'SET ROLE mv_owner; REFRESH MATERIALIZED VIEW reports.campaigns_per_account;'
		  . ' REFRESH MATERIALIZED VIEW reports.creators');
	same_text(query($db, $rows_sql), $rows10, "$what: the owner refreshes them, same rows");
	return;
}

# 1.0 -> 1.1 -> 2.1 and back to 1.1
createdb('via11', 'seed');
update_to('via11', '1.1');
update_to('via11', '2.1');
check('via11', $rows_uuid, '1.0 -> 1.1 -> 2.1');
update_to('via11', '1.1');
check('via11', $rows_int, '2.1 -> 1.1');

# 1.0 -> 2.0: the released script, through the hooks
createdb('via20', 'seed');
update_to('via20', '2.0');
check('via20', $rows_uuid, '1.0 -> 2.0 (released script)');
update_to('via20', '2.1');
check('via20', $rows_uuid, '2.0 -> 2.1');

done_testing();
