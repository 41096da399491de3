#!/usr/bin/env bash
# The notification benchmark (make bench-notifications, issue 13): builds the API and the control-plane benchmark, then
# runs its notification mode: its own PostgreSQL, the API process, a simulated fleet, 100 subscribers on a local
# receiver (one of them dead) and the events of 1000 migrations, after 200 warm-up migrations that count nowhere.
# The 1000 are requested all at once, or --migration-rate N a second. Prints one JSON line on stdout
# {"subscribers","notifications","deliveredPerSecond","p99DelayMs","migrationsPerSecond","warmupMigrations"};
# what it did goes to stderr.
# usage: scripts/bench-notifications.sh [--subscribers 100] [--migrations 1000] [--agents 200] [--timeout 600]
#        [--warmup 200] [--migration-rate N]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/Api -c Release --nologo -v quiet >&2
dotnet build bench/ControlPlane.Benchmark -c Release --nologo -v quiet >&2
exec dotnet bench/ControlPlane.Benchmark/bin/Release/net10.0/Ferry.ControlPlane.Benchmark.dll notifications "$@"
