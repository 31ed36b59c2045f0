#!/usr/bin/env bash
# test/bench_uuid.sh: uuid_generate_v7() against what a user would use
# instead, PostgreSQL's own gen_random_uuid() (version 4), on one throwaway
# cluster:
#   1. generation in one backend: count(x) over N values, best of 3
#   2. generation under pgbench, 2 clients, 1000 values per transaction
#   3. INSERT of M rows into a table keyed "id uuid PRIMARY KEY DEFAULT ...":
#      time, and the size of the primary-key index afterwards
# and, its own block at the end, the legacy id -> uuid mapping: legacy_uuid()
# against uuid-ossp's uuid_generate_v5(), N values, per key.
# Prints the figures and the v7/v4 ratios.  Full scale (by hand, after
# make install): N = 10M, M = 5M, pgbench -T 10.  LG_SMOKE=1: N = 100k,
# M = 50k, pgbench -t 20: seconds.  Exits non-zero if a step fails or a
# result is wrong (row counts, key versions); the speed targets are reported,
# not enforced, unless LG_BENCH_STRICT=1.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ "${LG_SMOKE:-0}" = 1 ]; then
    N_GEN=100000
    N_ROWS=50000
    PGBENCH_LIMIT=(-t 20)
    PGBENCH_DESC="-t 20"
else
    N_GEN=${LG_BENCH_VALUES:-10000000}
    N_ROWS=${LG_BENCH_ROWS:-5000000}
    PGBENCH_LIMIT=(-T "${LG_BENCH_SECONDS:-10}")
    PGBENCH_DESC="-T ${LG_BENCH_SECONDS:-10}"
fi

lg_scratch_cluster bench

q() { lg_psql -At -c "$1"; }

q "CREATE EXTENSION lane_google"
# seconds one statement takes, measured inside the server
q "CREATE FUNCTION bench_seconds(query text) RETURNS float8 LANGUAGE plpgsql AS \$\$
   DECLARE t0 timestamptz;
   BEGIN
       t0 := clock_timestamp();
       EXECUTE query;
       RETURN extract(epoch FROM clock_timestamp() - t0);
   END \$\$"

declare -A gen_fn=([v7]="lane_google.uuid_generate_v7()" [v4]="gen_random_uuid()")

# 1. one backend, best of 3
best_of_3() {
    q "SELECT least(bench_seconds(\$q\$$1\$q\$), bench_seconds(\$q\$$1\$q\$),
                    bench_seconds(\$q\$$1\$q\$))"
}
lg_log "generating $N_GEN values in one backend, best of 3"
base=$(best_of_3 "SELECT count(x) FROM (SELECT '00000000-0000-0000-0000-000000000000'::uuid x FROM generate_series(1, $N_GEN)) s")
declare -A gen_s gen_ns
for k in v7 v4; do
    gen_s[$k]=$(best_of_3 "SELECT count(x) FROM (SELECT ${gen_fn[$k]} x FROM generate_series(1, $N_GEN)) s")
    gen_ns[$k]=$(awk -v t="${gen_s[$k]}" -v b="$base" -v n="$N_GEN" 'BEGIN { printf "%.1f", (t - b) * 1e9 / n }')
done

# 2. pgbench, 2 clients
declare -A pgb
for k in v7 v4; do
    lg_log "pgbench -c 2 -j 2 $PGBENCH_DESC: $k"
    script="$dir/pgbench_$k.sql"
    echo "SELECT count(x) FROM (SELECT ${gen_fn[$k]} x FROM generate_series(1, 1000)) s;" >"$script"
    chmod a+r "$script"
    tps=$(lg_as_user "$LG_BINDIR/pgbench" -n -c 2 -j 2 "${PGBENCH_LIMIT[@]}" -f "$script" 2>&1 |
        sed -nE 's/^tps = ([0-9.]+) .*/\1/p' | tail -n 1)
    [ -n "$tps" ] || { echo "pgbench failed for $k" >&2; exit 1; }
    pgb[$k]=$(awk -v t="$tps" 'BEGIN { printf "%.0f", t * 1000 }')
done

# 3. inserts into a uuid-keyed table
declare -A ins_s idx_mb
for k in v4 v7; do
    lg_log "inserting $N_ROWS rows: $k"
    q "CREATE TABLE t_$k (id uuid PRIMARY KEY DEFAULT ${gen_fn[$k]}, payload text NOT NULL)"
    q "CHECKPOINT"
    ins_s[$k]=$(q "SELECT bench_seconds(\$q\$INSERT INTO t_$k (payload)
                   SELECT 'payload ' || i FROM generate_series(1, $N_ROWS) i\$q\$)")
    check=$(q "SELECT count(*) || ' ' || count(*) FILTER (WHERE substr(id::text, 15, 1) = '${k#v}') FROM t_$k")
    [ "$check" = "$N_ROWS $N_ROWS" ] || { echo "t_$k: expected $N_ROWS version ${k#v} rows, got $check" >&2; exit 1; }
    idx_mb[$k]=$(q "SELECT round(pg_relation_size('t_${k}_pkey') / 1048576.0, 1)")
    q "DROP TABLE t_$k"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
row() { printf '%-52s %16s %16s %8s\n' "$@"; }

echo
echo "UUID generation and inserts: uuid_generate_v7() against gen_random_uuid()"
echo "($($LG_BINDIR/postgres --version), $(nproc) cores$([ "${LG_SMOKE:-0}" = 1 ] && echo ', SMOKE scale'))"
echo
row "measure" "v7" "v4" "v7/v4"
row "----------------------------------------------------" "----------------" "----------------" "--------"
row "one backend, $N_GEN values, best of 3 (s)" "${gen_s[v7]}" "${gen_s[v4]}" "$(ratio "${gen_s[v7]}" "${gen_s[v4]}")"
row "  per value, net of generate_series (ns)" "${gen_ns[v7]}" "${gen_ns[v4]}" "$(ratio "${gen_ns[v7]}" "${gen_ns[v4]}")"
row "pgbench -c 2 -j 2 $PGBENCH_DESC, 1000/tx (values/s)" "${pgb[v7]}" "${pgb[v4]}" "$(ratio "${pgb[v7]}" "${pgb[v4]}")"
row "INSERT $N_ROWS rows, uuid primary key (s)" "${ins_s[v7]}" "${ins_s[v4]}" "$(ratio "${ins_s[v7]}" "${ins_s[v4]}")"
row "  rows/s" "$(awk -v s="${ins_s[v7]}" -v n="$N_ROWS" 'BEGIN { printf "%.0f", n / s }')" \
    "$(awk -v s="${ins_s[v4]}" -v n="$N_ROWS" 'BEGIN { printf "%.0f", n / s }')" \
    "$(ratio "${ins_s[v4]}" "${ins_s[v7]}")"
row "primary-key index after the insert (MB)" "${idx_mb[v7]}" "${idx_mb[v4]}" "$(ratio "${idx_mb[v7]}" "${idx_mb[v4]}")"
echo "(times and sizes: v7/v4 below 1 favours v7; values/s and rows/s: above 1 favours v7)"

# the targets: v7 at least as fast to generate, faster to insert, smaller index
echo
lg_verdict "v7 generation in one backend at least as fast as v4" "${gen_s[v7]}" "${gen_s[v4]}" "<="
lg_verdict "v7 generation with 2 clients at least as fast as v4" "${pgb[v7]}" "${pgb[v4]}" ">="
lg_verdict "v7 inserts faster than v4" "${ins_s[v7]}" "${ins_s[v4]}" "<"
lg_verdict "v7 primary-key index smaller than v4's" "${idx_mb[v7]}" "${idx_mb[v4]}" "<"
# --- legacy id -> uuid mapping (legacy_uuid) ---------------------------------
# What the conversion pays per key, against what a user would run instead:
# uuid-ossp's uuid_generate_v5() of the same name.  One backend, N_GEN keys,
# best of 3, per key net of generate_series.  Target: <= 0.3 us per key.
lg_log "mapping $N_GEN legacy ids in one backend, best of 3"
q "CREATE EXTENSION \"uuid-ossp\""
map_base=$(best_of_3 "SELECT count(i) FROM generate_series(1, $N_GEN) i")
map_lg=$(best_of_3 "SELECT count(lane_google.legacy_uuid('users', i)) FROM generate_series(1, $N_GEN) i")
map_ossp=$(best_of_3 "SELECT count(uuid_generate_v5('6ba7b810-9dad-11d1-80b4-00c04fd430c8'::uuid, i::text)) FROM generate_series(1, $N_GEN) i")
check=$(q "SELECT lane_google.legacy_uuid('users', 42) = uuid_generate_v5(uuid_generate_v5(lane_google.legacy_namespace(), 'users'), '42')")
[ "$check" = t ] || { echo "legacy_uuid() disagrees with uuid-ossp's uuid_generate_v5()" >&2; exit 1; }
map_us() { awk -v t="$1" -v b="$map_base" -v n="$N_GEN" 'BEGIN { printf "%.3f", (t - b) * 1e6 / n }'; }
echo
echo "Legacy id -> uuid mapping: legacy_uuid() against uuid-ossp's uuid_generate_v5() (same SHA-1 version 5)"
echo
row "measure" "legacy_uuid" "uuid-ossp v5" "ratio"
row "----------------------------------------------------" "----------------" "----------------" "--------"
row "one backend, $N_GEN keys, best of 3 (s)" "$map_lg" "$map_ossp" "$(ratio "$map_lg" "$map_ossp")"
row "  per key, net of generate_series (us)" "$(map_us "$map_lg")" "$(map_us "$map_ossp")" "$(ratio "$(map_us "$map_lg")" "$(map_us "$map_ossp")")"
echo
lg_verdict "legacy id mapping at most 0.3 us per key" "$(map_us "$map_lg")" 0.3 "<="

if [ "${LG_BENCH_STRICT:-0}" = 1 ] && [ $missed -gt 0 ]; then
    exit 3
fi
exit 0
