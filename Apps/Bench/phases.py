#!/usr/bin/env python3
# phases.py - groups a trace of one benchmark operation (artifacts/bench-trace-NAME.txt, written
# by `./aegis bench --trace NAME`) into the steps of the path: kernel entry/exit, the system
# call's own work (copying in, validating, applying), upcall delivery, the scheduler, the
# libOS's trampoline and dispatch, the app's handler. Helper functions (memmove, page-table
# walks, user-memory checks, string formatting, the allocator) have no step of their own: their
# instructions count toward the step that was running when they were called.
#
#   python3 Apps/Bench/phases.py artifacts/bench-trace-NAME.txt [...]
import re
import sys

# Functions whose instructions belong to whoever called them.
HELPERS = [
    r"^memmove$", r"^memset$", r"^runtime:", r"^String__",
    r"^kernel:Core_PageTableBuilder\.(TryTranslate|IsLeaf|PageSizeAt|IndexAt|FindMappedLeaf|AddUserToPath)$",
    r"^kernel:Hal_KernelMemory\.get_PhysicalWindow$", r"^kernel:Exo_PageWalk\.",
    r"^kernel:Exo_UserMemory\.(Copy|IsAccessible|IsUserRange)$",
    r"^kernel:Exo_Environment\.(TryGetMappedFrame|get_IsRunnable)$",
    r"^kernel:Exo_Environments\.Find$", r"^kernel:Core_Exo_EnvironmentTable\.IndexOf$",
]

# Steps, in the order they are printed: (step, patterns of the functions that start it).
STEPS = [
    ("app: benchmark loop and syscall stub", [r"^bench:Benchmarks\.(?!On|Random|SetProtect)", r"^bench_(?!echo)", r"^aegis_syscall[0-9]?$", r"^libos:SystemCalls\."]),
    ("kernel: entry/exit stubs (syscall, interrupt)", [r"^aegis_syscall_entry$", r"^aegis_resume_user$", r"^interrupt_stub_", r"^interrupt_common$"]),
    ("kernel: dispatch (Interrupts/SystemCalls.Dispatch, Handle)", [r"^kernel:Hal_Interrupts\.Dispatch$", r"^kernel:Exo_Scheduler\.OnUserInterrupt$",
                                                                   r"^kernel:Exo_SystemCalls\.(Dispatch|Handle|ResolveEnvironment|FastNull)$"]),
    ("kernel: exception bookkeeping (counters, CR2, frame fields)", [r"^kernel:Exo_Scheduler\.(OnUserException|DescribeFault)$", r"^kernel:Hal_InterruptDescriptorTable\.ExceptionName$",
                                                            r"^aegis_read_cr2$"]),
    ("kernel: Upcalls.Clear (zeroing the 256-byte frame)", [r"^kernel:Exo_Upcalls\.Clear$"]),
    ("kernel: Upcalls.Deliver: checks, register copy", [r"^kernel:Exo_Upcalls\.(Deliver|CopyRegisters)$"]),
    ("kernel: Upcalls.Deliver: frame header (Header, CopyHeader)", [r"^kernel:Exo_Upcalls\.(Header|CopyHeader)$"]),
    ("kernel: Upcalls.Deliver: frame write (TryWrite: page walks + copy)", [r"^kernel:Exo_UserMemory\.TryWrite$"]),
    ("kernel: PageMap: own code (arguments, loop)", [r"^kernel:Exo_SystemCalls\.(Fast)?PageMap$"]),
    ("kernel: PageMap: copy-in of the requests (TryRead: page walks + copy)", [r"^kernel:Exo_UserMemory\.TryRead$"]),
    ("kernel: PageMap: validation", [r"^kernel:Core_Exo_MappingValidator\.", r"^kernel:Core_Exo_FrameLedger\."]),
    ("kernel: PageMap: apply (page-table update)", [r"^kernel:Exo_Environments\.(Protect|Map|Unmap)$", r"^kernel:Core_PageTableBuilder\.(Protect|Map|Unmap)$"]),
    ("kernel: TLB invalidation", [r"^kernel:Exo_Environments\.InvalidateIfCurrent$", r"^aegis_invlpg$", r"^aegis_read_cr3$"]),
    ("kernel: PageQuery", [r"^kernel:Exo_SystemCalls\.(Fast)?PageQuery$"]),
    ("kernel: PageProtect (range Protect: checks, walk, entries, TLB)", [r"^kernel:Exo_SystemCalls\.(Fast)?PageProtect$"]),
    ("kernel: IPC and Yield (Ipc.Call/Reply, Yield, block, wake, direct)", [r"^kernel:Exo_Ipc\.", r"^kernel:Exo_SystemCalls\.Yield$",
                                                                           r"^kernel:Exo_Scheduler\.(DirectTo|Wake|DeliverToWaiting|BlockCurrent|Save|LeaveToLoop)$"]),
    ("kernel: scheduler loop and switch (Run, PickNext, Switch, CR3, FS)", [r"^kernel:Exo_Scheduler\.(Run|PickNext|Switch|AnyoneCanRun|IsRunnableId)$", r"^kernel:KernelMain\.",
                                                                          r"^aegis_(run_user|return_to_loop|write_cr3|write_fs_base|enable_interrupts|disable_interrupts|symbol_cpu_block)$"]),
    ("kernel: scheduler: SliceVector.Next (scan of the 64 slices)", [r"^kernel:Core_Exo_SliceVector\."]),
    ("libOS: upcall trampoline and dispatch", [r"^aegis_upcall_entry$", r"^libos:Upcalls\.", r"^libos:PageFaults\.", r"^libos:.*Handler\.Invoke"]),
    ("app: handler", [r"^bench:Benchmarks\.(On|Random|SetProtect)"]),
    ("echo server (IPC peer): handler, Wait loop", [r"^bench_echo_entry$", r"^bench:EchoServer\."]),
]

helper_patterns = [re.compile(p) for p in HELPERS]
step_patterns = [(name, [re.compile(p) for p in patterns]) for name, patterns in STEPS]


def step_of(function):
    for name, patterns in step_patterns:
        if any(p.search(function) for p in patterns):
            return name
    return None


def analyse(path):
    totals = {}
    unknown = {}
    current = "(before any step)"
    total = 0
    with open(path) as lines:
        header = lines.readline().strip()
        for line in lines:
            if line.startswith("#"):
                continue
            parts = line.split(None, 2)
            if len(parts) != 3:
                continue
            space, count, function = parts[0], int(parts[1]), parts[2].strip()
            total += count
            if not any(p.search(function) for p in helper_patterns):
                step = step_of(function)
                if step is None:
                    step = "other: " + function
                    unknown[function] = unknown.get(function, 0) + count
                current = step
            totals[current] = totals.get(current, 0) + count
    print(header)
    order = [name for name, _ in STEPS]
    for name in sorted(totals, key=lambda n: order.index(n) if n in order else len(order)):
        print("  %7d %5.1f%%  %s" % (totals[name], 100.0 * totals[name] / total, name))
    print("  %7d          total" % total)


for argument in sys.argv[1:]:
    analyse(argument)
