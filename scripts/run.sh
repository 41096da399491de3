#!/usr/bin/env bash
# Runs Ferry locally in the foreground, the way it runs on real hosts:
#   PostgreSQL in .ferry/pg on 127.0.0.1:5433;
#   the API on http://127.0.0.1:5080 (Swagger UI at /swagger), its agent gRPC endpoint on 10.77.0.1:5081;
#   two agents, host-a (10.77.0.2) and host-b (10.77.0.3), each in its own network namespace
#   (scripts/hosts.sh), so migration traffic crosses a veth pair and a bridge, and each with its own
#   OVS-DPDK switch (bridge br-ferry; daemons, sockets and logs under .ferry/run/<host>/);
#   a demo guest "demo" running on its host, with two vhost-user NICs (ports demo-0, demo-1).
# The hosts' switches are joined by a second veth pair ("fabric" in each namespace), which carries
# the probe traffic that measures a migration's network downtime (policy.probeRatePps).
# Where, for a second Ferry beside this one (its tests run it so): FERRY_API_PORT (5080), FERRY_PG_PORT (5433),
# FERRY_HOSTS_PREFIX (ferry: namespaces PREFIX-a and PREFIX-b, the guests' RAM files in /dev/shm/PREFIX-host-a
# and -b; 1-10 of [a-z0-9], starting with a letter), FERRY_SUBNET (10.77.0: the bridge is .1, the hosts .2 and .3).
# Knobs: FERRY_FORWARDING_IMAGE=<dir of scripts/forwarding-guest/build.sh> lets the agents run
# "forwarder" guests; FERRY_PMD_MAXSLEEP (µs, default 1000) is OVS's pmd-maxsleep (0 = busy poll).
# Trust: scripts/credentials.sh makes (once; renews when near expiry) an admin API key in .ferry/api-key
# and a cluster CA with the API's and each host's certificates in .ferry/pki (keys 0600): REST clients
# send the key, the API and the agents speak gRPC over mutual TLS with those certificates.
# Supervision: the API and each agent run under a supervisor (scripts/supervise.sh) that starts a part
# again when it fails, as systemd's Restart=on-failure would (1 s, doubling to 30 s; back to 1 s after
# a minute's run), and says so here. Pids in .ferry/pids.
# Reconciling: it comes up whatever an earlier run left (one stopped with SIGKILL, a migration stuck
# in the database): it ends that run's processes, frees its guests' RAM files, adopts its database,
# and cancels what keeps the demo guest from starting; a demo that still cannot start is reported,
# and Ferry runs on without it.
# Stopping: Ctrl-C, or SIGTERM to this script or to make's whole process group (make passes its TERM
# on once more), stops everything it started: the agents and the API, every process left in the
# namespaces (guests, switches), the guests' RAM files, the namespaces, PostgreSQL, and the hugepage
# reservation it raised. Signals that come while it stops are ignored; the last line is "ferry: stopped".
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
state="$root/.ferry"
pids="$state/pids"
pg_port=${FERRY_PG_PORT:-5433}
api_port=${FERRY_API_PORT:-5080}
prefix=${FERRY_HOSTS_PREFIX:-ferry}
subnet=${FERRY_SUBNET:-10.77.0}
[[ $pg_port =~ ^[1-9][0-9]{0,4}$ && $api_port =~ ^[1-9][0-9]{0,4}$ ]] || { echo "ferry: FERRY_PG_PORT and FERRY_API_PORT must be port numbers" >&2; exit 2; }
# Link names are at most 15 characters, and hosts.sh names PREFIX-a-br.
[[ $prefix =~ ^[a-z][a-z0-9]{0,9}$ ]] || { echo "ferry: FERRY_HOSTS_PREFIX must be 1-10 of [a-z0-9], starting with a letter, not '$prefix'" >&2; exit 2; }
[[ $subnet =~ ^10\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || { echo "ferry: FERRY_SUBNET must be the first three parts of a 10.x.y.0/24 address, not '$subnet'" >&2; exit 2; }
export FERRY_SUBNET=$subnet # hosts.sh's
api=http://127.0.0.1:$api_port
hugepage_pool=/sys/kernel/mm/hugepages/hugepages-2048kB
source scripts/supervise.sh
mkdir -p "$state/logs" "$state/run" "$pids"
# The postgres user runs the cluster in .ferry/pg and must pass through .ferry (older credentials.sh closed it).
chmod go+x "$state"

# One make run per tree: a second would take the first one's namespaces and database down when it stops.
if [[ -f $pids/run.pid ]]; then
  other=$(<"$pids/run.pid")
  if [[ $other != "$$" ]] && alive "$other" && tr '\0' ' ' <"/proc/$other/cmdline" 2>/dev/null | grep -q 'scripts/run\.sh' \
     && [[ $(readlink "/proc/$other/cwd" 2>/dev/null) == "$root" ]]; then
    echo "ferry: make run is already running in $root (pid $other); stop it first" >&2
    exit 1
  fi
fi
# Nor may it take over what another tree's make run (or anything else) holds: the ports, or processes in
# the namespaces that are not this tree's. What this tree's earlier run left is reconciled below.
foreign=""
for pid in $(ss -Hltnp "( sport = :$api_port or sport = :$pg_port )" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u) \
           $(ip netns pids "$prefix-a" 2>/dev/null) $(ip netns pids "$prefix-b" 2>/dev/null); do
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
  [[ $cmd == *"$root/"* ]] || foreign+="  pid $pid: ${cmd:0:160}"$'\n'
done
if [[ -n $foreign ]]; then
  echo "ferry: make run's ports ($api_port, $pg_port) or namespaces ($prefix-a, $prefix-b) are held by processes not of $root;" \
    "stop them first, or choose others (FERRY_API_PORT, FERRY_PG_PORT, FERRY_HOSTS_PREFIX, FERRY_SUBNET):" >&2
  printf '%s' "$foreign" >&2
  exit 1
fi
echo "$$" >"$pids/run.pid"

# The parts started so far, in order, with their supervisors' pids.
parts=()
declare -A supervisors=()
stopping=0

# reap_hosts: ends what runs in make run's namespaces (guests, switches, agents of an earlier run) and frees the
# RAM files, run directories and sockets of the QEMU instances the agents ran (scripts/reap.sh).
reap_hosts() {
  scripts/reap.sh "$state/run" "host-a=$prefix-a" "host-b=$prefix-b" | sed 's/^reap:/ferry:/'
  return 0
}

# return_hugepages: lowers the 2 MiB hugepage reservation to what it was before make run raised it
# (.ferry/hugepages.before, kept across an unclean stop), unless someone holds hugepages now.
return_hugepages() {
  [[ -f $state/hugepages.before ]] || return 0
  local before now free reserved
  before=$(<"$state/hugepages.before")
  now=$(<"$hugepage_pool/nr_hugepages")
  free=$(<"$hugepage_pool/free_hugepages")
  reserved=$(<"$hugepage_pool/resv_hugepages")
  if ((now <= before)); then
    rm -f "$state/hugepages.before"
  elif ((free == now && reserved == 0)); then
    echo "$before" >"$hugepage_pool/nr_hugepages" && rm -f "$state/hugepages.before"
    echo "ferry: returned the hugepage reservation to $before x 2 MiB (make run had raised it to $now)"
  else
    echo "ferry: left the hugepage reservation at $now x 2 MiB (make run raised it from $before): $((now - free)) pages are in use by others" >&2
  fi
  return 0
}

stop() {
  # Idempotent and deaf to further signals: make passes a TERM on once more, and a second Ctrl-C must not
  # cut the cleanup half way (PostgreSQL and the namespaces stayed). Children started from here inherit it.
  trap '' INT TERM HUP
  set +e
  ((stopping)) && return 0
  stopping=1
  echo "ferry: stopping"
  # Agents first, together (they stop their switches), then the API, then what is left in the namespaces
  # (guests), the database and the namespaces. A part that does not stop within a minute is killed.
  local name agents=() api=()
  for name in "${parts[@]}"; do
    if [[ $name == agent-* ]]; then agents+=("$name=${supervisors[$name]}"); else api+=("$name=${supervisors[$name]}"); fi
  done
  ((${#agents[@]})) && stop_supervised 60 "${agents[@]}"
  ((${#api[@]})) && stop_supervised 60 "${api[@]}"
  reap_hosts
  scripts/hosts.sh down "$prefix"
  scripts/postgres.sh stop "$state/pg"
  return_hugepages
  rm -f "$pids/run.pid"
  echo "ferry: stopped"
}
trap stop EXIT
# Deaf to the next signal from the first one on: make's TERM may follow the group's at once.
trap 'trap "" INT TERM HUP; exit 130' INT
trap 'trap "" INT TERM HUP; exit 143' TERM
trap 'trap "" INT TERM HUP; exit 129' HUP

echo "ferry: making the API key and the cluster's certificates (.ferry/api-key, .ferry/pki)"
scripts/credentials.sh "$state" "$subnet.1" "host-a=$subnet.2" "host-b=$subnet.3"
pki="$state/pki"
api_key=$(<"$state/api-key")
# The API gets the key's hash, never the key: its environment and logs hold no secret.
api_key_hash=$(printf '%s' "$api_key" | sha256sum | cut -d' ' -f1)
# Every curl below authenticates; the key comes from a file, never from the command line (ps shows those).
curl() { command curl -H @"$state/api-key.header" "$@"; }
(umask 077 && printf 'X-Api-Key: %s\n' "$api_key" >"$state/api-key.header")

# What an earlier run left running when it was killed: its API (by its pid file, if it still is that
# API), and whatever runs in the namespaces (agents, guests, switches). Its database is adopted below.
if [[ -f $pids/api.pid ]]; then
  old=$(<"$pids/api.pid")
  if alive "$old" && tr '\0' '\n' <"/proc/$old/cmdline" 2>/dev/null | grep -qx "$root/src/Api"; then
    echo "ferry: ending the API an earlier run left (pid $old)"
    kill -TERM "$old" 2>/dev/null || true
    wait_gone 30 "$old" || kill -KILL "$old" 2>/dev/null || true
  fi
  rm -f "$pids/api.pid"
fi
reap_hosts

echo "ferry: creating hosts host-a and host-b (network namespaces $prefix-a, $prefix-b)"
scripts/hosts.sh up "$prefix"

echo "ferry: reserving hugepages for the hosts' OVS-DPDK switches"
# What to give back when stopping; an earlier run's value stays when that run could not give it back.
[[ -f $state/hugepages.before ]] || cat "$hugepage_pool/nr_hugepages" >"$state/hugepages.before"
scripts/hugepages.sh

echo "ferry: starting PostgreSQL on 127.0.0.1:$pg_port (data in .ferry/pg)"
scripts/postgres.sh start "$state/pg" "$pg_port"

# start_part NAME WHAT LOG COMMAND...: COMMAND under a supervisor, its log emptied first.
start_part() {
  local name=$1 what=$2 log=$3
  shift 3
  : >"$log"
  supervise "$name" "$what" "$log" "$@" &
  supervisors[$name]=$!
  parts+=("$name")
}

echo "ferry: starting the API on $api (Swagger UI: $api/swagger); logs in .ferry/logs/api.log"
ConnectionStrings__Ferry="Host=127.0.0.1;Port=$pg_port;Database=ferry;Username=ferry;Password=ferry" \
Kestrel__Endpoints__Http__Url="$api" Kestrel__Endpoints__Grpc__Url="https://$subnet.1:5081" \
Ferry__Security__ApiKeys__0__Name=admin Ferry__Security__ApiKeys__0__Key="sha256:$api_key_hash" Ferry__Security__ApiKeys__0__Scopes__0=admin \
Ferry__Tls__CaFile="$pki/ca.crt" Ferry__Tls__CertificateFile="$pki/api.crt" Ferry__Tls__KeyFile="$pki/api.key" \
ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Production} \
  start_part api "the API" "$state/logs/api.log" dotnet src/Api/bin/Release/net10.0/Ferry.Api.dll --contentRoot "$root/src/Api"

wait_for() { # wait_for WHAT COMMAND...: polls COMMAND for 2 minutes; fails when it never succeeds or a supervisor gave up
  local what=$1 name
  shift
  for _ in $(seq 1 240); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    for name in "${parts[@]}"; do
      alive "${supervisors[$name]}" || { echo "ferry: $name ended while waiting for $what; see .ferry/logs" >&2; exit 1; }
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
  start_part "agent-$host" "the agent of host-$host" "$state/logs/agent-$host.log" \
    ip netns exec "$prefix-$host" dotnet src/Agent/bin/Release/net10.0/Ferry.Agent.dll \
    --Ferry:Agent:HostName="host-$host" --Ferry:Agent:MigrationAddress="$ip" --Ferry:Agent:GrpcUrl="https://$ip:5090" \
    --Ferry:Agent:ApiUrl="https://$subnet.1:5081" --Ferry:Agent:RunRoot="$state/run" --Ferry:Agent:StateRoot="$state/lib" \
    --Ferry:Qemu:TmpfsDirectory="/dev/shm/$prefix-host-$host" --Ferry:Qemu:HugetlbfsDirectory="/dev/hugepages/$prefix-host-$host" \
    --Ferry:Tls:CaFile="$pki/ca.crt" --Ferry:Tls:CertificateFile="$pki/host-$host.crt" --Ferry:Tls:KeyFile="$pki/host-$host.key" \
    --Ferry:Ovs:UseSystemInstance=false --Ferry:Ovs:PmdMaxSleepMicroseconds="${FERRY_PMD_MAXSLEEP:-1000}" \
    --Ferry:Probe:FabricPort=fabric ${FERRY_FORWARDING_IMAGE:+--Ferry:Qemu:ForwardingGuestImage="$FERRY_FORWARDING_IMAGE"}
done
# The database may remember both hosts as ready from an earlier run: ask the agents themselves first.
# Health over the agents' own TLS listeners, with the API's certificate (they take no caller without one).
agent_health() { command curl -fsS --http2 --cacert "$pki/ca.crt" --cert "$pki/api.crt" --key "$pki/api.key" "https://$1:5090/healthz"; }
wait_for "the agent of host-a" agent_health "$subnet.2"
wait_for "the agent of host-b" agent_health "$subnet.3"
ready_hosts() { local hosts; hosts=$(curl -fsS "$api/api/v1/hosts?state=ready") && grep -q host-a <<<"$hosts" && grep -q host-b <<<"$hosts"; }
wait_for "both agents to register" ready_hosts

# request METHOD PATH [JSON]: one REST call; sets $status (000 when nothing answered) and $body.
request() {
  local out
  out=$(mktemp)
  status=$(curl -sS -o "$out" -w '%{http_code}' -X "$1" "$api$2" ${3:+-H 'content-type: application/json' -d "$3"} 2>/dev/null) || status=${status:-000}
  body=$(<"$out")
  rm -f "$out"
}
problem() { jq -r '.detail // .title // empty' <<<"$body" 2>/dev/null || true; }

# The demo guest, whatever an earlier run left: defined if absent; migrations that an earlier run left
# unfinished are cancelled (before switch-over) or waited for (after it), 2 minutes at most; started if
# it does not run. Never fatal: Ferry is useful without it, and the reason is said.
start_demo() {
  local active id migration_state
  request GET /api/v1/guests/demo
  if [[ $status == 404 ]]; then
    request POST /api/v1/guests '{"name":"demo","memoryMiB":256,"vcpus":1,"host":"host-a","vhostUserPorts":["demo-0","demo-1"]}'
    [[ $status == 201 ]] || { echo "ferry: could not define the demo guest ($status): $(problem)" >&2; return 1; }
  elif [[ $status != 200 ]]; then
    echo "ferry: could not read the demo guest ($status): $(problem)" >&2
    return 1
  fi

  local unfinished='[.items[] | select(.state != "completed" and .state != "failed" and .state != "cancelled")]'
  local cancelled=() deadline=$((SECONDS + 120))
  while :; do
    request GET '/api/v1/migrations?guest=demo&pageSize=100'
    [[ $status == 200 ]] || { echo "ferry: could not list the demo guest's migrations ($status): $(problem)" >&2; return 1; }
    active=$(jq -r "$unfinished | .[] | .id + \" \" + .state" <<<"$body")
    [[ -z $active ]] && break
    while read -r id migration_state; do
      [[ " ${cancelled[*]} " == *" $id "* ]] && continue
      cancelled+=("$id")
      echo "ferry: the demo guest's migration $id was left '$migration_state' by an earlier run; cancelling it"
      request POST "/api/v1/migrations/$id/cancel"
      [[ $status == 202 ]] || echo "ferry: the API did not cancel migration $id ($status): $(problem); waiting for it to end" >&2
    done <<<"$active"
    if ((SECONDS > deadline)); then
      echo "ferry: the demo guest was not started: its migration(s) $(tr '\n' ' ' <<<"$active")did not end within 2 minutes" \
        "(scripts/migrate.sh and the API's migrations endpoint show them; the API must end them)" >&2
      return 1
    fi
    sleep 1
  done

  echo "ferry: starting the demo guest on its host"
  local started started_body
  for attempt in 1 2 3; do
    request POST /api/v1/guests/demo/start
    started=$status started_body=$body
    [[ $started == 200 ]] && { echo "ferry: the demo guest runs on $(jq -r .host <<<"$body")"; return 0; }
    # A conflict may say it runs already (an agent refuses a second QEMU of a guest): that is what was asked for.
    [[ $started == 409 ]] && request GET /api/v1/guests/demo
    if [[ $started == 409 && $status == 200 && $(jq -r .state <<<"$body") == running ]]; then
      echo "ferry: the demo guest already runs on $(jq -r .host <<<"$body")"
      return 0
    fi
    ((attempt < 3)) && sleep 2
  done
  body=$started_body
  echo "ferry: could not start the demo guest ($started): $(problem)" >&2
  return 1
}
demo_line="  migrate the demo  scripts/ferry migrate demo --to host-b --wait   (live progress, then the result and its SLA verdict)"
start_demo || demo_line="  the demo guest    not running: see the lines above"

cat <<BANNER
ferry: ready
  Swagger UI        $api/swagger   (Authorize with the admin API key in $state/api-key)
  dashboard         $api/dashboard   (asks for the same key; docs/dashboard.md)
  API key           $state/api-key  e.g. curl -H "X-Api-Key: \$(cat .ferry/api-key)" $api/api/v1/hosts
$demo_line
  the CLI           scripts/ferry --help   (hosts, guests, migrations, show, watch, cancel, drain, sla; --output json for scripts)
  Ctrl-C stops everything.
BANNER

# The supervisors end only when told to, or when their part ended cleanly on its own (not restarted).
wait
echo "ferry: every part ended on its own"
