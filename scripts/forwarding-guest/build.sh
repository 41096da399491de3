#!/usr/bin/env bash
# Builds the L2-forwarding guest image from Debian packages: OUTDIR/vmlinuz (Debian's cloud
# kernel) and OUTDIR/initrd (busybox-static, the virtio-net and bridge modules, ./init and
# xdp-wire compiled statically from ./xdp-wire.c with this machine's gcc).
# OUTDIR/cmdline is the kernel command line to boot them with.
# Cached: OUTDIR/stamp holds the hash of this directory's files and the package versions; when
# it matches, nothing is done. Usage: build.sh [OUTDIR] (default: <repo>/.ferry/images/forwarding-guest)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:-$repo/.ferry/images/forwarding-guest}
kernel_flavour=${FERRY_GUEST_KERNEL_FLAVOUR:-cloud-amd64}
# Modules the guest loads (with their dependencies): virtio over PCI and virtio-net always, the
# bridge only when it forwards with one (module loading is slow under TCG).
nic_modules=(virtio_pci virtio_net)
bridge_modules=(bridge)

log() { echo "forwarding-guest: $*" >&2; }
die() { log "$*"; exit 1; }
# Exit status 75 (EX_TEMPFAIL) means Debian's packages could not be had (no mirror reachable):
# callers such as tests may skip rather than fail.
unavailable() { log "$*"; exit 75; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
exec 9>"$out/.lock"
flock 9

need_tools=()
command -v cpio >/dev/null || need_tools+=(cpio)
command -v gcc >/dev/null || need_tools+=(gcc)
[[ -f /usr/include/linux/bpf.h ]] || need_tools+=(linux-libc-dev)
[[ -f /usr/lib/x86_64-linux-gnu/libc.a ]] || need_tools+=(libc6-dev)
command -v depmod >/dev/null || PATH=$PATH:/usr/sbin:/sbin
command -v depmod >/dev/null || need_tools+=(kmod)
if ((${#need_tools[@]})); then
  [[ $(id -u) -eq 0 ]] || die "need ${need_tools[*]} and root to install them"
  log "installing ${need_tools[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_tools[@]}" >/dev/null
fi

# Resolves the package versions from the local apt lists (refreshing them once if they know
# nothing). apt-cache costs seconds here, so the answer is kept while the lists are unchanged.
meta="linux-image-$kernel_flavour"
lists_key=$( (echo "$meta"; stat -c '%n %s %Y' /var/lib/apt/lists/*_Packages* 2>/dev/null) | sha256sum | cut -d' ' -f1)
resolve() {
  local records
  records=$(apt-cache show --no-all-versions "$meta" busybox-static 2>/dev/null || true)
  # linux-image-<flavour> is a metapackage; the kernel is the versioned package it depends on.
  awk -v meta="$meta" '
    /^Package:/ { pkg = $2 }
    /^Version:/ { if (pkg == "busybox-static") busybox = $2; if (pkg == meta) metaversion = $2 }
    /^Depends:/ && pkg == meta {
      n = split(substr($0, 10), deps, ",")
      for (i = 1; i <= n; i++) if (match(deps[i], /linux-image-[^ ]+/)) {
        kernel = substr(deps[i], RSTART, RLENGTH)
        version = metaversion
        if (match(deps[i], /\(= [^)]+\)/)) version = substr(deps[i], RSTART + 3, RLENGTH - 4)
        break
      }
    }
    END { if (kernel != "" && busybox != "") print kernel, version, busybox }' <<<"$records"
}
resolved=""
if [[ -f $out/resolved && $(head -n 1 "$out/resolved") == "$lists_key" ]]; then
  resolved=$(sed -n 2p "$out/resolved")
fi
if [[ -z $resolved ]]; then
  resolved=$(resolve)
  if [[ -z $resolved ]]; then
    log "apt lists know no $meta or busybox-static; running apt-get update"
    apt-get update -qq || unavailable "apt-get update failed: no Debian mirror reachable?"
    lists_key=$( (echo "$meta"; stat -c '%n %s %Y' /var/lib/apt/lists/*_Packages* 2>/dev/null) | sha256sum | cut -d' ' -f1)
    resolved=$(resolve)
  fi
  [[ -n $resolved ]] || unavailable "no Debian packages $meta and busybox-static are available"
  printf '%s\n%s\n' "$lists_key" "$resolved" >"$out/resolved"
fi
read -r kernel_pkg kernel_version busybox_version <<<"$resolved"

inputs=$(
  cd "$here"
  # Every file here but the documentation goes into the image or makes it.
  sha256sum $(ls | grep -v '\.md$' | LC_ALL=C sort)
  echo "$kernel_pkg=$kernel_version"
  echo "busybox-static=$busybox_version"
)
hash=$(sha256sum <<<"$inputs" | cut -d' ' -f1)
if [[ -f $out/stamp && $(cat "$out/stamp") == "$hash" && -f $out/vmlinuz && -f $out/initrd && -f $out/cmdline ]]; then
  log "up to date ($kernel_pkg $kernel_version, busybox-static $busybox_version)"
  exit 0
fi

log "building $out ($kernel_pkg $kernel_version, busybox-static $busybox_version)"
start=$(date +%s.%N)
debs="$out/.debs"
mkdir -p "$debs"
work=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# apt-get download writes into the current directory as the _apt user where it can.
fetch() {
  local pkg=$1 version=$2 file
  file=$(find "$debs" -maxdepth 1 -name "${pkg}_*.deb" | while read -r f; do
    [[ $(dpkg-deb -f "$f" Version) == "$version" ]] && echo "$f"
  done | head -n 1)
  if [[ -z $file ]]; then
    chown _apt "$debs" 2>/dev/null || true
    (cd "$debs" && apt-get download -q "$pkg=$version" >&2) || unavailable "apt-get download $pkg=$version failed"
    file=$(find "$debs" -maxdepth 1 -name "${pkg}_*.deb" -newer "$out/.lock" | head -n 1)
    [[ -n $file ]] || file=$(ls -t "$debs/${pkg}"_*.deb | head -n 1)
  fi
  echo "$file"
}
kernel_deb=$(fetch "$kernel_pkg" "$kernel_version")
busybox_deb=$(fetch busybox-static "$busybox_version")

dpkg-deb -x "$kernel_deb" "$work/kernel"
dpkg-deb -x "$busybox_deb" "$work/busybox"
kernel_release=${kernel_pkg#linux-image-}
moddir="$work/kernel/lib/modules/$kernel_release"
# The package ships no modules.dep (its postinst runs depmod); make one for the unpacked tree.
depmod -b "$work/kernel" "$kernel_release" || die "depmod failed for $kernel_release"
[[ -f $moddir/modules.dep ]] || die "depmod wrote no modules.dep for $kernel_release"

root="$work/root"
mkdir -p "$root"/{bin,dev,proc,sys,lib/modules}
cp "$work/busybox/bin/busybox" "$root/bin/busybox"
cp "$here/init" "$root/init"
gcc -static -O2 -s -Wall -Wextra -Werror -o "$root/bin/xdp-wire" "$here/xdp-wire.c" || die "compiling xdp-wire.c failed"
chmod 755 "$root/init" "$root/bin/busybox" "$root/bin/xdp-wire"

# Resolve the modules and their dependencies from modules.dep into load order (dependencies
# first). A module that is built in has no line there and needs nothing.
declare -A loaded=()
order=()
add_module() {
  local path=$1 line i
  [[ -n ${loaded[$path]:-} ]] && return
  line=$(grep -m1 "^$path:" "$moddir/modules.dep") || die "$path is not in modules.dep"
  local deps=(${line#*:})
  # modules.dep lists a module's dependencies with the ones needed last first.
  for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
    add_module "${deps[$i]}"
  done
  loaded[$path]=1
  order+=("$path")
}
# install_modules LIST NAME...: copies the modules and the dependencies not installed yet into
# the image, and lists them in load order in /lib/modules/LIST for the init.
install_modules() {
  local list=$1 name path base
  shift
  order=()
  for name in "$@"; do
    path=$(grep -m1 -E "(^|/)$name\.ko(\.[a-z]+)?:" "$moddir/modules.dep" | cut -d: -f1) || true
    if [[ -z $path ]]; then
      grep -qE "/$name\.ko" "$moddir/modules.builtin" 2>/dev/null || die "module $name is neither a module nor built in"
      continue
    fi
    add_module "$path"
  done
  : >"$root/lib/modules/$list"
  for path in "${order[@]}"; do
    base=$(basename "$path")
    case $base in
      *.ko.xz) xz -dc "$moddir/$path" >"$root/lib/modules/${base%.xz}"; base=${base%.xz} ;;
      *.ko.zst) zstd -qdc "$moddir/$path" >"$root/lib/modules/${base%.zst}"; base=${base%.zst} ;;
      *) cp "$moddir/$path" "$root/lib/modules/$base" ;;
    esac
    echo "$base" >>"$root/lib/modules/$list"
  done
  log "$list: $(tr '\n' ' ' <"$root/lib/modules/$list")"
}
install_modules modules.nic "${nic_modules[@]}"
install_modules modules.bridge "${bridge_modules[@]}"

# The kernel unpacks an uncompressed cpio without running a decompressor, which is what costs
# time under TCG; the image is small enough that loading it is cheap.
(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner 0:0 --quiet) >"$work/initrd"
cp "$work/kernel/boot/vmlinuz-$kernel_release" "$work/vmlinuz"

# quiet: the serial console is slow under TCG. panic=-1: reboot at once on a panic (QEMU's
# -no-reboot turns that into an exit). ipv6.disable=1: the guest must put no frames of its own on
# the wire, and with IPv6 its ports would send router solicitations and MLD reports.
echo "console=ttyS0 quiet panic=-1 ipv6.disable=1" >"$out/cmdline"
mv -f "$work/vmlinuz" "$out/vmlinuz"
mv -f "$work/initrd" "$out/initrd"
echo "$kernel_pkg=$kernel_version busybox-static=$busybox_version" >"$out/versions"
echo "$hash" >"$out/stamp"
# Keep only the packages this build used.
find "$debs" -maxdepth 1 -name '*.deb' ! -path "$kernel_deb" ! -path "$busybox_deb" -delete
log "built in $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s: vmlinuz $(stat -c %s "$out/vmlinuz") B, initrd $(stat -c %s "$out/initrd") B"
