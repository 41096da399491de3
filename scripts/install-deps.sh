#!/usr/bin/env bash
# Installs the Debian packages Ferry runs and tests with. Idempotent; a no-op when all are present.
set -euo pipefail

# librte-mempool-ring23 is only a Recommends of dpdk, and this script installs without
# recommends: without it DPDK has no ring mempool driver, every mempool creation in OVS fails
# with EINVAL ("Failed to create mempool ... Invalid argument") and a vhost-user port gets no
# backend. librte-net-null23 is the null driver of the port that keeps OVS's packet mempool alive
# (OvsPorts.MempoolKeeperPort). gcc and libc6-dev build the agent's dirty-tracking preload library.
# jq reads the API's JSON in scripts/run.sh. chromium is the browser tests/Dashboard.Tests drive with Playwright
# (Debian's build, by its path: the tests never download a browser).
packages=(postgresql qemu-system-x86 qemu-utils openvswitch-switch-dpdk librte-mempool-ring23 librte-net-null23 socat iproute2 make procps cpio kmod gcc libc6-dev jq chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm bundle the dashboard when src/Api builds (Api.csproj, DashboardBundle), and render
# and check the Helm chart in tests/Deploy.Tests. Machines of this kind come with NodeSource's nodejs,
# which carries npm itself and conflicts with Debian's npm package, so Debian's are installed only
# where there is no node or no npm at all.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: must run as root to install Debian packages" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts a system PostgreSQL cluster and OVS on install; Ferry runs its own, so stop
# them where they would compete for ports or hugepages. Ignore failures: there may be no init.
if [[ -z "${FERRY_KEEP_SYSTEM_SERVICES:-}" ]]; then
  service postgresql stop >/dev/null 2>&1 || true
  service openvswitch-switch stop >/dev/null 2>&1 || true
fi
# The unprivileged user QEMU drops to (Ferry:Qemu:RunAs, ferry-qemu by default): a system user without a
# home or a shell. QEMU opens /dev/kvm, its RAM file and sockets as root before it drops, so it needs no
# group; it joins kvm where that group exists anyway, so a /dev/kvm that udev gives to kvm (0660) stays
# usable should QEMU ever open it late. Without this user the agent warns and runs QEMU as root.
if ! getent passwd ferry-qemu >/dev/null; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: must run as root to create the ferry-qemu user" >&2
    exit 1
  fi
  echo "install-deps: creating the system user ferry-qemu"
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group ferry-qemu
fi
if getent group kvm >/dev/null && ! id -nG ferry-qemu | tr ' ' '\n' | grep -qx kvm; then
  usermod --append --groups kvm ferry-qemu
fi
