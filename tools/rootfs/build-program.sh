#!/usr/bin/env bash
# build-program.sh: compiles one Linux program of the root file system (Tests/Linux/NAME.c) with the
# host's gcc, linked the way its source asks.
#
#   build-program.sh OUTPUT SOURCE [CFLAG]...
#
# Linking: dynamically against the C library by default (gcc's default PIE with PT_INTERP
# /lib64/ld-linux-x86-64.so.2; the root file system holds Debian's libc6 of the build host's
# version, so the same binary runs on the host and on Aegis). A source that must be a static
# program says so in a line of its own, at the start of the line:
#     // aegis-link: static        gcc -static
#     // aegis-link: static-pie    gcc -static-pie
# (LinuxCoreTests' programs, the benchmarks, the fuzzer...; each says why in its header). A
# dynamically linked test program is some 16 KiB instead of some 700 KiB: the image's size is boot
# time, GRUB reads every byte of it.
# Used by tools/rootfs.targets (target AegisLinuxPrograms) and by the host tests
# (Aegis.Tests/Host/LinuxPrograms.cs), so that the program a test runs on the host is the
# program the image holds. Prints gcc's messages; exits with gcc's status (2: usage).
set -euo pipefail

if (( $# < 2 )); then
    echo "usage: build-program.sh OUTPUT SOURCE [CFLAG]..." >&2
    exit 2
fi
output="$1" source="$2"
shift 2
[[ -f "$source" ]] || { echo "build-program: no source file $source" >&2; exit 2; }

link=()
case "$(sed -n 's|^// aegis-link: \([a-z-]*\)[[:space:]]*$|\1|p' "$source" | head -n 1)" in
    "")         ;;
    static)     link=(-static) ;;
    static-pie) link=(-static-pie) ;;
    *) echo "build-program: $source: unknown '// aegis-link:' (static or static-pie)" >&2; exit 2 ;;
esac
exec gcc "$@" "${link[@]+"${link[@]}"}" -o "$output" "$source"
