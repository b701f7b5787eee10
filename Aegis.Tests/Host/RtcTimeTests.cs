// Core/RtcTime.cs: the CMOS RTC's registers as a moment (issue #9, wall time).
using Aegis.Kernel.Core;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class RtcTimeTests
{
    private static RtcRegisters Bcd(byte century, byte year, byte month, byte day, byte hours, byte minutes, byte seconds, bool twentyFour = true)
        => new RtcRegisters { Century = century, Year = year, Month = month, Day = day, Hours = hours, Minutes = minutes, Seconds = seconds,
                              StatusB = twentyFour ? RtcTime.StatusB24Hour : (byte)0 };

    private static long Unix(int year, int month, int day, int hour, int minute, int second)
        => new DateTimeOffset(year, month, day, hour, minute, second, TimeSpan.Zero).ToUnixTimeSeconds();

    [Test]
    public void BcdTwentyFourHourClockDecodes()
    {
        Assert.That(RtcTime.TryToUnixSeconds(Bcd(0x20, 0x26, 0x11, 0x30, 0x17, 0x45, 0x09), out long seconds), Is.True);
        Assert.That(seconds, Is.EqualTo(Unix(2026, 11, 30, 17, 45, 9)));
    }

    [Test]
    public void BinaryModeDecodes()
    {
        var registers = new RtcRegisters { Century = 20, Year = 24, Month = 2, Day = 29, Hours = 23, Minutes = 59, Seconds = 58,
                                           StatusB = RtcTime.StatusBBinary | RtcTime.StatusB24Hour };
        Assert.That(RtcTime.TryToUnixSeconds(registers, out long seconds), Is.True);
        Assert.That(seconds, Is.EqualTo(Unix(2024, 2, 29, 23, 59, 58)));
    }

    [Test]
    public void TwelveHourClockAfternoonAddsTwelve()
    {
        // 5 PM in 12-hour BCD: hours 0x05 with bit 7.
        Assert.That(RtcTime.TryToUnixSeconds(Bcd(0x20, 0x25, 0x06, 0x01, 0x85, 0x00, 0x00, twentyFour: false), out long seconds), Is.True);
        Assert.That(seconds, Is.EqualTo(Unix(2025, 6, 1, 17, 0, 0)));
        // Binary 12-hour: 11 PM.
        var binary = new RtcRegisters { Century = 20, Year = 25, Month = 6, Day = 1, Hours = 0x80 | 11, StatusB = RtcTime.StatusBBinary };
        Assert.That(RtcTime.TryToUnixSeconds(binary, out seconds), Is.True);
        Assert.That(seconds, Is.EqualTo(Unix(2025, 6, 1, 23, 0, 0)));
    }

    [Test]
    public void TwelveHourClockMorningAndMidnightAndNoon()
    {
        Assert.That(RtcTime.TryToUnixSeconds(Bcd(0x20, 0x25, 0x06, 0x01, 0x09, 0x30, 0x00, twentyFour: false), out long morning), Is.True);
        Assert.That(morning, Is.EqualTo(Unix(2025, 6, 1, 9, 30, 0)));
        // 12 AM is midnight, 12 PM is noon.
        Assert.That(RtcTime.TryToUnixSeconds(Bcd(0x20, 0x25, 0x06, 0x01, 0x12, 0x00, 0x05, twentyFour: false), out long midnight), Is.True);
        Assert.That(midnight, Is.EqualTo(Unix(2025, 6, 1, 0, 0, 5)));
        Assert.That(RtcTime.TryToUnixSeconds(Bcd(0x20, 0x25, 0x06, 0x01, 0x92, 0x00, 0x05, twentyFour: false), out long noon), Is.True);
        Assert.That(noon, Is.EqualTo(Unix(2025, 6, 1, 12, 0, 5)));
        // Hour 0 does not exist on a 12-hour clock.
        Assert.That(RtcTime.TryToUnixSeconds(Bcd(0x20, 0x25, 0x06, 0x01, 0x00, 0x00, 0x05, twentyFour: false), out _), Is.False);
    }

    [Test]
    public void TwentyFourHourMidnightIsHourZero()
    {
        Assert.That(RtcTime.TryToUnixSeconds(Bcd(0x20, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00), out long seconds), Is.True);
        Assert.That(seconds, Is.EqualTo(Unix(2000, 1, 1, 0, 0, 0)));
    }

    [Test]
    public void CenturyRegisterIsUsedWhenPlausibleElseTwentyFirstCentury()
    {
        Assert.That(RtcTime.TryToUnixSeconds(Bcd(0x19, 0x99, 0x12, 0x31, 0x23, 0x59, 0x59), out long nineties), Is.True);
        Assert.That(nineties, Is.EqualTo(Unix(1999, 12, 31, 23, 59, 59)));
        // No century register (0x00 or 0xFF, or a value that is not 19..29): 20xx.
        Assert.That(RtcTime.TryToUnixSeconds(Bcd(0x00, 0x31, 0x03, 0x04, 0x05, 0x06, 0x07), out long absent), Is.True);
        Assert.That(absent, Is.EqualTo(Unix(2031, 3, 4, 5, 6, 7)));
        Assert.That(RtcTime.TryToUnixSeconds(Bcd(0xFF, 0x31, 0x03, 0x04, 0x05, 0x06, 0x07), out long garbage), Is.True);
        Assert.That(garbage, Is.EqualTo(absent));
        Assert.That(RtcTime.TryToUnixSeconds(Bcd(0x21, 0x00, 0x03, 0x01, 0x00, 0x00, 0x00), out long next), Is.True);
        Assert.That(next, Is.EqualTo(Unix(2100, 3, 1, 0, 0, 0)));
    }

    [Test]
    public void InvalidValuesAreRefused()
    {
        Assert.That(RtcTime.TryToUnixSeconds(Bcd(0x20, 0x26, 0x13, 0x01, 0x00, 0x00, 0x00), out _), Is.False, "month 13");
        Assert.That(RtcTime.TryToUnixSeconds(Bcd(0x20, 0x26, 0x02, 0x29, 0x00, 0x00, 0x00), out _), Is.False, "29 February 2026");
        Assert.That(RtcTime.TryToUnixSeconds(Bcd(0x20, 0x26, 0x04, 0x31, 0x00, 0x00, 0x00), out _), Is.False, "31 April");
        Assert.That(RtcTime.TryToUnixSeconds(Bcd(0x20, 0x26, 0x01, 0x00, 0x00, 0x00, 0x00), out _), Is.False, "day 0");
        Assert.That(RtcTime.TryToUnixSeconds(Bcd(0x20, 0x26, 0x01, 0x01, 0x24, 0x00, 0x00), out _), Is.False, "hour 24");
        Assert.That(RtcTime.TryToUnixSeconds(Bcd(0x20, 0x26, 0x01, 0x01, 0x00, 0x60, 0x00), out _), Is.False, "minute 60");
        Assert.That(RtcTime.TryToUnixSeconds(Bcd(0x20, 0x26, 0x01, 0x01, 0x00, 0x00, 0x1A), out _), Is.False, "a BCD digit above 9");
        Assert.That(RtcTime.TryToUnixSeconds(new RtcRegisters { StatusB = 0xFF, Year = 0xFF, Month = 0xFF, Day = 0xFF, Hours = 0xFF, Minutes = 0xFF, Seconds = 0xFF }, out _),
            Is.False, "a missing RTC reads 0xFF everywhere");
    }

    [Test]
    public void CalendarConversionsAgreeWithDotNetOverCenturies()
    {
        var random = new Random(9);
        for (int i = 0; i < 20000; i++)
        {
            var date = new DateTime(1900, 1, 1).AddDays(random.Next(0, 365 * 300));
            long days = RtcTime.DaysFromCivil(date.Year, date.Month, date.Day);
            Assert.That(days, Is.EqualTo((long)(date - new DateTime(1970, 1, 1)).TotalDays), date.ToString("yyyy-MM-dd"));
            RtcTime.CivilFromDays(days, out int year, out int month, out int day);
            Assert.That((year, month, day), Is.EqualTo((date.Year, date.Month, date.Day)));
        }
    }

    [Test]
    public void FormatWritesUtc()
    {
        Assert.That(RtcTime.Format(Unix(2026, 11, 30, 5, 3, 26)), Is.EqualTo("2026-11-30 05:03:26 UTC"));
        Assert.That(RtcTime.Format(0), Is.EqualTo("1970-01-01 00:00:00 UTC"));
    }
}
