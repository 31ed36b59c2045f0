# test/t/060_online.pl: online conversion (src/online/), 1.1 -> 2.1 while
# the application writes.
#
# - online_start / online_backfill / ALTER EXTENSION UPDATE TO '2.1' with no
#   writer: the catalog of a fresh 2.1 (LgPaths::catalog) and the very rows
#   the offline update gives (every byte, uuids and legacy ids included);
# - the swap refuses an incomplete backfill, and fails cleanly within
#   lane_google.swap_lock_timeout when a transaction holds a table, then
#   succeeds when retried; TRUNCATE is refused while changes are captured;
# - online_abort() at each stage (started, partly copied, complete, after a
#   refused swap) gives back the catalog of a fresh 1.1 and the rows as they
#   were;
# - writers throughout: pgbench clients insert, update and delete campaigns,
#   ads and analytics_snapshots by integer id through the compatibility
#   views (schema lane_google_v1) before online_start(), during it, during
#   the backfill, during the swap and after it, each write journaled in its
#   own transaction.  Afterwards every committed write is in the 2.x tables,
#   converted; deleted rows (and their cascade) are gone; nothing is
#   duplicated; every id is legacy_uuid(table, legacy_id);
#   validate_fk_integrity() is clean; the rows nobody wrote read back through
#   the views exactly as before; the clients saw no error.  An outside
#   foreign key table and a view over campaigns (and a foreign key created
#   after online_start()) are carried across: the keys mapped, the foreign
#   keys enforced on uuid values, the view's rows the legacy rows mapped;
# - dependents that cannot be carried are refused by online_start() and by
#   the swap (one created after online_start()), the state intact;
# - rows written after the backfill's orphan check without their parent (as
#   session_replication_role = replica allows) fail the swap cleanly, naming
#   them; fixed, the swap goes through;
# - the swap applies the log before its table locks and, under them, what a
#   transaction it waited for committed meanwhile (an orphan among it is
#   refused there); its locks that no client waits for come first: while it
#   waits for a shadow or for a legacy table held as VACUUM holds it, clients
#   still write;
# - old code's statements by id on the compatibility views are index scans.
use strict;
use warnings FATAL => 'all';

use FindBin;
use IPC::Run;
use Time::HiRes qw(sleep time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use LgPaths;

my $tmp = PostgreSQL::Test::Utils::tempdir();
my $node = PostgreSQL::Test::Cluster->new('online');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
fsync = off
client_min_messages = warning
TimeZone = 'UTC'
max_connections = 40
});
$node->start;
lg_paths_init($node, $tmp);

my %want = %{ reference_catalogs('1.1', '2.1') };

# While the compatibility views exist: a fresh 2.1's catalog plus their
# indexes on legacy_id::integer (one per table), which drop_compat() drops
sub catalog_compat_is
{
	my ($db, $what) = @_;
	my @lines = split /\n/, catalog($db);
	my @compat = grep { /_lg_compat_/ } @lines;
	same_text(join("\n", grep { !/_lg_compat_/ } @lines), $want{'2.1'},
		"$what ($db): catalog = fresh 2.1 but for the compatibility indexes");
	is(scalar(grep { /^index \w+\.(?:lane_google\.)?_lg_compat_\w+_legacy_id: CREATE INDEX .* USING btree \(\(\(legacy_id\)::integer\)\)$/ } @compat),
		11, "$what ($db): one compatibility index on legacy_id::integer per table");
}

sub nspexists
{
	my ($db, $nsp) = @_;
	return query($db, "SELECT to_regnamespace('$nsp') IS NOT NULL");
}

# A refused swap changed nothing: still at 1.1, the online state complete
sub refused_intact
{
	my ($db, $what) = @_;
	is(query($db, "SELECT extversion FROM pg_extension WHERE extname = 'lane_google'"),
		'1.1', "$what: still at 1.1");
	is(query($db, "SELECT string_agg(DISTINCT state, ',') FROM lane_google.online_status()"),
		'complete', "$what: the online state is intact");
}

# hold(db, sql): a session in a transaction that ran sql; release() commits it
sub hold
{
	my ($db, $sql) = @_;
	my %s = (in => '', out => '', err => '');
	$s{run} = IPC::Run::start(
		[ $node->installed_command('psql'), '-XAtq', '-d', $node->connstr($db) ],
		'<', \$s{in}, '>', \$s{out}, '2>', \$s{err});
	$s{in} .= "BEGIN; $sql; SELECT 'holding';\n";
	$s{run}->pump until $s{out} =~ /holding/;
	return \%s;
}

sub release
{
	my ($s) = @_;
	$s->{in} .= "COMMIT;\n";
	$s->{run}->finish;
}

# swap_started(db): the swap in the background, waiting for its locks as
# long as it must; returns the harness and a reference to its stderr
sub swap_started
{
	my ($db) = @_;
	my ($sout, $serr) = ('', '');
	local $ENV{PGOPTIONS} = '-c lane_google.swap_lock_timeout=600s';
	my $swap = IPC::Run::start(
		[
			$node->installed_command('psql'), '-XAtq', '-d', $node->connstr($db),
			'-c', "ALTER EXTENSION lane_google UPDATE TO '2.1'"
		],
		'>', \$sout, '2>', \$serr);
	return ($swap, \$serr);
}

# wait_lock_wait(db, relation, mode): until a session waits for that lock
# (pg_locks), a state the swap provably reaches
sub wait_lock_wait
{
	my ($db, $rel, $mode) = @_;
	my $t0 = time;
	until (query($db, qq{
		SELECT EXISTS (SELECT 1 FROM pg_locks l
		                WHERE l.relation = '$rel'::regclass AND l.mode = '$mode' AND NOT l.granted)}) eq 't')
	{
		if (time - $t0 > 180) { fail("timed out waiting for the swap to wait for $rel"); last; }
		sleep 0.02;
	}
}

# --- the seed: 1.1 with rows ---------------------------------------------------

createdb('seed');
query('seed', "CREATE EXTENSION lane_google VERSION '1.0'");
generate('seed', '0.002');
query('seed', "ALTER EXTENSION lane_google UPDATE TO '1.1'");
my $rows11 = rows_text('seed');
unlike($rows11, qr/ 0 -$/m, 'seed: every table has rows');

# the offline update, for reference
createdb('offline', 'seed');
update_to('offline', '2.1');
my $rows_offline = rows_text('offline');

# --- no writer: the same catalog and rows as offline ---------------------------

createdb('quiet', 'seed');
is(query('quiet', 'SELECT count(*) FROM lane_google.online_status()'), '0',
	'online_status(): no row before online_start()');
query('quiet', 'SELECT lane_google.online_start()');
is( query('quiet', "SELECT string_agg(DISTINCT state, ',') FROM lane_google.online_status()"),
	'waiting', 'online_status(): 11 tables waiting after online_start()');
is(query('quiet', 'SELECT count(*) FROM lane_google.online_status()'), '11',
	'online_status(): one row per table');
my ($rc, $out, $err) = $node->psql('quiet', 'SELECT lane_google.online_start()');
like($err, qr/already in progress/, 'a second online_start() is refused');
($rc, $out, $err) = $node->psql('quiet', "ALTER EXTENSION lane_google UPDATE TO '2.1'");
like($err, qr/backfill is not complete/, 'the swap refuses an incomplete backfill');
is(query('quiet', "SELECT extversion FROM pg_extension WHERE extname = 'lane_google'"),
	'1.1', 'and leaves the extension at 1.1');
($rc, $out, $err) = $node->psql('quiet', 'TRUNCATE lane_google.budget_alerts CASCADE');
like($err, qr/cannot truncate table "budget_alerts" during an online conversion/,
	'TRUNCATE is refused while changes are captured');

($rc, $out, $err) = $node->psql('quiet', 'CALL lane_google.online_backfill(batch_rows => 100)');
is($rc, 0, 'online_backfill() completes') or diag($err);
is( query('quiet', q{SELECT string_agg(DISTINCT state, ',') || ' ' || sum(rows_copied)
                     FROM lane_google.online_status()}),
	'complete ' . query('seed', join(' + ', 'SELECT 0', map { "(SELECT count(*) FROM lane_google.$_)" } @tables)),
	'online_status(): complete, every row copied once');
($rc, $out, $err) = $node->psql('quiet', 'CALL lane_google.online_backfill()');
is($rc, 0, 'online_backfill() again on a complete backfill: applies what is new, nothing else');
update_to('quiet', '2.1');
catalog_compat_is('quiet', 'online 1.1 -> 2.1');
same_text(rows_text('quiet'), $rows_offline,
	'online 1.1 -> 2.1: the same rows, byte for byte, as the offline update');
is(nspexists('quiet', 'lane_google_online'), 'f', 'the staging schema is gone');
is(query('quiet', q{SELECT count(*) FROM pg_class WHERE relnamespace = 'lane_google_v1'::regnamespace AND relkind = 'v'}),
	'11', 'lane_google_v1 holds the 11 compatibility views');
same_text(
	query('quiet', join("\nUNION ALL\n",
		map { "SELECT '$_ ' || count(*) || ' ' || md5(string_agg(x::text, E'\\n' ORDER BY x.id)) FROM lane_google_v1.$_ x" } @tables)),
	$rows11,
	'the compatibility views read back the 1.1 rows, byte for byte');
# old code's statements by id: an index scan, not a scan of the table
for my $stmt ("UPDATE lane_google_v1.campaigns SET name = name WHERE id = 5",
	"DELETE FROM lane_google_v1.ads WHERE id = 7",
	"SELECT * FROM lane_google_v1.analytics_snapshots WHERE id = 9")
{
	like(query('quiet', "EXPLAIN (COSTS OFF) $stmt"),
		qr/Index Scan using _lg_compat_\w+_legacy_id on \w+ x\n\s+Index Cond: \(\(legacy_id\)::integer = \d+\)/,
		"compatibility view: $stmt is an index scan on legacy_id::integer");
}
query('quiet', 'SELECT lane_google.drop_compat()');
is(nspexists('quiet', 'lane_google_v1'), 'f', 'drop_compat() removes lane_google_v1');
catalog_is('quiet', '2.1', 'online 1.1 -> 2.1, then drop_compat()');

# --- the swap's bounded wait ------------------------------------------------

createdb('held', 'seed');
query('held', 'SELECT lane_google.online_start()');
query('held', 'CALL lane_google.online_backfill()');
my $holder = hold('held', 'SELECT count(*) FROM lane_google.ads');
my $holder_pid = query('held', "SELECT pid FROM pg_locks WHERE locktype = 'relation'"
	  . " AND relation = 'lane_google.ads'::regclass AND granted AND pid <> pg_backend_pid()");
my $t0 = time;
($rc, $out, $err) = $node->psql('held',
	"SET lane_google.swap_lock_timeout = '300ms'; ALTER EXTENSION lane_google UPDATE TO '2.1'");
my $waited = time - $t0;
like($err, qr/the online swap could not lock table ads within lane_google.swap_lock_timeout \(300 ms\)/,
	'a transaction holding a table: the swap fails, naming it');
like($err, qr/nothing was changed/, 'and says nothing changed');
like($err, qr/DETAIL:  Holding a conflicting lock: pid $holder_pid; nothing was changed\./,
	'the DETAIL names the session holding the lock');
like($err, qr/HINT:  .*FROM pg_catalog\.pg_stat_activity WHERE pid IN \($holder_pid\)/,
	'the HINT gives the query that shows it');
ok($waited < 10, sprintf('the swap gave up instead of queueing (%.2f s)', $waited));
refused_intact('held', 'the swap behind a long transaction');
release($holder);
createdb('held_abort', 'held');
update_to('held', '2.1');
catalog_compat_is('held', 'the swap retried once the lock was released');
same_text(rows_text('held'), $rows_offline, 'the retried swap: the offline rows');

# --- online_abort() at each stage ------------------------------------------

sub abort_is_clean
{
	my ($db, $stage) = @_;
	query($db, 'SELECT lane_google.online_abort()');
	catalog_is($db, '1.1', "online_abort() $stage");
	same_text(rows_text($db), $rows11, "online_abort() $stage: the rows untouched");
	is(nspexists($db, 'lane_google_online') . nspexists($db, 'lane_google_v1'), 'ff',
		"online_abort() $stage: no staging or compatibility schema left");
}

createdb('ab_started', 'seed');
query('ab_started', 'SELECT lane_google.online_start()');
abort_is_clean('ab_started', 'after online_start()');

createdb('ab_partial', 'seed');
query('ab_partial', 'SELECT lane_google.online_start()');
query('ab_partial', "SELECT lane_google._online_copy_batch(100) FROM generate_series(1, 12)");
is(query('ab_partial', "SELECT count(*) FILTER (WHERE state = 'copying') + count(*) FILTER (WHERE state = 'copied') > 0 FROM lane_google.online_status()"),
	't', 'partly copied');
abort_is_clean('ab_partial', 'partway through the backfill');

createdb('ab_complete', 'seed');
query('ab_complete', 'SELECT lane_google.online_start()');
query('ab_complete', 'CALL lane_google.online_backfill()');
abort_is_clean('ab_complete', 'after a complete backfill');

abort_is_clean('held_abort', 'after a refused swap');

# and after an abort, the offline update as ever, and online again
update_to('ab_started', '2.1');
catalog_is('ab_started', '2.1', 'after online_abort(), the offline update');
same_text(rows_text('ab_started'), $rows_offline, 'after online_abort(), the offline rows');
query('ab_partial', 'SELECT lane_google.online_start()');
query('ab_partial', 'CALL lane_google.online_backfill()');
update_to('ab_partial', '2.1');
same_text(rows_text('ab_partial'), $rows_offline, 'online again after an abort: the offline rows');

# --- dependents that cannot be carried: refused at online_start() and at the swap

my $camp5 = 'CREATE VIEW public.camp5 AS SELECT id, name FROM lane_google.campaigns WHERE id = 5';
createdb('refuse', 'seed');
query('refuse', $camp5);
($rc, $out, $err) = $node->psql('refuse', 'SELECT lane_google.online_start()');
like($err, qr/lane_google cannot carry 1 dependent object across the key conversion/,
	'online_start() refuses a dependent it cannot carry');
like($err, qr/view public.camp5: cannot be re-created over the converted tables: operator does not exist: uuid = integer/,
	'online_start(): the refusal names the view and why');
like($err, qr/online_start\(\) changed nothing/, 'online_start(): and says nothing changed');
is(nspexists('refuse', 'lane_google_online') . nspexists('refuse', 'lane_google_v1'), 'ff',
	'online_start() refused: no staging or compatibility schema');
catalog_is('refuse', '1.1', 'online_start() refused');
query('refuse', 'DROP VIEW public.camp5');
query('refuse', 'SELECT lane_google.online_start()');
query('refuse', 'CALL lane_google.online_backfill()');
# created after online_start(): the swap plans again
query('refuse', $camp5);
($rc, $out, $err) = $node->psql('refuse', "ALTER EXTENSION lane_google UPDATE TO '2.1'");
like($err, qr/view public.camp5: cannot be re-created over the converted tables/,
	'the swap refuses a dependent created after online_start(), naming it');
refused_intact('refuse', 'the refused swap');
query('refuse', 'DROP VIEW public.camp5');
update_to('refuse', '2.1');
same_text(rows_text('refuse'), $rows_offline, 'the swap retried without the view: the offline rows');

# --- rows written after the backfill's orphan check --------------------------
# A session with session_replication_role = replica writes without foreign
# key checks: a campaign whose account does not exist, an account deleted
# under its campaigns.  Captured all the same; the swap checks their keys.

createdb('orphan', 'seed');
query('orphan', 'SELECT lane_google.online_start()');
query('orphan', 'CALL lane_google.online_backfill()');
my $orphan = query('orphan', q{
	SET session_replication_role = replica;
	INSERT INTO lane_google.campaigns (account_id, name, customer_id, budget_amount)
	VALUES (999999, 'orphan', 'o-1', 1) RETURNING id});
# online_backfill() on a complete backfill checks the keys it applies
($rc, $out, $err) = $node->psql('orphan', 'CALL lane_google.online_backfill()');
like($err, qr/ERROR:  lane_google 1.1 data written since the online backfill's check has rows whose parent row is missing\n.*DETAIL:  campaigns.account_id \(-> accounts\): 1 row, id -> account_id: $orphan -> 999999\n/s,
	'online_backfill() again: the keys applied since the check are checked, the orphan named');
like($err, qr/HINT:  Delete or fix the orphan rows, then CALL lane_google.online_backfill\(\) again/,
	'online_backfill() again: with a hint');
# and so does the swap, as it applies the log before its table locks
($rc, $out, $err) = $node->psql('orphan', "ALTER EXTENSION lane_google UPDATE TO '2.1'");
like($err, qr/ERROR:  lane_google 1.1 data written since the online backfill's check has rows whose parent row is missing/,
	'the swap refuses a child row written without its parent after the check');
like($err, qr/DETAIL:  campaigns.account_id \(-> accounts\): 1 row, id -> account_id: $orphan -> 999999\n/,
	'the swap names the table, the column and the values');
like($err, qr/HINT:  Nothing was changed and the online conversion is intact/, 'with a hint');
refused_intact('orphan', 'the orphan refused');
query('orphan', "DELETE FROM lane_google.campaigns WHERE id = $orphan");
my $acct = query('orphan', 'SELECT min(account_id) FROM lane_google.campaigns');
my $children = query('orphan', "SELECT count(*) FROM lane_google.campaigns WHERE account_id = $acct");
query('orphan', "SET session_replication_role = replica; DELETE FROM lane_google.accounts WHERE id = $acct");
($rc, $out, $err) = $node->psql('orphan', "ALTER EXTENSION lane_google UPDATE TO '2.1'");
like($err, qr/campaigns.account_id \(-> accounts\): $children rows?, id -> account_id: /,
	'the swap refuses a parent deleted under its children after the check, naming them');
query('orphan', "DELETE FROM lane_google.campaigns WHERE account_id = $acct");
query('orphan', "DELETE FROM lane_google.account_users WHERE account_id = $acct");
update_to('orphan', '2.1');
is(query('orphan', 'SELECT count(*) FROM lane_google.validate_fk_integrity()'), '0',
	'the orphans fixed, the swap retried: validate_fk_integrity() is clean');

# --- the swap's work before its table locks and under them ---------------------
# The log is applied (and its keys checked) before the table locks, so that
# under them only what was committed meanwhile is left.  A transaction
# holding campaigns makes the swap wait for that table's lock, a state read
# off pg_locks; what it commits then is applied, and its keys checked, under
# the locks.

createdb('late', 'seed');
query('late', 'SELECT lane_google.online_start()');
query('late', 'CALL lane_google.online_backfill()');
query('late', 'ALTER DATABASE late SET client_min_messages = notice');
my @five = split /\n/, query('late', 'SELECT id FROM lane_google.campaigns ORDER BY id LIMIT 5');
query('late', "UPDATE lane_google.campaigns SET name = name || ' (before)' WHERE id = $_") for @five;

# swap_behind_holder(db, sql held open): the swap, while a transaction that
# ran sql makes it wait for campaigns, committed then; returns its stderr
sub swap_behind_holder
{
	my ($db, $held_sql) = @_;
	my $h = hold($db, $held_sql);
	my ($swap, $serr) = swap_started($db);
	wait_lock_wait($db, 'lane_google.campaigns', 'AccessExclusiveLock');
	release($h);
	$swap->finish;
	return $$serr;
}

# an orphan committed while the swap waits: found under the locks
$err = swap_behind_holder('late', q{SET LOCAL session_replication_role = replica;
	INSERT INTO lane_google.campaigns (account_id, name, customer_id, budget_amount) VALUES (999999, 'late orphan', 'o-2', 1)});
my $late = query('late', q{SELECT id FROM lane_google.campaigns WHERE name = 'late orphan'});
like($err, qr/ERROR:  lane_google 1.1 data written since the online backfill's check has rows whose parent row is missing\n.*DETAIL:  campaigns.account_id \(-> accounts\): 1 row, id -> account_id: $late -> 999999\n/s,
	'an orphan committed while the swap waited for its locks: refused under them, named');
refused_intact('late', 'the late orphan refused');
query('late', "DELETE FROM lane_google.campaigns WHERE id = $late");

# a change committed while the swap waits: applied under the locks, and the
# five changes before it (and the orphan's insert and delete) before them
$err = swap_behind_holder('late', "UPDATE lane_google.campaigns SET name = 'during the swap' WHERE id = $five[0]");
like($err, qr/NOTICE:  lane_google: online swap: 7 changes applied before the locks in \d+ pass(?:es)? and \d+ ms, locks taken in \d+ ms, 1 change applied under them in \d+ ms\n/,
	'the swap reports the log applied before its locks, and the one change committed while it waited applied under them');
is(query('late', "SELECT extversion FROM pg_extension WHERE extname = 'lane_google'"),
	'2.1', 'the swap behind a writer: at 2.1');
is(query('late', q{SELECT string_agg(name, ', ' ORDER BY legacy_id) FROM lane_google.campaigns WHERE legacy_id IN (} . join(', ', @five) . ')'),
	query('seed', q{SELECT 'during the swap, ' || string_agg(name || ' (before)', ', ' ORDER BY id) FROM lane_google.campaigns WHERE id IN (} . join(', ', @five[1..4]) . ')'),
	'the swap behind a writer: the changes before the locks and under them are in the 2.x table');

# The swap's locks that no client waits for come first: its shadows (ACCESS
# EXCLUSIVE), and SHARE UPDATE EXCLUSIVE on the legacy tables, which keeps
# VACUUM (an autovacuum worker) off them without stopping the clients.  A
# session holding them makes the swap wait there, before any client-facing
# lock: a write that would wait fails at once on its lock_timeout, so its
# success says it did not wait.
createdb('prelock', 'seed');
query('prelock', 'SELECT lane_google.online_start()');
query('prelock', 'CALL lane_google.online_backfill()');
my $an_ad = query('prelock', 'SELECT min(id) FROM lane_google.ads');
{
	my %h;
	$h{$_} = hold('prelock', $_)
	  for ('LOCK TABLE lane_google_online.ads IN ACCESS SHARE MODE',
		'LOCK TABLE lane_google.ads IN SHARE UPDATE EXCLUSIVE MODE');
	my ($swap, $serr) = swap_started('prelock');
	for my $step (
		[ 'LOCK TABLE lane_google_online.ads IN ACCESS SHARE MODE', 'lane_google_online.ads', 'AccessExclusiveLock', 'shadow held', 'a shadow' ],
		[ 'LOCK TABLE lane_google.ads IN SHARE UPDATE EXCLUSIVE MODE', 'lane_google.ads', 'ShareUpdateExclusiveLock', 'vacuumed', 'a legacy table held as VACUUM holds it' ])
	{
		my ($held, $rel, $mode, $value, $what) = @$step;
		wait_lock_wait('prelock', $rel, $mode);
		is( query('prelock', "SET lock_timeout = '50ms'; UPDATE lane_google.ads SET final_url = '$value' WHERE id = $an_ad RETURNING id"),
			$an_ad, "the swap waiting for $what: the clients still write");
		release($h{$held});
	}
	$swap->finish;
	is($$serr, '', 'the swap behind both: no error');
}
is(query('prelock', "SELECT extversion FROM pg_extension WHERE extname = 'lane_google'"),
	'2.1', 'the swap behind both: at 2.1');
is(query('prelock', "SELECT final_url FROM lane_google_v1.ads WHERE id = $an_ad"),
	'vacuumed', 'the swap behind both: the writes made while it waited are in the 2.x table');
# within swap_lock_timeout plus deadlock_timeout, the time PostgreSQL takes to
# cancel an autovacuum worker in the way
createdb('prelock2', 'seed');
query('prelock2', 'SELECT lane_google.online_start()');
query('prelock2', 'CALL lane_google.online_backfill()');
{
	my $h = hold('prelock2', 'LOCK TABLE lane_google_online.ads IN ACCESS SHARE MODE');
	($rc, $out, $err) = $node->psql('prelock2',
		"SET lane_google.swap_lock_timeout = '300ms'; SET deadlock_timeout = '200ms'; ALTER EXTENSION lane_google UPDATE TO '2.1'");
	like($err, qr/the online swap could not lock table lane_google_online.ads within lane_google.swap_lock_timeout plus deadlock_timeout \(500 ms\)/,
		'a session holding a shadow: the swap fails within swap_lock_timeout plus deadlock_timeout, naming it');
	release($h);
}
is(query('prelock2', "SELECT string_agg(DISTINCT state, ',') FROM lane_google.online_status()"),
	'complete', 'the swap refused for a held shadow: the online state is intact');

# 1.1 -> 1.0 while online: refused
createdb('down', 'seed');
query('down', 'SELECT lane_google.online_start()');
($rc, $out, $err) = $node->psql('down', "ALTER EXTENSION lane_google UPDATE TO '1.0'");
like($err, qr/an online conversion is in progress/, '1.1 -> 1.0 is refused while online');

# --- writers throughout ----------------------------------------------------------

my $db = 'writers';
createdb($db);
query($db, "CREATE EXTENSION lane_google VERSION '1.0'");
generate($db, '0.01');
query($db, "ALTER EXTENSION lane_google UPDATE TO '1.1'");
query(
	$db, q{
	CREATE TABLE public.journal (tab text NOT NULL, id integer NOT NULL, op text NOT NULL,
	                             at timestamptz NOT NULL DEFAULT clock_timestamp());
	CREATE TABLE public.b_campaigns AS SELECT * FROM lane_google.campaigns;
	CREATE TABLE public.b_snaps AS SELECT * FROM lane_google.analytics_snapshots;
	CREATE TABLE public.b_ads AS
	  SELECT a.*, g.campaign_id AS campaign FROM lane_google.ads a
	    JOIN lane_google.ad_groups g ON g.id = a.ad_group_id;
	CREATE TABLE public.marks (what text PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp());
	});
my %max;
$max{$_} = query($db, "SELECT max(id) FROM lane_google.$_")
  for qw(accounts campaigns ads analytics_snapshots);
my %scripts = (
	'c_ins' => q{
\set aid random(1, :maxacc)
BEGIN;
WITH i AS (INSERT INTO campaigns (account_id, name, customer_id, budget_amount)
           SELECT a.id, 'writer ' || a.id, 'w-' || :client_id, 10
             FROM (SELECT id FROM accounts WHERE id >= :aid ORDER BY id LIMIT 1) a RETURNING id)
INSERT INTO public.journal (tab, id, op) SELECT 'campaigns', id, 'ins' FROM i;
COMMIT;
},
	'c_upd' => q{
\set cid random(1, :maxc)
BEGIN;
WITH u AS (UPDATE campaigns SET current_spend = current_spend + 1 WHERE id = :cid RETURNING id)
INSERT INTO public.journal (tab, id, op) SELECT 'campaigns', id, 'upd' FROM u;
COMMIT;
},
	'c_del' => q{
\set cid random(1, :maxc)
BEGIN;
WITH d AS (DELETE FROM campaigns WHERE id = :cid RETURNING id)
INSERT INTO public.journal (tab, id, op) SELECT 'campaigns', id, 'del' FROM d;
COMMIT;
},
	'a_del' => q{
\set xid random(1, :maxa)
BEGIN;
WITH d AS (DELETE FROM ads WHERE id = :xid RETURNING id)
INSERT INTO public.journal (tab, id, op) SELECT 'ads', id, 'del' FROM d;
COMMIT;
},
	's_upd' => q{
\set sid random(1, :maxs)
BEGIN;
WITH u AS (UPDATE analytics_snapshots SET clicks = clicks + 1 WHERE id = :sid RETURNING id)
INSERT INTO public.journal (tab, id, op) SELECT 'analytics_snapshots', id, 'upd' FROM u;
COMMIT;
},
	's_del' => q{
\set sid random(1, :maxs)
BEGIN;
WITH d AS (DELETE FROM analytics_snapshots WHERE id = :sid RETURNING id)
INSERT INTO public.journal (tab, id, op) SELECT 'analytics_snapshots', id, 'del' FROM d;
COMMIT;
});
my %weight = (c_ins => 2, c_upd => 8, c_del => 1, a_del => 4, s_upd => 10, s_del => 4);
my @files;
for my $k (sort keys %scripts)
{
	my $f = "$tmp/w_$k.sql";
	PostgreSQL::Test::Utils::append_to_file($f, $scripts{$k});
	push @files, '-f', "$f\@$weight{$k}";
}

# The application's instances: the old code names the tables without a
# schema; deployed with search_path lane_google it writes the legacy tables,
# redeployed with search_path lane_google_v1 the compatibility views
sub writers
{
	my ($search_path) = @_;
	my ($o, $e) = ('', '');
	local $ENV{PGOPTIONS} = "-c search_path=$search_path";
	my $h = IPC::Run::start(
		[
			$node->installed_command('pgbench'), '-n', '-c', '3', '-j', '1',
			'-T', '900', @files,
			'-D', "maxacc=$max{accounts}", '-D', "maxc=$max{campaigns}",
			'-D', "maxa=$max{ads}", '-D', "maxs=$max{analytics_snapshots}",
			'-h', $node->host, '-p', $node->port, $db
		],
		'>', \$o, '2>', \$e);
	return { h => $h, out => \$o, err => \$e };
}

sub stop_writers
{
	my ($w, $what) = @_;
	# a transaction cut off is not committed, so not journaled
	$w->{h}->signal('TERM');
	$w->{h}->finish;
	unlike(${ $w->{err} }, qr/error|abort/i, "the writers $what saw no error")
	  or diag(${ $w->{err} });
}

# wait until the writers committed $n more journal rows
sub writes_go_on
{
	my ($n, $what) = @_;
	my $base = query($db, 'SELECT count(*) FROM public.journal');
	my $t0 = time;
	my $got = $base;
	while (time - $t0 < 120)
	{
		$got = query($db, 'SELECT count(*) FROM public.journal');
		last if $got >= $base + $n;
		sleep 0.1;
	}
	ok($got >= $base + $n, "writers committed $n more writes $what");
}

# the application's own objects around the 11 tables: an outside foreign key
# and a view over campaigns (carried across by the swap)
query(
	$db, q{
	CREATE TABLE public.sessions (id serial PRIMARY KEY,
	                              user_id integer REFERENCES lane_google.users(id), token text);
	INSERT INTO public.sessions (user_id, token) SELECT id, 'token ' || id FROM lane_google.users;
	CREATE TABLE public.b_sessions AS SELECT * FROM public.sessions;
	CREATE VIEW public.campaign_names AS SELECT id, account_id, name FROM lane_google.campaigns;
	});

my $old = writers('lane_google');
writes_go_on(50, 'before online_start()');
my ($started, $try) = (0, 0);
while (!$started && $try++ < 10)
{
	($rc, $out, $err) = $node->psql($db, 'SELECT lane_google.online_start()');
	$started = $rc == 0;
	like($err, qr/could not lock table .* within lane_google.swap_lock_timeout/,
		"online_start() attempt $try: the bounded wait, nothing else") unless $started;
}
ok($started, 'online_start() while the writers write');
query($db, "INSERT INTO public.marks (what) VALUES ('started')");
# a dependent created after online_start(): the swap plans again
query(
	$db, q{
	CREATE TABLE public.notes (id serial PRIMARY KEY,
	                           account_id integer NOT NULL REFERENCES lane_google.accounts(id), body text);
	INSERT INTO public.notes (account_id, body) SELECT id, 'note ' || id FROM lane_google.accounts;
	CREATE TABLE public.b_notes AS SELECT * FROM public.notes;
	});
like(query($db, q{SELECT action FROM lane_google.conversion_plan() WHERE object LIKE 'sessions_user_id_fkey%'}),
	qr/^convert user_id integer -> uuid by legacy_uuid\('users', user_id\); re-create the constraint; online: the swap rewrites public.sessions \(about \d+ rows\) under its locks/,
	'conversion_plan() during an online conversion: the referencing table is rewritten under the swap\'s locks');
writes_go_on(50, 'after online_start(), to the legacy tables');

# the rolling deploy: instances on the views, then the old ones go
my $new = writers('lane_google_v1');
writes_go_on(50, 'with both deployments');
stop_writers($old, 'on the legacy tables');
writes_go_on(50, 'through the views before the swap');

query($db, "INSERT INTO public.marks (what) VALUES ('backfill')");
($rc, $out, $err) = $node->psql($db, "CALL lane_google.online_backfill(batch_rows => 300, pause => '10ms')");
is($rc, 0, 'online_backfill() while the writers write') or diag($err);
query($db, "INSERT INTO public.marks (what) VALUES ('backfilled')");
ok( query($db, q{SELECT count(*) FROM public.journal WHERE at > (SELECT at FROM public.marks WHERE what = 'backfill')
                                                      AND at < (SELECT at FROM public.marks WHERE what = 'backfilled')}) > 0,
	'writes committed during the backfill');
writes_go_on(50, 'after the backfill');

# the swap: retried while it cannot get its locks in time
my ($tries, $swapped) = (0, 0);
while (!$swapped && $tries < 30)
{
	$tries++;
	query($db, 'CALL lane_google.online_backfill()');
	($rc, $out, $err) = $node->psql($db, "ALTER EXTENSION lane_google UPDATE TO '2.1'");
	if ($rc == 0)
	{
		$swapped = 1;
	}
	else
	{
		like($err, qr/could not lock .* within lane_google.swap_lock_timeout/,
			"swap attempt $tries: the bounded wait, nothing else");
	}
}
ok($swapped, "the swap succeeded under writers (attempt $tries)");
query($db, "INSERT INTO public.marks (what) VALUES ('swapped')");
writes_go_on(100, 'through the compatibility views after the swap');

stop_writers($new, 'on the compatibility views');

is(query($db, "SELECT extversion FROM pg_extension WHERE extname = 'lane_google'"), '2.1', 'at 2.1');
my $j = query($db, q{SELECT string_agg(tab || ' ' || op || ' ' || n, ', ' ORDER BY tab, op)
                       FROM (SELECT tab, op, count(*) n FROM public.journal GROUP BY 1, 2) s});
note("journal: $j");
ok( query($db, q{SELECT count(*) FROM public.journal WHERE at > (SELECT at FROM public.marks WHERE what = 'swapped')}) >= 100,
	'writes committed after the swap');
is(query($db, 'SELECT count(*) FROM lane_google.validate_fk_integrity()'), '0',
	'validate_fk_integrity() is clean');
same_text(unmapped_rows($db), join("\n", map { "$_ 0" } @tables),
	'every id is legacy_uuid(table, legacy_id)');
is( query($db, join(' + ', 'SELECT 0', map { "(SELECT count(*) - count(DISTINCT legacy_id) FROM lane_google.$_)" } @tables)),
	'0', 'no legacy id twice: nothing duplicated');

# campaigns: the set of ids, and every update counted
is( query($db, q{
	WITH want AS (
	  (SELECT id FROM public.b_campaigns
	   UNION SELECT id FROM public.journal WHERE tab = 'campaigns' AND op = 'ins')
	  EXCEPT SELECT id FROM public.journal WHERE tab = 'campaigns' AND op = 'del'),
	have AS (SELECT legacy_id::integer AS id FROM lane_google.campaigns)
	SELECT (SELECT count(*) FROM (TABLE want EXCEPT TABLE have) a)
	     + (SELECT count(*) FROM (TABLE have EXCEPT TABLE want) b)}),
	'0', 'campaigns: every committed insert is there, every committed delete gone');
is( query($db, q{
	SELECT count(*) FROM lane_google_v1.campaigns c
	  LEFT JOIN public.b_campaigns b USING (id)
	 WHERE c.current_spend <> coalesce(b.current_spend, 0)
	       + (SELECT count(*) FROM public.journal j WHERE j.tab = 'campaigns' AND j.op = 'upd' AND j.id = c.id)}),
	'0', 'campaigns: every committed update is there, once');
is( query($db, q{
	SELECT count(*) FROM lane_google_v1.campaigns c JOIN public.b_campaigns b USING (id)
	 WHERE to_jsonb(c) - 'current_spend' - 'updated_at' <> to_jsonb(b) - 'current_spend' - 'updated_at'}),
	'0', 'campaigns: the rest of every row, foreign keys included, as before');
is( query($db, q{
	SELECT count(*) FROM lane_google_v1.campaigns c JOIN public.journal j
	    ON j.tab = 'campaigns' AND j.op = 'ins' AND j.id = c.id
	 WHERE c.name <> 'writer ' || c.account_id OR c.budget_amount <> 10}),
	'0', 'campaigns: the inserted rows as written, their account mapped back');

# analytics_snapshots: gone if deleted or if their campaign was
is( query($db, q{
	WITH want AS (
	  SELECT id FROM public.b_snaps
	   WHERE campaign_id NOT IN (SELECT id FROM public.journal WHERE tab = 'campaigns' AND op = 'del')
	  EXCEPT SELECT id FROM public.journal WHERE tab = 'analytics_snapshots' AND op = 'del'),
	have AS (SELECT legacy_id::integer AS id FROM lane_google.analytics_snapshots)
	SELECT (SELECT count(*) FROM (TABLE want EXCEPT TABLE have) a)
	     + (SELECT count(*) FROM (TABLE have EXCEPT TABLE want) b)}),
	'0', 'analytics_snapshots: deletes and cascades carried across, nothing else');
is( query($db, q{
	SELECT count(*) FROM lane_google_v1.analytics_snapshots s JOIN public.b_snaps b USING (id)
	 WHERE s.clicks <> b.clicks + (SELECT count(*) FROM public.journal j
	                                WHERE j.tab = 'analytics_snapshots' AND j.op = 'upd' AND j.id = s.id)
	    OR to_jsonb(s) - 'clicks' <> to_jsonb(b) - 'clicks'}),
	'0', 'analytics_snapshots: every committed update there, once; the rest as before');

# ads
is( query($db, q{
	WITH want AS (
	  SELECT id FROM public.b_ads
	   WHERE campaign NOT IN (SELECT id FROM public.journal WHERE tab = 'campaigns' AND op = 'del')
	  EXCEPT SELECT id FROM public.journal WHERE tab = 'ads' AND op = 'del'),
	have AS (SELECT legacy_id::integer AS id FROM lane_google.ads)
	SELECT (SELECT count(*) FROM (TABLE want EXCEPT TABLE have) a)
	     + (SELECT count(*) FROM (TABLE have EXCEPT TABLE want) b)}),
	'0', 'ads: deletes and cascades carried across, nothing else');
is( query($db, q{
	SELECT count(*) FROM lane_google_v1.ads a JOIN public.b_ads b USING (id)
	 WHERE to_jsonb(a) <> to_jsonb(b) - 'campaign'}),
	'0', 'ads: the rows nobody deleted, as before');

# the dependents, carried across
is( query($db, q{SELECT count(*) FROM public.b_sessions b FULL JOIN public.sessions s USING (id)
                 WHERE s.user_id IS DISTINCT FROM lane_google.legacy_uuid('users', b.user_id)
                    OR s.token IS DISTINCT FROM b.token}),
	'0', 'sessions (outside foreign key into users): every user_id is legacy_uuid(users, old value)');
is( query($db, q{SELECT count(*) FROM public.b_notes b FULL JOIN public.notes n USING (id)
                 WHERE n.account_id IS DISTINCT FROM lane_google.legacy_uuid('accounts', b.account_id)}),
	'0', 'notes (foreign key created after online_start()): carried across too');
is( query($db, q{SELECT string_agg(conrelid::regclass || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated, E'\n' ORDER BY conname)
                   FROM pg_constraint WHERE conname IN ('sessions_user_id_fkey', 'notes_account_id_fkey')}),
	"notes FOREIGN KEY (account_id) REFERENCES lane_google.accounts(id) true\n"
	  . "sessions FOREIGN KEY (user_id) REFERENCES lane_google.users(id) true",
	'the outside foreign keys re-created, valid, on the uuid keys');
($rc, $out, $err) = $node->psql($db,
	'INSERT INTO public.sessions (user_id, token) VALUES (gen_random_uuid(), \'nobody\')');
like($err, qr/violates foreign key constraint "sessions_user_id_fkey"/,
	'the carried foreign key is enforced on uuid values');
query($db, q{INSERT INTO public.sessions (user_id, token)
             SELECT id, 'new' FROM lane_google.users ORDER BY legacy_id LIMIT 1});
is( query($db, q{SELECT format_type(atttypid, NULL) FROM pg_attribute
                  WHERE attrelid = 'public.campaign_names'::regclass AND attname = 'id'}),
	'uuid', 'the view over campaigns, re-created over the 2.x table');
is( query($db, q{SELECT count(*) FROM (
	  (SELECT id, account_id, name FROM public.campaign_names
	   EXCEPT SELECT lane_google.legacy_uuid('campaigns', id), lane_google.legacy_uuid('accounts', account_id), name
	            FROM lane_google_v1.campaigns)
	  UNION ALL
	  (SELECT lane_google.legacy_uuid('campaigns', id), lane_google.legacy_uuid('accounts', account_id), name
	     FROM lane_google_v1.campaigns
	   EXCEPT SELECT id, account_id, name FROM public.campaign_names)) d}),
	'0', "the view's rows equal the legacy rows, keys mapped by legacy_uuid()");

catalog_compat_is($db, 'online 1.1 -> 2.1 under writers');
query($db, 'SELECT lane_google.drop_compat()');
catalog_is($db, '2.1', 'online 1.1 -> 2.1 under writers, then drop_compat()');

$node->stop;
done_testing();
