#!/usr/bin/env bash
# Reserves N 2 MiB hugepages (default 1200, what OVS-DPDK and hugepage-backed guests need here) and
# mounts hugetlbfs on /dev/hugepages if nothing is mounted there. Idempotent: never lowers an existing
# reservation, never mounts twice. Prints what it did. Needs root.
#   usage: scripts/hugepages.sh [pages] [mountpoint]
set -euo pipefail

pages="${1:-1200}"
mountpoint_dir="${2:-/dev/hugepages}"
sysfs=/sys/kernel/mm/hugepages/hugepages-2048kB

if ! [[ "$pages" =~ ^[0-9]+$ ]]; then
  echo "hugepages: page count must be a number, got '$pages'" >&2
  exit 2
fi
if [[ ! -d "$sysfs" ]]; then
  echo "hugepages: this kernel has no 2 MiB hugepage pool ($sysfs missing)" >&2
  exit 1
fi

current=$(<"$sysfs/nr_hugepages")
if (( current >= pages )); then
  echo "hugepages: $current x 2 MiB already reserved (wanted $pages); left as is"
else
  if [[ $(id -u) -ne 0 ]]; then
    echo "hugepages: must run as root to reserve hugepages" >&2
    exit 1
  fi
  # The kernel may grant fewer pages than asked when memory is fragmented; compact first, then check.
  echo 1 > /proc/sys/vm/compact_memory 2>/dev/null || true
  echo "$pages" > "$sysfs/nr_hugepages"
  granted=$(<"$sysfs/nr_hugepages")
  if (( granted < pages )); then
    available=$(awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo)
    echo "hugepages: asked for $pages x 2 MiB, the kernel granted $granted (MemAvailable ${available} MiB)" >&2
    exit 1
  fi
  echo "hugepages: reserved $granted x 2 MiB (was $current)"
fi

if awk -v m="$mountpoint_dir" '$2 == m && $3 == "hugetlbfs" {found=1} END {exit !found}' /proc/mounts; then
  echo "hugepages: hugetlbfs already mounted on $mountpoint_dir"
else
  mkdir -p "$mountpoint_dir"
  mount -t hugetlbfs -o pagesize=2M none "$mountpoint_dir"
  echo "hugepages: mounted hugetlbfs (2 MiB pages) on $mountpoint_dir"
fi
echo "hugepages: free $(<"$sysfs/free_hugepages") of $(<"$sysfs/nr_hugepages") x 2 MiB"
