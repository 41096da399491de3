#!/usr/bin/env bash
# The origin document's experiment on this machine (issue 5): builds the forwarding guest, starts Ferry
# (scripts/run.sh) in the background, runs bench/Lab against its API, stops Ferry on every way out and
# exits with the lab's status. The lab's last stdout lines are one JSON object of medians per case and transport.
#   usage: scripts/lab.sh [extra Ferry.Lab options, e.g. --no-probe]
#   env:   RUNS (5) migrations per guest and transport, RATE (2000) probe frames/s,
#          TRANSPORTS (qemu,native), IDLE_MIB (1024) the idle guest's RAM, LAB_OUT (.ferry/lab)
# The lab authenticates with the admin API key run.sh makes (.ferry/api-key).
# Ferry's own output goes to .ferry/logs/lab-ferry.log (its components log under .ferry/logs as with make run).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
runs=${RUNS:-5}
rate=${RATE:-2000}
transports=${TRANSPORTS:-qemu,native}
idle_mib=${IDLE_MIB:-1024}
out=${LAB_OUT:-$root/.ferry/lab}
api=http://127.0.0.1:5080
image="$root/.ferry/images/forwarding-guest"
ferry_log="$root/.ferry/logs/lab-ferry.log"
lab_dll="$root/bench/Lab/bin/Release/net10.0/Ferry.Lab.dll"
hugepages_sysfs=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
mkdir -p "$root/.ferry/logs" "$out"

say() { echo "lab: $*" >&2; }
die() { say "$*"; exit 1; }

[[ -f $lab_dll ]] || die "$lab_dll is missing: run make build (make lab does)"
if curl -fsS -m 2 "$api/readyz" >/dev/null 2>&1; then
  die "something already answers on $api (a make run?): stop it first, the lab starts its own Ferry"
fi

# The chart's text needs a font file; Skia is used without fontconfig.
if [[ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]]; then
  say "installing fonts-dejavu-core for the chart's text"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-dejavu-core >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-dejavu-core >/dev/null; } \
    || say "could not install fonts-dejavu-core: the chart will have no text"
fi

say "building the forwarding guest image ($image)"
status=0
scripts/forwarding-guest/build.sh "$image" || status=$?
if ((status == 75)); then
  die "the forwarding guest cannot be built: Debian's kernel and busybox packages are unavailable here (build.sh exit 75)"
elif ((status != 0)); then
  die "building the forwarding guest failed (exit $status)"
fi

# Hugepages: what run.sh reserves for the two OVS-DPDK switches (1200 x 2 MiB), plus the lab guests' RAM,
# which is hugepage-backed like the document's -mem-path /dev/hugepages: the idle and the forwarding guest,
# and the target copy of the larger one while it migrates (one migration at a time).
# The pool is machine-wide: pages someone else holds now (another Ferry's switches, a test suite's) stay theirs,
# and 256 more (512 MiB) leave room for the probe's and a concurrent user's growth.
guest_mib=$((idle_mib + 128 + (idle_mib > 128 ? idle_mib : 128)))
before=$(<"$hugepages_sysfs")
in_use=$((before - $(</sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages)))
want=$((in_use + 1200 + (guest_mib + 1) / 2 + 256))
scripts/hugepages.sh "$want" >&2 || die "could not reserve $want x 2 MiB hugepages for OVS and the lab guests"
after=$(<"$hugepages_sysfs")

ferry_pid=""
lab_pid=""
stop_ferry() {
  # Deaf to further signals while it stops, not reset to their defaults: make passes a group's TERM on once
  # more, which killed this script half way, before it gave the hugepages back (as it did run.sh, issue 12).
  trap '' INT TERM
  trap - EXIT
  # The lab first (it stops polling and says so), then Ferry (agents stop the guests, then the API and the database).
  if [[ -n $lab_pid ]]; then
    kill -TERM "$lab_pid" 2>/dev/null || true
    wait "$lab_pid" 2>/dev/null || true
  fi
  if [[ -n $ferry_pid ]]; then
    kill -TERM "$ferry_pid" 2>/dev/null || true
    wait "$ferry_pid" 2>/dev/null || true
  fi
  # Give back the hugepages the lab added, unless someone changed the reservation meanwhile.
  if ((after > before)) && [[ $(<"$hugepages_sysfs") == "$after" ]]; then
    echo "$before" >"$hugepages_sysfs" 2>/dev/null || true
  fi
}
trap stop_ferry EXIT
trap 'trap "" INT TERM; exit 130' INT
trap 'trap "" INT TERM; exit 143' TERM

say "starting Ferry (scripts/run.sh, output in $ferry_log)"
# Emptied here, not by the background job's redirection: that opens the file only once the job runs, and the
# wait below could meanwhile read an earlier run's "ferry: ready" (it did, and the lab started on no API).
: >"$ferry_log"
FERRY_FORWARDING_IMAGE="$image" scripts/run.sh >>"$ferry_log" 2>&1 &
ferry_pid=$!
deadline=$((SECONDS + ${LAB_READY_TIMEOUT:-600}))
until grep -q '^ferry: ready' "$ferry_log"; do
  if ! kill -0 "$ferry_pid" 2>/dev/null; then
    wait "$ferry_pid" 2>/dev/null || true
    ferry_pid=""
    say "Ferry exited before it was ready; the tail of $ferry_log:"
    tail -n 30 "$ferry_log" >&2
    exit 1
  fi
  if ((SECONDS > deadline)); then
    say "Ferry was not ready within ${LAB_READY_TIMEOUT:-600} s; the tail of $ferry_log:"
    tail -n 30 "$ferry_log" >&2
    exit 1
  fi
  sleep 1
done
say "Ferry is ready; running the lab: $runs migrations per guest and transport ($transports), probe $rate frames/s"

# In the background and waited for, so that a signal to this script is handled at once (bash runs a trap only
# after a foreground child ends) and passed on to the lab by stop_ferry.
dotnet "$lab_dll" --api "$api" --api-key-file "$root/.ferry/api-key" --runs "$runs" --rate "$rate" --transports "$transports" --idle-memory-mib "$idle_mib" --out "$out" "$@" &
lab_pid=$!
status=0
wait "$lab_pid" || status=$?
lab_pid=""
exit "$status"
