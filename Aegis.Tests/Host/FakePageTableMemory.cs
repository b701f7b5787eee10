// FakePageTableMemory: page tables in a dictionary keyed by physical address, with a budget
// of tables to allocate so tests can run out of memory on purpose.
using Aegis.Kernel.Core;

namespace Aegis.Tests.Host;

internal sealed class FakePageTableMemory : IPageTableMemory
{
    private readonly Dictionary<ulong, ulong[]> _tables = new();
    private ulong _nextTable = 0x10_0000;

    public int TablesLeft { get; set; } = int.MaxValue;
    public int TableCount => _tables.Count;
    public int Writes { get; private set; }

    public ulong AllocateTable()
    {
        if (TablesLeft == 0) return 0;
        TablesLeft--;
        ulong table = _nextTable;
        _nextTable += 0x1000;
        _tables[table] = new ulong[512];
        return table;
    }

    public ulong ReadEntry(ulong tablePhysical, int index) => Table(tablePhysical)[index];

    public void WriteEntry(ulong tablePhysical, int index, ulong entry)
    {
        Table(tablePhysical)[index] = entry;
        Writes++;
    }

    private ulong[] Table(ulong tablePhysical)
    {
        if (!_tables.TryGetValue(tablePhysical, out ulong[] table))
            throw new InvalidOperationException("no page table at 0x" + tablePhysical.ToString("X"));
        return table;
    }
}
