// Boot test of the diagnostic a failed interaction gets (MachineState): with the guest idle, the
// state names the kernel function RIP is in and the scheduler's loop among the return addresses
// on the stack, and a failure's message carries that state; so does a state taken inside an
// interrupt handler.
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
public class MachineStateTests
{
    private const int TimeoutSeconds = 60;

    [Test]
    public void AFailedInteractionReportsTheIdleKernelsFunctionAndItsCallersFromTheMonitor()
    {
        string state = null, failure = null;
        FrontDoorResult result = FrontDoor.BootWithMonitor(TimeoutSeconds, (monitor, output) =>
        {
            HostNetwork.WaitFor(output, "idle now"); // (the argument says idle" "now: the kernel's echo of it does not match)
            Thread.Sleep(300); // init sleeps: the CPU halts in the idle loop
            state = MachineState.Describe(monitor);
            try
            {
                MachineState.OnFailure(monitor, () => throw new TimeoutException("no answer"));
            }
            catch (InvalidOperationException e)
            {
                failure = e.Message;
            }
        }, "init=/bin/sh -c 'echo idle\" \"now; sleep 3'", "exit");

        result.AssertExitStatus(0);
        Assert.That(state, Does.Contain("RIP=").And.Contain("CPL=0"), () => "no kernel-mode registers:\n" + state);
        Assert.That(state, Does.Match(@"RIP is \S+\+0x[0-9a-f]+\n"), () => "RIP not named:\n" + state);
        Assert.That(Regex.Match(state, "kernel addresses on the stack, top first: (.*)").Groups[1].Value,
            Does.Contain("Scheduler__RunLoop+0x"), () => "the idle loop is not among the stack's return addresses:\n" + state);
        Assert.That(failure, Does.StartWith("TimeoutException: no answer\n").And.Contain("RIP="), () => "the failure's message: " + failure);
    }

    [Test]
    public void AStateTakenInsideAnInterruptHandlerStillNamesTheInterruptedIdleLoop()
    {
        // The guest is stopped (QEMU's gdb stub, a breakpoint) at the entry of the IRQ handler, so
        // the saved registers and the fxsave area lie between the top of the stack and the idle
        // loop's return addresses: the snapshot a random moment catches now and then.
        string state = null;
        string directory = Directory.CreateTempSubdirectory("aegis-gdb").FullName;
        try
        {
            FrontDoorResult result = FrontDoor.BootWithMonitor(TimeoutSeconds, (monitor, output) =>
            {
                HostNetwork.WaitFor(output, "idle now");
                Thread.Sleep(300);
                using GdbRemote stub = GdbRemote.Start(monitor, directory);
                stub.RunTo(MachineState.KernelFunction("Interrupts__DispatchIrq"));
                state = MachineState.Describe(monitor);
                stub.Detach();
            }, "init=/bin/sh -c 'echo idle\" \"now; sleep 3'", "exit");

            result.AssertExitStatus(0);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
        Assert.That(state, Does.Match(@"RIP is \S+Interrupts__DispatchIrq\+0x0\n"), () => "not stopped in the IRQ handler:\n" + state);
        string called = Regex.Match(state, "kernel addresses on the stack, top first: (.*)").Groups[1].Value;
        Assert.That(called, Does.Contain("Interrupts__Dispatch+0x").And.Contain("Scheduler__RunLoop+0x"),
            () => "the interrupted idle loop is not among the stack's return addresses:\n" + state);
    }
}
