# test/t/091_citus_validate.pl: validate_fk_integrity() over Citus tables,
# on a coordinator and two workers, all on Unix sockets.
#
# Skipped when Citus is not installed for the server under test (as
# 090_citus.pl).  The same tables, rows, orphans and constraints twice on the
# coordinator: in schema dist as Citus tables shaped like the application's
# (accounts, plans and users reference tables, campaigns distributed by account_id,
# co-located children with composite foreign keys (account_id, campaign_id),
# a MATCH FULL one, a NOT VALID one, a type mismatch, a missing index, a
# Citus local table), and in schema loc as plain tables, their rows in
# another physical order.  The orphans of dist are planted in the shards on
# the workers (session_replication_role = replica), in some shards and not
# in others.  What is checked:
# - validate_fk_integrity('dist') gives row for row what
#   validate_fk_integrity('loc') gives (samples included, whatever
#   sample_limit), and that is the orphans planted;
# - the queries it builds are pushed down by Citus to every shard (EXPLAIN:
#   one task per shard, no repartition, no intermediate result);
# - a foreign key between a Citus table and a plain table, or between
#   distributed tables that are not co-located (both made with Citus's DDL
#   propagation off), is refused by name with 0A000; so is every Citus
#   table on a worker;
# - a caller without SELECT on a table, or under row-level security, is
#   refused with 42501 before a query reaches a shard;
# - a search_path whose first schema holds an = operator and a count
#   aggregate of its own changes nothing.
use strict;
use warnings FATAL => 'all';

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use LgCitus;
use Time::HiRes qw(time);

my @nodes = lg_citus_cluster();
my ($coord, $w1, $w2) = @nodes;
$coord->safe_psql('postgres', 'CREATE EXTENSION lane_google');

# --- the same tables twice: dist (Citus tables) and loc (plain) ---------------
sub tables_sql
{
	my ($s) = @_;
	return qq{
CREATE SCHEMA $s;
CREATE TABLE $s.plans (id integer PRIMARY KEY, name text);
CREATE TABLE $s.accounts (id bigint PRIMARY KEY, plan_id integer REFERENCES $s.plans (id), name text);
CREATE INDEX ON $s.accounts (plan_id);
CREATE TABLE $s.users (id uuid PRIMARY KEY, email text);
CREATE TABLE $s.campaigns (account_id bigint NOT NULL REFERENCES $s.accounts (id), id bigint NOT NULL,
  billing_account_id bigint REFERENCES $s.accounts (id), name text,
  created_by uuid REFERENCES $s.users (id), PRIMARY KEY (account_id, id));
CREATE INDEX ON $s.campaigns (billing_account_id);
CREATE INDEX ON $s.campaigns (created_by);
CREATE TABLE $s.ad_groups (account_id bigint NOT NULL, id bigint NOT NULL, campaign_id bigint,
  PRIMARY KEY (account_id, id));
CREATE INDEX ON $s.ad_groups (account_id, campaign_id);
CREATE TABLE $s.ads (account_id bigint NOT NULL, id bigint NOT NULL, ad_group_id bigint,
  PRIMARY KEY (account_id, id));
CREATE INDEX ON $s.ads (account_id, ad_group_id);
CREATE TABLE $s.budget_alerts (account_id bigint NOT NULL, id bigint NOT NULL, campaign_id bigint,
  PRIMARY KEY (account_id, id));
CREATE INDEX ON $s.budget_alerts (account_id, campaign_id);
CREATE TABLE $s.analytics (account_id bigint NOT NULL, id bigint NOT NULL, campaign_id integer,
  PRIMARY KEY (account_id, id));
CREATE TABLE $s.settings (account_id bigint PRIMARY KEY, theme text);
};
}

# the rows (ORD orders them), the NOT VALID constraint's orphans among them
sub data_sql
{
	my ($s, $ord) = @_;
	return qq{
INSERT INTO $s.plans SELECT g, 'plan ' || g FROM generate_series(1, 5) g;
INSERT INTO $s.accounts SELECT g, g % 5 + 1, 'account ' || g FROM generate_series(1, 200) g ORDER BY $ord;
INSERT INTO $s.users SELECT md5(g::text)::uuid, 'user' || g || '\@example.com' FROM generate_series(1, 50) g ORDER BY $ord;
INSERT INTO $s.campaigns SELECT g % 200 + 1, g, CASE WHEN g % 10 <> 0 THEN g % 200 + 1 END, 'campaign ' || g,
  md5((g % 50 + 1)::text)::uuid FROM generate_series(1, 2000) g ORDER BY $ord;
INSERT INTO $s.ad_groups SELECT ((g - 1) % 2000 + 1) % 200 + 1, g, (g - 1) % 2000 + 1
  FROM generate_series(1, 4000) g ORDER BY $ord;
INSERT INTO $s.ads SELECT (((g - 1) % 4000) % 2000 + 1) % 200 + 1, g, (g - 1) % 4000 + 1
  FROM generate_series(1, 4000) g ORDER BY $ord;
INSERT INTO $s.budget_alerts SELECT g % 200 + 1, g, g FROM generate_series(1, 1000) g ORDER BY $ord;
INSERT INTO $s.budget_alerts VALUES (21, 400002, 55556), (20, 400001, 55555), (21, 400003, 55556);
INSERT INTO $s.analytics SELECT g % 200 + 1, g, g FROM generate_series(1, 2000) g ORDER BY $ord;
INSERT INTO $s.settings SELECT g, 'light' FROM generate_series(1, 150) g ORDER BY $ord;
};
}

sub fks_sql
{
	my ($s) = @_;
	return qq{
ALTER TABLE $s.ad_groups ADD FOREIGN KEY (account_id, campaign_id) REFERENCES $s.campaigns (account_id, id);
ALTER TABLE $s.ads ADD FOREIGN KEY (account_id, ad_group_id) REFERENCES $s.ad_groups (account_id, id) MATCH FULL;
ALTER TABLE $s.budget_alerts ADD FOREIGN KEY (account_id, campaign_id) REFERENCES $s.campaigns (account_id, id) NOT VALID;
ALTER TABLE $s.analytics ADD FOREIGN KEY (account_id, campaign_id) REFERENCES $s.campaigns (account_id, id);
ALTER TABLE $s.settings ADD FOREIGN KEY (account_id) REFERENCES $s.accounts (id);
};
}

# The orphans: table, distribution value (undef: a reference or Citus local
# table, every placement), row.  Several in a shard, none in most.
my @orphans = (
	[ 'accounts',  undef, '(201, 77, \'no plan\')' ],
	[ 'campaigns', 7,  '(7, 100003, 9002, \'x\')' ],
	[ 'campaigns', 6,  '(6, 100002, 9001, \'x\')' ],
	[ 'campaigns', 5,  '(5, 100001, 9002, \'x\')' ],
	[ 'campaigns', 8,  '(8, 100004, 8, \'y\', \'00000000-0000-7000-8000-0000000000bb\')' ],
	[ 'campaigns', 9,  '(9, 100005, 9, \'y\', \'00000000-0000-7000-8000-0000000000aa\')' ],
	[ 'ad_groups', 42, '(42, 200005, 999999)' ],
	[ 'ad_groups', 3,  '(3, 200001, 888888)' ],
	[ 'ad_groups', 17, '(17, 200007, 100000)' ],
	[ 'ad_groups', 3,  '(3, 200002, 777777)' ],
	[ 'ad_groups', 42, '(42, 200006, 1)' ],
	[ 'ad_groups', 3,  '(3, 200003, 777777)' ],
	[ 'ad_groups', 17, '(17, 200004, 5)' ],
	[ 'ads', 11, '(11, 300004, NULL)' ],
	[ 'ads', 9,  '(9, 300001, NULL)' ],
	[ 'ads', 11, '(11, 300003, 424242)' ],
	[ 'ads', 9,  '(9, 300002, NULL)' ],
	[ 'analytics', 30, '(30, 500001, 66666)' ],
	[ 'settings', undef, '(9999, \'dark\')' ]);

my %node_by_port = map { $_->port => $_ } @nodes;

# a row into every placement of the shard of dist.TABLE that holds VALUE,
# on the node that holds it, past the foreign keys
sub plant
{
	my ($table, $value, $row) = @_;
	my $shardid = $coord->safe_psql('postgres',
		defined $value
		? "SELECT get_shard_id_for_distribution_column('dist.$table', $value)"
		: "SELECT shardid FROM pg_dist_shard WHERE logicalrelid = 'dist.$table'::regclass");
	my @ports = split /\n/,
	  $coord->safe_psql('postgres',
		"SELECT n.nodeport FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid) WHERE p.shardid = $shardid ORDER BY 1"
	  );
	for my $port (@ports)
	{
		$node_by_port{$port}->safe_psql('postgres',
			"SET session_replication_role = replica; INSERT INTO dist.${table}_$shardid VALUES $row");
	}
	return $shardid;
}

# dist: Citus tables, the rows loaded through the coordinator
$coord->safe_psql(
	'postgres', tables_sql('dist') . q{
SELECT create_reference_table('dist.plans');
SELECT create_reference_table('dist.accounts');
SELECT create_reference_table('dist.users');
SELECT create_distributed_table('dist.campaigns', 'account_id', shard_count => 8);
SELECT create_distributed_table('dist.' || t, 'account_id', colocate_with => 'dist.campaigns')
  FROM unnest('{ad_groups,ads,budget_alerts,analytics}'::text[]) t;
SELECT citus_add_local_table_to_metadata('dist.settings');
} . data_sql('dist', 'g') . fks_sql('dist'));
my %orphan_shards;
for my $o (@orphans)
{
	my $shardid = plant(@$o);
	$orphan_shards{ $o->[0] }{$shardid} = 1;
}
is( $coord->safe_psql(
		'postgres',
		"SELECT string_agg(citus_table_type, ',' ORDER BY table_name::text) FROM citus_tables WHERE table_name::text LIKE 'dist.%'"
	),
	'reference,distributed,distributed,distributed,distributed,distributed,reference,local,reference',
	'dist: reference, distributed and Citus local tables');
my $nshards = keys %{ $orphan_shards{ad_groups} };
ok($nshards > 1 && $nshards < 8,
	"orphans of ad_groups in $nshards of its 8 shards, none in the others");
is($coord->safe_psql('postgres', 'SELECT count(*) FROM dist.ad_groups'),
	'4007', 'the orphans are seen through the coordinator');

# loc: plain tables, the rows in another order, the orphans planted last
# in the order of the list
$coord->safe_psql('postgres',
	tables_sql('loc') . data_sql('loc', 'md5(g::text)') . fks_sql('loc'));
$coord->safe_psql('postgres',
	"SET session_replication_role = replica;\n"
	  . join('', map { "INSERT INTO loc.$_->[0] VALUES $_->[2];\n" } @orphans));

# --- the same answers --------------------------------------------------------
sub report
{
	my ($node, $schema, $limit, %opt) = @_;
	my $sql = qq{
SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s', constraint_name,
         (SELECT relname FROM pg_class WHERE oid OPERATOR(pg_catalog.=) table_name), columns,
         (SELECT relname FROM pg_class WHERE oid OPERATOR(pg_catalog.=) referenced_table), problem, rows, sample), E'\\n'
       ORDER BY ord)
FROM lane_google.validate_fk_integrity('$schema', $limit) WITH ORDINALITY AS v(constraint_name, table_name,
       columns, referenced_table, problem, rows, sample, ord)};
	return $node->safe_psql('postgres', ($opt{prefix} // '') . $sql);
}

my $want = join("\n",
	'accounts_plan_id_fkey|accounts|{plan_id}|plans|orphan_rows|1|{77}',
	'ad_groups_account_id_campaign_id_fkey|ad_groups|{account_id,campaign_id}|campaigns|orphan_rows|7|{"(3,777777)","(3,888888)","(17,5)"}',
	'ads_account_id_ad_group_id_fkey|ads|{account_id,ad_group_id}|ad_groups|orphan_rows|4|{"(9,NULL)","(11,424242)","(11,NULL)"}',
	'analytics_account_id_campaign_id_fkey|analytics|{account_id,campaign_id}|campaigns|missing_index||{"CREATE INDEX ON dist.analytics (account_id, campaign_id)"}',
	'analytics_account_id_campaign_id_fkey|analytics|{account_id,campaign_id}|campaigns|orphan_rows|1|{"(30,66666)"}',
	'analytics_account_id_campaign_id_fkey|analytics|{account_id,campaign_id}|campaigns|type_mismatch||{"campaign_id integer -> id bigint"}',
	'budget_alerts_account_id_campaign_id_fkey|budget_alerts|{account_id,campaign_id}|campaigns|not_validated|3|{"(20,55555)","(21,55556)"}',
	'budget_alerts_account_id_campaign_id_fkey|budget_alerts|{account_id,campaign_id}|campaigns|orphan_rows|3|{"(20,55555)","(21,55556)"}',
	'campaigns_billing_account_id_fkey|campaigns|{billing_account_id}|accounts|orphan_rows|3|{9001,9002}',
	'campaigns_created_by_fkey|campaigns|{created_by}|users|orphan_rows|2|{00000000-0000-7000-8000-0000000000aa,00000000-0000-7000-8000-0000000000bb}',
	'settings_account_id_fkey|settings|{account_id}|accounts|orphan_rows|1|{9999}');
my $t0 = time;
my $dist3 = report($coord, 'dist', 3);
my $dist_s = time - $t0;
$t0 = time;
my $loc3 = report($coord, 'loc', 3);
my $loc_s = time - $t0;
is($dist3, $want, 'dist: every orphan planted in the shards counted, the 3 smallest keys sampled');
(my $loc_want = $want) =~ s/ON dist\./ON loc./;
is($loc3, $loc_want, 'loc, the same rows as plain tables: the same answer');
for my $limit (0, 1, 1000)
{
	(my $d = report($coord, 'dist', $limit)) =~ s/ON dist\./ON loc./;
	is($d, report($coord, 'loc', $limit), "sample_limit $limit: dist and loc agree row for row");
}
diag(sprintf('validate_fk_integrity at %d rows: Citus tables %.3f s, plain tables %.3f s',
		$coord->safe_psql('postgres', 'SELECT (SELECT count(*) FROM loc.accounts) + (SELECT count(*) FROM loc.campaigns)'
			  . ' + (SELECT count(*) FROM loc.ad_groups) + (SELECT count(*) FROM loc.ads) + (SELECT count(*) FROM loc.budget_alerts)'
			  . ' + (SELECT count(*) FROM loc.analytics) + (SELECT count(*) FROM loc.settings) + 55'),
		$dist_s, $loc_s));

# --- the queries are pushed down to every shard -------------------------------
my ($rc, $out, $err) = $coord->psql('postgres',
	"SET client_min_messages = debug1; SELECT count(*) FROM lane_google.validate_fk_integrity('dist', 3)");
my @queries;
push @queries, [ $1, $2, $3 ]
  while $err =~ /validate_fk_integrity: "([^"]+)" (samples )?on the shards: (SELECT .*)$/mg;
is(scalar(@queries), 17, 'one count per foreign key, one sample query per foreign key with orphans');
for my $q (@queries)
{
	my ($con, $what, $sql) = @$q;
	my ($child) = $sql =~ /FROM dist\.(\w+) fk/;
	my $plan = $coord->safe_psql('postgres', "EXPLAIN (COSTS OFF) $sql");
	my $where = ($what ? 'samples' : 'count') . " of $con";
	my $tasks = $child =~ /^(accounts|settings)$/ ? 1 : 8;
	like($plan, qr/Custom Scan \(Citus Adaptive\).*Task Count: $tasks\b.*Anti Join/s,
		"EXPLAIN $where: the anti-join runs in $tasks task(s), one per shard of $child");
	unlike($plan, qr/repartition|intermediate|Subplan/i,
		"EXPLAIN $where: no row pulled through the coordinator");
}
like($err, qr/pg_catalog\.count\(\*\).*OPERATOR\(pg_catalog\.=\)/,
	'the built query names pg_catalog\'s count and = operator');

# --- refused by name: Citus tables with plain tables, not co-located --------
$coord->safe_psql(
	'postgres', q{
CREATE SCHEMA mix_plain;
SET citus.enable_ddl_propagation = off;
CREATE TABLE mix_plain.notes (id bigint PRIMARY KEY, account_id bigint REFERENCES dist.accounts (id));
RESET citus.enable_ddl_propagation;
CREATE SCHEMA mix_dist;
CREATE TABLE mix_dist.parent (id bigint PRIMARY KEY);
CREATE TABLE mix_dist.events (account_id bigint, parent_id bigint);
SELECT create_distributed_table('mix_dist.events', 'account_id', colocate_with => 'dist.campaigns');
SET citus.enable_ddl_propagation = off;
ALTER TABLE mix_dist.events ADD FOREIGN KEY (parent_id) REFERENCES mix_dist.parent (id);
RESET citus.enable_ddl_propagation;
CREATE SCHEMA mix_coloc;
CREATE TABLE mix_coloc.parent (account_id bigint, id bigint, PRIMARY KEY (account_id, id));
SELECT create_distributed_table('mix_coloc.parent', 'account_id', colocate_with => 'none');
CREATE TABLE mix_coloc.child (account_id bigint, parent_id bigint);
SELECT create_distributed_table('mix_coloc.child', 'account_id', colocate_with => 'dist.campaigns');
SET citus.enable_ddl_propagation = off;
ALTER TABLE mix_coloc.child ADD FOREIGN KEY (account_id, parent_id) REFERENCES mix_coloc.parent (account_id, id);
RESET citus.enable_ddl_propagation;
});
like(
	error_of($coord, "SELECT * FROM lane_google.validate_fk_integrity('mix_plain')"),
	qr/ERROR:  0A000: validate_fk_integrity\(\) cannot check foreign key "notes_account_id_fkey" between Citus table dist\.accounts and plain table mix_plain\.notes\nDETAIL:  dist\.accounts is a reference table/,
	'a plain table referencing a reference table is refused, naming both');
like(
	error_of($coord, "SELECT * FROM lane_google.validate_fk_integrity('mix_dist')"),
	qr/ERROR:  0A000: validate_fk_integrity\(\) cannot check foreign key "events_parent_id_fkey" between Citus table mix_dist\.events and plain table mix_dist\.parent\nDETAIL:  mix_dist\.events is a distributed table/,
	'a distributed table referencing a plain table is refused');
like(
	error_of($coord, "SELECT * FROM lane_google.validate_fk_integrity('mix_coloc')"),
	qr/ERROR:  0A000: validate_fk_integrity\(\) cannot check foreign key "child_account_id_parent_id_fkey" of distributed table mix_coloc\.child on its shards\nDETAIL:  It references distributed table mix_coloc\.parent; Citus runs a query joining them on the shards only when they are co-located/,
	'distributed tables that are not co-located are refused');

# on a worker, whose shell tables hold nothing and whose shards hold a part
like(
	error_of($w1, "SELECT * FROM lane_google.validate_fk_integrity('dist')"),
	qr/ERROR:  0A000: validate_fk_integrity\(\) (does not support Citus tables: dist\.\w+ is a (distributed|reference) table|cannot read table dist\.\w+_\d+: it is a shard of Citus table dist\.\w+)/,
	'on a worker every Citus table is refused by name');

# --- rights: checked before any query reaches a shard -------------------------
$coord->safe_psql(
	'postgres', q{
CREATE ROLE viewer LOGIN;
GRANT USAGE ON SCHEMA dist, lane_google TO viewer;
GRANT EXECUTE ON FUNCTION lane_google.validate_fk_integrity(name, integer) TO viewer;
GRANT SELECT ON ALL TABLES IN SCHEMA dist TO viewer;
REVOKE SELECT ON dist.campaigns FROM viewer;
});
($rc, $out, $err) = $coord->psql(
	'postgres',
	"SET client_min_messages = debug1; SET ROLE viewer; SELECT * FROM lane_google.validate_fk_integrity('dist')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  42501: permission denied for table campaigns/,
	'a caller without SELECT on campaigns is refused with 42501');
unlike($err, qr/on the shards/, 'before any query reached a shard');
$coord->safe_psql('postgres', 'GRANT SELECT ON dist.campaigns TO viewer');
(my $viewer = report($coord, 'dist', 3, prefix => 'SET ROLE viewer;')) =~ s/ON dist\./ON loc./;
is($viewer, $loc3, 'granted SELECT, the same answer (Citus has no column privileges)');
$coord->safe_psql('postgres', 'ALTER TABLE dist.settings ENABLE ROW LEVEL SECURITY');
($rc, $out, $err) = $coord->psql(
	'postgres',
	"SET client_min_messages = debug1; SET ROLE viewer; SELECT * FROM lane_google.validate_fk_integrity('dist')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  42501: row-level security is enabled for table "settings"/,
	'row-level security on a Citus local table: refused with 42501');
unlike($err, qr/on the shards/, 'before any query reached a shard');
$coord->safe_psql('postgres', 'ALTER TABLE dist.settings DISABLE ROW LEVEL SECURITY');

# --- a hostile search_path changes nothing -------------------------------------
$coord->safe_psql(
	'postgres', q{
SET citus.enable_ddl_propagation = off;
CREATE SCHEMA evil;
CREATE FUNCTION evil.always(bigint, bigint) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.always);
CREATE FUNCTION evil.zero(bigint) RETURNS bigint LANGUAGE sql AS 'SELECT 0::bigint';
CREATE AGGREGATE evil.count(*) (SFUNC = evil.zero, STYPE = bigint, INITCOND = '0');
});
is( $coord->safe_psql('postgres',
		'SET search_path = evil, pg_catalog; SELECT count(*) FROM loc.ad_groups a WHERE a.id = 1'),
	'0', 'the hostile schema shadows count and = where it comes first');
is(report($coord, 'dist', 3, prefix => 'SET search_path = evil, pg_catalog, public;'),
	$dist3, 'with that search_path, the same answer');

$_->stop for @nodes;
done_testing();
