# test/t/002_orm_reflect.pl: what an ORM sees of lane_google.
#
# SQLAlchemy (Debian's python3-sqlalchemy and python3-psycopg2, installed by
# test/lib.sh) reflects schema lane_google: the 11 application tables with
# uuid primary keys, the 14 foreign keys with their ON DELETE actions, the enum
# types; and an application-style enum mapping (values_callable) round-trips.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $python = '/usr/bin/python3';
my ($rc, $out, $err) = run_command([ $python, '-c', 'import sqlalchemy, psycopg2' ]);
# not a skip: the suite installs these packages, so their absence is a failure
ok(!$rc ? 1 : 0,
	'python3-sqlalchemy and python3-psycopg2 are installed (test/lib.sh LG_PACKAGES)')
  or diag($err);

my $node = PostgreSQL::Test::Cluster->new('orm');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION lane_google');

my $script = "$ENV{TESTDIR}/test/orm_reflect.py";
$script = 'test/orm_reflect.py' unless -f $script;
my $stdout = '';
my $stderr = '';
my $ok = IPC::Run::run([ $python, $script, $node->host, $node->port, 'postgres' ],
	'>', \$stdout, '2>', \$stderr);
ok($ok, 'orm_reflect.py ran') or diag($stderr);
my %seen = map { $_ => 1 } split /\n/, $stdout;

my @app_tables = qw(users accounts account_users campaigns ad_groups ads
  analytics_snapshots approval_requests budget_alerts conversations
  conversation_messages);
foreach my $t (@app_tables)
{
	ok($seen{"table $t pk=id:UUID"}, "$t: primary key id, a UUID");
}
is(scalar(grep { /^table / } keys %seen), 14,
	'14 tables reflected: the 11, legacy_config, legacy_quarantine and legacy_references');

my @fks = (
	'account_users.account_id:UUID -> lane_google.accounts.id ondelete=CASCADE',
	'account_users.invited_by:UUID -> lane_google.users.id ondelete=SET NULL',
	'account_users.user_id:UUID -> lane_google.users.id ondelete=CASCADE',
	'ad_groups.campaign_id:UUID -> lane_google.campaigns.id ondelete=CASCADE',
	'ads.ad_group_id:UUID -> lane_google.ad_groups.id ondelete=CASCADE',
	'analytics_snapshots.campaign_id:UUID -> lane_google.campaigns.id ondelete=CASCADE',
	'approval_requests.approved_by:UUID -> lane_google.users.id ondelete=SET NULL',
	'approval_requests.campaign_id:UUID -> lane_google.campaigns.id ondelete=CASCADE',
	'approval_requests.requester_id:UUID -> lane_google.users.id ondelete=CASCADE',
	'budget_alerts.campaign_id:UUID -> lane_google.campaigns.id ondelete=CASCADE',
	'campaigns.account_id:UUID -> lane_google.accounts.id ondelete=CASCADE',
	'campaigns.created_by_id:UUID -> lane_google.users.id ondelete=SET NULL',
	'conversation_messages.conversation_id:UUID -> lane_google.conversations.id ondelete=CASCADE',
	'conversations.user_id:UUID -> lane_google.users.id ondelete=CASCADE');
foreach my $fk (@fks)
{
	ok($seen{"fk $fk"}, "foreign key $fk");
}
is(scalar(grep { /^fk / } keys %seen), 14, 'exactly 14 foreign keys');

ok($seen{'enum users.role user_role(admin,manager,analyst,viewer)'},
	'enum users.role reflected with its labels');
ok($seen{'enum campaigns.status campaign_status(draft,approved,active,paused,cancelled)'},
	'enum campaigns.status reflected with its labels');
is(scalar(grep { /^enum / } keys %seen), 14, '14 enum columns');

ok($seen{'orm insert users id version=7'}, 'an ORM insert gets a v7 id from the default');
ok($seen{'orm insert users role label=analyst'}, 'a string enum value is stored as the label');
ok($seen{'orm values_callable read=ANALYST'},
	'values_callable maps the label to the Python member');
ok($seen{'orm values_callable wrote=manager'},
	'values_callable stores a Python member as its label');

$node->stop;
done_testing();
