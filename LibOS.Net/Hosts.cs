namespace Aegis.LibOS.Net
{
    /// <summary>An /etc/hosts file (hosts(5)): each line an address and one or more names,
    /// separated by blanks or tabs, '#' starting a comment. The first name on a line is the
    /// canonical name, the others aliases. Names compare without regard to ASCII case; the
    /// first line naming a host wins. IPv6 addresses and malformed lines are skipped (counted
    /// in <see cref="SkippedLines"/>); lookups only answer IPv4 for now.</summary>
    public sealed class HostsFile
    {
        private readonly System.Collections.Generic.List<Ipv4Address> _addresses = new System.Collections.Generic.List<Ipv4Address>();
        private readonly System.Collections.Generic.List<string[]> _names = new System.Collections.Generic.List<string[]>();

        public int Count => _addresses.Count;
        public int SkippedLines { get; private set; }
        public Ipv4Address AddressAt(int line) => _addresses[line];
        public string[] NamesAt(int line) => _names[line];

        public static HostsFile Parse(string text) => Parse(text == null ? System.ReadOnlySpan<char>.Empty : (System.ReadOnlySpan<char>)text);

        /// <summary>Parses the file's bytes (ASCII; other bytes make a name that never matches a
        /// valid host name).</summary>
        public static HostsFile Parse(System.ReadOnlySpan<byte> bytes)
        {
            var c = new char[bytes.Length];
            for (int i = 0; i < bytes.Length; i++) c[i] = (char)bytes[i];
            return Parse(new System.ReadOnlySpan<char>(c));
        }

        public static HostsFile Parse(System.ReadOnlySpan<char> text)
        {
            var h = new HostsFile();
            int start = 0;
            for (int i = 0; i <= text.Length; i++)
            {
                if (i < text.Length && text[i] != '\n') continue;
                h.ParseLine(text.Slice(start, i - start));
                start = i + 1;
            }
            return h;
        }

        private void ParseLine(System.ReadOnlySpan<char> line)
        {
            for (int h = 0; h < line.Length; h++)
                if (line[h] == '#') { line = line.Slice(0, h); break; }
            var fields = new System.Collections.Generic.List<string>();
            int i = 0;
            while (i < line.Length)
            {
                while (i < line.Length && IsBlank(line[i])) i++;
                int s = i;
                while (i < line.Length && !IsBlank(line[i])) i++;
                if (i > s) fields.Add(new string(line.Slice(s, i - s)));
            }
            if (fields.Count == 0) return;
            if (fields.Count < 2 || !Ipv4Address.TryParse(fields[0], out var address))
            {
                SkippedLines++;
                return;
            }
            var names = new string[fields.Count - 1];
            for (int k = 1; k < fields.Count; k++) names[k - 1] = fields[k];
            _addresses.Add(address);
            _names.Add(names);
        }

        private static bool IsBlank(char c) => c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';

        /// <summary>The address of the first line naming <paramref name="name"/>.</summary>
        public bool TryLookup(string name, out Ipv4Address address)
        {
            int line = Find(name);
            address = line >= 0 ? _addresses[line] : Ipv4Address.Any;
            return line >= 0;
        }

        /// <summary>Every address a name has (lines in file order); returns how many were written.</summary>
        public int LookupAll(string name, System.Span<Ipv4Address> results)
        {
            int n = 0;
            for (int line = 0; line < _names.Count && n < results.Length; line++)
                if (Names(line, name)) results[n++] = _addresses[line];
            return n;
        }

        /// <summary>The canonical name (first on its line) of the line naming <paramref name="name"/>.</summary>
        public string CanonicalName(string name)
        {
            int line = Find(name);
            return line >= 0 ? _names[line][0] : null;
        }

        /// <summary>The canonical name of the first line with <paramref name="address"/>.</summary>
        public bool TryReverse(Ipv4Address address, out string name)
        {
            for (int line = 0; line < _addresses.Count; line++)
                if (_addresses[line] == address) { name = _names[line][0]; return true; }
            name = null;
            return false;
        }

        private int Find(string name)
        {
            for (int line = 0; line < _names.Count; line++) if (Names(line, name)) return line;
            return -1;
        }

        private bool Names(int line, string name)
        {
            if (name == null) return false;
            int length = name.Length;
            if (length > 0 && name[length - 1] == '.') length--;
            string[] names = _names[line];
            for (int k = 0; k < names.Length; k++)
            {
                string candidate = names[k];
                int cl = candidate.Length;
                if (cl > 0 && candidate[cl - 1] == '.') cl--;
                if (cl != length) continue;
                bool same = true;
                for (int i = 0; i < length && same; i++) same = Lower(candidate[i]) == Lower(name[i]);
                if (same) return true;
            }
            return false;
        }

        private static char Lower(char c) => c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
    }
}
