#!/usr/bin/env bash
# fetch-packages.sh: the Debian packages of the root file system, downloaded and verified.
#
#   fetch-packages.sh LIST CACHE_DIR        makes sure CACHE_DIR holds every package of LIST
#                                           (tools/packages.sha256) with the listed sha256;
#                                           prints one cached .deb path a line, in LIST's order
#   fetch-packages.sh --update NAME [LIST]  downloads the version apt offers now and writes its
#                                           line (version, architecture, sha256) into LIST
#
# Guarantees: a cached file is used only when its sha256 is the listed one (a corrupt or
# different file is downloaded again, and a download that still differs is an error that says
# how to update the list); nothing is written when the cache is already right (so the build's
# Inputs/Outputs see no change); a version apt cannot download is an error naming the versions
# it can. Downloads go through `apt-get download NAME=VERSION` as the user running the build;
# when the package lists are missing and that user is root, `apt-get update` runs once.
# Cached file name: NAME_VERSION_ARCH.deb with ':' (an epoch) written as '_'.
# A version the suites no longer offer (a security update replaced it) usually stays in Debian's
# pool for a while: when apt cannot download it, the file is fetched from the pool by its URL
# (main, then the security archive) with apt's own downloader (apt-helper: apt's proxy and
# sources settings), and checked against the listed sha256 like any download.
set -euo pipefail

die() { printf 'fetch-packages: %s\n' "$*" >&2; exit 1; }

apt_options=()
[[ "$(id -u)" -eq 0 ]] && apt_options=(-o APT::Sandbox::User=root)
updated=false

# NAME VERSION ARCH: the .deb from Debian's pool into the current directory; false if neither
# pool has it. The source package's name (apt-cache show) makes the pool's directory.
from_pool() {
    local name="$1" version="$2" arch="$3" source prefix file base helper
    helper="$(command -v apt-helper || echo /usr/lib/apt/apt-helper)"
    [[ -x "$helper" ]] || return 1
    source="$(apt-cache show "$name" 2>/dev/null | awk '/^Source:/ { print $2; exit }')"
    [[ -n "$source" ]] || source="$name"
    if [[ "$source" == lib?* ]]; then prefix="${source:0:4}"; else prefix="${source:0:1}"; fi
    file="${name}_${version#*:}_${arch}.deb"
    for base in http://deb.debian.org/debian/pool/main http://deb.debian.org/debian-security/pool/updates/main; do
        if "$helper" "${apt_options[@]}" download-file "$base/$prefix/$source/$file" "$PWD/$file" >/dev/null 2>&1 && [[ -s "$file" ]]; then
            printf 'fetch-packages: %s %s is no longer offered by apt; fetched from %s\n' "$name" "$version" "$base" >&2
            return 0
        fi
        rm -f -- "$file"
    done
    return 1
}

# apt-get download NAME=VERSION into the current directory (ARCH given: Debian's pool when apt
# cannot); prints the file name.
download() {
    local name="$1" version="$2" arch="${3:-}" log
    log="$(mktemp)"
    if ! apt-get "${apt_options[@]}" download "$name=$version" >"$log" 2>&1; then
        if [[ "$updated" == false && "$(id -u)" -eq 0 ]]; then
            updated=true
            apt-get update -qq >/dev/null 2>&1 || true
            if apt-get "${apt_options[@]}" download "$name=$version" >"$log" 2>&1; then
                rm -f "$log"
                return 0
            fi
        fi
        if [[ -n "$arch" ]] && from_pool "$name" "$version" "$arch"; then
            rm -f "$log"
            return 0
        fi
        local available
        available="$(apt-cache madison "$name" 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); printf "%s ", $2}')"
        printf 'fetch-packages: apt-get download %s=%s failed:\n' "$name" "$version" >&2
        sed 's/^/    /' "$log" >&2
        rm -f "$log"
        die "Debian package $name version $version is not available here (apt offers: ${available:-nothing; run apt-get update}${arch:+; the Debian pool has no ${name}_${version#*:}_${arch}.deb either}). Pin a version apt offers with: tools/rootfs/fetch-packages.sh --update $name"
    fi
    rm -f "$log"
}

cached_name() { printf '%s_%s_%s.deb' "$1" "${2//:/_}" "$3"; }

if [[ "${1:-}" == "--update" ]]; then
    name="${2:?usage: fetch-packages.sh --update NAME [LIST]}"
    list="${3:-$(dirname "$0")/../packages.sha256}"
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    version="$(apt-cache policy "$name" 2>/dev/null | awk '/Candidate:/ {print $2}')"
    [[ -n "$version" && "$version" != "(none)" ]] || die "apt offers no package $name (run apt-get update?)"
    (cd "$work" && download "$name" "$version")
    deb="$(ls "$work"/*.deb)"
    arch="$(dpkg-deb -f "$deb" Architecture)"
    sum="$(sha256sum "$deb" | awk '{print $1}')"
    line="$name $version $arch $sum"
    if grep -q "^$name " "$list"; then
        awk -v name="$name" -v line="$line" '$1 == name { print line; next } { print }' "$list" >"$work/list"
        cat "$work/list" >"$list"
    else
        printf '%s\n' "$line" >>"$list"
    fi
    printf 'fetch-packages: %s: %s\n' "$list" "$line"
    exit 0
fi

list="${1:?usage: fetch-packages.sh LIST CACHE_DIR}"
cache="${2:?usage: fetch-packages.sh LIST CACHE_DIR}"
[[ -f "$list" ]] || die "no package list $list"
mkdir -p "$cache"
line_number=0
while read -r name version arch sum rest || [[ -n "${name:-}" ]]; do
    line_number=$((line_number + 1))
    [[ -z "${name:-}" || "$name" == \#* ]] && continue
    [[ -n "${sum:-}" && -z "${rest:-}" && "$sum" =~ ^[0-9a-f]{64}$ ]] \
        || die "$list:$line_number: expected 'NAME VERSION ARCHITECTURE SHA256', got: $name ${version:-} ${arch:-} ${sum:-} ${rest:-}"
    file="$cache/$(cached_name "$name" "$version" "$arch")"
    if [[ ! -f "$file" ]] || [[ "$(sha256sum "$file" | awk '{print $1}')" != "$sum" ]]; then
        work="$(mktemp -d)"
        (cd "$work" && download "$name" "$version" "$arch")
        got="$(ls "$work"/*.deb)"
        got_sum="$(sha256sum "$got" | awk '{print $1}')"
        got_arch="$(dpkg-deb -f "$got" Architecture)"
        if [[ "$got_sum" != "$sum" || "$got_arch" != "$arch" ]]; then
            rm -rf "$work"
            die "$name $version: the downloaded .deb has sha256 $got_sum ($got_arch), but $list:$line_number lists $sum ($arch). If Debian rebuilt the package, check it and update the line with: tools/rootfs/fetch-packages.sh --update $name"
        fi
        mv -f "$got" "$file"
        rm -rf "$work"
    fi
    printf '%s\n' "$file"
done <"$list"
