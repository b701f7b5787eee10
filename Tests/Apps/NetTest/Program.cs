// nettest: the network multiplexer from ring 3 (issue #12; docs/abi.md "Networks"). It prints
// what it did; the boot tests (Aegis.Tests/Boot/NetworkTests.cs) judge from the host, which sends
// datagrams through QEMU's user network (--forward udp:H:G) and checks what comes back.
//   echo PORT COUNT [stall:PORT2]  (commas between the words on the kernel command line) answers ARP for 10.0.2.15 and echoes COUNT UDP datagrams sent
//          to PORT (each back to its sender, payload unchanged), then ends: "nettest: echoed N".
//          With stall:PORT2 it first starts a child that binds PORT2 with a 2-slot ring and never
//          reads it (the host floods PORT2: only the child's frames may be lost).
//   stall PORT  (the child) binds PORT, reads nothing for 10 s, prints its counters, ends.
//   bad    every refusal: bad rings, malformed filters, frames that may not be sent, restricted
//          capabilities, segmented sends that break the rules (and one that may go: Segmented).
//          "nettest: bad WHAT RESULT" each.
//   overlap  a child binds a port; the same filter from the parent is refused naming the child;
//          after the child's end it is accepted.
//   hold PORT  (the child) binds PORT and waits.
//   delegate PORT  binds PORT, starts a child (take) and gives it the datagrams to PORT whose first
//          byte is 'd' (NicFilterDelegate), after the refusals ("nettest: delegate WHAT RESULT");
//          both echo what they get with the first byte replaced: 'c' by the child, 'p' by the
//          parent. "revoke" makes the parent take the filter back (NicFilterRemove); "quit" ends it.
//   take   (the child) attaches a ring, installs nothing and echoes what comes, tagged 'c'.
using System;
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.NetTest
{
    internal static unsafe class Program
    {
        private const ulong RingAt = 0x60000000;   // header page + buffers
        private const ulong SendAt = 0x60100000;   // 16 send buffers of 2 KiB (8 pages)
        private const ulong ScratchAt = 0x60200000; // requests, atoms, info
        private const int SendBuffers = 16;
        private const uint GuestAddress = 0x0A00020F; // 10.0.2.15
        private const ulong Nic = CapabilitySlots.Nic;

        private static ulong s_mac;
        private static uint s_sendsQueued;

        private static int Main()
        {
            string[] words = Info.Argument.Replace(',', ' ').Split(' '); // commas on the kernel's command line
            switch (words[0])
            {
                case "echo": return Echo(ushort.Parse(words[1]), words.Length > 2 ? words[2] : null);
                case "stall": return Stall(ushort.Parse(words[1]));
                case "hold": return Hold(ushort.Parse(words[1]));
                case "bad": return Bad();
                case "overlap": return Overlap();
                case "delegate": return Delegate(ushort.Parse(words[1]));
                case "take": return Take();
                default:
                    Console.WriteLine("nettest: unknown mode '" + Info.Argument + "' (echo, stall, hold, bad, overlap)");
                    return 2;
            }
        }

        // ---- set-up

        private static bool Setup(uint slots)
        {
            NicInfo* info = (NicInfo*)ScratchAt;
            if (SystemCalls.PageAllocate(RingAt, 1 + slots * NicLimits.SlotBytes / 4096, PageBits.Writable).IsError
                || SystemCalls.PageAllocate(SendAt, SendBuffers * NicLimits.SlotBytes / 4096, PageBits.Writable).IsError
                || SystemCalls.PageAllocate(ScratchAt, 1, PageBits.Writable).IsError)
            {
                Console.WriteLine("nettest: FAIL: no memory");
                return false;
            }
            Error error = SystemCalls.NicInfo(Nic, info);
            if (error != Error.None) { Console.WriteLine("nettest: FAIL: NicInfo " + Errors.Name(error)); return false; }
            s_mac = info->MacAddress;
            error = SystemCalls.NicAttach(Nic, RingAt, slots);
            if (error != Error.None) { Console.WriteLine("nettest: FAIL: NicAttach " + Errors.Name(error)); return false; }
            return true;
        }

        private static FilterAtom Atom(FilterBase b, int width, int offset, uint value)
            => new FilterAtom { Base = (byte)b, Width = (byte)width, Offset = (ushort)offset, Mask = width == 4 ? 0xFFFFFFFF : width == 2 ? 0xFFFFu : 0xFFu, Value = value };

        private static SystemCallResult InstallUdpPort(ulong slot, ushort port, out ulong conflicting)
        {
            FilterAtom* atoms = (FilterAtom*)(ScratchAt + 1024);
            atoms[0] = Atom(FilterBase.Frame, 2, 12, 0x0800);
            atoms[1] = Atom(FilterBase.Frame, 1, 23, 17);
            atoms[2] = Atom(FilterBase.Transport, 2, 2, port);
            return SystemCalls.NicFilterInstall(slot, atoms, 3, out conflicting);
        }

        private static SystemCallResult InstallArp(ulong slot)
        {
            FilterAtom* atoms = (FilterAtom*)(ScratchAt + 1024);
            atoms[0] = Atom(FilterBase.Frame, 2, 12, 0x0806);
            atoms[1] = Atom(FilterBase.Frame, 4, 38, GuestAddress);
            return SystemCalls.NicFilterInstall(slot, atoms, 2, out _);
        }

        // ---- echo

        private static int Echo(ushort port, string stall)
        {
            if (!Setup(16)) return 1;
            ulong staller = 0;
            if (stall != null && stall.StartsWith("stall:"))
            {
                SystemCallResult child = SystemCalls.ImageSpawn("nettest", "stall " + stall.Substring(6));
                if (child.IsError || SystemCalls.CapabilityCopy(Nic, child.Value).IsError
                    || SystemCalls.CapabilityCopy(CapabilitySlots.Console, child.Value).IsError
                    || SystemCalls.EnvironmentStart(child.Value, 0, 0, 0) != Error.None)
                {
                    Console.WriteLine("nettest: FAIL: cannot start the staller");
                    return 1;
                }
                staller = child.Value;
            }
            SystemCallResult arp = InstallArp(Nic);
            SystemCallResult udp = InstallUdpPort(Nic, port, out _);
            if (arp.IsError || udp.IsError)
            {
                Console.WriteLine("nettest: FAIL: filters: ARP " + arp.ToString() + ", UDP " + udp.ToString());
                return 1;
            }
            Console.WriteLine("nettest: echo on UDP port " + port.ToString() + " (filters " + arp.Value.ToString() + ", " + udp.Value.ToString() + ")");
            int echoed = 0, arps = 0;
            bool quit = ServeRing(Time.DeadlineAfter(100_000_000), (frame, length) =>
            {
                if (IsArpRequestForUs(frame, length)) { if (AnswerArp(frame)) arps++; }
                else if (EchoUdp(frame, length, port, out bool last))
                {
                    echoed++;
                    return last;
                }
                return false;
            });
            EnvironmentPage* page = Info.OwnPage;
            Console.WriteLine("nettest: echoed " + echoed.ToString() + " datagrams, answered " + arps.ToString() + " ARP requests; delivered "
                + page->NetDelivered.ToString() + ", dropped " + page->NetDropped.ToString() + ", sent " + page->NetSent.ToString());
            // The staller reports its own counts at its end; an ending init would take it along.
            for (int i = 0; staller != 0 && i < 300 && SystemCalls.EnvironmentStatus(staller).Value <= (ulong)EnvironmentState.Blocked; i++)
                SystemCalls.WaitUntil(Time.DeadlineAfter(100_000));
            return quit ? 0 : 1;
        }

        private delegate bool FrameVisitor(byte* frame, int length);

        /// <summary>Shows visit every frame the ring gets, in order, until visit answers true (then
        /// true) or the deadline passes (false).</summary>
        private static bool ServeRing(ulong deadline, FrameVisitor visit)
        {
            NicRingHeader* ring = (NicRingHeader*)RingAt;
            bool stop = false;
            while (!stop && Time.Timestamp < deadline)
            {
                uint produced = ring->Produced;
                if (ring->Consumed == produced)
                {
                    SystemCalls.WaitUntil(Time.DeadlineAfter(200_000));
                    continue;
                }
                for (uint n = ring->Consumed; n != produced; n++)
                {
                    uint slot = n & (ring->Slots - 1);
                    stop |= visit((byte*)(RingAt + 4096 + slot * NicLimits.SlotBytes), NicRingHeader.Lengths(ring)[slot]);
                }
                ring->Consumed = produced;
            }
            return stop;
        }

        private static bool IsArpRequestForUs(byte* f, int length)
            => length >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[20] == 0 && f[21] == 1 && ReadIp(f + 38) == GuestAddress;

        private static bool AnswerArp(byte* request)
        {
            byte* f = NextSendBuffer();
            if (f == null) return false;
            for (int i = 0; i < 6; i++) { f[i] = request[6 + i]; f[6 + i] = (byte)(s_mac >> (8 * i)); }
            f[12] = 0x08; f[13] = 0x06; f[14] = 0; f[15] = 1; f[16] = 0x08; f[17] = 0; f[18] = 6; f[19] = 4;
            f[20] = 0; f[21] = 2;
            for (int i = 0; i < 6; i++) f[22 + i] = (byte)(s_mac >> (8 * i));
            WriteIp(f + 28, GuestAddress);
            for (int i = 0; i < 10; i++) f[32 + i] = request[22 + i]; // the asker's MAC and IP
            return Send(f, 42);
        }

        /// <summary>An IPv4 UDP datagram to 'port': the same bytes back, addresses and ports swapped.</summary>
        private static bool EchoUdp(byte* d, int length, ushort port, out bool quit) => EchoUdp(d, length, port, 0, out quit);

        /// <summary>EchoUdp with the answer's first payload byte replaced by tag (0: unchanged).</summary>
        private static bool EchoUdp(byte* d, int length, ushort port, byte tag, out bool quit)
        {
            quit = false;
            if (length < 42 || d[12] != 0x08 || d[13] != 0 || (d[14] >> 4) != 4 || d[23] != 17) return false;
            int ihl = (d[14] & 15) * 4;
            int total = d[16] << 8 | d[17];
            if (ihl < 20 || total < ihl + 8 || 14 + total > length) return false;
            byte* u = d + 14 + ihl;
            if (port != 0 && (u[2] << 8 | u[3]) != port) return false; // 0: any port
            int udpLength = u[4] << 8 | u[5];
            quit = udpLength == 12 && u[8] == (byte)'q' && u[9] == (byte)'u' && u[10] == (byte)'i' && u[11] == (byte)'t';
            byte* f = NextSendBuffer();
            if (f == null) return false;
            Buffer.MemoryCopy(d, f, NicLimits.SlotBytes, 14 + total);
            for (int i = 0; i < 6; i++) { f[i] = d[6 + i]; f[6 + i] = (byte)(s_mac >> (8 * i)); }
            for (int i = 0; i < 4; i++) { f[26 + i] = d[30 + i]; f[30 + i] = d[26 + i]; }
            f[22] = 64; // TTL
            f[24] = 0; f[25] = 0;
            uint sum = 0;
            for (int i = 0; i < ihl; i += 2) sum += (uint)(f[14 + i] << 8 | f[15 + i]);
            while (sum >> 16 != 0) sum = (sum & 0xFFFF) + (sum >> 16);
            sum = ~sum & 0xFFFF;
            f[24] = (byte)(sum >> 8); f[25] = (byte)sum;
            byte* fu = f + 14 + ihl;
            fu[0] = u[2]; fu[1] = u[3]; fu[2] = u[0]; fu[3] = u[1];
            fu[6] = 0; fu[7] = 0; // no UDP checksum (allowed over IPv4)
            if (tag != 0 && udpLength > 8) fu[8] = tag;
            return Send(f, 14 + total);
        }

        private static byte* NextSendBuffer()
        {
            NicRingHeader* ring = (NicRingHeader*)RingAt;
            ulong deadline = Time.DeadlineAfter(1_000_000);
            while (s_sendsQueued - ring->SendsDone >= SendBuffers)
            {
                if (Time.Timestamp > deadline) { Console.WriteLine("nettest: FAIL: sends never finished"); return null; }
                SystemCalls.Yield();
            }
            return (byte*)(SendAt + (s_sendsQueued % SendBuffers) * NicLimits.SlotBytes);
        }

        private static bool Send(byte* frame, int length)
        {
            NicSendRequest* request = (NicSendRequest*)(ScratchAt + 2048);
            request->Frame = (ulong)frame;
            request->Length = (ulong)length;
            SystemCallResult result = SystemCalls.NicSend(Nic, request, 1);
            for (int tries = 0; result.Error == Error.WouldBlock && tries < 1000; tries++)
            {
                SystemCalls.Yield();
                result = SystemCalls.NicSend(Nic, request, 1);
            }
            if (result.IsError) { Console.WriteLine("nettest: FAIL: NicSend " + result.ToString()); return false; }
            s_sendsQueued++;
            return true;
        }

        private static uint ReadIp(byte* at) => (uint)at[0] << 24 | (uint)at[1] << 16 | (uint)at[2] << 8 | at[3];

        private static void WriteIp(byte* at, uint a)
        {
            at[0] = (byte)(a >> 24); at[1] = (byte)(a >> 16); at[2] = (byte)(a >> 8); at[3] = (byte)a;
        }

        // ---- a child that binds a port and does not read

        private static int Stall(ushort port)
        {
            if (!Setup(2)) return 1;
            SystemCallResult udp = InstallUdpPort(Nic, port, out _);
            if (udp.IsError) { Console.WriteLine("nettest: FAIL: stall filter " + udp.ToString()); return 1; }
            Console.WriteLine("nettest: stalling on UDP port " + port.ToString());
            ulong deadline = Time.DeadlineAfter(10_000_000);
            while (Time.Timestamp < deadline) SystemCalls.WaitUntil(deadline);
            NicRingHeader* ring = (NicRingHeader*)RingAt;
            Console.WriteLine("nettest: staller: delivered " + Info.OwnPage->NetDelivered.ToString() + ", dropped "
                + Info.OwnPage->NetDropped.ToString() + " (ring: produced " + ring->Produced.ToString() + ", dropped " + ring->Dropped.ToString() + ")");
            return 0;
        }

        private static int Hold(ushort port)
        {
            if (!Setup(2)) return 1;
            SystemCallResult udp = InstallUdpPort(Nic, port, out _);
            Console.WriteLine("nettest: child holds UDP port " + port.ToString() + ": " + udp.ToString());
            while (true) SystemCalls.Wait();
        }

        // ---- overlap between environments

        private static int Overlap()
        {
            if (!Setup(2)) return 1;
            SystemCallResult child = SystemCalls.ImageSpawn("nettest", "hold 4242");
            if (child.IsError || SystemCalls.CapabilityCopy(Nic, child.Value).IsError
                || SystemCalls.CapabilityCopy(CapabilitySlots.Console, child.Value).IsError
                || SystemCalls.EnvironmentStart(child.Value, 0, 0, 0) != Error.None)
            {
                Console.WriteLine("nettest: FAIL: cannot start the child");
                return 1;
            }
            SystemCallResult query = SystemCalls.CapabilityQuery(child.Value);
            ulong childId = query.Second;
            SystemCallResult mine = default;
            ulong conflicting = 0;
            // Wait for the child's filter (the kernel's count of installed filters), never holding
            // the port ourselves meanwhile: a probe of ours could make the child's install fail.
            NicInfo* info = (NicInfo*)(ScratchAt + 3072);
            ulong deadline = Time.DeadlineAfter(20_000_000);
            while (Time.Timestamp < deadline && SystemCalls.NicInfo(Nic, info) == Error.None && info->Filters == 0)
                SystemCalls.WaitUntil(Time.DeadlineAfter(20_000));
            mine = InstallUdpPort(Nic, 4242, out conflicting);
            Console.WriteLine("nettest: overlap " + mine.ToString() + " reason " + mine.Second.ToString() + " owner "
                + (conflicting == childId ? "the child" : "0x" + conflicting.ToString("x")));
            SystemCalls.EnvironmentDestroy(child.Value);
            SystemCallResult after = InstallUdpPort(Nic, 4242, out _);
            Console.WriteLine("nettest: after the child's end " + after.ToString());
            return 0;
        }

        // ---- a filter given to another environment

        private static SystemCallResult GiveUdp(ushort port, byte first, ulong target, ulong count = 4)
        {
            FilterAtom* atoms = (FilterAtom*)(ScratchAt + 1536);
            atoms[0] = Atom(FilterBase.Frame, 2, 12, 0x0800);
            atoms[1] = Atom(FilterBase.Frame, 1, 23, 17);
            atoms[2] = Atom(FilterBase.Transport, 2, 2, port);
            atoms[3] = Atom(FilterBase.Transport, 1, 8, first); // the datagram's first byte
            return SystemCalls.NicFilterDelegate(Nic, atoms, count, target, out _);
        }

        private static int Delegate(ushort port)
        {
            if (!Setup(16)) return 1;
            SystemCallResult child = SystemCalls.ImageSpawn("nettest", "take");
            if (child.IsError || SystemCalls.CapabilityCopy(Nic, child.Value).IsError
                || SystemCalls.CapabilityCopy(CapabilitySlots.Console, child.Value).IsError)
            {
                Console.WriteLine("nettest: FAIL: cannot make the child");
                return 1;
            }
            ulong childId = SystemCalls.CapabilityQuery(child.Value).Second;
            if (InstallArp(Nic).IsError || InstallUdpPort(Nic, port, out _).IsError)
            {
                Console.WriteLine("nettest: FAIL: filters");
                return 1;
            }
            // Not started yet, the child has no ring: it has not agreed to receive frames.
            Console.WriteLine("nettest: delegate before-the-child-has-a-ring " + GiveUdp(port, (byte)'d', childId).ToString());
            if (SystemCalls.EnvironmentStart(child.Value, 0, 0, 0) != Error.None)
            {
                Console.WriteLine("nettest: FAIL: cannot start the child");
                return 1;
            }
            // The child attaches its ring when it runs: until then the gift is refused (InvalidArgument).
            SystemCallResult given = default;
            ulong deadline = Time.DeadlineAfter(20_000_000);
            while (Time.Timestamp < deadline)
            {
                given = GiveUdp(port, (byte)'d', childId);
                if (given.Error != Error.InvalidArgument) break;
                SystemCalls.WaitUntil(Time.DeadlineAfter(20_000));
            }
            Console.WriteLine("nettest: delegate not-ours " + GiveUdp((ushort)(port + 1), (byte)'d', childId).ToString());
            Console.WriteLine("nettest: delegate no-more-specific " + GiveUdp(port, (byte)'d', childId, 3).ToString());
            Console.WriteLine("nettest: delegate to-self " + GiveUdp(port, (byte)'e', Info.EnvironmentId).ToString());
            Console.WriteLine("nettest: delegate to-no-one " + GiveUdp(port, (byte)'e', 0xDEAD).ToString());
            Console.WriteLine("nettest: delegate no-atoms " + GiveUdp(port, (byte)'e', childId, 0).ToString());
            if (given.IsError) { Console.WriteLine("nettest: FAIL: delegate " + given.ToString()); return 1; }
            Console.WriteLine("nettest: delegated on UDP port " + port.ToString() + " (filter " + given.Value.ToString() + ")");
            int echoed = 0;
            ulong givenId = given.Value;
            bool quit = ServeRing(Time.DeadlineAfter(100_000_000), (frame, length) =>
            {
                if (IsArpRequestForUs(frame, length)) { AnswerArp(frame); return false; }
                // "rev..." (frame byte 42: the first payload byte of a datagram with a 20-byte IP header)
                if (length >= 48 && frame[42] == (byte)'r' && frame[43] == (byte)'e' && frame[44] == (byte)'v')
                    Console.WriteLine("nettest: revoked " + Errors.Name(SystemCalls.NicFilterRemove(Nic, givenId)));
                if (!EchoUdp(frame, length, port, (byte)'p', out bool last)) return false;
                echoed++;
                return last;
            });
            SystemCalls.EnvironmentDestroy(child.Value);
            Console.WriteLine("nettest: parent echoed " + echoed.ToString());
            return quit ? 0 : 1;
        }

        private static int Take()
        {
            if (!Setup(16)) return 1;
            Console.WriteLine("nettest: child takes");
            ServeRing(Time.DeadlineAfter(100_000_000), (frame, length) =>
            {
                EchoUdp(frame, length, 0, (byte)'c', out _);
                return false;
            });
            return 0;
        }

        // ---- refusals

        private static void Report(string what, SystemCallResult result)
            => Console.WriteLine("nettest: bad " + what + " " + result.ToString() + (result.IsError && what.StartsWith("filter") ? " " + result.Second.ToString() : ""));

        // A segmented send (NicSendRequest's segment size): the refusals, then one the device cuts
        // into 14 segments of 1,460 bytes (the last 1,074), which the host finds on the wire
        // (--pcap): TCP from 10.0.2.15:4321 to 10.0.2.2:9, sequence numbers from 1000, payload
        // byte i (i * 7 + 3) & 0xFF. On a device that cannot segment even that one is refused.
        public const int SegmentedPayload = 20_054 - 54;

        private static void Segmented(ulong offloads, NicSendRequest* request)
        {
            Console.WriteLine("nettest: bad offloads " + offloads.ToString());
            byte* f = (byte*)(SendAt + 4096);
            for (int i = 0; i < 6; i++) { f[i] = 0xFF; f[6 + i] = (byte)(s_mac >> (8 * i)); }
            f[12] = 0x08; f[13] = 0x00;
            byte* ip = f + 14;
            ip[0] = 0x45; ip[1] = 0;
            int total = 20 + 20 + SegmentedPayload;
            ip[2] = (byte)(total >> 8); ip[3] = (byte)total;
            ip[4] = 0x01; ip[5] = 0x00; ip[6] = 0x40; ip[7] = 0; ip[8] = 64; ip[9] = 6; ip[10] = 0; ip[11] = 0;
            ip[12] = 10; ip[13] = 0; ip[14] = 2; ip[15] = 15;
            ip[16] = 10; ip[17] = 0; ip[18] = 2; ip[19] = 2;
            byte* tcp = ip + 20;
            tcp[0] = 4321 >> 8; tcp[1] = 4321 & 0xFF; tcp[2] = 0; tcp[3] = 9;
            tcp[4] = 0; tcp[5] = 0; tcp[6] = 1000 >> 8; tcp[7] = 1000 & 0xFF;
            for (int i = 8; i < 12; i++) tcp[i] = 0;
            tcp[12] = 5 << 4; tcp[13] = 0x18; tcp[14] = 0x10; tcp[15] = 0; tcp[18] = 0; tcp[19] = 0;
            uint pseudo = 0x0A00 + 0x020F + 0x0A00 + 0x0202 + 6; // addresses and protocol, no length
            tcp[16] = (byte)(pseudo >> 8); tcp[17] = (byte)pseudo;
            for (int i = 0; i < SegmentedPayload; i++) tcp[20 + i] = (byte)(i * 7 + 3);
            int length = 54 + SegmentedPayload;
            ulong size = 1460UL << NicSendRequest.SegmentSizeShift;
            request->Frame = SendAt + 4096;

            request->Length = (ulong)(uint)length | 100UL << NicSendRequest.SegmentSizeShift;
            Report("segmented-size-100", SystemCalls.NicSend(Nic, request, 1));
            request->Length = (ulong)(uint)length | 1461UL << NicSendRequest.SegmentSizeShift;
            Report("segmented-size-1461", SystemCalls.NicSend(Nic, request, 1));
            request->Length = (ulong)(uint)length | 1460UL << NicSendRequest.SegmentSizeShift | 1UL << 48;
            Report("segmented-size-beyond-16-bits", SystemCalls.NicSend(Nic, request, 1));
            request->Length = 54 | size;
            Report("segmented-headers-only", SystemCalls.NicSend(Nic, request, 1));
            request->Length = 70_000 | size;
            Report("segmented-70000-bytes", SystemCalls.NicSend(Nic, request, 1));
            request->Length = (ulong)(uint)length | size;
            f[13] = 0x06;
            Report("segmented-arp", SystemCalls.NicSend(Nic, request, 1));
            f[13] = 0x00; ip[9] = 17;
            Report("segmented-udp", SystemCalls.NicSend(Nic, request, 1));
            ip[9] = 6; ip[6] = 0x20;
            Report("segmented-fragment", SystemCalls.NicSend(Nic, request, 1));
            ip[6] = 0x40; tcp[12] = 4 << 4;
            Report("segmented-tcp-offset-16", SystemCalls.NicSend(Nic, request, 1));
            tcp[12] = 5 << 4; f[11] ^= 1;
            Report("segmented-other-mac", SystemCalls.NicSend(Nic, request, 1));
            f[11] ^= 1;
            Report("segmented", SystemCalls.NicSend(Nic, request, 1));
        }

        private static void Report(string what, Error error) => Console.WriteLine("nettest: bad " + what + " " + Errors.Name(error));

        private static int Bad()
        {
            if (SystemCalls.PageAllocate(RingAt, 9, PageBits.Writable).IsError || SystemCalls.PageAllocate(SendAt, 8, PageBits.Writable).IsError
                || SystemCalls.PageAllocate(ScratchAt, 1, PageBits.Writable).IsError)
                return 1;
            NicInfo* info = (NicInfo*)ScratchAt;
            SystemCalls.NicInfo(Nic, info);
            s_mac = info->MacAddress;
            FilterAtom* atoms = (FilterAtom*)(ScratchAt + 1024);
            NicSendRequest* request = (NicSendRequest*)(ScratchAt + 2048);
            byte* frame = (byte*)SendAt;
            for (int i = 0; i < 6; i++) { frame[i] = 0xFF; frame[6 + i] = (byte)(s_mac >> (8 * i)); }
            frame[12] = 0x08; frame[13] = 0x06;

            Report("info-no-capability", SystemCalls.NicInfo(CapabilitySlots.Console, info));
            Report("info-bad-address", SystemCalls.NicInfo(Nic, (NicInfo*)0x10));
            request->Frame = SendAt; request->Length = 60;
            Report("send-without-ring", SystemCalls.NicSend(Nic, request, 1));
            Report("attach-3-slots", SystemCalls.NicAttach(Nic, RingAt, 3));
            Report("attach-512-slots", SystemCalls.NicAttach(Nic, RingAt, 512));
            Report("attach-unaligned", SystemCalls.NicAttach(Nic, RingAt + 8, 16));
            Report("attach-unmapped", SystemCalls.NicAttach(Nic, 0x70000000, 16));
            Report("attach-read-only", SystemCalls.NicAttach(Nic, UserAddresses.InfoPage, 2));
            Report("attach-kernel", SystemCalls.NicAttach(Nic, 0xFFFF800000000000, 2));
            Report("attach", SystemCalls.NicAttach(Nic, RingAt, 16));
            Report("attach-twice", SystemCalls.NicAttach(Nic, RingAt, 16));

            Report("filter-none", SystemCalls.NicFilterInstall(Nic, atoms, 0, out _));
            Report("filter-17-atoms", SystemCalls.NicFilterInstall(Nic, atoms, 17, out _));
            Report("filter-bad-address", SystemCalls.NicFilterInstall(Nic, 0x10, 1));
            atoms[0] = Atom(FilterBase.Frame, 3, 12, 0x0800);
            Report("filter-width-3", SystemCalls.NicFilterInstall(Nic, atoms, 1, out _));
            atoms[0] = Atom(FilterBase.Frame, 2, 1517, 0x0800);
            Report("filter-beyond-frame", SystemCalls.NicFilterInstall(Nic, atoms, 1, out _));
            atoms[0] = Atom(FilterBase.Frame, 2, 12, 0x0800);
            atoms[1] = Atom(FilterBase.Frame, 2, 12, 0x0806);
            Report("filter-contradiction", SystemCalls.NicFilterInstall(Nic, atoms, 2, out _));
            Report("remove-unknown", SystemCalls.NicFilterRemove(Nic, 1023));
            Report("remove-out-of-range", SystemCalls.NicFilterRemove(Nic, 5000));

            request->Frame = SendAt; request->Length = 13;
            Report("send-13-bytes", SystemCalls.NicSend(Nic, request, 1));
            request->Length = 1519;
            Report("send-1519-bytes", SystemCalls.NicSend(Nic, request, 1));
            request->Frame = 0x70000000; request->Length = 60;
            Report("send-unmapped", SystemCalls.NicSend(Nic, request, 1));
            request->Frame = 0xFFFF800000000000;
            Report("send-kernel", SystemCalls.NicSend(Nic, request, 1));
            request->Frame = SendAt;
            frame[11] ^= 1;
            Report("send-other-mac", SystemCalls.NicSend(Nic, request, 1));
            frame[11] ^= 1;
            Report("send-0-requests", SystemCalls.NicSend(Nic, request, 0));
            Report("send-33-requests", SystemCalls.NicSend(Nic, request, 33));
            Report("send-bad-requests", SystemCalls.NicSend(Nic, 0x10, 1));
            Report("send", SystemCalls.NicSend(Nic, request, 1));
            Segmented(info->Offloads, request);

            SystemCallResult restricted = SystemCalls.NicRestrict(Nic, 8000, 8099);
            Report("restrict", restricted);
            ulong r = restricted.Value;
            Report("restrict-wider", SystemCalls.NicRestrict(r, 7000, 8099));
            Report("restrict-reversed", SystemCalls.NicRestrict(Nic, 9, 8));
            Report("restrict-70000", SystemCalls.NicRestrict(Nic, 1, 70000));
            SystemCallResult inside = InstallUdpPort(r, 8080, out _);
            Report("restricted-8080", inside);
            Report("restricted-remove", SystemCalls.NicFilterRemove(r, inside.Value));
            Report("restricted-80", InstallUdpPort(r, 80, out _));
            Report("restricted-arp", InstallArp(r));
            atoms[0] = Atom(FilterBase.Transport, 2, 2, 8080);
            Report("restricted-port-only", SystemCalls.NicFilterInstall(r, atoms, 1, out _));
            NicInfo* restrictedInfo = (NicInfo*)(ScratchAt + 3072);
            SystemCalls.NicInfo(r, restrictedInfo);
            Console.WriteLine("nettest: bad restricted-range " + restrictedInfo->LowPort.ToString() + ".." + restrictedInfo->HighPort.ToString());
            Report("detach", SystemCalls.NicAttach(Nic, 0, 0));
            Report("attach-again", SystemCalls.NicAttach(Nic, RingAt, 2));
            return 0;
        }
    }
}
