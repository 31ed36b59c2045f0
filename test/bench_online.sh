#!/usr/bin/env bash
# test/bench_online.sh: the online conversion (online_start, online_backfill,
# the swap in ALTER EXTENSION UPDATE TO '2.1') against the offline update, on
# the same data in the same run.
#
# One throwaway cluster; the 1.0 data is generated once (test/gen_legacy.sh
# --scale S, VACUUM FREEZE ANALYZE, then UPDATE TO '1.1'), and each part
# starts from its own copy (CREATE DATABASE ... TEMPLATE):
#   offline  ALTER EXTENSION lane_google UPDATE TO '2.1': its seconds (the
#            time every client is locked out) and its WAL
#   quiet    the online path with no client: the backfill's seconds, the
#            staging schema's size once complete (extra disk, against the
#            legacy tables' size), the swap's seconds, the WAL of the whole
#            online path
#   loaded   pgbench (2 clients; per transaction: one campaign and one
#            analytics snapshot updated by integer id, one campaign read, via
#            the compatibility views, as old code redeployed would) for D
#            seconds without any online state (tps0), then during the backfill
#            (tps from pgbench -P 1 over the backfill's window), then through
#            the swap, while a sampler reads pg_stat_activity every 10 ms: the
#            longest time any client had been waiting for a lock (an upper
#            bound: it counts from the start of the client's statement)
#   deps     the swap with an outside table (one row per analytics snapshot)
#            holding a foreign key into campaigns: its column changed to uuid
#            under the swap's locks, rows per second
#   compat   after that swap: old code's UPDATE through
#            lane_google_v1.campaigns WHERE id = N, ms per statement with the
#            views' index on legacy_id::integer and without it (a scan)
#
#   LG_SCALE=S     data scale (default 0.3: about 1.2M rows)
#   LG_SMOKE=1     scale 0.01, D = 3 s: a smoke run of seconds
#   LG_BENCH_PAUSE=I   the backfill's pause between batches under pgbench
#                  (default 0): the knob that trades backfill time for tps
#   LG_BENCH_PAUSES="I ..."  LG_BENCH_BATCHES="N ...": the backfill under
#                  pgbench once per pause and batch_rows (default: PAUSE and
#                  10000), each on its own copy of the data, each against its
#                  own tps0 measured just before; the first pair fills the
#                  main table, the last one goes on to the swap
#   LG_BENCH_QUIET=0   skip the online path alone (saves time at scale 3; no
#                  quiet backfill time, extra disk, online WAL, row check)
#   LG_BENCH_STRICT=1  exit 3 when a target is missed (default: report only)
# Targets: longest client lock wait in the swap <= 1 s; tps during the
# backfill >= 0.7 x tps0.  Exits non-zero if a step fails or the rows differ
# from the offline update's.  Run by hand after make install.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ "${LG_SMOKE:-0}" = 1 ]; then
    SCALE=0.01
    DUR=3
else
    SCALE=${LG_SCALE:-0.3}
    DUR=${LG_BENCH_SECONDS:-20}
fi
PAUSE=${LG_BENCH_PAUSE:-0}
PAUSES=${LG_BENCH_PAUSES:-$PAUSE}
BATCHES=${LG_BENCH_BATCHES:-10000}
QUIET=${LG_BENCH_QUIET:-1}
load() { cut -d' ' -f1-3 /proc/loadavg; }
TABLES="users accounts account_users campaigns ad_groups ads analytics_snapshots approval_requests budget_alerts conversations conversation_messages"

lg_scratch_cluster bench_online
q() { lg_psql -At -d "$1" -c "$2"; }
die() { echo "bench_online.sh: $*" >&2; exit 1; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
wal() { q postgres "SELECT pg_current_wal_lsn()"; }
waldiff() { q postgres "SELECT pg_size_pretty(pg_wal_lsn_diff('$2', '$1'))"; }

lg_log "generating the 1.0 data at scale $SCALE"
q postgres "CREATE DATABASE legacy"
q legacy "CREATE EXTENSION lane_google VERSION '1.0'"
lg_as_user env PGDATABASE=legacy bash "$LG_ROOT/test/gen_legacy.sh" --scale "$SCALE" \
    --target extension >"$dir/gen.log" 2>&1 || { cat "$dir/gen.log"; die "gen_legacy.sh failed"; }
q legacy "VACUUM (FREEZE, ANALYZE)"
q legacy "ALTER EXTENSION lane_google UPDATE TO '1.1'"
rows=$(q legacy "SELECT $(for t in $TABLES; do printf "(SELECT count(*) FROM lane_google.%s) + " "$t"; done) 0")
legacy_size=$(q legacy "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c WHERE c.relnamespace = 'lane_google'::regnamespace AND c.relkind = 'r'")
for d in offline deps; do q postgres "CREATE DATABASE $d TEMPLATE legacy"; done
if [ "$QUIET" = 1 ]; then q postgres "CREATE DATABASE quiet TEMPLATE legacy"; fi
checksum_sql=$(for t in $TABLES; do printf "SELECT '%s ' || md5(string_agg(md5(x::text), '' ORDER BY x.id)) FROM lane_google.%s x\nUNION ALL\n" "$t" "$t"; done | sed '$d')

# --- offline ---------------------------------------------------------------------
lg_log "offline: ALTER EXTENSION lane_google UPDATE TO '2.1'"
w0=$(wal); t0=$(now)
q offline "ALTER EXTENSION lane_google UPDATE TO '2.1'" >/dev/null
off_s=$(secs "$t0" "$(now)"); off_wal=$(waldiff "$w0" "$(wal)")
# its checksum now, then the database goes: its autovacuum (freezing every
# row just written) would run into the next parts' time and WAL
off_sum=$(q offline "$checksum_sql" | sort)
q postgres "DROP DATABASE offline"

# --- quiet: the online path alone ----------------------------------------------------
start_s=- bf_quiet_s=- staging_size=0 swap_quiet_s=- on_wal=-
if [ "$QUIET" = 1 ]; then
lg_log "quiet: online_start, online_backfill, swap"
w0=$(wal); t0=$(now)
q quiet "SELECT lane_google.online_start()" >/dev/null
start_s=$(secs "$t0" "$(now)")
t0=$(now)
q quiet "CALL lane_google.online_backfill()" >/dev/null
bf_quiet_s=$(secs "$t0" "$(now)")
staging_size=$(q quiet "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c WHERE c.relnamespace = 'lane_google_online'::regnamespace AND c.relkind = 'r'")
t0=$(now)
q quiet "ALTER EXTENSION lane_google UPDATE TO '2.1'" >/dev/null
swap_quiet_s=$(secs "$t0" "$(now)")
on_wal=$(waldiff "$w0" "$(wal)")
# sorted: the UNION ALL's parts may come in any order (a parallel append)
on_sum=$(q quiet "$checksum_sql" | sort)
q postgres "DROP DATABASE quiet"
[ "$on_sum" = "$off_sum" ] ||
    die "the online path's rows differ from the offline update's: $(diff <(echo "$off_sum") <(echo "$on_sum"))"
fi
load_quiet=$(load)

# --- deps: an outside foreign key carried across by the swap ---------------------
# A table of the application's with one row per analytics snapshot and a
# foreign key into campaigns: the swap changes its column to uuid in place,
# a rewrite of that table under the swap's locks.
lg_log "deps: the swap carrying an outside foreign key"
q deps "CREATE TABLE public.snap_notes (id bigserial PRIMARY KEY,
          campaign_id integer NOT NULL REFERENCES lane_google.campaigns(id), note text);
        INSERT INTO public.snap_notes (campaign_id, note)
          SELECT campaign_id, 'note ' || id FROM lane_google.analytics_snapshots;
        CREATE INDEX ON public.snap_notes (campaign_id)"
q deps "VACUUM ANALYZE public.snap_notes"
dep_rows=$(q deps "SELECT count(*) FROM public.snap_notes")
q deps "SELECT lane_google.online_start()" >/dev/null
q deps "CALL lane_google.online_backfill()" >/dev/null
t0=$(now)
lg_psql -d deps -c "SET client_min_messages = notice; ALTER EXTENSION lane_google UPDATE TO '2.1'" >"$dir/deps.out" 2>&1 ||
    die "the swap with a dependent failed: $(cat "$dir/deps.out")"
deps_swap_s=$(secs "$t0" "$(now)")
deps_ms=$(sed -n 's/.*dependents converted in \([0-9]*\) ms.*/\1/p' "$dir/deps.out")
[ -n "$deps_ms" ] || die "no report from the swap: $(cat "$dir/deps.out")"
[ "$(q deps "SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = 'public.snap_notes'::regclass AND attname = 'campaign_id'")" = uuid ] ||
    die "snap_notes.campaign_id was not converted"

# --- compat: old code's statement by id through the compatibility views -------------
# After the swap (of the deps database, below), UPDATE lane_google_v1.campaigns ... WHERE id = N: with the
# views' index on legacy_id::integer (what the swap brings), then without it
# (what a plain scan of campaigns costs), each over the same random ids.
compat_ms() {
    q deps "DO \$c\$
DECLARE t0 timestamptz; m int := (SELECT max(legacy_id) FROM lane_google.campaigns); k int;
BEGIN
    PERFORM setseed(0.5);
    t0 := clock_timestamp();
    FOR i IN 1 .. $1 LOOP
        k := 1 + floor(random() * m)::int;  -- a parameter, as a client's bound value
        UPDATE lane_google_v1.campaigns SET current_spend = current_spend WHERE id = k;
    END LOOP;
    RAISE WARNING 'per statement %', extract(epoch FROM clock_timestamp() - t0) * 1000 / $1;
END \$c\$" 2>&1 | sed -n 's/.*per statement \([0-9.]*\).*/\1/p' |
        awk '{ printf "%.3f", $1 }'
}
lg_log "compat: UPDATE through lane_google_v1.campaigns by id, with and without the index"
compat_new=$(compat_ms 2000)
q deps "DROP INDEX lane_google._lg_compat_campaigns_legacy_id"
compat_old=$(compat_ms 100)
compat_rows=$(q deps "SELECT count(*) FROM lane_google.campaigns")

q postgres "DROP DATABASE deps"

# --- loaded: pgbench through it -----------------------------------------------------
maxc=$(q legacy "SELECT max(id) FROM lane_google.campaigns")
maxs=$(q legacy "SELECT max(id) FROM lane_google.analytics_snapshots")
script="$dir/workload.sql"
cat >"$script" <<'SQL'
\set cid random(1, :maxc)
\set sid random(1, :maxs)
BEGIN;
UPDATE campaigns SET current_spend = current_spend + 1 WHERE id = :cid;
UPDATE analytics_snapshots SET clicks = clicks + 1 WHERE id = :sid;
SELECT name FROM campaigns WHERE id = :cid;
COMMIT;
SQL
[ "$(id -u)" -eq 0 ] && chown "$LG_USER" "$script"
# bench SEARCH_PATH SECONDS LOGFILE: pgbench on $db in the background, -P 1 to LOGFILE
bench() {
    lg_as_user env PGOPTIONS="-c search_path=$1" "$LG_BINDIR/pgbench" -n -c 2 -j 2 -T "$2" -P 1 \
        -f "$script" -D maxc="$maxc" -D maxs="$maxs" "$db" >"$3.out" 2>"$3" &
    bench_pid=$!
}
stop_bench() {
    pkill -TERM -P "$bench_pid" 2>/dev/null || true
    kill "$bench_pid" 2>/dev/null || true
    wait "$bench_pid" 2>/dev/null || true
}
# tps LOGFILE STARTED FROM TO: mean tps of the progress lines in [FROM, TO]
tps_between() {
    awk -v s="$2" -v a="$3" -v b="$4" '/^progress:/ { t = s + $2; if (t >= a && t <= b + 1) { n++; sum += $4 } }
        END { if (n) printf "%.1f", sum / n; else print "nan" }' "$1"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-") print "-"; else if (b > 0) printf "%.2f", a / b; else print "nan" }'; }
# One backfill under pgbench per (batch_rows, pause), each on a fresh copy of
# the data, between two measures of tps0 (no online state): one on its copy
# just before, the next run's (or, after the last run, one on the template)
# just after; its ratio is against their mean, which cancels a load that
# drifts (the machine is shared).
# tps0_on DB LOGFILE: pgbench through the plain tables for DUR seconds
tps0_on() {
    local keep=$db
    db=$1
    bench lane_google "$DUR" "$2"
    wait "$bench_pid" || die "pgbench failed: $(cat "$2")"
    grep -qi "error\|abort" "$2" && die "pgbench saw errors: $(cat "$2")"
    db=$keep
    awk '/^tps = / { print $3; exit }' "$2.out"
}
run_b=() run_p=() run_bf=() run_t0=() run_t1=() run_l=()
n=0
for batch in $BATCHES; do
for pause in $PAUSES; do
n=$((n + 1))
db=loaded_$n
q postgres "CREATE DATABASE $db TEMPLATE legacy"
lg_log "loaded ($db, batch_rows $batch, pause $pause): pgbench without online state, $DUR s"
l0=$(load)
tps0=$(tps0_on "$db" "$dir/tps0_$n.log")

q "$db" "SELECT lane_google.online_start()" >/dev/null
if [ $n = 1 ]; then
    # the capture triggers and the compatibility views alone, no backfill
    lg_log "loaded: pgbench with capture only (through the views), $DUR s"
    bench lane_google_v1 "$DUR" "$dir/tpsc.log"
    wait "$bench_pid" || die "pgbench failed: $(cat "$dir/tpsc.log")"
    tpsc=$(awk '/^tps = / { print $3; exit }' "$dir/tpsc.log.out")
    grep -qi "error\|abort" "$dir/tpsc.log" && die "pgbench saw errors: $(cat "$dir/tpsc.log")"
fi
lg_log "loaded: pgbench during the backfill"
bench lane_google_v1 3600 "$dir/tps1_$n.log"; s1=$(now)
sleep 1
b0=$(now)
q "$db" "CALL lane_google.online_backfill(batch_rows => $batch, pause => '$pause')" >/dev/null
b1=$(now)
l1=$(load)
bf_s=$(secs "$b0" "$b1")
sleep 1
stop_bench
tps1=$(tps_between "$dir/tps1_$n.log" "$s1" "$b0" "$b1")
grep -qi "error\|abort" "$dir/tps1_$n.log" && die "pgbench saw errors: $(cat "$dir/tps1_$n.log")"
run_b+=("$batch") run_p+=("$pause") run_bf+=("$bf_s") run_t0+=("$tps0") run_t1+=("$tps1") run_l+=("$l0 / $l1")
[ -n "${last_db:-}" ] && q postgres "DROP DATABASE $last_db"
last_db=$db
done
done
lg_log "loaded: pgbench without online state (after the last backfill), $DUR s"
run_t0+=("$(tps0_on legacy "$dir/tps0_end.log")")
runs=()
for i in $(seq 0 $((n - 1))); do
    t0=$(awk -v a="${run_t0[$i]}" -v b="${run_t0[$((i + 1))]}" 'BEGIN { printf "%.1f", (a + b) / 2 }')
    runs+=("$(printf '%-11s %-9s %10s %15s %9s %7s   %s' "${run_b[$i]}" "${run_p[$i]}" "${run_bf[$i]}" \
        "$(printf '%.0f/%.0f' "${run_t0[$i]}" "${run_t0[$((i + 1))]}")" "${run_t1[$i]}" \
        "$(ratio "${run_t1[$i]}" "$t0")" "${run_l[$i]}")")
    if [ "$i" = 0 ]; then
        bf_loaded_s=${run_bf[0]} tps0_1=$t0 tps1_1=${run_t1[0]} pause_1=${run_p[0]} batch_1=${run_b[0]}
        load_1=${run_l[0]}
    fi
done

lg_log "loaded: pgbench through the swap"
q "$db" "CREATE TABLE public.bench_flag (done boolean)"
bench lane_google_v1 3600 "$dir/tps2.log"
sleep 1
lg_psql -d "$db" >"$dir/sampler.out" 2>&1 <<'SQL' &
DO $sample$
DECLARE
    w interval;
    worst interval := '0';
BEGIN
    LOOP
        PERFORM pg_stat_clear_snapshot();
        SELECT max(clock_timestamp() - query_start) INTO w
          FROM pg_stat_activity
         WHERE wait_event_type = 'Lock' AND backend_type = 'client backend'
           AND query NOT LIKE 'ALTER EXTENSION%' AND pid <> pg_backend_pid();
        IF w > worst THEN worst := w; END IF;
        EXIT WHEN EXISTS (SELECT 1 FROM public.bench_flag);
        PERFORM pg_sleep(0.01);
    END LOOP;
    RAISE WARNING 'longest lock wait %', extract(epoch FROM worst);
END
$sample$;
SQL
sampler_pid=$!
sleep 1
tries=0
swap_failed=()
swap_s=
while [ $tries -lt 20 ]; do
    tries=$((tries + 1))
    q "$db" "CALL lane_google.online_backfill()" >/dev/null
    t0=$(now)
    if q "$db" "ALTER EXTENSION lane_google UPDATE TO '2.1'" >"$dir/swap.out" 2>&1; then
        swap_s=$(secs "$t0" "$(now)")
        break
    fi
    grep -q "swap_lock_timeout" "$dir/swap.out" || die "swap failed: $(cat "$dir/swap.out")"
    swap_failed+=("$(grep -o 'could not lock .*' "$dir/swap.out" || true)")
done
[ -n "$swap_s" ] || die "the swap did not get its locks in $tries tries"
sleep 2
q "$db" "INSERT INTO public.bench_flag VALUES (true)"
wait "$sampler_pid" || die "sampler failed: $(cat "$dir/sampler.out")"
stop_bench
grep -qi "error\|abort" "$dir/tps2.log" && die "pgbench saw errors in the swap: $(cat "$dir/tps2.log")"
worst=$(sed -n 's/.*longest lock wait \([0-9.]*\).*/\1/p' "$dir/sampler.out")
[ -n "$worst" ] || die "no sample: $(cat "$dir/sampler.out")"
swap_notice=$(grep -o 'online swap: .*' "$dir/swap.out" || true)
swap_detail=$(grep -o 'Under the locks: .*' "$dir/swap.out" || true)

mb() { awk -v a="$1" 'BEGIN { printf "%.0f", a / 1048576 }'; }

echo
echo "Online conversion, scale $SCALE ($rows rows), $(nproc) cores, PostgreSQL $($PG_CONFIG --version | awk '{print $2}')"
echo "load average (1, 5, 15 min): after the quiet part $load_quiet; under pgbench, before / after the first backfill $load_1"
echo
printf '%-58s %s\n' \
    "offline update (every client locked out), s" "$off_s" \
    "online_start(), s" "$start_s" \
    "online_backfill(), no load, s" "$bf_quiet_s ($(ratio "$bf_quiet_s" "$off_s") x offline)" \
    "online_backfill($batch_1, pause => '$pause_1') under pgbench, s" "$bf_loaded_s ($(ratio "$bf_loaded_s" "$off_s") x offline)" \
    "swap (ALTER EXTENSION UPDATE TO '2.1'), no load, s" "$swap_quiet_s" \
    "swap under pgbench, s (attempts)" "$swap_s ($tries)" \
    "  its own report" "${swap_notice:-}" \
    "" "${swap_detail:-}" \
    "  attempts that failed" "$(if [ ${#swap_failed[@]} -gt 0 ]; then printf '%s; ' "${swap_failed[@]}"; else echo -; fi)" \
    "longest client lock wait during the swap, s (10 ms samples)" "$worst" \
    "pgbench tps without online state (mean of before and after)" "$tps0_1" \
    "pgbench tps with capture only (views, triggers; no backfill)" "$tpsc ($(ratio "$tpsc" "$tps0_1") x)" \
    "pgbench tps during the backfill" "$tps1_1 ($(ratio "$tps1_1" "$tps0_1") x)" \
    "extra disk at the end of the backfill, MB" "$(mb "$staging_size") (legacy tables $(mb "$legacy_size") MB)" \
    "WAL, offline update" "$off_wal" \
    "WAL, online path (start, backfill, swap; no load)" "$on_wal"
echo
echo "Around the swap (scale $SCALE)"
printf '%-58s %s\n' \
    "UPDATE lane_google_v1.campaigns ... WHERE id = N, ms" "$compat_new with the views' index, $compat_old without ($(ratio "$compat_old" "$compat_new") x; campaigns $compat_rows rows)" \
    "swap carrying an outside foreign key, s" "$deps_swap_s (swap without: $swap_quiet_s)" \
    "  its referencing column converted under the locks" "$dep_rows rows in $deps_ms ms ($(awk -v r="$dep_rows" -v m="$deps_ms" 'BEGIN { if (m > 0) printf "%.0f", r * 1000 / m; else print "nan" }') rows/s)"
echo
echo "The backfill under pgbench, per batch_rows and pause (tps0 before/after it, no online state; ratio: tps / their mean)"
printf '%-11s %-9s %10s %15s %9s %7s   %s\n' batch_rows pause backfill_s tps0 tps ratio "load avg before / after"
printf '%s\n' "${runs[@]}"
echo
lg_verdict "longest client lock wait during the swap <= 1 s" "$worst" 1 "<="
lg_verdict "tps during the backfill >= 0.7 x without ($batch_1 rows, pause $pause_1)" "$tps1_1" "$(awk -v a="$tps0_1" 'BEGIN { print 0.7 * a }')" ">="
if [ "${LG_BENCH_STRICT:-0}" = 1 ] && [ $missed -gt 0 ]; then
    exit 3
fi
exit 0
