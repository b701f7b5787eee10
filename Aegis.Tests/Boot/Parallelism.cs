// How the tests share the machine: two boot tests at a time.
//
// A boot test spends its time in QEMU, whose TCG thread keeps one core busy; on the 2-core build
// machine the other core stood idle. LevelOfParallelism(2) gives NUnit two workers, and a fixture
// that may boot beside another says so with [Parallelizable]: ParallelScope.Self when its tests
// run one after another (state in the fixture: a disk image per test, a session shared by its
// tests), ParallelScope.All when its tests are independent boots too (LinuxDifferentialTests,
// LinuxCoreTests, LinuxSignalBootTests). Two QEMUs on two cores each keep a core, so a guest runs
// as fast as it does alone.
//
// A fixture runs alone ([NonParallelizable], or no attribute: NUnit's default) when
//   - it builds (UserImageTests, LinuxRootfsBuildTests, BuildErrorTests, AbiEmulatorTests): a
//     build takes both cores and writes the obj/ folders another build would;
//   - its verdict depends on wall-clock time, in the guest or on the host (ProtectionSuiteTests:
//     deadlines of a few ms; IdleShellTests, LinuxThreadPolicyTests, DeviceTests, PowerCutTests,
//     NetworkTests), or on when typed input arrives (the tty echoes it as it comes, between the
//     output's lines: LinuxShellTests, LinuxSharedFilesTests, LinuxForkTests, LinuxDotNetTests,
//     KeyboardAndVgaTests, LinuxSignalShellTests), or on how QEMU batches device requests
//     (DiskTests: virtio-blk may merge the 16 reads that arrive together into one, and then the one
//     failed sector fails all 16), or on a fixed file of artifacts/ (BenchmarkTests: ./aegis bench);
//   - it is a host test (no QEMU: nothing to gain).
// A fixture that runs beside others must name its files uniquely (Path.GetTempPath() with the
// process id and the fixture's or test's name, or Directory.CreateTempSubdirectory) and must not
// judge elapsed time. ./aegis builds tools/disk-image under a lock, so two boots needing it at once
// build it once. The shared boots (FrontDoor.BootShared) and the ISO build are Lazy: run once.
//
// `dotnet test Aegis.Tests -- NUnit.NumberOfTestWorkers=1` runs everything one at a time.
using NUnit.Framework;

[assembly: LevelOfParallelism(2)]
