#!/usr/bin/env bash
# Runs a private PostgreSQL cluster from Debian's package in a directory of the caller's, on loopback.
#   postgres.sh start DATA_DIR PORT   create (first time) and start it; database "ferry", superuser ferry/ferry
#   postgres.sh stop DATA_DIR         stop it (fast shutdown)
#   postgres.sh status DATA_DIR       exit 0 when it runs
# As root the cluster runs as the "postgres" user (PostgreSQL refuses to run as root).
set -euo pipefail

cmd=${1:?usage: postgres.sh start|stop|status DATA_DIR [PORT]}
data=${2:?data directory required}
port=${3:-5432}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [[ -z "$bindir" || ! -x "$bindir/pg_ctl" ]]; then
  echo "postgres.sh: PostgreSQL is not installed (run scripts/install-deps.sh)" >&2
  exit 1
fi

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "$cmd" in
  start)
    mkdir -p "$data"
    data=$(cd "$data" && pwd)
    [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$data" && chmod 700 "$data"
    if [[ ! -f "$data/PG_VERSION" ]]; then
      pwfile=$(mktemp)
      echo ferry > "$pwfile"
      [[ $(id -u) -eq 0 ]] && chown postgres "$pwfile"
      as_owner "$bindir/initdb" -D "$data" -U ferry --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
        --auth-host=scram-sha-256 --auth-local=trust >"$data.initdb.log" 2>&1 \
        || { cat "$data.initdb.log" >&2; rm -f "$pwfile" "$data.initdb.log"; exit 1; }
      rm -f "$pwfile" "$data.initdb.log"
    fi
    if ! as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      as_owner "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
        -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null \
        || { tail -n 20 "$data/server.log" >&2; exit 1; }
    fi
    if ! as_owner "$bindir/psql" -h "$data" -p "$port" -U ferry -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='ferry'" | grep -q 1; then
      as_owner "$bindir/psql" -h "$data" -p "$port" -U ferry -d postgres -qc "CREATE DATABASE ferry" >/dev/null
    fi
    ;;
  stop)
    if [[ -f "$data/PG_VERSION" ]]; then
      as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
  status)
    as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1
    ;;
  *)
    echo "postgres.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
