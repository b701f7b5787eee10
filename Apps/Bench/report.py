#!/usr/bin/env python3
# report.py - the tables of docs/benchmarks.md from a benchmark run's serial log
# (artifacts/bench-serial.log, written by ./aegis bench): Aegis's figure per primitive next to
# Linux 6.1's from the design brief, the ratio, the target and whether it is met, then the
# scaling lines (name@parameter) and the PART lines.
#
#   python3 Apps/Bench/report.py [artifacts/bench-serial.log]     (./aegis bench --report runs it)
import re
import sys

# The design brief's Linux 6.1 figures (instructions per operation, same QEMU, -icount) and the
# factor by which Aegis must beat them.
LINUX = [
    ("null_syscall", 337, 5, "getppid"),
    ("exception_upcall", 3919, 10, "SIGTRAP handler + sigreturn"),
    ("prot1_unprot1", 6087, 10, "two mprotect calls"),
    ("pagefault_upcall", 10285, 10, "mprotect + SIGSEGV handler that mprotects"),
    ("ipc_roundtrip", 12874, 10, "1-byte pipe ping-pong, two processes"),
    ("prot1", 2840, 10, "mprotect"),
    ("prot100", 16058, 10, "mprotect of 100 pages"),
    ("unprot100", 22196, 10, "mprotect of 100 pages"),
    ("trap", 4195, 10, "SIGSEGV handler advancing RIP"),
    ("appel1", 29261, 10, ""),
    ("appel2", 16395, 10, ""),
    ("dirty", None, None, "no such call"),
]


def read(path):
    bench, parts = {}, []
    with open(path, errors="replace") as lines:
        for line in lines:
            line = re.sub(r"^\[[0-9a-f]+ [^]]*\] ", "", line.strip())  # the kernel's "[<id> <name>] "
            match = re.match(r"^BENCH (\S+) (\d+) (\d+(?:\.\d)?)$", line)
            if match:
                bench[match.group(1)] = (int(match.group(2)), float(match.group(3)))
                continue
            match = re.match(r"^PART (\S+) (\d+) (\d+(?:\.\d)?)$", line)
            if match:
                parts.append((match.group(1), int(match.group(2)), float(match.group(3))))
    return bench, parts


def number(value):
    text = "%.1f" % value
    whole, tenth = text.split(".")
    whole = "{:,}".format(int(whole))
    return whole if tenth == "0" else whole + "." + tenth


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "artifacts/bench-serial.log"
    bench, parts = read(path)
    print("| primitive | Aegis, instructions/op | Linux 6.1 | Linux ÷ Aegis | target (Aegis ≤) | met |")
    print("|---|---:|---:|---:|---:|:---:|")
    for name, linux, factor, _ in LINUX:
        if name not in bench:
            print("| `%s` | (missing) | | | | |" % name)
            continue
        aegis = bench[name][1]
        if linux is None:
            print("| `%s` | %s | n/a | — | — | — |" % (name, number(aegis)))
            continue
        target = linux / factor
        ratio = linux / aegis if aegis > 0 else float("inf")
        print("| `%s` | %s | %s | %.1f× | %s (%d× below) | %s |" % (
            name, number(aegis), "{:,}".format(linux), ratio, number(target), factor, "yes" if aegis <= target else "**no**"))
    scaling = [(n, v) for n, v in bench.items() if "@" in n]
    if scaling:
        print()
        print("| scaling | instructions/op |")
        print("|---|---:|")
        for name, (_, value) in scaling:
            print("| `%s` | %s |" % (name, number(value)))
    if parts:
        print()
        print("| part | iterations | instructions/op |")
        print("|---|---:|---:|")
        for name, iterations, value in parts:
            print("| `%s` | %s | %s |" % (name, "{:,}".format(iterations), number(value)))


main()
