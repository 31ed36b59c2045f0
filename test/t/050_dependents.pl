# test/t/050_dependents.pl: the objects around the 11 tables across the key
# conversion (issue 9, src/dependents/).
#
# An application schema with every carried kind: foreign keys into users
# (with actions, deferrability, a bigint column, and one into users(email),
# a non-key unique column), a registered reference (a text column of
# campaign ids), views (security_barrier, check_option, a comment, grants),
# a view over a view, a view over a referencing column, a materialized view
# with a unique index, the application's grants on the 11 tables.
# - 1.0 -> 1.1 -> 2.1 (the update's own calls) and 1.0 -> 2.0 -> 2.1 (the
#   released 1.0 -> 2.0 script, through the hooks in this library) carry
#   them all, and end in the same dependents; the extension's own catalog
#   equals a fresh CREATE EXTENSION on both;
# - every view's rows, keys mapped by legacy_uuid(), are equal before and
#   after; every carried foreign key is valid and enforced (an orphan is
#   refused); the grants are the same;
# - 2.1 -> 1.1 gives back the same dependents, byte-identical rows of the
#   application's tables and the same view definitions;
# - the released 2.0 -> 1.0 refuses, naming them, with a hint to go through
#   2.1 and 1.1, and reads no row;
# - something that cannot be carried (a view or a trigger comparing a key
#   with an integer, a BEGIN ATOMIC function) fails the update in the plan: every such
#   object named, no row of the 11 tables read (their scan counters do not
#   move), the database as it was;
# - a crash in the middle of carrying (the update holds every lock, is
#   re-creating the views and waits on an advisory lock the test holds) leaves
#   the database as it was before; the update then completes.
use strict;
use warnings FATAL => 'all';

use FindBin;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use LgPaths;
use LgReliab qw(lg_wait_restarted);

my ($node, $tmp) = lg_paths_node('dependents');

my $app_sql = q{
CREATE ROLE app_reader;
CREATE SCHEMA app;
CREATE TABLE app.sessions (
    id serial PRIMARY KEY,
    user_id integer REFERENCES lane_google.users (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    approver bigint CONSTRAINT sessions_approver_fk REFERENCES lane_google.users (id) MATCH FULL ON UPDATE RESTRICT,
    email varchar(255) CONSTRAINT sessions_email_fk REFERENCES lane_google.users (email),
    token text);
CREATE INDEX sessions_user_id_idx ON app.sessions (user_id);
INSERT INTO app.sessions (user_id, approver, email, token)
SELECT u.id, CASE WHEN u.id % 2 = 0 THEN u.id END, u.email, 'token ' || u.id
  FROM lane_google.users u;
INSERT INTO app.sessions (user_id, token) VALUES (NULL, 'anonymous');
CREATE TABLE app.audit_logs (id serial PRIMARY KEY, resource_id text, note text);
INSERT INTO app.audit_logs (resource_id, note)
SELECT c.id::text, 'campaign ' || c.name FROM lane_google.campaigns c;
INSERT INTO app.audit_logs (resource_id, note) VALUES (NULL, 'nothing');
CREATE VIEW app.active_campaigns WITH (security_barrier) AS
SELECT id, account_id, name FROM lane_google.campaigns WHERE status <> 'cancelled';
COMMENT ON VIEW app.active_campaigns IS 'campaigns not cancelled';
GRANT SELECT ON app.active_campaigns TO app_reader;
CREATE VIEW app.draft_campaigns AS
SELECT id, name, status FROM lane_google.campaigns WHERE status = 'draft' WITH CASCADED CHECK OPTION;
CREATE VIEW app.user_sessions AS
SELECT u.id AS user_id, u.email, s.token FROM lane_google.users u JOIN app.sessions s ON s.user_id = u.id;
CREATE VIEW app.session_count AS SELECT count(*) AS n, count(DISTINCT user_id) AS users FROM app.user_sessions;
CREATE MATERIALIZED VIEW app.campaigns_per_account AS
SELECT account_id, count(*) AS campaigns FROM lane_google.campaigns GROUP BY account_id;
CREATE UNIQUE INDEX campaigns_per_account_key ON app.campaigns_per_account (account_id);
GRANT SELECT ON app.campaigns_per_account TO app_reader;
};
# The application's grants on the 11 tables (the reference catalogs get them too)
my $grants_sql = q{
GRANT SELECT, INSERT ON lane_google.users TO app_reader;
GRANT UPDATE (name) ON lane_google.campaigns TO app_reader;
};

# What the dependents look like, keys aside
my $deps_sql = q{
SELECT 'view ' || c.relname || ' ' || c.relkind::text || ' ' || coalesce(pg_get_userbyid(c.relowner), '') || ' '
       || coalesce(array_to_string(c.reloptions, ','), '') || ' ' || coalesce(c.relacl::text, '') || ' '
       || coalesce(obj_description(c.oid, 'pg_class'), '') || ' ' || c.relispopulated
  FROM pg_class c WHERE c.relnamespace = 'app'::regnamespace AND c.relkind IN ('v', 'm')
UNION ALL
SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated
  FROM pg_constraint WHERE connamespace = 'app'::regnamespace
UNION ALL
SELECT 'index ' || indexrelid::regclass || ' ' || regexp_replace(pg_get_indexdef(indexrelid), ' ON .*', '')
  FROM pg_index WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'app'::regnamespace)
UNION ALL
SELECT 'grant ' || c.relname || ' ' || coalesce(c.relacl::text, '') || ' '
       || coalesce((SELECT string_agg(a.attname || '=' || a.attacl::text, ',') FROM pg_attribute a
                     WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL AND a.attname <> 'legacy_id'), '')
  FROM pg_class c WHERE c.relnamespace = 'lane_google'::regnamespace AND c.relname IN ('users', 'campaigns')
UNION ALL
SELECT 'member ' || pg_describe_object(classid, objid, 0) FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
   AND pg_describe_object(classid, objid, 0) LIKE '%app.%'
ORDER BY 1};

# The same with each view's definition and every column's type
my $defs_sql = q{
SELECT c.relname || ': ' || pg_get_viewdef(c.oid) FROM pg_class c
 WHERE c.relnamespace = 'app'::regnamespace AND c.relkind IN ('v', 'm')
UNION ALL
SELECT c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
 WHERE c.relnamespace = 'app'::regnamespace AND c.relkind IN ('r', 'v', 'm')
ORDER BY 1};

# Rows of the views and tables, integer keys mapped as the update maps them
my $rows_int = q{
SELECT 'active ' || lane_google.legacy_uuid('campaigns', id) || ' ' || lane_google.legacy_uuid('accounts', account_id) || ' ' || name FROM app.active_campaigns
UNION ALL SELECT 'draft ' || lane_google.legacy_uuid('campaigns', id) || ' ' || name FROM app.draft_campaigns
UNION ALL SELECT 'us ' || lane_google.legacy_uuid('users', user_id) || ' ' || email || ' ' || token FROM app.user_sessions
UNION ALL SELECT 'count ' || n || ' ' || users FROM app.session_count
UNION ALL SELECT 'mv ' || lane_google.legacy_uuid('accounts', account_id) || ' ' || campaigns FROM app.campaigns_per_account
UNION ALL SELECT 'session ' || id || ' ' || coalesce(lane_google.legacy_uuid('users', user_id)::text, '-') || ' '
   || coalesce(lane_google.legacy_uuid('users', approver)::text, '-') || ' ' || coalesce(email, '-') FROM app.sessions
UNION ALL SELECT 'audit ' || id || ' ' || coalesce(lane_google.legacy_uuid('campaigns', resource_id::bigint)::text, '-') FROM app.audit_logs
ORDER BY 1};
my $rows_uuid = q{
SELECT 'active ' || id || ' ' || account_id || ' ' || name FROM app.active_campaigns
UNION ALL SELECT 'draft ' || id || ' ' || name FROM app.draft_campaigns
UNION ALL SELECT 'us ' || user_id || ' ' || email || ' ' || token FROM app.user_sessions
UNION ALL SELECT 'count ' || n || ' ' || users FROM app.session_count
UNION ALL SELECT 'mv ' || account_id || ' ' || campaigns FROM app.campaigns_per_account
UNION ALL SELECT 'session ' || id || ' ' || coalesce(user_id::text, '-') || ' '
   || coalesce(approver::text, '-') || ' ' || coalesce(email, '-') FROM app.sessions
UNION ALL SELECT 'audit ' || id || ' ' || coalesce(resource_id::text, '-') FROM app.audit_logs
ORDER BY 1};
my $bytes_sql = q{
SELECT 'sessions ' || md5(string_agg(s::text, '|' ORDER BY id)) FROM app.sessions s
UNION ALL SELECT 'audit ' || md5(string_agg(a::text, '|' ORDER BY id)) FROM app.audit_logs a
ORDER BY 1};
# Scans of the 11 tables so far (the server's statistics; each psql session
# flushes its own when it ends)
my $scans_sql = q{
SELECT sum(seq_scan) + sum(coalesce(idx_scan, 0)) FROM pg_stat_user_tables WHERE schemaname = 'lane_google'};

# Scans of the 11 tables once every other session of $db has ended (each
# flushes its statistics as it exits)
sub scans
{
	my ($db) = @_;
	$node->poll_query_until($db,
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE datname = '$db' AND pid <> pg_backend_pid()")
	  or die "sessions of $db did not end";
	return query($db, $scans_sql);
}

# --- the seed: 1.0 with rows and the application around it --------------------

createdb('seed');
query('seed', "CREATE EXTENSION lane_google VERSION '1.0'");
generate('seed', '0.001');
query('seed', $app_sql);
query('seed', $grants_sql);
my $deps10 = query('seed', $deps_sql);
my $defs10 = query('seed', $defs_sql);
my $rows10 = query('seed', $rows_int);
my $bytes10 = query('seed', $bytes_sql);
# --- the reference: 2.1 fresh --------------------------------------------------

createdb('ref21');
query('ref21', "CREATE EXTENSION lane_google VERSION '2.1'");
query('ref21', $grants_sql);
my $want21 = catalog('ref21');
createdb('ref11');
query('ref11', "CREATE EXTENSION lane_google VERSION '1.1'");
query('ref11', $grants_sql);
my $want11 = catalog('ref11');

like($rows10, qr/^mv /m, 'seed: the materialized view has rows');
like($rows10, qr/^draft /m, 'seed: the check-option view has rows');

# 1.0 -> 1.1 -> 2.1: the update's own steps; the registered reference is made at 1.1
createdb('via11', 'seed');
update_to('via11', '1.1');
query('via11', "SELECT lane_google.add_legacy_reference('app.audit_logs', 'resource_id', 'campaigns')");
my $plan = query('via11', 'SELECT object_type, object, reason IS NULL FROM lane_google.conversion_plan() ORDER BY 1, 2');
is($plan, join("\n",
		'foreign key|sessions_approver_fk on app.sessions|t',
		'foreign key|sessions_email_fk on app.sessions|t',
		'foreign key|sessions_user_id_fkey on app.sessions|t',
		'materialized view|app.campaigns_per_account|t',
		'registered reference|app.audit_logs.resource_id|t',
		'view|app.active_campaigns|t',
		'view|app.draft_campaigns|t',
		'view|app.session_count|t',
		'view|app.user_sessions|t'),
	'1.1: conversion_plan() lists every dependent, each carried');
# PostgreSQL 18 keeps NOT NULL constraints as pg_constraint rows (contype
# 'n'), 91 of them on the 11 tables: the tables' own, never dependents of the
# application's (the plan above lists none of them, and the updates below
# carry none of them)
my $notnull_sql = q{SELECT count(*) FROM pg_constraint
 WHERE contype = 'n' AND conrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'lane_google'::regnamespace)};
my $notnull11 = query('via11', $notnull_sql);
if ($node->pg_version >= 18)
{
	cmp_ok($notnull11, '>=', 50, "18: the 11 tables have their NOT NULL constraints as pg_constraint rows ($notnull11)");
}
else
{
	is($notnull11, '0', 'before 18: NOT NULL is attnotnull alone, no pg_constraint row');
}
is(query('via11', q{SELECT count(*) FROM lane_google.conversion_plan() p
  JOIN pg_constraint c ON p.object LIKE quote_ident(c.conname) || ' on %' WHERE c.contype = 'n'}), '0',
	'1.1: conversion_plan() names no NOT NULL constraint');
update_to('via11', '2.1');
same_text(catalog('via11'), $want21, 'catalog after 1.0 -> 1.1 -> 2.1 with dependents = fresh 2.1');
is(query('via11', $notnull_sql), query('ref21', $notnull_sql),
	'1.0 -> 1.1 -> 2.1: the NOT NULL constraint rows of the 11 tables are those of a fresh 2.1');
same_text(query('via11', $rows_uuid), $rows10,
	'1.0 -> 1.1 -> 2.1: every view and referencing row, keys mapped by legacy_uuid(), is the same');
my $deps21 = query('via11', $deps_sql);
like($deps21, qr/^constraint app\.sessions sessions_user_id_fkey FOREIGN KEY \(user_id\) REFERENCES lane_google\.users\(id\) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED true$/m,
	'2.1: the foreign key is re-created with its actions and deferrability, validated');
like($deps21, qr/^constraint app\.sessions sessions_approver_fk FOREIGN KEY \(approver\) REFERENCES lane_google\.users\(id\) MATCH FULL ON UPDATE RESTRICT true$/m,
	'2.1: MATCH FULL and ON UPDATE kept');
like($deps21, qr/^index app\.campaigns_per_account_key CREATE UNIQUE INDEX campaigns_per_account_key$/m,
	'2.1: the materialized view keeps its unique index');
like($deps21, qr/^view active_campaigns v \S+ security_barrier=true \{[^}]*app_reader=r\/[^}]*\} campaigns not cancelled true$/m,
	'2.1: the view keeps its option, grant and comment');
like($deps21, qr/^view draft_campaigns v \S+ check_option=cascaded /m, '2.1: check_option kept');
like($deps21, qr/^grant users \{[^}]*app_reader=ar\/[^}]*\} $/m, '2.1: grants on the 11 tables survive');
like($deps21, qr/^grant campaigns \S* name=\{app_reader=w\/\S+\}$/m, '2.1: column grants survive');
unlike($deps21, qr/^member /m, '2.1: no carried object became a member of the extension');
like(query('via11', q{SELECT string_agg(c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY c.relname, a.attname)
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
 WHERE c.relnamespace = 'app'::regnamespace AND a.attname IN ('user_id', 'approver', 'email', 'resource_id')
   AND c.relkind = 'r'}),
	qr/^audit_logs\.resource_id uuid, sessions\.approver uuid, sessions\.email character varying\(255\), sessions\.user_id uuid$/,
	'2.1: referencing columns are uuid (the email reference keeps its type)');
for my $orphan (
	"INSERT INTO app.sessions (user_id) VALUES (gen_random_uuid())",
	"INSERT INTO app.sessions (approver) VALUES (gen_random_uuid())",
	"INSERT INTO app.sessions (email) VALUES ('nobody\@example.com')")
{
	my ($rc, $out, $err) = $node->psql('via11', $orphan);
	like($err, qr/violates foreign key constraint/, "2.1: enforced: $orphan");
}

# 1.0 -> 2.0 -> 2.1: the released script, carried through this library's hooks
createdb('via20', 'seed');
update_to('via20', '2.0');
update_to('via20', '2.1');
same_text(catalog('via20'), $want21, 'catalog after 1.0 -> 2.0 -> 2.1 with dependents = fresh 2.1');
is(query('via20', $notnull_sql), query('ref21', $notnull_sql),
	'1.0 -> 2.0 -> 2.1: the NOT NULL constraint rows of the 11 tables are those of a fresh 2.1');
my $rows20 = query('via20', $rows_uuid);
(my $rows20_noaudit = $rows20) =~ s/^audit .*\n?//mg;
(my $rows10_noaudit = $rows10) =~ s/^audit .*\n?//mg;
same_text($rows20_noaudit, $rows10_noaudit,
	'1.0 -> 2.0 -> 2.1: every view and foreign-key row is the same, keys mapped');
(my $deps20 = query('via20', $deps_sql)) =~ s/\n//g;
(my $deps21_flat = $deps21) =~ s/\n//g;
is($deps20, $deps21_flat, 'both paths from 1.0 end in the same dependents');

# 2.1 -> 1.1: back, byte for byte
update_to('via11', '1.1');
same_text(catalog('via11'), $want11, 'catalog after 2.1 -> 1.1 with dependents = fresh 1.1');
same_text(query('via11', $bytes_sql), $bytes10, '2.1 -> 1.1: the application tables are byte-identical to 1.0');
same_text(query('via11', $defs_sql), $defs10, '2.1 -> 1.1: view definitions and column types as at 1.0');
same_text(query('via11', $deps_sql), $deps10, '2.1 -> 1.1: constraints, options, grants, comments as at 1.0');
same_text(query('via11', $rows_int), $rows10, '2.1 -> 1.1: every view row as at 1.0');

# The released 2.0 -> 1.0 refuses early
createdb('down20', 'via20');
query('down20', "SELECT lane_google.remove_legacy_reference('app.audit_logs', 'resource_id')");
update_to('down20', '2.0');
my $scans = scans('down20');
my ($rc, $out, $err) = $node->psql('down20', "ALTER EXTENSION lane_google UPDATE TO '1.0'");
like($err, qr/cannot carry 8 dependent objects.*view app\.active_campaigns: the released 2\.0 -> 1\.0 script cannot carry dependents.*HINT:  Nothing was changed and no row was read\.  Update to 2\.1 and then to 1\.1/s,
	'released 2.0 -> 1.0: refused, naming the dependents, with the way through 2.1 and 1.1');
is(scans('down20'), $scans, 'released 2.0 -> 1.0: no row of the 11 tables was read');
is(query('down20', "SELECT extversion FROM pg_extension WHERE extname = 'lane_google'"), '2.0',
	'released 2.0 -> 1.0: still at 2.0');

# --- what cannot be carried: refused in the plan, before any row --------------

createdb('bad', 'seed');
update_to('bad', '1.1');
query('bad', q{
CREATE VIEW app.campaign_one AS SELECT name FROM lane_google.campaigns WHERE id = 1;
CREATE TRIGGER my_trigger BEFORE UPDATE ON lane_google.users
    FOR EACH ROW WHEN (NEW.id = 1) EXECUTE FUNCTION suppress_redundant_updates_trigger();
CREATE FUNCTION app.user_count() RETURNS bigint LANGUAGE sql
BEGIN ATOMIC SELECT count(*) FROM lane_google.users WHERE id > 1; END;});
my $before = query('bad', $deps_sql) . query('bad', $defs_sql) . query('bad', $rows_int);
is(query('bad', 'SELECT count(*) FROM lane_google.conversion_plan() WHERE reason IS NOT NULL'), '3',
	'conversion_plan() marks the three objects that cannot be carried');
# In one transaction: the failed update in a savepoint, then the scans this
# transaction made of the 11 tables (pg_stat_get_xact_numscans counts them
# whether or not the subtransaction that made them committed)
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
my ($n) = scans_during('bad', 'SELECT count(*) FROM lane_google.users');
is($n, '1', 'the scan counter sees a read of users (the measure works)');
($n, $err) = scans_during('bad', "ALTER EXTENSION lane_google UPDATE TO '2.1'");
is($n, '0', 'the update read no row of the 11 tables');
like($err, qr/cannot carry 3 dependent objects/, 'the update refuses');
like($err, qr/view app\.campaign_one: cannot be re-created over the converted tables: operator does not exist: uuid = integer/,
	'the view comparing a key with an integer is named, with why');
like($err, qr/trigger my_trigger on table lane_google\.users: cannot be re-created over the converted tables: operator does not exist: uuid = integer/,
	'the trigger comparing a key with an integer is named, with why');
like($err, qr/function app\.user_count\(\): cannot be re-created over the converted tables: operator does not exist: uuid > integer/,
	'the BEGIN ATOMIC function comparing a key with an integer is named, with why');
like($err, qr/HINT:  Nothing was changed and no row was read/, 'with a hint');
is(query('bad', $deps_sql) . query('bad', $defs_sql) . query('bad', $rows_int), $before,
	'the database is as it was');

# --- a crash in the middle of carrying ----------------------------------------

createdb('crash', 'seed');
update_to('crash', '1.1');
# The materialized view's query waits on an advisory lock when it runs: on
# re-creation (refresh) at the end of the update, after every row and
# referencing column was converted; the trial creates it WITH NO DATA.
query('crash', q{
CREATE FUNCTION app.wait_for_test() RETURNS boolean LANGUAGE plpgsql VOLATILE
AS $$BEGIN PERFORM pg_advisory_xact_lock_shared(4242); RETURN true; END$$;
CREATE MATERIALIZED VIEW app.gated AS SELECT id FROM lane_google.users WHERE app.wait_for_test();});
my $crash_before = query('crash', $deps_sql) . query('crash', $defs_sql) . query('crash', $rows_int);
my $holder_in = "SELECT pg_advisory_lock(4242);\n";
my ($hout, $herr) = ('', '');
my $holder = IPC::Run::start(
	[ $node->installed_command('psql'), '-XAtq', '-d', $node->connstr('crash') ],
	'<', \$holder_in, '>', \$hout, '2>', \$herr);
# wait_for(SQL): pump the background sessions until SQL says true
sub wait_for
{
	my ($sql, @handles) = @_;
	my $t0 = time;
	while (time - $t0 < $PostgreSQL::Test::Utils::timeout_default)
	{
		$_->pump_nb for grep { $_->pumpable } @handles;
		return 1 if query('crash', $sql) eq 't';
		sleep 0.1;
	}
	return 0;
}
wait_for("SELECT count(*) = 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND granted",
	$holder)
  or die 'the test could not take its advisory lock';
my ($uout, $uerr) = ('', '');
my $updater = IPC::Run::start(
	[
		$node->installed_command('psql'), '-XAtq', '-d',
		$node->connstr('crash') . ' application_name=lg_update',
		'-c', "ALTER EXTENSION lane_google UPDATE TO '2.1'"
	],
	'>', \$uout, '2>', \$uerr);
wait_for(
	"SELECT count(*) = 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
	  WHERE a.application_name = 'lg_update' AND l.locktype = 'advisory' AND NOT l.granted",
	$holder, $updater)
  or die "the update never reached the materialized view: $uerr";
ok(1, 'the update is re-creating the carried views (waiting on the test\'s lock)');
my $pid = query('crash', "SELECT pid FROM pg_stat_activity WHERE application_name = 'lg_update'");
kill 'KILL', $pid;
$updater->finish;
$holder->kill_kill;
lg_wait_restarted($node, 'crash') or die 'the server did not come back';
is(query('crash', "SELECT extversion FROM pg_extension WHERE extname = 'lane_google'"), '1.1',
	'after the crash: still at 1.1');
is(query('crash', $deps_sql) . query('crash', $defs_sql) . query('crash', $rows_int), $crash_before,
	'after the crash: every dependent, definition and row as before the update');
update_to('crash', '2.1');
like(query('crash', q{SELECT format_type(atttypid, atttypmod) FROM pg_attribute
  WHERE attrelid = 'app.sessions'::regclass AND attname = 'user_id'}), qr/^uuid$/,
	'the update then completes: referencing column converted');
is(query('crash', 'SELECT count(*) = (SELECT count(*) FROM lane_google.users) FROM app.gated'), 't',
	'the update then completes: the materialized view is refreshed');

done_testing();
