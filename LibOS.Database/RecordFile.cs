// RecordFile: fixed-size records (a key, a value and a payload) packed into blocks, read and
// written in place in the buffer pool's pages (direct page access: no copy between the pool and
// the caller). Records are numbered in insertion order; record n lives in block
// n / RecordsPerBlock at slot n % RecordsPerBlock.
using System;
using System.Runtime.InteropServices;

namespace Aegis.LibOS.Database
{
    public sealed unsafe class RecordFile
    {
        [StructLayout(LayoutKind.Sequential)]
        private struct Record
        {
            public ulong Key;
            public ulong Value;
            public fixed byte Payload[48];
        }

        public static readonly int RecordSize = sizeof(Record);
        public static readonly int RecordsPerBlock = BlockStore.BlockSize / sizeof(Record);

        private readonly BufferPool _pool;
        private readonly ulong _capacity;

        /// <summary>A record file over blockCount blocks holding 'existing' records already (0: a new one).</summary>
        public RecordFile(BufferPool pool, int blockCount, ulong existing = 0)
        {
            _pool = pool ?? throw new ArgumentNullException(nameof(pool));
            _capacity = (ulong)blockCount * (ulong)RecordsPerBlock;
            if (existing > _capacity) throw new ArgumentOutOfRangeException(nameof(existing));
            Count = existing;
        }

        public ulong Count { get; private set; }

        /// <summary>Appends a record; its number.</summary>
        public ulong Append(ulong key, ulong value)
        {
            if (Count == _capacity)
                throw new InvalidOperationException("the record file is full");
            ulong number = Count++;
            Record* record = Locate(number);
            record->Key = key;
            record->Value = value;
            for (int i = 0; i < 48; i++)
                record->Payload[i] = (byte)(key + (ulong)i);
            return number;
        }

        /// <summary>Reads record 'number' in place.</summary>
        public bool TryRead(ulong number, out ulong key, out ulong value)
        {
            key = value = 0;
            if (number >= Count)
                return false;
            Record* record = Locate(number);
            key = record->Key;
            value = record->Value;
            for (int i = 0; i < 48; i++)
                if (record->Payload[i] != (byte)(key + (ulong)i))
                    return false;
            return true;
        }

        private Record* Locate(ulong number)
        {
            byte* page = _pool.Fetch(number / (ulong)RecordsPerBlock);
            return (Record*)page + (int)(number % (ulong)RecordsPerBlock);
        }
    }
}
