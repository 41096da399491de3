#!/usr/bin/env bash
# Runs Ferry locally in the foreground, the way it runs on real hosts:
#   PostgreSQL in .ferry/pg on 127.0.0.1:${FERRY_PG_PORT:-5433};
#   the API on http://127.0.0.1:5080 (Swagger UI at /swagger), its agent gRPC endpoint on 10.77.0.1:5081;
#   two agents, host-a (10.77.0.2) and host-b (10.77.0.3), each in its own network namespace
#   (scripts/hosts.sh), so migration traffic crosses a veth pair and a bridge, and each with its own
#   OVS-DPDK switch (bridge br-ferry; daemons, sockets and logs under .ferry/run/<host>/);
#   a demo guest "demo" running on host-a, with two vhost-user NICs (ports demo-0, demo-1).
# The hosts' switches are joined by a second veth pair ("fabric" in each namespace), which carries
# the probe traffic that measures a migration's network downtime (policy.probeRatePps).
# Knobs: FERRY_FORWARDING_IMAGE=<dir of scripts/forwarding-guest/build.sh> lets the agents run
# "forwarder" guests; FERRY_PMD_MAXSLEEP (µs, default 1000) is OVS's pmd-maxsleep (0 = busy poll).
# Trust: scripts/credentials.sh makes (once; renews when near expiry) an admin API key in .ferry/api-key
# and a cluster CA with the API's and each host's certificates in .ferry/pki (keys 0600): REST clients
# send the key, the API and the agents speak gRPC over mutual TLS with those certificates.
# Ctrl-C or SIGTERM stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
state="$root/.ferry"
pg_port=${FERRY_PG_PORT:-5433}
subnet=10.77.0
api=http://127.0.0.1:5080
mkdir -p "$state/logs" "$state/run"
# The postgres user runs the cluster in .ferry/pg and must pass through .ferry (older credentials.sh closed it).
chmod go+x "$state"

echo "ferry: making the API key and the cluster's certificates (.ferry/api-key, .ferry/pki)"
scripts/credentials.sh "$state" "$subnet.1" "host-a=$subnet.2" "host-b=$subnet.3"
pki="$state/pki"
api_key=$(<"$state/api-key")
# The API gets the key's hash, never the key: its environment and logs hold no secret.
api_key_hash=$(printf '%s' "$api_key" | sha256sum | cut -d' ' -f1)
# Every curl below authenticates; the key comes from a file, never from the command line (ps shows those).
curl() { command curl -H @"$state/api-key.header" "$@"; }
(umask 077 && printf 'X-Api-Key: %s\n' "$api_key" >"$state/api-key.header")

pids=()
stop() {
  trap - EXIT INT TERM
  echo "ferry: stopping"
  # Agents first, then the API, then the database and the namespaces.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  # An agent's shutdown leaves its guests running (a restarted agent adopts them); make run's stop does
  # not: every QEMU whose QMP socket lies in this run's directory goes too.
  for proc in /proc/[0-9]*; do
    if tr '\0' '\n' <"$proc/cmdline" 2>/dev/null | grep -q "^socket,id=qmp0,path=$state/run/"; then
      kill -TERM "${proc#/proc/}" 2>/dev/null || true
    fi
  done
  scripts/hosts.sh down ferry || true
  scripts/postgres.sh stop "$state/pg"
  echo "ferry: stopped"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "ferry: creating hosts host-a and host-b (network namespaces ferry-a, ferry-b)"
scripts/hosts.sh up ferry

echo "ferry: reserving hugepages for the hosts' OVS-DPDK switches"
scripts/hugepages.sh

echo "ferry: starting PostgreSQL on 127.0.0.1:$pg_port (data in .ferry/pg)"
scripts/postgres.sh start "$state/pg" "$pg_port"

echo "ferry: starting the API on $api (Swagger UI: $api/swagger); logs in .ferry/logs/api.log"
ConnectionStrings__Ferry="Host=127.0.0.1;Port=$pg_port;Database=ferry;Username=ferry;Password=ferry" \
Kestrel__Endpoints__Grpc__Url="https://$subnet.1:5081" \
Ferry__Security__ApiKeys__0__Name=admin Ferry__Security__ApiKeys__0__Key="sha256:$api_key_hash" Ferry__Security__ApiKeys__0__Scopes__0=admin \
Ferry__Tls__CaFile="$pki/ca.crt" Ferry__Tls__CertificateFile="$pki/api.crt" Ferry__Tls__KeyFile="$pki/api.key" \
ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Production} \
  dotnet src/Api/bin/Release/net10.0/Ferry.Api.dll --contentRoot "$root/src/Api" >"$state/logs/api.log" 2>&1 &
pids+=($!)

wait_for() { # wait_for WHAT COMMAND...
  local what=$1; shift
  for _ in $(seq 1 240); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    for pid in "${pids[@]}"; do
      kill -0 "$pid" 2>/dev/null || { echo "ferry: a process exited while waiting for $what; see .ferry/logs" >&2; exit 1; }
    done
    sleep 0.5
  done
  echo "ferry: timed out waiting for $what; see .ferry/logs" >&2
  exit 1
}
wait_for "the API" curl -fsS "$api/readyz"

for host in a b; do
  ip="$subnet.$([[ $host == a ]] && echo 2 || echo 3)"
  echo "ferry: starting the agent of host-$host on $ip; logs in .ferry/logs/agent-$host.log"
  ip netns exec "ferry-$host" dotnet src/Agent/bin/Release/net10.0/Ferry.Agent.dll \
    --Agent:HostName="host-$host" --Agent:MigrationAddress="$ip" --Agent:GrpcUrl="https://$ip:5090" \
    --Agent:ApiUrl="https://$subnet.1:5081" --Agent:RunRoot="$state/run" --Agent:StateRoot="$state/lib" \
    --Ferry:Tls:CaFile="$pki/ca.crt" --Ferry:Tls:CertificateFile="$pki/host-$host.crt" --Ferry:Tls:KeyFile="$pki/host-$host.key" \
    --Ovs:UseSystemInstance=false --Ovs:PmdMaxSleepMicroseconds="${FERRY_PMD_MAXSLEEP:-1000}" \
    --Probe:FabricPort=fabric ${FERRY_FORWARDING_IMAGE:+--Qemu:ForwardingGuestImage="$FERRY_FORWARDING_IMAGE"} \
    >"$state/logs/agent-$host.log" 2>&1 &
  pids+=($!)
done
# The database may remember both hosts as ready from an earlier run: ask the agents themselves first.
# Health over the agents' own TLS listeners, with the API's certificate (they take no caller without one).
agent_health() { command curl -fsS --http2 --cacert "$pki/ca.crt" --cert "$pki/api.crt" --key "$pki/api.key" "https://$1:5090/healthz"; }
wait_for "the agent of host-a" agent_health "$subnet.2"
wait_for "the agent of host-b" agent_health "$subnet.3"
ready_hosts() { local hosts; hosts=$(curl -fsS "$api/api/v1/hosts?state=ready") && grep -q host-a <<<"$hosts" && grep -q host-b <<<"$hosts"; }
wait_for "both agents to register" ready_hosts

if ! curl -fsS "$api/api/v1/guests/demo" >/dev/null 2>&1; then
  curl -fsS -XPOST "$api/api/v1/guests" -H 'content-type: application/json' \
    -d '{"name":"demo","memoryMiB":256,"vcpus":1,"host":"host-a","vhostUserPorts":["demo-0","demo-1"]}' >/dev/null
fi
echo "ferry: starting the demo guest on its host"
curl -fsS -XPOST "$api/api/v1/guests/demo/start" >/dev/null

cat <<BANNER
ferry: ready
  Swagger UI        $api/swagger   (Authorize with the admin API key in $state/api-key)
  API key           $state/api-key  e.g. curl -H "X-Api-Key: \$(cat .ferry/api-key)" $api/api/v1/hosts
  migrate the demo  scripts/migrate.sh demo        (moves it to the other host and prints the result)
  Ctrl-C stops everything.
BANNER

wait -n "${pids[@]}"
