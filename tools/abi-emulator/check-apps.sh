#!/usr/bin/env bash
# check-apps.sh: runs the protection fixtures (Tests/Apps) and hello under abi-emulator (no
# kernel, no QEMU) and checks how each one ends. `./aegis test` runs it (Aegis.Tests/Boot/
# AbiEmulatorTests.cs, after the ISO build, with --no-build). It exercises the libOS side only: LibOS.Base's start-up, stubs,
# trampoline and dispatchers, and the apps' own handlers. The in-guest protection suite
# (./aegis run --headless -- test=protection) is the real test of the kernel and the apps together.
#
#   tools/abi-emulator/check-apps.sh [--config Debug|Release] [--no-build]
# Prints one PASS/FAIL line per app and exits 1 if any failed.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
config=Release
build=true
while [[ $# -gt 0 ]]; do
    case "$1" in
        --config) config="$2"; shift 2 ;;
        --no-build) build=false; shift ;;
        *) echo "usage: $0 [--config Debug|Release] [--no-build]" >&2; exit 2 ;;
    esac
done
cd "$root"
emulator="artifacts/abi-emulator"
mkdir -p artifacts
gcc -O2 -Wall -Wextra -Werror -o "$emulator.tmp" tools/abi-emulator/abi-emulator.c && mv -f "$emulator.tmp" "$emulator"
if [[ "$build" == true ]]; then
    for project in Apps/Hello/*.csproj Tests/Apps/*/*.csproj; do
        dotnet build "$project" -c "$config" -nologo -v:q >/dev/null || { echo "build of $project failed" >&2; exit 1; }
    done
fi

apps="artifacts/$config/apps"
failed=0
# name | expected exit status of abi-emulator | text the output must contain
while IFS='|' read -r name status text; do
    [[ -z "$name" ]] && continue
    output="$(timeout 20 "$emulator" "$apps/$name.elf" 2>&1)" && rc=0 || rc=$?
    if [[ "$rc" == "$status" && "$output" == *"$text"* ]]; then
        echo "PASS $name"
    else
        echo "FAIL $name (status $rc, expected $status; expected output containing '$text')"
        printf '%s\n' "$output" | sed 's/^/    /'
        failed=1
    fi
done <<'TABLE'
hello|0|hello, world from environment 1001
faultread|142|unhandled page fault (trap 14) at rip 0x
faultwrite|142|unhandled page fault (trap 14) at rip 0x
faultreadkernel|142|of 0xffffffff80100000
faultwritekernel|142|of 0xffffffff80100000
divzero|0|divzero: trap 0 at 0x
breakpoint|0|breakpoint: trap 3 at 0x
illegalinstruction|0|illegalinstruction: trap 6 at 0x
faultregs|0|faultregs: all registers restored
faultalloc|0|faultalloc: 3 faults handled, one nested inside the handler
faultbadhandler|192|EnvironmentSetUpcall(entry at a kernel address) = BadAddress
faultevilhandler|192|destroyed: upcall entry is not executable user memory
faultnostack|192|destroyed: cannot write the upcall frame
evilhello|0|evilhello: ConsoleWrite(kernel address) = BadAddress
bystander|0|bystander: tick 5
TABLE
exit "$failed"
