#!/usr/bin/env bash
# Two "hosts" on one machine: network namespaces joined to a bridge in the root namespace.
#   hosts.sh up [PREFIX]     create them (idempotent)   hosts.sh down [PREFIX]   remove them
# Layout (PREFIX defaults to "ferry", subnet to 10.77.0.0/24, FERRY_SUBNET=10.NN.0 to change):
#   root namespace: bridge PREFIX-br, 10.77.0.1 (the API and PostgreSQL are reached here)
#   PREFIX-a: 10.77.0.2 (host-a)      PREFIX-b: 10.77.0.3 (host-b)
# Migration traffic between the hosts crosses their veth pairs and the bridge.
# The data-plane fabric: a second veth pair joins the hosts directly, an interface named "fabric"
# in each namespace; each agent adds its end to its OVS-DPDK bridge (--Ferry:Probe:FabricPort=fabric),
# so traffic through a guest follows it to the other host, as an NFV fabric carries it.
set -euo pipefail

cmd=${1:?usage: hosts.sh up|down [PREFIX]}
prefix=${2:-ferry}
subnet=${FERRY_SUBNET:-10.77.0}
bridge="${prefix}-br"

if [[ $(id -u) -ne 0 ]]; then
  echo "hosts.sh: network namespaces need root" >&2
  exit 1
fi

up_host() {
  local ns=$1 ip=$2 outer=$3 inner=$4
  ip netns list | grep -qw "$ns" || ip netns add "$ns"
  if ! ip link show "$outer" >/dev/null 2>&1; then
    ip link add "$outer" type veth peer name "$inner"
    ip link set "$inner" netns "$ns"
  fi
  ip link set "$outer" master "$bridge" up
  ip -n "$ns" link set lo up
  ip -n "$ns" link set "$inner" up
  ip -n "$ns" addr replace "$ip/24" dev "$inner"
  ip -n "$ns" route replace default via "$subnet.1"
}

case "$cmd" in
  up)
    ip link show "$bridge" >/dev/null 2>&1 || ip link add "$bridge" type bridge
    ip addr replace "$subnet.1/24" dev "$bridge"
    ip link set "$bridge" up
    up_host "${prefix}-a" "$subnet.2" "${prefix}-a-br" "eth-a"
    up_host "${prefix}-b" "$subnet.3" "${prefix}-b-br" "eth-b"
    if ! ip -n "${prefix}-a" link show fabric >/dev/null 2>&1; then
      ip link del "${prefix}-fa" 2>/dev/null || true
      ip -n "${prefix}-b" link del fabric 2>/dev/null || true
      ip link add "${prefix}-fa" type veth peer name "${prefix}-fb"
      ip link set "${prefix}-fa" netns "${prefix}-a"
      ip link set "${prefix}-fb" netns "${prefix}-b"
      ip -n "${prefix}-a" link set "${prefix}-fa" name fabric
      ip -n "${prefix}-b" link set "${prefix}-fb" name fabric
    fi
    for ns in "${prefix}-a" "${prefix}-b"; do
      # Only the switches speak on the fabric: no IPv6 chatter from the namespaces' own stacks.
      ip netns exec "$ns" sysctl -qw net.ipv6.conf.fabric.disable_ipv6=1 2>/dev/null || true
      ip -n "$ns" link set fabric up
    done
    # Bridged frames must not be filtered by a host firewall the machine may have.
    sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null || true
    ;;
  down)
    for ns in "${prefix}-a" "${prefix}-b"; do
      ip netns pids "$ns" 2>/dev/null | xargs -r kill -TERM 2>/dev/null || true
      ip netns del "$ns" 2>/dev/null || true
    done
    ip link del "${prefix}-a-br" 2>/dev/null || true
    ip link del "${prefix}-b-br" 2>/dev/null || true
    ip link del "$bridge" 2>/dev/null || true
    ;;
  *)
    echo "hosts.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
