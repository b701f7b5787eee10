using System.Text;
using Aegis.LibOS.Unixish.Linux;
using NUnit.Framework;

namespace Aegis.Tests.Host;

/// <summary>The System V start-up stack (LibOS.Unixish/Linux/ProgramStack.cs), read back the way
/// a libc's _start reads it.</summary>
public unsafe class LinuxProgramStackTests
{
    private const ulong Top = 0x0000_0FFF_FF80_0000;

    private static StackImage Image()
    {
        var image = new StackImage { ExecutableName = Encoding.ASCII.GetBytes("/tests/hello") };
        image.Arguments.Add(Encoding.ASCII.GetBytes("/tests/hello"));
        image.Arguments.Add(Encoding.ASCII.GetBytes("one two"));
        image.Environment.Add(Encoding.ASCII.GetBytes("HOME=/root"));
        for (int i = 0; i < 16; i++) image.Random[i] = (byte)(0xA0 + i);
        image.Aux(AuxType.Phdr, 0x400040);
        image.Aux(AuxType.Pagesz, 4096);
        image.Aux(AuxType.Random, 0);
        image.Aux(AuxType.Platform, 0);
        image.Aux(AuxType.Execfn, 0);
        return image;
    }

    private static string StringAt(byte[] memory, ulong address)
    {
        int offset = (int)((long)address - (long)(Top - (ulong)memory.Length));
        int end = Array.IndexOf(memory, (byte)0, offset);
        return Encoding.ASCII.GetString(memory, offset, end - offset);
    }

    private static ulong WordAt(byte[] memory, ulong address)
        => BitConverter.ToUInt64(memory, (int)((long)address - (long)(Top - (ulong)memory.Length)));

    [Test]
    public void ArgcArgvEnvpAndAuxvReadBackAsLibcSeesThem()
    {
        StackImage image = Image();
        var memory = new byte[8192];
        ulong rsp;
        fixed (byte* end = &memory[0])
            rsp = ProgramStack.Build(image, Top, end + memory.Length, (ulong)memory.Length);
        Assert.That(rsp, Is.Not.EqualTo(0UL));
        Assert.That(rsp % 16, Is.EqualTo(0UL), "the ABI wants RSP 16-byte aligned at _start");
        Assert.That(Top - rsp, Is.LessThanOrEqualTo(ProgramStack.Size(image)));
        Assert.That(WordAt(memory, rsp), Is.EqualTo(2UL), "argc");
        Assert.That(StringAt(memory, WordAt(memory, rsp + 8)), Is.EqualTo("/tests/hello"));
        Assert.That(StringAt(memory, WordAt(memory, rsp + 16)), Is.EqualTo("one two"));
        Assert.That(WordAt(memory, rsp + 24), Is.EqualTo(0UL), "argv ends with NULL");
        Assert.That(StringAt(memory, WordAt(memory, rsp + 32)), Is.EqualTo("HOME=/root"));
        Assert.That(WordAt(memory, rsp + 40), Is.EqualTo(0UL), "envp ends with NULL");
        var aux = new Dictionary<ulong, ulong>();
        ulong at = rsp + 48;
        while (WordAt(memory, at) != AuxType.Null)
        {
            aux[WordAt(memory, at)] = WordAt(memory, at + 8);
            at += 16;
        }
        Assert.That(aux[AuxType.Phdr], Is.EqualTo(0x400040UL));
        Assert.That(aux[AuxType.Pagesz], Is.EqualTo(4096UL));
        Assert.That(StringAt(memory, aux[AuxType.Platform]), Is.EqualTo("x86_64"));
        Assert.That(StringAt(memory, aux[AuxType.Execfn]), Is.EqualTo("/tests/hello"));
        for (int i = 0; i < 16; i++)
            Assert.That(memory[(int)((long)aux[AuxType.Random] - (long)(Top - 8192)) + i], Is.EqualTo((byte)(0xA0 + i)), "AT_RANDOM's 16 bytes");
        Assert.That(at + 16, Is.LessThanOrEqualTo(aux[AuxType.Random]), "the tables end below the strings");
    }

    [Test]
    public void TooLittleRoomIsRefusedWithoutWriting()
    {
        StackImage image = Image();
        var memory = new byte[64];
        fixed (byte* end = &memory[0])
            Assert.That(ProgramStack.Build(image, Top, end + memory.Length, (ulong)memory.Length), Is.EqualTo(0UL));
        Assert.That(memory.All(b => b == 0), Is.True);
    }
}
