#!/usr/bin/env bash
# Runs Ferry locally in the foreground: PostgreSQL in .ferry/pg on 127.0.0.1:${FERRY_PG_PORT:-5433}
# and the API on http://127.0.0.1:5080 (Swagger UI at /swagger). Ctrl-C or SIGTERM stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
state="$root/.ferry"
pg_port=${FERRY_PG_PORT:-5433}
mkdir -p "$state/logs"

pids=()
stop() {
  trap - EXIT INT TERM
  echo "ferry: stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  scripts/postgres.sh stop "$state/pg"
  echo "ferry: stopped"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "ferry: starting PostgreSQL on 127.0.0.1:$pg_port (data in .ferry/pg)"
scripts/postgres.sh start "$state/pg" "$pg_port"

export ConnectionStrings__Ferry="Host=127.0.0.1;Port=$pg_port;Database=ferry;Username=ferry;Password=ferry"
export ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Production}
echo "ferry: starting the API on http://127.0.0.1:5080 (Swagger UI: http://127.0.0.1:5080/swagger)"
dotnet "src/Api/bin/Release/net10.0/Ferry.Api.dll" --contentRoot "$root/src/Api" &
pids+=($!)

# Wait until it is ready, so the banner below is true.
for _ in $(seq 1 120); do
  if curl -fsS http://127.0.0.1:5080/readyz >/dev/null 2>&1; then
    echo "ferry: ready — http://127.0.0.1:5080/swagger ; Ctrl-C to stop"
    break
  fi
  if ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "ferry: the API exited during start-up" >&2
    exit 1
  fi
  sleep 0.5
done

wait -n "${pids[@]}"
