using Aegis.Kernel.Core;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class SymbolNameDemanglingTests
{
    [TestCase("Aegis_Kernel_Aegis_Kernel_KernelLog__Write", "Aegis.Kernel.KernelLog.Write")]
    [TestCase("Aegis_Kernel_Aegis_Kernel_KernelLog__Write_0", "Aegis.Kernel.KernelLog.Write")]
    [TestCase("Aegis_Kernel_Aegis_Kernel_Hal_SerialPort__Initialize", "Aegis.Kernel.Hal.SerialPort.Initialize")]
    [TestCase("Aegis_Runtime_System_Number__FormatUnsigned_0", "System.Number.FormatUnsigned")]
    [TestCase("Aegis_Runtime_Internal_Runtime_Heap__Allocate", "Internal.Runtime.Heap.Allocate")]
    public void MethodsOfPlainTypes(string elfName, string expected)
        => Assert.That(SymbolTable.Demangle(elfName), Is.EqualTo(expected));

    [TestCase("Aegis_Runtime_System_ArgumentException___ctor_1", "System.ArgumentException..ctor")]
    [TestCase("Aegis_Runtime_System_OverflowException___ctor", "System.OverflowException..ctor")]
    [TestCase("Aegis_Kernel_Aegis_Kernel_Probe_Outer___cctor", "Aegis.Kernel.Probe.Outer..cctor")]
    public void Constructors(string elfName, string expected)
        => Assert.That(SymbolTable.Demangle(elfName), Is.EqualTo(expected));

    [TestCase("Aegis_Runtime_System_Exception__get_Message", "System.Exception.get_Message")]
    [TestCase("Aegis_Kernel_Aegis_Kernel_Probe_Outer__op_Addition", "Aegis.Kernel.Probe.Outer.op_Addition")]
    public void AccessorsAndOperators(string elfName, string expected)
        => Assert.That(SymbolTable.Demangle(elfName), Is.EqualTo(expected));

    [TestCase("Aegis_Runtime_System_Span_1<Char>__Slice_0", "System.Span<Char>.Slice")]
    [TestCase("Aegis_Runtime_System_Collections_Generic_Dictionary_2<System___Canon__Int32>__FindEntry",
        "System.Collections.Generic.Dictionary<__Canon,Int32>.FindEntry")]
    [TestCase("Aegis_Runtime_System_Collections_Generic_List_1_Enumerator<Int32>__MoveNext",
        "System.Collections.Generic.List.Enumerator<Int32>.MoveNext")]
    [TestCase("Aegis_Kernel_Aegis_Kernel_Probe_Box_1_InnerGeneric_1<Int32__System___Canon>__Hold",
        "Aegis.Kernel.Probe.Box.InnerGeneric<Int32,__Canon>.Hold")]
    [TestCase("Aegis_Kernel_Aegis_Kernel_Probe_Pair_2<Aegis_Kernel_Aegis_Kernel_Probe_Square__Int64>__Count",
        "Aegis.Kernel.Probe.Pair<Aegis.Kernel.Probe.Square,Int64>.Count")]
    [TestCase("Aegis_Kernel_Aegis_Kernel_Probe_Box_1<Aegis_Kernel_Aegis_Kernel_Probe_Box_1<Int32>>__Get",
        "Aegis.Kernel.Probe.Box<Aegis.Kernel.Probe.Box<Int32>>.Get")]
    public void GenericTypes(string elfName, string expected)
        => Assert.That(SymbolTable.Demangle(elfName), Is.EqualTo(expected));

    [TestCase("Aegis_Runtime_System_Buffer__Memmove_0<Char>", "System.Buffer.Memmove<Char>")]
    [TestCase("Aegis_Kernel_Aegis_Kernel_Probe_NameProbe__Gen2<Int64__System___Canon>", "Aegis.Kernel.Probe.NameProbe.Gen2<Int64,__Canon>")]
    [TestCase("Aegis_Kernel_Aegis_Kernel_Probe_Box_1<Int32>__Convert<System___Canon>", "Aegis.Kernel.Probe.Box<Int32>.Convert<__Canon>")]
    public void GenericMethods(string elfName, string expected)
        => Assert.That(SymbolTable.Demangle(elfName), Is.EqualTo(expected));

    [TestCase("Aegis_Kernel_Aegis_Kernel_Probe_Outer_Nested__Run", "Aegis.Kernel.Probe.Outer.Nested.Run")]
    [TestCase("Aegis_Kernel_Aegis_Kernel_Probe_Box_1_Inner<Int32>__Depth", "Aegis.Kernel.Probe.Box.Inner<Int32>.Depth")]
    public void NestedTypes(string elfName, string expected)
        => Assert.That(SymbolTable.Demangle(elfName), Is.EqualTo(expected));

    [TestCase("Aegis_Kernel_Aegis_Kernel_Probe_NameProbe___c__DisplayClass0_0___Run_b__0", "Aegis.Kernel.Probe.NameProbe.Run.<lambda>")]
    [TestCase("Aegis_Kernel_Aegis_Kernel_Probe_NameProbe___c___Run_b__0_1", "Aegis.Kernel.Probe.NameProbe.Run.<lambda>")]
    [TestCase("Aegis_Kernel_Aegis_Kernel_Probe_NameProbe___c___get_Value_b__4_0", "Aegis.Kernel.Probe.NameProbe.get_Value.<lambda>")]
    [TestCase("Aegis_Kernel_Aegis_Kernel_Probe_NameProbe___c____ctor_b__2_0", "Aegis.Kernel.Probe.NameProbe..ctor.<lambda>")]
    public void Lambdas(string elfName, string expected)
        => Assert.That(SymbolTable.Demangle(elfName), Is.EqualTo(expected));

    [TestCase("Aegis_Kernel_Aegis_Kernel_Probe_NameProbe___Run_g__StaticLocal_0_3", "Aegis.Kernel.Probe.NameProbe.Run.StaticLocal")]
    [TestCase("Aegis_Kernel_Aegis_Kernel_Probe_NameProbe___c__DisplayClass0_0___Run_g__Local_2", "Aegis.Kernel.Probe.NameProbe.Run.Local")]
    public void LocalFunctions(string elfName, string expected)
        => Assert.That(SymbolTable.Demangle(elfName), Is.EqualTo(expected));

    [Test]
    public void IteratorStateMachineNamesItsMethod()
        => Assert.That(SymbolTable.Demangle("Aegis_Kernel_Aegis_Kernel_Probe_NameProbe___Items_d__3__MoveNext"),
            Is.EqualTo("Aegis.Kernel.Probe.NameProbe.Items.MoveNext"));

    [TestCase("String__Concat_2", "String.Concat")]
    [TestCase("String__get_Chars", "String.get_Chars")]
    [TestCase("Object__ToString", "Object.ToString")]
    [TestCase("unbox_Int32__Equals_0", "Int32.Equals")]
    public void CoreTypesWithoutAssemblyPrefix(string elfName, string expected)
        => Assert.That(SymbolTable.Demangle(elfName), Is.EqualTo(expected));

    [TestCase("LibOS_Unixish_LibOS_Unixish_Fork__CopyOnWrite", "LibOS.Unixish.Fork.CopyOnWrite")]
    [TestCase("Hello_Hello_Program__Main", "Hello.Program.Main")]
    public void OtherAssembliesWhoseNamespaceRepeatsTheirName(string elfName, string expected)
        => Assert.That(SymbolTable.Demangle(elfName), Is.EqualTo(expected));

    [TestCase("RhpNewFast")]
    [TestCase("aegis_kernel_main")]
    [TestCase("__managed__Startup")]
    [TestCase("Internal_CompilerGenerated__Module___NativeLibraryStartup")]
    [TestCase("__DelegateCtor_Aegis_Runtime_System_Delegate__InitializeClosedInstance__X")]
    [TestCase("memmove")]
    [TestCase("boot_long_mode")]
    [TestCase("A__")]
    [TestCase("A_<B>__C")]
    [TestCase("X_1<__M")]
    [TestCase("")]
    public void UnknownShapesComeBackUnchanged(string elfName)
        => Assert.That(SymbolTable.Demangle(elfName), Is.EqualTo(elfName));

    [Test]
    public void NullComesBackNull() => Assert.That(SymbolTable.Demangle(null!), Is.Null);

    [Test]
    public void RandomNamesNeverThrow()
    {
        const string alphabet = "__<>aZ019_cbgdD";
        Random random = new(5);
        for (int round = 0; round < 50000; round++)
        {
            char[] chars = new char[random.Next(0, 40)];
            for (int i = 0; i < chars.Length; i++) chars[i] = alphabet[random.Next(alphabet.Length)];
            string name = new(chars);
            string result = SymbolTable.Demangle(name);
            Assert.That(result, Is.Not.Null);
        }
    }
}
