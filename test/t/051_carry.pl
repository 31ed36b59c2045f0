# test/t/051_carry.pl: the objects around the 11 tables that the key
# conversion re-creates from SQL it keeps (issue 9, src/dependents/
# "carried by SQL kept in the plan"): the application's triggers on the 11
# tables, row security (the tables' flags, policies on them, a policy on
# another table reading them), statistics objects, publication membership,
# rules (on the 11 tables, and on another table writing them), functions
# whose bodies depend on them (BEGIN ATOMIC, a row type); and a carried
# view's column privileges and defaults; the application's own indexes on them.
#
# - 1.0 -> 1.1 -> 2.1 (the update's own calls) and 1.0 -> 2.0 -> 2.1 (the
#   released 1.0 -> 2.0 script, through the hooks) list each in
#   conversion_plan() as carried and end with the same catalog text for every
#   one of them as before (definitions, enabled states, roles, expressions,
#   owners, statistics targets, comments, column lists, row filters); the
#   extension's own catalog equals a fresh CREATE EXTENSION given the same
#   objects; none becomes a member of the extension;
# - they work afterwards: the triggers fire (the disabled and the replica
#   one do not), the policies filter rows for a role without BYPASSRLS, the
#   publication lists the table with its row filter;
# - 2.1 -> 1.1 gives them all back, with the same catalog text;
# - one of each kind that cannot be re-created over the target layout (a key
#   compared with an integer) and a default taking nextval() of a key's
#   sequence are refused in the plan, each named with PostgreSQL's reason,
#   before any row of the 11 tables is read, the database as it was; on the
#   way back a trigger naming legacy_id (gone at 1.1) is refused the same way.
use strict;
use warnings FATAL => 'all';

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use LgPaths;

my $tmp = PostgreSQL::Test::Utils::tempdir();
my $node = PostgreSQL::Test::Cluster->new('carry');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
fsync = off
client_min_messages = warning
TimeZone = 'UTC'
wal_level = logical
});
$node->start;
lg_paths_init($node, $tmp);

query('postgres', 'CREATE ROLE app_user; CREATE ROLE stats_owner; CREATE ROLE fn_owner');

# What the application's objects need, in every database (the references too)
my $base_sql = q{
CREATE SCHEMA app;
CREATE TABLE app.log (id serial PRIMARY KEY, what text);
CREATE FUNCTION app.log_it() RETURNS trigger LANGUAGE plpgsql
AS $$BEGIN INSERT INTO app.log (what) VALUES (TG_NAME || ' ' || TG_OP); RETURN NEW; END$$;
GRANT USAGE ON SCHEMA app, lane_google TO app_user;
};
# On the 11 tables: the reference catalogs get them too (the catalog lists
# the triggers of the 11 tables)
my $root_sql = q{
CREATE TRIGGER users_log AFTER INSERT OR UPDATE OF email ON lane_google.users
    FOR EACH ROW WHEN (NEW.email IS NOT NULL) EXECUTE FUNCTION app.log_it();
COMMENT ON TRIGGER users_log ON lane_google.users IS 'audit of users';
CREATE TRIGGER users_log_replica AFTER INSERT ON lane_google.users
    FOR EACH ROW EXECUTE FUNCTION app.log_it();
ALTER TABLE lane_google.users ENABLE REPLICA TRIGGER users_log_replica;
CREATE TRIGGER users_log_off AFTER INSERT ON lane_google.users
    FOR EACH ROW EXECUTE FUNCTION app.log_it();
ALTER TABLE lane_google.users DISABLE TRIGGER users_log_off;
CREATE TRIGGER campaigns_log_always AFTER UPDATE ON lane_google.campaigns
    FOR EACH STATEMENT EXECUTE FUNCTION app.log_it();
ALTER TABLE lane_google.campaigns ENABLE ALWAYS TRIGGER campaigns_log_always;
GRANT SELECT ON lane_google.campaigns, lane_google.users TO app_user;
CREATE POLICY campaigns_read ON lane_google.campaigns AS PERMISSIVE FOR SELECT TO app_user USING (true);
COMMENT ON POLICY campaigns_read ON lane_google.campaigns IS 'app_user reads';
CREATE POLICY campaigns_live ON lane_google.campaigns AS RESTRICTIVE FOR ALL TO app_user, PUBLIC
    USING (status <> 'cancelled') WITH CHECK (status = 'draft');
ALTER TABLE lane_google.campaigns ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE lane_google.accounts FORCE ROW LEVEL SECURITY;
CREATE STATISTICS app.users_status_role (ndistinct, dependencies) ON status, role FROM lane_google.users;
ALTER STATISTICS app.users_status_role SET STATISTICS 500;
ALTER STATISTICS app.users_status_role OWNER TO stats_owner;
COMMENT ON STATISTICS app.users_status_role IS 'status and role go together';
CREATE STATISTICS lane_google.campaigns_people ON account_id, created_by_id FROM lane_google.campaigns;
CREATE STATISTICS app.users_email_lower ON lower(email), status FROM lane_google.users;
CREATE PUBLICATION app_pub FOR TABLE lane_google.users (id, email, status) WHERE (email LIKE '%@%'),
    lane_google.campaigns WITH (publish = 'insert');
CREATE PUBLICATION app_pub2 FOR TABLE lane_google.accounts;
CREATE INDEX campaigns_name_lower ON lane_google.campaigns (lower(name)) WHERE status <> 'cancelled';
COMMENT ON INDEX lane_google.campaigns_name_lower IS 'search by name';
CREATE UNIQUE INDEX users_username_ci ON lane_google.users (lower(username));
CREATE INDEX ads_group_created ON lane_google.ads (ad_group_id, created_at DESC);
};
# On another table, reading the 11 tables
my $other_sql = q{
CREATE TABLE app.notes (owner_email text, body text);
INSERT INTO app.notes SELECT email, 'note of ' || email FROM lane_google.users;
INSERT INTO app.notes VALUES ('nobody@example.com', 'orphan');
ALTER TABLE app.notes ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON app.notes TO app_user;
CREATE POLICY notes_of_users ON app.notes FOR SELECT TO app_user
    USING (owner_email IN (SELECT u.email FROM lane_google.users u WHERE u.status <> 'suspended'));
COMMENT ON POLICY notes_of_users ON app.notes IS 'notes of users';
CREATE TABLE app.signups (email text, username text);
CREATE RULE signup_user AS ON INSERT TO app.signups DO ALSO
    INSERT INTO lane_google.users (email, username, password_hash, salt, first_name, last_name)
    VALUES (NEW.email, NEW.username, 'h', 's', 'f', 'l');
COMMENT ON RULE signup_user ON app.signups IS 'a signup makes a user';
CREATE RULE users_update_log AS ON UPDATE TO lane_google.users DO ALSO
    INSERT INTO app.log (what) VALUES ('rule ' || NEW.email);
ALTER TABLE lane_google.users DISABLE RULE users_update_log;
CREATE FUNCTION app.user_count() RETURNS bigint LANGUAGE sql STABLE
BEGIN ATOMIC SELECT count(*) FROM lane_google.users WHERE status <> 'suspended'; END;
ALTER FUNCTION app.user_count() OWNER TO fn_owner;
REVOKE ALL ON FUNCTION app.user_count() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.user_count() TO app_user;
COMMENT ON FUNCTION app.user_count() IS 'users not suspended';
CREATE PROCEDURE app.rename_user(e text, n text) LANGUAGE sql
BEGIN ATOMIC UPDATE lane_google.users SET first_name = n WHERE email = e; END;
CREATE FUNCTION app.user_rows() RETURNS SETOF lane_google.users LANGUAGE sql STABLE
AS 'SELECT * FROM lane_google.users';
CREATE VIEW app.campaign_names AS SELECT id, name, status FROM lane_google.campaigns;
ALTER VIEW app.campaign_names ALTER COLUMN status SET DEFAULT 'draft';
GRANT SELECT (id, name), UPDATE (name) ON app.campaign_names TO app_user;
};

# Everything about them, as catalog text
my $carried_sql = q{
SELECT 'trigger ' || tgrelid::regclass || ' ' || tgname || ' ' || tgenabled::text || ' '
       || pg_get_triggerdef(oid) || ' / ' || coalesce(obj_description(oid, 'pg_trigger'), '')
  FROM pg_trigger WHERE NOT tgisinternal AND tgname NOT LIKE '%set_updated_at'
   AND tgrelid::regclass::text LIKE 'lane_google.%'
UNION ALL
SELECT 'policy ' || p.schemaname || '.' || p.tablename || ' ' || p.policyname || ' ' || p.permissive || ' '
       || p.roles::text || ' ' || p.cmd || ' ' || coalesce(p.qual, '-') || ' ' || coalesce(p.with_check, '-') || ' / '
       || coalesce((SELECT obj_description(o.oid, 'pg_policy') FROM pg_policy o
                     WHERE o.polname = p.policyname AND o.polrelid = format('%I.%I', p.schemaname, p.tablename)::regclass), '')
  FROM pg_policies p
UNION ALL
SELECT 'row security ' || oid::regclass || ' ' || relrowsecurity || ' ' || relforcerowsecurity
  FROM pg_class WHERE relrowsecurity OR relforcerowsecurity
UNION ALL
SELECT 'statistics ' || stxnamespace::regnamespace || '.' || stxname || ' ' || pg_get_userbyid(stxowner) || ' '
       || stxstattarget || ' ' || pg_get_statisticsobjdef(oid) || ' / ' || coalesce(obj_description(oid, 'pg_statistic_ext'), '')
  FROM pg_statistic_ext
UNION ALL
SELECT 'publication ' || p.pubname || ' ' || pr.prrelid::regclass || ' '
       || coalesce((SELECT string_agg(a.attname, ',' ORDER BY a.attname) FROM pg_attribute a
                     WHERE a.attrelid = pr.prrelid AND a.attnum = ANY (pr.prattrs::int2[])), '-') || ' '
       || coalesce(pg_get_expr(pr.prqual, pr.prrelid), '-')
  FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
UNION ALL
SELECT 'rule ' || ev_class::regclass || ' ' || rulename || ' ' || ev_enabled::text || ' ' || pg_get_ruledef(oid)
       || ' / ' || coalesce(obj_description(oid, 'pg_rewrite'), '')
  FROM pg_rewrite WHERE rulename <> '_RETURN'
UNION ALL
SELECT 'function ' || oid::regprocedure || ' ' || pg_get_userbyid(proowner) || ' ' || coalesce(proacl::text, '-') || ' '
       || pg_get_functiondef(oid) || ' / ' || coalesce(obj_description(oid, 'pg_proc'), '')
  FROM pg_proc WHERE pronamespace = 'app'::regnamespace
UNION ALL
SELECT 'view column ' || a.attrelid::regclass || '.' || a.attname || ' ' || coalesce(a.attacl::text, '-') || ' '
       || coalesce(pg_get_expr(d.adbin, d.adrelid), '-')
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid AND c.relkind = 'v'
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relnamespace = 'app'::regnamespace AND a.attnum > 0
UNION ALL
SELECT 'index ' || i.indexrelid::regclass || ' ' || pg_get_indexdef(i.indexrelid) || ' / '
       || coalesce(obj_description(i.indexrelid, 'pg_class'), '')
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE c.relname IN ('campaigns_name_lower', 'users_username_ci', 'ads_group_created')
UNION ALL
SELECT 'member ' || pg_describe_object(classid, objid, 0) FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
   AND classid IN ('pg_trigger'::regclass, 'pg_policy'::regclass, 'pg_statistic_ext'::regclass,
                   'pg_publication_rel'::regclass, 'pg_rewrite'::regclass, 'pg_proc'::regclass)
   AND pg_describe_object(classid, objid, 0) LIKE '%app.%'
ORDER BY 1};

my $plan_sql = 'SELECT object_type, object, reason IS NULL FROM lane_google.conversion_plan() ORDER BY 1, 2';
my $want_plan = join("\n",
	'function|function app.rename_user(text,text)|t',
	'function|function app.user_count()|t',
	'function|function app.user_rows()|t',
	'index|index lane_google.ads_group_created|t',
	'index|index lane_google.campaigns_name_lower|t',
	'index|index lane_google.users_username_ci|t',
	'policy|policy campaigns_live on table lane_google.campaigns|t',
	'policy|policy campaigns_read on table lane_google.campaigns|t',
	'policy|policy notes_of_users on table app.notes|t',
	'publication|publication of table lane_google.accounts in publication app_pub2|t',
	'publication|publication of table lane_google.campaigns in publication app_pub|t',
	'publication|publication of table lane_google.users in publication app_pub|t',
	'row security|row level security on table lane_google.accounts|t',
	'row security|row level security on table lane_google.campaigns|t',
	'rule|rule signup_user on table app.signups|t',
	'rule|rule users_update_log on table lane_google.users|t',
	'statistics object|statistics object app.users_email_lower|t',
	'statistics object|statistics object app.users_status_role|t',
	'statistics object|statistics object lane_google.campaigns_people|t',
	'trigger|trigger campaigns_log_always on table lane_google.campaigns|t',
	'trigger|trigger users_log on table lane_google.users|t',
	'trigger|trigger users_log_off on table lane_google.users|t',
	'trigger|trigger users_log_replica on table lane_google.users|t',
	'view|app.campaign_names|t');

# Proof that they work: the triggers fire (users_log on insert; the disabled
# and the replica-only ones not, in a session of origin role), the policies
# filter for app_user, the publication lists the table.
my $new_user = q{INSERT INTO lane_google.users (email, username, password_hash, salt, first_name, last_name)
VALUES ('new@example.com', 'newuser', 'h', 's', 'f', 'l')};
sub works
{
	my ($db, $new_user_sql) = @_;
	query($db, 'TRUNCATE app.log');
	query($db, $new_user_sql);
	query($db, "UPDATE lane_google.campaigns SET name = name WHERE false");
	query($db, "UPDATE lane_google.users SET first_name = first_name WHERE email = 'new\@example.com'");
	is(query($db, 'SELECT string_agg(what, \', \' ORDER BY what) FROM app.log'),
		'campaigns_log_always UPDATE, users_log INSERT',
		"$db: the enabled triggers fire, the disabled and replica ones do not (nor the disabled rule)");
	query($db, "DELETE FROM lane_google.users WHERE email = 'new\@example.com'");
	query($db, "INSERT INTO app.signups VALUES ('signup\@example.com', 'signup')");
	is(query($db, "SELECT count(*) FROM lane_google.users WHERE email = 'signup\@example.com'"), '1',
		"$db: the rule on app.signups writes the new users table");
	query($db, "DELETE FROM lane_google.users WHERE email = 'signup\@example.com'; TRUNCATE app.signups, app.log");
	is(query($db, 'SELECT app.user_count()'), query($db, "SELECT count(*) FROM lane_google.users WHERE status <> 'suspended'"),
		"$db: the BEGIN ATOMIC function reads the new users table");
	my $email = query($db, 'SELECT min(email) FROM lane_google.users');
	query($db, "CALL app.rename_user('$email', 'Renamed')");
	is(query($db, "SELECT first_name FROM lane_google.users WHERE email = '$email'"), 'Renamed',
		"$db: the BEGIN ATOMIC procedure writes it");
	is(query($db, 'SELECT count(*) FROM app.user_rows()'), query($db, 'SELECT count(*) FROM lane_google.users'),
		"$db: the function returning its row type reads it");
	my $want = query($db, "SELECT count(*) FROM lane_google.campaigns WHERE status <> 'cancelled'");
	my $all = query($db, 'SELECT count(*) FROM lane_google.campaigns');
	isnt($want, $all, "$db: some campaigns are cancelled (the policy has something to filter)");
	is(query($db, 'SET ROLE app_user; SELECT count(*) FROM lane_google.campaigns'), $want,
		"$db: app_user sees the campaigns the policies let through");
	is(query($db, 'SET ROLE app_user; SELECT count(*) FROM app.notes'),
		query($db, "SELECT count(*) FROM app.notes n JOIN lane_google.users u ON u.email = n.owner_email WHERE u.status <> 'suspended'"),
		"$db: app_user sees the notes of the users the policy on app.notes reads");
	is(query($db, "SELECT string_agg(schemaname || '.' || tablename || ' ' || coalesce(rowfilter, '-'), ', ' ORDER BY tablename)
	                 FROM pg_publication_tables WHERE pubname = 'app_pub'"),
		"lane_google.campaigns -, lane_google.users ((email)::text ~~ '%\@%'::text)",
		"$db: the publication lists the tables, with the row filter");
	return;
}

# --- the seed: 1.0 with rows and the objects around it ------------------------

createdb('seed');
query('seed', "CREATE EXTENSION lane_google VERSION '1.0'");
generate('seed', '0.001');
query('seed', q{UPDATE lane_google.campaigns SET status = 'cancelled' WHERE id % 3 = 0;
UPDATE lane_google.users SET status = 'suspended' WHERE id % 4 = 0});
query('seed', $base_sql . $root_sql . $other_sql);
my $carried10 = query('seed', $carried_sql);
like($carried10, qr/^trigger lane_google\.users users_log_replica R /m, 'seed: the replica trigger');

createdb('ref21');
query('ref21', "CREATE EXTENSION lane_google VERSION '2.1'");
query('ref21', $base_sql . $root_sql);
my $want21 = catalog('ref21');
createdb('ref11');
query('ref11', "CREATE EXTENSION lane_google VERSION '1.1'");
query('ref11', $base_sql . $root_sql);
my $want11 = catalog('ref11');

# --- 1.0 -> 1.1 -> 2.1 and back -------------------------------------------------

createdb('via11', 'seed');
update_to('via11', '1.1');
is(query('via11', $plan_sql), $want_plan, '1.1: conversion_plan() lists every one, each carried');
is(query('via11', q{SELECT string_agg(object || ': ' || action, E'\n' ORDER BY object) FROM lane_google.conversion_plan()
                     WHERE object_type IN ('trigger', 'publication', 'row security', 'statistics object', 'index')
                        OR object LIKE '%notes%' OR object_type = 'rule' OR object = 'function app.user_count()'}),
	join("\n",
		'function app.user_count(): drop; re-create over the converted tables with its owner, privileges and comment',
		'index lane_google.ads_group_created: re-create on the new table with its name, definition and comment',
		'index lane_google.campaigns_name_lower: re-create on the new table with its name, definition and comment',
		'index lane_google.users_username_ci: re-create on the new table with its name, definition and comment',
		'policy notes_of_users on table app.notes: drop; re-create over the converted tables with its command, roles, expressions and comment',
		'publication of table lane_google.accounts in publication app_pub2: add the new table to publication app_pub2',
		'publication of table lane_google.campaigns in publication app_pub: add the new table to publication app_pub',
		'publication of table lane_google.users in publication app_pub: add the new table to publication app_pub with its column list and row filter',
		'row level security on table lane_google.accounts: force row level security on the new table',
		'row level security on table lane_google.campaigns: enable and force row level security on the new table',
		'rule signup_user on table app.signups: drop; re-create over the converted tables with its definition and comment',
		'rule users_update_log on table lane_google.users: re-create on the new table with its definition, comment and state (DISABLE)',
		'statistics object app.users_email_lower: re-create on the new table with its owner, statistics target and comment',
		'statistics object app.users_status_role: re-create on the new table with its owner, statistics target and comment',
		'statistics object lane_google.campaigns_people: re-create on the new table with its owner, statistics target and comment',
		'trigger campaigns_log_always on table lane_google.campaigns: re-create on the new table with its definition, comment and state (ENABLE ALWAYS)',
		'trigger users_log on table lane_google.users: re-create on the new table with its definition and comment',
		'trigger users_log_off on table lane_google.users: re-create on the new table with its definition, comment and state (DISABLE)',
		'trigger users_log_replica on table lane_google.users: re-create on the new table with its definition, comment and state (ENABLE REPLICA)'),
	'1.1: the actions say what happens to each');
update_to('via11', '2.1');
same_text(query('via11', $carried_sql), $carried10,
	'1.0 -> 1.1 -> 2.1: triggers, policies, row security, statistics, publications as before');
same_text(catalog('via11'), $want21, 'catalog after 1.1 -> 2.1 = fresh 2.1 with the same objects');
works('via11', $new_user);

update_to('via11', '1.1');
same_text(query('via11', $carried_sql), $carried10, '2.1 -> 1.1: every one as before');
same_text(catalog('via11'), $want11, 'catalog after 2.1 -> 1.1 = fresh 1.1 with the same objects');
works('via11', $new_user);

# --- the released 1.0 -> 2.0, through the hooks --------------------------------

createdb('via20', 'seed');
update_to('via20', '2.0');
same_text(query('via20', $carried_sql), $carried10, '1.0 -> 2.0 (released script): every one as before');
update_to('via20', '2.1');
same_text(catalog('via20'), $want21, 'catalog after 1.0 -> 2.0 -> 2.1 = fresh 2.1 with the same objects');
works('via20', $new_user);

# --- what cannot be carried: refused in the plan, before any row ---------------

my $xact_scans = q{SELECT sum(pg_stat_get_xact_numscans(c.oid)) FROM pg_class c
 WHERE c.relnamespace = 'lane_google'::regnamespace AND c.relname IN
 ('users', 'accounts', 'account_users', 'campaigns', 'ad_groups', 'ads', 'analytics_snapshots',
  'approval_requests', 'budget_alerts', 'conversations', 'conversation_messages')};
sub scans_during
{
	my ($db, $sql) = @_;
	my ($rc, $out, $err) = $node->psql($db,
		"BEGIN;\nSAVEPOINT s;\n$sql;\nROLLBACK TO s;\n$xact_scans;\nCOMMIT;\n",
		on_error_stop => 0);
	my @lines = split /\n/, $out;
	return ($lines[-1], $err);
}
my $state_sql = $carried_sql . ";\nSELECT extversion FROM pg_extension WHERE extname = 'lane_google'";

createdb('bad', 'seed');
update_to('bad', '1.1');
query('bad', q{
CREATE TRIGGER bad_trigger BEFORE UPDATE ON lane_google.users
    FOR EACH ROW WHEN (NEW.id = 1) EXECUTE FUNCTION app.log_it();
CREATE POLICY bad_policy ON lane_google.accounts USING (id = 1);
CREATE POLICY bad_notes ON app.notes USING (owner_email IN (SELECT email FROM lane_google.users WHERE id < 5));
CREATE STATISTICS app.bad_statistics ON (id + 1), status FROM lane_google.users;
CREATE INDEX bad_index ON lane_google.campaigns (id) WHERE id > 100;
CREATE PUBLICATION bad_pub FOR TABLE lane_google.ads WHERE (id > 5);
CREATE TABLE app.tickets (id integer DEFAULT nextval('lane_google.users_id_seq'), t text);
CREATE TABLE app.removals (user_id integer);
CREATE RULE bad_rule AS ON INSERT TO app.removals DO ALSO DELETE FROM lane_google.users WHERE id = NEW.user_id;
CREATE FUNCTION app.first_user() RETURNS text LANGUAGE sql BEGIN ATOMIC SELECT email FROM lane_google.users WHERE id = 1; END;
CREATE VIEW app.counted AS SELECT app.user_count() AS n;
CREATE VIEW app.campaign_ids AS SELECT id, name FROM lane_google.campaigns;
ALTER VIEW app.campaign_ids ALTER COLUMN id SET DEFAULT 0;});
my $before = query('bad', $state_sql);
is(query('bad', 'SELECT string_agg(object_type || \': \' || object || \': \' || reason, E\'\n\' ORDER BY object_type, object)
                   FROM lane_google.conversion_plan() WHERE reason IS NOT NULL'),
	join("\n",
		'default: default value for column id of table app.tickets: uses sequence lane_google.users_id_seq, which the update drops with the integer keys; give it a sequence of its own first (CREATE SEQUENCE s; SELECT setval(\'s\', last_value) FROM lane_google.users_id_seq; then use nextval(\'s\'))',
		'function: function app.first_user(): cannot be re-created over the converted tables: operator does not exist: uuid = integer',
		'index: index lane_google.bad_index: cannot be re-created over the converted tables: operator does not exist: uuid > integer',
		'policy: policy bad_notes on table app.notes: cannot be re-created over the converted tables: operator does not exist: uuid < integer',
		'policy: policy bad_policy on table lane_google.accounts: cannot be re-created over the converted tables: operator does not exist: uuid = integer',
		'publication: publication of table lane_google.ads in publication bad_pub: cannot be re-created over the converted tables: operator does not exist: uuid > integer',
		'rule: rule bad_rule on table app.removals: cannot be re-created over the converted tables: operator does not exist: uuid = integer',
		'statistics object: statistics object app.bad_statistics: cannot be re-created over the converted tables: operator does not exist: uuid + integer',
		'trigger: trigger bad_trigger on table lane_google.users: cannot be re-created over the converted tables: operator does not exist: uuid = integer',
		'view: app.campaign_ids: cannot be re-created over the converted tables: column "id" is of type uuid but default expression is of type integer',
		'view: view app.counted: depends on function app.user_count(), which the update re-creates'),
	'conversion_plan() names each one that cannot be carried, with PostgreSQL\'s reason');
my ($n) = scans_during('bad', 'SELECT count(*) FROM lane_google.users');
is($n, '1', 'the scan counter sees a read of users (the measure works)');
my $err;
($n, $err) = scans_during('bad', "ALTER EXTENSION lane_google UPDATE TO '2.1'");
is($n, '0', 'the update read no row of the 11 tables');
like($err, qr/cannot carry 11 dependent objects/, 'the update refuses the eleven');
like($err, qr/^(?:DETAIL:  )?trigger bad_trigger on table lane_google\.users: cannot be re-created over the converted tables: operator does not exist: uuid = integer$/m,
	'the trigger is named, with why');
like($err, qr/^(?:DETAIL:  )?default value for column id of table app\.tickets: uses sequence lane_google\.users_id_seq/m,
	'the default on a key sequence is named');
like($err, qr/HINT:  Nothing was changed and no row was read/, 'with a hint');
is(query('bad', $state_sql), $before, 'the database is as it was');

# On the way back: legacy_id is gone at 1.1
createdb('badback', 'via20');
query('badback', q{CREATE TRIGGER bad_back BEFORE UPDATE ON lane_google.campaigns
    FOR EACH ROW WHEN (NEW.legacy_id IS NOT NULL) EXECUTE FUNCTION app.log_it()});
$before = query('badback', $state_sql);
($n, $err) = scans_during('badback', "ALTER EXTENSION lane_google UPDATE TO '1.1'");
is($n, '0', '2.1 -> 1.1: the update read no row of the 11 tables');
like($err, qr/cannot carry 1 dependent object .*^DETAIL:  trigger bad_back on table lane_google\.campaigns: cannot be re-created over the converted tables: column new\.legacy_id does not exist$/ms,
	'2.1 -> 1.1: the trigger naming legacy_id is refused, named');
is(query('badback', $state_sql), $before, '2.1 -> 1.1: the database is as it was');

done_testing();
