// The kernel's Core logic must compile under ILC against Aegis.Runtime, which has no helpers for
// checked conversions (conv.ovf.*): indexing an array with a ulong emits one, and the kernel
// build then fails only once some kernel code reaches the method. This test finds them early,
// in every method of Aegis.Kernel.Core and below, by decoding the IL the host compiler produced.
using System.Reflection;
using System.Reflection.Emit;
using NUnit.Framework;

namespace Aegis.Tests.Host.Exo;

public class CoreRuntimeCompatibilityTests
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = LoadOpCodes();

    [Test]
    public void CoreLogicHasNoCheckedConversions()
    {
        System.Collections.Generic.List<string> offenders = new();
        int methods = 0;
        foreach (Type type in typeof(Aegis.Kernel.Core.Exo.FrameLedger).Assembly.GetTypes())
        {
            if (type.Namespace == null || !type.Namespace.StartsWith("Aegis.Kernel.Core", StringComparison.Ordinal)) continue;
            const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance
                                     | BindingFlags.Static | BindingFlags.DeclaredOnly;
            foreach (MethodBase method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
            {
                byte[] il = method.GetMethodBody()?.GetILAsByteArray();
                if (il == null) continue;
                methods++;
                string found = FindCheckedConversion(il);
                if (found != null) offenders.Add($"{type.FullName}.{method.Name}: {found}");
            }
        }
        Assert.That(methods, Is.GreaterThan(100), "the scan saw the Core methods");
        Assert.That(offenders, Is.Empty, "cast to int after a range check instead (e.g. array[(int)frame])");
    }

    private static string FindCheckedConversion(byte[] il)
    {
        int position = 0;
        while (position < il.Length)
        {
            short value = il[position] == 0xFE && position + 1 < il.Length ? (short)(0xFE00 | il[position + 1]) : il[position];
            if (!OpCodesByValue.TryGetValue(value, out OpCode opCode)) return $"undecodable IL at {position}";
            position += opCode.Size;
            if (opCode.Name.StartsWith("conv.ovf", StringComparison.Ordinal)) return opCode.Name;
            position += OperandSize(opCode, il, position);
        }
        return null;
    }

    private static int OperandSize(OpCode opCode, byte[] il, int position) => opCode.OperandType switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, position),
        _ => 4,
    };

    private static Dictionary<short, OpCode> LoadOpCodes()
    {
        Dictionary<short, OpCode> opCodes = new();
        foreach (FieldInfo field in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
            if (field.GetValue(null) is OpCode opCode) opCodes[opCode.Value] = opCode;
        return opCodes;
    }
}
