# Process helpers of scripts/run.sh (sourced, not run): supervising a part as systemd's
# Restart=on-failure would, waiting for processes through signals, and stopping them within a bound.
# Needs $pids: the directory where each part's pid file lives (NAME.pid: the part's current process).

# alive PID: the process exists and is not a zombie (a zombie has exited; only its status waits).
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# reap PID: waits until the child PID has exited and returns its status. A trapped signal interrupts
# bash's wait with 128+signal while the child still runs; then it waits again.
reap() {
  local pid=$1 rc again
  while :; do
    wait "$pid" 2>/dev/null # (bash would print "Killed" for a part that was killed: the supervisor says it)
    rc=$?
    if ((rc > 128)) && kill -0 "$pid" 2>/dev/null; then
      continue
    fi
    if ((rc > 128)); then
      # Interrupted just as the child ended: its own status is still there to collect (127: it was not).
      wait "$pid" 2>/dev/null
      again=$?
      ((again != 127)) && rc=$again
    fi
    return "$rc"
  done
}

# wait_gone SECONDS PID...: true once none of PID... runs, false when SECONDS pass first.
wait_gone() {
  local seconds=$1 pid left
  shift
  for ((tick = 0; tick < seconds * 5; tick++)); do
    left=0
    for pid in "$@"; do
      alive "$pid" && left=1
    done
    ((left)) || return 0
    sleep 0.2
  done
  return 1
}

# describe_exit STATUS: how a process ended, in words, from the status bash's wait gives.
describe_exit() {
  if (($1 > 128)); then
    echo "killed by SIG$(kill -l $(($1 - 128)) 2>/dev/null || echo $(($1 - 128)))"
  else
    echo "status $1"
  fi
}

# clean_exit STATUS: what systemd counts as a clean end (exit 0, or SIGHUP, SIGINT, SIGTERM, SIGPIPE),
# which Restart=on-failure does not restart.
clean_exit() {
  case $1 in
    0 | 129 | 130 | 141 | 143) return 0 ;;
    *) return 1 ;;
  esac
}

# supervise NAME WHAT LOG COMMAND...: run in the background (supervise ... &). Runs COMMAND with its
# output appended to LOG and its pid in $pids/NAME.pid; when it fails (any end but a clean one) it is
# started again after 1 s, then 2, 4 ... 30 s, back to 1 s once a run lasted a minute; each restart is
# said on the output. SIGTERM to the supervisor stops COMMAND (SIGTERM) and ends the supervisor once
# COMMAND has ended. It also ends when the shell that started it is gone (nobody would stop it).
supervise() {
  local name=$1 what=$2 log=$3
  shift 3
  local parent=$$ child=0 sleeper=0 stopping=0 delay=1 started rc ran
  set +e
  # Ctrl-C (and a hang-up) reach the whole process group, this subshell too: it would die of them with its part
  # still running (bash ignores SIGINT only in the commands it starts in the background, not in a subshell
  # like this one, whose own SIGINT disposition is the default: seen, a Ctrl-C left both agents and the API
  # running, deaf to the SIGTERM run.sh then sent their dead supervisors). Ignored here, and by the part started
  # from here; run.sh, which does take them, stops every part with SIGTERM through its supervisor.
  trap '' INT HUP
  on_term() {
    stopping=1
    ((child)) && kill -TERM "$child" 2>/dev/null
    ((sleeper)) && kill -TERM "$sleeper" 2>/dev/null
  }
  trap on_term TERM
  while :; do
    started=$SECONDS
    printf -- '--- %s ferry: starting %s ---\n' "$(date -Is)" "$what" >>"$log"
    "$@" >>"$log" 2>&1 &
    child=$!
    echo "$child" >"$pids/$name.pid"
    # The TERM may have come between the fork and the line above: it found no child to pass it to.
    ((stopping)) && kill -TERM "$child" 2>/dev/null
    reap "$child"
    rc=$?
    child=0
    ran=$((SECONDS - started))
    ((stopping)) && exit 0
    alive "$parent" || exit 0
    if clean_exit "$rc"; then
      echo "ferry: $what exited on its own ($(describe_exit "$rc")) after ${ran} s; not restarted (Restart=on-failure); see $log" >&2
      exit 0
    fi
    ((ran >= 60)) && delay=1
    echo "ferry: $what exited ($(describe_exit "$rc")) after ${ran} s; starting it again in ${delay} s; see $log" >&2
    sleep "$delay" &
    sleeper=$!
    reap "$sleeper"
    sleeper=0
    ((stopping)) && exit 0
    delay=$((delay * 2 > 30 ? 30 : delay * 2))
    echo "ferry: starting $what again" >&2
  done
}

# stop_supervised SECONDS NAME=SUPERVISOR_PID...: SIGTERM to each supervisor (it passes it on to its
# part), then waits SECONDS for all of them and their parts; what still runs then gets SIGKILL.
stop_supervised() {
  local seconds=$1 pair name all=()
  shift
  for pair in "$@"; do
    name=${pair%%=*}
    all+=("${pair#*=}")
    [[ -f $pids/$name.pid ]] && all+=("$(<"$pids/$name.pid")")
    kill -TERM "${pair#*=}" 2>/dev/null
  done
  if ! wait_gone "$seconds" "${all[@]}"; then
    echo "ferry: ${*%%=*} did not stop within $seconds s; killing what is left" >&2
    kill -KILL "${all[@]}" 2>/dev/null
    wait_gone 5 "${all[@]}"
  fi
  for pair in "$@"; do
    wait "${pair#*=}" 2>/dev/null
    rm -f "$pids/${pair%%=*}.pid"
  done
}
