#!/usr/bin/env bash
# The control-plane benchmark (make bench-control-plane): builds the API and the benchmark, then runs it. It starts
# its own PostgreSQL (scripts/postgres.sh, in a temporary directory), the API as its own process, one in-process
# server answering for every simulated host's agent, and the simulated agents; all of it is stopped when it ends.
# Prints one JSON line on stdout; what it did goes to stderr.
# usage: scripts/bench-control-plane.sh [--agents 1000] [--migrations 2000] [--rest-rate 200] [--timeout 600]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/Api -c Release --nologo -v quiet >&2
dotnet build bench/ControlPlane.Benchmark -c Release --nologo -v quiet >&2
exec dotnet bench/ControlPlane.Benchmark/bin/Release/net10.0/Ferry.ControlPlane.Benchmark.dll "$@"
