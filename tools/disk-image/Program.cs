// disk-image: Aegis disk images on the host (docs/disks.md).
//   create IMAGE SIZE_MIB [NAME:MIB | NAME:rest]...   a new image: an MBR whose partitions are the
//            first four extents (type 0x83), both copies of the extent table, the extents in order
//            from sector 2048; "rest" takes what is left. Prints each extent's "NAME START SECTORS".
//   list IMAGE      the extents of the newer valid table copy ("NAME START SECTORS" a line), or why
//            there is none (exit 1).
//   offset IMAGE NAME   the byte offset of the named extent (for mke2fs -E offset=, e2fsck IMAGE?offset=).
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Aegis.Abi;
using Aegis.Kernel.Core;
using Aegis.Kernel.Core.Block;

internal static class Program
{
    private static int Main(string[] args)
    {
        try
        {
            if (args.Length >= 3 && args[0] == "create") return Create(args[1], long.Parse(args[2]), args[3..]);
            if (args.Length == 2 && args[0] == "list") return List(args[1]);
            if (args.Length == 3 && args[0] == "offset") return Offset(args[1], args[2]);
        }
        catch (Exception e) when (e is IOException || e is FormatException || e is ArgumentException || e is UnauthorizedAccessException)
        {
            Console.Error.WriteLine("disk-image: " + e.Message);
            return 1;
        }
        Console.Error.WriteLine("usage: disk-image create IMAGE SIZE_MIB [NAME:MIB|NAME:rest]... | list IMAGE | offset IMAGE NAME");
        return 2;
    }

    private static int Create(string path, long mebibytes, string[] extents)
    {
        if (mebibytes < 2) throw new ArgumentException("the disk needs at least 2 MiB (1 MiB is the table's)");
        ulong sectors = (ulong)mebibytes * 2048;
        var table = new ExtentTable();
        table.Format(sectors);
        foreach (string spec in extents)
        {
            int colon = spec.LastIndexOf(':');
            if (colon <= 0) throw new ArgumentException("an extent is NAME:MIB or NAME:rest, not '" + spec + "'");
            byte[] name = Encoding.UTF8.GetBytes(spec[..colon]);
            string size = spec[(colon + 1)..];
            ulong want = size == "rest" ? table.FreeSectors : ulong.Parse(size) * 2048;
            Error error = table.Allocate(want, name, out _);
            if (error != Error.None) throw new ArgumentException("extent '" + spec + "': " + error + (error == Error.NoMemory ? " (it does not fit)" : ""));
        }
        using var file = new FileStream(path, FileMode.Create, FileAccess.ReadWrite);
        file.SetLength((long)sectors * BlockLimits.SectorSize);
        byte[] mbr = new byte[512];
        int entry = 0;
        for (int i = 0; i < ExtentTable.Records && entry < 4; i++)
        {
            if (!table.IsInUse(i)) continue;
            int at = 446 + 16 * entry++;
            mbr[at + 4] = 0x83; // Linux
            LittleEndian.WriteUInt32(mbr, at + 8, (uint)table.StartOf(i));
            LittleEndian.WriteUInt32(mbr, at + 12, (uint)Math.Min(table.SectorsOf(i), uint.MaxValue));
            mbr[at + 1] = 0xFE; mbr[at + 2] = 0xFF; mbr[at + 3] = 0xFF; // CHS: past the limit (LBA only)
            mbr[at + 5] = 0xFE; mbr[at + 6] = 0xFF; mbr[at + 7] = 0xFF;
        }
        // Not a boot disk: its boot code asks the firmware for the next boot device (int 0x18).
        mbr[0] = 0xCD; mbr[1] = 0x18; mbr[2] = 0xF4; mbr[3] = 0xEB; mbr[4] = 0xFD; // int 0x18; hlt; jmp hlt
        mbr[510] = 0x55; mbr[511] = 0xAA;
        file.Write(mbr);
        byte[] copy = new byte[ExtentTable.CopyBytes];
        for (int round = 0; round < 2; round++) // both copies valid (sequences 1 and 2)
        {
            int which = table.WriteNext(copy);
            file.Position = (long)(which == 0 ? BlockLimits.TableCopyA : BlockLimits.TableCopyB) * BlockLimits.SectorSize;
            file.Write(copy);
            table.Commit();
        }
        Print(table);
        return 0;
    }

    private static ExtentTable Load(string path, out string problem)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read);
        ulong sectors = (ulong)file.Length / BlockLimits.SectorSize;
        byte[] a = new byte[ExtentTable.CopyBytes], b = new byte[ExtentTable.CopyBytes];
        file.Position = (long)BlockLimits.TableCopyA * BlockLimits.SectorSize;
        file.ReadExactly(a);
        file.Position = (long)BlockLimits.TableCopyB * BlockLimits.SectorSize;
        file.ReadExactly(b);
        var table = new ExtentTable();
        return table.TryLoad(a, b, sectors, out problem) ? table : null;
    }

    private static int List(string path)
    {
        ExtentTable table = Load(path, out string problem);
        if (table == null) { Console.Error.WriteLine("disk-image: " + path + ": " + problem); return 1; }
        Print(table);
        return 0;
    }

    private static int Offset(string path, string name)
    {
        ExtentTable table = Load(path, out string problem);
        if (table == null) { Console.Error.WriteLine("disk-image: " + path + ": " + problem); return 1; }
        int index = table.Find(Encoding.UTF8.GetBytes(name));
        if (index < 0) { Console.Error.WriteLine("disk-image: " + path + ": no extent '" + name + "'"); return 1; }
        Console.WriteLine(table.StartOf(index) * BlockLimits.SectorSize);
        return 0;
    }

    private static void Print(ExtentTable table)
    {
        for (int i = 0; i < ExtentTable.Records; i++)
            if (table.IsInUse(i))
                Console.WriteLine(Encoding.UTF8.GetString(table.NameOf(i)) + " " + table.StartOf(i) + " " + table.SectorsOf(i));
    }
}
