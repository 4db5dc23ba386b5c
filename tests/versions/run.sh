#!/usr/bin/env bash
# smtplab on the Wireshark of other Debian releases: for each release a
# minimal chroot made with debootstrap (trixie: Wireshark 4.4, sid: 4.6),
# with the packages the build and the tests need (cmake/setup.sh's list).
# In it: the plugin built out of tree from this working tree (mounted
# read-only), the unit and tshark tests (ctest), the .deb built with CPack,
# installed with apt and checked with tshark as a normal user
# (in-chroot.sh). Finally the .deb of the host's own build is checked too.
#
# Usage: run.sh [--refresh] [--labels REGEX] [--update-expected] <build dir> [release...]
#   --refresh          make the chroots again (else they are reused)
#   --labels REGEX     ctest labels to run in the chroots (default unit|tshark)
#   --update-expected  rewrite tests/tshark/expected/<X.Y>/ where the
#                      release's Wireshark prints something else (mounts
#                      the working tree read-write)
# The chroots are kept in <build>/chroots/<release>; every run works in a
# throw-away overlay on top (so the cached chroot never changes), and the
# packages are copied to <build>/packages/<release>/.
# Needs root (debootstrap, chroot, mount): exits 77 (ctest: skipped) otherwise.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
. "$here/ws-version.sh"
refresh=0 update="" labels='unit|tshark'
while [ $# -gt 0 ]; do
    case "$1" in
    --refresh) refresh=1 ;;
    --update-expected) update=update ;;
    --labels) labels=$2; shift ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
    shift
done
[ $# -ge 1 ] || { sed -n 's/^# \{0,1\}//; /^Usage/,/^Needs root/p' "$0" >&2; exit 2; }
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root (debootstrap, chroot and mounts); run as root: $0 $*"
    exit 77
fi
build=$(mkdir -p "$1" && cd "$1" && pwd); shift
releases=("$@")
[ ${#releases[@]} -gt 0 ] || releases=(trixie sid)
command -v debootstrap > /dev/null ||
    { echo "FAIL: debootstrap is not installed (apt-get install debootstrap; cmake/setup.sh installs it)"; exit 1; }

mirror=${SMTPLAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${SMTPLAB_DEBIAN_SECURITY_MIRROR:-http://security.debian.org/debian-security}
jobs=$(nproc)
chroots="$build/chroots"
mkdir -p "$chroots"
# The packages of cmake/setup.sh's first list (build and run), what the
# tshark tests call (setup.sh's first test list), and what CPack runs for
# the package's Depends (dpkg-shlibdeps, file).
read -r -a packages <<< "$(sed -n 's/^packages=(\(.*\))$/\1/p' "$src/cmake/setup.sh")"
[ ${#packages[@]} -gt 0 ] || { echo "FAIL: no packages=(...) line in cmake/setup.sh"; exit 1; }
packages+=(util-linux diffutils dpkg-dev file)

# Mounts, unmounted in reverse order on exit, also after a failure.
mounted=()
mnt() { mount "$@"; mounted+=("${!#}"); }
unmount_all() {
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" || true
    done
    mounted=()
}
# Whatever an interrupted run left mounted under a folder.
unmount_under() {
    local m
    findmnt -rn -o TARGET | awk -v d="$1/" 'index($0, d) == 1' | sort -r | while read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m"
    done
}
# rm -rf, never through a mount point (a bind mount of the working tree or /dev).
safe_rm() {
    unmount_under "$1"
    if findmnt -rn -o TARGET | awk -v d="$1" '$0 == d || index($0, d "/") == 1' | grep -q .; then
        echo "FAIL: something is still mounted under $1: not removing it"; exit 1
    fi
    rm -rf --one-file-system "$1"
}
# /proc, /dev, /dev/pts and a fresh /tmp inside a chroot.
mount_system() {
    mnt -t proc proc "$1/proc"
    mnt --bind /dev "$1/dev"
    mnt --bind /dev/pts "$1/dev/pts"
    mnt -t tmpfs -o mode=1777 tmpfs "$1/tmp"
}
trap unmount_all EXIT
trap 'exit 130' INT TERM

in_root() { # root, command...
    local root=$1; shift
    chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive "$@"
}

# apt-get update in a chroot. A mirror frozen in time (a snapshot) serves
# Release files past their Valid-Until date, which apt refuses: only then,
# and saying so, the chroot's apt stops checking that date (signatures are
# still checked).
apt_update() { # root
    local out rc=0
    out=$(in_root "$1" apt-get update -q 2>&1) || rc=$?
    if echo "$out" | grep -q 'is expired'; then
        echo "WARNING: the mirror's Release file is past its Valid-Until date; this chroot's apt no longer checks it"
        echo 'Acquire::Check-Valid-Until "false";' > "$1/etc/apt/apt.conf.d/99smtplab-snapshot-mirror"
        out=$(in_root "$1" apt-get update -q 2>&1) && rc=0 || rc=$?
    fi
    [ $rc = 0 ] || { echo "$out"; return 1; }
}

# The cached chroot of a release: made when missing (or --refresh), given
# the packages missing when the list changed.
make_base() { # release
    local rel=$1 dir="$chroots/$1" new="$chroots/$1.new" t0=$SECONDS
    if [ $refresh = 0 ] && [ -f "$dir/.smtplab-packages" ]; then
        if [ "$(cat "$dir/.smtplab-packages")" = "${packages[*]}" ]; then
            echo "== [$rel] reusing $dir"
            return
        fi
        echo "== [$rel] the package list changed: installing it in $dir"
        mount_system "$dir"
        apt_update "$dir"
        in_root "$dir" apt-get install -y -q --no-install-recommends "${packages[@]}"
        in_root "$dir" apt-get clean
        unmount_all
        echo "${packages[*]}" > "$dir/.smtplab-packages"
        return
    fi
    safe_rm "$new"
    echo "== [$rel] debootstrap --variant=minbase $rel ($mirror)"
    debootstrap --variant=minbase "$rel" "$new" "$mirror" > "$chroots/$rel.debootstrap.log" 2>&1 ||
        { tail -n 20 "$chroots/$rel.debootstrap.log"; echo "FAIL: debootstrap $rel"; return 1; }
    {
        echo "deb $mirror $rel main"
        if [ "$rel" != sid ] && [ "$rel" != unstable ]; then
            echo "deb $mirror $rel-updates main"
            echo "deb $security $rel-security main"
        fi
    } > "$new/etc/apt/sources.list"
    mount_system "$new"
    apt_update "$new"
    in_root "$new" apt-get install -y -q --no-install-recommends "${packages[@]}"
    in_root "$new" apt-get clean
    unmount_all
    echo "${packages[*]}" > "$new/.smtplab-packages"
    safe_rm "$dir"
    mv "$new" "$dir"
    echo "== [$rel] chroot made in $((SECONDS - t0)) s: $(in_root "$dir" dpkg-query -W -f='tshark ${Version}' tshark)"
}

# One release: build, tests and the package, in an overlay on the cached chroot.
run_release() { # release
    local rel=$1 base="$chroots/$1" root="$chroots/$1.run" scratch="$chroots/$1.scratch" status=0
    safe_rm "$root"
    safe_rm "$scratch"
    mkdir -p "$root" "$scratch/upper" "$scratch/work"
    if ! mnt -t overlay overlay -o "lowerdir=$base,upperdir=$scratch/upper,workdir=$scratch/work" "$root" 2>/dev/null; then
        echo "== [$rel] no overlayfs here: working in a copy of the chroot"
        cp -a "$base/." "$root/"
    fi
    mount_system "$root"
    mkdir -p "$root/src/main"
    if [ -n "$update" ]; then mnt --bind "$src" "$root/src/main"; else mnt --bind -o ro "$src" "$root/src/main"; fi
    # The public captures beside the clone (tests/tshark/CMakeLists.txt).
    if [ -d "$src/../shared/captures" ]; then
        mkdir -p "$root/src/shared/captures"
        mnt --bind -o ro "$src/../shared/captures" "$root/src/shared/captures"
    fi
    in_root "$root" /src/main/tests/versions/in-chroot.sh "$rel" /src/main /build "$labels" "$jobs" $update || status=1
    # The plugin's part of every row where this Wireshark's expected files
    # differ from 4.0's: the same with the host's 4.0 build?
    if [ -f "$root/build/audit.txt" ] && [ -d "$build/plugins" ]; then
        local v audit="$build/versions/$rel.audit"
        v=$(ws_version "$root/build")
        mkdir -p "$build/versions"
        cp "$root/build/audit.txt" "$audit"
        {
            "$here/audit-expected.sh" "$build" "$v" "$src/tests/tshark/expected" "$src"/tests/captures/*.pcapng
            if [ -d "$src/../shared/captures" ]; then
                "$here/audit-expected.sh" "$build" "$v" "$src/tests/tshark/expected/shared" "$src"/../shared/captures/*.pcap
            fi
        } > "$audit.host" || status=1
        # Differences explained in accepted-<V>.diff are the only ones allowed.
        diff -u "$audit.host" "$audit" > "$audit.diff" || true
        grep -E '^[-+]' "$audit.diff" | grep -vE '^(---|\+\+\+) ' > "$audit.changes" || true
        if [ ! -s "$audit.changes" ]; then
            echo "== [$rel] audit: in the $(grep -c . "$audit") rows where Wireshark $v's expected files differ, the plugin's part is the same as with $(ws_version "$build")"
        elif [ -f "$here/accepted-$v.diff" ] && grep -v '^#' "$here/accepted-$v.diff" | cmp -s - "$audit.changes"; then
            echo "== [$rel] audit: in the $(grep -c . "$audit") rows where Wireshark $v's expected files differ, the plugin's part is the same as with $(ws_version "$build"), but for the $(grep -c . "$audit.changes") lines explained in accepted-$v.diff"
        else
            cat "$audit.diff"
            echo "FAIL: [$rel] the plugin's part of rows in Wireshark $v's expected files differs from $(ws_version "$build")'s (and is not what accepted-$v.diff explains)"
            status=1
        fi
    fi
    mkdir -p "$build/packages/$rel"
    rm -f "$build/packages/$rel"/smtplab_*.deb
    cp "$root"/build/packages/smtplab_*.deb "$build/packages/$rel/" 2>/dev/null || true
    unmount_all
    safe_rm "$root"
    safe_rm "$scratch"
    return $status
}

# Leftovers of an interrupted run.
unmount_under "$chroots"

# The chroots, made side by side (mostly downloading), each with its log.
t0=$SECONDS
pids=()
for rel in "${releases[@]}"; do
    ( trap unmount_all EXIT; make_base "$rel" ) > "$chroots/$rel.make.log" 2>&1 &
    pids+=($!)
done
fail=0
for i in "${!releases[@]}"; do
    if wait "${pids[i]}"; then
        grep -E '^(== |WARNING)' "$chroots/${releases[i]}.make.log"
    else
        tail -n 30 "$chroots/${releases[i]}.make.log"
        echo "FAIL: could not make the ${releases[i]} chroot (log: $chroots/${releases[i]}.make.log)"
        fail=1
    fi
done
[ $fail = 0 ] || exit 1
echo "== chroots ready in $((SECONDS - t0)) s"

results=()
for rel in "${releases[@]}"; do
    t0=$SECONDS
    if run_release "$rel"; then r=ok; else r=FAILED; fail=1; fi
    results+=("$rel: $r in $((SECONDS - t0)) s")
done

# The host's own Wireshark: its .deb (built, not installed here).
if [ -f "$build/CPackConfig.cmake" ]; then
    echo
    echo "== [host] cpack -G DEB in $build"
    t0=$SECONDS
    (cd "$build" && cpack -G DEB > cpack.log) || { cat "$build/cpack.log"; fail=1; }
    for deb in "$build"/packages/smtplab_*.deb; do
        echo "$(basename "$deb"):"
        dpkg-deb -f "$deb" Package Version Depends | sed 's/^/    /'
        dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { $1 = $2 = $3 = $4 = $5 = ""; sub(/^ +/, ""); print "    " $0 }'
    done
    results+=("host: package built in $((SECONDS - t0)) s")
fi

echo
printf '%s\n' "${results[@]}"
exit $fail
