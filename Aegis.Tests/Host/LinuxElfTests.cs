using System.Diagnostics;
using Aegis.LibOS.Unixish.Linux;
using NUnit.Framework;

namespace Aegis.Tests.Host;

/// <summary>The Linux loader's checks (LibOS.Unixish/Linux/LinuxElf.cs): real static and
/// static-PIE programs from the host's gcc are accepted; broken, foreign and dynamic ones get
/// their one-line reason.</summary>
public unsafe class LinuxElfTests
{
    private static ElfCheck Read(byte[] file)
    {
        fixed (byte* data = file)
            return LinuxElf.Read(data, (ulong)file.Length);
    }

    private static string s_directory = null!;

    private static byte[] Compile(string name, string flags)
    {
        s_directory ??= Directory.CreateTempSubdirectory("aegis-linux-elf").FullName;
        string source = Path.Combine(s_directory, "p.c"), output = Path.Combine(s_directory, name);
        if (!File.Exists(output))
        {
            File.WriteAllText(source, "#include <stdio.h>\nint main(void) { puts(\"hi\"); return 3; }\n");
            var gcc = Process.Start(new ProcessStartInfo("gcc", flags + " -O2 -o " + output + " " + source) { RedirectStandardError = true })!;
            string errors = gcc.StandardError.ReadToEnd();
            gcc.WaitForExit();
            Assert.That(gcc.ExitCode, Is.EqualTo(0), "gcc " + flags + ": " + errors);
        }
        return File.ReadAllBytes(output);
    }

    /// <summary>A minimal valid ET_EXEC: one R+X PT_LOAD at 0x400000 covering the file, entry inside.</summary>
    private static byte[] Minimal(ushort machine = 62, ushort type = 2, uint extraType = 0)
    {
        int headers = extraType == 0 ? 1 : 2;
        var file = new byte[4096];
        file[0] = 0x7F; file[1] = (byte)'E'; file[2] = (byte)'L'; file[3] = (byte)'F';
        file[4] = 2; file[5] = 1; file[6] = 1;
        BitConverter.GetBytes(type).CopyTo(file, 16);
        BitConverter.GetBytes(machine).CopyTo(file, 18);
        BitConverter.GetBytes(1u).CopyTo(file, 20);
        BitConverter.GetBytes(0x400100UL).CopyTo(file, 24);
        BitConverter.GetBytes(64UL).CopyTo(file, 32);
        BitConverter.GetBytes((ushort)64).CopyTo(file, 52);
        BitConverter.GetBytes((ushort)56).CopyTo(file, 54);
        BitConverter.GetBytes((ushort)headers).CopyTo(file, 56);
        WriteHeader(file, 0, LinuxElf.PtLoad, 5, 0, 0x400000, 4096, 8192);
        if (extraType != 0) WriteHeader(file, 1, extraType, 4, 0x200, 0x400200, 16, 16);
        return file;
    }

    private static void WriteHeader(byte[] file, int index, uint type, uint flags, ulong offset, ulong address, ulong fileSize, ulong memorySize)
    {
        int at = 64 + 56 * index;
        BitConverter.GetBytes(type).CopyTo(file, at);
        BitConverter.GetBytes(flags).CopyTo(file, at + 4);
        BitConverter.GetBytes(offset).CopyTo(file, at + 8);
        BitConverter.GetBytes(address).CopyTo(file, at + 16);
        BitConverter.GetBytes(address).CopyTo(file, at + 24);
        BitConverter.GetBytes(fileSize).CopyTo(file, at + 32);
        BitConverter.GetBytes(memorySize).CopyTo(file, at + 40);
        BitConverter.GetBytes(4096UL).CopyTo(file, at + 48);
    }

    [Test]
    public void AStaticProgramFromGccIsAccepted()
    {
        ElfCheck check = Read(Compile("static", "-static"));
        Assert.That(check.Problem, Is.Null);
        ElfProgram program = check.Program;
        Assert.That(program.IsPositionIndependent, Is.False);
        Assert.That(program.LowestAddress, Is.EqualTo(0x400000UL), "gcc -static links at 0x400000");
        Assert.That(program.HeaderTableAddress, Is.EqualTo(0x400040UL), "AT_PHDR: the headers in the first PT_LOAD");
        Assert.That(program.Segments.Count, Is.GreaterThanOrEqualTo(2));
        Assert.That(program.Segments.Exists(s => (s.Protection & Protection.Execute) != 0), Is.True);
        Assert.That(program.Segments.Exists(s => s.MemorySize > s.FileSize), Is.True, ".bss");
        Assert.That(program.ExecutableStack, Is.False, "PT_GNU_STACK without PF_X");
    }

    [Test]
    public void AStaticPieProgramIsAcceptedAsPositionIndependent()
    {
        ElfCheck check = Read(Compile("static-pie", "-static-pie"));
        Assert.That(check.Problem, Is.Null);
        Assert.That(check.Program.IsPositionIndependent, Is.True);
        Assert.That(check.Program.LowestAddress, Is.EqualTo(0UL));
    }

    [Test]
    public void ADynamicProgramNamesItsDynamicLinker()
    {
        ElfCheck check = Read(Compile("dynamic", ""));
        Assert.That(check.Problem, Is.Null);
        Assert.That(check.Program.Interpreter, Is.Not.Null);
        Assert.That(System.Text.Encoding.ASCII.GetString(check.Program.Interpreter), Is.EqualTo("/lib64/ld-linux-x86-64.so.2"));
        Assert.That(check.Program.IsPositionIndependent, Is.True, "gcc links a PIE by default");
        Assert.That(Read(Compile("static", "-static")).Program.Interpreter, Is.Null);
    }

    [Test]
    public void TheMinimalFileIsValid()
    {
        ElfCheck check = Read(Minimal());
        Assert.That(check.Problem, Is.Null);
        Assert.That(check.Program.Entry, Is.EqualTo(0x400100UL));
    }

    [Test]
    public void TextIsNotAnElf()
    {
        ElfCheck check = Read("hello, this is text\n"u8.ToArray());
        Assert.That(check.Problem, Does.StartWith("not an ELF executable"));
        Assert.That(check.Errno, Is.EqualTo(Errno.ENOEXEC));
        Assert.That(check.ShellStatus, Is.EqualTo(126));
        Assert.That(Read(Array.Empty<byte>()).Problem, Does.StartWith("not an ELF executable"));
        Assert.That(Read("#!/bin/sh\necho\n"u8.ToArray()).Problem, Does.Contain("script"));
    }

    [Test]
    public void AnotherArchitectureIsNamed()
    {
        Assert.That(Read(Minimal(machine: 183)).Problem, Is.EqualTo("an ELF for another architecture (AArch64): only x86-64 programs run here"));
        Assert.That(Read(Minimal(machine: 243)).Problem, Does.Contain("RISC-V"));
        byte[] elf32 = Minimal();
        elf32[4] = 1;
        Assert.That(Read(elf32).Problem, Does.StartWith("not a 64-bit ELF"));
    }

    [Test]
    public void TruncatedFilesAreCaughtWhereverTheyEnd()
    {
        byte[] full = Compile("static", "-static");
        // The loaded bytes end before the section headers: cutting anywhere before that end is caught.
        ElfProgram program = Read(full).Program;
        int loadedEnd = (int)program.Segments.Max(s => s.Offset + s.FileSize);
        foreach (int length in new[] { 10, 63, 64, 100, loadedEnd / 2, loadedEnd - 1 })
        {
            ElfCheck check = Read(full.Take(length).ToArray());
            Assert.That(check.IsValid, Is.False, "length " + length);
            Assert.That(check.Problem, Does.Contain("truncated"), "length " + length);
        }
    }

    [Test]
    public void BytesAfterTheLoadedSegmentsMayBeMissing()
    {
        byte[] full = Compile("static", "-static");
        int loadedEnd = (int)Read(full).Program.Segments.Max(s => s.Offset + s.FileSize);
        Assert.That(Read(full.Take(loadedEnd).ToArray()).Problem, Is.Null, "section headers are not needed to run");
    }

    [Test]
    public void BrokenSegmentsAreRefused()
    {
        byte[] file = Minimal();
        WriteHeader(file, 0, LinuxElf.PtLoad, 5, 0, 0x400000, 8192, 4096);
        Assert.That(Read(file).Problem, Does.Contain("more file bytes than memory bytes"));
        file = Minimal();
        WriteHeader(file, 0, LinuxElf.PtLoad, 5, 0, 0x400010, 4096, 8192);
        Assert.That(Read(file).Problem, Does.Contain("disagree modulo the page size"));
        file = Minimal();
        WriteHeader(file, 0, LinuxElf.PtLoad, 5, 0, 0xFFFF_FFFF_FFFF_F000, 4096, 8192);
        Assert.That(Read(file).Problem, Does.Contain("too large or too high"));
        file = Minimal();
        WriteHeader(file, 0, LinuxElf.PtLoad, 5, 0, 0x400000, 4096, 2UL << 30);
        Assert.That(Read(file).Problem, Does.Contain("MiB allowed"));
        file = Minimal();
        WriteHeader(file, 0, LinuxElf.PtLoad, 5, 0, 0x1000, 4096, 8192);
        BitConverter.GetBytes(0x1100UL).CopyTo(file, 24);
        Assert.That(Read(file).Problem, Does.Contain("below the lowest address"));
        file = Minimal();
        BitConverter.GetBytes(0x900000UL).CopyTo(file, 24);
        Assert.That(Read(file).Problem, Does.Contain("entry point"));
        file = Minimal(extraType: LinuxElf.PtLoad);
        WriteHeader(file, 1, LinuxElf.PtLoad, 6, 0, 0x401000, 16, 16);
        Assert.That(Read(file).Problem, Does.Contain("overlaps"));
        file = Minimal();
        BitConverter.GetBytes((ushort)0).CopyTo(file, 56);
        Assert.That(Read(file).Problem, Does.Contain("header count"));
        file = Minimal(type: 1);
        Assert.That(Read(file).Problem, Does.Contain("not an executable"));
    }

    [Test]
    public void PtInterpIsReadAsAPath()
    {
        byte[] file = Minimal(extraType: LinuxElf.PtInterp);
        byte[] path = System.Text.Encoding.ASCII.GetBytes("/lib/ld.so\0");
        path.CopyTo(file, 0x200);
        WriteHeader(file, 1, LinuxElf.PtInterp, 4, 0x200, 0x400200, (ulong)path.Length, (ulong)path.Length);
        Assert.That(System.Text.Encoding.ASCII.GetString(Read(file).Program.Interpreter), Is.EqualTo("/lib/ld.so"));
    }

    [TestCase(0x200UL, 16UL, "not a path inside the file")]   // no NUL at its end (zeros, then 'x')
    [TestCase(0x200UL, 1UL, "not a path inside the file")]    // too short for a path and its NUL
    [TestCase(4090UL, 16UL, "not a path inside the file")]    // runs past the end of the file
    [TestCase(0x300UL, 2UL, "an empty path")]                 // only NULs
    public void ABrokenPtInterpIsRefused(ulong offset, ulong size, string problem)
    {
        byte[] file = Minimal(extraType: LinuxElf.PtInterp);
        file[0x200 + 15] = (byte)'x';
        WriteHeader(file, 1, LinuxElf.PtInterp, 4, offset, 0x400200, size, size);
        Assert.That(Read(file).Problem, Does.Contain(problem));
    }

    [Test]
    public void ByteFlipsNeverThrow()
    {
        byte[] original = Compile("static", "-static");
        var random = new Random(9);
        for (int round = 0; round < 2000; round++)
        {
            byte[] file = (byte[])original.Clone();
            int flips = random.Next(1, 8);
            for (int i = 0; i < flips; i++)
                file[random.Next(0, Math.Min(file.Length, 64 + 56 * 12))] = (byte)random.Next(256);
            ElfCheck check = Read(file);
            Assert.That(check.IsValid || check.Problem != null, Is.True);
        }
    }
}
