#!/usr/bin/env bash
# test/bench_tenant.sh: the update from 2.2 to 3.0 (the tenant-keyed layout,
# in place) against what a DBA would write by hand for the same layout.
#
# Data: test/gen_legacy.sh --scale S into lane_google 1.0, updated to 2.2,
# VACUUM FREEZE ANALYZE (S = LG_SCALE, default 1: about 4.1M rows, 3.9M of
# them in the six child tables that gain a tenant key; LG_SMOKE=1: S = 0.01,
# one run each, correctness only).  Each run starts from its own copy
# (CREATE DATABASE ... TEMPLATE), alternating, LG_RUNS times (default 3):
#   ext   ALTER EXTENSION lane_google UPDATE TO '3.0': the tenant keys filled
#         by one rewrite per table (src/tenant_fill.c), then the keys
#   sql   by hand, in one transaction: the same statements as the update
#         script (its DDL, taken from lane_google--2.2--3.0.sql so that both
#         build the same layout), the fill written as a DBA writes it:
#         UPDATE child SET account_id = parent.account_id FROM parent, with
#         session_replication_role = replica (no trigger: the best case)
# Prints the best time of each, the ratio ext/sql, and checks in every run
# that each child row's tenant key is its parent's and no row was lost.
# Exits non-zero on a wrong answer, or (full runs) a ratio above
# LG_MAX_RATIO (0.8).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

MAX_RATIO=${LG_MAX_RATIO:-0.8}
lg_bench_start bench_tenant 3

die() { echo "bench_tenant: $*" >&2; exit 1; }
q() { lg_psql -X -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

lg_log "generating legacy data at scale $S, updating it to 2.2"
q postgres "CREATE DATABASE legacy"
q legacy "CREATE EXTENSION lane_google VERSION '1.0'"
lg_as_user env PGDATABASE=legacy bash "$LG_ROOT/test/gen_legacy.sh" --scale "$S" \
    --target extension >"$dir/gen.log" 2>&1 || { cat "$dir/gen.log"; die "gen_legacy.sh failed"; }
q legacy "ALTER EXTENSION lane_google UPDATE TO '2.2'" 2>"$dir/update22.log"
q legacy "VACUUM FREEZE ANALYZE"
rows=$(q legacy "SELECT sum(n_live_tup) FROM pg_stat_user_tables WHERE schemaname = 'lane_google'")

# The by-hand variant: the update script as plain SQL, its fill by UPDATE
script="$dir/by_hand.sql"
{
    echo "BEGIN;"
    sed -e '/^\\echo/d' -e 's/@extschema@/lane_google/g' -e "s|MODULE_PATHNAME|\$libdir/lane_google|g" \
        -e "s/'ALTER TABLE lane_google.%1\$I ALTER COLUMN %2\$I TYPE uuid'/'UPDATE lane_google.%1\$I AS c SET %2\$I = p.%2\$I FROM lane_google.%5\$I AS p'/" \
        -e "s/' USING lane_google._lg_tenant_of(%4\$s::pg_catalog.oid, %2\$L, %3\$I)',/' WHERE p.id OPERATOR(pg_catalog.=) c.%3\$I',/" \
        -e "s/c.table_name, c.key_column, c.parent_column,\$/c.table_name, c.key_column, c.parent_column, NULL, c.parent,/" \
        "$LG_ROOT/lane_google--2.2--3.0.sql" |
        sed -e "s/^DO \$fill\$/SET LOCAL session_replication_role = replica;\nDO \$fill\$/"
    echo "COMMIT;"
} >"$script"
grep -q "UPDATE lane_google.%1\$I AS c SET" "$script" || die "the by-hand fill was not made from the update script"
grep -q "_lg_tenant_of(%4" "$script" && die "the by-hand script still fills by rewrite"
chmod a+r "$script"

# Every child row's tenant key is its parent's; nothing lost
check() {
    local db=$1 got
    got=$(q "$db" "
SELECT (SELECT count(*) FROM lane_google.ad_groups x JOIN lane_google.campaigns p ON p.id = x.campaign_id AND p.account_id = x.account_id)
     + (SELECT count(*) FROM lane_google.ads x JOIN lane_google.ad_groups p ON p.id = x.ad_group_id AND p.account_id = x.account_id)
     + (SELECT count(*) FROM lane_google.analytics_snapshots x JOIN lane_google.campaigns p ON p.id = x.campaign_id AND p.account_id = x.account_id)
     + (SELECT count(*) FROM lane_google.approval_requests x JOIN lane_google.campaigns p ON p.id = x.campaign_id AND p.account_id = x.account_id)
     + (SELECT count(*) FROM lane_google.budget_alerts x JOIN lane_google.campaigns p ON p.id = x.campaign_id AND p.account_id = x.account_id)
     + (SELECT count(*) FROM lane_google.conversation_messages x JOIN lane_google.conversations p ON p.id = x.conversation_id AND p.user_id = x.user_id)
     || ' ' || (SELECT count(*) FROM lane_google.ad_groups) + (SELECT count(*) FROM lane_google.ads)
     + (SELECT count(*) FROM lane_google.analytics_snapshots) + (SELECT count(*) FROM lane_google.approval_requests)
     + (SELECT count(*) FROM lane_google.budget_alerts) + (SELECT count(*) FROM lane_google.conversation_messages)")
    [ "${got% *}" = "${got#* }" ] && [ "${got#* }" = "$want" ] ||
        die "$db: $got child rows with their parent's tenant key / child rows, want $want"
}
want=$(q legacy "SELECT (SELECT count(*) FROM lane_google.ad_groups) + (SELECT count(*) FROM lane_google.ads)
     + (SELECT count(*) FROM lane_google.analytics_snapshots) + (SELECT count(*) FROM lane_google.approval_requests)
     + (SELECT count(*) FROM lane_google.budget_alerts) + (SELECT count(*) FROM lane_google.conversation_messages)")

best_ext=""
best_sql=""
for r in $(seq 1 "$RUNS"); do
    for v in ext sql; do
        db="${v}_$r"
        q postgres "CREATE DATABASE $db TEMPLATE legacy"
        q "$db" "CHECKPOINT"
        t0=$(date +%s.%N)
        if [ $v = ext ]; then
            q "$db" "SET client_min_messages = warning; ALTER EXTENSION lane_google UPDATE TO '3.0'"
        else
            lg_psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$script" >/dev/null
        fi
        t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
        check "$db"
        lg_log "run $r: $v $t s"
        if [ $v = ext ]; then
            best_ext=$(awk -v a="$t" -v b="${best_ext:-$t}" 'BEGIN { print (a < b ? a : b) }')
        else
            best_sql=$(awk -v a="$t" -v b="${best_sql:-$t}" 'BEGIN { print (a < b ? a : b) }')
        fi
        q postgres "DROP DATABASE $db"
    done
done

ratio=$(awk -v a="$best_ext" -v b="$best_sql" 'BEGIN { printf "%.2f", a / b }')
echo "scale $S: $rows rows at 2.2, $want in the six child tables; best of $RUNS"
echo "ext (ALTER EXTENSION UPDATE TO '3.0')      $best_ext s"
echo "sql (the same DDL, fill by UPDATE ... FROM) $best_sql s"
echo "ratio ext/sql $ratio"
echo "every child row's tenant key is its parent's, in every run"
if [ "${LG_SMOKE:-0}" != 1 ]; then
    lg_verdict "ext <= $MAX_RATIO x sql" "$ratio" "$MAX_RATIO" "<="
    awk -v r="$ratio" -v m="$MAX_RATIO" 'BEGIN { exit !(r <= m) }'
fi
