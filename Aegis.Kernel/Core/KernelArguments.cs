// KernelArguments: the kernel command line, "key=value flag key2=value2", split on white
// space. A word without '=' is a flag whose value is ""; a value may itself contain '=' (only
// the first one splits); a word starting with '=' is kept whole as a key so that the kernel's
// unknown-argument warning shows it. init's value is NAME or NAME:ARGS (TrySplitInit): the text
// after the first ':' is the first app's argument string. A leading word starting with '/' is the kernel's path as
// GRUB passes it and is not an argument.
// init=/PATH ARGS... [exit] (issue #9): an init value starting with '/' names a Linux program; every
// later word belongs to its command line (InitCommand: the text from '/' on, verbatim), except a
// final unquoted `exit`, which stays the kernel's flag. Inside that command line single quotes
// group words ('a b' is one word; SplitCommand is the rule, which the linux image applies too); an
// unterminated quote is an error (InitCommandError) and the program is not started.
//
// Invariants: Keys holds each key once, in order of first appearance; every key in Keys has
// exactly one value, the one from its last appearance ("last duplicate wins").
using System;
using System.Collections.Generic;

namespace Aegis.Kernel.Core
{
    public sealed class KernelArguments
    {
        private readonly List<string> _keys = new List<string>();
        private readonly Dictionary<string, string> _values = new Dictionary<string, string>();

        private KernelArguments(string kernelPath)
        {
            KernelPath = kernelPath;
        }

        /// <summary>The leading path word ("" when the command line had none).</summary>
        public string KernelPath { get; }

        /// <summary>The keys in order of first appearance.</summary>
        public ReadOnlyListView<string> Keys => new ReadOnlyListView<string>(_keys);

        public int Count => _keys.Count;

        public static KernelArguments Parse(string commandLine)
        {
            commandLine ??= "";
            List<int> starts = new List<int>();
            List<string> words = SplitWords(commandLine, starts);
            int first = 0;
            string kernelPath = "";
            if (words.Count > 0 && words[0][0] == '/')
            {
                kernelPath = words[0];
                first = 1;
            }
            KernelArguments arguments = new KernelArguments(kernelPath);
            for (int i = first; i < words.Count; i++)
            {
                if (words[i].StartsWith(LinuxInitPrefix))
                {
                    // init=/PATH ARGS... [exit]: the rest of the line is the Linux program's.
                    arguments.TakeInitCommand(commandLine.Substring(starts[i] + 5));
                    break;
                }
                arguments.Add(words[i]);
            }
            return arguments;
        }

        private const string LinuxInitPrefix = "init=/";

        /// <summary>The boot image that runs an init=/PATH program (the Linux personality's host app).</summary>
        public const string LinuxImage = "linux";

        /// <summary>The most bytes of command line a program started by init=/PATH can get (its
        /// environment page's argument).</summary>
        public const int MaximumInitCommandBytes = 255;

        /// <summary>init=/PATH ARGS...: the text from '/' up to a final unquoted `exit` flag, white space
        /// at both ends removed (null when init's value does not start with '/').</summary>
        public string InitCommand { get; private set; }

        /// <summary>Why InitCommand cannot be run as given (an unterminated quote, too long), or null.</summary>
        public string InitCommandError { get; private set; }

        private void TakeInitCommand(string text)
        {
            // The words of the tail, quote-aware: a final word that is exactly `exit` (not quoted) is
            // the kernel's flag.
            int end = text.Length;
            string error = ScanCommand(text, null, out int lastWordStart, out bool lastWordIsExitFlag);
            if (error == null && lastWordIsExitFlag && lastWordStart > 0)
            {
                end = lastWordStart;
                Add("exit");
            }
            int begin = 0;
            while (begin < end && IsSeparator(text[begin])) begin++;
            while (end > begin && IsSeparator(text[end - 1])) end--;
            string command = text.Substring(begin, end - begin);
            int space = 0;
            while (space < command.Length && !IsSeparator(command[space])) space++;
            Add("init=" + command.Substring(0, space));
            InitCommand = command;
            if (error != null)
                InitCommandError = error;
            else if (command.Length > MaximumInitCommandBytes)
                InitCommandError = "the command line is " + command.Length.ToString() + " bytes; a program started by init=/PATH gets at most "
                    + MaximumInitCommandBytes.ToString();
        }

        /// <summary>Splits a command line into its words as a shell does with single quotes only: white
        /// space separates words, a part in single quotes is taken literally (white space included, the
        /// quotes removed), and parts touching each other form one word (a'b c'd is "ab cd"; '' is an
        /// empty word). Returns null and the words, or why it cannot be split (an unterminated quote).</summary>
        public static string SplitCommand(string command, List<string> words)
        {
            return ScanCommand(command ?? "", words, out _, out _);
        }

        private static string ScanCommand(string text, List<string> words, out int lastWordStart, out bool lastWordIsExitFlag)
        {
            lastWordStart = -1;
            lastWordIsExitFlag = false;
            System.Text.StringBuilder word = new System.Text.StringBuilder();
            bool inWord = false, quoted = false, inQuote = false;
            int quoteStart = 0;
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                if (inQuote)
                {
                    if (c == '\'') inQuote = false;
                    else word.Append(c);
                    continue;
                }
                if (IsSeparator(c))
                {
                    if (inWord) EndWord(words, word, quoted, ref lastWordIsExitFlag);
                    inWord = false;
                    continue;
                }
                if (!inWord)
                {
                    inWord = true;
                    quoted = false;
                    word.Clear();
                    lastWordStart = i;
                }
                if (c == '\'')
                {
                    inQuote = true;
                    quoted = true;
                    quoteStart = i;
                }
                else
                    word.Append(c);
            }
            if (inQuote)
                return "the quote opened at character " + (quoteStart + 1).ToString() + " is not closed";
            if (inWord) EndWord(words, word, quoted, ref lastWordIsExitFlag);
            return null;
        }

        private static void EndWord(List<string> words, System.Text.StringBuilder word, bool quoted, ref bool isExitFlag)
        {
            string text = word.ToString();
            isExitFlag = !quoted && text == "exit";
            words?.Add(text);
        }

        public bool Has(string key) => key != null && _values.ContainsKey(key);

        /// <summary>The value ("" for a flag), or null when the key is absent.</summary>
        public string Get(string key)
        {
            if (key == null) return null;
            return _values.TryGetValue(key, out string value) ? value : null;
        }

        /// <summary>key=N with N decimal digits only, at most 'maximum': true and the number. False
        /// when the key is absent (value 0), its value is empty, has anything but digits, or is
        /// larger (value 0): the caller reports it and keeps its default.</summary>
        public bool TryGetNumber(string key, ulong maximum, out ulong value)
        {
            value = 0;
            string text = Get(key);
            if (string.IsNullOrEmpty(text)) return false;
            for (int i = 0; i < text.Length; i++)
            {
                if (text[i] < '0' || text[i] > '9' || value > (maximum - (ulong)(text[i] - '0')) / 10)
                {
                    value = 0;
                    return false;
                }
                value = value * 10 + (ulong)(text[i] - '0');
            }
            return true;
        }

        /// <summary>Splits the value of init=NAME or init=NAME:ARGS at its first ':' into the boot
        /// image's name and the argument string its environment receives ("" when there is no ':').
        /// False when the name is empty ("init=" or "init=:x").</summary>
        public static bool TrySplitInit(string value, out string name, out string argument)
        {
            name = null;
            argument = "";
            if (string.IsNullOrEmpty(value)) return false;
            int colon = value.IndexOf(':');
            name = colon < 0 ? value : value.Substring(0, colon);
            if (colon >= 0) argument = value.Substring(colon + 1);
            if (name.Length == 0)
            {
                name = null;
                argument = "";
                return false;
            }
            return true;
        }

        /// <summary>The keys not in knownKeys, in order of first appearance.</summary>
        public List<string> UnknownKeys(string[] knownKeys)
        {
            List<string> unknown = new List<string>();
            for (int i = 0; i < _keys.Count; i++)
            {
                if (!Contains(knownKeys, _keys[i]))
                    unknown.Add(_keys[i]);
            }
            return unknown;
        }

        private void Add(string word)
        {
            int equals = word.IndexOf('=');
            string key = equals <= 0 ? word : word.Substring(0, equals);
            string value = equals <= 0 ? "" : word.Substring(equals + 1);
            if (!_values.ContainsKey(key))
                _keys.Add(key);
            _values[key] = value;
        }

        private static bool Contains(string[] keys, string key)
        {
            if (keys == null) return false;
            for (int i = 0; i < keys.Length; i++)
            {
                if (keys[i] == key) return true;
            }
            return false;
        }

        private static List<string> SplitWords(string text, List<int> starts)
        {
            List<string> words = new List<string>();
            int start = -1;
            for (int i = 0; i <= text.Length; i++)
            {
                bool space = i == text.Length || IsSeparator(text[i]);
                if (space && start >= 0)
                {
                    words.Add(text.Substring(start, i - start));
                    starts.Add(start);
                    start = -1;
                }
                else if (!space && start < 0)
                {
                    start = i;
                }
            }
            return words;
        }

        private static bool IsSeparator(char c) => c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == '\0';
    }
}
