#!/usr/bin/env python3
"""Writes a newc ("070701") cpio archive, the format of a Linux initramfs.

Used by tools/linux-reference.sh when the cpio tool is missing.

    mkcpio.py OUTPUT [--tree DIR] [--file DEST=SOURCE] [--dir DEST] [--char DEST=MAJOR:MINOR]

--tree DIR adds everything below DIR (not DIR itself) with the same relative names;
--file adds one file under another name; --dir one directory (mode 0755); --char a character
device node (mode 0600). Entries are written in the order given, a tree's directories before
their contents, each tree sorted by name so that the archive repeats. Every entry is owned by
root; hard links are stored as separate files, and anything but directories, regular files
and symbolic links inside a tree (sockets, fifos, devices) is skipped with a warning.
"""
import os
import stat
import sys

CHUNK = 1 << 20


class Writer:
    def __init__(self, out):
        self.out = out
        self.inode = 1
        self.offset = 0

    def _write(self, data):
        self.out.write(data)
        self.offset += len(data)

    def _pad(self):
        if self.offset % 4:
            self._write(b"\0" * (4 - self.offset % 4))

    def _header(self, name, mode, size, mtime=0, rdev_major=0, rdev_minor=0, nlink=1):
        encoded = name.encode("utf-8", "surrogateescape") + b"\0"
        fields = (self.inode, mode, 0, 0, nlink, int(mtime) & 0xFFFFFFFF, size,
                  0, 0, rdev_major, rdev_minor, len(encoded), 0)
        self.inode += 1
        self._write(b"070701" + b"".join(b"%08X" % value for value in fields))
        self._write(encoded)
        self._pad()

    def directory(self, name, mode=0o755, mtime=0):
        self._header(name, stat.S_IFDIR | mode, 0, mtime, nlink=2)

    def symlink(self, name, target, mtime=0):
        data = os.fsencode(target)
        self._header(name, stat.S_IFLNK | 0o777, len(data), mtime)
        self._write(data)
        self._pad()

    def char_device(self, name, major, minor, mode=0o600):
        self._header(name, stat.S_IFCHR | mode, 0, 0, major, minor)

    def file(self, name, source, mode=None):
        info = os.stat(source)
        if mode is None:
            mode = stat.S_IMODE(info.st_mode)
        with open(source, "rb") as handle:
            # The size is the one read, not the one stat saw: a file that changes while it is
            # read must not leave the header and the data out of step.
            data = handle.read()
        self._header(name, stat.S_IFREG | mode, len(data), info.st_mtime)
        for start in range(0, len(data), CHUNK):
            self._write(data[start:start + CHUNK])
        self._pad()

    def tree(self, root):
        for directory, subdirectories, files in os.walk(root):
            subdirectories.sort()
            relative = os.path.relpath(directory, root)
            entries = sorted(subdirectories + files)
            for entry in entries:
                path = os.path.join(directory, entry)
                name = entry if relative == "." else os.path.join(relative, entry)
                info = os.lstat(path)
                if stat.S_ISLNK(info.st_mode):
                    self.symlink(name, os.readlink(path), info.st_mtime)
                elif stat.S_ISDIR(info.st_mode):
                    self.directory(name, stat.S_IMODE(info.st_mode), info.st_mtime)
                elif stat.S_ISREG(info.st_mode):
                    self.file(name, path)
                else:
                    print(f"mkcpio: skipping {path} (not a file, directory or link)",
                          file=sys.stderr)
            # os.walk does not descend into symbolic links to directories: they are links here.
            subdirectories[:] = [entry for entry in subdirectories
                                 if not os.path.islink(os.path.join(directory, entry))]

    def trailer(self):
        self._header("TRAILER!!!", 0, 0, nlink=1)
        if self.offset % 512:
            self._write(b"\0" * (512 - self.offset % 512))


def main(arguments):
    if not arguments or arguments[0].startswith("-"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    output = arguments[0]
    actions = arguments[1:]
    if len(actions) % 2:
        print("mkcpio: every option needs a value", file=sys.stderr)
        return 2
    temporary = output + ".partial"
    with open(temporary, "wb") as out:
        writer = Writer(out)
        for option, value in zip(actions[0::2], actions[1::2]):
            if option == "--tree":
                writer.tree(value)
            elif option == "--file":
                dest, _, source = value.partition("=")
                writer.file(dest.lstrip("/"), source)
            elif option == "--dir":
                writer.directory(value.lstrip("/"))
            elif option == "--char":
                dest, _, numbers = value.partition("=")
                major, _, minor = numbers.partition(":")
                writer.char_device(dest.lstrip("/"), int(major), int(minor))
            else:
                print(f"mkcpio: unknown option {option}", file=sys.stderr)
                return 2
        writer.trailer()
    os.replace(temporary, output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
