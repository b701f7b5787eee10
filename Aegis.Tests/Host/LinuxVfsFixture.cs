#nullable enable
// Shared helpers of the LinuxVfs* host tests: a VFS with a fake terminal, a settable clock and
// fake /proc sources; text in and out of the call layer's byte pointers; archives made by the
// host's tar.
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Aegis.LibOS.Unixish.Linux.Files;

namespace Aegis.Tests.Host;

/// <summary>A terminal that records what is written and serves queued input.</summary>
public sealed unsafe class FakeTerminal : ICharacterDevice
{
    public readonly List<byte> Written = new();
    public readonly Queue<byte> Input = new();
    public long Read(byte* buffer, int length, bool nonBlocking)
    {
        if (Input.Count == 0) return nonBlocking ? -11 : 0;
        int n = 0;
        while (n < length && Input.Count > 0) buffer[n++] = Input.Dequeue();
        return n;
    }
    public long Write(byte* buffer, int length, bool nonBlocking)
    {
        for (int i = 0; i < length; i++) Written.Add(buffer[i]);
        return length;
    }
    public long Ioctl(ulong request, ulong argument) => request == 0x5401 ? 0 : -25;
    public bool PollReadable => Input.Count > 0;
    public bool PollWritable => true;
    public bool Seekable => false;
    public bool Splices => false;
    public long BytesReadable => Input.Count;
}

public sealed class FakeProcesses : IProcessTable
{
    public readonly Dictionary<int, ProcessStatus> All = new();
    public int Current = 7;
    public int CurrentPid => Current;
    public void ListPids(List<int> pids) { var keys = new System.Collections.Generic.List<int>(); foreach (var pair in All) keys.Add(pair.Key); keys.Sort(); foreach (int pid in keys) pids.Add(pid); }
    public ProcessStatus Find(int pid) => All.TryGetValue(pid, out var s) ? s : null!;
}

public sealed class FakeSystem : ISystemInfo
{
    public long MemoryTotalBytes { get; set; } = 512L << 20;
    public long MemoryFreeBytes { get; set; } = 300L << 20;
    public long UptimeNanoseconds { get; set; } = 12_345_678_901;
    public long IdleNanoseconds { get; set; }
    public ulong IdleTimestampTicks { get; set; }
    public ulong AddressSpaceLoads { get; set; }
    public int CpuCount { get; set; } = 1;
    public string CpuVendor { get; set; } = "GenuineIntel";
    public string CpuModelName { get; set; } = "QEMU Virtual CPU version 2.5+";
    public long CpuKilohertz { get; set; } = 2_400_000;
    /// <summary>QEMU -cpu max's caches (TCG, AMD legacy leaves): L1d, L1i 64 KiB 2-way, L2 512 KiB and L3 16 MiB 16-way.</summary>
    public List<CpuCache> Caches { get; set; } = new()
    {
        new CpuCache { Level = 1, Type = 1, Ways = 2, LineSize = 64, LinePartitions = 1, Sets = 512 },
        new CpuCache { Level = 1, Type = 2, Ways = 2, LineSize = 64, LinePartitions = 1, Sets = 512 },
        new CpuCache { Level = 2, Type = 3, Ways = 16, LineSize = 64, LinePartitions = 1, Sets = 512 },
        new CpuCache { Level = 3, Type = 3, Ways = 16, LineSize = 64, LinePartitions = 1, Sets = 16384 },
    };
    public List<CpuCache> CpuCaches() => Caches;
}

public sealed class FakeMaps : IMemoryMapSource
{
    public readonly List<MemoryMapping> Mappings = new();
    public void GetMappings(List<MemoryMapping> mappings) { foreach (var m in Mappings) mappings.Add(m); }
}

public sealed unsafe class Vfs
{
    public long Time = 1_700_000_000_000_000_000;
    public readonly FakeTerminal Terminal = new();
    public readonly FakeProcesses Processes = new();
    public readonly FakeSystem System = new();
    public readonly FakeMaps Maps = new();
    public readonly FileSystem Fs;
    public readonly LinuxFiles Files;

    public Vfs(byte[]? archive = null, DiskTree? disk = null)
    {
        Processes.All[7] = new ProcessStatus { Pid = 7, ParentPid = 1, ProcessGroup = 7, Session = 7, Name = "test", State = 'R',
            Arguments = new[] { "/bin/test", "-x", "arg two" }, ExecutablePath = "/bin/test" };
        var sources = new FileSystemSources { Processes = Processes, System = System, Maps = Maps, Clock = () => Time };
        Fs = new FileSystem(sources, Terminal, disk);
        if (archive != null)
        {
            // The archive must outlive the VFS (file data is referenced): pinned for the test's life.
            GCHandle handle = GCHandle.Alloc(archive, GCHandleType.Pinned);
            string? error = Fs.LoadArchive((byte*)handle.AddrOfPinnedObject(), archive.Length);
            if (error != null) throw new InvalidOperationException(error);
        }
        Files = new LinuxFiles(Fs);
        Files.OpenStandardStreams();
    }

    public const int AT_FDCWD = -100;

    public long Open(string path, int flags, uint mode = 0x1A4) => Files.OpenAt(AT_FDCWD, path, flags, mode);

    public long Write(int fd, string text)
    {
        byte[] bytes = Encoding.Latin1.GetBytes(text);
        fixed (byte* p = bytes) return Files.Write(fd, p, bytes.Length);
    }

    public long Write(int fd, byte[] bytes)
    {
        fixed (byte* p = bytes) return Files.Write(fd, p, bytes.Length);
    }

    /// <summary>Reads up to max bytes: the text, or throws with the errno.</summary>
    public string Read(int fd, int max = 65536)
    {
        byte[] buffer = new byte[max];
        long n;
        fixed (byte* p = buffer) n = Files.Read(fd, p, max);
        if (n < 0) throw new InvalidOperationException("read failed: " + n);
        return Encoding.Latin1.GetString(buffer, 0, (int)n);
    }

    public long ReadResult(int fd, int max = 16)
    {
        byte[] buffer = new byte[Math.Max(max, 1)];
        fixed (byte* p = buffer) return Files.Read(fd, p, max);
    }

    /// <summary>Creates path with content (O_CREAT|O_WRONLY|O_TRUNC).</summary>
    public void CreateFile(string path, string content = "")
    {
        long fd = Open(path, 0x241);
        if (fd < 0) throw new InvalidOperationException("open " + path + ": " + fd);
        if (content.Length > 0) Write((int)fd, content);
        Files.Close((int)fd);
    }

    /// <summary>The whole content of path (O_RDONLY), or throws.</summary>
    public string ReadFile(string path)
    {
        long fd = Open(path, 0);
        if (fd < 0) throw new InvalidOperationException("open " + path + ": " + fd);
        var text = new StringBuilder();
        while (true)
        {
            string chunk = Read((int)fd, 4096);
            if (chunk.Length == 0) break;
            text.Append(chunk);
        }
        Files.Close((int)fd);
        return text.ToString();
    }

    public StatInfo Stat(string path, bool follow = true)
    {
        int error = Files.StatAt(AT_FDCWD, path, follow ? 0 : 0x100, out StatInfo info);
        if (error < 0) throw new InvalidOperationException("stat " + path + ": " + error);
        return info;
    }

    public int StatError(string path, bool follow = true) => Files.StatAt(AT_FDCWD, path, follow ? 0 : 0x100, out _);

    /// <summary>Every name getdents64 lists for path (in order, "." and ".." included), with d_type.</summary>
    public List<(string Name, byte Type, ulong Inode)> List(string path, int bufferSize = 512)
    {
        long fd = Open(path, 0x10000);
        if (fd < 0) throw new InvalidOperationException("open " + path + ": " + fd);
        var names = new List<(string, byte, ulong)>();
        byte[] buffer = new byte[bufferSize];
        while (true)
        {
            long n;
            fixed (byte* p = buffer) n = Files.GetDirectoryEntries((int)fd, p, buffer.Length);
            if (n < 0) throw new InvalidOperationException("getdents64: " + n);
            if (n == 0) break;
            int at = 0;
            while (at < n)
            {
                ulong ino = BitConverter.ToUInt64(buffer, at);
                int reclen = BitConverter.ToUInt16(buffer, at + 16);
                byte type = buffer[at + 18];
                int end = Array.IndexOf(buffer, (byte)0, at + 19);
                names.Add((Encoding.Latin1.GetString(buffer, at + 19, end - at - 19), type, ino));
                at += reclen;
            }
        }
        Files.Close((int)fd);
        return names;
    }
}

public static class HostTar
{
    /// <summary>Runs the host's tar --format=ustar in directory with the given arguments: the archive bytes.</summary>
    public static byte[] Create(string directory, params string[] arguments)
    {
        string archive = Path.Combine(Path.GetTempPath(), "aegis-vfs-" + Guid.NewGuid().ToString("N") + ".tar");
        try
        {
            var info = new ProcessStartInfo("tar") { WorkingDirectory = directory, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add("--format=ustar");
            info.ArgumentList.Add("-cf");
            info.ArgumentList.Add(archive);
            foreach (string a in arguments) info.ArgumentList.Add(a);
            using var process = Process.Start(info)!;
            string errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0) throw new InvalidOperationException("tar failed: " + errors);
            return File.ReadAllBytes(archive);
        }
        finally
        {
            File.Delete(archive);
        }
    }

    public static string TempDirectory()
    {
        string path = Path.Combine(Path.GetTempPath(), "aegis-vfs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}
