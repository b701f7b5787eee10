using Aegis.Kernel.Core;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class KernelArgumentsTests
{
    [Test]
    public void KeysValuesAndFlagsAreParsed()
    {
        KernelArguments arguments = KernelArguments.Parse("test=runtime verbose memory=64M");
        Assert.That(arguments.Get("test"), Is.EqualTo("runtime"));
        Assert.That(arguments.Get("verbose"), Is.EqualTo(""));
        Assert.That(arguments.Get("memory"), Is.EqualTo("64M"));
        Assert.That(arguments.Has("verbose"), Is.True);
        Assert.That(arguments.Count, Is.EqualTo(3));
    }

    /// <summary>TryGetNumber (nicwatch=MICROSECONDS): decimal digits up to the maximum; anything
    /// else, an empty value, a flag or an absent key is false with 0, and a number past the
    /// maximum does not wrap.</summary>
    [TestCase("n=200", 10_000UL, true, 200UL)]
    [TestCase("n=0", 10_000UL, true, 0UL)]
    [TestCase("n=10000", 10_000UL, true, 10_000UL)]
    [TestCase("n=10001", 10_000UL, false, 0UL)]
    [TestCase("n=18446744073709551617", ulong.MaxValue, false, 0UL)]
    [TestCase("n=18446744073709551615", ulong.MaxValue, true, ulong.MaxValue)]
    [TestCase("n=-1", 10_000UL, false, 0UL)]
    [TestCase("n=2e3", 10_000UL, false, 0UL)]
    [TestCase("n=", 10_000UL, false, 0UL)]
    [TestCase("n", 10_000UL, false, 0UL)]
    [TestCase("m=5", 10_000UL, false, 0UL)]
    public void ANumberArgumentIsDigitsUpToItsMaximum(string line, ulong maximum, bool valid, ulong expected)
    {
        KernelArguments arguments = KernelArguments.Parse(line);
        Assert.That(arguments.TryGetNumber("n", maximum, out ulong value), Is.EqualTo(valid));
        Assert.That(value, Is.EqualTo(expected));
    }

    [Test]
    public void AbsentKeyGivesNull()
    {
        KernelArguments arguments = KernelArguments.Parse("a=1");
        Assert.That(arguments.Get("b"), Is.Null);
        Assert.That(arguments.Has("b"), Is.False);
        Assert.That(arguments.Get(null!), Is.Null);
        Assert.That(arguments.Has(null!), Is.False);
    }

    [Test]
    public void KeysKeepTheOrderOfFirstAppearance()
    {
        KernelArguments arguments = KernelArguments.Parse("zeta alpha=1 mid=2 zeta=3");
        Assert.That(arguments.Keys, Is.EqualTo(new[] { "zeta", "alpha", "mid" }));
    }

    [Test]
    public void LastDuplicateWins()
    {
        KernelArguments arguments = KernelArguments.Parse("test=one test=two test");
        Assert.That(arguments.Get("test"), Is.EqualTo(""));
        Assert.That(KernelArguments.Parse("test test=two").Get("test"), Is.EqualTo("two"));
        Assert.That(arguments.Count, Is.EqualTo(1));
    }

    [Test]
    public void LeadingKernelPathIsNotAnArgument()
    {
        KernelArguments arguments = KernelArguments.Parse("/boot/aegis.elf test=runtime");
        Assert.That(arguments.KernelPath, Is.EqualTo("/boot/aegis.elf"));
        Assert.That(arguments.Keys, Is.EqualTo(new[] { "test" }));
    }

    [Test]
    public void PathLaterInTheLineIsAFlag()
    {
        KernelArguments arguments = KernelArguments.Parse("quiet /not/a/kernel");
        Assert.That(arguments.KernelPath, Is.EqualTo(""));
        Assert.That(arguments.Has("/not/a/kernel"), Is.True);
    }

    [Test]
    public void AnyWhiteSpaceSeparatesWords()
    {
        KernelArguments arguments = KernelArguments.Parse("  a=1\t\tb=2\n c \r\n");
        Assert.That(arguments.Keys, Is.EqualTo(new[] { "a", "b", "c" }));
        Assert.That(arguments.Get("b"), Is.EqualTo("2"));
    }

    [Test]
    public void ValueMayContainEqualsSigns()
    {
        Assert.That(KernelArguments.Parse("root=UUID=1234").Get("root"), Is.EqualTo("UUID=1234"));
        Assert.That(KernelArguments.Parse("empty=").Get("empty"), Is.EqualTo(""));
    }

    [Test]
    public void WordStartingWithEqualsIsKeptWhole()
    {
        KernelArguments arguments = KernelArguments.Parse("=oops");
        Assert.That(arguments.Keys, Is.EqualTo(new[] { "=oops" }));
        Assert.That(arguments.UnknownKeys(["test"]), Is.EqualTo(new[] { "=oops" }));
    }

    [Test]
    public void EmptyOrMissingCommandLineHasNoArguments()
    {
        Assert.That(KernelArguments.Parse("").Count, Is.Zero);
        Assert.That(KernelArguments.Parse("   ").Count, Is.Zero);
        Assert.That(KernelArguments.Parse(null!).Count, Is.Zero);
        Assert.That(KernelArguments.Parse("/boot/aegis.elf").Count, Is.Zero);
    }

    [Test]
    public void UnknownKeysAreListedInOrder()
    {
        KernelArguments arguments = KernelArguments.Parse("/boot/aegis.elf tset=runtime test=runtime quiet crash=null");
        Assert.That(arguments.UnknownKeys(["test", "crash"]), Is.EqualTo(new[] { "tset", "quiet" }));
        Assert.That(arguments.UnknownKeys(["test", "crash", "tset", "quiet"]), Is.Empty);
        Assert.That(arguments.UnknownKeys(null!), Is.EqualTo(new[] { "tset", "test", "quiet", "crash" }));
    }

    [Test]
    public void KeysAreCaseSensitive()
    {
        KernelArguments arguments = KernelArguments.Parse("Test=1");
        Assert.That(arguments.Has("test"), Is.False);
        Assert.That(arguments.Has("Test"), Is.True);
    }

    [Test]
    public void InitWithoutArgumentsNamesTheImage()
    {
        KernelArguments arguments = KernelArguments.Parse("init=hello exit");
        Assert.That(KernelArguments.TrySplitInit(arguments.Get("init"), out string name, out string argument), Is.True);
        Assert.That(name, Is.EqualTo("hello"));
        Assert.That(argument, Is.EqualTo(""));
    }

    [Test]
    public void InitArgumentsFollowTheFirstColon()
    {
        KernelArguments arguments = KernelArguments.Parse("init=echo:a:b=c,d exit");
        Assert.That(KernelArguments.TrySplitInit(arguments.Get("init"), out string name, out string argument), Is.True);
        Assert.That(name, Is.EqualTo("echo"));
        Assert.That(argument, Is.EqualTo("a:b=c,d"));
        Assert.That(KernelArguments.TrySplitInit("echo:", out name, out argument), Is.True);
        Assert.That((name, argument), Is.EqualTo(("echo", "")));
    }

    [Test]
    public void InitWithoutANameIsRefused()
    {
        Assert.That(KernelArguments.TrySplitInit("", out string name, out string argument), Is.False);
        Assert.That(name, Is.Null);
        Assert.That(KernelArguments.TrySplitInit(":x", out name, out argument), Is.False);
        Assert.That(argument, Is.EqualTo(""));
        Assert.That(KernelArguments.TrySplitInit(null!, out _, out _), Is.False);
    }
}

/// <summary>init=/PATH ARGS... [exit] (issue #9): a Linux program's command line.</summary>
public class KernelArgumentsLinuxInitTests
{
    [Test]
    public void LaterWordsBelongToTheProgramAndAFinalExitStaysTheKernels()
    {
        KernelArguments arguments = KernelArguments.Parse("/boot/aegis.elf init=/bin/ls -l /tmp exit");
        Assert.That(arguments.InitCommand, Is.EqualTo("/bin/ls -l /tmp"));
        Assert.That(arguments.InitCommandError, Is.Null);
        Assert.That(arguments.Get("init"), Is.EqualTo("/bin/ls"));
        Assert.That(arguments.Has("exit"), Is.True);
        Assert.That(arguments.UnknownKeys(new[] { "init", "exit" }), Is.Empty, "the program's words are not kernel arguments");
    }

    [Test]
    public void WithoutExitEveryWordIsTheProgramsAndNoExitFlag()
    {
        KernelArguments arguments = KernelArguments.Parse("init=/bin/echo exit now");
        Assert.That(arguments.InitCommand, Is.EqualTo("/bin/echo exit now"));
        Assert.That(arguments.Has("exit"), Is.False);
    }

    [Test]
    public void KernelArgumentsBeforeInitStayTheKernels()
    {
        KernelArguments arguments = KernelArguments.Parse("test=boot init=/tests/files arg exit");
        Assert.That(arguments.Get("test"), Is.EqualTo("boot"));
        Assert.That(arguments.InitCommand, Is.EqualTo("/tests/files arg"));
        Assert.That(arguments.Has("exit"), Is.True);
    }

    [Test]
    public void SingleQuotesGroupWordsAndAQuotedExitIsTheProgramsWord()
    {
        KernelArguments arguments = KernelArguments.Parse("init=/bin/sh -c 'echo hi;  exit 3' exit");
        Assert.That(arguments.InitCommand, Is.EqualTo("/bin/sh -c 'echo hi;  exit 3'"));
        Assert.That(arguments.Has("exit"), Is.True);
        var words = new List<string>();
        Assert.That(KernelArguments.SplitCommand(arguments.InitCommand, words), Is.Null);
        Assert.That(words, Is.EqualTo(new[] { "/bin/sh", "-c", "echo hi;  exit 3" }));

        KernelArguments quoted = KernelArguments.Parse("init=/bin/echo 'exit'");
        Assert.That(quoted.InitCommand, Is.EqualTo("/bin/echo 'exit'"));
        Assert.That(quoted.Has("exit"), Is.False);
    }

    [Test]
    public void SplitCommandJoinsTouchingPartsAndKeepsEmptyQuotedWords()
    {
        var words = new List<string>();
        Assert.That(KernelArguments.SplitCommand("  a'b c'd  '' x  ", words), Is.Null);
        Assert.That(words, Is.EqualTo(new[] { "ab cd", "", "x" }));
    }

    [Test]
    public void UnterminatedQuoteIsAClearError()
    {
        KernelArguments arguments = KernelArguments.Parse("init=/bin/echo 'oops exit");
        Assert.That(arguments.InitCommandError, Does.Contain("quote opened at character 11 is not closed"));
        Assert.That(arguments.Has("exit"), Is.False, "nothing is trusted after a broken quote");
        Assert.That(KernelArguments.SplitCommand("a 'b", new List<string>()), Does.Contain("not closed"));
    }

    [Test]
    public void CommandLineLongerThanTheArgumentPageHoldsIsAClearError()
    {
        string path = "/" + new string('x', 254);
        Assert.That(KernelArguments.Parse("init=" + path + " exit").InitCommandError, Is.Null, "255 bytes fit");
        KernelArguments tooLong = KernelArguments.Parse("init=" + path + "y exit");
        Assert.That(tooLong.InitCommandError, Does.Contain("256 bytes").And.Contain("at most 255"));
    }

    [Test]
    public void ImageNamesAreNotLinuxPrograms()
    {
        KernelArguments arguments = KernelArguments.Parse("init=exitstatus:7 exit");
        Assert.That(arguments.InitCommand, Is.Null);
        Assert.That(arguments.Get("init"), Is.EqualTo("exitstatus:7"));
    }
}
