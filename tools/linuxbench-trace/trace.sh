#!/bin/bash
# tools/linuxbench-trace/trace.sh WORKLOAD FUNCTION [SKIP] - where one operation of a linuxbench
# workload goes, instruction by instruction (run from the repository, after ./aegis iso).
# Boots the ISO under -icount with init=/usr/bin/linuxbench WORKLOAD, halted under QEMU's gdb
# stub; gdb breaks at FUNCTION of linuxbench (a symbol of the static binary: e.g. __kill for
# signal_self, op_pipe_roundtrip for pipe_roundtrip), lets SKIP calls pass (default 300: past the
# warm-up), then single-steps one call to its return and prints the instructions per function
# (kernel, libOS and program); the runs in order go to artifacts/linuxbench-trace-WORKLOAD.txt.
# Serialize with the build lock: flock /work/.build.lock tools/linuxbench-trace/trace.sh ...
set -eu
workload=$1 function=$2 skip=${3:-300} port=${PORT:-1297}
config=Release
program=Apps/Linux/obj/$config/net10.0/aegis/rootfs/programs/linuxbench
mkdir -p artifacts
symbols=$(mktemp)
gdb_script=$(mktemp)
trap 'rm -f "$symbols" "$gdb_script"' EXIT
nm "$program" | awk '$2 ~ /^[tTwW]$/ {print "F", $1, "0000000000000000", $3}' >"$symbols"
begin=$(nm "$program" | awk -v f="$function" '$3 == f {print $1; exit}')
[[ -n "$begin" ]] || { echo "no function $function in $program" >&2; exit 2; }
timeout -k 5 600 qemu-system-x86_64 -cpu max -m 512M -cdrom artifacts/aegis.iso -no-reboot \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 -icount shift=0,sleep=off -display none \
    -fw_cfg "name=opt/aegis/cmdline,string=init=/usr/bin/linuxbench $workload exit" \
    -serial file:artifacts/linuxbench-trace-serial.log -S -gdb tcp:127.0.0.1:$port </dev/null >/dev/null 2>&1 &
qemu=$!
printf 'set pagination off\nset confirm off\nset architecture i386:x86-64\ntarget remote 127.0.0.1:%s\n' "$port" >"$gdb_script"
LT_BEGIN=$begin LT_SKIP=$skip LT_OUT=artifacts/linuxbench-trace-$workload.txt \
LT_SYMBOLS=artifacts/$config/Aegis.Kernel.sym:artifacts/$config/apps/linux.sym:$symbols \
    timeout -k 5 580 gdb -batch -nx -x "$gdb_script" -x tools/linuxbench-trace/trace.py </dev/null \
    >artifacts/linuxbench-trace-gdb.log 2>&1 || true
kill "$qemu" 2>/dev/null || true
wait "$qemu" 2>/dev/null || true
grep -A60 '^TOTAL' artifacts/linuxbench-trace-gdb.log || { tail -20 artifacts/linuxbench-trace-gdb.log >&2; exit 1; }
