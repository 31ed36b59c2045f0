# 021_concurrency.pl: conversions while other sessions read and write.
#
# - the locks each function takes, seen in pg_locks from a second session
#   while the function waits for a lock a third session holds;
# - pgbench clients writing to the tables while ALTER EXTENSION UPDATE runs
#   (1.0 -> 2.0 -> 1.0 -> 2.0) and while convert_legacy() runs: they wait,
#   and every transaction they committed is there afterwards;
# - a conversion in a REPEATABLE READ transaction whose snapshot predates
#   its locks still converts the rows committed in between;
# - two conversions at once: the second waits, then fails clearly.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use LgReliab;

my $node = PostgreSQL::Test::Cluster->new('concurrency');
$node->init;
$node->append_conf(
	'postgresql.conf', qq{
track_commit_timestamp = on
deadlock_timeout = 100ms
max_connections = 40
shared_buffers = 128MB
log_statement = none
});
$node->start;

my $db = 'postgres';

# Wait until a session whose application_name is $app waits on a lock.
sub wait_for_lock_wait
{
	my ($app) = @_;
	$node->poll_query_until($db,
		"SELECT count(*) > 0 FROM pg_stat_activity WHERE application_name = '$app' AND wait_event_type = 'Lock'"
	) or die "session $app never waited on a lock";
	return $node->safe_psql($db,
		"SELECT pid FROM pg_stat_activity WHERE application_name = '$app'");
}

# The relation locks a backend holds (granted) and waits for, one per line
sub locks_of
{
	my ($pid, $granted) = @_;
	return $node->safe_psql(
		$db, qq{
		SELECT c.relname || ' ' || l.mode
		  FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
		 WHERE l.pid = $pid AND l.granted = $granted AND l.locktype = 'relation'
		   AND c.relnamespace::regnamespace::text IN ('lane_google', 'legacy')
		   AND c.relkind IN ('r', 'p')
		 ORDER BY 1});
}

# A background session that keeps NOTICEs off stderr
sub bg
{
	my $s = $node->background_psql($db, on_error_stop => 0);
	$s->query_safe("SET client_min_messages = warning");
	return $s;
}

sub psql_bg
{
	my ($app, $sql) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[
			$node->installed_command('psql'), '-XAtq', '-v', 'ON_ERROR_STOP=1',
			'-d', $node->connstr($db) . " application_name=$app",
			'-c', $sql
		],
		'>', \$out, '2>', \$err);
	return ($h, \$out, \$err);
}

LgReliab::lg_seed($node, $db, 1);
my @tables = lg_tables();

# ---------------------------------------------------------------------------
# Locks of ALTER EXTENSION UPDATE: ACCESS EXCLUSIVE on every table
# ---------------------------------------------------------------------------
{
	my $holder = bg();
	$holder->query_safe(
		"BEGIN; SELECT count(*) FROM lane_google.conversation_messages");
	my ($h, $out, $err) =
	  psql_bg('lg_update', "ALTER EXTENSION lane_google UPDATE TO '2.0'");
	my $pid = wait_for_lock_wait('lg_update');
	my $held = locks_of($pid, 'true');
	for my $t (@tables)
	{
		next if $t eq 'conversation_messages';
		like($held, qr/^(_lg_v1_)?$t AccessExclusiveLock$/m,
			"ALTER EXTENSION UPDATE holds ACCESS EXCLUSIVE on $t");
	}
	like(
		locks_of($pid, 'false'),
		qr/conversation_messages AccessExclusiveLock/,
		'ALTER EXTENSION UPDATE waits for ACCESS EXCLUSIVE on a table a reader holds'
	);
	# readers of other tables wait too
	my ($r, $rout, $rerr) =
	  psql_bg('lg_reader', "SELECT count(*) FROM lane_google.ads");
	wait_for_lock_wait('lg_reader');
	pass('a reader waits for the update');
	$holder->query_safe("COMMIT");
	$h->finish;
	$r->finish;
	chomp $$rout;
	is(lg_extversion($node, $db), '2.0', 'the update completed once the reader left');
	is($$rout, '100000', 'the waiting reader read every row of the new table');
	$holder->quit;
}

# ---------------------------------------------------------------------------
# Locks of set_legacy_namespace and convert_legacy
# ---------------------------------------------------------------------------
$node->safe_psql($db, "ALTER EXTENSION lane_google UPDATE TO '1.0'");
LgReliab::lg_make_legacy_source($node, $db);
my $before_convert = lg_state($node, $db);
{
	my $holder = bg();
	$holder->query_safe(
		"BEGIN; LOCK TABLE lane_google.conversation_messages IN ROW EXCLUSIVE MODE"
	);
	my ($h, $out, $err) =
	  psql_bg('lg_convert', "SELECT count(*) FROM lane_google.convert_legacy('legacy')");
	my $pid = wait_for_lock_wait('lg_convert');
	my $held = locks_of($pid, 'true');
	like($held, qr/^legacy_config ShareLock$/m,
		'convert_legacy holds SHARE on legacy_config');
	for my $t (@tables)
	{
		like($held, qr/^$t ShareLock$/m,
			"convert_legacy holds SHARE on source legacy.$t");
		next if $t eq 'conversation_messages';
		like($held, qr/^$t ShareRowExclusiveLock$/m,
			"convert_legacy holds SHARE ROW EXCLUSIVE on target $t");
	}
	like(
		locks_of($pid, 'false'),
		qr/^conversation_messages ShareRowExclusiveLock$/m,
		'convert_legacy waits for SHARE ROW EXCLUSIVE on a target a writer holds'
	);
	is(lg_state($node, $db), $before_convert,
		'nothing written while the conversion waits for its locks');
	$holder->query_safe("ROLLBACK");
	$h->finish;
	chomp $$out;
	is($$out, '11', 'convert_legacy completed once the writer left');

	# set_legacy_namespace: EXCLUSIVE on legacy_config, until commit; a
	# conversion waits for it (here it then fails: rows are converted)
	$node->safe_psql($db,
		"TRUNCATE " . join(', ', map { "lane_google.$_" } @tables));
	$holder->query_safe(
		"BEGIN; SELECT lane_google.set_legacy_namespace('00000000-0000-0000-0000-000000000001')"
	);
	my $hpid = $holder->query_safe("SELECT pg_backend_pid()");
	like(locks_of($hpid, 'true'), qr/^legacy_config ExclusiveLock$/m,
		'set_legacy_namespace holds EXCLUSIVE on legacy_config');
	($h, $out, $err) =
	  psql_bg('lg_convert2', "SELECT count(*) FROM lane_google.convert_legacy('legacy')");
	$pid = wait_for_lock_wait('lg_convert2');
	like(locks_of($pid, 'false'), qr/^legacy_config ShareLock$/m,
		'convert_legacy waits while the namespace is being set');
	$holder->query_safe("ROLLBACK");
	$h->finish;
	chomp $$out;
	is($$out, '11', 'convert_legacy went on once the namespace was settled');
	$holder->quit;
}

# ---------------------------------------------------------------------------
# Two conversions at once: the second waits, then fails clearly
# ---------------------------------------------------------------------------
{
	$node->safe_psql($db,
		"TRUNCATE " . join(', ', map { "lane_google.$_" } @tables));
	my $first = bg();
	$first->query_safe(
		"BEGIN; SELECT count(*) FROM lane_google.convert_legacy('legacy')");
	my ($h, $out, $err) =
	  psql_bg('lg_second', "SELECT count(*) FROM lane_google.convert_legacy('legacy')");
	my $pid = wait_for_lock_wait('lg_second');
	like(locks_of($pid, 'false'), qr/ShareRowExclusiveLock/,
		'a second conversion waits for the first');
	$first->query_safe("COMMIT");
	$h->finish;
	# the second finds every row there already: a catch-up with nothing to do
	like($$err, qr/ads: read 100000, converted 100000 \(100000 unchanged, 0 updated\)/,
		'the second conversion, once the first committed, finds every row converted');
	is( $node->safe_psql($db,
			"SELECT count(*) = count(DISTINCT legacy_id) AND count(*) = 100000 FROM lane_google.ads"
		),
		't',
		'the rows were converted once');
	$first->quit;
}

# ---------------------------------------------------------------------------
# REPEATABLE READ: rows committed after the snapshot, before the locks
# ---------------------------------------------------------------------------
{
	# convert_legacy in REPEATABLE READ
	$node->safe_psql($db,
		"TRUNCATE " . join(', ', map { "lane_google.$_" } @tables));
	my $s = bg();
	$s->query_safe("BEGIN ISOLATION LEVEL REPEATABLE READ");
	$s->query_safe("SELECT count(*) FROM legacy.accounts");
	$node->safe_psql($db,
		"INSERT INTO legacy.accounts (name, google_customer_id) VALUES ('late', 'late-convert')"
	);
	my ($res, $failed) =
	  $s->query("SELECT count(*) FROM lane_google.convert_legacy('legacy')");
	my $err = $s->{stderr};
	$s->query("COMMIT");
	$s->quit;
	my $got = $node->safe_psql($db,
		"SELECT count(*) FROM lane_google.accounts WHERE google_customer_id = 'late-convert'"
	);
	is($got, '1',
		'convert_legacy in REPEATABLE READ converts a row committed after the snapshot');
}

{
	# convert_legacy in REPEATABLE READ after the namespace changed: the
	# converted keys follow the namespace in force
	$node->safe_psql($db,
		"TRUNCATE " . join(', ', map { "lane_google.$_" } @tables));
	my $s = bg();
	$s->query_safe("BEGIN ISOLATION LEVEL REPEATABLE READ");
	$s->query_safe("SELECT count(*) FROM legacy.accounts");
	$node->safe_psql($db,
		"SELECT lane_google.set_legacy_namespace('6ba7b810-9dad-11d1-80b4-00c04fd430c8')"
	);
	$s->query("SELECT count(*) FROM lane_google.convert_legacy('legacy')");
	$s->query("COMMIT");
	$s->quit;
	is( $node->safe_psql(
			$db,
			"SELECT count(*) FROM lane_google.users WHERE id <> lane_google.legacy_uuid('users', legacy_id)"
		),
		'0',
		'convert_legacy in REPEATABLE READ maps keys under the namespace set after its snapshot'
	);

	# set_legacy_namespace in REPEATABLE READ after a conversion committed
	$s = bg();
	$node->safe_psql($db,
		"TRUNCATE " . join(', ', map { "lane_google.$_" } @tables));
	$s->query_safe("BEGIN ISOLATION LEVEL REPEATABLE READ");
	$s->query_safe("SELECT count(*) FROM legacy.accounts");
	$node->safe_psql($db,
		"SELECT count(*) FROM lane_google.convert_legacy('legacy')");
	$s->{stderr} = '';
	my (undef, $failed) = $s->query(
		"SELECT lane_google.set_legacy_namespace('00000000-0000-0000-0000-0000000000aa')"
	);
	my $err = $s->{stderr};
	$s->query("COMMIT");
	$s->quit;
	ok($failed, 'set_legacy_namespace in REPEATABLE READ refuses once rows were converted')
	  or diag($err);
	is( $node->safe_psql(
			$db,
			"SELECT count(*) FROM lane_google.users WHERE id <> lane_google.legacy_uuid('users', legacy_id)"
		),
		'0',
		'the converted keys still match the namespace in force');
}

# back to the extension's own 1.0 tables for the update cases
$node->safe_psql($db, "DROP SCHEMA legacy CASCADE");
$node->safe_psql($db, "DROP EXTENSION lane_google CASCADE; DROP SCHEMA IF EXISTS lane_google CASCADE");
LgReliab::lg_seed($node, $db, 1);

for my $case (
	[ '2.0', "ALTER EXTENSION lane_google UPDATE TO '2.0'", 'late-up' ],
	[ '1.0', "ALTER EXTENSION lane_google UPDATE TO '1.0'", 'late-down' ])
{
	my ($to, $command, $key) = @$case;
	my $s = bg();
	$s->query_safe("BEGIN ISOLATION LEVEL REPEATABLE READ");
	$s->query_safe("SELECT count(*) FROM lane_google.accounts");
	$node->safe_psql($db,
		"INSERT INTO lane_google.accounts (name, google_customer_id) VALUES ('late', '$key')"
	);
	$s->query($command);
	my $err = $s->{stderr};
	$s->query("COMMIT");
	$s->quit;
	my $kept = $node->safe_psql($db,
		"SELECT count(*) FROM lane_google.accounts WHERE google_customer_id = '$key'");
	is($kept, '1',
		"UPDATE TO '$to' in REPEATABLE READ keeps a row committed after the snapshot"
	);
	note "UPDATE TO '$to' in REPEATABLE READ: $err";
	$node->safe_psql($db, $command) if lg_extversion($node, $db) ne $to;
}

# ---------------------------------------------------------------------------
# pgbench writers during the updates and during convert_legacy
# ---------------------------------------------------------------------------
$node->safe_psql($db, "ALTER EXTENSION lane_google UPDATE TO '2.0'")
  if lg_extversion($node, $db) ne '2.0';
$node->safe_psql(
	$db, q{
	CREATE TABLE public.journal (k bigint PRIMARY KEY, at timestamptz DEFAULT clock_timestamp());
	CREATE SEQUENCE public.journal_seq;
	UPDATE lane_google.campaigns SET current_spend = 0 WHERE name = 'Campaign; 1';
});
my $script = "$PostgreSQL::Test::Utils::tmp_check/writer.sql";
PostgreSQL::Test::Utils::append_to_file(
	$script, q{
BEGIN;
INSERT INTO public.journal (k) VALUES (nextval('public.journal_seq'));
INSERT INTO lane_google.accounts (name, google_customer_id) VALUES ('pgbench', 'pgb-' || currval('public.journal_seq'));
UPDATE lane_google.campaigns SET current_spend = current_spend + 1 WHERE name = 'Campaign; 1';
COMMIT;
SELECT count(*) FROM lane_google.ads WHERE status = 'paused';
});

sub run_pgbench_during
{
	my ($seconds, @commands) = @_;
	my ($out, $err) = ('', '');
	my $bench = IPC::Run::start(
		[
			$node->installed_command('pgbench'), '-n', '-c', '4', '-j', '2',
			'-T', $seconds, '-f', $script, '-h', $node->host, '-p',
			$node->port, $db
		],
		'>', \$out, '2>', \$err);
	my @results;
	for my $c (@commands)
	{
		sleep 1;
		my ($ret, $stdout, $stderr) = $node->psql($db, $c);
		push @results, [ $ret, $stderr ];
	}
	my $rc = $bench->finish ? 0 : $bench->full_result;
	return ($rc, $out, $err, @results);
}

{
	is(lg_extversion($node, $db), '2.0', 'at 2.0 before the writers start');
	my ($rc, $out, $err, @r) = run_pgbench_during(
		8,
		"ALTER EXTENSION lane_google UPDATE TO '1.0'",
		"ALTER EXTENSION lane_google UPDATE TO '2.0'",
		"ALTER EXTENSION lane_google UPDATE TO '1.0'");
	is($rc, 0, 'pgbench clients saw no error during three updates')
	  or diag($err);
	my ($tx) = $out =~ /number of transactions actually processed: (\d+)/;
	ok($tx && $tx > 10, "pgbench committed transactions during the updates ("
		  . ($tx // 0) . ")");
	is($_->[0], 0, 'update under load succeeded') or diag($_->[1]) for @r;
	is( $node->safe_psql(
			$db, q{
		SELECT count(*) FROM public.journal j
		 WHERE NOT EXISTS (SELECT 1 FROM lane_google.accounts a
		                    WHERE a.google_customer_id = 'pgb-' || j.k)}),
		'0',
		'every committed insert is in accounts after the updates');
	is( $node->safe_psql(
			$db, q{
		SELECT (SELECT current_spend FROM lane_google.campaigns WHERE name = 'Campaign; 1')
		       = (SELECT count(*) FROM public.journal)}),
		't',
		'every committed update of campaigns is there after the updates');
	is( $node->safe_psql(
			$db, q{
		SELECT count(*) FROM lane_google.accounts a
		 WHERE a.google_customer_id LIKE 'pgb-%'
		   AND NOT EXISTS (SELECT 1 FROM public.journal j WHERE 'pgb-' || j.k = a.google_customer_id)}),
		'0',
		'no insert of an aborted transaction appeared');
}

# convert_legacy while writers write to the source tables and to the targets
{
	$node->safe_psql($db, "TRUNCATE public.journal");
	LgReliab::lg_make_legacy_source($node, $db);
	PostgreSQL::Test::Utils::append_to_file(
		$script, q{
BEGIN;
INSERT INTO public.journal (k) VALUES (nextval('public.journal_seq'));
INSERT INTO legacy.accounts (name, google_customer_id) VALUES ('pgbench', 'src-' || currval('public.journal_seq'));
COMMIT;
});
	my ($rc, $out, $err, @r) = run_pgbench_during(5,
		"BEGIN; CREATE TABLE public.conv_xid AS SELECT txid_current() AS x; SELECT count(*) FROM lane_google.convert_legacy('legacy'); COMMIT;"
	);
	is($rc, 0, 'pgbench clients saw no error during convert_legacy')
	  or diag($err);
	is($r[0][0], 0, 'convert_legacy under load succeeded') or diag($r[0][1]);
	is( $node->safe_psql(
			$db, q{
		SELECT count(*) FROM public.journal j
		 WHERE NOT EXISTS (SELECT 1 FROM lane_google.accounts a
		                    WHERE a.google_customer_id IN ('pgb-' || j.k))
		   AND NOT EXISTS (SELECT 1 FROM legacy.accounts a
		                    WHERE a.google_customer_id IN ('src-' || j.k))}),
		'0',
		'every committed write is there after convert_legacy');
	# a source row is converted if and only if it committed before the conversion
	is( $node->safe_psql(
			$db, q{
		SELECT count(*) FROM legacy.accounts s
		 WHERE s.google_customer_id LIKE 'src-%'
		   AND (pg_xact_commit_timestamp(s.xmin)
		        < pg_xact_commit_timestamp((SELECT x FROM public.conv_xid)::text::xid))
		       <> EXISTS (SELECT 1 FROM lane_google.accounts t WHERE t.legacy_id = s.id)}),
		'0',
		'source rows committed before the conversion were converted, later ones were not');
	is( $node->safe_psql(
			$db, q{
		SELECT count(*) > 0 FROM legacy.accounts s
		 WHERE s.google_customer_id LIKE 'src-%'
		   AND pg_xact_commit_timestamp(s.xmin)
		       > pg_xact_commit_timestamp((SELECT x FROM public.conv_xid)::text::xid)}),
		't',
		'writers wrote to the source after the conversion committed');
}

$node->stop;
done_testing();
