#!/bin/bash
# tools/linux-trace/trace.sh WORKLOAD FUNCTION [SKIP] - instructions per function of one call of
# FUNCTION (a symbol of /usr/bin/linuxbench: stat, op_open_read_close_1k, op_pipe_roundtrip...)
# while linuxbench runs WORKLOAD under the Linux personality (./aegis bench --trace covers only the
# kernel primitives of the bench app). Boots the existing ISO (./aegis iso first) halted under
# QEMU's gdb stub with -icount, lets SKIP calls (default 100: past the warm-up) pass, then
# single-steps one (tools/linux-trace/trace.py). Run from the repository root, under the build
# lock: flock /work/.build.lock tools/linux-trace/trace.sh stat stat
# Output: the table on stdout; the runs of functions in artifacts/linux-trace-FUNCTION.txt.
# Environment: T_LIMIT (most instructions to step, default 200000), T_TIMEOUT (seconds for QEMU
# and gdb, default 600; a fork's 330,000 steps take about 4 minutes). A function that a child
# also returns from (fork) ends at the first return: in the child, which runs first.
#
# tools/linux-trace/trace.sh --nginx FUNCTION [SKIP] [URL] - the same for a function of the Linux
# personality (a symbol of artifacts/CONFIG/apps/linux.sym, e.g.
# LibOS_Unixish_Aegis_LibOS_Unixish_Linux_Files_FileCalls__Setsockopt) while Debian's nginx serves
# /URL (default 1k.txt) to `ab -k -c 4` from the host over an e1000 and QEMU's user network. The
# breakpoint is on an address every environment running the personality shares: a call the file
# server makes counts too, so take SKIP past nginx's start (2000 or so). Each call includes the
# frames and timers its LocalNet.Step ran first.
set -euo pipefail
nginx=false
if [[ "${1:-}" == --nginx ]]; then nginx=true; shift; fi
if [[ "$nginx" == true ]]; then
    [[ $# -ge 1 ]] || { echo "usage: $0 --nginx FUNCTION [SKIP] [URL]" >&2; exit 2; }
    function="$1" skip="${2:-2000}" url="${3:-1k.txt}" workload=nginx
else
    [[ $# -ge 2 ]] || { echo "usage: $0 WORKLOAD FUNCTION [SKIP]" >&2; exit 2; }
    workload="$1" function="$2" skip="${3:-100}"
fi
config="${AEGIS_CONFIG:-Release}"
program="Apps/Linux/obj/$config/net10.0/aegis/rootfs/programs/linuxbench"
kernel_symbols="artifacts/$config/Aegis.Kernel.sym" linux_symbols="artifacts/$config/apps/linux.sym"
for file in "$program" "$kernel_symbols" "$linux_symbols" artifacts/aegis.iso; do
    [[ -f "$file" ]] || { echo "$0: $file is missing: build with ./aegis iso" >&2; exit 1; }
done
work="$(mktemp -d "${TMPDIR:-/tmp}/linux-trace.XXXXXX")"
qemu_pid="" load_pid=""
cleanup() { [[ -n "$load_pid" ]] && { pkill -P "$load_pid" 2>/dev/null; kill "$load_pid" 2>/dev/null; }; [[ -n "$qemu_pid" ]] && kill "$qemu_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 1' INT TERM PIPE # (a reader such as head that leaves early must not leave QEMU and the load running)
if [[ "$nginx" == true ]]; then
    address=$(awk -v s="$function" '$1 == "F" && $4 == s { print $2; exit }' "$linux_symbols")
    [[ -n "$address" ]] || { echo "$0: no symbol $function in $linux_symbols" >&2; exit 1; }
    : >"$work/program.sym"
    http=$((20000 + RANDOM % 10000))
    while (exec 3<>"/dev/tcp/127.0.0.1/$http") 2>/dev/null; do http=$((http + 1)); done
    guest=(-netdev "user,id=tracenet,hostfwd=tcp:127.0.0.1:$http-:80" -device e1000,netdev=tracenet)
    cmdline="init=/usr/sbin/nginx"
else
    address=$(nm "$program" | awk -v s="$function" '$3 == s && found == "" { found = $1 } END { print found }')
    [[ -n "$address" ]] || { echo "$0: no symbol $function in $program" >&2; exit 1; }
    nm -S "$program" | awk 'NF == 4 && ($3 == "T" || $3 == "t" || $3 == "W" || $3 == "w") { printf "F %s %s %s\n", $1, $2, $4 }' >"$work/program.sym"
    guest=(-nic none)
    cmdline="init=/usr/bin/linuxbench $workload exit"
fi
port=1299
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
timeout -k 5 ${T_TIMEOUT:-600} qemu-system-x86_64 -cpu max -m 512M -cdrom artifacts/aegis.iso -no-reboot \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 -icount shift=0,sleep=off -display none "${guest[@]}" \
    -fw_cfg "name=opt/aegis/cmdline,string=$cmdline" \
    -serial "file:$work/serial.log" -S -gdb "tcp:127.0.0.1:$port" </dev/null >/dev/null 2>&1 &
qemu_pid=$!
if [[ "$nginx" == true ]]; then
    # The load: once nginx answers (the guest runs when gdb lets it go), a connection a request
    # for a while (a chance for the file server to lend nginx the listener: docs/libos-unixish.md,
    # "The listener in the process"), then ab until the trace ends. Which path a traced call took
    # shows in the table: VfsClient functions are a connection the server holds, TcpConnection
    # ones a connection nginx runs; session 18 got both (which one a run gets was not found).
    ( for _ in $(seq 300); do sleep 1; curl -s -m 2 -o /dev/null "http://127.0.0.1:$http/$url" && break; done
      ab -q -c 1 -n 40 "http://127.0.0.1:$http/$url" >/dev/null 2>&1
      exec ab -q -k -c 4 -n 10000000 "http://127.0.0.1:$http/$url" >/dev/null 2>&1 ) &
    load_pid=$!
fi
cat >"$work/gdbinit" <<GDB
set pagination off
set confirm off
set architecture i386:x86-64
target remote 127.0.0.1:$port
GDB
mkdir -p artifacts
T_BEGIN="$address" T_SKIP="$skip" T_SYMS="$kernel_symbols:$linux_symbols:$work/program.sym" \
    T_OUT="artifacts/linux-trace-$function.txt" \
    timeout -k 5 ${T_TIMEOUT:-600} gdb -batch -nx -x "$work/gdbinit" -x tools/linux-trace/trace.py </dev/null >"$work/gdb.log" 2>&1 || true
grep -E '^(TRACE|  )' "$work/gdb.log" || { echo "$0: the trace did not complete:" >&2; tail -n 15 "$work/gdb.log" >&2; exit 1; }
