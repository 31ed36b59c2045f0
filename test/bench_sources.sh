#!/usr/bin/env bash
# test/bench_sources.sh: what reading a source through the executor costs
# convert_legacy(), against its heap scan, on the same rows in the same run.
#
# One throwaway cluster; the application's legacy tables generated once
# (test/gen_legacy.sh --target app --schema tbl --scale S), then two more
# source schemas over the same rows:
#   tbl    plain tables: read by one heap scan each (as the update reads)
#   vw     a view per table (SELECT * FROM tbl.t): every row through the
#          executor, from a cursor, in batches
#   part   copies of the tables, ads and analytics_snapshots (three quarters
#          of the rows) hash-partitioned in 4: those two through the executor
# Each variant converts into the empty 2.0 tables, twice (targets emptied in
# between); the better of the two is reported, with the ratios vw/tbl and
# part/tbl.
#
#   LG_SCALE=S     data scale (default 0.2: about 820k rows)
#   LG_SMOKE=1     scale 0.01, a smoke run of a few seconds
# Exits non-zero if a conversion fails or converts a different number of rows.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ "${LG_SMOKE:-0}" = 1 ]; then
    SCALE=0.01
else
    SCALE=${LG_SCALE:-0.2}
fi
TABLES="users accounts account_users campaigns ad_groups ads analytics_snapshots approval_requests budget_alerts conversations conversation_messages"
die() { echo "bench_sources.sh: $*" >&2; exit 1; }

lg_scratch_cluster bench_sources
q() { lg_psql -At -d postgres -c "$1"; }

lg_log "generating the legacy tables at scale $SCALE"
q "CREATE EXTENSION lane_google"
lg_as_user env PGDATABASE=postgres bash "$LG_ROOT/test/gen_legacy.sh" --scale "$SCALE" \
    --target app --schema tbl >"$dir/gen.log" 2>&1 || { cat "$dir/gen.log"; die "gen_legacy.sh failed"; }
sql="CREATE SCHEMA vw; CREATE SCHEMA part;"
for t in $TABLES; do
    sql="$sql CREATE VIEW vw.$t AS SELECT * FROM tbl.$t;"
    case $t in
        ads | analytics_snapshots)
            sql="$sql CREATE TABLE part.$t (LIKE tbl.$t) PARTITION BY HASH (id);"
            for i in 0 1 2 3; do
                sql="$sql CREATE TABLE part.${t}_$i PARTITION OF part.$t FOR VALUES WITH (MODULUS 4, REMAINDER $i);"
            done
            sql="$sql INSERT INTO part.$t SELECT * FROM tbl.$t;"
            ;;
        *) sql="$sql CREATE TABLE part.$t AS SELECT * FROM tbl.$t;" ;;
    esac
done
q "$sql"
q "VACUUM (FREEZE, ANALYZE)"
rows=$(q "SELECT $(for t in $TABLES; do printf "(SELECT count(*) FROM tbl.%s) + " "$t"; done) 0")
truncate="TRUNCATE $(for t in $TABLES; do printf "lane_google.%s, " "$t"; done) lane_google.legacy_quarantine"

declare -A best
for round in 1 2; do
    for v in tbl vw part; do
        q "$truncate"
        t0=$(date +%s.%N)
        got=$(q "SELECT sum(rows_converted) FROM lane_google.convert_legacy('$v')" 2>"$dir/notices.log") ||
            { cat "$dir/notices.log"; die "convert_legacy('$v') failed"; }
        s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
        [ "$got" = "$rows" ] || die "convert_legacy('$v') converted $got rows, not $rows"
        if [ -z "${best[$v]:-}" ] || awk -v a="$s" -v b="${best[$v]}" 'BEGIN { exit !(a < b) }'; then
            best[$v]=$s
        fi
    done
done

echo
echo "convert_legacy() by kind of source at scale $SCALE: $rows rows$([ "${LG_SMOKE:-0}" = 1 ] && echo ', SMOKE scale')"
echo "($(q 'SELECT version()' | cut -d' ' -f1-2), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
printf '%-58s %10s %10s\n' "source (best of 2)" seconds rows/s
printf '%-58s %10s %10s\n' "$(printf '%.0s-' {1..58})" ---------- ----------
for v in tbl vw part; do
    case $v in
        tbl) label="tbl: plain tables, heap scans" ;;
        vw) label="vw: views over them, all through the executor" ;;
        part) label="part: ads, analytics_snapshots partitioned" ;;
    esac
    printf '%-58s %10s %10.0f\n' "$label" "${best[$v]}" "$(awk -v r="$rows" -v s="${best[$v]}" 'BEGIN { print (s > 0 ? r / s : 0) }')"
done
echo
awk -v t="${best[tbl]}" -v v="${best[vw]}" -v p="${best[part]}" \
    'BEGIN { if (t > 0) printf "vw/tbl = %.2f\npart/tbl = %.2f\n", v / t, p / t }'
