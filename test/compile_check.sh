#!/usr/bin/env bash
# test/compile_check.sh: compile every src/*.c and src/*/*.c against each PostgreSQL major
# whose server headers can be had, with the flags that server was built with
# plus -Werror and the harness's LG_COPT (as test/run_tests.sh builds); no
# link, no server.  The headers come from, in this order:
#   - an installed server: PG_CONFIG (or Debian's 15), /opt/lane_google/pgM;
#   - as root, Debian's postgresql-M source package, configured for its
#     generated headers (lg_pg_headers in lib.sh: a minute, no build).
# A major whose headers cannot be had is reported as skipped.
#
#   bash test/compile_check.sh            majors 15 16 17 18 (19: name it)
#   bash test/compile_check.sh 16 17      those
# Ends with "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

LG_COPT=${LG_COPT:--Wextra -Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers}
majors=("$@")
[ ${#majors[@]} -eq 0 ] && majors=(15 16 17 18)
lg_find_pg_config
default_pg_config=$PG_CONFIG

passed=0
failed=0
skipped=0

# the major of a pg_config, or nothing
major_of() { "$1" --version 2>/dev/null | sed -E 's/^PostgreSQL ([0-9]+).*/\1/'; }

for m in "${majors[@]}"; do
    includes="" cflags="" cppflags="" version=""
    for pc in "$default_pg_config" "$(lg_pg_prefix "$m")/bin/pg_config"; do
        if [ -x "$pc" ] && [ "$(major_of "$pc")" = "$m" ]; then
            includes="-I$("$pc" --includedir-server)"
            cflags=$("$pc" --cflags)
            cppflags=$("$pc" --cppflags)
            version=$("$pc" --version)
            break
        fi
    done
    if [ -z "$includes" ] && [ "$(id -u)" -eq 0 ] && lg_pg_headers "$m" 2>/dev/null; then
        includes=$LG_PG_INCLUDES
        cflags=$LG_PG_CFLAGS
        cppflags=$LG_PG_CPPFLAGS
        version="PostgreSQL $LG_PG_VERSION (Debian's server headers)"
    fi
    if [ -z "$includes" ]; then
        echo "skip - [$m] compile: no server headers of PostgreSQL $m to be had"
        skipped=$((skipped + 1))
        continue
    fi
    errors=""
    for f in "$LG_ROOT"/src/*.c "$LG_ROOT"/src/*/*.c; do
        [ -e "$f" ] || continue
        # shellcheck disable=SC2086
        out=$(gcc -fsyntax-only -Werror $cflags $LG_COPT $cppflags -I"$LG_ROOT/src" $includes "$f" 2>&1) ||
            errors="$errors$out"$'\n'
    done
    if [ -z "$errors" ]; then
        passed=$((passed + 1))
        echo "ok - [$m] compile src/*.c src/*/*.c with -Werror $LG_COPT ($version)"
    else
        failed=$((failed + 1))
        printf '%s' "$errors"
        echo "not ok - [$m] compile src/*.c src/*/*.c ($version)"
    fi
done

echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
