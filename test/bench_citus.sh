#!/usr/bin/env bash
# test/bench_citus.sh: the same legacy data converted on one node, and on a
# Citus coordinator then distributed to two workers (doc/citus.md, "From 1.x
# on one node to Citus, step by step").
#
# One coordinator and two workers on this machine (lg_citus_start): all on
# the same cores, so the point is the shape of the cost, not a speed-up.
# test/gen_legacy.sh --scale S fills lane_google 1.0 twice with the same
# rows (they are hash-based): in database "single" (no Citus there: one
# node) and in database "postgres" (Citus, two workers registered; Citus
# creates lane_google on the workers and runs every update there too, on
# their empty tables).  Timed, each a statement of its own:
#   single   ALTER EXTENSION lane_google UPDATE TO '2.2', then '3.0'
#   cluster  set_legacy_namespace(legacy_namespace()) (the workers' update
#            needs it), UPDATE TO '2.2', '3.0', then distribute(), then
#            undistribute() (the way back)
# Prints the seconds, the ratios cluster/single, and the cost per row of
# moving the rows to the workers (distribute) and back (undistribute).
# Fails when a row count differs after a step.
#
#   --scale S    data scale (default 1: about 4.1M rows); LG_SMOKE=1 without
#                --scale: 0.01, the smoke run of test/run_tests.sh
#   --shards N   distribute(N) (default 32, distribute()'s own default)
# Skips (exit 0) when the server has no Citus.  Run by hand after make install.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SCALE=
SHARDS=32
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) SCALE=$2; shift 2 ;;
        --scale=*) SCALE=${1#--scale=}; shift ;;
        --shards) SHARDS=$2; shift 2 ;;
        --shards=*) SHARDS=${1#--shards=}; shift ;;
        *) echo "usage: $0 [--scale S] [--shards N]" >&2; exit 2 ;;
    esac
done
if [ -z "$SCALE" ]; then
    if [ "${LG_SMOKE:-0}" = 1 ]; then SCALE=0.01; else SCALE=1; fi
fi

lg_find_pg_config
if ! lg_citus_supported || [ ! -f "$($PG_CONFIG --sharedir)/extension/citus.control" ]; then
    echo "skipped: no Citus for $($PG_CONFIG --version) (run_tests.sh 090_citus builds it for 15 to 17)"
    exit 0
fi

die() { echo "bench_citus: $*" >&2; exit 1; }
dir=$(mktemp -d /tmp/lane_google_bench_citus.XXXXXX)
[ "$(id -u)" -eq 0 ] && chown "$LG_USER" "$dir"
lg_citus_start "$dir/cluster" || die "the Citus cluster did not start"
trap 'lg_citus_stop; rm -rf "$dir"' EXIT

q() { lg_psql -At -d "$1" -c "$2"; }
# timed DB SQL: the seconds, into $secs
timed() {
    local t0
    t0=$(date +%s.%N)
    q "$1" "$2" >/dev/null || die "failed: $2"
    secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
}
TABLES="users accounts account_users campaigns ad_groups ads analytics_snapshots approval_requests budget_alerts conversations conversation_messages"
counts_sql=$(for t in $TABLES; do printf "SELECT '%s ' || count(*) FROM lane_google.%s\nUNION ALL\n" "$t" "$t"; done | sed '$d')
counts() { q "$1" "$counts_sql" | sort; }

lg_log "generating the 1.0 data at scale $SCALE, twice"
q postgres "CREATE DATABASE single"
for db in single postgres; do
    q "$db" "CREATE EXTENSION lane_google VERSION '1.0'"
    lg_as_user env PGDATABASE="$db" bash "$LG_ROOT/test/gen_legacy.sh" --scale "$SCALE" \
        --target extension >"$dir/gen_$db.log" 2>&1 || { cat "$dir/gen_$db.log"; die "gen_legacy.sh failed"; }
    q "$db" "VACUUM (FREEZE, ANALYZE)"
done
want=$(counts single)
[ "$(counts postgres)" = "$want" ] || die "the two databases do not hold the same rows"
rows=$(echo "$want" | awk '{ n += $2 } END { print n }')

lg_log "one node"
timed single "ALTER EXTENSION lane_google UPDATE TO '2.2'"; s22=$secs
timed single "ALTER EXTENSION lane_google UPDATE TO '3.0'"; s30=$secs
[ "$(counts single)" = "$want" ] || die "one node: row counts changed"

lg_log "coordinator and two workers"
timed postgres "SELECT lane_google.set_legacy_namespace(lane_google.legacy_namespace())"; cns=$secs
timed postgres "ALTER EXTENSION lane_google UPDATE TO '2.2'"; c22=$secs
timed postgres "ALTER EXTENSION lane_google UPDATE TO '3.0'"; c30=$secs
[ "$(counts postgres)" = "$want" ] || die "coordinator: row counts changed"
timed postgres "SELECT lane_google.distribute($SHARDS)"; cdist=$secs
[ "$(q postgres "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid::text LIKE 'lane_google.%'")" = 11 ] ||
    die "distribute(): not 11 Citus tables"
[ "$(counts postgres)" = "$want" ] || die "distributed: row counts changed"
shell_bytes=$(q postgres "SELECT sum(pg_relation_size(format('lane_google.%I', t)::regclass)) FROM unnest(string_to_array('$TABLES', ' ')) AS t")
[ "$shell_bytes" = 0 ] || die "distributed: the coordinator's shells hold $shell_bytes bytes"
timed postgres "SELECT lane_google.undistribute()"; cund=$secs
[ "$(counts postgres)" = "$want" ] || die "undistributed: row counts changed"

single_total=$(awk -v a="$s22" -v b="$s30" 'BEGIN { printf "%.2f", a + b }')
conv_total=$(awk -v a="$c22" -v b="$c30" -v n="$cns" 'BEGIN { printf "%.2f", a + b + n }')
cluster_total=$(awk -v a="$conv_total" -v d="$cdist" 'BEGIN { printf "%.2f", a + d }')
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
per_row() { awk -v s="$1" -v n="$rows" 'BEGIN { printf "%.1f", s * 1e6 / n }'; }

echo "scale $SCALE: $rows rows; $SHARDS shards per co-location group; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %8s %8s %8s\n' "" "single" "cluster" "ratio"
printf '%-34s %8s %8s %8s\n' "set_legacy_namespace()" "-" "$cns" "-"
printf '%-34s %8s %8s %8s\n' "UPDATE TO '2.2' (1.0 -> 2.2)" "$s22" "$c22" "$(ratio "$c22" "$s22")"
printf '%-34s %8s %8s %8s\n' "UPDATE TO '3.0'" "$s30" "$c30" "$(ratio "$c30" "$s30")"
printf '%-34s %8s %8s %8s\n' "conversion, in all" "$single_total" "$conv_total" "$(ratio "$conv_total" "$single_total")"
printf '%-34s %8s %8s %8s\n' "distribute()" "-" "$cdist" "-"
printf '%-34s %8s %8s %8s\n' "1.0 to distributed 3.0, in all" "$single_total" "$cluster_total" "$(ratio "$cluster_total" "$single_total")"
printf '%-34s %8s %8s %8s\n' "undistribute()" "-" "$cund" "-"
echo "moving the rows to the workers (distribute): $(per_row "$cdist") us per row; back (undistribute): $(per_row "$cund") us per row"
