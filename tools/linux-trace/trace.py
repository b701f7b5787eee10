# trace.py - where one call of a function of a Linux program goes, instruction by instruction
# (run by tools/linux-trace/trace.sh inside gdb, connected to QEMU's gdb stub with the guest halted
# before boot). It stops at the function's entry (hardware breakpoint) on hit T_SKIP + 1 (after
# the warm-up), single-steps until the function returns to its caller (the return address at
# entry, with the stack pointer back above it), and attributes every instruction, user and
# kernel, to the function it belongs to from the .sym files (F records: the kernel's, the linux
# image's, and the program's own symbols made from nm). QEMU's single-step masks interrupts and
# timers, so the count is the call alone.
#
# Input (environment): T_BEGIN (entry address, hex), T_SKIP (hits to let pass), T_SYMS (".sym"
# files, colon-separated), T_OUT (where the runs of consecutive instructions per function go),
# T_LIMIT (most instructions to step). Output (stdout): TRACE total (user, kernel) and the
# instructions per function, most first.
import bisect, collections, os, gdb
begin = int(os.environ["T_BEGIN"], 16)
skip = int(os.environ.get("T_SKIP", "100"))
symbol_files = os.environ["T_SYMS"].split(":")
output_path = os.environ["T_OUT"]
limit = int(os.environ.get("T_LIMIT", "200000"))
KERNEL_HALF = 0xFFFF800000000000
PREFIXES = [("Aegis_Kernel_Aegis_Kernel_", "kernel:"), ("Aegis_Runtime_System_", "rt:System."),
            ("Aegis_Runtime_Internal_", "rt:Internal."), ("LibOS_Base_Aegis_LibOS_", "base:"),
            ("LibOS_Base_Aegis_Abi_", "abi:"), ("LibOS_Unixish_Aegis_LibOS_Unixish_", "ux:")]
def short(s):
    for p, r in PREFIXES:
        if s.startswith(p): return r + s[len(p):].replace("__", ".")
    return s
records = {}
for path in symbol_files:
    for line in open(path):
        parts = line.split()
        if len(parts) != 4 or parts[0] != "F": continue
        a, s = int(parts[1], 16), int(parts[2], 16)
        prev = records.get(a)
        if prev is None or (prev[0] == 0 and s > 0): records[a] = (s, parts[3])
ordered = sorted(records.items())
addresses = [a for a, _ in ordered]; symbols = [(a, s, n) for a, (s, n) in ordered]
cache = {}
def function_of(pc):
    f = cache.get(pc)
    if f is not None: return f
    i = bisect.bisect_right(addresses, pc) - 1
    r = "?"
    if i >= 0:
        a, s, n = symbols[i]
        r = short(n) if (s == 0 or pc < a + s) else "?(after %s)" % short(n)
    if r == "?": r = "?kernel" if pc >= KERNEL_HALF else "?user"
    cache[pc] = r
    return r
def reg(e): return int(gdb.parse_and_eval(e)) & 0xFFFFFFFFFFFFFFFF
gdb.execute("set pagination off")
gdb.execute("hbreak *0x%x" % begin, to_string=True)
hits = 0
while True:
    gdb.execute("continue", to_string=True)
    if reg("$pc") == begin:
        hits += 1
        if hits > skip: break
gdb.execute("delete", to_string=True)
ret = int(gdb.parse_and_eval("*(unsigned long*)$rsp")) & 0xFFFFFFFFFFFFFFFF
rsp0 = reg("$rsp")
counts = collections.Counter(); runs = []; user = kernel = 0; steps = 0
pc = begin
while True:
    km = pc >= KERNEL_HALF
    where = "kernel" if km else "user"
    if km: kernel += 1
    else: user += 1
    fn = function_of(pc)
    counts[(where, fn)] += 1
    if runs and runs[-1][1] == fn: runs[-1][2] += 1
    else: runs.append([where, fn, 1])
    gdb.execute("stepi", to_string=True)
    steps += 1
    pc = reg("$pc")
    if (pc == ret and reg("$rsp") == rsp0 + 8) or steps >= limit: break
total = user + kernel
with open(output_path, "w") as out:
    for w, f, c in runs: out.write("%-7s %7d  %s\n" % (w, c, f))
print("TRACE %d instructions (user %d, kernel %d)%s" % (total, user, kernel, "" if steps < limit else " LIMIT"))
for (w, f), c in counts.most_common():
    print("  %7d %5.1f%%  %-7s %s" % (c, 100.0 * c / total, w, f))
