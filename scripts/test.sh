#!/usr/bin/env bash
# Runs the whole test suite and ends with one line: "N passed, N failed, N skipped".
# Tests start their own PostgreSQL (scripts/postgres.sh), QEMU and OVS processes.
set -uo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
# One test assembly at a time: the agent and end-to-end suites each start OVS-DPDK switches (hugepages)
# and TCG guests (CPU); side by side on two cores they starved each other into timeouts.
dotnet test --solution Ferry.slnx -c Release --no-progress --output Detailed --max-parallel-test-modules 1 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# Sum the per-assembly summaries that Microsoft.Testing.Platform prints.
read -r total failed passed skipped < <(awk '
  /^[[:space:]]*total:/     { t += $2 }
  /^[[:space:]]*failed:/    { f += $2 }
  /^[[:space:]]*succeeded:/ { p += $2 }
  /^[[:space:]]*skipped:/   { s += $2 }
  END { printf "%d %d %d %d\n", t, f, p, s }' "$log")
# CI keeps only the tail of this output: repeat each failure (name, message, top of the
# stack) here, after the long per-test listing.
if grep -q '^failed ' "$log"; then
  echo
  echo "=== failures ==="
  awk '
    /^(passed|skipped) / { show = 0 }
    /^failed /           { show = 1; n = 0 }
    show && n++ < 30     { print }' "$log"
fi
rm -f "$log"
echo
# Which machine this was: CI keeps only the tail, and guests run under KVM or TCG depending on it.
kvm=absent; [[ -c /dev/kvm ]] && kvm=present
echo "machine: kernel $(uname -r), $(nproc) cores, /dev/kvm $kvm, $(qemu-system-x86_64 --version 2>/dev/null | head -n1)"
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [[ $status -eq 0 && $total -eq 0 ]]; then
  echo "test.sh: no test ran" >&2
  exit 1
fi
exit "$status"
