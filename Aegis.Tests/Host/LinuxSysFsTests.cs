#nullable enable
// /sys (SysFs.cs): the CPUs and the caches Linux's sysfs shows, decoded from CPUID as Linux's
// cacheinfo does. The decoder is checked against the register values QEMU -cpu max gives (AMD's
// legacy leaves), against Intel's leaf 4, and against this host's own kernel: its CPUID decoded
// by us must read as its /sys/devices/system/cpu/cpu0/cache reads.
using System.Runtime.Intrinsics.X86;
using Aegis.LibOS.Unixish.Linux.Files;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public unsafe class LinuxSysFsTests
{
    private static Dictionary<(uint, uint), uint[]> s_registers = new();

    private static void FromTable(uint leaf, uint subleaf, uint* output)
    {
        if (!s_registers.TryGetValue((leaf, subleaf), out uint[]? r) && !s_registers.TryGetValue((leaf, 0xFFFFFFFF), out r)) r = new uint[4];
        for (int i = 0; i < 4; i++) output[i] = r[i];
    }

    private static List<CpuCache> DecodeTable(Dictionary<(uint, uint), uint[]> registers)
    {
        s_registers = registers;
        return CpuCaches.Decode(FromTable);
    }

    private static string Describe(List<CpuCache> caches) =>
        string.Join("; ", caches.Select(c => $"L{c.Level} {c.TypeName} {c.SizeBytes >> 10}K {c.Ways}-way line {c.LineSize} sets {c.Sets} partitions {c.LinePartitions}"));

    [Test]
    public void QemusLegacyAmdLeavesDecodeAsLinuxShowsThem()
    {
        // Recorded in Aegis under qemu-system-x86_64 -cpu max (TCG): AuthenticAMD, no TOPOEXT, extended leaves to 0x8000000A.
        var caches = DecodeTable(new()
        {
            [(0, 0xFFFFFFFF)] = new uint[] { 0x0000000d, 0x68747541, 0x444d4163, 0x69746e65 },
            [(0x80000000, 0xFFFFFFFF)] = new uint[] { 0x8000000a, 0x68747541, 0x444d4163, 0x69746e65 },
            [(0x80000001, 0xFFFFFFFF)] = new uint[] { 0x00060fb1, 0, 0x00000075, 0xedd3fbfd },
            [(0x80000005, 0xFFFFFFFF)] = new uint[] { 0x01ff01ff, 0x01ff01ff, 0x40020140, 0x40020140 },
            [(0x80000006, 0xFFFFFFFF)] = new uint[] { 0, 0x42004200, 0x02008140, 0x00808140 },
        });
        Assert.That(Describe(caches), Is.EqualTo("L1 Data 64K 2-way line 64 sets 512 partitions 1; L1 Instruction 64K 2-way line 64 sets 512 partitions 1; "
            + "L2 Unified 512K 16-way line 64 sets 512 partitions 1; L3 Unified 16384K 16-way line 64 sets 16384 partitions 1"));
    }

    [Test]
    public void IntelsLeafFourDecodesUntilTheNullType()
    {
        var caches = DecodeTable(new()
        {
            [(0, 0xFFFFFFFF)] = new uint[] { 0x16, 0x756E6547, 0x6C65746E, 0x49656E69 },
            [(4, 0)] = new uint[] { 0x1c004121, 0x02c0003f, 0x3f, 0 },   // L1d 12-way 64 sets: 48K
            [(4, 1)] = new uint[] { 0x1c004122, 0x01c0003f, 0x3f, 0 },   // L1i 8-way: 32K
            [(4, 2)] = new uint[] { 0x1c004143, 0x04c0003f, 0x3ff, 0 },  // L2 20-way 1024 sets: 1280K
            [(4, 3)] = new uint[] { 0x1c03c163, 0x02c0003f, 0xffff, 6 }, // L3 12-way 65536 sets: 48M
        });
        Assert.That(Describe(caches), Is.EqualTo("L1 Data 48K 12-way line 64 sets 64 partitions 1; L1 Instruction 32K 8-way line 64 sets 64 partitions 1; "
            + "L2 Unified 1280K 20-way line 64 sets 1024 partitions 1; L3 Unified 49152K 12-way line 64 sets 65536 partitions 1"));
    }

    [Test]
    public void AnUnknownVendorHasNoCaches()
    {
        var caches = DecodeTable(new() { [(0, 0xFFFFFFFF)] = new uint[] { 0x16, 0x20202020, 0x20202020, 0x20202020 } });
        Assert.That(caches, Is.Empty);
    }

    private static void HostCpuid(uint leaf, uint subleaf, uint* output)
    {
        (int a, int b, int c, int d) = X86Base.CpuId((int)leaf, (int)subleaf);
        output[0] = (uint)a; output[1] = (uint)b; output[2] = (uint)c; output[3] = (uint)d;
    }

    [Test]
    public void ThisHostsCachesDecodeAsItsKernelShowsThem()
    {
        const string Caches = "/sys/devices/system/cpu/cpu0/cache";
        if (!X86Base.IsSupported || !Directory.Exists(Caches + "/index0")) Assert.Ignore("no x86 CPUID or no sysfs cache directory on this host");
        List<CpuCache> ours = CpuCaches.Decode(HostCpuid);
        var host = new List<string>();
        var mine = new List<string>();
        for (int i = 0; Directory.Exists($"{Caches}/index{i}"); i++)
        {
            string Read(string name) => File.ReadAllText($"{Caches}/index{i}/{name}").Trim();
            host.Add($"{Read("level")} {Read("type")} {Read("size")} {Read("ways_of_associativity")} {Read("coherency_line_size")} {Read("number_of_sets")}");
        }
        foreach (CpuCache c in ours)
            mine.Add($"{c.Level} {c.TypeName} {c.SizeBytes >> 10}K {c.Ways} {c.LineSize} {c.Sets}");
        Assert.That(mine, Is.EqualTo(host), "level type size ways line sets, per index");
    }

    [Test]
    public void SysShowsTheCpusAndEachCachesFiles()
    {
        var vfs = new Vfs();
        Assert.That(vfs.ReadFile("/sys/devices/system/cpu/online"), Is.EqualTo("0\n"));
        Assert.That(vfs.ReadFile("/sys/devices/system/cpu/possible"), Is.EqualTo("0\n"));
        Assert.That(vfs.List("/sys/devices/system/cpu").Select(e => e.Name), Is.EqualTo(new[] { ".", "..", "cpu0", "online", "possible", "present" }));
        Assert.That(vfs.List("/sys/devices/system/cpu/cpu0/cache").Select(e => e.Name), Is.EqualTo(new[] { ".", "..", "index0", "index1", "index2", "index3" }));
        string index3 = "/sys/devices/system/cpu/cpu0/cache/index3/";
        Assert.That(vfs.ReadFile(index3 + "size"), Is.EqualTo("16384K\n"));
        Assert.That(vfs.ReadFile(index3 + "level"), Is.EqualTo("3\n"));
        Assert.That(vfs.ReadFile(index3 + "type"), Is.EqualTo("Unified\n"));
        Assert.That(vfs.ReadFile(index3 + "ways_of_associativity"), Is.EqualTo("16\n"));
        Assert.That(vfs.ReadFile(index3 + "number_of_sets"), Is.EqualTo("16384\n"));
        Assert.That(vfs.ReadFile(index3 + "coherency_line_size"), Is.EqualTo("64\n"));
        Assert.That(vfs.ReadFile(index3 + "shared_cpu_map"), Is.EqualTo("1\n"));
        Assert.That(vfs.ReadFile(index3 + "shared_cpu_list"), Is.EqualTo("0\n"));
        Assert.That(vfs.ReadFile("/sys/devices/system/cpu/cpu0/cache/index1/type"), Is.EqualTo("Instruction\n"));
        Assert.That(vfs.Open(index3 + "size", 1), Is.EqualTo(-13), "read-only: EACCES");
        Assert.That(vfs.Open("/sys/devices/system/cpu/cpu0/cache/index4/size", 0), Is.EqualTo(-2), "no fifth cache: ENOENT");
        Assert.That(vfs.ReadFile("/proc/mounts"), Does.Contain("sysfs /sys sysfs "));
    }

    [Test]
    public void CpuMasksAndListsHaveLinuxsFormats()
    {
        Assert.That(SysFs.CpuMask(1), Is.EqualTo("1\n"));
        Assert.That(SysFs.CpuMask(2), Is.EqualTo("3\n"));
        Assert.That(SysFs.CpuMask(32), Is.EqualTo("ffffffff\n"));
        Assert.That(SysFs.CpuMask(40), Is.EqualTo("ff,ffffffff\n"));
        Assert.That(SysFs.CpuList(1), Is.EqualTo("0\n"));
        Assert.That(SysFs.CpuList(4), Is.EqualTo("0-3\n"));
    }
}
