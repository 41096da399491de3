#!/usr/bin/env bash
# Frees what the agents of a run leave on the machine once they are stopped: agents stop their switches but
# never their guests (a guest outlives its agent, as with systemd's KillMode=process), so whoever started
# the hosts ends what still runs in them and frees the guests' files. Used by scripts/run.sh (stopping, and
# reconciling what a killed run left) and by the end-to-end tests' cluster.
#   reap.sh RUN_ROOT HOST=NAMESPACE...
#     1. every process in each NAMESPACE (guests, switches, an agent of a killed run): SIGTERM, and SIGKILL
#        to what still runs 10 s later;
#     2. for each QEMU instance the HOST's agent ran (a directory RUN_ROOT/HOST/qemu/INSTANCE), its RAM file
#        (the mem-path of the QEMU command line the agent kept in INSTANCE/qemu.args; the agent's default,
#        /dev/shm/ferry-HOST/ferry-INSTANCE.ram or under /dev/hugepages, without one) and that directory;
#        the RAM file's directory when nothing else is in it;
#     3. the sockets left under RUN_ROOT (QMP, OVS, vhost-user).
# A guest that arrived by migration is an instance of its own (GUEST-in-DIGEST) with a RAM file of its own:
# after a full `make test` three of those, 128 MiB each, were left in /dev/shm/ferry-host-b (issue 12).
# Prints what it freed; exit 1 when a process outlived SIGKILL (its files are freed all the same).
set -uo pipefail

run_root=${1:?usage: reap.sh RUN_ROOT HOST=NAMESPACE...}
shift
status=0

# alive and wait_gone, as make run uses them.
source "$(dirname "${BASH_SOURCE[0]}")/supervise.sh"

namespaces=() pids=()
for pair in "$@"; do
  [[ $pair == *=* ]] || { echo "reap.sh: expected HOST=NAMESPACE, got '$pair'" >&2; exit 2; }
  namespaces+=("${pair#*=}")
done
for ns in "${namespaces[@]}"; do
  for pid in $(ip netns pids "$ns" 2>/dev/null); do
    pids+=("$pid")
  done
done
if ((${#pids[@]})); then
  echo "reap: ending ${#pids[@]} processes left in namespaces ${namespaces[*]}"
  kill -TERM "${pids[@]}" 2>/dev/null
  if ! wait_gone 10 "${pids[@]}"; then
    kill -KILL "${pids[@]}" 2>/dev/null
    if ! wait_gone 5 "${pids[@]}"; then
      echo "reap: processes in ${namespaces[*]} outlived SIGKILL: $(for p in "${pids[@]}"; do alive "$p" && echo -n "$p "; done)" >&2
      status=1
    fi
  fi
fi

freed=0
for pair in "$@"; do
  host=${pair%%=*}
  for dir in "$run_root/$host/qemu"/*/; do
    [[ -d $dir ]] || continue
    instance=$(basename "$dir")
    # "memory-backend-file,id=ram0,mem-path=PATH,size=...": the agent validates instance names, so PATH has no comma.
    ram=$(grep -o 'mem-path=[^,]*' "$dir/qemu.args" 2>/dev/null | head -n 1 | cut -d= -f2-)
    rams=(${ram:+"$ram"})
    ((${#rams[@]})) || rams=("/dev/shm/ferry-$host/ferry-$instance.ram" "/dev/hugepages/ferry-$host/ferry-$instance.ram")
    for ram in "${rams[@]}"; do
      [[ $ram == /dev/shm/* || $ram == /dev/hugepages/* ]] || continue # only where the agents keep RAM files
      rm -f "$ram"
      rmdir "$(dirname "$ram")" 2>/dev/null
    done
    rm -rf "$dir"
    freed=$((freed + 1))
  done
done
[[ -d $run_root ]] && find "$run_root" -type s -delete 2>/dev/null
((freed)) && echo "reap: freed the RAM files and run directories of $freed QEMU instances"
exit "$status"
