// What the key-value store's host tests share: a page store in memory that can lose power after
// any write (a torn write, then nothing), page-aligned frames, and the workload's keys and values.
using System.Runtime.InteropServices;
using Aegis.LibOS.Database;

namespace Aegis.Tests.Host;

/// <summary>Pages in memory. 'Live' is what the running program reads back; 'Durable' is what a
/// power cut after write number CrashAfter leaves: writes before it whole, that one torn after
/// TornSectors sectors, later ones lost.</summary>
public sealed unsafe class MemoryPageStore : IPageStore
{
    public const int PageSize = 4096;
    private readonly byte[] _live, _durable;

    public MemoryPageStore(ulong pages, byte[] image = null)
    {
        PageCount = pages;
        _live = image != null ? (byte[])image.Clone() : new byte[pages * PageSize];
        _durable = (byte[])_live.Clone();
    }

    public ulong PageCount { get; }
    public long CrashAfter { get; set; } = long.MaxValue;
    public int TornSectors { get; set; } = 3;
    public long WriteCount { get; private set; }
    public long ReadCount { get; private set; }
    /// <summary>WriteCount at each Flush, in order.</summary>
    public List<long> WritesAtFlush { get; } = new();
    /// <summary>The torn write changed every byte it was to change (it was whole after all).</summary>
    public bool TornWriteWasWhole { get; private set; }

    /// <summary>Set: a disk with a volatile write cache. Writes before CrashAfter reach the
    /// durable pages only at a Flush (before the cut); at the cut, each write since the last one
    /// survives whole, torn or not at all, in any combination (this Random decides).</summary>
    public Random LoseUnflushed { get; set; }
    private readonly List<(int At, byte[] Data)> _pending = new();

    public byte[] Durable
    {
        get
        {
            if (LoseUnflushed != null)
            {
                foreach (var (at, data) in _pending)
                {
                    int fate = LoseUnflushed.Next(4);
                    if (fate == 0) continue;
                    int length = fate == 1 ? 512 * (1 + LoseUnflushed.Next(7)) : PageSize;
                    Array.Copy(data, 0, _durable, at, length);
                }
                _pending.Clear();
            }
            return _durable;
        }
    }

    public void Read(ulong page, byte* destination, int count)
    {
        Check(page, count);
        Marshal.Copy(_live, (int)(page * PageSize), (IntPtr)destination, count * PageSize);
        ReadCount += count;
    }

    public void Write(ulong page, byte* source, int count)
    {
        Check(page, count);
        for (int i = 0; i < count; i++)
        {
            int at = (int)((page + (ulong)i) * PageSize);
            Marshal.Copy((IntPtr)(source + i * PageSize), _live, at, PageSize);
            long number = ++WriteCount;
            if (LoseUnflushed != null)
            {
                if (number <= CrashAfter) _pending.Add((at, _live.AsSpan(at, PageSize).ToArray()));
            }
            else if (number < CrashAfter) Array.Copy(_live, at, _durable, at, PageSize);
            else if (number == CrashAfter)
            {
                int torn = TornSectors * 512;
                Array.Copy(_live, at, _durable, at, torn);
                TornWriteWasWhole = _live.AsSpan(at + torn, PageSize - torn).SequenceEqual(_durable.AsSpan(at + torn, PageSize - torn));
            }
        }
    }

    public void Flush()
    {
        WritesAtFlush.Add(WriteCount);
        if (LoseUnflushed == null || WriteCount >= CrashAfter) return;
        foreach (var (at, data) in _pending) Array.Copy(data, 0, _durable, at, PageSize);
        _pending.Clear();
    }

    private void Check(ulong page, int count)
    {
        if (count < 0 || page + (ulong)count > PageCount) throw new ArgumentOutOfRangeException(nameof(page), $"pages {page}+{count} of {PageCount}");
    }
}

/// <summary>Page-aligned memory for the cache and the log's staging buffer.</summary>
public sealed unsafe class HostFrames : IDisposable
{
    private readonly byte* _memory;
    public HostFrames(int cachePages, int stagingPages = 32)
    {
        _memory = (byte*)NativeMemory.AlignedAlloc((nuint)((cachePages + stagingPages) * 4096), 4096);
        Cache = new PageFrames(_memory, cachePages);
        Staging = new PageFrames(_memory + (long)cachePages * 4096, stagingPages);
    }
    public PageFrames Cache { get; }
    public PageFrames Staging { get; }
    public void Dispose() => NativeMemory.AlignedFree(_memory);
}

public static unsafe class KvData
{
    public static ulong Mix64(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>workloads.md's key(i): the 16 lowercase hex digits of mix64(i).</summary>
    public static byte[] Key(ulong i) => System.Text.Encoding.ASCII.GetBytes(Mix64(i).ToString("x16"));

    /// <summary>A 100-byte value: byte j = (131 * seed + j) mod 256 (workloads.md's value(i) for seed i).</summary>
    public static byte[] Value(ulong seed)
    {
        byte[] value = new byte[100];
        for (int j = 0; j < 100; j++) value[j] = (byte)((131 * seed + (ulong)j) & 0xFF);
        return value;
    }

    public static string Hex(byte[] key) => Convert.ToHexString(key);

    public static bool Put(KvStore store, byte[] key, byte[] value)
    {
        fixed (byte* k = key, v = value) return store.Put(k, v);
    }

    public static byte[] Get(KvStore store, byte[] key)
    {
        byte[] value = new byte[100];
        fixed (byte* k = key, v = value) return store.Get(k, v) ? value : null;
    }

    /// <summary>Every record of a full ordered scan, as (hex key, value).</summary>
    public static List<(string Key, byte[] Value)> Scan(KvStore store)
    {
        var records = new List<(string, byte[])>();
        BTree.Cursor cursor = store.First();
        while (true)
        {
            byte[] key = new byte[16], value = new byte[100];
            fixed (byte* k = key, v = value)
                if (!cursor.Next(k, v)) break;
            records.Add((Hex(key), value));
        }
        return records;
    }

    /// <summary>The store's records equal the model's, in order (a message for the first difference, or null).</summary>
    public static string Difference(KvStore store, SortedDictionary<string, byte[]> model)
    {
        var records = Scan(store);
        if (records.Count != model.Count) return $"{records.Count} records, the model has {model.Count}";
        int i = 0;
        foreach (var (key, value) in model)
        {
            if (records[i].Key != key) return $"record {i}: key {records[i].Key}, the model's {key}";
            if (!records[i].Value.AsSpan().SequenceEqual(value)) return $"record {i} ({key}): another value";
            i++;
        }
        return store.Count == (ulong)model.Count ? null : $"Count {store.Count}, the model has {model.Count}";
    }
}

/// <summary>Orders hex keys as the tree does (bytes, unsigned): ordinal string order of the hex.</summary>
public sealed class OrdinalKeys : IComparer<string>
{
    public static readonly OrdinalKeys Instance = new();
    public int Compare(string a, string b) => string.CompareOrdinal(a, b);
}
