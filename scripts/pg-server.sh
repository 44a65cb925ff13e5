#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for tests and benchmarks: loopback only, trust auth, data in a
# temporary folder, owned by the `postgres` system user (initdb refuses to run as root).
#   scripts/pg-server.sh start [DIR]   starts it (DIR default: a new temp folder) and writes
#                                       DIR/env with PLINTH_TEST_PG_DSN=postgresql://…/postgres
#   scripts/pg-server.sh stop DIR      stops it and removes DIR
#   scripts/pg-server.sh restart DIR   stops and starts it again on the same port (fault tests)
# Prints the env file's path on start. Tunables: PG_MAX_CONNECTIONS (default 300).
set -euo pipefail

PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
if [ ! -x "$PG_BIN/initdb" ]; then
  echo "pg-server: PostgreSQL server binaries not found (scripts/install-deps.sh installs them)" >&2
  exit 2
fi

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

cmd="${1:-}"
case "$cmd" in
  start)
    dir="${2:-$(mktemp -d /tmp/plinth-pg.XXXXXX)}"
    mkdir -p "$dir"
    chmod 755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    port="$(free_port)"
    as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = ${PG_MAX_CONNECTIONS:-300}
shared_buffers = 256MB
fsync = on
synchronous_commit = on
logging_collector = off
CONF
    echo "$port" >"$dir/port"
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
    echo "PLINTH_TEST_PG_DSN=postgresql://postgres@127.0.0.1:$port/postgres" >"$dir/env"
    echo "PLINTH_TEST_PG_DIR=$dir" >>"$dir/env"
    echo "$dir/env"
    ;;
  stop)
    dir="${2:?usage: pg-server.sh stop DIR}"
    if [ -d "$dir/data" ]; then
      as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  restart)
    dir="${2:?usage: pg-server.sh restart DIR}"
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 60 restart >/dev/null
    ;;
  *)
    echo "usage: pg-server.sh start [DIR] | stop DIR | restart DIR" >&2
    exit 2
    ;;
esac
