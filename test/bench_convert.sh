#!/usr/bin/env bash
# test/bench_convert.sh: the 1.0 -> 2.0 conversion, against what a user would
# do instead, on the same data in the same run.
#
# One throwaway cluster; the legacy data is generated once (test/gen_legacy.sh
# --scale S into lane_google 1.0, then VACUUM FREEZE ANALYZE), and every
# variant starts from its own copy (CREATE DATABASE ... TEMPLATE), so every
# variant converts the same rows:
#   ext    ALTER EXTENSION lane_google UPDATE TO '2.0' (the C engine)
#   b      the best plain-SQL rewrite: CREATE TABLE new AS SELECT with every key
#          mapped as a user without the extension would: uuid-ossp's
#          uuid_generate_v5() under the table's namespace (computed once, a
#          literal in the script: the same v5 mapping), drop the old tables, rename,
#          then NOT NULL, defaults, primary keys, unique and check constraints,
#          indexes, foreign keys and triggers
#   a      the naive in-place SQL: a uuid column filled by gen_random_uuid() in
#          every table, a uuid column per foreign key filled by UPDATE ...
#          FROM the parent, old keys dropped, columns swapped (drop / rename),
#          primary keys, indexes and foreign keys rebuilt
#   c      the copy floor: CREATE TABLE AS SELECT * of every table, no keys
#   base   the same update with another build of the module (a baseline:
#          LG_BENCH_BASELINE_SO=path/to/lane_google.so, e.g. the previous
#          commit's), swapped in for its run only; same SQL scripts
# Each runs in one transaction (as ALTER EXTENSION does) and is timed inside
# the server.  Prints the seconds, the ratios ext/b, ext/a, ext/c, the
# extension's per-table NOTICEs and where its time went (pg_stat_statements,
# nested statements tracked), and the peak memory of the backend that ran the
# update: VmHWM from /proc/<pid>/status read at the end of the session (it
# counts the shared buffers the backend touched) and the peak of RssAnon (its
# private memory) sampled every 0.1 s.
#
#   LG_SCALE=S            data scale (default 1: about 4.1M rows)
#   LG_SMOKE=1            scale 0.01, a smoke run of a few seconds
#   LG_BENCH_VARIANTS     which variants, in order (default "ext b a c", and
#                         "base" after ext when LG_BENCH_BASELINE_SO is set)
#   LG_BENCH_BASELINE_SO  the baseline build of lane_google.so for "base"
#   LG_BENCH_MWM          maintenance_work_mem for every variant (default: the
#                         cluster's, 512MB): index builds sort in it, so it
#                         bounds the backend's memory in the key-building phase
#   LG_BENCH_STRICT=1     exit 3 when a target is missed (default: report only)
# Targets: ext <= 0.45 x b, ext <= 0.3 x a, ext <= 1.3 x the floor (c plus
# b's keys and indexes), backend peak memory < 256 MB and flat in S.  Exits non-zero if a step fails or a variant's row counts are
# wrong.  Run by hand at full scale after make install.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ "${LG_SMOKE:-0}" = 1 ]; then
    SCALE=0.01
else
    SCALE=${LG_SCALE:-1}
fi
if [ -n "${LG_BENCH_BASELINE_SO:-}" ]; then
    [ -f "$LG_BENCH_BASELINE_SO" ] || { echo "no such file: $LG_BENCH_BASELINE_SO" >&2; exit 1; }
    VARIANTS=${LG_BENCH_VARIANTS:-"ext base b a c"}
else
    VARIANTS=${LG_BENCH_VARIANTS:-"ext b a c"}
fi
TABLES="users accounts account_users campaigns ad_groups ads analytics_snapshots approval_requests budget_alerts conversations conversation_messages"

lg_scratch_cluster bench_convert

# pg_stat_statements, nested statements included: where the update's time goes
PGSS=0
if [ -f "$($PG_CONFIG --pkglibdir)/pg_stat_statements.so" ]; then
    cat >>"$dir/cluster/data/postgresql.conf" <<CONF
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
pg_stat_statements.max = 10000
CONF
    lg_as_user "$LG_BINDIR/pg_ctl" -D "$dir/cluster/data" -l "$dir/cluster/server.log" -w restart >/dev/null
    lg_psql -c "CREATE EXTENSION pg_stat_statements"
    PGSS=1
fi

q() { lg_psql -At -d "$1" -c "$2"; }
if [ -n "${LG_BENCH_MWM:-}" ]; then
    lg_psql -c "ALTER SYSTEM SET maintenance_work_mem = '$LG_BENCH_MWM'" -c "SELECT pg_reload_conf()" >/dev/null
fi
die() { echo "bench_convert.sh: $*" >&2; exit 1; }

# --- The legacy data, once -----------------------------------------------------
lg_log "generating the 1.0 data at scale $SCALE"
q postgres "CREATE DATABASE legacy"
q legacy "CREATE EXTENSION lane_google VERSION '1.0'"
q legacy "CREATE EXTENSION \"uuid-ossp\" SCHEMA public"
gen_start=$(date +%s.%N)
lg_as_user env PGDATABASE=legacy bash "$LG_ROOT/test/gen_legacy.sh" --scale "$SCALE" \
    --target extension >"$dir/gen.log" 2>&1 || { cat "$dir/gen.log"; die "gen_legacy.sh failed"; }
q legacy "VACUUM (FREEZE, ANALYZE)"
gen_s=$(awk -v a="$gen_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
counts_sql=$(for t in $TABLES; do printf "SELECT '%s ' || count(*) FROM lane_google.%s\nUNION ALL\n" "$t" "$t"; done | sed '$d')
want_counts=$(q legacy "$counts_sql" | sort)
rows=$(echo "$want_counts" | awk '{ n += $2 } END { print n }')
db_mb=$(q legacy "SELECT round(pg_database_size('legacy') / 1048576.0)")
lg_log "$rows rows, $db_mb MB, in $gen_s s"

# The 1.0 catalog the scripts are written from
CATALOG_CTE="
tabs AS (
    SELECT c.oid, c.relname, array_position(string_to_array('$TABLES', ' '), c.relname::text) AS ord
      FROM pg_class c
     WHERE c.relnamespace = 'lane_google'::regnamespace AND c.relkind = 'r'
       AND c.relname = ANY (string_to_array('$TABLES', ' '))),
fks AS (
    SELECT co.oid, co.conname, co.conrelid, t.relname AS child, t.ord, a.attname AS col,
           a.attnotnull, p.relname AS parent
      FROM pg_constraint co
      JOIN tabs t ON t.oid = co.conrelid
      JOIN pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = co.conkey[1]
      JOIN pg_class p ON p.oid = co.confrelid
     WHERE co.contype = 'f')"

# (b) the best plain-SQL rewrite
script_b() {
    q "$1" "WITH $CATALOG_CTE,
cols AS (
    SELECT t.relname, t.ord, a.attnum, a.attname, a.attnotnull, f.parent,
           pg_get_expr(d.adbin, d.adrelid) AS def
      FROM tabs t
      JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN fks f ON f.conrelid = t.oid AND f.col = a.attname
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum),
stmts AS (
    SELECT 1 AS phase, ord, 0 AS sub,
           format('CREATE TABLE lane_google.%I AS SELECT %s, id::bigint AS legacy_id FROM lane_google.%I;',
                  '_new_' || relname,
                  string_agg(CASE WHEN attname = 'id' THEN format('public.uuid_generate_v5(%L::uuid, id::text) AS id',
                                                                  public.uuid_generate_v5(lane_google.legacy_namespace(), relname::text))
                                  WHEN parent IS NOT NULL THEN format('public.uuid_generate_v5(%L::uuid, %I::text) AS %I',
                                                                      public.uuid_generate_v5(lane_google.legacy_namespace(), parent::text), attname, attname)
                                  ELSE quote_ident(attname) END, ', ' ORDER BY attnum),
                  relname) AS stmt
      FROM cols GROUP BY relname, ord
    UNION ALL
    SELECT 2, 0, 0, 'DROP TABLE ' || string_agg('lane_google.' || quote_ident(relname), ', ' ORDER BY ord) || ';' FROM tabs
    UNION ALL
    SELECT 3, ord, 0, format('ALTER TABLE lane_google.%I RENAME TO %I;', '_new_' || relname, relname) FROM tabs
    UNION ALL
    SELECT 4, t.ord, 0,
           format('ALTER TABLE lane_google.%I %s;', t.relname, concat_ws(', ',
               'ALTER COLUMN id SET DEFAULT lane_google.uuid_generate_v7()',
               (SELECT string_agg(format('ALTER COLUMN %I SET DEFAULT %s', c.attname, c.def), ', ' ORDER BY c.attnum)
                  FROM cols c WHERE c.relname = t.relname AND c.def IS NOT NULL),
               (SELECT string_agg(format('ALTER COLUMN %I SET NOT NULL', c.attname), ', ' ORDER BY c.attnum)
                  FROM cols c WHERE c.relname = t.relname AND c.attnotnull AND c.attname <> 'id'),
               (SELECT string_agg(format('ADD CONSTRAINT %I %s', co.conname, pg_get_constraintdef(co.oid)), ', '
                                  ORDER BY co.contype <> 'p', co.conname)
                  FROM pg_constraint co WHERE co.conrelid = t.oid AND co.contype IN ('p', 'u', 'c'))))
      FROM tabs t
    UNION ALL
    SELECT 5, t.ord, 0, pg_get_indexdef(i.indexrelid) || ';'
      FROM tabs t JOIN pg_index i ON i.indrelid = t.oid
     WHERE NOT EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conindid = i.indexrelid)
    UNION ALL
    SELECT 6, ord, 0, format('ALTER TABLE lane_google.%I %s;', child,
                             string_agg(format('ADD CONSTRAINT %I %s', conname, pg_get_constraintdef(oid)), ', ' ORDER BY conname))
      FROM fks GROUP BY child, ord
    UNION ALL
    SELECT 7, t.ord, 0, pg_get_triggerdef(tg.oid) || ';'
      FROM tabs t JOIN pg_trigger tg ON tg.tgrelid = t.oid AND NOT tg.tgisinternal)
SELECT string_agg(stmt, E'\n' ORDER BY phase, ord, stmt) FROM stmts"
}

# (a) the naive in-place SQL, a statement per step as a user would write it
script_a() {
    q "$1" "WITH $CATALOG_CTE,
fkcols AS (SELECT DISTINCT conrelid, child, ord, col, attnotnull FROM fks),
lost AS (   -- unique constraints and indexes on a foreign-key column: dropped with it
    SELECT t.ord, format('ALTER TABLE lane_google.%I ADD CONSTRAINT %I %s;', t.relname, co.conname,
                         pg_get_constraintdef(co.oid)) AS stmt
      FROM tabs t JOIN pg_constraint co ON co.conrelid = t.oid AND co.contype = 'u'
     WHERE EXISTS (SELECT 1 FROM fkcols f JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attname = f.col
                    WHERE f.conrelid = t.oid AND a.attnum = ANY (co.conkey))
    UNION ALL
    SELECT t.ord, pg_get_indexdef(i.indexrelid) || ';'
      FROM tabs t JOIN pg_index i ON i.indrelid = t.oid
     WHERE NOT EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conindid = i.indexrelid)
       AND EXISTS (SELECT 1 FROM fkcols f JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attname = f.col
                    WHERE f.conrelid = t.oid AND a.attnum = ANY (i.indkey::int2[]))),
stmts AS (
    SELECT 1 AS phase, ord, format('ALTER TABLE lane_google.%I ADD COLUMN new_id uuid NOT NULL DEFAULT gen_random_uuid();', relname) AS stmt
      FROM tabs
    UNION ALL
    SELECT 2, ord, format('ALTER TABLE lane_google.%I ADD COLUMN %I uuid;', child, 'new_' || col) FROM fkcols
    UNION ALL
    SELECT 3, ord, format('UPDATE lane_google.%I AS c SET %I = p.new_id FROM lane_google.%I AS p WHERE p.id = c.%I;',
                          child, 'new_' || col, parent, col)
      FROM fks
    UNION ALL
    SELECT 4, ord, format('ALTER TABLE lane_google.%I DROP CONSTRAINT %I;', child, conname) FROM fks
    UNION ALL
    SELECT 5, ord, format('ALTER TABLE lane_google.%I DROP CONSTRAINT %I;', relname, relname || '_pkey') FROM tabs
    UNION ALL
    SELECT 6, ord, format('ALTER TABLE lane_google.%I DROP COLUMN %I;', child, col) FROM fkcols
    UNION ALL
    SELECT 7, ord, format('ALTER TABLE lane_google.%I RENAME COLUMN %I TO %I;', child, 'new_' || col, col) FROM fkcols
    UNION ALL
    SELECT 8, ord, format('ALTER TABLE lane_google.%1\$I ALTER COLUMN id DROP IDENTITY; '
                          'ALTER TABLE lane_google.%1\$I RENAME COLUMN id TO legacy_id; '
                          'ALTER TABLE lane_google.%1\$I RENAME COLUMN new_id TO id; '
                          'ALTER TABLE lane_google.%1\$I ADD PRIMARY KEY (id);', relname)
      FROM tabs
    UNION ALL
    SELECT 9, ord, format('ALTER TABLE lane_google.%I ALTER COLUMN %I SET NOT NULL;', child, col)
      FROM fkcols WHERE attnotnull
    UNION ALL
    SELECT 10, ord, stmt FROM lost
    UNION ALL
    SELECT 11, ord, format('ALTER TABLE lane_google.%I ADD CONSTRAINT %I %s;', child, conname, pg_get_constraintdef(oid))
      FROM fks)
SELECT string_agg(stmt, E'\n' ORDER BY phase, ord, stmt) FROM stmts"
}

# (c) the copy floor
script_c() {
    for t in $TABLES; do
        echo "CREATE TABLE lane_google._copy_$t AS SELECT * FROM lane_google.$t;"
    done
}

# The 1.0 tables out of the extension, so plain SQL may drop them (catalog only, untimed)
detach_sql() {
    for t in $TABLES; do
        echo "ALTER EXTENSION lane_google DROP SEQUENCE lane_google.${t}_id_seq;"
        echo "ALTER EXTENSION lane_google DROP TABLE lane_google.$t;"
    done
}

# --- The variants ----------------------------------------------------------------
declare -A secs phases
declare -A label=([ext]="ALTER EXTENSION lane_google UPDATE (C engine)"
    [base]="the same update, baseline build (LG_BENCH_BASELINE_SO)"
    [b]="(b) best plain SQL: CREATE TABLE AS uuid-ossp v5"
    [a]="(a) naive SQL: gen_random_uuid() + UPDATE ... FROM"
    [c]="(c) copy floor: CREATE TABLE AS SELECT *, no keys")
hwm_kb=""
anon_kb=0
shmem_kb=""
breakdown=""
notices=""

for v in $VARIANTS; do
    [ -n "${label[$v]:-}" ] || die "unknown variant $v (ext, b, a, c)"
    db="v_$v"
    q postgres "CREATE DATABASE $db TEMPLATE legacy STRATEGY = FILE_COPY"
    script="$dir/$v.sql"
    [ "$v" = ext ] || [ "$v" = base ] || q "$db" "$(detach_sql)"
    {
        echo "SELECT pg_backend_pid() \\g $dir/$v.pid"
        echo "SELECT clock_timestamp() AS t0 \\gset"
        if [ "$v" = ext ] || [ "$v" = base ]; then
            echo "ALTER EXTENSION lane_google UPDATE TO '2.0';"
        else
            echo "BEGIN;"
            "script_$v" "$db"
            echo "COMMIT;"
        fi
        echo "SELECT 'seconds ' || extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);"
        echo "SELECT 'status ' || (regexp_match(s, 'VmHWM:\\s*(\\d+)'))[1] || ' ' || (regexp_match(s, 'RssShmem:\\s*(\\d+)'))[1]
                FROM pg_read_file('/proc/self/status') AS s;"
    } >"$script"
    chmod a+r "$script"
    q "$db" "CHECKPOINT"
    [ $PGSS = 1 ] && q postgres "SELECT pg_stat_statements_reset()" >/dev/null
    lg_log "variant $v: ${label[$v]}"
    # base: the baseline module in place for its run (a rename: backends that
    # mapped the current file keep it), the current one back after
    if [ "$v" = base ]; then
        so="$($PG_CONFIG --pkglibdir)/lane_google.so"
        cp "$so" "$dir/current.so"
        cp "$LG_BENCH_BASELINE_SO" "$so.base" && mv -f "$so.base" "$so"
        trap 'cp "$dir/current.so" "$so.cur" && mv -f "$so.cur" "$so"; lg_cluster_stop; rm -rf "$dir"' EXIT
    fi
    lg_psql -At -d "$db" -f "$script" >"$dir/$v.out" 2>"$dir/$v.err" &
    job=$!
    bpid=""
    peak=0
    while kill -0 "$job" 2>/dev/null; do
        [ -z "$bpid" ] && [ -s "$dir/$v.pid" ] && bpid=$(cat "$dir/$v.pid")
        if [ -n "$bpid" ]; then
            kb=$(awk '/^RssAnon:/ { print $2 }' "/proc/$bpid/status" 2>/dev/null || true)
            [ -n "$kb" ] && [ "$kb" -gt "$peak" ] && peak=$kb
        fi
        sleep 0.1
    done
    wait "$job" || { cat "$dir/$v.err"; die "variant $v failed"; }
    if [ "$v" = base ]; then
        cp "$dir/current.so" "$so.cur" && mv -f "$so.cur" "$so"
        trap 'lg_cluster_stop; rm -rf "$dir"' EXIT
    fi
    secs[$v]=$(awk '$1 == "seconds" { printf "%.2f", $2 }' "$dir/$v.out")
    [ -n "${secs[$v]}" ] || { cat "$dir/$v.out" "$dir/$v.err"; die "variant $v: no time"; }

    # every variant's time by phase (pg_stat_statements), comparable across variants
    if [ $PGSS = 1 ]; then
        phases[$v]=$(q postgres "
WITH s AS (
    SELECT toplevel, total_exec_time AS t,
           regexp_replace(query, '^(\\s*(--[^\\n]*\\n|/[*].*?[*]/))*\\s*', '') AS stmt
      FROM pg_stat_statements
     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '$db')),
c AS (
    SELECT toplevel, t, stmt, CASE
           WHEN stmt ~* '^SELECT fk\\.|^(BEGIN|COMMIT)|pg_backend_pid|clock_timestamp|pg_read_file' THEN NULL
           WHEN toplevel AND stmt ~* '^ALTER EXTENSION lane_google UPDATE' THEN NULL
           WHEN stmt ~* '^DO ' THEN '0 pre-flight check'
           WHEN stmt ~* '^SELECT .*_lg_upgrade_convert\\(|^CREATE TABLE .* AS SELECT|^UPDATE |ADD COLUMN'
               THEN '1 copy the rows, keys mapped'
           WHEN stmt ~* '^ALTER TABLE .*(PRIMARY KEY|UNIQUE|SET NOT NULL|CHECK)'
               THEN '2 primary keys, unique, NOT NULL'
           WHEN stmt ~* '^CREATE INDEX' THEN '3 indexes'
           WHEN stmt ~* 'FOREIGN KEY' THEN '4 foreign keys, validated'
           WHEN NOT toplevel AND stmt !~* '^(ALTER|CREATE|DROP)' THEN NULL   -- inside another statement
           ELSE '5 the rest (drop, rename, triggers...)' END AS phase
      FROM s)
SELECT phase || '|' || round(sum(t)::numeric / 1000, 2)
  FROM (SELECT phase, t FROM c
        UNION ALL   -- the update builds each primary key inside the engine's call
        SELECT '1 copy the rows, keys mapped', -t FROM c
         WHERE phase LIKE '2%' AND NOT toplevel AND stmt ~* 'PRIMARY KEY') x
 WHERE phase IS NOT NULL
 GROUP BY phase ORDER BY phase")
    fi
    # every row is there
    if [ "$v" = c ]; then
        got=$(q "$db" "$(echo "$counts_sql" | sed 's/lane_google\./lane_google._copy_/')" | sort)
    else
        got=$(q "$db" "$counts_sql" | sort)
    fi
    [ "$got" = "$want_counts" ] || die "variant $v: row counts $(echo $got) differ from $(echo $want_counts)"
    if [ "$v" = ext ]; then
        [ "$(q "$db" "SELECT extversion FROM pg_extension WHERE extname = 'lane_google'")" = 2.0 ] ||
            die "the update did not reach 2.0"
        read -r _ hwm_kb shmem_kb < <(grep '^status ' "$dir/$v.out")
        anon_kb=$peak
        # "psql:FILE:LINE: NOTICE:  ..." and its "DETAIL:  ..." on one line
        notices=$(sed -E 's/^psql:[^:]*:[0-9]+: //' "$dir/$v.err" |
            awk '/^NOTICE:/ { sub(/^NOTICE: +/, ""); n = $0 } /^DETAIL:/ { sub(/^DETAIL: +/, ""); print n " (" $0 ")"; n = "" }
                 END { if (n != "") print n }')
        if [ $PGSS = 1 ]; then
            breakdown=$(q postgres "
SELECT rpad(step, 50) || lpad(round(sum(total_exec_time)::numeric / 1000, 2)::text, 9) || lpad(sum(calls)::text, 7)
  FROM (SELECT CASE
               WHEN toplevel AND stmt ~* '^ALTER EXTENSION' THEN '0 the whole update'
               WHEN toplevel THEN NULL
               WHEN stmt ~* '^DO ' THEN '1 pre-flight check (validate_fk_integrity)'
               WHEN stmt ~* '^SELECT .*_lg_upgrade_convert\\(' THEN '2 conversion engine, primary keys included'
               WHEN stmt ~* 'PRIMARY KEY' THEN '2a   of which primary keys'
               WHEN stmt ~* 'FOREIGN KEY' THEN '4 foreign keys, validation included'
               WHEN stmt ~* '^SELECT fk\\.' THEN '4a   of which validation queries'
               WHEN stmt ~* '^CREATE INDEX|UNIQUE \\(' THEN '3 indexes and unique constraints'
               WHEN stmt ~* '^DROP TABLE' THEN '5 drop the 1.0 tables'
               WHEN stmt ~* 'validate_fk_integrity' THEN NULL   -- inside the DO block
               ELSE '6 the rest (set aside, CREATE TABLE, triggers...)' END AS step,
               total_exec_time, calls
          FROM (SELECT toplevel, total_exec_time, calls,
                       regexp_replace(query, '^(\\s*(--[^\\n]*\\n|/[*].*?[*]/))*\\s*', '') AS stmt
                  FROM pg_stat_statements
                 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '$db')) p) s
 WHERE step IS NOT NULL
 GROUP BY step ORDER BY step")
            top=$(q postgres "
SELECT lpad(round(total_exec_time::numeric / 1000, 2)::text, 8) || '  ' || left(regexp_replace(regexp_replace(query, '^(\\s*(--[^\\n]*\\n|/[*].*?[*]/))*\\s*', ''), '\\s+', ' ', 'g'), 100)
  FROM pg_stat_statements
 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '$db') AND NOT toplevel
 ORDER BY total_exec_time DESC LIMIT 12")
        fi
    fi
    q postgres "DROP DATABASE $db"
done

# --- Report ------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
row() { printf '%-56s %10s %10s\n' "$@"; }

echo
echo "Conversion 1.0 -> 2.0 at scale $SCALE: $rows rows, $db_mb MB of 1.0 data (generated in $gen_s s)"
echo "($($LG_BINDIR/postgres --version), maintenance_work_mem $(q postgres "SHOW maintenance_work_mem"), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)$([ "${LG_SMOKE:-0}" = 1 ] && echo ', SMOKE scale'))"
echo
row "variant (one transaction each)" "seconds" "rows/s"
row "--------------------------------------------------------" "----------" "----------"
for v in $VARIANTS; do
    row "${label[$v]}" "${secs[$v]}" "$(awk -v n="$rows" -v s="${secs[$v]}" 'BEGIN { if (s > 0) printf "%.0f", n / s }')"
done
if [ -n "${secs[ext]:-}" ]; then
    echo
    for v in base b a c; do
        [ -n "${secs[$v]:-}" ] && echo "ext/$v = $(ratio "${secs[ext]}" "${secs[$v]}")"
    done
    # the floor: the copy, plus the keys and indexes (b's own phases 2 and 3)
    floor=""
    if [ -n "${secs[c]:-}" ] && [ $PGSS = 1 ] && [ -n "${phases[b]:-}" ]; then
        floor=$(echo "${phases[b]}" | awk -F'|' -v c="${secs[c]}" '
            $1 ~ /^[23] / { k += $2 } END { printf "%.2f", c + k }')
        echo "floor (c + b's primary keys, unique constraints and indexes) = $floor s; ext/floor = $(ratio "${secs[ext]}" "$floor")"
    fi
    if [ $PGSS = 1 ]; then
        echo
        echo "Seconds by phase (pg_stat_statements; the update's primary keys are built inside its engine call):"
        printf '  %-40s' "phase"
        for v in $VARIANTS; do printf ' %9s' "$v"; done
        echo
        for ph in "0 pre-flight check" "1 copy the rows, keys mapped" "2 primary keys, unique, NOT NULL" \
            "3 indexes" "4 foreign keys, validated" "5 the rest (drop, rename, triggers...)"; do
            printf '  %-40s' "${ph#? }"
            for v in $VARIANTS; do
                printf ' %9s' "$(echo "${phases[$v]}" | awk -F'|' -v p="$ph" '$1 == p { x = $2 } END { print (x == "" ? "-" : x) }')"
            done
            echo
        done
    fi
    echo
    echo "The update's backend: VmHWM $(mb "$hwm_kb") MB (with $(mb "$shmem_kb") MB of shared buffers mapped at the end);"
    echo "private memory (RssAnon) peak $(mb "$anon_kb") MB, sampled every 0.1 s"
    echo
    echo "Per table (the engine's NOTICEs):"
    echo "$notices" | sed 's/^/  /'
    if [ -n "$breakdown" ]; then
        echo
        echo "Where the update's time goes (pg_stat_statements, seconds, calls):"
        echo "$breakdown" | sed 's/^/  /'
        echo
        echo "Slowest statements inside the update (seconds):"
        echo "$top" | sed 's/^/  /'
    fi
    echo
    [ -n "${secs[b]:-}" ] && lg_verdict "ext <= 0.45 x (b) best plain SQL" "${secs[ext]}" "$(awk -v b="${secs[b]}" 'BEGIN { print 0.45 * b }')" "<="
    [ -n "$floor" ] && lg_verdict "ext <= 1.3 x the floor" "${secs[ext]}" "$(awk -v f="$floor" 'BEGIN { print 1.3 * f }')" "<="
    [ -n "${secs[base]:-}" ] && lg_verdict "ext no slower than the baseline build (within 5%)" "${secs[ext]}" "$(awk -v b="${secs[base]}" 'BEGIN { print 1.05 * b }')" "<="
    [ -n "${secs[a]:-}" ] && lg_verdict "ext <= 0.3 x (a) naive SQL" "${secs[ext]}" "$(awk -v a="${secs[a]}" 'BEGIN { print 0.3 * a }')" "<="
    lg_verdict "private memory peak < 256 MB" "$anon_kb" 262144 "<"
    lg_verdict "VmHWM < 256 MB" "$hwm_kb" 262144 "<"
fi
if [ "${LG_BENCH_STRICT:-0}" = 1 ] && [ $missed -gt 0 ]; then
    exit 3
fi
exit 0
