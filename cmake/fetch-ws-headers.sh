#!/usr/bin/env bash
# Fetches the Wireshark headers that the plugin needs and that Debian's
# libwireshark-dev does not install (epan/sequence_analysis.h, for the
# "SMTP Lab" flow graph, and the headers it includes that are missing too),
# for exactly the installed Wireshark version, from Debian's source package.
# libwireshark.so exports every function the header declares; only the
# header is missing. Nothing of Wireshark's source is kept in this tree.
#
# Usage: fetch-ws-headers.sh <build dir>
#   puts the headers in <build dir>/ws-headers (SMTPLAB_WS_HEADERS_DIR to
#   choose another folder), the default of CMake's SMTPLAB_WS_HEADERS_DIR.
#
# It changes nothing on the system and needs no root: a private apt
# configuration under <build dir>/ws-apt (its own sources list, package
# lists, cache; no locks) with a deb-src entry for every deb entry of the
# system's sources (/etc/apt/sources.list, sources.list.d/*.list and
# *.sources; SMTPLAB_APT_ETC=<dir> reads another etc/apt folder), then
# `apt-get update` and `apt-get source --download-only` of the source
# package and version that libwireshark-dev was built from. Only the wanted
# headers are taken from the upstream tarball, with the Debian patches that
# touch them applied. Does nothing when the headers of that version are
# there already. Exit status 1, with the reason, when it cannot.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
[ $# = 1 ] || { sed -n 's/^# \{0,1\}//; /^Usage/,/^$/p' "$0" >&2; exit 2; }
build=$(mkdir -p "$1" && cd "$1" && pwd)
out=${SMTPLAB_WS_HEADERS_DIR:-$build/ws-headers}
etc=${SMTPLAB_APT_ETC:-/etc/apt}
wanted=(epan/sequence_analysis.h)

fail() { echo "fetch-ws-headers: $*" >&2; exit 1; }
command -v apt-get > /dev/null || fail "no apt-get: not a Debian system"
pkg=libwireshark-dev
read -r src_pkg src_ver < <(dpkg-query -W -f='${source:Package} ${source:Version}\n' "$pkg" 2>/dev/null) ||
    fail "$pkg is not installed"
[ -n "$src_ver" ] || fail "$pkg is not installed"
# The stamp names the source version; a new libwireshark-dev fetches again.
if [ -f "$out/.source-version" ] && [ "$(cat "$out/.source-version")" = "$src_pkg $src_ver" ]; then
    echo "fetch-ws-headers: $out has the headers of $src_pkg $src_ver"
    exit 0
fi
# The tools it runs, which a fresh Debian may lack: say which, not fail later.
missing=()
for tool in gawk:gawk tar:tar bzip2:bzip2 xz:xz-utils patch:patch; do
    command -v "${tool%%:*}" > /dev/null || missing+=("${tool#*:}")
done
[ ${#missing[@]} = 0 ] || fail "missing tools; install them with: sudo apt-get install ${missing[*]}"
# Where the installed headers are (what need not be fetched).
installed=$(dpkg -L "$pkg" | sed -n 's,/epan/packet\.h$,,p' | head -n 1)
[ -n "$installed" ] || fail "cannot find epan/packet.h among the files of $pkg"

# The private apt configuration: one file per source entry in
# $apt/entries, in the system's order (apt reads a folder in name order).
apt=$build/ws-apt
rm -rf "$apt/entries" "$apt/one"
mkdir -p "$apt/entries" "$apt/one" "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/download"
n=0
add_entry() { # extension; the entry on stdin
    n=$((n + 1))
    cat > "$apt/entries/$(printf '%03d' "$n").$1"
}
# One-line format: every "deb [options] uri suite components" as deb-src.
for f in "$etc/sources.list" "$etc"/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    while read -r line; do
        add_entry list <<< "$line"
    done < <(sed -n 's/^[[:space:]]*deb\([[:space:]]\)/deb-src\1/p' "$f" | gawk '!seen[$0]++')
done
# deb822 format: every enabled stanza whose Types has deb, with Types:
# deb-src and the rest as it is (Signed-By may hold a key over several lines).
for f in "$etc"/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    while IFS= read -r -d '' stanza; do
        add_entry sources <<< "$stanza"
    done < <(gawk '
        function flush() {
            if (text != "" && has_deb && enabled) printf "%s%c", text, 0
            text = ""; has_deb = 0; enabled = 1
        }
        BEGIN { enabled = 1 }
        /^[[:space:]]*$/ { flush(); next }
        /^#/ { next }
        tolower($1) == "types:" {
            for (i = 2; i <= NF; i++) if ($i == "deb") has_deb = 1
            text = text "Types: deb-src\n"; next
        }
        tolower($1) == "enabled:" { if (tolower($2) == "no") enabled = 0; next }
        { text = text $0 "\n" }
        END { flush() }' "$f")
done
[ "$n" -gt 0 ] || fail "no deb entries in $etc/sources.list or $etc/sources.list.d"
opts=(-o "Dir::Etc::SourceList=/dev/null"
      -o "Dir::State::Lists=$apt/lists"
      -o "Dir::Cache=$apt/cache"
      -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
      -o "Debug::NoLocking=1"
      -o "APT::Get::List-Cleanup=0"
      -o "Acquire::Languages=none"
      -o "Acquire::IndexTargets::deb::Packages::DefaultEnabled=false"
      -o "Acquire::IndexTargets::deb::Translations::DefaultEnabled=false")
# As root apt downloads as the user _apt, who may not enter a build folder.
[ "$(id -u)" = 0 ] && opts+=(-o "APT::Sandbox::User=root")

echo "fetch-ws-headers: $src_pkg $src_ver from Debian's source packages (apt lists in $apt)"
# An unreachable or source-less third-party entry is only a warning here;
# what matters is whether apt-get source then finds the package.
apt-get "${opts[@]}" -o "Dir::Etc::SourceParts=$apt/entries" -q update > "$apt/update.log" 2>&1 || true
# From the first entry that has it; when its server does not deliver (a
# security mirror without the files), from the others, one at a time.
source_from() { # source parts folder
    rm -f "$apt/download/"*
    (cd "$apt/download" && apt-get "${opts[@]}" -o "Dir::Etc::SourceParts=$1" -q \
        source --download-only "$src_pkg=$src_ver") >> "$apt/source.log" 2>&1
}
: > "$apt/source.log"
if ! source_from "$apt/entries"; then
    ok=0
    for e in "$apt/entries"/*; do
        rm -f "$apt/one/"*
        cp "$e" "$apt/one/"
        if source_from "$apt/one"; then ok=1; break; fi
    done
    if [ $ok = 0 ]; then
        cat "$apt/update.log" "$apt/source.log" >&2
        fail "apt-get source $src_pkg=$src_ver failed (above)"
    fi
fi
dsc=$(ls "$apt/download/"*.dsc)
orig=$(ls "$apt/download/${src_pkg}_"*.orig.tar.* | grep -v '\.asc$' | head -n 1)
debian=$(ls "$apt/download/${src_pkg}_"*.debian.tar.* 2>/dev/null | head -n 1 || true)
[ -f "$orig" ] || fail "no upstream tarball beside $dsc"

# Every header of epan/ and wsutil/ in one pass over the tarball; the wanted
# ones, and the headers they include that the installed tree lacks, from there.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src" "$work/out"
tar -xf "$orig" -C "$work/src" --strip-components=1 --wildcards '*/epan/*.h' '*/wsutil/*.h' '*/ws_*.h' ||
    fail "cannot unpack $orig"
if [ -n "$debian" ]; then
    mkdir -p "$work/debian"
    tar -xf "$debian" -C "$work/debian" || fail "cannot unpack $debian"
fi
todo=("${wanted[@]}") taken=()
while [ ${#todo[@]} -gt 0 ]; do
    h=${todo[0]}; todo=("${todo[@]:1}")
    [[ " ${taken[*]} " == *" $h "* ]] && continue
    [ -f "$work/src/$h" ] || fail "$h is not in $(basename "$orig")"
    mkdir -p "$work/out/$(dirname "$h")"
    cp "$work/src/$h" "$work/out/$h"
    taken+=("$h")
    # "x.h" resolves beside the including header, then on the include path.
    for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]\([^">]*\)[">].*/\1/p' "$work/src/$h"); do
        dir=$(dirname "$h")
        for cand in "$dir/$inc" "$inc"; do
            if [ -f "$installed/$cand" ]; then break; fi
            if [ -f "$work/src/$cand" ]; then todo+=("$cand"); break; fi
        done
    done
done
# The Debian patches that touch these headers, in series order: only their
# parts for these headers are applied (the rest of the tree is not here).
if [ -f "$work/debian/debian/patches/series" ]; then
    while read -r p _; do
        case "$p" in ''|'#'*) continue ;; esac
        pf="$work/debian/debian/patches/$p"
        [ -f "$pf" ] || continue
        for h in "${taken[@]}"; do
            # The file sections of the patch whose new name ends in /$h.
            gawk -v h="$h" '
                /^--- / { pending = $0; next }
                pending != "" && /^\+\+\+ / {
                    split($2, a, "\t"); name = a[1]
                    keep = substr(name, length(name) - length(h)) == "/" h
                    if (keep) print pending
                    pending = ""
                }
                pending != "" { if (keep) print pending; pending = "" }
                /^diff / { keep = 0 }
                keep' "$pf" > "$work/part"
            [ -s "$work/part" ] || continue
            echo "fetch-ws-headers: applying the part of debian/patches/$p for $h"
            patch -s -p1 -d "$work/src" -i "$work/part" || fail "debian/patches/$p does not apply to $h"
            cp "$work/src/$h" "$work/out/$h"
        done
    done < "$work/debian/debian/patches/series"
fi
rm -rf "$out.new"
mkdir -p "$(dirname "$out")"
cp -r "$work/out" "$out.new"
echo "$src_pkg $src_ver" > "$out.new/.source-version"
rm -rf "$out"
mv "$out.new" "$out"
rm -f "$apt/download/"*
echo "fetch-ws-headers: ${taken[*]} of $src_pkg $src_ver in $out"
