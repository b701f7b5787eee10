// KernelArguments: the kernel command line, "key=value flag key2=value2", split on white
// space. A word without '=' is a flag whose value is ""; a value may itself contain '=' (only
// the first one splits); a word starting with '=' is kept whole as a key so that the kernel's
// unknown-argument warning shows it. init's value is NAME or NAME:ARGS (TrySplitInit): the text
// after the first ':' is the first app's argument string. A leading word starting with '/' is the kernel's path as
// GRUB passes it and is not an argument.
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
            List<string> words = SplitWords(commandLine ?? "");
            int first = 0;
            string kernelPath = "";
            if (words.Count > 0 && words[0][0] == '/')
            {
                kernelPath = words[0];
                first = 1;
            }
            KernelArguments arguments = new KernelArguments(kernelPath);
            for (int i = first; i < words.Count; i++)
                arguments.Add(words[i]);
            return arguments;
        }

        public bool Has(string key) => key != null && _values.ContainsKey(key);

        /// <summary>The value ("" for a flag), or null when the key is absent.</summary>
        public string Get(string key)
        {
            if (key == null) return null;
            return _values.TryGetValue(key, out string value) ? value : null;
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

        private static List<string> SplitWords(string text)
        {
            List<string> words = new List<string>();
            int start = -1;
            for (int i = 0; i <= text.Length; i++)
            {
                bool space = i == text.Length || IsSeparator(text[i]);
                if (space && start >= 0)
                {
                    words.Add(text.Substring(start, i - start));
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
