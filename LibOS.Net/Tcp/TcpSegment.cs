namespace Aegis.LibOS.Net
{
    /// <summary>A received TCP header, parsed (RFC 9293 section 3.1) with the options this stack
    /// understands: MSS (RFC 9293 3.7.1) and window scale (RFC 7323 2). Other options (SACK
    /// permitted, timestamps, unknown kinds) are skipped by their length.</summary>
    public struct TcpSegment
    {
        public const byte Fin = 0x01, Syn = 0x02, Rst = 0x04, Psh = 0x08, Ack = 0x10, Urg = 0x20;
        public const int HeaderSize = 20;

        public ushort SourcePort;
        public ushort DestinationPort;
        public uint Seq;
        public uint AckNumber;
        public byte Flags;
        public ushort Window;
        public int HeaderLength;
        public int DataLength;
        /// <summary>The peer's MSS option, or -1.</summary>
        public int Mss;
        /// <summary>The peer's window-scale shift, or -1.</summary>
        public int WindowScale;

        public bool HasSyn => (Flags & Syn) != 0;
        public bool HasFin => (Flags & Fin) != 0;
        public bool HasRst => (Flags & Rst) != 0;
        public bool HasAck => (Flags & Ack) != 0;

        /// <summary>SEG.LEN: data plus one for SYN and one for FIN.</summary>
        public int SeqLength => DataLength + (HasSyn ? 1 : 0) + (HasFin ? 1 : 0);

        /// <summary>Parses a header; false for anything malformed (short, bad data offset, an
        /// option running past the header). Never throws.</summary>
        public static bool TryParse(System.ReadOnlySpan<byte> p, out TcpSegment s)
        {
            s = default;
            s.Mss = -1;
            s.WindowScale = -1;
            if (p.Length < HeaderSize) return false;
            int hl = (p[12] >> 4) * 4;
            if (hl < HeaderSize || hl > p.Length) return false;
            s.SourcePort = Wire.U16(p, 0);
            s.DestinationPort = Wire.U16(p, 2);
            s.Seq = Wire.U32(p, 4);
            s.AckNumber = Wire.U32(p, 8);
            s.Flags = p[13];
            s.Window = Wire.U16(p, 14);
            s.HeaderLength = hl;
            s.DataLength = p.Length - hl;
            int i = HeaderSize;
            while (i < hl)
            {
                byte kind = p[i];
                if (kind == 0) break;               // end of option list
                if (kind == 1) { i++; continue; }   // no-operation
                if (i + 1 >= hl) return false;
                int len = p[i + 1];
                if (len < 2 || i + len > hl) return false;
                if (kind == 2)
                {
                    if (len != 4) return false;
                    s.Mss = Wire.U16(p, i + 2);
                }
                else if (kind == 3)
                {
                    if (len != 3) return false;
                    s.WindowScale = p[i + 2];
                }
                i += len;
            }
            return true;
        }

        /// <summary>Writes a header at b[0..]: with <paramref name="mss"/> >= 0 the MSS option,
        /// with <paramref name="windowScale"/> >= 0 a NOP and the window-scale option. Returns the
        /// header's length. The checksum field is left zero.</summary>
        public static int Write(System.Span<byte> b, int sourcePort, int destinationPort, uint seq, uint ack,
            byte flags, int window, int mss, int windowScale)
        {
            int hl = HeaderSize + (mss >= 0 ? 4 : 0) + (windowScale >= 0 ? 4 : 0);
            Wire.Put16(b, 0, sourcePort);
            Wire.Put16(b, 2, destinationPort);
            Wire.Put32(b, 4, seq);
            Wire.Put32(b, 8, ack);
            b[12] = (byte)((hl / 4) << 4);
            b[13] = flags;
            Wire.Put16(b, 14, window);
            b[16] = 0;
            b[17] = 0;
            b[18] = 0;
            b[19] = 0;
            int i = HeaderSize;
            if (mss >= 0)
            {
                b[i] = 2;
                b[i + 1] = 4;
                Wire.Put16(b, i + 2, mss);
                i += 4;
            }
            if (windowScale >= 0)
            {
                b[i] = 1;
                b[i + 1] = 3;
                b[i + 2] = 3;
                b[i + 3] = (byte)windowScale;
            }
            return hl;
        }

        /// <summary>Fills the checksum of a whole segment (header + data) in place.</summary>
        public static void SetChecksum(System.Span<byte> segment, Ipv4Address source, Ipv4Address destination)
        {
            segment[16] = 0;
            segment[17] = 0;
            uint sum = Checksum.PseudoHeader(source, destination, 6, segment.Length);
            Wire.Put16(segment, 16, Checksum.Finish(Checksum.Add(sum, segment)));
        }

        /// <summary>True when a received segment's checksum verifies.</summary>
        public static bool ChecksumValid(System.ReadOnlySpan<byte> segment, Ipv4Address source, Ipv4Address destination)
        {
            uint sum = Checksum.PseudoHeader(source, destination, 6, segment.Length);
            return Checksum.Finish(Checksum.Add(sum, segment)) == 0;
        }
    }
}
