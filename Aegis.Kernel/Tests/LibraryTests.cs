// Runtime suite: collections, spans, StringBuilder, arrays, strings and number formatting.
using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Text;

namespace Aegis.Kernel.Tests
{
    public static unsafe partial class RuntimeSuite
    {
        /// <summary>Returns its argument through a call the compiler cannot see through, so
        /// string operations on it happen at run time.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static string Opaque(string value) => value;

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int Opaque(int value) => value;

        private static string ListOfValuesAndReferences()
        {
            List<int> numbers = new List<int>();
            for (int i = 0; i < 100; i++)
                numbers.Add(i * 3 % 17);
            numbers.Insert(0, 1000);
            numbers.RemoveAt(numbers.Count - 1);
            bool removed = numbers.Remove(1000);
            numbers.Sort();
            int sum = 0;
            for (int i = 0; i < numbers.Count; i++)
                sum += numbers[i];

            List<string> words = new List<string> { "delta", "alpha", "charlie" };
            words.Add("bravo");
            words.Sort((a, b) => string.CompareOrdinal(a, b));
            string joined = string.Join(",", words.ToArray());
            return Expect.Equal(99, numbers.Count, "count after insert and two removals")
                ?? Expect.True(removed, "Remove found the inserted value")
                ?? Expect.Equal(0, numbers[0], "smallest after Sort")
                ?? Expect.Equal(16, numbers[98], "largest after Sort")
                ?? Expect.Equal(783, sum, "sum of the sorted list")
                ?? Expect.Equal(6, numbers.IndexOf(1), "IndexOf (after six zeros)")
                ?? Expect.True(numbers.Contains(16) && !numbers.Contains(17), "Contains")
                ?? Expect.Equal("alpha,bravo,charlie,delta", joined, "List<string> sorted with a comparison")
                ?? Expect.Equal(1, words.FindIndex(w => w.StartsWith("b")), "FindIndex with a predicate");
        }

        private static string DictionaryIntKeysManyEntries()
        {
            Dictionary<int, long> squares = new Dictionary<int, long>();
            for (int i = 0; i < 2000; i++)
                squares.Add(i, (long)i * i);
            for (int i = 0; i < 2000; i += 2)
                squares.Remove(i);
            for (int i = 5000; i < 5100; i++)
                squares[i] = -i; // reuses the freed entries
            long sum = 0;
            for (int i = 1; i < 2000; i += 2)
                sum += squares[i];
            bool hasEven = squares.ContainsKey(1000);
            bool found = squares.TryGetValue(5050, out long value);
            bool missing = squares.TryGetValue(-1, out long missingValue);
            squares[1] = 7;
            return Expect.Equal(1100, squares.Count, "count after adds, removals and reuse")
                ?? Expect.Equal(1333333000, sum, "sum of odd squares")
                ?? Expect.True(!hasEven, "removed key is gone")
                ?? Expect.True(found && value == -5050, "TryGetValue of a reused entry")
                ?? Expect.True(!missing && missingValue == 0, "TryGetValue of a missing key")
                ?? Expect.Equal(7, squares[1], "indexer overwrites");
        }

        private static string DictionaryStringKeys()
        {
            Dictionary<string, int> ages = new Dictionary<string, int>();
            string[] names = { "ada", "alan", "grace", "edsger", "barbara", "ken", "dennis", "linus" };
            for (int i = 0; i < names.Length; i++)
                ages[names[i]] = 30 + i;
            for (int i = 0; i < 300; i++)
                ages.Add("user" + i.ToString(), i);
            bool removedGrace = ages.Remove(Opaque("gra") + "ce");
            bool removedTwice = ages.Remove("grace");
            int total = 0;
            for (int i = 0; i < 300; i++)
                total += ages["user" + i.ToString()];
            return Expect.Equal(307, ages.Count, "count")
                ?? Expect.Equal(35, ages[Opaque("ken")], "lookup with an equal but distinct string")
                ?? Expect.True(removedGrace && !removedTwice, "Remove once, then not found")
                ?? Expect.True(!ages.ContainsKey("grace") && ages.ContainsKey("linus"), "ContainsKey")
                ?? Expect.Equal(44850, total, "sum over generated keys");
        }

        private static string DictionaryOfLists()
        {
            Dictionary<string, List<int>> groups = new Dictionary<string, List<int>>();
            for (int i = 1; i <= 30; i++)
            {
                string key = i % 3 == 0 ? "fizz" : i % 5 == 0 ? "buzz" : "plain";
                if (!groups.TryGetValue(key, out List<int> list))
                {
                    list = new List<int>();
                    groups[key] = list;
                }
                list.Add(i);
            }
            Dictionary<int, Dictionary<string, string>> nested = new Dictionary<int, Dictionary<string, string>>();
            nested[1] = new Dictionary<string, string> { ["a"] = "x" };
            nested[1]["b"] = "y";
            return Expect.Equal(10, groups["fizz"].Count, "fizz count")
                ?? Expect.Equal(4, groups["buzz"].Count, "buzz count")
                ?? Expect.Equal(16, groups["plain"].Count, "plain count")
                ?? Expect.Equal(25, groups["buzz"][3], "fourth buzz")
                ?? Expect.Equal("xy", nested[1]["a"] + nested[1]["b"], "dictionary of dictionaries");
        }

        private static int SumOf(ReadOnlySpan<int> values)
        {
            int sum = 0;
            for (int i = 0; i < values.Length; i++)
                sum += values[i];
            return sum;
        }

        private static string SpanStackallocAndSlicing()
        {
            Span<int> buffer = stackalloc int[16];
            for (int i = 0; i < buffer.Length; i++)
                buffer[i] = i + 1;
            Span<int> middle = buffer.Slice(4, 8);
            middle[0] = 100;
            Span<byte> bytes = stackalloc byte[Opaque(300)]; // size known only at run time
            bytes.Fill(7);
            int[] array = { 1, 2, 3, 4, 5 };
            Span<int> overArray = array;
            overArray.Slice(1, 3).Clear();
            Span<long> wide = stackalloc long[3] { long.MaxValue, -1, 2 };
            return Expect.Equal(100 + 6 + 7 + 8 + 9 + 10 + 11 + 12, SumOf(middle), "slice sum")
                ?? Expect.Equal(100, buffer[4], "slice writes through to the stackalloc buffer")
                ?? Expect.Equal(136 - 5 + 100, SumOf(buffer), "whole buffer")
                ?? Expect.Equal(2100, bytes.Length * bytes[299], "stackalloc of a run-time size")
                ?? Expect.Equal(6, array[0] + array[1] + array[2] + array[3] + array[4], "span over an array clears a slice of it")
                ?? Expect.Equal(3, SumOf(buffer.Slice(0, 2)), "ReadOnlySpan from Span")
                ?? Expect.Equal(long.MaxValue, wide[0], "stackalloc with an initialiser, first element")
                ?? Expect.Equal(1, wide[1] + wide[2], "stackalloc with an initialiser, other elements");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int LargeStackBuffers(int runtimeSize)
        {
            // Frames bigger than a page are probed page by page (a guard page must be hit in order).
            Span<byte> fixedSize = stackalloc byte[24 * 1024];
            Span<byte> variable = stackalloc byte[runtimeSize];
            fixedSize.Fill(1);
            variable.Fill(2);
            int sum = 0;
            for (int i = 0; i < fixedSize.Length; i += 512)
                sum += fixedSize[i];
            for (int i = 0; i < variable.Length; i += 512)
                sum += variable[i];
            return sum;
        }

        private static string LargeStackallocProbes()
            => Expect.Equal(48 + 2 * 40, LargeStackBuffers(Opaque(20 * 1024)), "sum over 24 KiB and 20 KiB stack buffers");

        private static string ReadOnlySpanOfChars()
        {
            ReadOnlySpan<char> text = Opaque("  kernel:aegis  ").AsSpan().Trim();
            int colon = text.IndexOf(':');
            ReadOnlySpan<char> key = text.Slice(0, colon);
            ReadOnlySpan<char> value = text.Slice(colon + 1);
            ReadOnlySpan<byte> table = new byte[] { 1, 2, 4, 8 };
            int bits = 0;
            foreach (byte b in table)
                bits |= b;
            return Expect.Equal("kernel", key.ToString(), "key slice")
                ?? Expect.Equal("aegis", new string(value), "value slice")
                ?? Expect.True(key.SequenceEqual("kernel"), "SequenceEqual")
                ?? Expect.True(value.StartsWith("ae"), "StartsWith")
                ?? Expect.Equal(15, bits, "ReadOnlySpan<byte> over an array");
        }

        private static string StringBuilderAppendInsertRemove()
        {
            StringBuilder builder = new StringBuilder();
            for (int i = 0; i < 50; i++)
                builder.Append(i % 10);
            builder.Clear();
            builder.Append("world").Insert(0, "hello ").Append('!', 3).Append(42).Append(-7L).Append(true);
            builder.Remove(5, 1);
            builder[0] = 'H';
            string result = builder.ToString();
            StringBuilder big = new StringBuilder(2);
            for (int i = 0; i < 1000; i++)
                big.Append('x');
            return Expect.Equal("Helloworld!!!42-7True", result, "appends, insert, remove, indexer")
                ?? Expect.Equal(21, builder.Length, "length")
                ?? Expect.Equal(1000, big.ToString().Length, "growth from a tiny capacity");
        }

        private static string ArraysOfValuesAndReferences()
        {
            int[] squares = new int[10];
            for (int i = 0; i < squares.Length; i++)
                squares[i] = i * i;
            string[] words = new string[3];
            words[1] = "middle";
            object[] objects = { 1, "two", 3.0, null, new Vector2(1, 1) };
            Money[] amounts = { new Money(1), new Money(2) };
            Array.Resize(ref squares, 12);
            int[] copy = (int[])squares.Clone();
            copy[0] = -1;
            Array.Reverse(copy);
            int nulls = 0;
            foreach (string word in words)
                if (word == null)
                    nulls++;
            return Expect.Equal(285, SumOf(squares), "int[] filled in a loop and resized")
                ?? Expect.Equal(12, squares.Length, "resized length")
                ?? Expect.Equal(-1, copy[11], "clone is independent and reversed")
                ?? Expect.Equal(0, squares[0], "original untouched by the clone")
                ?? Expect.Equal(2, nulls, "string[] starts with nulls")
                ?? Expect.Equal("two", (string)objects[1], "object[] holds references and boxes")
                ?? Expect.Equal(1, (int)objects[0], "boxed int in object[]")
                ?? Expect.True(objects[3] == null && objects[4] is Vector2, "null and boxed struct in object[]")
                ?? Expect.Equal(3, amounts[0].Cents + amounts[1].Cents, "struct array");
        }

        private static string ArraysJagged()
        {
            int[][] triangle = new int[6][];
            for (int row = 0; row < triangle.Length; row++)
            {
                triangle[row] = new int[row + 1];
                triangle[row][0] = triangle[row][row] = 1;
                for (int column = 1; column < row; column++)
                    triangle[row][column] = triangle[row - 1][column - 1] + triangle[row - 1][column];
            }
            string[][] grid = { new[] { "a", "b" }, new string[0], new[] { "c" } };
            string flat = "";
            foreach (string[] line in grid)
                foreach (string cell in line)
                    flat += cell;
            return Expect.Equal(10, triangle[5][2], "Pascal's triangle entry")
                ?? Expect.Equal(6, triangle[5].Length, "row length")
                ?? Expect.Equal("abc", flat, "jagged string array")
                ?? Expect.Equal(0, grid[1].Length, "empty row");
        }

        private static string ArraysMultiDimensional()
        {
            int rows = Opaque(3), columns = Opaque(4);
            int[,] table = new int[rows, columns];
            for (int row = 0; row < rows; row++)
                for (int column = 0; column < columns; column++)
                    table[row, column] = row * 10 + column;
            string[,,] cube = new string[2, 2, 2];
            cube[1, 0, 1] = "corner";
            int sum = 0;
            for (int row = 0; row <= table.GetUpperBound(0); row++)
                for (int column = table.GetLowerBound(1); column <= table.GetUpperBound(1); column++)
                    sum += table[row, column];
            return Expect.Equal(23, table[2, 3], "element written and read back")
                ?? Expect.Equal(12, table.Length, "total length")
                ?? Expect.Equal(2, table.Rank, "rank")
                ?? Expect.Equal(4, table.GetLength(1), "length of the second dimension")
                ?? Expect.Equal(3, table.GetUpperBound(0) + 1, "upper bound of the first dimension")
                ?? Expect.Equal(138, sum, "loop over the bounds")
                ?? Expect.Equal("corner", cube[1, 0, 1], "rank-3 array of references")
                ?? Expect.True(cube[0, 1, 1] == null, "unwritten elements are null");
        }

        private static string StringConcatAndEquality()
        {
            string a = Opaque("Ae");
            string b = Opaque("gis");
            string joined = a + b;
            string built = new string(new[] { 'A', 'e', 'g', 'i', 's' });
            string three = a + b + "-" + 10.ToString();
            object boxed = joined;
            return Expect.Equal("Aegis", joined, "concatenation")
                ?? Expect.True(joined == built && !ReferenceEquals(joined, built), "equality by content")
                ?? Expect.True(joined.Equals(boxed) && boxed.Equals(built), "Equals(object)")
                ?? Expect.True(joined != "aegis", "case-sensitive inequality")
                ?? Expect.Equal("Aegis-10", three, "multi-part concatenation")
                ?? Expect.Equal(5, joined.Length, "length")
                ?? Expect.Equal("gis", joined.Substring(2), "Substring")
                ?? Expect.Equal("AEGIS", joined.ToUpperInvariant(), "ToUpperInvariant")
                ?? Expect.Equal(3, joined.IndexOf('i'), "IndexOf")
                ?? Expect.Equal("x,y,z", string.Join(",", "x,y,z".Split(',')), "Split and Join")
                ?? Expect.True(string.IsNullOrEmpty(null) && string.IsNullOrEmpty("") && !string.IsNullOrEmpty(a), "IsNullOrEmpty");
        }

        private static string StringInterpolationHex()
        {
            int value = Opaque(48879);
            uint address = 0xDEADBEEF;
            long negative = -255;
            byte small = 10;
            ulong large = 0xFFFF_0000_1234_5678;
            string text = Opaque("id");
            return Expect.Equal("v=48879", $"v={value}", "decimal")
                ?? Expect.Equal("0xBEEF", $"0x{value:X}", "upper hex")
                ?? Expect.Equal("0000beef", $"{value:x8}", "lower hex, eight digits")
                ?? Expect.Equal("DEADBEEF", $"{address:X}", "uint hex")
                ?? Expect.Equal("FFFFFFFFFFFFFF01", $"{negative:X}", "negative long hex is two's complement")
                ?? Expect.Equal("0A|010", $"{small:X2}|{small:D3}", "byte hex and zero-padded decimal")
                ?? Expect.Equal("FFFF000012345678", $"{large:X16}", "ulong hex")
                ?? Expect.Equal("[id:   7|-255]", $"[{text}:{7,4}|{negative}]", "strings, alignment and negatives")
                ?? Expect.Equal("True/c/Dot", $"{true}/{'c'}/{new Dot().Name.Substring(0, 1).ToUpperInvariant()}{"ot"}", "bool, char and nested calls");
        }

        /// <summary>The kernel's own text reaches the console as UTF-8: the bytes KernelLog's encoder
        /// makes for a line with 2-, 3- and 4-byte characters, then the line itself (the boot test
        /// NonAsciiTextReachesTheSerialConsoleAsUtf8 reads it on the serial port).</summary>
        private static string KernelLogWritesUtf8()
        {
            const string text = "kernel-utf8: héllo, π ≈ 3.14, 日本, 🙂";
            byte[] expected =
            {
                0x6B, 0x65, 0x72, 0x6E, 0x65, 0x6C, 0x2D, 0x75, 0x74, 0x66, 0x38, 0x3A, 0x20, 0x68, 0xC3, 0xA9, 0x6C, 0x6C, 0x6F, 0x2C, 0x20, 0xCF, 0x80,
                0x20, 0xE2, 0x89, 0x88, 0x20, 0x33, 0x2E, 0x31, 0x34, 0x2C, 0x20, 0xE6, 0x97, 0xA5, 0xE6, 0x9C, 0xAC, 0x2C, 0x20, 0xF0, 0x9F, 0x99, 0x82,
            };
            byte* encoded = stackalloc byte[64];
            int count = 0;
            char pending = '\0';
            for (int i = 0; i < text.Length; i++)
                count += Aegis.Kernel.Core.Utf8Text.Encode(text[i], ref pending, new Span<byte>(encoded + count, 8));
            string failure = Expect.Equal(expected.Length, count, "UTF-8 bytes of the line");
            for (int i = 0; failure == null && i < count; i++)
                if (encoded[i] != expected[i]) failure = "byte " + i.ToString() + " is 0x" + encoded[i].ToString("X2") + ", expected 0x" + expected[i].ToString("X2");
            KernelLog.WriteLine(text);
            return failure;
        }

        private static string IntegerToStringEveryType()
        {
            return Expect.Equal("-128|127", sbyte.MinValue.ToString() + "|" + sbyte.MaxValue.ToString(), "sbyte")
                ?? Expect.Equal("0|255", byte.MinValue.ToString() + "|" + byte.MaxValue.ToString(), "byte")
                ?? Expect.Equal("-32768|32767", short.MinValue.ToString() + "|" + short.MaxValue.ToString(), "short")
                ?? Expect.Equal("0|65535", ushort.MinValue.ToString() + "|" + ushort.MaxValue.ToString(), "ushort")
                ?? Expect.Equal("-2147483648|2147483647", int.MinValue.ToString() + "|" + int.MaxValue.ToString(), "int")
                ?? Expect.Equal("0|4294967295", uint.MinValue.ToString() + "|" + uint.MaxValue.ToString(), "uint")
                ?? Expect.Equal("-9223372036854775808|9223372036854775807", long.MinValue.ToString() + "|" + long.MaxValue.ToString(), "long")
                ?? Expect.Equal("0|18446744073709551615", ulong.MinValue.ToString() + "|" + ulong.MaxValue.ToString(), "ulong")
                ?? Expect.Equal("-9223372036854775808|9223372036854775807", nint.MinValue.ToString() + "|" + nint.MaxValue.ToString(), "nint")
                ?? Expect.Equal("0|18446744073709551615", nuint.MinValue.ToString() + "|" + nuint.MaxValue.ToString(), "nuint")
                ?? Expect.Equal("-1|0|12345", ((sbyte)Opaque(-1)).ToString() + "|" + ((ushort)Opaque(0)).ToString() + "|" + ((nuint)Opaque(12345)).ToString(), "run-time values")
                ?? Expect.Equal("80|8000|-80", sbyte.MinValue.ToString("X") + "|" + short.MinValue.ToString("X") + "|" + ((sbyte)-80).ToString(), "hex of negative narrow types");
        }
    }
}
