#!/usr/bin/env bash
# Web-server throughput, Aegis and Linux side by side in the same QEMU on the same host, the
# wall-clock half of issue #12's figures (docs/benchmarks.md, "Side by side with Linux").
#
#   tools/net-side-by-side.sh [--seconds S] [--runs N] [--nic MODEL] [--servers LIST] [--tap]
#
# Boots each server in turn, plain TCG (no -icount: these are wall-clock rates), an e1000 (or
# --nic) on QEMU's user network with a host port forwarded to port 80, and drives it from the
# host with ab, N runs (default 3) of S seconds (default 5) a workload:
#   1k_c1     1 KiB file, 1 keep-alive connection           ab -k -c 1
#   1k_c16    1 KiB file, 16 keep-alive connections         ab -k -c 16
#   1k_conn   1 KiB file, a new connection per request      ab -c 1
#   64k_c16   64 KiB file, 16 keep-alive connections        ab -k -c 16
#   empty_c1  an empty file, 1 keep-alive connection        ab -k -c 1   (the ceiling)
#   empty_c16 an empty file, 16 keep-alive connections      ab -k -c 16  (the ceiling)
# and prints a table of the median requests per second (every run's rate beside it); a run
# with a failed request or a non-200 answer is marked "!". A last row, tlb_flush, is what
# QEMU's monitor ("info jit": TLB partial plus elided flushes, counted per MMU index) says its
# software TLB was emptied over 2,000 keep-alive requests for the 1 KiB file, a request: every
# CR3 write empties it under TCG, so it counts address-space switches, whose cost the
# instruction counts of -icount do not show (docs/benchmarks.md, "Side by side with Linux").
# --flushes-each-run also reads that count around every ab run and prints it a request beside
# the run's rate (stderr): a run whose connections went through the file server (IPC, two CR3
# writes a call) shows it there (a second or two more a run).
# The servers (--servers, comma-separated; default all of them):
#   aegis-ours    Aegis, our web server (init=net:http,80,0,static: /1k, /64k, /empty)
#   aegis-nginx   Aegis, Debian's nginx (/1k.txt, /64k.txt, /empty of /srv/www)
#   aegis-lean    Aegis, /usr/bin/leanhttp (Tests/Linux/leanhttp.c, a lean epoll server in C)
#   linux-nginx   Linux 6.1 (tools/linux-reference.sh --tcg), the same nginx binary and files
#   linux-lean    Linux 6.1, the same leanhttp binary
# --tap: instead of QEMU's user network (slirp, which carries every byte through the host's
# sockets and caps the rates: issue #12's "ceiling"), the card sits on a tap device of the host
# (aegistap0, made here and removed at the end: needs root and /dev/net/tun). The host is
# 10.0.2.2 on it, dnsmasq (dnsmasq-base, installed here if missing) answers DHCP with
# 10.0.2.15, the address every server takes, and ab asks 10.0.2.15:80 directly.
# Needs the ISO and the root file system's stage (./aegis iso), ab (apache2-utils) and curl.
# Each server's console goes to artifacts/side-by-side/SERVER.log.
set -euo pipefail

readonly ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly OUT="$ROOT/artifacts/side-by-side"
readonly ALL_SERVERS="aegis-ours,aegis-nginx,aegis-lean,linux-nginx,linux-lean"
readonly WORKLOADS=(1k_c1 1k_c16 1k_conn 64k_c16 empty_c1 empty_c16)
readonly FLUSH_REQUESTS=2000

say() { printf 'side-by-side: %s\n' "$*" >&2; }
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }
usage_error() { say "$*"; usage >&2; exit 2; }

seconds=5 runs=3 nic=e1000 servers="$ALL_SERVERS" flushes_each_run=false tap=""
readonly TAP_DEVICE=aegistap0 TAP_HOST=10.0.2.2 TAP_GUEST=10.0.2.15
while (( $# > 0 )); do
    case "$1" in
        --seconds) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || usage_error "--seconds needs a whole number"; seconds="$2"; shift 2 ;;
        --runs)    [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || usage_error "--runs needs a whole number"; runs="$2"; shift 2 ;;
        --nic)     [[ "${2:-}" =~ ^(e1000|e1000e|virtio)$ ]] || usage_error "--nic needs e1000, e1000e or virtio"; nic="$2"; shift 2 ;;
        --servers) servers="${2:-}"; shift 2 ;;
        --flushes-each-run) flushes_each_run=true; shift ;;
        --tap) tap="$TAP_DEVICE"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage_error "unknown option '$1'" ;;
    esac
done
for server in ${servers//,/ }; do
    [[ ",$ALL_SERVERS," == *",$server,"* ]] || usage_error "unknown server '$server' (known: $ALL_SERVERS)"
done
for tool in ab curl python3 qemu-system-x86_64; do
    command -v "$tool" >/dev/null 2>&1 || { say "'$tool' is missing (apt-get install apache2-utils curl python3 qemu-system-x86)"; exit 125; }
done
mkdir -p "$OUT"

# --tap: the device, the host's address on it and a DHCP server, all gone again at the end.
dnsmasq_pid=""
tap_down() {
    [[ -z "$dnsmasq_pid" ]] || kill "$dnsmasq_pid" 2>/dev/null || true
    ip link del "$TAP_DEVICE" 2>/dev/null || true
}
if [[ -n "$tap" ]]; then
    [[ "$(id -u)" == 0 && -c /dev/net/tun ]] || { say "--tap needs root and /dev/net/tun"; exit 125; }
    if ! command -v dnsmasq >/dev/null 2>&1; then
        say "installing dnsmasq-base (the tap network's DHCP server)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q dnsmasq-base >/dev/null || { say "apt-get install dnsmasq-base failed"; exit 125; }
    fi
    ip link del "$TAP_DEVICE" 2>/dev/null || true
    ip tuntap add dev "$TAP_DEVICE" mode tap
    trap tap_down EXIT
    ip addr add "$TAP_HOST/24" dev "$TAP_DEVICE"
    ip link set "$TAP_DEVICE" up
    dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --interface="$TAP_DEVICE" --bind-interfaces \
        --dhcp-range="$TAP_GUEST,$TAP_GUEST,255.255.255.0,12h" --dhcp-option=option:router,"$TAP_HOST" \
        --dhcp-leasefile="$OUT/dnsmasq.leases" --log-facility="$OUT/dnsmasq.log" &
    dnsmasq_pid=$!
    say "tap: $TAP_DEVICE, the host $TAP_HOST, the guest $TAP_GUEST (dnsmasq $dnsmasq_pid)"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# path_of SERVER DOCUMENT: the URL path of 1k, 64k or empty on that server.
path_of() {
    if [[ "$1" == aegis-ours ]]; then echo "/$2"; else echo "/$2$([[ "$2" == empty ]] || echo .txt)"; fi
}

# boot SERVER PORT LOG MONITOR: starts the server's machine in the background (its pid in
# booted_pid), QEMU's monitor on the Unix socket MONITOR.
boot() {
    local server="$1" port="$2" log="$3" monitor="$4"
    case "$server" in
        aegis-*)
            local init
            case "$server" in
                aegis-ours) init="init=net:http,80,0,static" ;;
                aegis-nginx) init="init=/usr/sbin/nginx" ;;
                aegis-lean) init="init=/usr/bin/leanhttp" ;;
            esac
            local network=(--forward "$port:80")
            [[ -z "$tap" ]] || network=(--tap "$tap")
            setsid "$ROOT/aegis" run --headless --no-build --no-disk --nic "$nic" "${network[@]}" --monitor "$monitor" -- "$init" >"$log" 2>&1 &
            ;;
        linux-*)
            local command=(/usr/sbin/nginx)
            [[ "$server" == linux-lean ]] && command=(/usr/bin/leanhttp)
            local network=(--forward "$port:80")
            [[ -z "$tap" ]] || network=(--tap "$tap")
            setsid "$ROOT/tools/linux-reference.sh" --tcg --timeout 3600 --nic "$nic" "${network[@]}" --monitor "$monitor" "${command[@]}" >"$log" 2>&1 &
            ;;
    esac
    booted_pid=$!
}

# run_ab ARGS...: prints "RATE" or "RATE!" (a failed or non-2xx request) for one ab run
# (with --flushes-each-run, QEMU's TLB flushes a request go to stderr).
run_ab() {
    local output before=""
    [[ "$flushes_each_run" == true ]] && before="$(tlb_flushes "$monitor" || echo x)"
    output="$(ab -q -r -t "$seconds" -n 10000000 "$@" 2>&1 || true)"
    local rate failed non2xx
    rate="$(awk '/^Requests per second:/ { printf "%.0f", $4 }' <<<"$output")"
    if [[ "$flushes_each_run" == true ]]; then
        local after complete
        after="$(tlb_flushes "$monitor" || echo x)"
        complete="$(awk '/^Complete requests:/ { print $3 }' <<<"$output")"
        if [[ "$before" =~ ^[0-9]+$ && "$after" =~ ^[0-9]+$ && "${complete:-0}" -gt 0 ]]; then
            say "  ab $* -> ${rate:-?} requests/s, $(awk -v d=$(( after - before )) -v n="$complete" 'BEGIN { printf "%.2f", d / n }') TLB flushes a request"
        fi
    fi
    failed="$(awk '/^Failed requests:/ { print $3 }' <<<"$output")"
    non2xx="$(awk '/^Non-2xx responses:/ { print $3 }' <<<"$output")"
    [[ -n "$rate" ]] || { echo "0!"; return; }
    if [[ "${failed:-0}" != 0 || -n "$non2xx" ]]; then echo "$rate!"; else echo "$rate"; fi
}

# tlb_flushes MONITOR: QEMU's count of software-TLB flushes so far (info jit: partial + elided).
tlb_flushes() {
    python3 - "$1" <<'PYTHON'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(0.5)
def drain():
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk: break
            data += chunk
    except socket.timeout:
        pass
    return data.decode(errors="replace")
drain()
s.sendall(b"info jit\n")
time.sleep(0.5)
total = 0
for line in drain().splitlines():
    if line.startswith(("TLB partial flushes", "TLB elided flushes")): total += int(line.split()[3])
print(total)
PYTHON
}

median() { printf '%s\n' "$@" | tr -d '!' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

declare -A results
for server in ${servers//,/ }; do
    port="$(free_port)"
    base="127.0.0.1:$port"
    [[ -z "$tap" ]] || base="$TAP_GUEST:80"
    log="$OUT/$server.log"
    say "$server: booting (console: $log)"
    monitor="$OUT/$server.monitor"
    boot "$server" "$port" "$log" "$monitor"
    ready=false
    for _ in $(seq 1 600); do
        if curl -sf -o /dev/null "http://$base$(path_of "$server" 1k)"; then ready=true; break; fi
        kill -0 "$booted_pid" 2>/dev/null || break
        sleep 0.5
    done
    if [[ "$ready" != true ]]; then
        say "$server: never answered; the console's end:"
        tail -n 15 "$log" >&2
        kill -- -"$booted_pid" 2>/dev/null || true
        pkill -f -- "$monitor" 2>/dev/null || true
        for workload in "${WORKLOADS[@]}" tlb_flush; do results["$server,$workload"]="-"; done
        continue
    fi
    # A warm-up, as the instruction benchmarks have one.
    ab -q -k -n 200 -c 1 "http://$base$(path_of "$server" 1k)" >/dev/null 2>&1 || true
    for workload in "${WORKLOADS[@]}"; do
        document="${workload%%_*}" shape="${workload#*_}"
        url="http://$base$(path_of "$server" "$document")"
        rates=()
        for _ in $(seq 1 "$runs"); do
            case "$shape" in
                c1) rates+=("$(run_ab -k -c 1 "$url")") ;;
                c16) rates+=("$(run_ab -k -c 16 "$url")") ;;
                conn) rates+=("$(run_ab -c 1 "$url")") ;;
            esac
        done
        results["$server,$workload"]="$(median "${rates[@]}") (${rates[*]})"
        say "$server $workload: ${rates[*]} requests/s"
    done
    before="$(tlb_flushes "$monitor" || echo x)"
    ab -q -k -n "$FLUSH_REQUESTS" -c 1 "http://$base$(path_of "$server" 1k)" >/dev/null 2>&1 || true
    after="$(tlb_flushes "$monitor" || echo x)"
    if [[ "$before" =~ ^[0-9]+$ && "$after" =~ ^[0-9]+$ ]]; then
        results["$server,tlb_flush"]="$(awk -v d=$(( after - before )) -v n="$FLUSH_REQUESTS" 'BEGIN { printf "%.1f", d / n }')"
    else
        results["$server,tlb_flush"]="?"
    fi
    say "$server tlb_flush: ${results["$server,tlb_flush"]} a request"
    kill -- -"$booted_pid" 2>/dev/null || true
    # linux-reference.sh runs QEMU under timeout(1), which puts it in a process group of its own:
    # the group kill above misses it, and a Linux machine left running would slow every server
    # measured after it. Its monitor's path names it.
    pkill -f -- "$monitor" 2>/dev/null || true
    wait "$booted_pid" 2>/dev/null || true
    rm -f -- "$monitor"
done

printf '\nrequests per second, median of %d runs of %d s (every run), %s, %s, plain TCG\n\n' "$runs" "$seconds" "$nic" \
    "$([[ -n "$tap" ]] && echo "a tap device ($TAP_DEVICE)" || echo "QEMU user network")"
printf '| %-10s |' workload
for server in ${servers//,/ }; do printf ' %-26s |' "$server"; done
printf '\n|%s|' "------------"
for server in ${servers//,/ }; do printf '%s|' "----------------------------"; done
printf '\n'
for workload in "${WORKLOADS[@]}" tlb_flush; do
    printf '| %-10s |' "$workload"
    for server in ${servers//,/ }; do printf ' %-26s |' "${results["$server,$workload"]}"; done
    printf '\n'
done
