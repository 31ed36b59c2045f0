#!/usr/bin/env bash
# test/run_tests.sh: the whole test suite on a fresh machine.
#
# Installs what is missing (as root), builds with -Werror, installs, runs
# cppcheck, starts a throwaway PostgreSQL cluster as an unprivileged user,
# runs the pg_regress suite against it, then the TAP suites under test/t
# (each starts its own clusters), then the benchmarks as a small smoke run.
# Ends with "N passed, N failed" and exits non-zero on any failure.
#
#   bash test/run_tests.sh               everything
#   bash test/run_tests.sh NAME...       only the suites whose name contains a
#                                        NAME (convert, 020_crash, bench_uuid)
#   LG_SANITIZE=1 bash test/run_tests.sh the extension built with ASan+UBSan, servers run with libasan preloaded; any sanitizer report fails (LG_SANITIZE=ubsan: UBSan alone; test/lib.sh)
#   bash test/run_tests.sh --pg 18 ...   against another server: a major (15,
#                                        18: one not installed is built from
#                                        Debian's source package, see
#                                        lg_build_pg in lib.sh, about 15 min
#                                        once) or a pg_config; repeat --pg for
#                                        several servers, one after the other
#                                        (LG_PG="15 18" does the same)
#   bash test/run_tests.sh --compile-check  also test/compile_check.sh: every
#                                        major whose headers can be had
# Test names start with the server's major: "ok - [18] regress install".
set -uo pipefail
. "$(dirname "$0")/lib.sh"

passed=0
failed=0
failures=()
pass() { passed=$((passed + 1)); echo "ok - [$LG_MAJOR] $*"; }
fail() { failed=$((failed + 1)); failures+=("[$LG_MAJOR] $*"); echo "not ok - [$LG_MAJOR] $*"; }
# wanted NAME: is the suite NAME selected by the command line?
wanted() {
    local p
    [ ${#LG_ONLY[@]} -eq 0 ] && return 0
    for p in "${LG_ONLY[@]}"; do
        case "$1" in *"$p"*) return 0 ;; esac
    done
    return 1
}
LG_ONLY=()
compile_check=0
servers=(${LG_PG:-})
while [ $# -gt 0 ]; do
    case "$1" in
        --pg) servers+=("$2"); shift 2 ;;
        --pg=*) servers+=("${1#--pg=}"); shift ;;
        --compile-check) compile_check=1; shift ;;
        *) LG_ONLY+=("$1"); shift ;;
    esac
done

lg_install_deps || exit 1
# PGXS's warning flags plus -Wextra, less the three PostgreSQL's own headers
# and fmgr conventions trip (PostgreSQL builds without them too)
LG_COPT=${LG_COPT:--Wextra -Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers}
export LG_COPT
LG_DEFAULT_PG_CONFIG=$PG_CONFIG
[ ${#servers[@]} -eq 0 ] && servers=(default)

# select_server SPEC: point PG_CONFIG at the server SPEC names
select_server() {
    case "$1" in
        default) PG_CONFIG=$LG_DEFAULT_PG_CONFIG ;;
        */*) PG_CONFIG=$1 ;;
        *)
            if [ "$("$LG_DEFAULT_PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')" = "$1" ]; then
                PG_CONFIG=$LG_DEFAULT_PG_CONFIG
            else
                lg_build_pg "$1" || return 1
            fi
            ;;
    esac
    export PG_CONFIG
    LG_MAJOR=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
}

# run_suites: everything below against the server PG_CONFIG names
run_suites() {
lg_build_install || { fail "build with -Werror $LG_COPT"; return; }
pass "build with -Werror $LG_COPT${LG_SAN_COPT:+ $LG_SAN_COPT} ($("$PG_CONFIG" --version))"

# The released scripts never change (databases were built by them), and no
# other script is written by hand: new ones are generated from scripts/
if wanted released; then
    if (cd "$LG_ROOT" && sha256sum --quiet -c test/released.sha256 &&
        { ! git rev-parse --git-dir >/dev/null 2>&1 ||
          [ "$(git ls-files 'lane_google--*.sql' | sort)" = "$(awk '{print $2}' test/released.sha256 | sort)" ]; }); then
        pass "released scripts byte for byte as released"
    else
        fail "released scripts byte for byte as released"
    fi
fi

# Static analysis: any finding fails
if command -v cppcheck >/dev/null; then
    if cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
        --inline-suppr --std=c99 -I "$LG_ROOT/src" \
        --suppress=missingIncludeSystem "$LG_ROOT/src" 2>&1; then
        pass "cppcheck src/"
    else
        fail "cppcheck src/"
    fi
fi

# A copy of the tree the unprivileged user can write results into
work=$(mktemp -d /tmp/lane_google_test.XXXXXX)
cp -a "$LG_ROOT/." "$work/src_tree"
[ "$(id -u)" -eq 0 ] && chown -R "$LG_USER" "$work"

# --- pg_regress -------------------------------------------------------------
regress=()
for f in "$LG_ROOT"/sql/*.sql; do
    f=$(basename "$f" .sql)
    wanted "$f" && regress+=("$f")
done
if [ ${#regress[@]} -gt 0 ]; then
lg_cluster_start "$work/cluster"
out="$work/regress.out"
# TAP_TESTS= : PGXS installcheck would run the TAP suites too; they run below
lg_as_user make -C "$work/src_tree" -s PG_CONFIG="$PG_CONFIG" installcheck TAP_TESTS= \
    REGRESS="${regress[*]}" PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER=postgres >"$out" 2>&1
regress_rc=$?
cat "$out"
while read -r line; do
    name=$(echo "$line" | sed -E 's/^(ok|not ok)? *[0-9]* *[-+]? *(test )?([A-Za-z0-9_]+) .*/\3/')
    case "$line" in
        *"... ok"* | "ok "*) pass "regress $name" ;;
        *"FAILED"* | "not ok"*) fail "regress $name" ;;
    esac
done < <(grep -E '^(test |ok |not ok | +[A-Za-z0-9_]+ +\.\.\. )' "$out" | grep -Ev '^test .*\.\.\.$')
if [ $regress_rc -ne 0 ]; then
    [ -f "$work/src_tree/regression.diffs" ] && cat "$work/src_tree/regression.diffs"
    grep -q "not ok\|FAILED" "$out" || fail "pg_regress (exit $regress_rc)"
    # a file pg_regress stopped before (a missing expected file ends the run)
    for f in "${regress[@]}"; do
        grep -Eq "^(ok|not ok) +[0-9]+ +- $f |^test $f .*\.\.\.|^ +$f +\.\.\." "$out" || fail "regress $f (no result)"
    done
fi
lg_cluster_stop
trap - EXIT
fi

# --- Citus, for the Citus suites (090_citus.pl, 091_citus_validate.pl) -------------------------------
# Built once from ../shared/vendor into the server under test (PostgreSQL 15
# to 17; on others the suite skips itself), reused while its stamp matches.
if wanted 090_citus.pl || wanted 091_citus_validate.pl; then
    t0=$(date +%s)
    if citus=$(lg_build_citus); then
        pass "Citus $LG_CITUS_VERSION for the Citus suite: $citus ($(($(date +%s) - t0)) s)"
    else
        fail "Citus $LG_CITUS_VERSION build"
    fi
fi

# --- TAP suites (PostgreSQL::Test::Cluster) ----------------------------------
for t in "$work"/src_tree/test/t/*.pl; do
    [ -e "$t" ] || continue
    name=$(basename "$t")
    wanted "$name" || continue
    log="$work/tap_${name%.pl}.log"
    lg_as_user make -C "$work/src_tree" -s PG_CONFIG="$PG_CONFIG" prove_installcheck \
        PROVE_TESTS="test/t/$name" PROVE_FLAGS="-v" >"$log" 2>&1
    rc=$?
    cat "$log"
    if [ $rc -eq 0 ] && grep -q "^Result: PASS" "$log"; then
        pass "tap $name ($(grep -c '^ok ' "$log") assertions)"
    elif [ $rc -eq 0 ] && grep -q "^Result: NOTESTS" "$log" && grep -q " skipped: " "$log"; then
        # skip_all (090_citus on a server Citus does not support): said, not counted
        echo "skip - [$LG_MAJOR] tap $name: $(sed -n 's/^.* \.\. skipped: //p' "$log" | head -1)"
    else
        fail "tap $name"
        for f in "$work"/src_tree/tmp_check/log/*; do
            [ -f "$f" ] && { echo "--- $f"; tail -n 50 "$f"; }
        done
    fi
done

# --- benchmarks, as a smoke run at small scale -------------------------------
for b in "$LG_ROOT"/test/bench_*.sh; do
    [ -e "$b" ] || continue
    name=$(basename "$b")
    wanted "$name" || continue
    if LG_SMOKE=1 bash "$b" >"$work/${name%.sh}.log" 2>&1; then
        pass "benchmark smoke $name"
    else
        cat "$work/${name%.sh}.log"
        fail "benchmark smoke $name"
    fi
done

# --- sanitizers (LG_SANITIZE=1): any report of any process fails --------------
if [ "$LG_SANITIZE" = 1 ]; then
    if lg_sanitizer_reports; then
        fail "sanitizer reports in $LG_SAN_DIR"
    else
        pass "no sanitizer report ($LG_SAN_COPT)"
        rm -rf "$LG_SAN_DIR"
    fi
fi

failed_before=${failed_before:-0}
[ $failed -eq "$failed_before" ] && rm -rf "$work"
}

for server in "${servers[@]}"; do
    LG_MAJOR=$server
    if ! select_server "$server"; then
        fail "server $server: build or install failed"
        continue
    fi
    echo "== PostgreSQL $LG_MAJOR: $("$PG_CONFIG" --version) ($PG_CONFIG)"
    failed_before=$failed
    run_suites
done

if [ "$compile_check" = 1 ]; then
    while read -r line; do
        case "$line" in
            "ok - "*) passed=$((passed + 1)); echo "$line" ;;
            "not ok - "*) failed=$((failed + 1)); failures+=("${line#not ok - }"); echo "$line" ;;
            "skip - "*) echo "$line" ;;
            *) echo "$line" ;;
        esac
    done < <(PG_CONFIG=$LG_DEFAULT_PG_CONFIG bash "$LG_ROOT/test/compile_check.sh" 2>&1 | grep -v ' passed, ')
fi

echo
if [ $failed -gt 0 ]; then
    printf 'failed: %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
