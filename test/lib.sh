# test/lib.sh: shell helpers shared by the test harness, the demo and the
# benchmarks.  Source it; it sets LG_ROOT (the source tree).
#
#   lg_install_deps      apt-get what is missing (as root only)
#   lg_build_install     make && make install (PGXS)
#   lg_as_user CMD...    run CMD as the unprivileged test user
#   lg_cluster_start DIR start a throwaway cluster in DIR on a Unix socket
#   lg_cluster_stop      stop it (also done at exit)
#   lg_scratch_cluster N a temporary directory $dir with a started cluster

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
    local missing="" p
    for p in $LG_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        if [ "$(id -u)" -ne 0 ]; then
            lg_log "missing packages:$missing (run as root to install them)"
            return 1
        fi
        lg_log "installing:$missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        # the Debian package would start a cluster of its own: keep it from doing so
        mkdir -p /etc/postgresql-common
        [ -f /etc/postgresql-common/createcluster.conf ] ||
            echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
        apt-get install -y -qq $missing >/dev/null
    fi
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

lg_build_install() {
    local copt="-Werror ${LG_COPT:-}" stamp="$LG_ROOT/src/.lg_build_flags"
    lg_find_pg_config
    [ "$LG_SANITIZE" = 1 ] && copt="$copt $LG_SAN_COPT"
    lg_log "building with $($PG_CONFIG --version)${LG_SAN_COPT:+ (LG_SANITIZE=1: $LG_SAN_COPT)}"
    # make does not rebuild objects when the flags change
    if [ "$(cat "$stamp" 2>/dev/null)" != "$copt" ]; then
        make -C "$LG_ROOT" -s PG_CONFIG="$PG_CONFIG" clean >/dev/null
        echo "$copt" > "$stamp"
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
