#!/bin/sh
# /srv/make-10m.sh: writes /srv/www/10m.txt, nginx's 10 MiB test document (docs/network.md,
# "nginx"). It is made at boot rather than carried in the root file system's archive: every byte of
# the archive is boot time (GRUB reads the whole image), this is one awk line.
# Every test document under /srv/www is numbered lines of 64 bytes, line N (from 0) being N in ten
# digits and a fixed text, so a byte's offset names its line: 1k.txt is lines 0-15, 64k.txt lines
# 0-1023, 10m.txt lines 0-163839 (10485760 bytes). Each is a prefix of the next; a client can
# check any range it got.
set -e
target=/srv/www/10m.txt
if [ -f "$target" ] && [ "$(wc -c < "$target")" = 10485760 ]; then exit 0; fi
awk 'BEGIN { for (i = 0; i < 163840; i++) printf "%010d aegis nginx test document: line of sixty-four bytes.\n", i }' > "$target.part"
mv "$target.part" "$target"
