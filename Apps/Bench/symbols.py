# symbols.py - the .sym files' function records (F lines, docs/build.md) and their short names,
# shared by trace.py (gdb's single-step trace, ./aegis bench --trace) and tools/profile.py (the
# kernel's tick samples, ./aegis bench --profile).

PREFIXES = [
    ("Aegis_Kernel_Aegis_Kernel_", "kernel:"),
    ("Aegis_Runtime_System_", "runtime:System."),
    ("Aegis_Runtime_Aegis_Runtime_", "runtime:"),
    ("Aegis_Runtime_Internal_", "runtime:Internal."),
    ("LibOS_Base_Aegis_LibOS_", "libos:"),
    ("LibOS_Base_Aegis_Abi_", "abi:"),
    ("LibOS_Unixish_Aegis_LibOS_Unixish_", "unixish:"),
    ("LibOS_Net_Aegis_LibOS_Net_", "net:"),
    ("Bench_Aegis_Apps_Bench_", "bench:"),
    ("System_Private_CoreLib_", "corelib:"),
]


def short(symbol):
    for prefix, replacement in PREFIXES:
        if symbol.startswith(prefix):
            return replacement + symbol[len(prefix):].replace("__", ".")
    return symbol


def load(paths):
    """Function records (address, size, name) of the files, sorted by address; where two share
    an address, a sized record wins over a label."""
    records = {}
    for path in paths:
        with open(path) as lines:
            for line in lines:
                parts = line.split()
                if len(parts) != 4 or parts[0] != "F":
                    continue
                address, size = int(parts[1], 16), int(parts[2], 16)
                previous = records.get(address)
                if previous is None or (previous[0] == 0 and size > 0):
                    records[address] = (size, parts[3])
    return [(a, s, n) for a, (s, n) in sorted(records.items())]
