#!/usr/bin/env python3
"""Opens N connections at once to a forwarded port and asks each for /1k (our server's document),
then prints how many were answered, how long the burst took and how much the host's
TcpExtListenOverflows counter grew (docs/benchmarks.md, "QEMU's accept queue"). --gate K lets
only K connections at a time go from connect to their answer (as the boot tests'
ForwardedPortGate does).

    tools/forward-burst.py PORT [N] [--gate K]

against ./aegis run --headless --no-build --nic e1000 --forward PORT:80 -- init=net:http,80,100000,static
"""
import socket, subprocess, sys, threading, time


def overflows():
    try:
        out = subprocess.run(["nstat", "-az", "TcpExtListenOverflows"], capture_output=True, text=True).stdout
        return int(out.split()[-2])
    except (OSError, ValueError, IndexError):
        return -1


def main():
    args = sys.argv[1:]
    gate_size = None
    if "--gate" in args:
        i = args.index("--gate")
        gate_size = int(args[i + 1])
        del args[i:i + 2]
    if not args:
        print(__doc__)
        return 2
    port = int(args[0])
    count = int(args[1]) if len(args) > 1 else 100
    gate = threading.Semaphore(gate_size) if gate_size else None
    answered, failed = [0], []
    lock = threading.Lock()

    def client(i):
        if gate: gate.acquire()
        try:
            s = socket.create_connection(("127.0.0.1", port))
            s.settimeout(30)
            s.sendall(b"GET /1k HTTP/1.1\r\nHost: aegis\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < 1024:
                more = s.recv(65536)
                if not more: raise EOFError("closed after %d bytes" % len(data))
                data += more
            with lock: answered[0] += 1
            s.close()
        except Exception as e:  # noqa: BLE001 - every failure is reported
            with lock: failed.append("%d: %r" % (i, e))
        finally:
            if gate: gate.release()

    before = overflows()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(count)]
    start = time.time()
    for t in threads: t.start()
    for t in threads: t.join()
    took = time.time() - start
    after = overflows()
    print("answered %d of %d in %.1f s; listen overflows +%s" % (answered[0], count, took, after - before if before >= 0 else "?"))
    for f in failed[:5]: print("  failed", f)
    return 0 if answered[0] == count else 1


if __name__ == "__main__":
    sys.exit(main())
