# trace.py - counts, instruction by instruction, where one benchmark operation goes.
# Run by `./aegis bench --trace NAME` inside gdb (after it has connected to QEMU's gdb stub,
# with the guest halted before boot). It stops at bench_trace_begin(id) for the wanted
# primitive (Apps/Bench/Benchmarks.cs calls it right before one operation, and
# bench_trace_end right after), single-steps the guest until bench_trace_end, and attributes
# every instruction to the function it belongs to, from the .sym files of the kernel and the
# bench image (F records, docs/build.md). QEMU's single-step runs with interrupts and timers
# masked, so the count is the operation alone, without timer ticks.
#
# Input (environment): AEGIS_TRACE_NAME, AEGIS_TRACE_ID (the Primitive number),
# AEGIS_TRACE_SYMBOLS (".sym" files, colon-separated), AEGIS_TRACE_OUTPUT (where the full
# sequence of function runs is written), AEGIS_TRACE_LIMIT (most instructions to step).
# Output (stdout): the total, user/kernel split, and instructions per function.
import bisect
import collections
import os
import sys

import gdb

name = os.environ["AEGIS_TRACE_NAME"]
wanted_id = int(os.environ["AEGIS_TRACE_ID"])
symbol_files = os.environ["AEGIS_TRACE_SYMBOLS"].split(":")
output_path = os.environ["AEGIS_TRACE_OUTPUT"]
limit = int(os.environ.get("AEGIS_TRACE_LIMIT", "3000000"))

KERNEL_HALF = 0xFFFF800000000000
# The .sym files' records and short names (Apps/Bench/symbols.py; gdb runs this script from the
# repository's root).
sys.path.insert(0, os.path.join(os.getcwd(), "Apps", "Bench"))
from symbols import short, load as load_records  # noqa: E402


def load_symbols(paths):
    records = load_records(paths)
    return [a for a, _, _ in records], records


addresses, symbols = load_symbols(symbol_files)
by_name = {n: a for a, _, n in symbols}
begin = by_name["bench_trace_begin"]
end = by_name["bench_trace_end"]
cache = {}


def function_of(pc):
    found = cache.get(pc)
    if found is not None:
        return found
    index = bisect.bisect_right(addresses, pc) - 1
    result = "?"
    if index >= 0:
        address, size, symbol = symbols[index]
        # A label without a size reaches up to the next symbol.
        if size == 0 or pc < address + size:
            result = short(symbol)
        else:
            result = "?(after %s)" % short(symbol)
    if result == "?":
        result = "?%s" % ("kernel" if pc >= KERNEL_HALF else "user")
    cache[pc] = result
    return result


def register(expression):
    return int(gdb.parse_and_eval(expression)) & 0xFFFFFFFFFFFFFFFF


gdb.execute("set pagination off")
gdb.execute("hbreak *0x%x" % begin, to_string=True)
while True:
    gdb.execute("continue", to_string=True)
    if register("$pc") == begin and register("$rdi") == wanted_id:
        break
gdb.execute("delete", to_string=True)

# Name the address spaces in the order they appear (the echo server is a second one).
spaces = {}


def space_of():
    try:
        cr3 = register("$cr3") & ~0xFFF
    except gdb.error:
        return "user"
    if cr3 not in spaces:
        spaces[cr3] = "user%d" % (len(spaces) + 1)
    return spaces[cr3]


counts = collections.Counter()
runs = []  # [space, function, count]
user = kernel = 0
steps = 0
current_space = space_of()
previous_kernel = False
pc = begin
while True:
    kernel_mode = pc >= KERNEL_HALF
    if kernel_mode:
        where = "kernel"
        kernel += 1
    else:
        if previous_kernel:
            current_space = space_of()
        where = current_space
        user += 1
    previous_kernel = kernel_mode
    function = function_of(pc)
    counts[(where, function)] += 1
    if runs and runs[-1][0] == where and runs[-1][1] == function:
        runs[-1][2] += 1
    else:
        runs.append([where, function, 1])
    gdb.execute("stepi", to_string=True)
    steps += 1
    pc = gdb.selected_frame().pc() & 0xFFFFFFFFFFFFFFFF
    if pc == end or steps >= limit:
        break

total = user + kernel
with open(output_path, "w") as out:
    out.write("# %s: one operation, %d instructions from bench_trace_begin's ret to the call of bench_trace_end\n" % (name, total))
    out.write("# runs of consecutive instructions in one function: space, count, function\n")
    for where, function, count in runs:
        out.write("%-7s %7d  %s\n" % (where, count, function))

print("TRACE %s %d instructions (user %d, kernel %d)%s" % (
    name, total, user, kernel, "" if pc == end else " - STOPPED at the limit of %d steps" % limit))
print("  (includes 2 instructions of the markers: bench_trace_begin's ret and the call of bench_trace_end)")
print("  %7s %6s  %-7s %s" % ("instr", "share", "space", "function"))
for (where, function), count in counts.most_common():
    print("  %7d %5.1f%%  %-7s %s" % (count, 100.0 * count / total, where, function))
print("TRACE-RUNS %s (%d runs)" % (output_path, len(runs)))
