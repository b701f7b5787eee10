#!/usr/bin/env bash
# build-rootfs.sh: stages the root file system and packs it as a reproducible ustar archive.
#
#   build-rootfs.sh --output TAR --stage DIR [--package DEB]... [--overlay DIR]
#                   [--file SOURCE=PATH]... [--mtime SECONDS]
#
# The image, in the order it is built (a later step wins over an earlier one):
#   1. every --package .deb, unpacked with dpkg-deb -x; when the result has bin/busybox, a
#      symbolic link to /bin/busybox for every applet at the path `busybox --list-full` gives
#      (bin/ls, usr/bin/wc, sbin/poweroff...; entries outside a directory, like linuxrc, are
#      left out). The busybox binary is static and x86-64, so the build host runs it. What no
#      program here reads is left out of every package (PRUNED below: documentation, manual
#      pages, lintian overrides, translations, glibc's iconv modules (iconv between charsets
#      other than ASCII, UTF-8 and Latin-1, which glibc has built in, needs them) and libraries no
#      program links with (libmvec, glibc's debugging and profiling preloads, libthread_db,
#      libBrokenLocale, ncurses' libtic, OpenSSL's engines and provider modules, which it loads
#      only when an openssl.cnf names them and the image has none): the image's size is boot
#      time, GRUB reads every byte);
#   2. the --overlay directory (the repository's rootfs/), copied to the same paths;
#   3. every --file SOURCE=PATH (compiled programs: tests/hello, usr/bin/linuxbench), mode 0755;
#   4. the empty directories every Linux root has: tmp (1777), root (0700), dev, proc, sys, home;
#   5. /etc/ld.so.cache when there are shared libraries: the host's ldconfig run on the stage
#      (`ldconfig -X -r`, no links changed), as Debian's libc-bin leaves one on every system: the
#      dynamic linker then opens each library at once instead of trying some ten hwcaps and tls
#      directories for it (each a failed open and stat).
# Guarantees: the archive is POSIX ustar (tar --format=ustar), entries sorted by name (a
# directory before what it holds), owner and group 0 (numeric, no names), one fixed mtime
# (--mtime, default 2025-01-01 00:00 UTC), modes normalized (directories 0755, files 0755 when
# any execute bit was set, else 0644; tmp 1777, root 0700), symbolic links kept as links. The
# same inputs give the same bytes. TAR is replaced only when its bytes change (its mtime then
# tells the build whether anything downstream must be redone). A name too long for ustar, a
# .deb that does not unpack or a missing file is an error. Every regular file of 4 KiB or more has
# its data page-aligned in the archive (below; checked after packing).
set -euo pipefail

die() { printf 'build-rootfs: %s\n' "$*" >&2; exit 1; }

output="" stage="" overlay="" mtime=1735689600
packages=() files=()
while (( $# > 0 )); do
    case "$1" in
        --output)  output="$2"; shift 2 ;;
        --stage)   stage="$2"; shift 2 ;;
        --overlay) overlay="$2"; shift 2 ;;
        --package) packages+=("$2"); shift 2 ;;
        --file)    files+=("$2"); shift 2 ;;
        --mtime)   mtime="$2"; shift 2 ;;
        *) die "unknown argument '$1'" ;;
    esac
done
[[ -n "$output" && -n "$stage" ]] || die "usage: build-rootfs.sh --output TAR --stage DIR [--package DEB]... [--overlay DIR] [--file SOURCE=PATH]..."
[[ "$mtime" =~ ^[0-9]+$ ]] || die "--mtime takes seconds since 1970, not '$mtime'"

rm -rf "$stage"
mkdir -p "$stage"
stage="$(cd "$stage" && pwd)"

for deb in "${packages[@]+"${packages[@]}"}"; do
    [[ -f "$deb" ]] || die "no package file $deb"
    dpkg-deb -x "$deb" "$stage" || die "dpkg-deb could not unpack $deb"
done

PRUNED=(usr/share/doc usr/share/man usr/share/info usr/share/lintian usr/share/locale usr/lib/x86_64-linux-gnu/gconv
        lib/x86_64-linux-gnu/libmvec.so.1 lib/x86_64-linux-gnu/libc_malloc_debug.so.0 lib/x86_64-linux-gnu/libmemusage.so
        lib/x86_64-linux-gnu/libpcprofile.so lib/x86_64-linux-gnu/libBrokenLocale.so.1 lib/x86_64-linux-gnu/libthread_db.so.1
        usr/lib/x86_64-linux-gnu/libtic.so.6 usr/lib/x86_64-linux-gnu/libtic.so.6.4
        usr/lib/x86_64-linux-gnu/engines-3 usr/lib/x86_64-linux-gnu/ossl-modules)
for pruned in "${PRUNED[@]}"; do rm -rf "${stage:?}/$pruned"; done

if [[ -x "$stage/bin/busybox" ]]; then
    applets="$("$stage/bin/busybox" --list-full)" || die "$stage/bin/busybox --list-full failed (the build host must run x86-64 Linux binaries)"
    while read -r applet; do
        [[ -z "$applet" || "$applet" == "bin/busybox" || "$applet" != */* ]] && continue
        [[ -e "$stage/$applet" || -L "$stage/$applet" ]] && continue
        mkdir -p "$stage/$(dirname "$applet")"
        ln -s /bin/busybox "$stage/$applet"
    done <<<"$applets"
fi

if [[ -n "$overlay" ]]; then
    [[ -d "$overlay" ]] || die "no overlay directory $overlay"
    # --remove-destination: a file of the overlay replaces a link (bin/sh) instead of writing through it.
    cp -R --no-preserve=ownership,timestamps --remove-destination "$overlay/." "$stage/"
fi

for entry in "${files[@]+"${files[@]}"}"; do
    source="${entry%%=*}" path="${entry#*=}"
    [[ "$source" != "$entry" && -n "$path" && "$path" != /* ]] || die "--file takes SOURCE=PATH with a relative PATH, not '$entry'"
    [[ -f "$source" ]] || die "no file $source (for /$path)"
    mkdir -p "$stage/$(dirname "$path")"
    rm -f "$stage/$path"
    cp "$source" "$stage/$path"
    chmod 0755 "$stage/$path"
done

mkdir -p "$stage/tmp" "$stage/root" "$stage/dev" "$stage/proc" "$stage/sys" "$stage/home"

if compgen -G "$stage/lib/x86_64-linux-gnu/*.so*" >/dev/null; then
    ldconfig_tool="$(command -v ldconfig || echo /sbin/ldconfig)"
    [[ -x "$ldconfig_tool" ]] || die "ldconfig is missing (Debian's libc-bin): it writes the image's /etc/ld.so.cache"
    mkdir -p "$stage/etc"
    "$ldconfig_tool" -X -r "$stage" || die "ldconfig -r $stage failed"
    rm -rf "$stage/var/cache/ldconfig" # its aux cache (inode numbers and times) would make the bytes differ
fi

# Normalized modes (the checkout's umask and the package's do not leak into the image).
find "$stage" -type d -exec chmod 0755 {} +
find "$stage" -type f -perm /111 -exec chmod 0755 {} +
find "$stage" -type f ! -perm /111 -exec chmod 0644 {} +
chmod 1777 "$stage/tmp"
chmod 0700 "$stage/root"

list="$(mktemp)"
sorted="$(mktemp)"
trap 'rm -f "$list" "$sorted" "$output.tmp"' EXIT
(cd "$stage" && find . -mindepth 1 -printf '%P\t%y\t%s\n' | LC_ALL=C sort -t $'\t' -k1,1) >"$sorted"
# Page-aligned file data: every regular file of at least one page starts its data on a 4 KiB
# boundary of the archive (the libOS maps a program's read-only pages straight from the archive,
# which the image holds page-aligned: docs/libos-unixish.md, "Exec"). Each entry is a 512-byte
# header plus its data rounded up to 512 bytes (ustar: no extension headers; --hard-dereference
# keeps every regular file's data in its own entry); the gap before such a file is filled with
# repeated headers of its directory, which every tar reader takes as the same directory again.
awk -F '\t' '
    { offset_before = offset
      if ($2 == "f" && $3 >= 4096) {
          pad = (4096 - (offset + 512) % 4096) % 4096 / 512
          parent = $1; sub("/[^/]*$", "", parent); if (parent == $1) parent = "."
          for (i = 0; i < pad; i++) { print parent; offset += 512 }
      }
      print $1
      offset += 512 + ($2 == "f" ? int(($3 + 511) / 512) * 512 : 0) }' "$sorted" >"$list"
mkdir -p "$(dirname "$output")"
tar --format=ustar --numeric-owner --owner=0 --group=0 --mtime="@$mtime" --no-recursion --hard-dereference \
    -C "$stage" -cf "$output.tmp" -T "$list" || die "tar could not pack $stage (a name too long for ustar?)"
# The alignment, checked on what tar wrote (tar -R: each member's header block).
misaligned=$(tar -tvR -f "$output.tmp" | awk '$3 ~ /^-/ && $5 >= 4096 { sub(":", "", $2); if (($2 + 1) % 8 != 0) print $NF }' | head -n 3)
[[ -z "$misaligned" ]] || die "file data not page-aligned in the archive: $misaligned"
if cmp -s "$output.tmp" "$output"; then
    rm -f "$output.tmp"
else
    mv -f "$output.tmp" "$output"
fi
printf 'build-rootfs: %s: %s entries, %s bytes\n' "$output" "$(wc -l <"$sorted")" "$(stat -c %s "$output")"
