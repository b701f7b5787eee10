#!/bin/sh
# loader-test-files.sh OUT-DIR SOURCE-DIR: the files the Linux loader's boot tests run that are
# not programs (LinuxCoreTests): core-text (not an ELF), core-truncated (static core-hello cut to
# 2000 bytes), core-dynamic (core-hello linked dynamically), core-arm (core-dynamic marked AArch64:
# the loader checks the machine first; 16 KiB where the static one was 700: the image's size is
# boot time), core-no-linker (core-hello naming a dynamic linker the image does not have).
# They land in the test image's /tests/ (Apps/Linux/Linux.csproj, AegisRootfsExtraFile).
set -eu
out=$1 src=$2
mkdir -p "$out"
gcc -O2 -static -o "$out/core-hello.static" "$src/core-hello.c"
printf 'this is a text file, not a program\n' > "$out/core-text"
head -c 2000 "$out/core-hello.static" > "$out/core-truncated"
gcc -O2 -o "$out/core-dynamic" "$src/core-hello.c"
cp "$out/core-dynamic" "$out/core-arm"
printf '\267\000' | dd of="$out/core-arm" bs=1 seek=18 conv=notrunc status=none
gcc -O2 -Wl,--dynamic-linker=/lib64/no-such-linker.so.2 -o "$out/core-no-linker" "$src/core-hello.c"
rm -f "$out/core-hello.static"
