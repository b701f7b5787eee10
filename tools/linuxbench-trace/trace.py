# trace.py - single-steps one call of a function of a Linux program run under the Linux personality
# (from its entry to its return, every environment it passes through) and counts instructions per
# function. Used by tools/linuxbench-trace/trace.sh (`./aegis bench --trace` covers only the kernel
# benchmark app). QEMU's single-step masks interrupts, so timer ticks are not counted.
# Environment: LT_BEGIN (hex address of the function), LT_SKIP (calls to let pass first: the
# warm-up), LT_SYMBOLS (colon-separated .sym files, F records), LT_OUT (the runs, in order).
import bisect, collections, os, gdb

begin = int(os.environ["LT_BEGIN"], 16)
skip = int(os.environ.get("LT_SKIP", "200"))
out = os.environ["LT_OUT"]
records = {}
for path in os.environ["LT_SYMBOLS"].split(":"):
    for line in open(path):
        p = line.split()
        if len(p) != 4 or p[0] != "F":
            continue
        a, s = int(p[1], 16), int(p[2], 16)
        prev = records.get(a)
        if prev is None or (prev[0] == 0 and s > 0):
            records[a] = (s, p[3])
ordered = sorted(records.items())
addrs = [a for a, _ in ordered]
syms = [(a, s, n) for a, (s, n) in ordered]
PREFIXES = (("Aegis_Kernel_Aegis_Kernel_", "k:"), ("LibOS_Unixish_Aegis_LibOS_Unixish_Linux_", "lx:"),
            ("LibOS_Base_Aegis_LibOS_", "base:"), ("Aegis_Runtime_System_", "rt:"), ("LibOS_Unixish_Aegis_LibOS_Unixish_", "ux:"))
cache = {}


def fn(pc):
    r = cache.get(pc)
    if r:
        return r
    i = bisect.bisect_right(addrs, pc) - 1
    r = "?"
    if i >= 0:
        a, s, n = syms[i]
        r = n if (s == 0 or pc < a + s) else "?after " + n
    if r == "?":
        r = "?kernel" if pc >= 0xFFFF800000000000 else "?user"
    for pre, rep in PREFIXES:
        if r.startswith(pre):
            r = rep + r[len(pre):]
    cache[pc] = r
    return r


def reg(e):
    return int(gdb.parse_and_eval(e)) & 0xFFFFFFFFFFFFFFFF


gdb.execute("set pagination off")
gdb.execute("hbreak *0x%x" % begin, to_string=True)
gdb.execute("ignore 1 %d" % skip, to_string=True)
gdb.execute("continue", to_string=True)
gdb.execute("delete", to_string=True)
cr3 = reg("$cr3") & ~0xFFF
ret = int(gdb.parse_and_eval("*(unsigned long*)$rsp")) & 0xFFFFFFFFFFFFFFFF
sp0 = reg("$rsp")
counts = collections.Counter()
runs = []
steps = user = kern = 0
pc = begin
while True:
    f = fn(pc)
    if pc >= 0xFFFF800000000000:
        kern += 1
    else:
        user += 1
    counts[f] += 1
    if runs and runs[-1][0] == f:
        runs[-1][1] += 1
    else:
        runs.append([f, 1])
    gdb.execute("stepi", to_string=True)
    steps += 1
    pc = gdb.selected_frame().pc() & 0xFFFFFFFFFFFFFFFF
    if pc == ret and (reg("$cr3") & ~0xFFF) == cr3 and reg("$rsp") > sp0:
        break
    if steps > 2000000:
        break
with open(out, "w") as o:
    o.write("# total %d (user %d kernel %d)\n" % (steps, user, kern))
    for f, c in runs:
        o.write("%7d %s\n" % (c, f))
print("TOTAL %d user %d kernel %d" % (steps, user, kern))
for f, c in counts.most_common(60):
    print("%7d %s" % (c, f))
