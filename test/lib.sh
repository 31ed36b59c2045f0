# test/lib.sh: shell helpers shared by the test harness, the demo and the
# benchmarks.  Source it; it sets LG_ROOT (the source tree).
#
#   lg_install_deps      apt-get what is missing (as root only)
#   lg_build_install     make && make install (PGXS)
#   lg_as_user CMD...    run CMD as the unprivileged test user
#   lg_cluster_start DIR start a throwaway cluster in DIR on a Unix socket
#   lg_cluster_stop      stop it (also done at exit)
#   lg_scratch_cluster N a temporary directory $dir with a started cluster
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

lg_build_install() {
    lg_find_pg_config
    lg_log "building with $($PG_CONFIG --version)"
    make -C "$LG_ROOT" -s PG_CONFIG="$PG_CONFIG" COPT="-Werror ${LG_COPT:-}" >/dev/null
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
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u "$LG_USER" -- env PATH="$PATH" PG_CONFIG="$PG_CONFIG" "$@"
    else
        "$@"
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
    local tarball stamp want build t0 p missing=""
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
    for p in $LG_CITUS_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        if [ "$(id -u)" -ne 0 ]; then
            lg_log "missing packages to build Citus:$missing (run as root to install them)"
            return 1
        fi
        lg_log "installing for Citus:$missing"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null ||
            { apt-get update -qq >/dev/null &&
              DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null; } || return 1
    fi
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
