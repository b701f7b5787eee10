#!/usr/bin/env bash
# Runs one program of Aegis's root file system on Debian bookworm's Linux 6.1, in the QEMU
# machine the benchmarks use: the Linux column of docs/benchmarks.md (docs/linux-reference.md).
#
#   tools/linux-reference.sh [--timeout SECONDS] [--tcg] [--stage DIR] [--nic MODEL]
#                            [--forward [udp:]HOSTPORT:GUESTPORT]... [--monitor SOCKET] COMMAND [ARGS...]
#
# Boots the kernel of the package that linux-image-amd64 depends on (fetched with apt-get,
# checked against apt's SHA256, cached in artifacts/linux-reference/) with an initramfs that
# holds the staged root file system and tools/linux-reference/init.c as /init, runs COMMAND
# ARGS, prints its standard output and standard error on stdout and exits with its status.
# The tool's own messages go to stderr, prefixed "linux-reference:".
#
# Exit status: the program's (128 + N when signal N killed it); 124 when the timeout struck;
# 125 when the tool itself failed (no kernel, no stage directory, the boot failed); 2 for a
# usage error.
set -euo pipefail

readonly ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly TOOL_DIR="$ROOT/tools/linux-reference"
readonly CACHE="$ROOT/artifacts/linux-reference"
readonly DEFAULT_STAGE="$ROOT/Apps/Linux/obj/Release/net10.0/aegis/rootfs/stage"
readonly META_PACKAGE="linux-image-amd64"
# Keep in step with tools/linux-reference/init.c.
readonly MARKER_START="LINUX-REFERENCE-START"
readonly MARKER_EXIT="LINUX-REFERENCE-EXIT"
readonly KERNEL_ARGS="console=ttyS0 quiet loglevel=0 panic=-1"

say() { printf 'linux-reference: %s\n' "$*" >&2; }
fail() { say "$*"; exit 125; }

usage() {
    cat <<'EOF'
usage: tools/linux-reference.sh [--timeout SECONDS] [--tcg] [--stage DIR] [--nic MODEL]
                                [--forward [udp:]HOSTPORT:GUESTPORT]... [--tap IFNAME]
                                [--monitor SOCKET] COMMAND [ARGS...]

Boots Debian bookworm's Linux 6.1 in QEMU (-cpu max -m 512M -smp 1 -icount shift=0,sleep=off)
with Aegis's staged root file system as its initramfs, runs COMMAND ARGS (a path inside that
file system, e.g. /usr/bin/linuxbench), prints the program's output and exits with its status.

  --timeout SECONDS  stop QEMU after this many seconds of wall-clock time (default 900; exit 124)
  --tcg              plain TCG, without -icount (faster, but the TSC no longer counts instructions)
  --stage DIR        the root file system to pack (default: the build's rootfs stage,
                     Apps/Linux/obj/Release/net10.0/aegis/rootfs/stage)
  --nic MODEL        a network card on QEMU's user network, as ./aegis run --nic gives Aegis:
                     e1000, e1000e or virtio; Linux loads the kernel package's own driver and
                     brings eth0 up as 10.0.2.15/24 via 10.0.2.2 before COMMAND starts
  --forward [udp:]HOSTPORT:GUESTPORT
                     forward a port of the host's 127.0.0.1 to the guest (QEMU's hostfwd);
                     repeatable; needs --nic
  --tap IFNAME       the card on the host's tap device IFNAME instead of the user network (as
                     ./aegis run --tap); the caller makes and addresses it (10.0.2.2 on the host)
  --monitor SOCKET   QEMU's human monitor on the Unix socket SOCKET, as ./aegis run --monitor
                     (info jit, info registers, ...)
EOF
}

usage_error() { say "$*"; usage >&2; exit 2; }

timeout_seconds=900
tcg=false
stage="$DEFAULT_STAGE"
nic=""
forwards=()
monitor=""
tap=""
while (( $# > 0 )); do
    case "$1" in
        --timeout)
            (( $# >= 2 )) || usage_error "--timeout needs a value"
            [[ "$2" =~ ^[0-9]+$ ]] && (( 10#$2 > 0 )) || usage_error "--timeout needs a whole number of seconds, not '$2'"
            timeout_seconds=$(( 10#$2 )); shift 2 ;;
        --tcg) tcg=true; shift ;;
        --stage)
            (( $# >= 2 )) || usage_error "--stage needs a directory"
            stage="$2"; shift 2 ;;
        --nic)
            (( $# >= 2 )) || usage_error "--nic needs a model (e1000, e1000e or virtio)"
            case "$2" in e1000|e1000e|virtio) nic="$2" ;; *) usage_error "--nic: unknown model '$2' (e1000, e1000e or virtio)" ;; esac
            shift 2 ;;
        --forward)
            (( $# >= 2 )) || usage_error "--forward needs [udp:]HOSTPORT:GUESTPORT"
            [[ "$2" =~ ^(udp:)?[0-9]+:[0-9]+$ ]] || usage_error "--forward needs [udp:]HOSTPORT:GUESTPORT, not '$2'"
            forwards+=("$2"); shift 2 ;;
        --tap)
            (( $# >= 2 )) || usage_error "--tap needs a tap device's name"
            [[ "$2" =~ ^[A-Za-z0-9_.-]{1,15}$ && -e "/sys/class/net/$2" ]] || usage_error "--tap: no network device '$2' on this host"
            tap="$2"; shift 2 ;;
        --monitor)
            (( $# >= 2 )) || usage_error "--monitor needs a socket path"
            [[ "$2" != *,* ]] || usage_error "--monitor needs a socket path without commas, not '$2'"
            [[ ! -e "$2" || -S "$2" ]] || usage_error "--monitor: '$2' exists and is not a socket"
            monitor="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        --) shift; break ;;
        -*) usage_error "unknown option '$1'" ;;
        *) break ;;
    esac
done
(( $# >= 1 )) || usage_error "no command given"
(( ${#forwards[@]} == 0 )) || [[ -n "$nic" ]] || usage_error "--forward needs --nic"
[[ -z "$tap" ]] || [[ -n "$nic" ]] || usage_error "--tap needs --nic"
[[ -z "$tap" ]] || (( ${#forwards[@]} == 0 )) || usage_error "--tap and --forward exclude each other"

# The modules each card's driver needs, in load order (their "depends=" in the kernel package;
# the PTP clock e1000e uses is built in).
modules_for() {
    case "$1" in
        e1000) echo drivers/net/ethernet/intel/e1000/e1000.ko ;;
        e1000e) echo drivers/net/ethernet/intel/e1000e/e1000e.ko ;;
        virtio) echo drivers/virtio/virtio_ring.ko drivers/virtio/virtio.ko \
                     drivers/virtio/virtio_pci_modern_dev.ko drivers/virtio/virtio_pci_legacy_dev.ko \
                     drivers/virtio/virtio_pci.ko net/core/failover.ko drivers/net/net_failover.ko \
                     drivers/net/virtio_net.ko ;;
    esac
}

# --- prerequisites -------------------------------------------------------------------------
for tool in qemu-system-x86_64 gcc apt-get apt-cache dpkg-deb sha256sum base64 timeout awk; do
    command -v "$tool" >/dev/null 2>&1 || fail "'$tool' is missing (on Debian: apt-get install qemu-system-x86 gcc libc6-dev)"
done
if [[ ! -d "$stage" ]]; then
    fail "no staged root file system at $stage: build it with ./aegis iso"
fi
stage="$(cd "$stage" && pwd)"
[[ -e "$stage/bin" || -e "$stage/usr" ]] || fail "$stage does not look like a root file system (no bin/, no usr/): build it with ./aegis iso"

mkdir -p "$CACHE"
work="$(mktemp -d "$CACHE/run.XXXXXX")"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

# --- the kernel ----------------------------------------------------------------------------
# The package linux-image-amd64 depends on now, its candidate version and apt's SHA256.
resolve_package() {
    apt-cache depends "$META_PACKAGE" 2>/dev/null \
        | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }'
}
package="$(resolve_package || true)"
if [[ -z "$package" && "$(id -u)" == 0 ]]; then
    say "apt knows no $META_PACKAGE: running apt-get update"
    apt-get update -qq >&2 || true
    package="$(resolve_package || true)"
fi

# Prints "version sha256" of the package's candidate, or nothing.
candidate_of() {
    local name="$1" version sha
    version="$(apt-cache policy "$name" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }')"
    [[ -n "$version" && "$version" != "(none)" ]] || return 0
    sha="$(apt-cache show "$name=$version" 2>/dev/null | awk '$1 == "SHA256:" { print $2; exit }')"
    [[ -n "$sha" ]] || return 0
    printf '%s %s\n' "$version" "$sha"
}

# Fetches, checks and unpacks one package into $CACHE/kernel/NAME_VERSION; succeeds when it
# holds a /boot/vmlinuz-*. Sets kernel_dir.
fetch_kernel() {
    local name="$1" version="$2" sha="$3"
    local dir="$CACHE/kernel/${name}_${version}"
    kernel_dir="$dir"
    if [[ -f "$dir/vmlinuz" && -f "$dir/sha256" && "$(cat "$dir/sha256")" == "$sha" ]]; then
        return 0
    fi
    mkdir -p "$dir"
    local deb
    deb="$(find "$dir" -maxdepth 1 -name "${name}_*.deb" -print -quit)"
    if [[ -z "$deb" ]]; then
        say "downloading $name $version"
        (cd "$dir" && apt-get download -q "$name=$version" >"$work/apt-download.log" 2>&1) || {
            cat "$work/apt-download.log" >&2
            return 1
        }
        deb="$(find "$dir" -maxdepth 1 -name "${name}_*.deb" -print -quit)"
        [[ -n "$deb" ]] || return 1
    fi
    local actual
    actual="$(sha256sum "$deb" | awk '{ print $1 }')"
    if [[ "$actual" != "$sha" ]]; then
        rm -f "$deb"
        fail "$(basename "$deb"): sha256 $actual, but apt expects $sha: removed it; run again"
    fi
    local unpacked="$work/unpacked"
    rm -rf "$unpacked"
    dpkg-deb -x "$deb" "$unpacked"
    local image
    image="$(find "$unpacked/boot" -maxdepth 1 -name 'vmlinuz-*' -print -quit 2>/dev/null || true)"
    if [[ -z "$image" ]]; then
        rm -rf "$unpacked"
        return 1
    fi
    cp "$image" "$dir/vmlinuz"
    basename "$image" | sed 's/^vmlinuz-//' >"$dir/release"
    cp "$unpacked/boot/config-$(cat "$dir/release")" "$dir/config" 2>/dev/null || true
    rm -rf "$unpacked"
    printf '%s\n' "$sha" >"$dir/sha256"
    printf '%s\n' "$(basename "$deb")" >"$dir/package"
}

kernel_dir=""
if [[ -n "$package" ]]; then
    found=false
    # The signed image holds /boot/vmlinuz-*; its -unsigned twin does too, should it not.
    for name in "$package" "$package-unsigned"; do
        version="" sha=""
        read -r version sha < <(candidate_of "$name") || true
        [[ -n "${version:-}" && -n "${sha:-}" ]] || continue
        if fetch_kernel "$name" "$version" "$sha"; then
            found=true
            break
        fi
    done
    [[ "$found" == true ]] || fail "could not fetch a kernel image for $package (apt-get download failed, or neither it nor $package-unsigned holds /boot/vmlinuz-*)"
else
    # No apt data: fall back on a kernel fetched and checked before, if there is one.
    kernel_dir="$(find "$CACHE/kernel" -mindepth 2 -maxdepth 2 -name vmlinuz -printf '%h\n' 2>/dev/null | sort | tail -n 1)"
    [[ -n "$kernel_dir" ]] || fail "apt-cache knows no $META_PACKAGE (run apt-get update) and no kernel is cached in $CACHE/kernel"
    say "apt-cache knows no $META_PACKAGE: using the cached $(basename "$kernel_dir")"
fi
say "kernel $(cat "$kernel_dir/release" 2>/dev/null || echo '?') from $(cat "$kernel_dir/package") sha256 $(cat "$kernel_dir/sha256")"

# --- the network card's modules -----------------------------------------------------------
# Unpacked from the cached package into the kernel's directory the first time a card needs them.
if [[ -n "$nic" ]]; then
    release="$(cat "$kernel_dir/release")"
    deb="$(find "$kernel_dir" -maxdepth 1 -name '*.deb' -print -quit)"
    module_index=0
    mkdir -p "$work/overlay/aegis-reference-modules"
    for module in $(modules_for "$nic"); do
        cached="$kernel_dir/modules/$module"
        if [[ ! -f "$cached" ]]; then
            [[ -n "$deb" ]] || fail "no cached kernel package in $kernel_dir to take $module from"
            mkdir -p "$work/modules"
            dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/modules" "./lib/modules/$release/kernel/$module" 2>/dev/null \
                || fail "the kernel package has no $module"
            mkdir -p "$(dirname "$cached")"
            mv "$work/modules/lib/modules/$release/kernel/$module" "$cached"
        fi
        module_index=$(( module_index + 1 ))
        cp "$cached" "$work/overlay/aegis-reference-modules/$(printf '%02d' "$module_index")-$(basename "$module")"
    done
    say "network: $nic ($(modules_for "$nic" | wc -w) module(s)), 10.0.2.15/24 via 10.0.2.2${forwards[*]:+, forwarding ${forwards[*]}}"
fi

# --- /init ---------------------------------------------------------------------------------
init_binary="$CACHE/init"
if [[ ! -x "$init_binary" || "$TOOL_DIR/init.c" -nt "$init_binary" ]]; then
    gcc -static -O2 -Wall -Wextra -o "$work/init" "$TOOL_DIR/init.c" \
        || fail "could not compile $TOOL_DIR/init.c (gcc -static needs libc6-dev)"
    mv -f "$work/init" "$init_binary"
fi

# --- the initramfs -------------------------------------------------------------------------
# The stage directory as it is now, then /init (and /dev/console, for the kernel to open as
# init's console before devtmpfs is mounted) in an archive of their own: the kernel unpacks
# concatenated archives one after the other.
initramfs="$work/initramfs.cpio"
if command -v cpio >/dev/null 2>&1; then
    mkdir -p "$work/overlay/dev"
    cp "$init_binary" "$work/overlay/init"
    mknod -m 600 "$work/overlay/dev/console" c 5 1 2>/dev/null || true
    (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$initramfs"
    (cd "$work/overlay" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >>"$initramfs"
else
    command -v python3 >/dev/null 2>&1 || fail "neither cpio nor python3 is installed: cannot write the initramfs"
    module_arguments=()
    if [[ -d "$work/overlay/aegis-reference-modules" ]]; then
        module_arguments+=(--dir /aegis-reference-modules)
        for module in "$work/overlay/aegis-reference-modules"/*.ko; do
            module_arguments+=(--file "/aegis-reference-modules/$(basename "$module")=$module")
        done
    fi
    python3 "$TOOL_DIR/mkcpio.py" "$initramfs" --tree "$stage" \
        --dir /dev --char /dev/console=5:1 --file "/init=$init_binary" "${module_arguments[@]+"${module_arguments[@]}"}" \
        || fail "could not write the initramfs"
fi

# --- the command ---------------------------------------------------------------------------
# base64 of the NUL-ended arguments: init.c decodes it from its environment (aegis_run=...).
encoded="$(printf '%s\0' "$@" | base64 -w 0)"
append="$KERNEL_ARGS aegis_run=$encoded"
[[ -z "$nic" ]] || append+=" aegis_net=1"
(( ${#append} < 2000 )) || fail "the command is too long for the kernel command line (${#append} of 2048 characters)"

qemu=(qemu-system-x86_64 -cpu max -m 512M -smp 1)
[[ "$tcg" == true ]] || qemu+=(-icount shift=0,sleep=off)
qemu+=(-nographic -no-reboot -kernel "$kernel_dir/vmlinuz" -initrd "$initramfs" -append "$append")
# The card as ./aegis run attaches it: QEMU's user network, host ports forwarded from 127.0.0.1.
if [[ -n "$nic" ]]; then
    netdev="user,id=referencenet"
    [[ -z "$tap" ]] || netdev="tap,id=referencenet,ifname=$tap,script=no,downscript=no"
    for forward in "${forwards[@]+"${forwards[@]}"}"; do
        protocol=tcp ports="$forward"
        [[ "$forward" != udp:* ]] || { protocol=udp; ports="${forward#udp:}"; }
        netdev+=",hostfwd=$protocol:127.0.0.1:${ports%%:*}-:${ports#*:}"
    done
    device="$nic"
    [[ "$nic" != virtio ]] || device=virtio-net-pci
    qemu+=(-netdev "$netdev" -device "$device,netdev=referencenet")
else
    qemu+=(-nic none)
fi
if [[ -n "$monitor" ]]; then
    rm -f -- "$monitor"   # a stale socket of an earlier run (checked to be a socket above)
    qemu+=(-monitor "unix:$monitor,server=on,wait=off")
fi

# --- run -----------------------------------------------------------------------------------
log="$work/console.log"
# Shows the program's lines as they come: nothing before init's start marker (the kernel's
# and the firmware's output), nothing from the exit marker on, no CR, and no kernel message
# (a "[   12.345678] " prefix). init.c writes "\n" before the exit marker so that the marker
# starts a line: the blank line this leaves before it is dropped again.
filter='
    { sub(/\r+$/, ""); gsub(/\r/, "") }
    done { next }
    !started { if ($0 ~ /LINUX-REFERENCE-START$/) started = 1; next }
    $0 ~ /^LINUX-REFERENCE-EXIT -?[0-9]+$/ { for (i = 1; i < blanks; i++) print ""; done = 1; fflush(); next }
    /^\[ *[0-9]+\.[0-9]+\] / { next }
    $0 == "" { blanks++; next }
    { for (i = 0; i < blanks; i++) print ""; blanks = 0; print; fflush() }
'
awk_command=(awk)
# mawk reads a pipe in blocks unless told otherwise: the lines would come late.
if awk -W version 2>&1 | grep -qi mawk; then awk_command=(awk -W interactive); fi

started_at=$SECONDS
set +e
timeout -k 10 "$timeout_seconds" "${qemu[@]}" </dev/null 2>"$work/qemu-errors.log" \
    | tee "$log" | "${awk_command[@]}" "$filter"
statuses=("${PIPESTATUS[@]}")
set -e
qemu_status="${statuses[0]}"
elapsed=$(( SECONDS - started_at ))
cp "$log" "$CACHE/last-console.log" 2>/dev/null || true

# Without CRs and without the firmware's terminal controls (reset, clear screen), which would
# clear the terminal of whoever reads the messages below.
tr -d '\r' <"$log" | sed -e 's/\x1bc//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' >"$work/console.txt"
exit_line="$(grep -aE "^$MARKER_EXIT -?[0-9]+\$" "$work/console.txt" | tail -n 1 || true)"
if [[ -n "$exit_line" ]] && ! grep -q "$MARKER_START\$" "$work/console.txt"; then
    say "init failed before the command started (status ${exit_line##* }):"
    grep -a '^init: ' "$work/console.txt" >&2 || true
    exit 125
fi
if [[ -n "$exit_line" ]]; then
    status="${exit_line##* }"
    say "exit status $status after $elapsed s ($([[ "$tcg" == true ]] && echo TCG || echo 'icount: 1 instruction = 1 ns'))"
    exit "$status"
fi

show_tail() {
    say "the last lines of the console (all of it: $CACHE/last-console.log):"
    tail -n 25 "$work/console.txt" >&2
    [[ -s "$work/qemu-errors.log" ]] && { say "QEMU said:"; cat "$work/qemu-errors.log" >&2; }
    return 0
}
if (( qemu_status == 124 || qemu_status == 137 )); then
    say "timed out after $timeout_seconds s (use --timeout SECONDS for more)"
    show_tail
    exit 124
fi
if ! grep -q "$MARKER_START\$" "$work/console.txt"; then
    say "the boot failed: Linux never reached /init's start marker (QEMU status $qemu_status)"
    show_tail
    exit 125
fi
say "the machine stopped before the program ended (QEMU status $qemu_status): a kernel panic?"
show_tail
exit 125
