#!/usr/bin/env bash
# test/bench_validate.sh: validate_fk_integrity() against what a DBA would do
# without it: re-add every foreign key NOT VALID and run ALTER TABLE ...
# VALIDATE CONSTRAINT on each (PostgreSQL's own check), times summed.
#
# Data: the 2.0 schema at scale S (LG_SCALE, default 1: about 4M rows; users
# 10k, accounts 2k, account_users 20k, campaigns 100k, ad_groups 300k, ads 1M,
# analytics_snapshots 2M, approval_requests 50k, budget_alerts 50k,
# conversations 50k, conversation_messages 500k).  LG_SMOKE=1: S = 0.01, one
# run each, correctness only.
#
# Prints both times (best of LG_RUNS runs of each, alternating; warm cache), the ratio, and the
# backend's anonymous memory during validate_fk_integrity() against
# lane_google.max_memory.  Then plants orphans and checks that every one is
# counted.  Exits non-zero on a wrong answer, or (full runs) a ratio below
# LG_MIN_RATIO (1.5).
#
# LG_BENCH_BASELINE_SO=path/to/lane_google.so: also times validate_fk_integrity()
# with that build of the module (e.g. the previous commit's), swapped in for
# its runs only, alternating with the others: the regression check.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ "${LG_SMOKE:-0}" = 1 ]; then
    S=${LG_SCALE:-0.01}
    RUNS=${LG_RUNS:-1}
else
    S=${LG_SCALE:-1}
    RUNS=${LG_RUNS:-5}
fi
MIN_RATIO=${LG_MIN_RATIO:-1.5}

lg_find_pg_config
[ "${LG_NO_BUILD:-0}" = 1 ] || lg_build_install
lg_scratch_cluster bench_validate

n() { awk -v s="$S" -v b="$1" 'BEGIN { v = int(s * b + 0.5); print (v < 1 ? 1 : v) }'; }

lg_log "generating the 2.0 schema at scale $S"
t0=$(date +%s)
lg_psql -v users="$(n 10000)" -v accounts="$(n 2000)" -v account_users="$(n 20000)" \
    -v campaigns="$(n 100000)" -v ad_groups="$(n 300000)" -v ads="$(n 1000000)" \
    -v snapshots="$(n 2000000)" -v approvals="$(n 50000)" -v alerts="$(n 50000)" \
    -v conversations="$(n 50000)" -v messages="$(n 500000)" <<'SQL'
CREATE EXTENSION lane_google;
SET search_path = lane_google, public;
-- the keys go in with the constraints off, as a bulk load would
CREATE TABLE fk_defs AS
    SELECT conname, conrelid::regclass AS tab, pg_get_constraintdef(oid) AS def
    FROM pg_constraint
    WHERE contype = 'f' AND connamespace = 'lane_google'::regnamespace;
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM fk_defs LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tab, r.conname);
    END LOOP;
END $$;

-- parents are legacy_uuid('table', 1..n): children compute their parent's key
INSERT INTO users (id, email, username, password_hash, salt, first_name, last_name,
                   role, status, created_at)
    SELECT legacy_uuid('users', g), 'user' || g || '@example.com', 'user' || g,
           md5(g::text), left(md5((g + 1)::text), 16), 'First' || g, 'Last' || g,
           (ARRAY['admin','manager','analyst','viewer'])[1 + g % 4]::user_role,
           (ARRAY['active','inactive','suspended','pending'])[1 + g % 4]::user_status,
           timestamptz '2025-01-01' + g * interval '1 minute'
    FROM generate_series(1, :users) g;
INSERT INTO accounts (id, name, google_customer_id, monthly_budget_limit)
    SELECT legacy_uuid('accounts', g), 'Account ' || g, 'cust-' || g, 1000 + g % 5000
    FROM generate_series(1, :accounts) g;
INSERT INTO account_users (id, account_id, user_id, invited_by)
    SELECT legacy_uuid('account_users', g + 1),
           legacy_uuid('accounts', 1 + (g / :users + g) % :accounts),
           legacy_uuid('users', 1 + g % :users),
           CASE WHEN g % 2 = 0 THEN legacy_uuid('users', 1 + (g::bigint * 7) % :users) END
    FROM generate_series(0, :account_users - 1) g;
INSERT INTO campaigns (id, account_id, created_by_id, name, customer_id,
                       budget_amount, status)
    SELECT legacy_uuid('campaigns', g), legacy_uuid('accounts', 1 + g % :accounts),
           CASE WHEN g % 10 <> 0 THEN legacy_uuid('users', 1 + (g::bigint * 13) % :users) END,
           'Campaign ' || g, 'cust-' || (1 + g % :accounts), 100 + g % 900,
           (ARRAY['draft','approved','active','paused','cancelled'])[1 + g % 5]::campaign_status
    FROM generate_series(1, :campaigns) g;
INSERT INTO ad_groups (id, campaign_id, name, cpc_bid)
    SELECT legacy_uuid('ad_groups', g), legacy_uuid('campaigns', 1 + (g::bigint * 7919) % :campaigns),
           'Ad group ' || g, (g % 300) / 100.0
    FROM generate_series(1, :ad_groups) g;
INSERT INTO ads (ad_group_id, headlines, descriptions, final_url)
    SELECT legacy_uuid('ad_groups', 1 + (g::bigint * 104729) % :ad_groups),
           jsonb_build_array('Headline ' || g, 'Buy now'), jsonb_build_array('Description ' || g),
           'https://example.com/p/' || g
    FROM generate_series(1, :ads) g;
INSERT INTO analytics_snapshots (campaign_id, snapshot_date, impressions, clicks, cost)
    SELECT legacy_uuid('campaigns', 1 + g % :campaigns), date '2025-01-01' + g / :campaigns,
           g % 10000, g % 300, (g % 5000) / 100.0
    FROM generate_series(0, :snapshots - 1) g;
INSERT INTO approval_requests (campaign_id, requester_id, approved_by, request_type, title)
    SELECT legacy_uuid('campaigns', 1 + (g::bigint * 31) % :campaigns),
           legacy_uuid('users', 1 + g % :users),
           CASE WHEN g % 2 = 0 THEN legacy_uuid('users', 1 + (g::bigint * 3) % :users) END,
           'budget_change', 'Request ' || g
    FROM generate_series(1, :approvals) g;
INSERT INTO budget_alerts (campaign_id, alert_type, message, current_spend, budget_limit,
                           projected_spend)
    SELECT legacy_uuid('campaigns', 1 + (g::bigint * 17) % :campaigns),
           (ARRAY['overspending','underspending','exhausted','at_risk'])[1 + g % 4]::alert_type,
           'Alert ' || g, g % 1000, 1000, g % 1200
    FROM generate_series(1, :alerts) g;
INSERT INTO conversations (id, user_id, title)
    SELECT legacy_uuid('conversations', g), legacy_uuid('users', 1 + g % :users), 'Chat ' || g
    FROM generate_series(1, :conversations) g;
INSERT INTO conversation_messages (conversation_id, role, content)
    SELECT legacy_uuid('conversations', 1 + (g::bigint * 101) % :conversations),
           (ARRAY['user','assistant','system'])[1 + g % 3]::message_role,
           'Message number ' || g || ' of the conversation'
    FROM generate_series(1, :messages) g;

DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM fk_defs LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s NOT VALID', r.tab, r.conname, r.def);
    END LOOP;
END $$;
SQL
lg_psql -c "VACUUM ANALYZE" >/dev/null
rows=$(lg_psql -At -c "SELECT sum(n_live_tup) FROM pg_stat_user_tables WHERE schemaname = 'lane_google'")
lg_log "loaded $rows rows in $(($(date +%s) - t0)) s"

# warm the cache: read every table once
lg_psql -At -c "SELECT count(*) FROM lane_google.ads" -c "SELECT count(*) FROM lane_google.analytics_snapshots" \
    -c "SELECT count(*) FROM lane_google.conversation_messages" -c "SELECT count(*) FROM lane_google.ad_groups" \
    -c "SELECT count(*) FROM lane_google.campaigns" >/dev/null

pg_best=""
lg_best=""
peak_kb=0
base_kb=0
budget_kb=$(lg_psql -At -c "LOAD 'lane_google'" -c "SELECT setting FROM pg_settings WHERE name = 'lane_google.max_memory'")

# PostgreSQL's own check: every constraint re-added NOT VALID, then validated;
# only the VALIDATE CONSTRAINT statements are timed
pg_run() {
    t=$(lg_psql -At <<'SQL' | tail -n 1
SET search_path = lane_google, public;
CREATE TEMP TABLE timing (seconds double precision);
DO $$
DECLARE
    r record;
    t0 timestamptz;
    total double precision := 0;
BEGIN
    FOR r IN SELECT * FROM fk_defs LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tab, r.conname);
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s NOT VALID', r.tab, r.conname, r.def);
    END LOOP;
    FOR r IN SELECT * FROM fk_defs LOOP
        t0 := clock_timestamp();
        EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT %I', r.tab, r.conname);
        total := total + extract(epoch FROM clock_timestamp() - t0);
    END LOOP;
    INSERT INTO timing VALUES (total);
END $$;
SELECT round(seconds::numeric, 3) FROM timing;
SQL
)
    lg_log "ALTER TABLE ... VALIDATE CONSTRAINT x14, run $run: $t s"
    pg_best=$(awk -v a="$t" -v b="$pg_best" 'BEGIN { print (b == "" || a < b) ? a : b }')
}

lg_run() {
    pidfile="$dir/backend.pid"
    rm -f "$pidfile" "$dir/peak"
    (
        while [ ! -s "$pidfile" ]; do sleep 0.01; done
        pid=$(cat "$pidfile")
        base=$(awk '/^RssAnon/ { print $2 }' /proc/"$pid"/status)
        peak=$base
        while [ -e "/proc/$pid/status" ] && [ -s "$pidfile" ]; do
            v=$(awk '/^RssAnon/ { print $2 }' /proc/"$pid"/status 2>/dev/null || echo 0)
            [ -n "$v" ] && [ "$v" -gt "$peak" ] && peak=$v
            sleep 0.02
        done
        echo "$base $peak" >"$dir/peak"
    ) &
    poller=$!
    out=$(lg_psql -At -v pidfile="$pidfile" <<'SQL' 2>&1
SELECT pg_backend_pid() AS pid \gset
\o :pidfile
SELECT :pid;
\o
SELECT pg_sleep(0.2);
SET client_min_messages = debug2;
SELECT clock_timestamp() AS t0 \gset
SELECT 'problems=' || count(*) FROM lane_google.validate_fk_integrity();
SELECT 'seconds=' || round(extract(epoch FROM clock_timestamp() - :'t0')::numeric, 3);
SQL
)
    : >"$pidfile"
    wait "$poller"
    t=$(echo "$out" | sed -n 's/^seconds=//p')
    nproblems=$(echo "$out" | sed -n 's/^problems=//p')
    [ -n "$t" ] || { echo "$out"; exit 1; }
    ks=$(echo "$out" | grep -o 'key sets peaked at [0-9]* kB' | grep -o '[0-9]*' | head -n 1)
    read -r b p <"$dir/peak"
    lg_log "validate_fk_integrity(), run $run: $t s ($nproblems problems, key sets $ks kB, backend anon memory $b -> $p kB)"
    if [ "$nproblems" != 0 ]; then
        echo "FAIL: a clean schema reported $nproblems problems"
        exit 1
    fi
    lg_best=$(awk -v a="$t" -v b="$lg_best" 'BEGIN { print (b == "" || a < b) ? a : b }')
    [ "$p" -gt "$peak_kb" ] && { peak_kb=$p; base_kb=$b; }
    keyset_kb=$ks
}

# the baseline build's validate_fk_integrity(), in a backend of its own
base_best=""
so="$($PG_CONFIG --pkglibdir)/lane_google.so"
base_run() {
    cp "$so" "$dir/current.so"
    trap 'cp "$dir/current.so" "$so.cur" && mv -f "$so.cur" "$so"; lg_cluster_stop; rm -rf "$dir"' EXIT
    cp "$LG_BENCH_BASELINE_SO" "$so.base" && mv -f "$so.base" "$so"
    t=$(lg_psql -At <<'SQL' | sed -n 's/^seconds=//p'
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM lane_google.validate_fk_integrity();
SELECT 'seconds=' || round(extract(epoch FROM clock_timestamp() - :'t0')::numeric, 3);
SQL
)
    cp "$dir/current.so" "$so.cur" && mv -f "$so.cur" "$so"
    trap 'lg_cluster_stop; rm -rf "$dir"' EXIT
    lg_log "validate_fk_integrity(), baseline build, run $run: $t s"
    base_best=$(awk -v a="$t" -v b="$base_best" 'BEGIN { print (b == "" || a < b) ? a : b }')
}

# they alternate, so that a busy machine slows them alike
for run in $(seq 1 "$RUNS"); do
    pg_run
    lg_run
    [ -n "${LG_BENCH_BASELINE_SO:-}" ] && base_run
done

# past the budget: the fallback (sort and merge) at lane_google.max_memory = 1MB
small=$(lg_psql -At <<'SQL' | sed -n 's/^seconds=//p'
SET lane_google.max_memory = '1MB';
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM lane_google.validate_fk_integrity();
SELECT 'seconds=' || round(extract(epoch FROM clock_timestamp() - :'t0')::numeric, 3);
SQL
)

ratio=$(awk -v a="$pg_best" -v b="$lg_best" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
growth=$((peak_kb - base_kb))
echo "scale $S: $rows rows, 14 foreign keys, best of $RUNS, warm cache"
echo "ALTER TABLE ... VALIDATE CONSTRAINT (each, summed): $pg_best s"
echo "validate_fk_integrity():                            $lg_best s"
echo "ratio: ${ratio}x"
if [ -n "$base_best" ]; then
    echo "validate_fk_integrity(), baseline build:             $base_best s (this build / baseline: $(awk -v a="$lg_best" -v b="$base_best" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'))"
fi
echo "validate_fk_integrity() at lane_google.max_memory = 1MB (key sets past the budget): $small s"
echo "memory: key sets peaked at $keyset_kb kB; backend anonymous memory grew by $growth kB; lane_google.max_memory = $budget_kb kB"

# every orphan counted: plant some and compare with the exact numbers
lg_psql -At <<'SQL' >"$dir/orphans"
SET search_path = lane_google, public;
SET session_replication_role = replica;
INSERT INTO ads (ad_group_id) SELECT legacy_uuid('ad_groups', 100000000 + g) FROM generate_series(1, 1234) g;
INSERT INTO ads (ad_group_id) SELECT legacy_uuid('ad_groups', 100000001) FROM generate_series(1, 66) g;
INSERT INTO campaigns (account_id, name, customer_id)
    SELECT legacy_uuid('accounts', 100000000 + g), 'orphan', 'c' FROM generate_series(1, 7) g;
INSERT INTO conversation_messages (conversation_id, role, content)
    SELECT gen_random_uuid(), 'user', 'x' FROM generate_series(1, 500) g;
RESET session_replication_role;
SELECT constraint_name || '=' || rows FROM validate_fk_integrity()
    WHERE problem = 'orphan_rows' ORDER BY 1;
SQL
# the same counts past the budget
lg_psql -At <<'SQL' >"$dir/orphans_small"
SET lane_google.max_memory = '1MB';
SELECT constraint_name || '=' || rows FROM lane_google.validate_fk_integrity()
    WHERE problem = 'orphan_rows' ORDER BY 1;
SQL
expected="ads_ad_group_id_fkey=1300
campaigns_account_id_fkey=7
conversation_messages_conversation_id_fkey=500"
got=$(grep '=' "$dir/orphans")
got_small=$(grep '=' "$dir/orphans_small")
if [ "$got" != "$expected" ] || [ "$got_small" != "$expected" ]; then
    echo "FAIL: orphan counts"
    echo "expected: $expected"
    echo "got:      $got"
    echo "at 1MB:   $got_small"
    exit 1
fi
echo "orphans planted and counted exactly (also at 1MB): $(echo "$got" | tr '\n' ' ')"

if [ "$peak_kb" -gt 0 ] && [ "$growth" -gt $((budget_kb + 16384)) ]; then
    echo "FAIL: backend memory grew by $growth kB, past lane_google.max_memory ($budget_kb kB) and 16 MB of slack"
    exit 1
fi
if [ "${LG_SMOKE:-0}" != 1 ] && awk -v r="$ratio" -v m="$MIN_RATIO" 'BEGIN { exit !(r < m) }'; then
    echo "FAIL: ratio ${ratio}x below ${MIN_RATIO}x"
    exit 1
fi
echo "ok"
