// The tree's shared process list (LibOS.Unixish/Linux/Files/ProcessList.cs): entries claimed,
// written by their process, read by any other (ps, top, /proc/<pid>), freed when reaped.
using System.Runtime.InteropServices;
using Aegis.LibOS.Unixish.Linux.Files;
using NUnit.Framework;

namespace Aegis.Tests.Host;

[TestFixture]
public unsafe class LinuxProcessListTests
{
    private const int Capacity = 4;
    private byte* _memory;
    private ProcessList _list = null!;

    [SetUp]
    public void Allocate()
    {
        _memory = (byte*)NativeMemory.AllocZeroed((nuint)(Capacity * ProcessList.EntryBytes));
        _list = new ProcessList(_memory, Capacity);
    }

    [TearDown]
    public void Release() => NativeMemory.Free(_memory);

    [Test]
    public void ClaimedEntriesAreListedAndReadBackUntilFreed()
    {
        int shell = _list.Claim(1025, 0, 7);
        _list.SetProgram(shell, "sh", new[] { "/bin/sh", "-l" });
        _list.SetGroup(shell, 1025, 1025);
        int job = _list.Claim(1027, 1025, 90);
        _list.SetProgram(job, "sleep", new[] { "sleep", "100" });
        _list.SetGroup(job, 1027, 1025);
        _list.SetState(job, 'T');

        var pids = new List<int>();
        _list.ListPids(pids);
        Assert.That(pids, Is.EqualTo(new[] { 1025, 1027 }));
        ProcessStatus s = _list.Find(1027);
        Assert.That((s.Pid, s.ParentPid, s.ProcessGroup, s.Session, s.State, s.StartTicks), Is.EqualTo((1027, 1025, 1027, 1025, 'T', 90L)));
        Assert.That(s.Name, Is.EqualTo("sleep"));
        Assert.That(s.Arguments, Is.EqualTo(new[] { "sleep", "100" }));
        Assert.That(_list.Find(1025).Arguments, Is.EqualTo(new[] { "/bin/sh", "-l" }));
        Assert.That(_list.Find(1026), Is.Null, "no such process");

        Assert.That(_list.Free(1027), Is.True);
        Assert.That(_list.Find(1027), Is.Null);
        Assert.That(_list.Free(1027), Is.False, "freed once");
        pids.Clear();
        _list.ListPids(pids);
        Assert.That(pids, Is.EqualTo(new[] { 1025 }));
        Assert.That(_list.Claim(1029, 1025, 100), Is.EqualTo(job), "a freed entry is claimed again");
        Assert.That(_list.Find(1029).Arguments, Is.Empty, "nothing of the entry's last process");
    }

    [Test]
    public void AForkedChildsEntryShowsItsParentsProgramAndGroup()
    {
        int parent = _list.Claim(1025, 0, 1);
        _list.SetProgram(parent, "sh", new[] { "/bin/sh", "-l" });
        _list.SetGroup(parent, 1025, 1025);
        int child = _list.ClaimCopy(parent, 1030, 1025, 50);
        ProcessStatus s = _list.Find(1030);
        Assert.That(child, Is.Not.EqualTo(parent));
        Assert.That((s.ParentPid, s.ProcessGroup, s.Session, s.Name, s.State, s.StartTicks), Is.EqualTo((1025, 1025, 1025, "sh", 'S', 50L)));
        Assert.That(s.Arguments, Is.EqualTo(new[] { "/bin/sh", "-l" }));
        _list.SetProgram(child, "ps", new[] { "/bin/sh", "-l" });
        Assert.That(_list.Find(1025).Name, Is.EqualTo("sh"), "the parent's entry is its own");
    }

    [Test]
    public void AFullListClaimsNothingAndLongNamesAndArgumentsAreCut()
    {
        for (int i = 0; i < Capacity; i++) Assert.That(_list.Claim((ulong)(2000 + i), 1, 0), Is.EqualTo(i));
        Assert.That(_list.Claim(3000, 1, 0), Is.EqualTo(-1), "full");
        Assert.That(_list.ClaimCopy(0, 3000, 1, 0), Is.EqualTo(-1));
        string longArgument = new string('a', 300);
        _list.SetProgram(1, "a-name-longer-than-fifteen", new[] { "x", longArgument });
        ProcessStatus s = _list.Find(2001);
        Assert.That(s.Name, Is.EqualTo("a-name-longer-t"), "comm: 15 bytes, as TASK_COMM_LEN");
        Assert.That(s.Arguments.Length, Is.EqualTo(2));
        Assert.That(s.Arguments[1], Is.EqualTo(new string('a', ProcessList.ArgumentCapacity - 2)), "cut at the entry's capacity");
    }

    [Test]
    public void AnEntryBeingWrittenIsNotRead()
    {
        int index = _list.Claim(1025, 0, 1);
        int* sequence = (int*)(_memory + index * ProcessList.EntryBytes + 28);
        (*sequence)++; // a writer half-way (odd)
        Assert.That(_list.Find(1025), Is.Null, "a torn entry is never shown");
        (*sequence)++;
        Assert.That(_list.Find(1025), Is.Not.Null);
    }
}
