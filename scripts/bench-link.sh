#!/usr/bin/env bash
# The side-by-side migration benchmark (make bench-migration): builds it, and for LINK=10gbit puts
# it on a shaped link: two fresh network namespaces joined by a veth pair, each end shaped with tc
# to 10 Gbit/s (Intel X540), MTU 1500. The benchmark runs in the source namespace and starts every
# destination (QEMU -incoming, the engine's listener) in the target namespace. Namespaces, processes
# left in them and RAM files are removed on every exit, Ctrl-C included.
# usage: scripts/bench-link.sh SIZE PROFILE LINK RUNS [extra benchmark arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."

size=${1:-1G} profile=${2:-idle} link=${3:-loopback} runs=${4:-5}
shift $(( $# < 4 ? $# : 4 ))
id="fb$$"
src_ns="$id-src" dst_ns="$id-dst"
src_ip=10.231.$(( $$ % 250 )).1 dst_ip=10.231.$(( $$ % 250 )).2

command -v qemu-system-x86_64 >/dev/null || { echo "bench-migration needs QEMU: apt-get install -y qemu-system-x86" >&2; exit 2; }
dotnet build bench/Migration.Benchmark -c Release --nologo -v quiet >&2
bench=(dotnet bench/Migration.Benchmark/bin/Release/net10.0/Ferry.Migration.Benchmark.dll
       --size "$size" --profile "$profile" --link "$link" --runs "$runs" --id "$id" "$@")

cleanup() {
    local ns pid
    for ns in "$src_ns" "$dst_ns"; do
        if ip netns list | grep -qw "$ns"; then
            # Only processes inside our own namespaces: QEMU or workloads a killed benchmark left behind.
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
            ip netns delete "$ns" 2>/dev/null || true
        fi
    done
    rm -f /dev/shm/"$id"-*
    rm -rf "/tmp/$id"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

case "$link" in
loopback)
    "${bench[@]}"
    ;;
10gbit)
    ip netns add "$src_ns"
    ip netns add "$dst_ns"
    ip link add "$id-a" type veth peer name "$id-b"
    ip link set "$id-a" netns "$src_ns"
    ip link set "$id-b" netns "$dst_ns"
    ip -n "$src_ns" addr add "$src_ip/30" dev "$id-a"
    ip -n "$dst_ns" addr add "$dst_ip/30" dev "$id-b"
    for end in "$src_ns:$id-a" "$dst_ns:$id-b"; do
        ns=${end%%:*} dev=${end#*:}
        ip -n "$ns" link set lo up
        ip -n "$ns" link set "$dev" mtu 1500 up
        # A token bucket at the X540's line rate; the burst covers one 64 KiB GSO segment many times over.
        tc -n "$ns" qdisc add dev "$dev" root tbf rate 10gbit burst 4mb latency 20ms
    done
    status=0
    ip netns exec "$src_ns" "${bench[@]}" --target-netns "$dst_ns" --target-address "$dst_ip" \
        --link-detail "veth $id-a/$id-b between netns $src_ns and $dst_ns, tc tbf rate 10gbit burst 4mb on both ends, MTU 1500" || status=$?
    # Proof that the migrations crossed the shaped link (stderr: stdout ends with the JSON line).
    for end in "$src_ns:$id-a" "$dst_ns:$id-b"; do
        echo "tc on ${end#*:}: $(tc -n "${end%%:*}" -s qdisc show dev "${end#*:}" | grep -m1 -o 'Sent [0-9]* bytes [0-9]* pkt (dropped [0-9]*, overlimits [0-9]*')" >&2
    done
    exit "$status"
    ;;
*)
    echo "LINK must be loopback or 10gbit, not '$link'" >&2
    exit 2
    ;;
esac
