# test/lib.sh: shell helpers shared by the test harness, the demo and the
# benchmarks.  Source it; it sets LG_ROOT (the source tree).
#
#   lg_install_deps      apt-get what is missing (as root only)
#   lg_build_install     make && make install (PGXS)
#   lg_as_user CMD...    run CMD as the unprivileged test user
#   lg_cluster_start DIR start a throwaway cluster in DIR on a Unix socket
#   lg_cluster_stop      stop it (also done at exit)
#   lg_scratch_cluster N a temporary directory $dir with a started cluster
#   lg_bench_start N R   a benchmark's scale, runs, build and scratch cluster
#   lg_pg_source MAJOR   Debian's postgresql-MAJOR source tree (as root); sets
#                        LG_PG_SRCDIR
#   lg_build_pg MAJOR    build and install that server under a prefix of its
#                        own, or reuse the build of the same version; sets
#                        PG_CONFIG
#   lg_build_citus       build and install Citus into PG_CONFIG's server (once)
#   lg_citus_supported   does PG_CONFIG's server have a Citus it can build?
#   lg_citus_start DIR   a Citus coordinator and two workers in DIR
#   lg_citus_stop        stop them (also done at exit)

LG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export LG_ROOT
PG_CONFIG=${PG_CONFIG:-}
LG_PACKAGES="postgresql-15 postgresql-server-dev-15 postgresql-contrib libipc-run-perl make gcc python3 cppcheck python3-sqlalchemy python3-psycopg2"

lg_log() { printf '== %s\n' "$*" >&2; }

lg_find_pg_config() {
    if [ -z "$PG_CONFIG" ]; then
        if [ -x /usr/lib/postgresql/15/bin/pg_config ]; then
            PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
        else
            PG_CONFIG=$(command -v pg_config || true)
        fi
    fi
    export PG_CONFIG
}

lg_install_deps() {
    # the Debian package would start a cluster of its own: keep it from doing so
    if [ "$(id -u)" -eq 0 ] && [ ! -f /etc/postgresql-common/createcluster.conf ]; then
        mkdir -p /etc/postgresql-common
        echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
    fi
    lg_install_packages $LG_PACKAGES || return 1
    lg_find_pg_config
}

# LG_SANITIZE=1: the extension built with AddressSanitizer and
# UndefinedBehaviorSanitizer; the server (not instrumented) loads it with
# libasan preloaded (lg_as_user), every finding aborts the process and is
# written under $LG_SAN_DIR (lg_sanitizer_reports lists them).
# LG_SANITIZE=ubsan: UndefinedBehaviorSanitizer alone, nothing preloaded
# (with Debian 12's gcc 12 and glibc 2.36, postgres, psql and initdb hang at
# start in bindtextdomain() when libasan is preloaded).
LG_SANITIZE=${LG_SANITIZE:-0}
[ "$LG_SANITIZE" = ubsan ] && LG_SANITIZE=1 && LG_SAN_NOASAN=1
if [ "$LG_SANITIZE" = 1 ]; then
    if [ -n "${LG_SAN_NOASAN:-}" ]; then
        LG_SAN_COPT="-fsanitize=undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g"
        LG_SAN_PRELOAD=
    else
        LG_SAN_COPT="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g"
        LG_SAN_PRELOAD=$(gcc -print-file-name=libasan.so)
    fi
    export LG_SAN_NOASAN
    if [ -z "${LG_SAN_DIR:-}" ]; then
        LG_SAN_DIR=$(mktemp -d /tmp/lane_google_sanitizer.XXXXXX)
        chmod 1777 "$LG_SAN_DIR"
    fi
    # leaks: a backend's memory contexts go at exit, not freed one by one
    LG_SAN_ASAN="detect_leaks=0:abort_on_error=1:halt_on_error=1:print_stacktrace=1:log_path=$LG_SAN_DIR/asan"
    LG_SAN_UBSAN="print_stacktrace=1:halt_on_error=1:abort_on_error=1:log_path=$LG_SAN_DIR/ubsan"
    export LG_SAN_COPT LG_SAN_PRELOAD LG_SAN_DIR LG_SAN_ASAN LG_SAN_UBSAN
fi

# The sanitizers' reports so far (LG_SANITIZE=1): prints them, false if none
lg_sanitizer_reports() {
    local f found=1
    [ "$LG_SANITIZE" = 1 ] || return 1
    for f in "$LG_SAN_DIR"/asan.* "$LG_SAN_DIR"/ubsan.*; do
        [ -f "$f" ] || continue
        found=0
        echo "--- $f"
        cat "$f"
    done
    return $found
}

# --- other PostgreSQL majors, built from Debian's source packages ------------
# Debian packages PostgreSQL 15 alone for this release; the other majors come
# from the source packages of a newer suite of the same archive, fetched
# through a private apt configuration (its own sources file, lists and cache
# under $LG_PG_CACHE/apt: the machine's own lists stay untouched).
#   LG_PG_CACHE      source packages and apt state (/var/cache/lane_google)
#   LG_PG_PREFIX     where major M is installed (/opt/lane_google/pgM)
#   LG_PG_SUITES     the suites tried, in order ("sid trixie experimental")
LG_PG_CACHE=${LG_PG_CACHE:-/var/cache/lane_google}
LG_PG_SUITES=${LG_PG_SUITES:-sid trixie experimental}
LG_PG_BUILD_DEPS="dpkg-dev bison flex gcc make perl pkg-config libreadline-dev zlib1g-dev libssl-dev libicu-dev uuid-dev libipc-run-perl"

lg_pg_prefix() { echo "${LG_PG_PREFIX:-/opt/lane_google/pg$1}"; }

# The archive the machine's own Debian list uses (deb822 or one-line format)
lg_debian_mirror() {
    local uri
    uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
        awk '/^URIs:/ { u = $2 } /^Suites:/ && u != "" && $0 !~ /-security/ { print u; exit }')
    [ -n "$uri" ] || uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk '$1 == "deb" && $0 ~ /debian/ && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }')
    echo "${uri:-http://deb.debian.org/debian}"
}

# lg_apt_private apt-get|apt-cache ARGS...: with the private configuration
lg_apt_private() {
    local a=$LG_PG_CACHE/apt cmd=$1
    shift
    "$cmd" -o Dir::Etc::SourceList="$a/sources.list" -o Dir::Etc::SourceParts="$a/sources.list.d" \
        -o Dir::State::Lists="$a/lists" -o Dir::Cache="$a/cache" -o Dir::State::status=/var/lib/dpkg/status \
        -o APT::Sandbox::User=root "$@"
}

lg_apt_private_update() {
    local a=$LG_PG_CACHE/apt mirror s keyring=""
    mkdir -p "$a/lists/partial" "$a/cache/archives/partial" "$a/sources.list.d"
    mirror=$(lg_debian_mirror)
    [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] &&
        keyring="[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
    : >"$a/sources.list.new"
    for s in $LG_PG_SUITES; do
        echo "deb ${keyring}$mirror $s main" >>"$a/sources.list.new"
        echo "deb-src ${keyring}$mirror $s main" >>"$a/sources.list.new"
    done
    cmp -s "$a/sources.list.new" "$a/sources.list" || rm -f "$a"/lists/*Sources* "$a"/lists/*Packages*
    mv "$a/sources.list.new" "$a/sources.list"
    # at most once a day
    if [ -z "$(find "$a/lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
        lg_log "apt-get update (private deb-src list: $LG_PG_SUITES of $mirror)"
        lg_apt_private apt-get update -qq >/dev/null 2>"$a/update.err" || { cat "$a/update.err" >&2; return 1; }
    fi
}

# lg_pg_source MAJOR: unpack Debian's newest postgresql-MAJOR source package
# into $LG_PG_CACHE/src (once per version); sets LG_PG_SRCDIR, LG_PG_VERSION
lg_pg_source() {
    local major=$1 ver dsc_ver
    [ "$(id -u)" -eq 0 ] || { lg_log "lg_pg_source: run as root"; return 1; }
    lg_install_packages $LG_PG_BUILD_DEPS || return 1
    lg_apt_private_update || return 1
    dsc_ver=$(lg_apt_private apt-cache showsrc "postgresql-$major" 2>/dev/null |
        awk '/^Version:/ { print $2 }' | sort -V | tail -1)
    [ -n "$dsc_ver" ] || { lg_log "no source package postgresql-$major in $LG_PG_SUITES"; return 1; }
    ver=${dsc_ver%%-*}
    LG_PG_VERSION=$ver
    LG_PG_SRCDIR=$LG_PG_CACHE/src/postgresql-$major-$ver
    if [ ! -f "$LG_PG_SRCDIR/configure" ]; then
        lg_log "apt-get source postgresql-$major=$dsc_ver"
        mkdir -p "$LG_PG_CACHE/src"
        # PostgreSQL's own source, without Debian's patches: the first of them
        # installs the libraries into /usr/lib/postgresql/M/lib, whatever the
        # prefix, and the others serve Debian's packaging
        rm -rf "$LG_PG_SRCDIR"
        (cd "$LG_PG_CACHE/src" &&
            lg_apt_private apt-get source -qq --download-only --only-source "postgresql-$major=$dsc_ver" &&
            dpkg-source -x --skip-patches "postgresql-${major}_${dsc_ver#*:}.dsc" "$LG_PG_SRCDIR") \
            >"$LG_PG_CACHE/src/source-$major.log" 2>&1 ||
            { cat "$LG_PG_CACHE/src/source-$major.log" >&2; return 1; }
    fi
    export LG_PG_SRCDIR LG_PG_VERSION
}

lg_install_packages() {
    local missing="" p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    [ "$(id -u)" -eq 0 ] || { lg_log "missing packages:$missing (run as root to install them)"; return 1; }
    lg_log "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq $missing >/dev/null
}

# lg_build_pg MAJOR: configure, build and install PostgreSQL MAJOR from
# Debian's source package under $(lg_pg_prefix MAJOR), with the contrib
# modules the tests use and the TAP test modules; reuses an installed build
# of the same version (the prefix's lane_google.stamp).  Sets PG_CONFIG.
# Takes about 15 minutes of 2 cores the first time.
lg_build_pg() {
    local major=$1 prefix stamp b m
    prefix=$(lg_pg_prefix "$major")
    stamp=$prefix/lane_google.stamp
    mkdir -p "$(dirname "$prefix")"
    # one build at a time for each prefix, however many harnesses ask
    exec 9>"$prefix.lock"
    flock 9
    LG_PG_VERSION=
    # not root, or the archive out of reach: use the build that is there
    if [ "$(id -u)" -eq 0 ] && ! lg_pg_source "$major" && [ ! -f "$stamp" ]; then
        flock -u 9
        return 1
    fi
    if [ -f "$stamp" ] && { [ -z "${LG_PG_VERSION:-}" ] || [ "$(cat "$stamp")" = "$LG_PG_VERSION" ]; }; then
        PG_CONFIG=$prefix/bin/pg_config
        export PG_CONFIG
        flock -u 9
        lg_log "PostgreSQL $(cat "$stamp") in $prefix (reused)"
        return 0
    fi
    b=$LG_PG_CACHE/build/pg$major-$LG_PG_VERSION
    rm -rf "$b"
    mkdir -p "$b"
    lg_log "building PostgreSQL $LG_PG_VERSION into $prefix (log: $b/build.log)"
    (
        set -e
        cd "$b"
        "$LG_PG_SRCDIR/configure" --prefix="$prefix" --enable-tap-tests --enable-debug \
            --with-openssl --with-icu --with-uuid=e2fs --without-llvm \
            CFLAGS="-O2" >configure.log 2>&1
        make -s -j"$(nproc)" >make.log 2>&1
        rm -rf "$prefix"
        make -s install >>make.log 2>&1
        for m in amcheck pg_stat_statements postgres_fdw uuid-ossp; do
            make -s -C "contrib/$m" -j"$(nproc)" install >>make.log 2>&1
        done
        make -s -C src/test/perl install >>make.log 2>&1
    ) >"$b/build.log" 2>&1 || {
        lg_log "build of PostgreSQL $LG_PG_VERSION failed: $b"
        tail -n 30 "$b"/configure.log "$b"/make.log >&2 2>/dev/null
        flock -u 9
        return 1
    }
    chmod -R a+rX "$prefix"
    echo "$LG_PG_VERSION" >"$stamp"
    PG_CONFIG=$prefix/bin/pg_config
    export PG_CONFIG
    flock -u 9
    lg_log "PostgreSQL $LG_PG_VERSION built in $prefix"
}

# lg_pg_headers MAJOR: the server headers of PostgreSQL MAJOR, enough to
# compile against: Debian's postgresql-server-dev-MAJOR binary package of
# one of $LG_PG_SUITES, unpacked (seconds), else its source package,
# configured for the generated headers (minutes, no build).  Sets
# LG_PG_INCLUDES (the -I flags), LG_PG_CFLAGS and LG_PG_CPPFLAGS (the
# server's flags; for a binary package, those of the newest server installed
# here, the same compiler), LG_PG_VERSION.  Reuses what it unpacked before.
lg_pg_headers() {
    local major=$1 b deb a=$LG_PG_CACHE/apt pc
    [ "$(id -u)" -eq 0 ] || { lg_log "lg_pg_headers: run as root"; return 1; }
    lg_apt_private_update || return 1
    LG_PG_VERSION=$(lg_apt_private apt-cache show "postgresql-server-dev-$major" 2>/dev/null |
        awk '/^Version:/ { print $2 }' | sort -V | tail -1)
    if [ -n "$LG_PG_VERSION" ]; then
        b=$LG_PG_CACHE/headers/server-dev-$major-$LG_PG_VERSION
        if [ ! -f "$b/lane_google.stamp" ]; then
            rm -rf "$b"
            mkdir -p "$b"
            (cd "$b" && lg_apt_private apt-get download -qq "postgresql-server-dev-$major=$LG_PG_VERSION" &&
                dpkg-deb -x ./*.deb root) >"$b/download.log" 2>&1 &&
                echo "$LG_PG_VERSION" >"$b/lane_google.stamp"
        fi
        if [ -f "$b/lane_google.stamp" ]; then
            LG_PG_INCLUDES="-I$b/root/usr/include/postgresql/$major/server -I/usr/include/postgresql"
            for pc in "$(lg_pg_prefix 18)/bin/pg_config" "${PG_CONFIG:-}" /usr/bin/pg_config; do
                [ -x "$pc" ] && break
            done
            LG_PG_CFLAGS=$("$pc" --cflags)
            LG_PG_CPPFLAGS="-D_GNU_SOURCE"
            export LG_PG_INCLUDES LG_PG_CFLAGS LG_PG_CPPFLAGS LG_PG_VERSION
            return 0
        fi
    fi
    lg_pg_source "$major" || return 1
    b=$LG_PG_CACHE/headers/pg$major-$LG_PG_VERSION
    if [ ! -f "$b/lane_google.stamp" ]; then
        rm -rf "$b"
        mkdir -p "$b"
        lg_log "configuring PostgreSQL $LG_PG_VERSION for its headers ($b)"
        (
            set -e
            cd "$b"
            "$LG_PG_SRCDIR/configure" --with-openssl --with-icu --with-uuid=e2fs --without-llvm \
                --without-readline CFLAGS="-O2" >configure.log 2>&1
            make -s -C src/backend generated-headers >make.log 2>&1
        ) || { lg_log "configure of PostgreSQL $LG_PG_VERSION failed: $b"; return 1; }
        echo "$LG_PG_VERSION" >"$b/lane_google.stamp"
    fi
    LG_PG_INCLUDES="-I$b/src/include -I$LG_PG_SRCDIR/src/include"
    LG_PG_CFLAGS=$(sed -n 's/^CFLAGS = //p' "$b/src/Makefile.global")
    LG_PG_CPPFLAGS=$(sed -n 's/^CPPFLAGS = //p' "$b/src/Makefile.global")
    export LG_PG_INCLUDES LG_PG_CFLAGS LG_PG_CPPFLAGS
}

lg_build_install() {
    local copt="-Werror ${LG_COPT:-}" stamp="$LG_ROOT/src/.lg_build_flags"
    lg_find_pg_config
    [ "$LG_SANITIZE" = 1 ] && copt="$copt $LG_SAN_COPT"
    lg_log "building with $($PG_CONFIG --version)${LG_SAN_COPT:+ (LG_SANITIZE=1: $LG_SAN_COPT)}"
    # make does not rebuild objects when the flags or the server's headers change
    if [ "$(cat "$stamp" 2>/dev/null)" != "$copt $PG_CONFIG" ]; then
        make -C "$LG_ROOT" -s PG_CONFIG="$PG_CONFIG" clean >/dev/null
        echo "$copt $PG_CONFIG" > "$stamp"
    fi
    make -C "$LG_ROOT" -s PG_CONFIG="$PG_CONFIG" COPT="$copt" >/dev/null
    make -C "$LG_ROOT" -s PG_CONFIG="$PG_CONFIG" install >/dev/null
}

# The server refuses to run as root: as root, run as the postgres user.
LG_USER=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
    LG_USER=postgres
    id postgres >/dev/null 2>&1 || useradd --system --create-home postgres
fi
export LG_USER

lg_as_user() {
    local san=()
    [ "$LG_SANITIZE" = 1 ] &&
        san=(${LG_SAN_PRELOAD:+LD_PRELOAD="$LG_SAN_PRELOAD"} ASAN_OPTIONS="$LG_SAN_ASAN" UBSAN_OPTIONS="$LG_SAN_UBSAN")
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u "$LG_USER" -- env PATH="$PATH" PG_CONFIG="$PG_CONFIG" "${san[@]}" "$@"
    else
        env "${san[@]}" "$@"
    fi
}

# A free TCP port number for the socket name (nothing listens on TCP)
lg_free_port() {
    local port
    for port in $(seq 54400 54499); do
        if ! ls /tmp/.s.PGSQL.$port "$1"/.s.PGSQL.$port >/dev/null 2>&1 &&
            ! (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    echo 54499
}

lg_cluster_start() {
    local dir=$1
    lg_find_pg_config
    LG_BINDIR=$($PG_CONFIG --bindir)
    LG_CLUSTER=$dir
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown "$LG_USER" "$dir"
    PGPORT=$(lg_free_port "$dir")
    PGHOST=$dir
    export PGHOST PGPORT LG_BINDIR LG_CLUSTER
    lg_as_user "$LG_BINDIR/initdb" -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log"; return 1; }
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
port = $PGPORT
fsync = off
shared_buffers = 512MB
maintenance_work_mem = 512MB
max_wal_size = 4GB
CONF
    lg_as_user "$LG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null ||
        { cat "$dir/server.log"; return 1; }
    export PGUSER=postgres PGDATABASE=postgres
    trap lg_cluster_stop EXIT
}

# A scratch directory (sets $dir) holding a started throwaway cluster; both go
# away when the script exits.  lg_scratch_cluster NAME
lg_scratch_cluster() {
    dir=$(mktemp -d "/tmp/lane_google_$1.XXXXXX")
    [ "$(id -u)" -eq 0 ] && chown "$LG_USER" "$dir"
    trap 'rm -rf "$dir"' EXIT
    lg_cluster_start "$dir/cluster"
    trap 'lg_cluster_stop; rm -rf "$dir"' EXIT
}

# A benchmark's start: lg_bench_start NAME RUNS sets S (LG_SCALE, default 1;
# LG_SMOKE=1: 0.01) and RUNS (LG_RUNS, default RUNS; smoke: 1), builds and
# installs (unless LG_NO_BUILD=1), and starts its scratch cluster ($dir).
lg_bench_start() {
    if [ "${LG_SMOKE:-0}" = 1 ]; then
        S=${LG_SCALE:-0.01}
        RUNS=${LG_RUNS:-1}
    else
        S=${LG_SCALE:-1}
        RUNS=${LG_RUNS:-$2}
    fi
    lg_find_pg_config
    [ "${LG_NO_BUILD:-0}" = 1 ] || lg_build_install
    lg_scratch_cluster "$1"
}

# A benchmark target: lg_verdict DESCRIPTION A B OP prints whether "A OP B"
# holds; each miss adds one to $missed.
missed=0
lg_verdict() {
    if awk -v a="$2" -v b="$3" "BEGIN { exit !(a $4 b) }"; then
        echo "target met:    $1"
    else
        echo "target missed: $1"
        missed=$((missed + 1))
    fi
}

lg_cluster_stop() {
    if [ -n "${LG_CLUSTER:-}" ] && [ -f "$LG_CLUSTER/data/postmaster.pid" ]; then
        lg_as_user "$LG_BINDIR/pg_ctl" -D "$LG_CLUSTER/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
}

lg_psql() {
    lg_as_user "$LG_BINDIR/psql" -X -v ON_ERROR_STOP=1 -q "$@"
}

# --- Citus (a test dependency only: nothing of it is linked into lane_google)
#
# Citus 13.0.5 from ../shared/vendor (beside the clone), built once into the
# server PG_CONFIG names: a stamp in its extension directory records the
# tarball's sha256 and the server's version, and a matching stamp with
# citus.so in place skips the build.  Citus 13 supports PostgreSQL 15 to 17.
LG_CITUS_VERSION=13.0.5
LG_CITUS_PACKAGES="build-essential libssl-dev libicu-dev liblz4-dev libzstd-dev libkrb5-dev"

# The tarball: $LG_CITUS_TARBALL, else shared/vendor in the first directory
# above the tree that has one (CI: the clone with shared/ beside it)
lg_citus_tarball() {
    local d=$LG_ROOT
    if [ -n "${LG_CITUS_TARBALL:-}" ]; then
        echo "$LG_CITUS_TARBALL"
        return
    fi
    while [ "$d" != / ]; do
        d=$(dirname "$d")
        if [ -f "$d/shared/vendor/citus-$LG_CITUS_VERSION.tar.gz" ]; then
            echo "$d/shared/vendor/citus-$LG_CITUS_VERSION.tar.gz"
            return
        fi
    done
    return 1
}

lg_citus_supported() {
    local major
    lg_find_pg_config
    major=$($PG_CONFIG --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
    [ "$major" -ge 15 ] && [ "$major" -le 17 ]
}

# Prints "built in N s", "reused" or "skipped: REASON"; fails only when a
# build that should work does not.
lg_build_citus() {
    local tarball stamp want build t0
    lg_find_pg_config
    if ! lg_citus_supported; then
        echo "skipped: Citus $LG_CITUS_VERSION does not support $($PG_CONFIG --version)"
        return 0
    fi
    tarball=$(lg_citus_tarball) || {
        lg_log "citus-$LG_CITUS_VERSION.tar.gz not found in shared/vendor above $LG_ROOT"
        return 1
    }
    stamp="$($PG_CONFIG --sharedir)/extension/citus.lane_google_stamp"
    want="citus $LG_CITUS_VERSION $(sha256sum "$tarball" | cut -d' ' -f1) $($PG_CONFIG --version)"
    if [ -f "$($PG_CONFIG --pkglibdir)/citus.so" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        echo "reused"
        return 0
    fi
    lg_install_packages $LG_CITUS_PACKAGES || return 1
    t0=$(date +%s)
    build=$(mktemp -d /tmp/lane_google_citus_build.XXXXXX)
    lg_log "building Citus $LG_CITUS_VERSION for $($PG_CONFIG --version) in $build"
    # --without-libcurl: no anonymous statistics sent from test clusters;
    # with_llvm=no: no LLVM bitcode (about half the build time), which only
    # the JIT would use.  The build's output goes to $build/build.log.
    if ! (cd "$build" && tar xzf "$tarball" && cd "citus-$LG_CITUS_VERSION" &&
        ./configure PG_CONFIG="$PG_CONFIG" --without-libcurl &&
        make -j"$(nproc)" with_llvm=no &&
        make install-extension with_llvm=no) >"$build/build.log" 2>&1; then
        tail -n 40 "$build/build.log"
        lg_log "Citus build failed (log kept in $build/build.log)"
        return 1
    fi
    echo "$want" >"$stamp"
    rm -rf "$build"
    echo "built in $(($(date +%s) - t0)) s"
}

# A coordinator and two workers, each with its data in DIR/{coordinator,
# worker1,worker2} and its socket in DIR (Citus reaches them by socket
# directory: libpq reads a host starting with '/' as one).  Sets
# LG_CITUS_HOST and LG_CITUS_PORTS (coordinator first); PGHOST/PGPORT point
# at the coordinator.  Each node has CREATE EXTENSION citus in database
# postgres and the workers are registered.
lg_citus_start() {
    local dir=$1 name port ports=() conf
    lg_find_pg_config
    LG_BINDIR=$($PG_CONFIG --bindir)
    LG_CITUS_DIR=$dir
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown "$LG_USER" "$dir"
    export LG_BINDIR LG_CITUS_DIR
    trap lg_citus_stop EXIT
    for name in coordinator worker1 worker2; do
        # lg_free_port, past the ports of the nodes started already
        port=$(lg_free_port "$dir")
        while [ -e "$dir/.s.PGSQL.$port" ] || [[ " ${ports[*]} " == *" $port "* ]]; do
            port=$((port + 1))
        done
        lg_as_user "$LG_BINDIR/initdb" -D "$dir/$name" -U postgres -A trust --no-sync >"$dir/$name.initdb.log" 2>&1 ||
            { cat "$dir/$name.initdb.log"; return 1; }
        cat >>"$dir/$name/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
fsync = off
shared_preload_libraries = 'citus'
wal_level = logical
max_worker_processes = 16
max_wal_senders = 10
shared_buffers = 128MB
CONF
        lg_as_user "$LG_BINDIR/pg_ctl" -D "$dir/$name" -l "$dir/$name.log" -w start >/dev/null ||
            { cat "$dir/$name.log"; return 1; }
        ports+=("$port")
        lg_as_user "$LG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres \
            -c 'CREATE EXTENSION citus' || return 1
    done
    LG_CITUS_HOST=$dir
    LG_CITUS_PORTS="${ports[*]}"
    PGHOST=$dir
    PGPORT=${ports[0]}
    export LG_CITUS_HOST LG_CITUS_PORTS PGHOST PGPORT PGUSER=postgres PGDATABASE=postgres
    lg_as_user "$LG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -At -U postgres -d postgres <<SQL >/dev/null || return 1
SELECT pg_catalog.citus_set_coordinator_host('$dir', ${ports[0]});
SELECT pg_catalog.citus_add_node('$dir', ${ports[1]});
SELECT pg_catalog.citus_add_node('$dir', ${ports[2]});
SQL
}

lg_citus_stop() {
    local name
    [ -n "${LG_CITUS_DIR:-}" ] || return 0
    for name in worker2 worker1 coordinator; do
        [ -f "$LG_CITUS_DIR/$name/postmaster.pid" ] &&
            lg_as_user "$LG_BINDIR/pg_ctl" -D "$LG_CITUS_DIR/$name" -m fast -w stop >/dev/null 2>&1
    done
    return 0
}
