// ext2smoke: LibOS.Unixish/Storage compiled by ILC and run in ring 3 (Ext2BootTests). It
// mounts a plain ext2 image and an ext3 image made by mke2fs, changes them, "loses power" after
// an fsync (a copy of the disk), replays the journal from that copy and checks the bytes.
// Exit status 0 when every step agreed; the failing step is printed otherwise.
// Argument "disk": the same library on the real disk instead — the extent "rootfs" that
// `./aegis disk create` filled with mke2fs -d (DiskExtent, ExtentBlockStore: DMA through the
// kernel's block requests). It prints the hash of /etc/hostname, writes /aegis-wrote.txt and
// makes /made-by-aegis, fsyncs and unmounts; the boot test judges with e2fsck and debugfs.
// Argument "churnK" (K a number): a write-heavy workload on that disk until the host cuts the
// power — files /churn/kK-NNNN of varying sizes, each written and fsynced, "ext2smoke: fsynced
// NAME SIZE" printed after each fsync returned (PowerCutTests checks every one of them).
using Aegis.LibOS;
using Aegis.LibOS.Unixish.Storage;

namespace Aegis.Tests.Apps.Ext2Smoke
{
    internal static class Program
    {
        static byte[] Expand(int length, int[] offsets, byte[][] chunks)
        {
            var bytes = new byte[length];
            for (int c = 0; c < offsets.Length; c++) System.Array.Copy(chunks[c], 0, bytes, offsets[c], chunks[c].Length);
            return bytes;
        }

        static int Fail(string step, int result, Ext2FileSystem fs)
        {
            Console.WriteLine("ext2smoke: FAILED at " + step + ": " + result + " " + (fs == null ? "" : fs.LastError));
            return 1;
        }

        static byte[] Pattern(int length)
        {
            var data = new byte[length];
            for (int i = 0; i < length; i++) data[i] = (byte)(i * 7 + i / 1000);
            return data;
        }

        static bool Same(byte[] a, byte[] b)
        {
            if (a.Length != b.Length) return false;
            for (int i = 0; i < a.Length; i++) if (a[i] != b[i]) return false;
            return true;
        }

        static int PlainExt2()
        {
            byte[] disk = Expand(Ext2Image.Length, Ext2Image.Offsets, Ext2Image.Chunks);
            var fs = Ext2FileSystem.Mount(new MemoryBlockStore(disk), new Ext2MountOptions { CacheBlocks = 128 });
            int r = fs.Create(Ext2FileSystem.RootInode, "hello", 0x1A4, 0, 0, out uint hello);
            if (r != 0) return Fail("ext2 create", r, fs);
            byte[] text = Pattern(5000);
            r = fs.Write(hello, 0, text, 0, text.Length);
            if (r != text.Length) return Fail("ext2 write", r, fs);
            r = fs.Unmount();
            if (r != 0) return Fail("ext2 unmount", r, fs);
            var again = Ext2FileSystem.Mount(new MemoryBlockStore(disk), new Ext2MountOptions { ReadOnly = true });
            r = again.Lookup(Ext2FileSystem.RootInode, "hello", out uint found);
            if (r != 0) return Fail("ext2 lookup", r, again);
            var back = new byte[text.Length];
            r = again.Read(found, 0, back, 0, back.Length);
            if (r != text.Length || !Same(back, text)) return Fail("ext2 read back", r, again);
            return 0;
        }

        static int Ext3WithReplay(out int replayed, out long hits)
        {
            replayed = 0; hits = 0;
            byte[] disk = Expand(Ext3Image.Length, Ext3Image.Offsets, Ext3Image.Chunks);
            long clock = 1700000000;
            var fs = Ext2FileSystem.Mount(new MemoryBlockStore(disk), new Ext2MountOptions { Clock = () => clock++, CacheBlocks = 256 });
            int r = fs.MakeDirectory(Ext2FileSystem.RootInode, "dir", 0x1ED, 0, 0, out uint dir);
            if (r != 0) return Fail("mkdir", r, fs);
            r = fs.Create(dir, "file", 0x1A4, 0, 0, out uint file);
            if (r != 0) return Fail("create", r, fs);
            byte[] data = Pattern(300000);
            r = fs.Write(file, 0, data, 0, data.Length);
            if (r != data.Length) return Fail("write", r, fs);
            r = fs.Symlink(dir, "link", "file", 0, 0, out _);
            if (r != 0) return Fail("symlink", r, fs);
            r = fs.FsyncFile(file);
            if (r != 0) return Fail("fsync", r, fs);
            var crashed = new byte[disk.Length];
            System.Array.Copy(disk, crashed, disk.Length); // the disk as a power cut after the fsync leaves it
            r = fs.Rename(dir, "file", Ext2FileSystem.RootInode, "moved");
            if (r != 0) return Fail("rename", r, fs);
            r = fs.Unmount();
            if (r != 0) return Fail("unmount", r, fs);
            hits = fs.Cache.Hits;

            var recovered = Ext2FileSystem.Mount(new MemoryBlockStore(crashed), new Ext2MountOptions { ReadOnly = true });
            replayed = recovered.ReplayedTransactions;
            if (replayed == 0) return Fail("replay (nothing replayed)", 0, recovered);
            r = recovered.Lookup(dir, "file", out uint again);
            if (r != 0) return Fail("lookup after replay", r, recovered);
            var back = new byte[data.Length];
            r = recovered.Read(again, 0, back, 0, back.Length);
            if (r != data.Length || !Same(back, data)) return Fail("read after replay", r, recovered);

            var clean = Ext2FileSystem.Mount(new MemoryBlockStore(disk), new Ext2MountOptions { ReadOnly = true });
            r = clean.Lookup(Ext2FileSystem.RootInode, "moved", out uint moved);
            if (r != 0) return Fail("lookup after unmount", r, clean);
            r = clean.Lookup(dir, "link", out uint link);
            if (r != 0) return Fail("lookup link", r, clean);
            r = clean.ReadLink(link, out string target);
            if (r != 0 || target != "file") return Fail("readlink", r, clean);
            return 0;
        }

        /// <summary>The text /aegis-wrote.txt holds (two 4 KiB blocks and a bit).</summary>
        static byte[] WrittenText()
        {
            string line = "written by Aegis through ext3 on a disk extent\n";
            var text = new byte[line.Length * 200];
            for (int i = 0; i < text.Length; i++) text[i] = (byte)line[i % line.Length];
            return text;
        }

        static int OnTheDisk()
        {
            Aegis.Abi.Error error = DiskExtent.Open("rootfs", out DiskExtent extent);
            if (error != Aegis.Abi.Error.None) { Console.WriteLine("ext2smoke: FAILED: the extent rootfs: " + Errors.Name(error)); return 1; }
            var store = new Aegis.LibOS.Unixish.Disk.ExtentBlockStore(extent);
            var fs = Ext2FileSystem.Mount(store, new Ext2MountOptions { CacheBlocks = 512 });
            int r = fs.Lookup(Ext2FileSystem.RootInode, "etc", out uint etc);
            if (r != 0) return Fail("lookup /etc", r, fs);
            r = fs.Lookup(etc, "hostname", out uint hostname);
            if (r != 0) return Fail("lookup /etc/hostname", r, fs);
            var bytes = new byte[4096];
            int length = fs.Read(hostname, 0, bytes, 0, bytes.Length);
            if (length < 0) return Fail("read /etc/hostname", length, fs);
            ulong hash = 0xCBF29CE484222325;
            for (int i = 0; i < length; i++) hash = (hash ^ bytes[i]) * 0x100000001B3;
            Console.WriteLine("ext2smoke: disk /etc/hostname " + length.ToString() + " bytes hash " + hash.ToString("x16"));
            r = fs.Create(Ext2FileSystem.RootInode, "aegis-wrote.txt", 0x1A4, 0, 0, out uint wrote);
            if (r != 0) return Fail("create /aegis-wrote.txt", r, fs);
            byte[] text = WrittenText();
            r = fs.Write(wrote, 0, text, 0, text.Length);
            if (r != text.Length) return Fail("write /aegis-wrote.txt", r, fs);
            r = fs.FsyncFile(wrote);
            if (r != 0) return Fail("fsync", r, fs);
            r = fs.MakeDirectory(Ext2FileSystem.RootInode, "made-by-aegis", 0x1ED, 0, 0, out _);
            if (r != 0) return Fail("mkdir /made-by-aegis", r, fs);
            r = fs.Unmount();
            if (r != 0) return Fail("unmount", r, fs);
            Console.WriteLine("ext2smoke: disk ok (journal replayed " + fs.ReplayedTransactions.ToString() + ", " + store.Reads.ToString() + " reads, "
                + store.Writes.ToString() + " writes, cache hits " + fs.Cache.Hits.ToString() + ")");
            return 0;
        }

        /// <summary>Byte j of churn file i of boot k.</summary>
        static byte ChurnByte(int k, int i, int j) => (byte)(i * 31 + j * 7 + k);

        static int Churn(int k)
        {
            Aegis.Abi.Error error = DiskExtent.Open("rootfs", out DiskExtent extent);
            if (error != Aegis.Abi.Error.None) { Console.WriteLine("ext2smoke: FAILED: the extent rootfs: " + Errors.Name(error)); return 1; }
            var fs = Ext2FileSystem.Mount(new Aegis.LibOS.Unixish.Disk.ExtentBlockStore(extent), new Ext2MountOptions { CacheBlocks = 512 });
            Console.WriteLine("ext2smoke: churn " + k.ToString() + " mounted (journal replayed " + fs.ReplayedTransactions.ToString() + ")");
            int r = fs.Lookup(Ext2FileSystem.RootInode, "churn", out uint churn);
            if (r != 0) r = fs.MakeDirectory(Ext2FileSystem.RootInode, "churn", 0x1ED, 0, 0, out churn);
            if (r != 0) return Fail("mkdir /churn", r, fs);
            var data = new byte[21000];
            for (int i = 0; i < 400; i++)
            {
                string name = "k" + k.ToString() + "-" + i.ToString("D4");
                int size = 1000 + (i * 7919) % 20000;
                for (int j = 0; j < size; j++) data[j] = ChurnByte(k, i, j);
                r = fs.Create(churn, name, 0x1A4, 0, 0, out uint file);
                if (r != 0) return Fail("create " + name, r, fs);
                r = fs.Write(file, 0, data, 0, size);
                if (r != size) return Fail("write " + name, r, fs);
                r = fs.FsyncFile(file);
                if (r != 0) return Fail("fsync " + name, r, fs);
                Console.WriteLine("ext2smoke: fsynced " + name + " " + size.ToString());
            }
            r = fs.Unmount();
            if (r != 0) return Fail("unmount", r, fs);
            Console.WriteLine("ext2smoke: churn done");
            return 0;
        }

        private static int Main()
        {
            try
            {
                if (Info.Argument == "disk") return OnTheDisk();
                if (Info.Argument.StartsWith("churn") && int.TryParse(Info.Argument.Substring(5), out int k)) return Churn(k);
                int status = PlainExt2();
                if (status != 0) return status;
                status = Ext3WithReplay(out int replayed, out long hits);
                if (status != 0) return status;
                Console.WriteLine("ext2smoke: ok (ext2 written and read back; ext3 journal replayed " + replayed + " transaction(s); cache hits " + hits + ")");
                return 0;
            }
            catch (StorageException e)
            {
                Console.WriteLine("ext2smoke: FAILED: mount refused: " + e.Message);
                return 2;
            }
        }
    }
}
