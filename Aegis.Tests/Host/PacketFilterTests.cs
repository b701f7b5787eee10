// The packet-filter engine (Aegis.Kernel/Core/Net; docs/network-filters.md): validation, the
// overlap refusal, the merged structure, and the interpreter and the compiled x86-64 code against
// a naive reference written here (every filter checked linearly, the winner rule applied). The
// compiled code runs on this host: it is copied into memory mapped executable and called through
// a System V function pointer.
using System.Diagnostics;
using System.Runtime.InteropServices;
using Aegis.Abi;
using Aegis.Kernel.Core.Net;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public unsafe class PacketFilterTests
{
    private const uint EtherTypeIpv4 = 0x0800, EtherTypeArp = 0x0806, EtherTypeIpv6 = 0x86DD;
    private const int CodeBytes = 1 << 21;

    // ---- atoms and frames ------------------------------------------------------------------

    private static FilterAtom Atom(FilterBase at, int width, int offset, uint mask, uint value) => new FilterAtom
    {
        Base = (byte)at, Width = (byte)width, Offset = (ushort)offset, Mask = mask, Value = value,
    };

    private static FilterAtom Frame(int offset, int width, uint value) => Atom(FilterBase.Frame, width, offset, FullMask(width), value);
    private static FilterAtom Transport(int offset, int width, uint value) => Atom(FilterBase.Transport, width, offset, FullMask(width), value);
    private static uint FullMask(int width) => width == 4 ? 0xFFFF_FFFFu : (1u << (8 * width)) - 1;

    /// <summary>IPv4 TCP to a destination port: ethertype, protocol 6, transport offset 2.</summary>
    private static FilterAtom[] TcpPort(uint port) => new[] { Frame(12, 2, EtherTypeIpv4), Frame(23, 1, 6), Transport(2, 2, port) };
    private static FilterAtom[] UdpPort(uint port) => new[] { Frame(12, 2, EtherTypeIpv4), Frame(23, 1, 17), Transport(2, 2, port) };

    /// <summary>An Ethernet + IPv4 frame (header words ihl, options zero) carrying protocol with
    /// the given ports at the transport header, padded with payload bytes.</summary>
    private static byte[] Ipv4(int protocol, int sourcePort, int destinationPort, int ihl = 5, int payload = 20, uint source = 0x0A000001, uint destination = 0x0A000002)
    {
        int transport = 14 + 4 * Math.Max(ihl, 5);
        var frame = new byte[transport + 4 + payload];
        for (int i = 0; i < 6; i++) { frame[i] = 0x02; frame[6 + i] = (byte)(0x10 + i); }
        frame[12] = 0x08; frame[13] = 0x00;
        frame[14] = (byte)(0x40 | (ihl & 0x0F));
        frame[23] = (byte)protocol;
        WriteBig(frame, 26, 4, source);
        WriteBig(frame, 30, 4, destination);
        WriteBig(frame, transport, 2, (uint)sourcePort);
        WriteBig(frame, transport + 2, 2, (uint)destinationPort);
        return frame;
    }

    private static byte[] Arp()
    {
        var frame = new byte[42];
        for (int i = 0; i < 6; i++) frame[i] = 0xFF;
        WriteBig(frame, 12, 2, EtherTypeArp);
        WriteBig(frame, 14, 2, 1); WriteBig(frame, 16, 2, 0x0800); frame[18] = 6; frame[19] = 4; WriteBig(frame, 20, 2, 1);
        return frame;
    }

    private static byte[] Ipv6Udp(int destinationPort)
    {
        var frame = new byte[14 + 40 + 8 + 16];
        WriteBig(frame, 12, 2, EtherTypeIpv6);
        frame[14] = 0x60; frame[20] = 17; frame[21] = 64;
        WriteBig(frame, 54 + 2, 2, (uint)destinationPort);
        return frame;
    }

    private static void WriteBig(byte[] frame, int at, int width, uint value)
    {
        for (int i = 0; i < width; i++) frame[at + i] = (byte)(value >> (8 * (width - 1 - i)));
    }

    // ---- the reference: every filter, linearly -----------------------------------------------

    private sealed record Installed(int Id, ulong Owner, FilterAtom[] Atoms);

    private static bool ReferenceMatches(FilterAtom[] atoms, byte[] frame, int length)
    {
        foreach (FilterAtom atom in atoms)
        {
            long start = 0;
            if (atom.Base == (byte)FilterBase.Transport)
            {
                if (length < 15 || (frame[14] & 0x0F) < 5) return false;
                start = 14 + 4 * (frame[14] & 0x0F);
            }
            long position = start + atom.Offset;
            if (position + atom.Width > length) return false;
            uint field = 0;
            for (int i = 0; i < atom.Width; i++) field = field << 8 | frame[position + i];
            if ((field & atom.Mask) != atom.Value) return false;
        }
        return true;
    }

    private static int DistinctAtoms(FilterAtom[] atoms) =>
        atoms.Select(a => (a.Base, a.Width, a.Offset, a.Mask, a.Value)).Distinct().Count();

    /// <summary>The accepting filter with the most distinct atoms, ties to the lower id; -1 if none.</summary>
    private static int Reference(IEnumerable<Installed> filters, byte[] frame, int length)
    {
        int best = -1, bestAtoms = -1;
        foreach (Installed filter in filters)
        {
            if (!ReferenceMatches(filter.Atoms, frame, length)) continue;
            int atoms = DistinctAtoms(filter.Atoms);
            if (atoms > bestAtoms || (atoms == bestAtoms && filter.Id < best)) { best = filter.Id; bestAtoms = atoms; }
        }
        return best;
    }

    /// <summary>Each bit an atom constrains, as (base, frame byte, bit) -> value.</summary>
    private static IEnumerable<((byte Base, int Byte, int Bit) Where, bool Value)> Bits(FilterAtom atom)
    {
        for (int bit = 0; bit < 8 * atom.Width; bit++)
        {
            if ((atom.Mask >> bit & 1) == 0) continue;
            int frameByte = atom.Offset + atom.Width - 1 - bit / 8;
            yield return ((atom.Base, frameByte, bit % 8), (atom.Value >> bit & 1) == 1);
        }
    }

    /// <summary>Some bit is constrained to 0 by one set of atoms and to 1 by the other.</summary>
    private static bool ReferenceDisjoint(IEnumerable<FilterAtom> a, IEnumerable<FilterAtom> b)
    {
        var wanted = new Dictionary<(byte, int, int), bool>();
        foreach (FilterAtom atom in a) foreach (var (where, value) in Bits(atom)) wanted[where] = value;
        foreach (FilterAtom atom in b)
            foreach (var (where, value) in Bits(atom))
                if (wanted.TryGetValue(where, out bool other) && other != value) return true;
        return false;
    }

    private static bool ReferenceSelfContradicts(FilterAtom[] atoms)
    {
        for (int i = 1; i < atoms.Length; i++)
            if (ReferenceDisjoint(atoms.Take(i), new[] { atoms[i] })) return true;
        return false;
    }

    // ---- running the engine ------------------------------------------------------------------

    private static FilterError Add(PacketFilterSet set, ulong owner, FilterAtom[] atoms, out int id) => set.Add(owner, atoms, out id, out _);

    private static int Interpret(PacketFilterSet set, byte[] frame, int length)
    {
        fixed (byte* bytes = frame) return set.Classify(bytes, length);
    }

    private static int Steps(PacketFilterSet set, byte[] frame)
    {
        fixed (byte* bytes = frame) { set.Classify(bytes, frame.Length, out int steps); return steps; }
    }

    /// <summary>Memory mapped read, write and execute, released on Dispose.</summary>
    private sealed class ExecutableMemory : IDisposable
    {
        [DllImport("libc", SetLastError = true)] private static extern nint mmap(nint address, nint length, int protection, int flags, int fd, nint offset);
        [DllImport("libc", SetLastError = true)] private static extern int munmap(nint address, nint length);
        [DllImport("libc", SetLastError = true)] private static extern int mprotect(nint address, nint length, int protection);
        private const int ProtectNone = 0, ProtectRead = 1, ProtectWrite = 2, ProtectExecute = 4;
        private const int MapPrivate = 0x02, MapAnonymous = 0x20;

        public readonly byte* Start;
        public readonly int Length;

        public ExecutableMemory(int length)
        {
            Length = length;
            nint address = mmap(0, length, ProtectRead | ProtectWrite | ProtectExecute, MapPrivate | MapAnonymous, -1, 0);
            Assert.That(address, Is.Not.EqualTo((nint)(-1)), "mmap failed: errno " + Marshal.GetLastPInvokeError());
            Start = (byte*)address;
        }

        /// <summary>Makes the last page unreadable (a guard for reads past a frame placed before it).</summary>
        public void GuardLastPage() =>
            Assert.That(mprotect((nint)(Start + Length - 4096), 4096, ProtectNone), Is.EqualTo(0));

        public void Dispose() => munmap((nint)Start, Length);
    }

    /// <summary>A compiled set, callable: the code compiled into a plain buffer, then copied to
    /// 'at' bytes into executable memory (anywhere: the code is position independent).</summary>
    private sealed class CompiledFilters : IDisposable
    {
        private readonly ExecutableMemory _memory;
        private readonly delegate* unmanaged<byte*, int, int> _classify;
        public readonly int Size;

        public CompiledFilters(PacketFilterSet set, int at = 0)
        {
            var code = new byte[CodeBytes];
            fixed (byte* buffer = code)
                Assert.That(set.Compile(buffer, code.Length, out Size), Is.True, "the set compiles");
            _memory = new ExecutableMemory(((at + Size) | 4095) + 1);
            Marshal.Copy(code, 0, (nint)(_memory.Start + at), Size);
            _classify = (delegate* unmanaged<byte*, int, int>)(_memory.Start + at);
        }

        public int Classify(byte[] frame, int length)
        {
            fixed (byte* bytes = frame) return _classify(bytes, length);
        }

        public int Classify(byte* frame, int length) => _classify(frame, length);

        public void Dispose() => _memory.Dispose();
    }

    /// <summary>Reference, interpreter and compiled code give one answer for every frame.</summary>
    private static void AssertAllAgree(PacketFilterSet set, List<Installed> installed, IEnumerable<(byte[] Frame, int Length)> frames, string when)
    {
        using var compiled = new CompiledFilters(set);
        int checkedFrames = 0, accepted = 0;
        foreach (var (frame, length) in frames)
        {
            int expected = Reference(installed, frame, length);
            int interpreted = Interpret(set, frame, length);
            int native = compiled.Classify(frame, length);
            if (interpreted != expected || native != expected)
                Assert.Fail($"{when}: frame {Convert.ToHexString(frame, 0, Math.Min(length, frame.Length))} (length {length}): reference {expected}, interpreter {interpreted}, compiled {native}");
            checkedFrames++;
            if (expected >= 0) accepted++;
        }
        Assert.That(accepted, Is.GreaterThan(checkedFrames / 10), when + ": the frames exercise accepting paths too");
    }

    // ---- random filters and frames -----------------------------------------------------------

    private static uint RandomBits(Random random) => (uint)random.Next() ^ (uint)random.Next() << 16;

    private static FilterAtom RandomAtom(Random random)
    {
        FilterBase at = random.Next(4) == 0 ? FilterBase.Transport : FilterBase.Frame;
        int width = new[] { 1, 2, 4 }[random.Next(3)];
        int offset = random.Next(12) == 0 ? random.Next(0, NetworkLimits.MaximumFrameBytes - width + 1) : random.Next(0, 48);
        uint mask = random.Next(3) == 0 ? FullMask(width) : 0;
        while (mask == 0) mask = RandomBits(random) & FullMask(width);
        return Atom(at, width, offset, mask, RandomBits(random) & mask);
    }

    /// <summary>The owner's own value of a discriminating field, written in one of several shapes
    /// (so that filters of different owners are disjoint through different offsets and widths).</summary>
    private static IEnumerable<FilterAtom> Discriminator(Random random, ulong owner)
    {
        uint value = 0x1000 + (uint)owner * 0x111;
        switch (random.Next(5))
        {
            case 0: yield return Frame(12, 2, value); break;
            case 1: yield return Frame(12, 1, value >> 8); yield return Frame(13, 1, value & 0xFF); break;
            case 2: yield return Atom(FilterBase.Frame, 4, 12, 0xFFFF_0000, value << 16); break;
            case 3: yield return Atom(FilterBase.Frame, 4, 10, 0x0000_FFFF, value); break;
            default: yield return Atom(FilterBase.Frame, 2, 12, 0x0FF0, value & 0x0FF0); break;
        }
    }

    /// <summary>A random filter of owner's: mostly with the owner's discriminator (disjoint from
    /// other owners'), sometimes with another owner's (likely refused), and when wild with none
    /// (it overlaps nearly everything, so the tests install few of those, and late).</summary>
    private static FilterAtom[] RandomFilter(Random random, ulong owner, bool wild = false)
    {
        var atoms = new List<FilterAtom>();
        int kind = random.Next(20);
        if (!wild || kind < 10) atoms.AddRange(Discriminator(random, kind < 17 ? owner : (ulong)random.Next(1, 13)));
        int extra = random.Next(8) == 0 ? random.Next(5, NetworkLimits.MaximumAtoms - atoms.Count + 1) : random.Next(atoms.Count == 0 ? 1 : 0, 4);
        for (int i = 0; i < extra; i++) atoms.Add(RandomAtom(random));
        if (random.Next(6) == 0 && atoms.Count < NetworkLimits.MaximumAtoms) atoms.Add(atoms[random.Next(atoms.Count)]); // a duplicate
        return atoms.OrderBy(_ => random.Next()).ToArray();
    }

    /// <summary>A random frame, often made to satisfy one of the filters, sometimes cut short.</summary>
    private static (byte[] Frame, int Length) RandomFrame(Random random, List<Installed> installed)
    {
        int length = random.Next(8) == 0 ? random.Next(0, NetworkLimits.MaximumFrameBytes + 1) : random.Next(0, 160);
        var frame = new byte[NetworkLimits.MaximumFrameBytes + 128];
        random.NextBytes(frame);
        if (length >= 15 && random.Next(4) != 0) frame[14] = (byte)((frame[14] & 0xF0) | random.Next(5, 16));
        if (installed.Count > 0 && random.Next(4) != 0)
        {
            FilterAtom[] atoms = installed[random.Next(installed.Count)].Atoms;
            int needed = 0;
            foreach (FilterAtom atom in atoms.Where(a => a.Base == (byte)FilterBase.Frame))
                needed = Math.Max(needed, Satisfy(frame, 0, atom));
            int ihl = frame[14] & 0x0F;
            if (ihl >= 5)
                foreach (FilterAtom atom in atoms.Where(a => a.Base == (byte)FilterBase.Transport))
                    needed = Math.Max(needed, Satisfy(frame, 14 + 4 * ihl, atom));
            if (random.Next(5) != 0) length = Math.Max(length, needed);
            if (random.Next(6) == 0) length = Math.Max(0, needed - 1 - random.Next(4)); // truncated
            if (random.Next(6) == 0) frame[random.Next(Math.Max(1, needed))] ^= (byte)(1 << random.Next(8)); // one bit off
        }
        return (frame, Math.Min(length, frame.Length));
    }

    /// <summary>Writes the atom's value into the frame at start; returns the end of its field.</summary>
    private static int Satisfy(byte[] frame, int start, FilterAtom atom)
    {
        int at = start + atom.Offset;
        uint field = 0;
        for (int i = 0; i < atom.Width; i++) field = field << 8 | frame[at + i];
        WriteBig(frame, at, atom.Width, (field & ~atom.Mask) | atom.Value);
        return at + atom.Width;
    }

    private static IEnumerable<(byte[], int)> CraftedFrames()
    {
        var frames = new List<byte[]>
        {
            Arp(), Ipv6Udp(53), Ipv6Udp(80),
            Ipv4(6, 1234, 80), Ipv4(6, 80, 1234), Ipv4(17, 5000, 53), Ipv4(17, 53, 5000), Ipv4(1, 0, 0),
            Ipv4(6, 1234, 80, ihl: 6), Ipv4(6, 1234, 80, ihl: 15), Ipv4(6, 1234, 443, ihl: 8),
            Ipv4(6, 1234, 80, ihl: 4), Ipv4(6, 1234, 80, ihl: 0), Ipv4(17, 1, 53, ihl: 3),
            new byte[0], new byte[14], new byte[60],
        };
        foreach (byte[] frame in frames)
        {
            yield return (frame, frame.Length);
            foreach (int cut in new[] { 0, 1, 13, 14, 15, 23, 24, 33, 34, 35, 36, 37, 38, 40 })
                if (cut < frame.Length) yield return (frame, cut);
        }
    }

    // ---- validation --------------------------------------------------------------------------

    [TestCase(2, 1, 0, 0xFFu, 0u, FilterError.BadBase)]
    [TestCase(0, 3, 0, 0xFFu, 0u, FilterError.BadWidth)]
    [TestCase(0, 0, 0, 0xFFu, 0u, FilterError.BadWidth)]
    [TestCase(0, 8, 0, 0xFFu, 0u, FilterError.BadWidth)]
    [TestCase(0, 2, 0, 0u, 0u, FilterError.ZeroMask)]
    [TestCase(0, 1, 0, 0x1FFu, 0u, FilterError.MaskWiderThanField)]
    [TestCase(0, 2, 0, 0x1_0000u, 0u, FilterError.MaskWiderThanField)]
    [TestCase(0, 2, 0, 0xFF00u, 0x0001u, FilterError.ValueOutsideMask)]
    [TestCase(0, 2, NetworkLimits.MaximumFrameBytes - 1, 0xFFFFu, 0u, FilterError.BeyondFrame)]
    [TestCase(1, 4, NetworkLimits.MaximumFrameBytes - 3, 0xFFu, 0u, FilterError.BeyondFrame)]
    public void ValidationRefusesABadAtomWithItsReason(int at, int width, int offset, uint mask, uint value, FilterError reason)
    {
        FilterAtom bad = Atom((FilterBase)at, width, offset, mask, value);
        Assert.That(FilterAtoms.Check(bad), Is.EqualTo(reason));
        Assert.That(FilterAtoms.Check(new[] { Frame(12, 2, EtherTypeIpv4), bad }, out int badAtom), Is.EqualTo(reason));
        Assert.That(badAtom, Is.EqualTo(1), "the refused atom is named");
        var set = new PacketFilterSet(8);
        Assert.That(set.Add(1, new[] { Frame(12, 2, EtherTypeIpv4), bad }, out int id, out _), Is.EqualTo(reason));
        Assert.That(id, Is.EqualTo(-1));
        Assert.That(set.Count, Is.Zero);
        Assert.That(set.NodesInUse, Is.EqualTo(1), "nothing changed");
    }

    [Test]
    public void ValidationAcceptsAtomsAtTheLimits()
    {
        Assert.That(FilterAtoms.Check(Atom(FilterBase.Frame, 2, NetworkLimits.MaximumFrameBytes - 2, 0xFFFF, 0x1234)), Is.EqualTo(FilterError.None));
        Assert.That(FilterAtoms.Check(Atom(FilterBase.Transport, 4, 0, 0x8000_0001, 0x8000_0000)), Is.EqualTo(FilterError.None));
        Assert.That(FilterAtoms.Check(Atom(FilterBase.Frame, 1, 0, 0x01, 0)), Is.EqualTo(FilterError.None));
    }

    [Test]
    public void ValidationRefusesNoAtomsAndTooManyAtoms()
    {
        Assert.That(FilterAtoms.Check(ReadOnlySpan<FilterAtom>.Empty, out _), Is.EqualTo(FilterError.NoAtoms));
        FilterAtom[] many = Enumerable.Range(0, NetworkLimits.MaximumAtoms + 1).Select(i => Frame(i, 1, 0)).ToArray();
        Assert.That(FilterAtoms.Check(many, out _), Is.EqualTo(FilterError.TooManyAtoms));
        Assert.That(FilterAtoms.Check(many.AsSpan(0, NetworkLimits.MaximumAtoms), out _), Is.EqualTo(FilterError.None));
        var set = new PacketFilterSet(4);
        Assert.That(set.Add(1, many, out _, out _), Is.EqualTo(FilterError.TooManyAtoms));
        Assert.That(set.Add(1, Array.Empty<FilterAtom>(), out _, out _), Is.EqualTo(FilterError.NoAtoms));
    }

    [Test]
    public void ValidationRefusesAtomsThatContradictEachOtherAtTheBitLevel()
    {
        // The same field, two values.
        Assert.That(FilterAtoms.Check(new[] { Frame(12, 2, 0x0800), Frame(12, 2, 0x0806) }, out int bad), Is.EqualTo(FilterError.Contradiction));
        Assert.That(bad, Is.EqualTo(1));
        // A byte inside a word: byte 13 of 0x0806 is 06, not 00.
        Assert.That(FilterAtoms.Check(new[] { Frame(12, 2, 0x0806), Frame(13, 1, 0x00) }, out _), Is.EqualTo(FilterError.Contradiction));
        // Overlapping words at different offsets: bytes 12..15 = 08 00 45 xx against bytes 14..15 = 46 xx.
        Assert.That(FilterAtoms.Check(new[] { Atom(FilterBase.Frame, 4, 12, 0xFFFF_FF00, 0x0800_4500), Frame(14, 2, 0x4600) }, out _), Is.EqualTo(FilterError.Contradiction));
        // One bit: the IHL nibble's low bit.
        Assert.That(FilterAtoms.Check(new[] { Atom(FilterBase.Frame, 1, 14, 0x0F, 0x05), Atom(FilterBase.Frame, 1, 14, 0x01, 0x00) }, out _), Is.EqualTo(FilterError.Contradiction));
    }

    [Test]
    public void ValidationAcceptsDuplicatesAndAtomsThatAgree()
    {
        Assert.That(FilterAtoms.Check(new[] { Frame(12, 2, 0x0800), Frame(12, 2, 0x0800) }, out _), Is.EqualTo(FilterError.None));
        Assert.That(FilterAtoms.Check(new[] { Frame(12, 2, 0x0806), Frame(13, 1, 0x06) }, out _), Is.EqualTo(FilterError.None));
        Assert.That(FilterAtoms.Check(new[] { Atom(FilterBase.Frame, 1, 14, 0xF0, 0x40), Atom(FilterBase.Frame, 1, 14, 0x0F, 0x05) }, out _), Is.EqualTo(FilterError.None), "disjoint masks of one byte");
        Assert.That(FilterAtoms.Check(new[] { Frame(2, 2, 0x1234), Transport(2, 2, 0x5678) }, out _), Is.EqualTo(FilterError.None), "different bases never contradict");
    }

    [Test]
    public void ContradictionAgreesWithABitLevelReference()
    {
        var random = new Random(12);
        int contradictions = 0;
        for (int i = 0; i < 20_000; i++)
        {
            FilterAtom a = RandomAtom(random), b = RandomAtom(random);
            if (random.Next(2) == 0) { b.Base = a.Base; b.Offset = (ushort)Math.Max(0, a.Offset + random.Next(-3, 4)); }
            bool expected = ReferenceDisjoint(new[] { a }, new[] { b });
            Assert.That(FilterAtoms.Contradict(a, b), Is.EqualTo(expected), () => $"{Describe(a)} vs {Describe(b)}");
            if (expected) contradictions++;
        }
        Assert.That(contradictions, Is.GreaterThan(1000));
    }

    private static string Describe(FilterAtom a) => $"(base {a.Base}, width {a.Width}, offset {a.Offset}, mask 0x{a.Mask:X}, value 0x{a.Value:X})";

    // ---- the overlap refusal -----------------------------------------------------------------

    [Test]
    public void AnotherOwnersFilterOnTheSamePortIsRefused()
    {
        var set = new PacketFilterSet(8);
        Assert.That(Add(set, 1, TcpPort(80), out _), Is.EqualTo(FilterError.None));
        Assert.That(set.Add(2, TcpPort(80), out int id, out ulong conflict), Is.EqualTo(FilterError.Overlap));
        Assert.That(conflict, Is.EqualTo(1UL), "the owner in the way is named");
        Assert.That(id, Is.EqualTo(-1));
        Assert.That(set.Count, Is.EqualTo(1));
        Assert.That(Add(set, 2, TcpPort(81), out _), Is.EqualTo(FilterError.None), "another port is disjoint");
        Assert.That(Add(set, 3, UdpPort(80), out _), Is.EqualTo(FilterError.None), "another protocol is disjoint");
    }

    [Test]
    public void AFilterWithFewerAtomsThatCoversAnotherIsRefused()
    {
        var set = new PacketFilterSet(8);
        Assert.That(Add(set, 1, TcpPort(80), out _), Is.EqualTo(FilterError.None));
        Assert.That(set.Add(2, new[] { Frame(12, 2, EtherTypeIpv4), Frame(23, 1, 6) }, out _, out ulong conflict), Is.EqualTo(FilterError.Overlap), "every TCP frame covers port 80's");
        Assert.That(conflict, Is.EqualTo(1UL));
        Assert.That(Add(set, 2, new[] { Frame(12, 2, EtherTypeIpv4) }, out _), Is.EqualTo(FilterError.Overlap));

        var other = new PacketFilterSet(8);
        Assert.That(Add(other, 2, new[] { Frame(12, 2, EtherTypeIpv4) }, out _), Is.EqualTo(FilterError.None));
        Assert.That(Add(other, 1, TcpPort(80), out _), Is.EqualTo(FilterError.Overlap), "and the other way round");
    }

    [Test]
    public void OverlappingBitsAtDifferentOffsetsAreRefused()
    {
        var set = new PacketFilterSet(8);
        Assert.That(Add(set, 1, new[] { Frame(12, 2, EtherTypeIpv4) }, out _), Is.EqualTo(FilterError.None));
        // Byte 12 alone, the same value: overlaps.
        Assert.That(Add(set, 2, new[] { Frame(12, 1, 0x08) }, out _), Is.EqualTo(FilterError.Overlap));
        // A 4-byte field over bytes 10..13 whose low half agrees with 0x0800.
        Assert.That(Add(set, 2, new[] { Atom(FilterBase.Frame, 4, 10, 0x0000_FFFF, 0x0800) }, out _), Is.EqualTo(FilterError.Overlap));
        // Disjoint masks of the same bytes (no common bit): overlaps.
        Assert.That(Add(set, 2, new[] { Atom(FilterBase.Frame, 4, 12, 0x0000_FFFF, 0x4500) }, out _), Is.EqualTo(FilterError.Overlap));
    }

    [Test]
    public void DisjointBitsAtDifferentOffsetsAreAccepted()
    {
        var set = new PacketFilterSet(8);
        Assert.That(Add(set, 1, new[] { Frame(12, 2, EtherTypeIpv4) }, out _), Is.EqualTo(FilterError.None));
        Assert.That(Add(set, 2, new[] { Frame(13, 1, 0x06) }, out _), Is.EqualTo(FilterError.None), "byte 13 is 00 for owner 1");
        // Byte 12 (inside a 4-byte field from 10) is 86, not 08; byte 13 is 07, not 06.
        Assert.That(Add(set, 3, new[] { Atom(FilterBase.Frame, 4, 10, 0x0000_FF00, 0x8600), Frame(13, 1, 0x07) }, out _), Is.EqualTo(FilterError.None));
        Assert.That(Add(set, 4, new[] { Atom(FilterBase.Frame, 1, 12, 0x80, 0x80) }, out _), Is.EqualTo(FilterError.Overlap), "bit 7 of byte 12 is 0 for owner 1, but owner 2 leaves it free");
        Assert.That(Add(set, 4, new[] { Atom(FilterBase.Frame, 1, 12, 0x80, 0x80), Frame(13, 1, 0x00) }, out _), Is.EqualTo(FilterError.None), "now disjoint from 1 (bit 7), 2 (byte 13) and 3 (byte 12 = 0x86)");
    }

    [Test]
    public void DifferentBasesNeverProveDisjointness()
    {
        var set = new PacketFilterSet(8);
        Assert.That(Add(set, 1, new[] { Transport(2, 2, 80) }, out _), Is.EqualTo(FilterError.None));
        // Frame bytes 36..37 are the transport's bytes 2..3 when the IHL is 5; the kernel does not reason about it.
        Assert.That(set.Add(2, new[] { Frame(36, 2, 81) }, out _, out ulong conflict), Is.EqualTo(FilterError.Overlap));
        Assert.That(conflict, Is.EqualTo(1UL));
        Assert.That(Add(set, 2, new[] { Transport(2, 2, 81) }, out _), Is.EqualTo(FilterError.None), "the same base proves it");
    }

    [Test]
    public void SameOwnerMayOverlapAndTheFilterWithMoreAtomsWins()
    {
        var set = new PacketFilterSet(8);
        Assert.That(Add(set, 1, new[] { Frame(12, 2, EtherTypeIpv4) }, out int ip), Is.EqualTo(FilterError.None));
        Assert.That(Add(set, 1, TcpPort(80), out int web), Is.EqualTo(FilterError.None));
        Assert.That(Add(set, 1, new[] { Frame(12, 2, EtherTypeIpv4), Transport(2, 2, 80) }, out int anyPort80), Is.EqualTo(FilterError.None));
        using var compiled = new CompiledFilters(set);
        foreach (var (frame, expected) in new[] { (Ipv4(6, 1, 80), web), (Ipv4(17, 1, 80), anyPort80), (Ipv4(6, 1, 81), ip), (Arp(), -1) })
        {
            Assert.That(Interpret(set, frame, frame.Length), Is.EqualTo(expected));
            Assert.That(compiled.Classify(frame, frame.Length), Is.EqualTo(expected));
        }
    }

    [Test]
    public void SameOwnerTiesGoToTheLowerId()
    {
        var set = new PacketFilterSet(8);
        Assert.That(Add(set, 1, new[] { Frame(12, 2, EtherTypeIpv4), Frame(23, 1, 6) }, out int first), Is.EqualTo(FilterError.None));
        Assert.That(Add(set, 1, new[] { Frame(12, 2, EtherTypeIpv4), Transport(2, 2, 80) }, out int second), Is.EqualTo(FilterError.None));
        Assert.That(Add(set, 1, new[] { Frame(23, 1, 6), Frame(12, 2, EtherTypeIpv4), Frame(12, 2, EtherTypeIpv4) }, out int duplicate), Is.EqualTo(FilterError.None));
        Assert.That(first, Is.LessThan(second));
        byte[] frame = Ipv4(6, 1, 80);
        using (var compiled = new CompiledFilters(set))
        {
            Assert.That(Interpret(set, frame, frame.Length), Is.EqualTo(first));
            Assert.That(compiled.Classify(frame, frame.Length), Is.EqualTo(first));
        }
        Assert.That(set.Remove(first), Is.EqualTo(FilterError.None));
        using (var compiled = new CompiledFilters(set))
        {
            Assert.That(Interpret(set, frame, frame.Length), Is.EqualTo(second), "two atoms each: the lower id of the rest");
            Assert.That(compiled.Classify(frame, frame.Length), Is.EqualTo(second));
        }
        Assert.That(set.AtomCountOf(duplicate), Is.EqualTo(2), "a duplicated atom counts once");
    }

    [Test]
    public void OverlapRefusalAgreesWithABitLevelReference()
    {
        var random = new Random(7);
        var set = new PacketFilterSet();
        var installed = new List<Installed>();
        int refused = 0;
        for (int i = 0; i < 600; i++)
        {
            ulong owner = (ulong)random.Next(1, 9);
            FilterAtom[] atoms = RandomFilter(random, owner, wild: i >= 550);
            if (ReferenceSelfContradicts(atoms)) { Assert.That(Add(set, owner, atoms, out _), Is.EqualTo(FilterError.Contradiction)); continue; }
            bool overlaps = installed.Any(f => f.Owner != owner && !ReferenceDisjoint(f.Atoms, atoms));
            FilterError error = set.Add(owner, atoms, out int id, out ulong conflict);
            if (overlaps)
            {
                Assert.That(error, Is.EqualTo(FilterError.Overlap));
                Assert.That(installed.Any(f => f.Owner == conflict && f.Owner != owner && !ReferenceDisjoint(f.Atoms, atoms)), Is.True, "the named owner really is in the way");
                refused++;
            }
            else
            {
                Assert.That(error, Is.EqualTo(FilterError.None));
                installed.Add(new Installed(id, owner, atoms));
            }
        }
        Assert.That(refused, Is.GreaterThan(50));
        Assert.That(installed.Count, Is.GreaterThan(100));
    }

    // ---- interpreter, compiled code and the reference --------------------------------------

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(4)]
    public void RandomFiltersAndFramesGiveTheReferencesAnswer(int seed)
    {
        var random = new Random(seed);
        var set = new PacketFilterSet();
        var installed = new List<Installed>();
        for (int i = 0; i < 400; i++)
        {
            ulong owner = (ulong)random.Next(1, 13);
            FilterAtom[] atoms = RandomFilter(random, owner, wild: i >= 370);
            if (set.Add(owner, atoms, out int id, out _) == FilterError.None) installed.Add(new Installed(id, owner, atoms));
        }
        Assert.That(installed.Count, Is.GreaterThan(100));
        Assert.That(installed.Select(f => f.Owner).Distinct().Count(), Is.GreaterThan(8), "many owners");
        Assert.That(installed.Any(f => f.Atoms.Any(a => a.Base == (byte)FilterBase.Transport)), Is.True);
        var frames = Enumerable.Range(0, 4000).Select(_ => RandomFrame(random, installed)).Concat(CraftedFrames()).ToList();
        AssertAllAgree(set, installed, frames, "all installed");

        foreach (Installed filter in installed.Where(_ => random.Next(2) == 0).ToList())
        {
            Assert.That(set.Remove(filter.Id), Is.EqualTo(FilterError.None));
            installed.Remove(filter);
        }
        AssertAllAgree(set, installed, frames, "half removed");
    }

    [Test]
    public void PortFiltersOfManyOwnersGiveTheReferencesAnswer()
    {
        var set = new PacketFilterSet();
        var installed = new List<Installed>();
        for (int port = 1; port <= 300; port++)
        {
            FilterAtom[] tcp = TcpPort((uint)port), udp = UdpPort((uint)port + 1000);
            Assert.That(Add(set, (ulong)port, tcp, out int a), Is.EqualTo(FilterError.None));
            Assert.That(Add(set, (ulong)port, udp, out int b), Is.EqualTo(FilterError.None));
            installed.Add(new Installed(a, (ulong)port, tcp));
            installed.Add(new Installed(b, (ulong)port, udp));
        }
        for (int host = 0; host < 5; host++)
        {
            FilterAtom[] atoms = { Frame(12, 2, EtherTypeIpv4), Frame(23, 1, 17), Frame(30, 4, 0x0A000100u + (uint)host) };
            Assert.That(Add(set, 1000, atoms, out _), Is.EqualTo(FilterError.Overlap), "a whole host's UDP covers the port filters");
        }
        var random = new Random(5);
        var frames = new List<(byte[], int)>();
        for (int i = 0; i < 3000; i++)
        {
            int port = random.Next(2) == 0 ? random.Next(0, 320) : random.Next(980, 1320);
            byte[] frame = Ipv4(random.Next(2) == 0 ? 6 : 17, random.Next(65536), port, ihl: random.Next(3, 16));
            frames.Add((frame, random.Next(4) == 0 ? random.Next(frame.Length) : frame.Length));
        }
        AssertAllAgree(set, installed, frames.Concat(CraftedFrames()), "port filters");
    }

    [Test]
    public void BranchesWithTwoToManyValuesClassifyLikeTheReference()
    {
        foreach (int values in new[] { 1, 2, 3, 4, 5, 8, 9, 33, 1000 })
        {
            var set = new PacketFilterSet();
            var installed = new List<Installed>();
            for (int i = 0; i < values; i++)
            {
                FilterAtom[] atoms = { Frame(23, 1, 6), Atom(FilterBase.Transport, 4, 4, 0xFFFF_FFF0, (uint)i * 0x10u * 7919u & 0xFFFF_FFF0) };
                Assert.That(Add(set, (ulong)i + 1, atoms, out int id), Is.EqualTo(FilterError.None));
                installed.Add(new Installed(id, (ulong)i + 1, atoms));
            }
            var frames = new List<(byte[], int)>();
            for (int i = 0; i < values + 10; i++)
            {
                uint value = (uint)(i % values) * 0x10u * 7919u + (uint)(i % 16);
                foreach (uint field in new[] { value, value + 0x100 }) // the filter's value; none's
                {
                    byte[] frame = Ipv4(6, 0, 0, ihl: 5 + i % 3);
                    WriteBig(frame, 14 + 4 * (5 + i % 3) + 4, 4, field);
                    frames.Add((frame, frame.Length));
                    frames.Add((frame, 14 + 4 * (5 + i % 3) + 7 - i % 3)); // the field cut short
                }
            }
            AssertAllAgree(set, installed, frames, values + " values");
        }
    }

    [Test]
    public void TransportFieldsFailWithoutAValidIhl()
    {
        var set = new PacketFilterSet(8);
        Assert.That(Add(set, 1, new[] { Transport(0, 1, 0) }, out int id), Is.EqualTo(FilterError.None));
        using var compiled = new CompiledFilters(set);
        var frame = new byte[100];
        foreach (int ihl in Enumerable.Range(0, 16))
        {
            frame[14] = (byte)(0x40 | ihl);
            int expected = ihl >= 5 ? id : -1;
            Assert.That(Interpret(set, frame, frame.Length), Is.EqualTo(expected), "IHL " + ihl);
            Assert.That(compiled.Classify(frame, frame.Length), Is.EqualTo(expected), "IHL " + ihl);
            int end = 14 + 4 * ihl + 1;
            Assert.That(Interpret(set, frame, end - 1), Is.EqualTo(-1), "the field's byte is missing");
            Assert.That(compiled.Classify(frame, end - 1), Is.EqualTo(-1));
            if (ihl >= 5) Assert.That(compiled.Classify(frame, end), Is.EqualTo(id));
        }
        frame[14] = 0x45;
        foreach (int length in new[] { 0, 14, -1, int.MinValue })
        {
            Assert.That(Interpret(set, frame, length), Is.EqualTo(-1), "length " + length);
            Assert.That(compiled.Classify(frame, length), Is.EqualTo(-1), "length " + length);
        }
    }

    [Test]
    public void NeitherInterpreterNorCompiledCodeReadsPastTheFrame()
    {
        var set = new PacketFilterSet();
        var random = new Random(3);
        for (int i = 0; i < 200; i++) set.Add((ulong)random.Next(1, 20), RandomFilter(random, (ulong)random.Next(1, 20)), out _, out _);
        for (int port = 1; port < 50; port++) set.Add(100, TcpPort((uint)port), out _, out _);
        set.Add(101, new[] { Frame(12, 2, EtherTypeIpv4), Atom(FilterBase.Transport, 4, NetworkLimits.MaximumFrameBytes - 4, 0xFFFF_FFFF, 1) }, out _, out _);
        using var compiled = new CompiledFilters(set);
        using var guarded = new ExecutableMemory(2 * 4096 + 4096);
        guarded.GuardLastPage();
        byte* guard = guarded.Start + guarded.Length - 4096;
        byte[] source = Ipv4(6, 1, 7, ihl: 15, payload: 2000);
        for (int length = 0; length <= 4096 + 4096; length += length < 200 ? 1 : 97)
        {
            byte* frame = guard - length;
            Marshal.Copy(source, 0, (nint)frame, Math.Min(length, source.Length));
            // A fault here would end the test run: the last byte before the guard is the frame's last.
            int interpreted = set.Classify(frame, length);
            Assert.That(compiled.Classify(frame, length), Is.EqualTo(interpreted), "length " + length);
        }
    }

    [Test]
    public void CompiledCodeIsPositionIndependent()
    {
        var set = new PacketFilterSet();
        var installed = new List<Installed>();
        for (int port = 1; port <= 40; port++)
        {
            Assert.That(Add(set, (ulong)port, TcpPort((uint)port * 3), out int id), Is.EqualTo(FilterError.None));
            installed.Add(new Installed(id, (ulong)port, TcpPort((uint)port * 3)));
        }
        using var here = new CompiledFilters(set, at: 0);
        using var there = new CompiledFilters(set, at: 4096 * 3 + 17);
        for (int port = 0; port < 130; port++)
        {
            byte[] frame = Ipv4(6, 9, port);
            int expected = Reference(installed, frame, frame.Length);
            Assert.That(here.Classify(frame, frame.Length), Is.EqualTo(expected));
            Assert.That(there.Classify(frame, frame.Length), Is.EqualTo(expected));
        }
    }

    // ---- the merged structure and its cost ---------------------------------------------------

    [Test]
    public void FiltersWrittenInDifferentAtomOrdersShareTheirTests()
    {
        var set = new PacketFilterSet(8);
        Assert.That(Add(set, 1, TcpPort(80), out _), Is.EqualTo(FilterError.None));
        Assert.That(Add(set, 2, TcpPort(81).Reverse().ToArray(), out _), Is.EqualTo(FilterError.None));
        Assert.That(Add(set, 3, new[] { Transport(2, 2, 82), Frame(12, 2, EtherTypeIpv4), Frame(23, 1, 6) }, out _), Is.EqualTo(FilterError.None));
        Assert.That(set.BranchesInUse, Is.EqualTo(3), "ethertype, protocol, port: one branch each");
        Assert.That(set.NodesInUse, Is.EqualTo(1 + 2 + 3), "the root, the shared ethertype and protocol nodes, a node per port");
    }

    [TestCase(1)]
    [TestCase(10)]
    [TestCase(100)]
    [TestCase(1000)]
    public void OneMultiWayBranchHoldsEveryPort(int filters)
    {
        var set = new PacketFilterSet();
        for (int i = 0; i < filters; i++) Assert.That(Add(set, (ulong)i + 1, TcpPort(1000 + (uint)i), out _), Is.EqualTo(FilterError.None));
        Assert.That(set.BranchesInUse, Is.EqualTo(3));
        Assert.That(set.NodesInUse, Is.EqualTo(3 + filters));
        Assert.That(set.LongestProbe(), Is.LessThanOrEqualTo(8), "the edge table's lookups stay short");
    }

    [Test]
    public void StepsPerPacketAreTheSameFor1To1000PortFilters()
    {
        var stepsBySize = new Dictionary<int, int[]>();
        foreach (int filters in new[] { 1, 10, 100, 1000 })
        {
            var set = new PacketFilterSet();
            for (int i = 0; i < filters; i++) Assert.That(Add(set, (ulong)i + 1, TcpPort(1000 + (uint)i), out _), Is.EqualTo(FilterError.None));
            byte[][] packets = { Ipv4(6, 5, 1000), Ipv4(6, 5, 1000 + filters - 1), Ipv4(6, 5, 999), Ipv4(17, 5, 1000), Arp(), Ipv4(6, 5, 1000, ihl: 7) };
            stepsBySize[filters] = packets.Select(p => Steps(set, p)).ToArray();
            Assert.That(Interpret(set, packets[1], packets[1].Length), Is.EqualTo(filters - 1), "the last port's filter accepts");
        }
        Assert.That(stepsBySize[1], Is.EqualTo(new[] { 3, 3, 3, 2, 1, 3 }), "ethertype, protocol, port");
        foreach (int filters in new[] { 10, 100, 1000 })
            Assert.That(stepsBySize[filters], Is.EqualTo(stepsBySize[1]), filters + " filters");
    }

    [Test]
    public void CompiledCodeGrowsByOneAcceptAndItsTableEntriesPerPort()
    {
        // 1,000 ports compile to the code of 4 plus, per port, one accept (18 bytes), its jmp (5)
        // and its share of the table (32 or 64 bytes): no per-port compare.
        var small = new PacketFilterSet();
        var large = new PacketFilterSet();
        for (int i = 0; i < 4; i++) Add(small, (ulong)i + 1, TcpPort(1000 + (uint)i), out _);
        for (int i = 0; i < 1000; i++) Add(large, (ulong)i + 1, TcpPort(1000 + (uint)i), out _);
        using var compiledSmall = new CompiledFilters(small);
        using var compiledLarge = new CompiledFilters(large);
        int perPort = (compiledLarge.Size - compiledSmall.Size) / 996;
        Assert.That(perPort, Is.LessThan(64 + 32 * 2), "an accept (21 bytes), its jmp, and its table entries");
    }

    // ---- add, remove, capacity ------------------------------------------------------------

    [Test]
    public void AddRemoveAndRemoveAllKeepClassificationRight()
    {
        var random = new Random(21);
        var set = new PacketFilterSet(256);
        var installed = new List<Installed>();
        var frames = new List<(byte[], int)>();
        for (int round = 0; round < 12; round++)
        {
            for (int i = 0; i < 30; i++)
            {
                ulong owner = (ulong)random.Next(1, 7);
                FilterAtom[] atoms = RandomFilter(random, owner);
                if (set.Add(owner, atoms, out int id, out _) == FilterError.None) installed.Add(new Installed(id, owner, atoms));
            }
            foreach (Installed filter in installed.Where(_ => random.Next(3) == 0).ToList())
            {
                Assert.That(set.Remove(filter.Id), Is.EqualTo(FilterError.None));
                installed.Remove(filter);
            }
            if (round % 4 == 3)
            {
                ulong gone = (ulong)random.Next(1, 7);
                Assert.That(set.RemoveAll(gone), Is.EqualTo(installed.Count(f => f.Owner == gone)));
                installed.RemoveAll(f => f.Owner == gone);
            }
            Assert.That(set.Count, Is.EqualTo(installed.Count));
            foreach (Installed filter in installed) Assert.That(set.OwnerOf(filter.Id), Is.EqualTo(filter.Owner));
            frames.Clear();
            for (int i = 0; i < 600; i++) frames.Add(RandomFrame(random, installed));
            AssertAllAgree(set, installed, frames, "round " + round);
        }
    }

    [Test]
    public void RemovingEverythingLeavesAnEmptySetThatAcceptsNothing()
    {
        var random = new Random(4);
        var set = new PacketFilterSet();
        for (int i = 0; i < 300; i++) { ulong owner = (ulong)random.Next(1, 10); set.Add(owner, RandomFilter(random, owner), out _, out _); }
        for (int port = 1; port < 100; port++) set.Add(50, TcpPort((uint)port), out _, out _);
        Assert.That(set.Count, Is.GreaterThan(100));
        for (ulong owner = 1; owner < 10; owner++) set.RemoveAll(owner);
        Assert.That(set.RemoveAll(50), Is.EqualTo(99));
        Assert.That(set.Count, Is.Zero);
        Assert.That(set.NodesInUse, Is.EqualTo(1), "only the root");
        Assert.That(set.BranchesInUse, Is.Zero);
        Assert.That(set.LongestProbe(), Is.Zero, "the edge table is empty");
        using var compiled = new CompiledFilters(set);
        foreach (var (frame, length) in CraftedFrames().Concat(Enumerable.Range(0, 200).Select(_ => RandomFrame(random, new List<Installed>()))))
        {
            Assert.That(Interpret(set, frame, length), Is.EqualTo(-1));
            Assert.That(compiled.Classify(frame, length), Is.EqualTo(-1));
        }
        Assert.That(Add(set, 2, TcpPort(80), out _), Is.EqualTo(FilterError.None), "the pools were all given back");
    }

    [Test]
    public void RemoveOfAFilterThatIsNotThereIsRefused()
    {
        var set = new PacketFilterSet(4);
        Assert.That(set.Remove(0), Is.EqualTo(FilterError.NoSuchFilter));
        Assert.That(set.Remove(-1), Is.EqualTo(FilterError.NoSuchFilter));
        Assert.That(set.Remove(4), Is.EqualTo(FilterError.NoSuchFilter));
        Assert.That(Add(set, 1, TcpPort(1), out int id), Is.EqualTo(FilterError.None));
        Assert.That(set.Remove(id), Is.EqualTo(FilterError.None));
        Assert.That(set.Remove(id), Is.EqualTo(FilterError.NoSuchFilter));
        Assert.That(set.RemoveAll(1), Is.Zero);
    }

    [Test]
    public void FullFilterSlotsGiveFullAndChangeNothing()
    {
        var set = new PacketFilterSet(4);
        for (uint port = 1; port <= 4; port++) Assert.That(Add(set, port, TcpPort(port), out _), Is.EqualTo(FilterError.None));
        int nodes = set.NodesInUse, branches = set.BranchesInUse;
        Assert.That(set.Add(9, TcpPort(9), out int id, out _), Is.EqualTo(FilterError.Full));
        Assert.That(id, Is.EqualTo(-1));
        Assert.That((set.Count, set.NodesInUse, set.BranchesInUse), Is.EqualTo((4, nodes, branches)));
        byte[] frame = Ipv4(6, 1, 9);
        Assert.That(Interpret(set, frame, frame.Length), Is.EqualTo(-1));
        Assert.That(set.Remove(2), Is.EqualTo(FilterError.None));
        Assert.That(Add(set, 9, TcpPort(9), out id), Is.EqualTo(FilterError.None), "a freed slot is used again");
        Assert.That(id, Is.EqualTo(2));
    }

    [Test]
    public void AFullNodePoolGivesFullAndChangesNothing()
    {
        var set = new PacketFilterSet(16, nodeCapacity: 6); // the root, ethertype, protocol, 3 ports
        for (uint port = 1; port <= 3; port++) Assert.That(Add(set, port, TcpPort(port), out _), Is.EqualTo(FilterError.None));
        Assert.That(set.NodesInUse, Is.EqualTo(6));
        Assert.That(Add(set, 4, TcpPort(4), out _), Is.EqualTo(FilterError.Full), "a fourth port needs a node");
        Assert.That(Add(set, 4, UdpPort(4), out _), Is.EqualTo(FilterError.Full), "UDP needs two");
        Assert.That(Add(set, 1, TcpPort(1), out int again), Is.EqualTo(FilterError.None), "an identical filter of the same owner needs no node");
        Assert.That((set.Count, set.NodesInUse), Is.EqualTo((4, 6)));
        using var compiled = new CompiledFilters(set);
        byte[] frame = Ipv4(6, 1, 2);
        Assert.That(compiled.Classify(frame, frame.Length), Is.EqualTo(1));
        Assert.That(set.Remove(again), Is.EqualTo(FilterError.None));
        Assert.That(set.Remove(2), Is.EqualTo(FilterError.None));
        Assert.That(Add(set, 4, TcpPort(4), out _), Is.EqualTo(FilterError.None));
    }

    [Test]
    public void CompileReportsTheSizeItNeedsWhenTheBufferIsTooSmall()
    {
        var set = new PacketFilterSet();
        for (uint port = 1; port <= 20; port++) Add(set, port, TcpPort(port), out _);
        var code = new byte[CodeBytes];
        fixed (byte* buffer = code)
        {
            Assert.That(set.Compile(buffer, code.Length, out int size), Is.True);
            Assert.That(set.Compile(buffer, size - 1, out int needed), Is.False);
            Assert.That(needed, Is.EqualTo(size));
            Assert.That(set.Compile(buffer, 16, out needed), Is.False);
            Assert.That(needed, Is.EqualTo(size));
            Assert.That(set.Compile(buffer, size, out _), Is.True);
        }
    }

    [Test]
    public void AddRemoveClassifyAndCompileDoNotAllocate()
    {
        var set = new PacketFilterSet();
        FilterAtom[][] filters = Enumerable.Range(1, 200).Select(p => TcpPort((uint)p)).ToArray();
        byte[] frame = Ipv4(6, 1, 100);
        var code = new byte[CodeBytes];
        void Round()
        {
            for (int i = 0; i < filters.Length; i++) set.Add((ulong)i + 1, filters[i], out _, out _);
            set.Add(1, filters[1], out _, out _); // refused: overlap
            fixed (byte* bytes = frame) set.Classify(bytes, frame.Length, out _);
            fixed (byte* buffer = code) set.Compile(buffer, code.Length, out _);
            set.Remove(3);
            set.RemoveAll(7);
            for (int i = 0; i < filters.Length; i++) set.RemoveAll((ulong)i + 1);
        }
        Round(); // compiles every method first
        Assert.That(AllocationCheck.LeastOfThree(Round), Is.Zero);
    }

    // ---- the code listing ------------------------------------------------------------------

    /// <summary>objdump decodes the emitted code as the compiler's comments say (no "(bad)"), and
    /// the instructions of a TCP-port branch are there. Skipped where objdump is missing.</summary>
    [Test]
    public void EmittedCodeDisassemblesAsDocumented()
    {
        var set = new PacketFilterSet();
        for (uint port = 1; port <= 5; port++) Add(set, port, TcpPort(port), out _);
        Assert.That(Add(set, 9, new[] { Frame(12, 2, EtherTypeIpv4), Frame(23, 1, 17), Atom(FilterBase.Transport, 1, 1, 0x0F, 0x01) }, out _), Is.EqualTo(FilterError.None));
        Assert.That(Add(set, 9, new[] { Frame(12, 2, EtherTypeIpv4), Frame(23, 1, 17), Atom(FilterBase.Transport, 4, 8, 0xFFFF_FFFF, 0x01) }, out _), Is.EqualTo(FilterError.None));
        Assert.That(Add(set, 10, new[] { Frame(12, 2, EtherTypeArp), Frame(21, 1, 1) }, out _), Is.EqualTo(FilterError.None));
        Assert.That(Add(set, 11, new[] { Frame(12, 2, EtherTypeArp), Frame(21, 1, 2) }, out _), Is.EqualTo(FilterError.None));
        var code = new byte[CodeBytes];
        int size;
        fixed (byte* buffer = code) Assert.That(set.Compile(buffer, code.Length, out size), Is.True);
        string listing = Disassemble(code.AsSpan(0, size).ToArray());
        if (listing == null) Assert.Ignore("objdump is not installed");
        // The code ends where the first table starts (the lowest address a lookup's lea names).
        int tableStart = System.Text.RegularExpressions.Regex.Matches(listing, @"lea\s+r11,\[rip\+0x[0-9a-f]+\]\s+# 0x([0-9a-f]+)")
            .Select(m => Convert.ToInt32(m.Groups[1].Value, 16)).Where(a => a > 0).DefaultIfEmpty(size).Min();
        Assert.That(tableStart, Is.LessThan(size), "the 5 ports have a table");
        int end = listing.IndexOf($" {tableStart:x}:\t", StringComparison.Ordinal);
        Assert.That(end, Is.GreaterThan(0));
        string text = listing[..end];
        Assert.That(text, Does.Not.Contain("(bad)"));
        foreach (string expected in new[] { "movsxd rsi,esi", "lea    r8d,[rcx*4+0xe]", "movzx  ecx,WORD PTR [rdi+0xc]", "rol    cx,0x8",
                     "movzx  ecx,WORD PTR [rdi+r8*1+0x2]", "imul   r10d,ecx,0x", "lea    r11,[rip+", "cmp    ecx,DWORD PTR [r11+r10*1+0x8]", "movsxd r10,DWORD PTR [r11+r10*1+0x4]",
                     "jmp    r10", "bswap  ecx", "and    ecx,0xf", "cmp    edx,0x", "lea    r9,[r8+0xc]", "cmp    r9,rsi", "ret" })
            Assert.That(text, Does.Contain(expected));
        // A leaf reached only from its parent (every filter here but the UDP node's second
        // branch's, entered also after the first branch's subtree) knows edx when the code is
        // made: "mov eax, id; ret", no rank comparison. So one "cmp edx" in all, not eight.
        Assert.That(System.Text.RegularExpressions.Regex.Matches(text, @"cmp    edx,0x").Count, Is.EqualTo(1), "rank comparisons where the rank is known:\n" + text);
        Assert.That(text, Does.Match(@"mov    eax,0x1\n\s+[0-9a-f]+:\s+c3\s+\tret"), "a TCP port's leaf is not 'mov eax, id; ret'");
    }

    /// <summary>objdump's Intel-syntax listing of raw x86-64 code, or null without objdump.</summary>
    private static string Disassemble(byte[] code)
    {
        string path = Path.Combine(Path.GetTempPath(), "aegis-filter-" + Environment.ProcessId + ".bin");
        File.WriteAllBytes(path, code);
        try
        {
            var start = new ProcessStartInfo("objdump", $"-D -b binary -m i386:x86-64 -M intel {path}")
            { RedirectStandardOutput = true, RedirectStandardError = true };
            using Process process = Process.Start(start)!;
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
        finally
        {
            File.Delete(path);
        }
    }

    // ---- delegation (NicFilterDelegate) --------------------------------------------------------

    /// <summary>One TCP connection out of port 80: the server's port, plus the peer's address and port.</summary>
    private static FilterAtom[] TcpConnection(uint peer, uint peerPort, uint port = 80) =>
        new[] { Frame(12, 2, EtherTypeIpv4), Frame(23, 1, 6), Frame(26, 4, peer), Transport(0, 2, peerPort), Transport(2, 2, port) };

    [Test]
    public void ADelegatedConnectionFilterTakesItsFramesFromTheDelegatorsPortFilter()
    {
        var set = new PacketFilterSet(16);
        var installed = new List<Installed>();
        Assert.That(Add(set, 1, TcpPort(80), out int port), Is.EqualTo(FilterError.None));
        installed.Add(new Installed(port, 1, TcpPort(80)));
        Assert.That(set.AddDelegated(1, 2, TcpConnection(0x0A000001, 40000), out int given, out _), Is.EqualTo(FilterError.None));
        installed.Add(new Installed(given, 2, TcpConnection(0x0A000001, 40000)));
        Assert.That(set.OwnerOf(given), Is.EqualTo(2UL));
        Assert.That(set.DelegatorOf(given), Is.EqualTo(1UL));
        Assert.That(set.AddDelegated(1, 3, TcpConnection(0x0A000001, 40001), out int other, out _), Is.EqualTo(FilterError.None), "another connection to another environment");
        installed.Add(new Installed(other, 3, TcpConnection(0x0A000001, 40001)));

        var frames = new List<(byte[], int)>();
        foreach (int sourcePort in new[] { 40000, 40001, 40002 })
            foreach (uint source in new[] { 0x0A000001u, 0x0A000009u })
            {
                byte[] f = Ipv4(6, sourcePort, 80, source: source);
                frames.Add((f, f.Length));
            }
        AssertAllAgree(set, installed, frames, "delegated");
        byte[] mine = Ipv4(6, 40000, 80, source: 0x0A000001), theirs = Ipv4(6, 40000, 80, source: 0x0A000009);
        Assert.That(Interpret(set, mine, mine.Length), Is.EqualTo(given), "the connection's frames go to the environment it was given to");
        Assert.That(Interpret(set, theirs, theirs.Length), Is.EqualTo(port), "everything else on the port stays the delegator's");
        Assert.That(set.Remove(given), Is.EqualTo(FilterError.None));
        Assert.That(Interpret(set, mine, mine.Length), Is.EqualTo(port), "taken back: the port's filter has them again");
    }

    [Test]
    public void ADelegationIsRefusedUnlessTheDelegatorOwnsTheFramesAndTheGiftWinsThemAll()
    {
        var set = new PacketFilterSet(16);
        Assert.That(Add(set, 1, TcpPort(80), out _), Is.EqualTo(FilterError.None));
        Assert.That(Add(set, 4, TcpPort(81), out _), Is.EqualTo(FilterError.None));
        // Frames the delegator does not own: port 81 is 4's, port 82 no one's.
        Assert.That(set.AddDelegated(1, 2, TcpConnection(0x0A000001, 40000, 81), out _, out _), Is.EqualTo(FilterError.NotCovered));
        Assert.That(set.AddDelegated(1, 2, TcpConnection(0x0A000001, 40000, 82), out _, out _), Is.EqualTo(FilterError.NotCovered));
        // Not more specific than the delegator's filter (the same atoms): it would not win.
        Assert.That(set.AddDelegated(1, 2, TcpPort(80), out _, out ulong conflict), Is.EqualTo(FilterError.Overlap));
        Assert.That(conflict, Is.EqualTo(1UL));
        // Covered by a filter of the delegator's, but another of its filters that overlaps has as many atoms.
        Assert.That(Add(set, 1, new[] { Frame(12, 2, EtherTypeIpv4), Frame(23, 1, 6), Frame(26, 4, 0x0A000001), Transport(0, 2, 40000), Transport(2, 2, 80) }, out int exact), Is.EqualTo(FilterError.None));
        Assert.That(set.AddDelegated(1, 2, TcpConnection(0x0A000001, 40000), out _, out _), Is.EqualTo(FilterError.Overlap));
        Assert.That(set.Remove(exact), Is.EqualTo(FilterError.None));
        // To oneself, or from no one: not a delegation.
        Assert.That(set.AddDelegated(1, 1, TcpConnection(0x0A000001, 40000), out _, out _), Is.EqualTo(FilterError.NotCovered));
        Assert.That(set.AddDelegated(0, 2, TcpConnection(0x0A000001, 40000), out _, out _), Is.EqualTo(FilterError.NotCovered));
        // The same connection cannot be given twice, to anyone.
        Assert.That(set.AddDelegated(1, 2, TcpConnection(0x0A000001, 40000), out _, out _), Is.EqualTo(FilterError.None));
        Assert.That(set.AddDelegated(1, 3, TcpConnection(0x0A000001, 40000), out _, out conflict), Is.EqualTo(FilterError.Overlap));
        Assert.That(conflict, Is.EqualTo(2UL));
        // A third owner cannot install over the gift nor over the port; the receiver cannot widen it.
        Assert.That(Add(set, 5, TcpConnection(0x0A000001, 40000), out _), Is.EqualTo(FilterError.Overlap));
        Assert.That(Add(set, 2, TcpPort(80), out _), Is.EqualTo(FilterError.Overlap), "the receiver's own filter on the whole port");
        // The delegator may add a broader filter of its own (fewer atoms: the gift still wins), not a narrower one over it.
        Assert.That(Add(set, 1, new[] { Frame(12, 2, EtherTypeIpv4), Frame(23, 1, 6), Frame(26, 4, 0x0A000001), Transport(2, 2, 80) }, out _), Is.EqualTo(FilterError.None));
        Assert.That(Add(set, 1, TcpConnection(0x0A000001, 40000).Append(Transport(4, 4, 7)).ToArray(), out _), Is.EqualTo(FilterError.Overlap));
        Assert.That(set.Count, Is.EqualTo(4));
    }

    [Test]
    public void RandomDelegationsAgreeWithTheReferenceInTheInterpreterAndTheCompiledCode()
    {
        // Owner 1 holds ports 80..83; it gives random connections to owners 2..5, takes some back
        // and gives others; owner 6 holds port 90. After every change the reference (most atoms
        // win), the interpreter and the compiled code agree on frames aimed at every filter.
        var random = new Random(77);
        var set = new PacketFilterSet(64);
        var installed = new List<Installed>();
        for (uint p = 80; p <= 83; p++)
        {
            Assert.That(Add(set, 1, TcpPort(p), out int id), Is.EqualTo(FilterError.None));
            installed.Add(new Installed(id, 1, TcpPort(p)));
        }
        Assert.That(Add(set, 6, TcpPort(90), out int ninety), Is.EqualTo(FilterError.None));
        installed.Add(new Installed(ninety, 6, TcpPort(90)));
        int given = 0;
        for (int round = 0; round < 60; round++)
        {
            if (installed.Count > 6 && random.Next(3) == 0)
            {
                Installed back = installed[5 + random.Next(installed.Count - 5)];
                Assert.That(set.Remove(back.Id), Is.EqualTo(FilterError.None));
                installed.Remove(back);
            }
            else
            {
                FilterAtom[] atoms = TcpConnection(0x0A000000u + (uint)random.Next(4), (uint)(40000 + random.Next(6)), (uint)(80 + random.Next(5)));
                ulong owner = (ulong)(2 + random.Next(4));
                FilterError result = set.AddDelegated(1, owner, atoms, out int id, out _);
                // One owner's filters may overlap (its own gift twice); another's never, but the delegator's.
                bool free = !installed.Any(f => f.Owner != 1 && f.Owner != owner && !ReferenceDisjoint(f.Atoms, atoms));
                bool ownsIt = atoms[4].Value <= 83;
                FilterError expected = !ownsIt ? FilterError.NotCovered : free ? FilterError.None : FilterError.Overlap;
                Assert.That(result, Is.EqualTo(expected), $"round {round}");
                if (result == FilterError.None) { installed.Add(new Installed(id, owner, atoms)); given++; }
            }
            var frames = new List<(byte[], int)>();
            for (int k = 0; k < 40; k++)
            {
                byte[] f = Ipv4(6, 40000 + random.Next(7), 80 + random.Next(12), source: 0x0A000000u + (uint)random.Next(5));
                frames.Add((f, f.Length));
            }
            AssertAllAgree(set, installed, frames, $"round {round}");
        }
        Assert.That(given, Is.GreaterThan(15));
    }
}
