// RtcTime: the CMOS real-time clock's registers turned into a moment (pure functions, host-tested).
// The RTC keeps the date in registers 0x00 (seconds), 0x02 (minutes), 0x04 (hours), 0x07 (day of
// month), 0x08 (month), 0x09 (year in the century) and, on most PCs (ACPI's FADT century field;
// QEMU and VMware use 0x32), the century. Status register B says how they are written: bit 2 set
// = binary, clear = BCD; bit 1 set = 24-hour, clear = 12-hour with bit 7 of the hours = PM.
// Guarantees: TryToUnixSeconds accepts only a real date and time (months 1..12, days within the
// month, leap years, hours < 24, minutes and seconds < 60) and answers the seconds since
// 1970-01-01 00:00 UTC (the RTC is taken to run on UTC, as QEMU's does by default); the century
// register is used when it decodes to 19..29, otherwise the year is 20xx. Nothing allocates
// but Format.
namespace Aegis.Kernel.Core
{
    public struct RtcRegisters
    {
        public byte Seconds, Minutes, Hours, Day, Month, Year, Century, StatusB;
    }

    public static class RtcTime
    {
        public const byte StatusBBinary = 0x04;
        public const byte StatusB24Hour = 0x02;
        public const byte HoursPm = 0x80;

        /// <summary>A BCD byte's value; false for a digit above 9.</summary>
        public static bool TryFromBcd(byte value, out int decoded)
        {
            int high = value >> 4, low = value & 0x0F;
            decoded = high * 10 + low;
            return high <= 9 && low <= 9;
        }

        private static bool TryField(byte raw, bool binary, out int value)
        {
            if (binary)
            {
                value = raw;
                return true;
            }
            return TryFromBcd(raw, out value);
        }

        /// <summary>The registers as a calendar date and time (hour 0..23); false when any field is
        /// not a valid BCD/binary number or the date is not a real one.</summary>
        public static bool TryDecode(RtcRegisters registers, out int year, out int month, out int day, out int hour, out int minute, out int second)
        {
            year = month = day = hour = minute = second = 0;
            bool binary = (registers.StatusB & StatusBBinary) != 0;
            bool twentyFourHour = (registers.StatusB & StatusB24Hour) != 0;
            bool pm = !twentyFourHour && (registers.Hours & HoursPm) != 0;
            byte hoursRaw = twentyFourHour ? registers.Hours : (byte)(registers.Hours & ~HoursPm);
            if (!TryField(registers.Seconds, binary, out second) || !TryField(registers.Minutes, binary, out minute)
                || !TryField(hoursRaw, binary, out hour) || !TryField(registers.Day, binary, out day)
                || !TryField(registers.Month, binary, out month) || !TryField(registers.Year, binary, out int yearInCentury))
                return false;
            if (!twentyFourHour)
            {
                // 12-hour clock: 12 AM is midnight (0), 1..11 AM as is, 12 PM is noon, 1..11 PM + 12.
                if (hour < 1 || hour > 12) return false;
                if (hour == 12) hour = 0;
                if (pm) hour += 12;
            }
            int century = 20;
            if (TryField(registers.Century, binary, out int centuryValue) && centuryValue >= 19 && centuryValue <= 29)
                century = centuryValue;
            if (yearInCentury > 99) return false;
            year = century * 100 + yearInCentury;
            if (second > 59 || minute > 59 || hour > 23 || month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month))
                return false;
            return true;
        }

        /// <summary>The registers as seconds since 1970-01-01 00:00 UTC; false when they do not hold a
        /// valid date and time (TryDecode).</summary>
        public static bool TryToUnixSeconds(RtcRegisters registers, out long unixSeconds)
        {
            unixSeconds = 0;
            if (!TryDecode(registers, out int year, out int month, out int day, out int hour, out int minute, out int second))
                return false;
            unixSeconds = DaysFromCivil(year, month, day) * 86400L + hour * 3600L + minute * 60L + second;
            return true;
        }

        public static bool IsLeapYear(int year) => (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

        public static int DaysInMonth(int year, int month)
        {
            switch (month)
            {
                case 2: return IsLeapYear(year) ? 29 : 28;
                case 4: case 6: case 9: case 11: return 30;
                default: return 31;
            }
        }

        /// <summary>Days from 1970-01-01 to the given date of the proleptic Gregorian calendar
        /// (negative before 1970). Counts in 400-year eras that start on 1 March, so February's
        /// leap day is the last day of an era's year.</summary>
        public static long DaysFromCivil(int year, int month, int day)
        {
            long y = month <= 2 ? year - 1 : year;
            long era = (y >= 0 ? y : y - 399) / 400;
            long yearOfEra = y - era * 400;                                        // 0..399
            long dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1; // 0..365, from 1 March
            long dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear; // 0..146096
            return era * 146097 + dayOfEra - 719468;                                // 719468: 0000-03-01 to 1970-01-01
        }

        /// <summary>The inverse of DaysFromCivil.</summary>
        public static void CivilFromDays(long days, out int year, out int month, out int day)
        {
            days += 719468;
            long era = (days >= 0 ? days : days - 146096) / 146097;
            long dayOfEra = days - era * 146097;
            long yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365;
            long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
            long monthIndex = (5 * dayOfYear + 2) / 153;                            // 0 = March
            day = (int)(dayOfYear - (153 * monthIndex + 2) / 5 + 1);
            month = (int)(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9);
            year = (int)(yearOfEra + era * 400 + (month <= 2 ? 1 : 0));
        }

        /// <summary>"YYYY-MM-DD HH:MM:SS UTC" (allocates: for the boot log only).</summary>
        public static string Format(long unixSeconds)
        {
            long days = unixSeconds >= 0 ? unixSeconds / 86400 : (unixSeconds - 86399) / 86400;
            long secondOfDay = unixSeconds - days * 86400;
            CivilFromDays(days, out int year, out int month, out int day);
            return year.ToString() + "-" + Two(month) + "-" + Two(day) + " " + Two((int)(secondOfDay / 3600)) + ":"
                + Two((int)(secondOfDay / 60 % 60)) + ":" + Two((int)(secondOfDay % 60)) + " UTC";
        }

        private static string Two(int value) => value < 10 ? "0" + value.ToString() : value.ToString();
    }
}
