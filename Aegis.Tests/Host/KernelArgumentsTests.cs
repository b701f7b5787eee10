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
