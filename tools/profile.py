#!/usr/bin/env python3
"""Attributes the kernel's tick samples (kernel argument `profile`: "PROF <env> <u|k|i> <rip>"
lines on the serial console, Aegis.Kernel/Diagnostics/Profiler.cs) to environments and
functions, from the .sym files of the kernel and the apps (docs/benchmarks.md, "Profiling").

    tools/profile.py SERIAL_LOG [--from REGEX] [--to REGEX] [--top N] [--sym FILE]...

--from/--to: only the samples after the first line matching --from (its first match) and before
the next line matching --to (the bench's nginx set: --from 'window opened' --to '^BENCH nginx_1k').
Without --sym: artifacts/Release/Aegis.Kernel.sym and every artifacts/Release/apps/*.sym. An
environment's samples are looked up in Aegis.Kernel.sym and its own image's IMAGE.sym alone when
that file is among them ("Aegis: started environment N (IMAGE)"; one not named, a fork, runs
init's image when only one was named), since every app's image starts at the same address.
A rip in no .sym file is a Linux program's own code (the ELF it runs, its libraries): counted
by its region, "program@0xADDRESS>>24".
"""
import argparse
import bisect
import collections
import glob
import os
import re
import sys

PROF = re.compile(r"PROF ([0-9a-f]+) ([uki]) ([0-9a-f]+)$")
STARTED = re.compile(r"started environment ([0-9a-f]+) \(([^)\s]+)\)")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Apps", "Bench"))
from symbols import short, load  # noqa: E402  (the .sym files' records, shared with trace.py)


def load_symbols(paths):
    """Per file: (name, lowest address, end, sorted addresses, records)."""
    tables = []
    for path in paths:
        records = load([path])
        if records:
            last = records[-1]
            tables.append((os.path.basename(path), records[0][0], last[0] + max(last[1], 1),
                           [a for a, _, _ in records], records))
    return tables


def function_of(tables, rip):
    """The function holding rip: a sized record that contains it, else a label at most 4 KiB
    below it (a table's range may span others: the kernel's runs from its low boot code to its
    high half)."""
    for name, low, high, addresses, records in tables:
        if not low <= rip < high:
            continue
        index = bisect.bisect_right(addresses, rip) - 1
        if index < 0:
            continue
        address, size, symbol = records[index]
        if (size > 0 and rip < address + size) or (size == 0 and rip - address < 0x1000):
            return short(symbol)
    return "program@0x%x" % (rip >> 24 << 24)


def samples_busy(samples):
    return [(env, ring, rip) for env, ring, rip in samples if ring != "i"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log")
    parser.add_argument("--from", dest="start")
    parser.add_argument("--to", dest="stop")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sym", action="append")
    arguments = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = arguments.sym or ([os.path.join(root, "artifacts/Release/Aegis.Kernel.sym")]
                              + sorted(glob.glob(os.path.join(root, "artifacts/Release/apps/*.sym"))))
    tables = load_symbols([p for p in paths if os.path.exists(p)])
    inside = arguments.start is None
    samples = []
    images = {}
    with open(arguments.log, errors="replace") as log:
        for line in log:
            line = line.rstrip("\r\n")
            started = STARTED.search(line)
            if started:
                images[int(started.group(1), 16)] = started.group(2)
            if not inside:
                if re.search(arguments.start, line):
                    inside = True
                continue
            if arguments.stop and re.search(arguments.stop, line):
                break
            match = PROF.search(line)
            if match:
                samples.append((int(match.group(1), 16), match.group(2), int(match.group(3), 16)))
    if not samples:
        print("profile: no PROF lines in the window (boot with the kernel argument 'profile')", file=sys.stderr)
        return 1
    per_env = {}

    def lookup(env, rip):
        """function_of in the tables of env's image (and the kernel's), where it is known."""
        if env not in per_env:
            named = set(images.values())
            image = images.get(env) or (next(iter(named)) if len(named) == 1 else None)
            if any(t[0] == "%s.sym" % image for t in tables):
                per_env[env] = [t for t in tables if t[0] in ("Aegis.Kernel.sym", "%s.sym" % image)]
            else:
                per_env[env] = tables
        return function_of(per_env[env], rip)

    total = len(samples)
    print("%d samples (a tick each: 1,000,000 instructions under -icount shift=0)" % total)
    print()
    print("by environment and ring (u: ring 3, k: the kernel, i: idle)")
    by_place = collections.Counter((env, ring) for env, ring, _ in samples)
    for (env, ring), count in by_place.most_common():
        print("  %6.1f%%  %5d  env %x %s" % (100.0 * count / total, count, env, ring))
    print()
    print("by class or module (busy samples only; kernel work shows as the stub it returns to)")
    classes = collections.Counter()
    for env, _, rip in samples_busy(samples):
        name = lookup(env, rip)
        owner = name.rsplit(".", 1)[0] if "." in name and not name.startswith("program@") else name
        classes[(env, owner)] += 1
    for (env, owner), count in classes.most_common(arguments.top):
        print("  %6.1f%%  %5d  env %x  %s" % (100.0 * count / total, count, env, owner))
    print()
    print("by function (busy samples only)")
    busy = [(env, ring, rip) for env, ring, rip in samples if ring != "i"]
    functions = collections.Counter((env, lookup(env, rip)) for env, _, rip in busy)
    for (env, function), count in functions.most_common(arguments.top):
        print("  %6.1f%%  %5d  env %x  %s" % (100.0 * count / total, count, env, function))
    return 0


if __name__ == "__main__":
    sys.exit(main())
