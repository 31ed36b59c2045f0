#!/usr/bin/env bash
# test/bench_plan.sh: the cost of the objects around the 11 tables (issue 9).
#
# 1. The plan with LG_OBJECTS dependent objects (default 1000: half views over
#    campaigns, half tables with a foreign key into users): conversion_plan()
#    (which re-creates every view in a rolled-back trial), and an update that
#    refuses because one more view cannot be carried.  Target: the refusal
#    in well under a second (< 1 s).
# 2. The update's extra time per carried foreign-key column, at scale S
#    (LG_SCALE, default 0.1; 1 is about 4M rows): a table of as many rows as
#    ads with LG_FKCOLS (default 4) integer columns referencing the 11 tables,
#    updated 1.1 -> 2.1 with them carried, against the same update without
#    that table plus what a user would do instead (drop the foreign keys,
#    update, ALTER COLUMN ... TYPE uuid USING legacy_uuid(), add the foreign
#    keys back, which PostgreSQL validates).
#
# LG_SMOKE=1: 50 objects, scale 0.001, one run: correctness only.
# LG_PART=plan or LG_PART=fk: only that part (default both).  The load
# average is printed with the figures: the machine may be shared.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ "${LG_SMOKE:-0}" = 1 ]; then
    S=${LG_SCALE:-0.001}
    OBJ=${LG_OBJECTS:-50}
    RUNS=${LG_RUNS:-1}
else
    S=${LG_SCALE:-0.1}
    OBJ=${LG_OBJECTS:-1000}
    RUNS=${LG_RUNS:-3}
fi
K=${LG_FKCOLS:-4}
PART=${LG_PART:-all}
case "$PART" in all | plan | fk) ;; *) echo "LG_PART is all, plan or fk"; exit 2 ;; esac
load0=$(cut -d' ' -f1-3 /proc/loadavg)

lg_find_pg_config
[ "${LG_NO_BUILD:-0}" = 1 ] || lg_build_install
lg_scratch_cluster bench_plan

# seconds of one psql -c run (client side, the whole statement)
timed() {
    local db=$1; shift
    local t0 t1
    t0=$(date +%s.%N)
    lg_psql -d "$db" "$@" >/dev/null 2>&1 || true
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
best() { tr ' ' '\n' | grep -v '^$' | sort -g | head -1; }

# --- 1. the plan with OBJ dependents ------------------------------------------
plan_t=- refuse_t=-
if [ "$PART" != fk ]; then
lg_psql -c "CREATE DATABASE plan"
lg_psql -d plan -v n="$OBJ" <<'SQL'
CREATE EXTENSION lane_google VERSION '1.1';
CREATE SCHEMA app;
SELECT format('CREATE VIEW app.v%s AS SELECT id, name FROM lane_google.campaigns WHERE status = ''draft''', g)
  FROM generate_series(1, :n / 2) g \gexec
SELECT format('CREATE TABLE app.t%s (id serial PRIMARY KEY, user_id integer REFERENCES lane_google.users (id))', g)
  FROM generate_series(1, :n - :n / 2) g \gexec
SQL
lg_psql -d plan -Atc "SELECT count(*) FROM lane_google.conversion_plan() WHERE reason IS NULL" |
    grep -qx "$OBJ" || { echo "conversion_plan() did not list $OBJ carried objects"; exit 1; }
plan_t=""
for _ in $(seq "$RUNS"); do
    plan_t="$plan_t $(timed plan -c "SELECT count(*) FROM lane_google.conversion_plan()")"
done
plan_t=$(echo "$plan_t" | best)
lg_psql -d plan -c "CREATE VIEW app.bad AS SELECT name FROM lane_google.campaigns WHERE id = 1"
out=$(lg_psql -d plan -c "ALTER EXTENSION lane_google UPDATE TO '2.1'" 2>&1 || true)
echo "$out" | grep -q "view app.bad: cannot be re-created" || { echo "the update did not refuse: $out"; exit 1; }
refuse_t=""
for _ in $(seq "$RUNS"); do
    refuse_t="$refuse_t $(timed plan -c "ALTER EXTENSION lane_google UPDATE TO '2.1'")"
done
refuse_t=$(echo "$refuse_t" | best)
fi

# --- 2. the extra time per carried foreign-key column -------------------------
n() { awk -v s="$S" -v b="$1" 'BEGIN { v = int(s * b + 0.5); print (v < 1 ? 1 : v) }'; }
R=$(n 1000000)
carried=- bare=- manual=- per=- manual_per=-
if [ "$PART" != plan ]; then
lg_psql -c "CREATE DATABASE seed"
lg_psql -d seed -c "CREATE EXTENSION lane_google VERSION '1.0'"
lg_as_user env PGDATABASE=seed bash "$LG_ROOT/test/gen_legacy.sh" --scale "$S" \
    --target extension >"$dir/gen.log" 2>&1 || { cat "$dir/gen.log"; exit 1; }
lg_psql -d seed -c "ALTER EXTENSION lane_google UPDATE TO '1.1'"
# the referencing table: R rows, K columns, each referencing one of the 11 tables
lg_psql -d seed -v r="$R" -v k="$K" <<'SQL'
CREATE SCHEMA app;
SELECT format('CREATE TABLE app.events (id bigserial PRIMARY KEY, %s, note text)',
              string_agg(format('c%s integer', g), ', ' ORDER BY g))
  FROM generate_series(1, :k) g \gexec
CREATE TEMP TABLE parents AS
SELECT row_number() OVER () AS n, t FROM unnest(ARRAY['users', 'campaigns', 'ad_groups', 'accounts',
       'conversations', 'ads', 'analytics_snapshots', 'approval_requests', 'budget_alerts',
       'account_users', 'conversation_messages']) t;
SELECT format('INSERT INTO app.events (%s, note) SELECT %s, ''event '' || g FROM generate_series(1, %s) g, %s',
              string_agg(format('c%s', i), ', ' ORDER BY i),
              string_agg(format('p%s.a[1 + g %% cardinality(p%s.a)]', i, i), ', ' ORDER BY i),
              :r,
              string_agg(format('(SELECT array_agg(id) AS a FROM lane_google.%I) p%s', p.t, i), ', ' ORDER BY i))
  FROM generate_series(1, :k) i JOIN parents p ON p.n = (i - 1) % 11 + 1 \gexec
SELECT format('CREATE INDEX ON app.events (c%s)', g) FROM generate_series(1, :k) g \gexec
SELECT format('ALTER TABLE app.events ADD FOREIGN KEY (c%s) REFERENCES lane_google.%I (id)', g, p.t)
  FROM generate_series(1, :k) g JOIN parents p ON p.n = (g - 1) % 11 + 1 \gexec
SQL
lg_psql -d seed -c "VACUUM ANALYZE"
lg_psql -c "CREATE DATABASE bare TEMPLATE seed"
lg_psql -d bare -c "DROP SCHEMA app CASCADE"

carried=""
bare=""
manual=""
for i in $(seq "$RUNS"); do
    lg_psql -c "DROP DATABASE IF EXISTS r1" -c "CREATE DATABASE r1 TEMPLATE seed"
    carried="$carried $(timed r1 -c "ALTER EXTENSION lane_google UPDATE TO '2.1'")"
    lg_psql -d r1 -Atc "SELECT count(*) FROM pg_constraint WHERE conrelid = 'app.events'::regclass AND contype = 'f' AND convalidated" |
        grep -qx "$K" || { echo "the foreign keys were not carried"; exit 1; }
    lg_psql -c "DROP DATABASE IF EXISTS r2" -c "CREATE DATABASE r2 TEMPLATE bare"
    bare="$bare $(timed r2 -c "ALTER EXTENSION lane_google UPDATE TO '2.1'")"
    # what a user would do: keys off, update, convert, keys back (validated)
    lg_psql -c "DROP DATABASE IF EXISTS r3" -c "CREATE DATABASE r3 TEMPLATE seed"
    lg_psql -d r3 -At -v k="$K" >/dev/null <<'SQL'
CREATE TABLE fk AS SELECT conname, pg_get_constraintdef(oid) AS def, (SELECT relname FROM pg_class WHERE oid = confrelid) AS parent,
       (SELECT attname FROM pg_attribute WHERE attrelid = conrelid AND attnum = conkey[1]) AS col
  FROM pg_constraint WHERE conrelid = 'app.events'::regclass AND contype = 'f';
SELECT format('ALTER TABLE app.events DROP CONSTRAINT %I', conname) FROM fk \gexec
SQL
    t0=$(date +%s.%N)
    lg_psql -d r3 -At >/dev/null <<'SQL'
ALTER EXTENSION lane_google UPDATE TO '2.1';
SELECT format('ALTER TABLE app.events %s', string_agg(format('ALTER %I TYPE uuid USING lane_google.legacy_uuid(%L, %I)',
              col, parent, col), ', ')) FROM fk \gexec
SELECT format('ALTER TABLE app.events ADD CONSTRAINT %I %s', conname, def) FROM fk \gexec
SQL
    t1=$(date +%s.%N)
    manual="$manual $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
done
carried=$(echo "$carried" | best)
bare=$(echo "$bare" | best)
manual=$(echo "$manual" | best)
per=$(awk -v c="$carried" -v b="$bare" -v k="$K" 'BEGIN { printf "%.3f", (c - b) / k }')
manual_per=$(awk -v c="$manual" -v b="$bare" -v k="$K" 'BEGIN { printf "%.3f", (c - b) / k }')
fi

echo
echo "=== bench_plan (scale $S, $OBJ dependent objects, $K foreign-key columns over $R rows, best of $RUNS)"
echo "load average (1, 5, 15 min): $load0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end (2 cores)"
echo "conversion_plan() with $OBJ dependents (trial re-creation included): $plan_t s"
echo "update refused in the plan with $OBJ dependents + 1 uncarriable:     $refuse_t s"
echo "update 1.1 -> 2.1 without the referencing table:                   $bare s"
echo "update 1.1 -> 2.1 carrying $K foreign-key columns ($R rows):       $carried s  (+$per s per column)"
echo "by hand: keys off, update, ALTER TYPE, keys back (validated):       $manual s  (+$manual_per s per column)"
if [ "${LG_SMOKE:-0}" != 1 ]; then
    [ "$PART" = fk ] ||
        lg_verdict "refusal in well under a second ($refuse_t s < 1 s)" "$refuse_t" 1 '<'
    [ "$PART" = plan ] ||
        lg_verdict "carried no slower than by hand ($carried s <= $manual s)" "$carried" "$manual" '<='
fi
echo "bench_plan: $missed target(s) missed"
[ "$missed" -eq 0 ]
