#!/usr/bin/env bash
# Runs the test suite and ends with one line: "N passed, N failed, N skipped".
#   scripts/test.sh        every test (make test)
#   scripts/test.sh fast   the tests marked [Trait("Tier", "fast")], which need no QEMU, OVS-DPDK or network
#                          namespace (make test-fast): the test projects of Ferry.Fast.slnf, built and run alone
# Tests start their own PostgreSQL (scripts/postgres.sh), QEMU and OVS processes.
set -uo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
case "${1:-all}" in
  all)
    # One test assembly at a time: the agent and end-to-end suites each start OVS-DPDK switches (hugepages)
    # and TCG guests (CPU); side by side on two cores they starved each other into timeouts.
    dotnet test --solution Ferry.slnx -c Release --no-progress --output Detailed --max-parallel-test-modules 1 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    ;;
  fast)
    # Assemblies side by side: none starts a guest or a switch, and each waits mostly on its own PostgreSQL or
    # child processes. The trait filter reaches xUnit through Microsoft.Testing.Platform (--filter-trait).
    dotnet test --solution Ferry.Fast.slnf -c Release --no-progress --output Detailed --filter-trait "Tier=fast" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    ;;
  *)
    echo "usage: scripts/test.sh [fast]" >&2
    exit 2
    ;;
esac

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
