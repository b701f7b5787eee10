#!/usr/bin/env python3
"""A 1-byte TCP echo round trip, wall clock (docs/benchmarks.md, "The idle loop watches the ring").

    tools/echo-rtt.py PORT [ROUND_TRIPS] [WARM_UP]

Connects to 127.0.0.1:PORT (an echo server behind QEMU's hostfwd: Aegis's
`./aegis run --no-build --headless --no-disk --nic e1000 --forward PORT:7 -- init=net:tcpecho,7,static`,
or Linux's `tools/linux-reference.sh --tcg --nic e1000 --forward PORT:7 /bin/busybox nc -l -p 7 -e /bin/cat`)
with TCP_NODELAY, sends one byte and waits for it WARM_UP times (default 200), then ROUND_TRIPS
times (default 5,000), and prints the mean round trip of the timed ones in milliseconds. Exits 1
when a byte does not come back as sent."""
import socket
import sys
import time


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    port = int(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    warm = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def exchange(n: int) -> bool:
            for i in range(n):
                byte = bytes([97 + i % 26])
                s.sendall(byte)
                if s.recv(1) != byte:
                    return False
            return True

        if not exchange(warm):
            print("echo-rtt: a byte came back changed", file=sys.stderr)
            return 1
        start = time.perf_counter()
        if not exchange(count):
            print("echo-rtt: a byte came back changed", file=sys.stderr)
            return 1
        elapsed = time.perf_counter() - start
    print("%.4f ms" % (elapsed / count * 1000))
    return 0


if __name__ == "__main__":
    sys.exit(main())
