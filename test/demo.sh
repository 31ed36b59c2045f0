#!/usr/bin/env bash
# test/demo.sh: the README's main command.  On a fresh machine, as root:
#
#   bash test/demo.sh [--scale S | --full] [--no-build] [--keep]
#
# installs what is missing, builds and installs the extension, starts a
# throwaway PostgreSQL cluster, and shows the two conversions end to end:
#
#  1. in place: CREATE EXTENSION lane_google VERSION '1.0', legacy rows from
#     test/gen_legacy.sh (scale 0.05 by default, about 200,000 rows; --full is
#     scale 1, about 4 million), validate_fk_integrity(), ALTER EXTENSION
#     lane_google UPDATE (1.0 -> 2.1, its NOTICE progress shown), validation
#     again, and a few old ids looked up with legacy_uuid() and legacy_id_of();
#  2. from the application's own tables: the mixed-key legacy layout in a
#     schema legacy_app of a second database, converted by
#     convert_legacy('legacy_app') into the extension's tables.
#
# Ends with a report (rows before and after per table, seconds of the update,
# validation results) and "demo: N passed, N failed"; exits non-zero if any
# check failed.  --no-build uses the extension as installed; --keep leaves the
# cluster running (its directory is printed) for a look around.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

scale=0.05
build=1
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) scale=${2:?}; shift 2 ;;
        --full) scale=1; shift ;;
        --no-build) build=0; shift ;;
        --keep) keep=1; shift ;;
        -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "demo.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

TABLES="users accounts account_users campaigns ad_groups ads analytics_snapshots approval_requests budget_alerts conversations conversation_messages"
passed=0
failed=0
failures=()
check() { # check DESCRIPTION CONDITION-EXIT-CODE
    if [ "$2" -eq 0 ]; then
        passed=$((passed + 1)); echo "   ok - $1"
    else
        failed=$((failed + 1)); failures+=("$1"); echo "   FAILED - $1"
    fi
}
step() { printf '\n=== %s\n' "$*"; }

# --- 0. Install, build, start a cluster --------------------------------------------
if [ $build -eq 1 ]; then
    step "Installing what is missing and building lane_google"
    lg_install_deps || { echo "demo: cannot install the dependencies"; exit 1; }
    lg_build_install || { echo "demo: the build failed"; exit 1; }
fi
lg_find_pg_config
demo_dir=$(mktemp -d /tmp/lane_google_demo.XXXXXX)
[ "$(id -u)" -eq 0 ] && chown "$LG_USER" "$demo_dir"
step "Starting a throwaway PostgreSQL cluster in $demo_dir"
lg_cluster_start "$demo_dir/cluster" || { echo "demo: the cluster did not start"; rm -rf "$demo_dir"; exit 1; }
if [ $keep -eq 1 ]; then
    trap - EXIT
else
    trap 'lg_cluster_stop; rm -rf "$demo_dir"' EXIT
fi
PSQL="$LG_BINDIR/psql"
psql_q() { "$PSQL" -X -v ON_ERROR_STOP=1 -q "$@"; }  # quiet, for values
psql_v() { "$PSQL" -X -v ON_ERROR_STOP=1 "$@"; }     # shown to the reader
"$PSQL" -X -At -c "SELECT version()"

counts() { # counts DB SCHEMA: "table rows" lines
    local db=$1 sch=$2 sql="" t
    for t in $TABLES; do sql="$sql SELECT '$t', count(*) FROM $sch.$t UNION ALL"; done
    psql_q -d "$db" -At -F ' ' -c "${sql% UNION ALL}"
}

# --- 1. In place: 1.0 -> 2.1 -------------------------------------------------------------
DB=lane_demo
step "1.0: CREATE EXTENSION lane_google VERSION '1.0' in database $DB"
psql_q -c "CREATE DATABASE $DB" && psql_v -d $DB -c "CREATE EXTENSION lane_google VERSION '1.0'"
check "CREATE EXTENSION lane_google VERSION '1.0'" $?

step "Generating legacy data at scale $scale (test/gen_legacy.sh)"
bash "$LG_ROOT/test/gen_legacy.sh" --scale "$scale" --db $DB
check "legacy data generated" $?

declare -A before after
while read -r t n; do before[$t]=$n; done < <(counts $DB lane_google)
# a few campaigns to follow through the conversion: their ids and their ad groups
sample_ids=$(psql_q -d $DB -At -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM (
    (SELECT id FROM lane_google.campaigns ORDER BY id LIMIT 2)
    UNION ALL (SELECT id FROM lane_google.campaigns ORDER BY id OFFSET (SELECT count(*) / 2 FROM lane_google.campaigns) LIMIT 1)
    UNION ALL (SELECT max(id) FROM lane_google.campaigns)) s")
groups_before=$(psql_q -d $DB -At -c "SELECT string_agg(c.id || ':' || (SELECT count(*) FROM lane_google.ad_groups g WHERE g.campaign_id = c.id), ',' ORDER BY c.id)
    FROM lane_google.campaigns c WHERE c.id IN ($sample_ids)")

validate() { # validate DB: shows the problems, returns their number in $problems
    psql_v -d "$1" -c "SELECT * FROM lane_google.validate_fk_integrity()"
    local rc=$?
    problems=$(psql_q -d "$1" -At -c "SELECT count(*) FROM lane_google.validate_fk_integrity()" 2>/dev/null)
    [ $rc -eq 0 ] && [ -n "$problems" ] || problems="(error)"
}
step "SELECT * FROM lane_google.validate_fk_integrity()   -- before the update (no rows = sound)"
validate $DB
validate_before=$problems
[ "$validate_before" = 0 ]
check "validate_fk_integrity() before the update: no problems (got: $validate_before)" $?

step "ALTER EXTENSION lane_google UPDATE   -- 1.0 -> 2.1 (the default), every row converted in place"
t0=$(date +%s.%N)
psql_v -d $DB -c "ALTER EXTENSION lane_google UPDATE"
update_rc=$?
t1=$(date +%s.%N)
update_seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
check "ALTER EXTENSION lane_google UPDATE ($update_seconds s)" $update_rc
version=$(psql_q -d $DB -At -c "SELECT extversion FROM pg_extension WHERE extname = 'lane_google'")
[ "$version" = 2.1 ]
check "extension now at version 2.1 (got: $version)" $?

while read -r t n; do after[$t]=$n; done < <(counts $DB lane_google)
all_equal=0
for t in $TABLES; do [ "${before[$t]:-x}" = "${after[$t]:-y}" ] || all_equal=1; done
check "row counts equal before and after, in all 11 tables" $all_equal

step "SELECT * FROM lane_google.validate_fk_integrity()   -- after the update"
validate $DB
validate_after=$problems
[ "$validate_after" = 0 ]
check "validate_fk_integrity() after the update: no problems (got: $validate_after)" $?

step "Old campaign ids, looked up with legacy_uuid() and legacy_id_of()"
psql_v -d $DB -c "
SELECT old.id AS old_id,
       lane_google.legacy_uuid('campaigns', old.id) AS new_id,
       c.legacy_id,
       lane_google.legacy_id_of('campaigns', c.id) AS legacy_id_of,
       (SELECT count(*) FROM lane_google.ad_groups g WHERE g.campaign_id = c.id) AS ad_groups,
       c.name
FROM unnest('{$sample_ids}'::bigint[]) AS old(id)
LEFT JOIN lane_google.campaigns c ON c.id = lane_google.legacy_uuid('campaigns', old.id)
ORDER BY old.id"
lookups=$(psql_q -d $DB -At -c "
SELECT count(*) FILTER (WHERE c.legacy_id = old.id AND lane_google.legacy_id_of('campaigns', c.id) = old.id)
       || '/' || count(*)
FROM unnest('{$sample_ids}'::bigint[]) AS old(id)
LEFT JOIN lane_google.campaigns c ON c.id = lane_google.legacy_uuid('campaigns', old.id)" 2>&1)
[[ "$lookups" =~ ^[1-9][0-9]*/[0-9]+$ ]] && [ "${lookups%/*}" = "${lookups#*/}" ]
check "legacy_uuid('campaigns', id) finds the row whose legacy_id is id, legacy_id_of gives id back ($lookups)" $?
groups_after=$(psql_q -d $DB -At -c "SELECT string_agg(c.legacy_id || ':' || (SELECT count(*) FROM lane_google.ad_groups g WHERE g.campaign_id = c.id), ',' ORDER BY c.legacy_id)
    FROM lane_google.campaigns c WHERE c.legacy_id IN ($sample_ids)" 2>&1)
[ "$groups_after" = "$groups_before" ]
check "those campaigns keep their ad groups (id:count before $groups_before, after $groups_after)" $?

# --- 2. From the application's own tables: convert_legacy() --------------------------------
DB2=lane_app
step "2.0 beside the application's own legacy tables: database $DB2, schema legacy_app (mixed key layout)"
psql_q -c "CREATE DATABASE $DB2" && psql_v -d $DB2 -c "CREATE EXTENSION lane_google"
check "CREATE EXTENSION lane_google (2.1) in $DB2" $?
bash "$LG_ROOT/test/gen_legacy.sh" --scale "$scale" --db $DB2 --target app --schema legacy_app --layout mixed
check "legacy_app tables generated (mixed layout)" $?
declare -A app_rows converted
while read -r t n; do app_rows[$t]=$n; done < <(counts $DB2 legacy_app)

step "SELECT * FROM lane_google.convert_legacy('legacy_app')"
# (the report is kept in a table of the demo's to be checked below)
psql_v -d $DB2 -v QUIET=1 \
    -c "CREATE TABLE public.convert_report AS SELECT * FROM lane_google.convert_legacy('legacy_app')" \
    -c "SELECT * FROM public.convert_report"
check "convert_legacy('legacy_app')" $?
report=$(psql_q -d $DB2 -At -c "SELECT count(*) FILTER (WHERE rows_converted = rows_read AND rows_quarantined = 0) || '/' || count(*)
    FROM public.convert_report" 2>&1)
[ "$report" = 11/11 ]
check "its report: 11 tables, each converted whole, nothing quarantined ($report)" $?
convert_seconds=$(psql_q -d $DB2 -At -c "SELECT round(sum(seconds)::numeric, 1) FROM public.convert_report" 2>/dev/null)
while read -r t n; do converted[$t]=$n; done < <(counts $DB2 lane_google 2>/dev/null)
all_equal=0
for t in $TABLES; do [ "${app_rows[$t]:-x}" = "${converted[$t]:-y}" ] || all_equal=1; done
check "every legacy_app row is in the extension's tables" $all_equal
step "SELECT * FROM lane_google.validate_fk_integrity()   -- in $DB2, after convert_legacy"
validate $DB2
validate_app=$problems
[ "$validate_app" = 0 ]
check "validate_fk_integrity() after convert_legacy: no problems (got: $validate_app)" $?

# --- Report ----------------------------------------------------------------------------
step "Report (scale $scale)"
printf '%-22s %12s %12s %6s %12s %12s %6s\n' "" "1.0 rows" "2.1 rows" equal "legacy_app" converted equal
for t in $TABLES; do
    e1=no; [ "${before[$t]:-x}" = "${after[$t]:-y}" ] && e1=yes
    e2=no; [ "${app_rows[$t]:-x}" = "${converted[$t]:-y}" ] && e2=yes
    printf '%-22s %12s %12s %6s %12s %12s %6s\n' "$t" "${before[$t]:--}" "${after[$t]:--}" $e1 \
        "${app_rows[$t]:--}" "${converted[$t]:--}" $e2
done
echo
echo "ALTER EXTENSION lane_google UPDATE (1.0 -> 2.1): $update_seconds s"
echo "convert_legacy('legacy_app'): ${convert_seconds:--} s (sum of its per-table seconds)"
echo "validate_fk_integrity(): before the update $validate_before problems, after $validate_after, after convert_legacy $validate_app"
if [ $keep -eq 1 ]; then
    echo "cluster left running: PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=postgres (databases $DB, $DB2);"
    echo "stop it with: runuser -u $LG_USER -- $LG_BINDIR/pg_ctl -D $demo_dir/cluster/data stop"
fi
for f in "${failures[@]}"; do echo "failed: $f"; done
echo "demo: $passed passed, $failed failed"
[ $failed -eq 0 ]
