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
# Then, on the same nodes, convert_legacy() of the application's own legacy
# tables (gen_legacy.sh --scale S --target app --schema legacy, the same rows
# twice) into the 3.0 tables, each call timed from the client:
#   single   database "conv" (no Citus), lane_google 2.2 updated to 3.0,
#            under the cluster's legacy namespace: convert_legacy('legacy')
#   cluster  database "postgres" again: its converted rows truncated, the
#            empty 3.0 tables distributed again (distribute(N)); then
#            convert_legacy('legacy') from the local legacy tables (the rows
#            converted into staging copies on the coordinator, then written
#            through Citus, src/convert/stage.c), and, the targets truncated,
#            convert_legacy('legacy_citus'): copies of the legacy tables made
#            Citus tables (users and accounts reference tables, the others
#            distributed by id in N shards), read through Citus
# Fails unless each cluster conversion gives one node's rows: every table's
# count and md5 of its rows in id order, read through Citus.  Prints the
# seconds, the ratios, the seconds the writes through Citus took (the sum of
# the report's "written through Citus ... in X s" notes), and the cost per row
# of the cross-node traffic: (cluster - single) / rows.
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

# --- convert_legacy() of the application's legacy tables -------------------------
lg_log "convert_legacy(): the 3.0 tables, empty, on one node and distributed again"
q postgres "DROP DATABASE single"
truncate_sql="TRUNCATE $(for t in $TABLES; do printf 'lane_google.%s, ' "$t"; done | sed 's/, $//')"
q postgres "$truncate_sql"
q postgres "SELECT lane_google.distribute($SHARDS)" >/dev/null
[ "$(q postgres "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid::text LIKE 'lane_google.%'")" = 11 ] ||
    die "distribute() again: not 11 Citus tables"
ns=$(q postgres "SELECT lane_google.legacy_namespace()")
q postgres "CREATE DATABASE conv"
q conv "CREATE EXTENSION lane_google VERSION '2.2'"
q conv "ALTER EXTENSION lane_google UPDATE TO '3.0'"
# the same namespace, the same UUIDs: the rows can be compared
q conv "SELECT lane_google.set_legacy_namespace('$ns')" >/dev/null
[ "$(q conv "SELECT lane_google.legacy_namespace()")" = "$ns" ] || die "conv: the legacy namespace was not set"

lg_log "generating the application's legacy tables at scale $SCALE, twice"
for db in conv postgres; do
    lg_as_user env PGDATABASE="$db" bash "$LG_ROOT/test/gen_legacy.sh" --scale "$SCALE" \
        --target app --schema legacy >"$dir/gen_app_$db.log" 2>&1 || { cat "$dir/gen_app_$db.log"; die "gen_legacy.sh --target app failed"; }
done
legacy_counts_sql=$(for t in $TABLES; do printf "SELECT '%s ' || count(*) FROM legacy.%s\nUNION ALL\n" "$t" "$t"; done | sed '$d')
legacy_want=$(q conv "$legacy_counts_sql" | sort)
[ "$(q postgres "$legacy_counts_sql" | sort)" = "$legacy_want" ] || die "the two legacy schemas do not hold the same rows"
conv_rows=$(echo "$legacy_want" | awk '{ n += $2 } END { print n }')

# every table's count and md5 of its rows in id order (of each row's md5: a
# string of 32 bytes a row, where the rows' text would pass 1 GB at scale 1)
rows_sql=$(for t in $TABLES; do
    printf "SELECT '%s ' || count(*) || ' ' || coalesce(md5(string_agg(md5(x::text), '' ORDER BY x.id)), '-') FROM lane_google.%s x\nUNION ALL\n" "$t" "$t"
done | sed '$d')
# timed_convert DB SCHEMA FILE: convert_legacy(SCHEMA) timed into $secs, its
# report in FILE; every legacy row converted, none quarantined
timed_convert() {
    local t0
    t0=$(date +%s.%N)
    q "$1" "SET client_min_messages = warning; SELECT table_name, rows_converted, rows_quarantined, seconds, note FROM lane_google.convert_legacy('$2')" >"$3" ||
        die "failed: convert_legacy('$2') in $1"
    secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
    [ "$(awk -F'|' '{ n += $2 } END { print n }' "$3")" = "$conv_rows" ] || { cat "$3"; die "$1: convert_legacy('$2') did not convert $conv_rows rows"; }
    [ "$(awk -F'|' '{ n += $3 } END { print n }' "$3")" = 0 ] || { cat "$3"; die "$1: convert_legacy('$2') quarantined rows"; }
    # the report, on stderr with the log: each table's rows, seconds and note
    awk -F'|' '{ printf "   %-22s %8d rows %7.2f s  %s\n", $1, $2, $4, $5 }' "$3" >&2
}
# through_citus FILE: the seconds of the report's writes through Citus, summed
# (one note per table: all 11 must have been written through Citus)
through_citus() {
    local notes
    notes=$(grep -o 'written through Citus to its [a-z ]* in [0-9.]* s' "$1" || true)
    [ "$(echo "$notes" | grep -c .)" = 11 ] || { cat "$1"; die "not every table was written through Citus"; }
    echo "$notes" | awk '{ s += $(NF - 1) } END { printf "%.2f", s }'
}

lg_log "convert_legacy('legacy'), one node"
timed_convert conv legacy "$dir/conv_single.txt"; vs=$secs
conv_want=$(q conv "$rows_sql" | sort)
[ "$(q conv "$counts_sql" | sort)" = "$legacy_want" ] || die "one node: the converted row counts are not the legacy ones"

lg_log "convert_legacy('legacy') on the coordinator, from local legacy tables"
timed_convert postgres legacy "$dir/conv_local.txt"; vl=$secs
vl_citus=$(through_citus "$dir/conv_local.txt")
[ "$(q postgres "$rows_sql" | sort)" = "$conv_want" ] || die "cluster, local legacy tables: the rows are not one node's"
shell_bytes=$(q postgres "SELECT sum(pg_relation_size(format('lane_google.%I', t)::regclass)) FROM unnest(string_to_array('$TABLES', ' ')) AS t")
[ "$shell_bytes" = 0 ] || die "convert_legacy(): the coordinator's shells hold $shell_bytes bytes"

lg_log "the legacy tables as Citus tables (legacy_citus), the targets truncated"
q postgres "$truncate_sql"
lg_psql -q -At -v ON_ERROR_STOP=1 -v shards="$SHARDS" -c "SET client_min_messages = warning" \
    -f "$LG_ROOT/test/citus_legacy.sql" >/dev/null || die "test/citus_legacy.sql failed"
[ "$(q postgres "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid::text LIKE 'legacy_citus.%'")" = 11 ] ||
    die "legacy_citus: not 11 Citus tables"
q postgres "VACUUM ANALYZE $(for t in $TABLES; do printf 'legacy_citus.%s, ' "$t"; done | sed 's/, $//')"
[ "$(q postgres "${legacy_counts_sql//FROM legacy./FROM legacy_citus.}" | sort)" = "$legacy_want" ] ||
    die "legacy_citus: not the legacy rows"

lg_log "convert_legacy('legacy_citus') on the coordinator, from Citus legacy tables"
timed_convert postgres legacy_citus "$dir/conv_citus.txt"; vc=$secs
vc_citus=$(through_citus "$dir/conv_citus.txt")
[ "$(q postgres "$rows_sql" | sort)" = "$conv_want" ] || die "cluster, Citus legacy tables: the rows are not one node's"

traffic() { awk -v c="$1" -v s="$vs" -v n="$conv_rows" 'BEGIN { printf "%.1f", (c - s) * 1e6 / n }'; }
echo
echo "convert_legacy() of the app layout at scale $SCALE: $conv_rows rows; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %8s %8s %8s\n' "" "single" "cluster" "ratio"
printf '%-34s %8s %8s %8s\n' "from local legacy tables" "$vs" "$vl" "$(ratio "$vl" "$vs")"
printf '%-34s %8s %8s %8s\n' "  of which written through Citus" "-" "$vl_citus" "-"
printf '%-34s %8s %8s %8s\n' "from Citus legacy tables" "$vs" "$vc" "$(ratio "$vc" "$vs")"
printf '%-34s %8s %8s %8s\n' "  of which written through Citus" "-" "$vc_citus" "-"
echo "cross-node traffic, (cluster - single) / rows: $(traffic "$vl") us per row from local legacy tables; $(traffic "$vc") us per row from Citus legacy tables"
