// /sys: the part of Linux's sysfs that programs read to learn the machine — devices/system/cpu
// (online, possible, present: the CPUs; cpu0/cache/indexN: the caches, decoded from CPUID as
// Linux's cacheinfo does). Runtimes size themselves from it: the .NET GC reads index*/size and
// level to pick its gen0 budget (a machine without them gets the 256 KiB floor and collects
// several times as often as on Linux). Pure logic; compiles under the real .NET.
//
// Invariants: the tree is read-only and the same for every process (a per-process half of the
// shared tree, like /dev and /proc, so a read costs no message to the file server); a file's
// content is generated when it is opened; directories build their nodes once, at first lookup.
using System.Collections.Generic;

namespace Aegis.LibOS.Unixish.Linux.Files
{
    /// <summary>One cache of the processor, as sysfs's cpu0/cache/indexN shows it.</summary>
    public struct CpuCache
    {
        public int Level;
        /// <summary>1 data, 2 instruction, 3 unified (CPUID leaf 4's encoding).</summary>
        public int Type;
        public int Ways, LineSize, LinePartitions, Sets;

        public long SizeBytes => (long)Ways * LineSize * LinePartitions * Sets;

        public string TypeName => Type == 1 ? "Data" : Type == 2 ? "Instruction" : "Unified";
    }

    /// <summary>Decodes the caches from CPUID the way Linux's cacheinfo does: Intel's leaf 4
    /// (deterministic cache parameters); AMD's leaf 0x8000001D when TOPOEXT is set, else its legacy
    /// leaves 0x80000005 (L1) and 0x80000006 (L2, L3) turned into leaf-4 form (QEMU's TCG CPUs take
    /// this path). Other vendors: no caches, as Linux shows none.</summary>
    public static unsafe class CpuCaches
    {
        /// <summary>Runs CPUID: leaf, subleaf, then EAX, EBX, ECX, EDX into output[0..3].</summary>
        public delegate void Cpuid(uint leaf, uint subleaf, uint* output);

        private const int MaximumLeaves = 8;

        // AMD's associativity encoding of the L2/L3 fields (0xFFFF: fully associative).
        private static readonly int[] s_amdWays = { 0, 1, 2, 0, 4, 0, 8, 0, 16, 0, 32, 48, 64, 96, 128, 0xFFFF };

        public static List<CpuCache> Decode(Cpuid cpuid)
        {
            var caches = new List<CpuCache>();
            uint* r = stackalloc uint[4];
            cpuid(0, 0, r);
            uint maximum = r[0];
            bool intel = r[1] == 0x756E6547 && r[3] == 0x49656E69 && r[2] == 0x6C65746E;  // GenuineIntel
            bool amd = (r[1] == 0x68747541 && r[3] == 0x69746E65 && r[2] == 0x444D4163)   // AuthenticAMD
                || (r[1] == 0x6F677948 && r[3] == 0x6E65476E && r[2] == 0x656E6975);        // HygonGenuine
            if (intel)
            {
                if (maximum >= 4) FromLeaf4(cpuid, 4, caches);
                return caches;
            }
            if (!amd) return caches;
            cpuid(0x80000000, 0, r);
            uint extended = r[0];
            if (extended < 0x80000001) return caches;
            cpuid(0x80000001, 0, r);
            bool topologyExtensions = (r[2] & (1u << 22)) != 0;
            if (topologyExtensions && extended >= 0x8000001D) FromLeaf4(cpuid, 0x8000001D, caches);
            else if (extended >= 0x80000006) FromLegacyAmd(cpuid, caches);
            return caches;
        }

        private static void FromLeaf4(Cpuid cpuid, uint leaf, List<CpuCache> caches)
        {
            uint* r = stackalloc uint[4];
            for (uint index = 0; index < MaximumLeaves; index++)
            {
                cpuid(leaf, index, r);
                int type = (int)(r[0] & 0x1F);
                if (type == 0) return;
                caches.Add(new CpuCache
                {
                    Type = type,
                    Level = (int)((r[0] >> 5) & 7),
                    Ways = (int)(r[1] >> 22) + 1,
                    LinePartitions = (int)((r[1] >> 12) & 0x3FF) + 1,
                    LineSize = (int)(r[1] & 0xFFF) + 1,
                    Sets = (int)r[2] + 1,
                });
            }
        }

        private static void FromLegacyAmd(Cpuid cpuid, List<CpuCache> caches)
        {
            uint* r = stackalloc uint[4];
            cpuid(0x80000005, 0, r);
            uint l1d = r[2], l1i = r[3];
            cpuid(0x80000006, 0, r);
            uint l2 = r[2], l3 = r[3];
            // Linux's amd_cpuid4: L1 fields are size KiB [31:24], ways [23:16], lines per tag
            // [15:8], line size [7:0]; L2 size KiB [31:16], L3 size in 512 KiB units [31:18], their
            // ways encoded in [15:12]; an all-zero register is no cache. Four leaves when L3 ways ≠ 0.
            AddLegacy(caches, l1d, 1, 1, (int)(l1d >> 24), s_amdWays[(l1d >> 16) & 0xF]);
            AddLegacy(caches, l1i, 2, 1, (int)(l1i >> 24), s_amdWays[(l1i >> 16) & 0xF]);
            AddLegacy(caches, l2, 3, 2, (int)(l2 >> 16), s_amdWays[(l2 >> 12) & 0xF]);
            if ((l3 & 0xF000) != 0) AddLegacy(caches, l3, 3, 3, (int)(l3 >> 18) * 512, s_amdWays[(l3 >> 12) & 0xF]);
        }

        private static void AddLegacy(List<CpuCache> caches, uint register, int type, int level, int kilobytes, int ways)
        {
            int lineSize = (int)(register & 0xFF), linesPerTag = (int)((register >> 8) & 0xF);
            if (register == 0 || lineSize == 0 || ways == 0 || linesPerTag == 0) return;
            if (ways == 0xFFFF) ways = kilobytes * 1024 / lineSize; // fully associative: one set
            int sets = kilobytes * 1024 / lineSize / ways;
            if (sets == 0) return;
            caches.Add(new CpuCache { Type = type, Level = level, Ways = ways, LineSize = lineSize, LinePartitions = linesPerTag, Sets = sets });
        }
    }

    /// <summary>A read-only directory whose entries are a fixed list, each node made at its first lookup.</summary>
    public sealed class FixedDirectory : DirectoryNode
    {
        private readonly string[] _names;
        private readonly System.Func<string, Inode> _create;
        private readonly Inode[] _nodes;

        public FixedDirectory(Mount mount, ulong number, long now, string[] names, System.Func<string, Inode> create)
            : base(mount, number, 0x1ED, now) // 0755
        {
            _names = names; _create = create; _nodes = new Inode[names.Length];
        }

        public override Inode Lookup(string name)
        {
            for (int i = 0; i < _names.Length; i++)
                if (_names[i] == name) return NodeAt(i);
            return null;
        }

        private Inode NodeAt(int i)
        {
            if (_nodes[i] != null) return _nodes[i];
            Inode node = _create(_names[i]);
            if (node is DirectoryNode directory) { directory.Parent = this; directory.NameInParent = _names[i]; }
            _nodes[i] = node;
            return node;
        }

        public override bool EntryAt(int index, out string name, out Inode node)
        {
            name = null; node = null;
            if (index < 0 || index >= _names.Length) return false;
            name = _names[index];
            node = NodeAt(index);
            return true;
        }

        public override bool IsEmpty => _names.Length == 0;
    }

    /// <summary>The sysfs tree: /sys/devices/system/cpu and what it holds.</summary>
    public sealed class SysFs
    {
        public readonly FileSystem FileSystem;
        public readonly Mount Mount;
        public readonly FixedDirectory Root;
        private List<CpuCache> _caches;

        public SysFs(FileSystem fileSystem, Mount mount)
        {
            FileSystem = fileSystem;
            Mount = mount;
            Root = Directory(new[] { "devices" }, _ => Directory(new[] { "system" }, _ => Directory(new[] { "cpu" }, _ => Cpus())));
        }

        /// <summary>The caches (decoded once, from the system source; none without one).</summary>
        private List<CpuCache> Caches => _caches ??= FileSystem.Sources.System?.CpuCaches() ?? new List<CpuCache>();

        private int CpuCount
        {
            get { int count = FileSystem.Sources.System?.CpuCount ?? 1; return count < 1 ? 1 : count; }
        }

        private FixedDirectory Directory(string[] names, System.Func<string, Inode> create) =>
            new FixedDirectory(Mount, FileSystem.NewInodeNumber(), FileSystem.Now, names, create);

        private ProcFile File(System.Func<string> text) =>
            new ProcFile(Mount, FileSystem.NewInodeNumber(), () => PathBytes.ToBytes(text()), FileSystem.Now);

        /// <summary>"0" for one CPU, "0-N" for more (Linux's cpulist format).</summary>
        public static string CpuList(int count) => count <= 1 ? "0\n" : "0-" + (count - 1).ToString() + "\n";

        private FixedDirectory Cpus()
        {
            int count = CpuCount;
            var names = new List<string>();
            for (int i = 0; i < count; i++) names.Add("cpu" + i.ToString());
            names.Add("online"); names.Add("possible"); names.Add("present");
            return Directory(names.ToArray(), name =>
                name == "online" || name == "possible" || name == "present" ? File(() => CpuList(CpuCount))
                : Directory(new[] { "cache" }, _ => CacheDirectory()));
        }

        private FixedDirectory CacheDirectory()
        {
            List<CpuCache> caches = Caches;
            var names = new string[caches.Count];
            for (int i = 0; i < names.Length; i++) names[i] = "index" + i.ToString();
            return Directory(names, name => CacheIndex(caches[int.Parse(name.Substring(5))]));
        }

        /// <summary>The files of cacheinfo's sysfs leaf, in Linux's formats ("64K" sizes, the
        /// shared-CPU mask in hex and as a list; every CPU shares every cache: Aegis schedules one).</summary>
        private FixedDirectory CacheIndex(CpuCache cache)
        {
            string[] names = { "coherency_line_size", "level", "number_of_sets", "physical_line_partition",
                "shared_cpu_list", "shared_cpu_map", "size", "type", "ways_of_associativity" };
            return Directory(names, name => File(() => FormatCacheFile(cache, name, CpuCount)));
        }

        public static string FormatCacheFile(CpuCache cache, string name, int cpuCount)
        {
            switch (name)
            {
                case "coherency_line_size": return cache.LineSize.ToString() + "\n";
                case "level": return cache.Level.ToString() + "\n";
                case "number_of_sets": return cache.Sets.ToString() + "\n";
                case "physical_line_partition": return cache.LinePartitions.ToString() + "\n";
                case "shared_cpu_list": return CpuList(cpuCount);
                case "shared_cpu_map": return CpuMask(cpuCount);
                case "size": return (cache.SizeBytes >> 10).ToString() + "K\n";
                case "type": return cache.TypeName + "\n";
                case "ways_of_associativity": return cache.Ways.ToString() + "\n";
            }
            return "";
        }

        /// <summary>A mask of the first count CPUs in Linux's bitmap format: hex in 32-bit groups
        /// separated by commas, the first as wide as its bits need ("1", "3", "ff,ffffffff").</summary>
        public static string CpuMask(int count)
        {
            if (count < 1) return "0\n";
            var b = new System.Text.StringBuilder();
            int groups = (count + 31) / 32;
            for (int g = groups - 1; g >= 0; g--)
            {
                int bits = count - 32 * g;
                if (bits > 32) bits = 32;
                uint value = bits == 32 ? 0xFFFFFFFFu : (1u << bits) - 1;
                int width = g == groups - 1 ? (bits + 3) / 4 : 8;
                b.Append(value.ToString("x").PadLeft(width, '0'));
                if (g > 0) b.Append(',');
            }
            return b.Append('\n').ToString();
        }
    }
}
