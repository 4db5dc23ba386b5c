#!/usr/bin/env bash
# valgrind memcheck over the test captures: tshark with the plugin reads
# all of them, concatenated into one file (mergecap -a, so tshark starts
# once under valgrind), and no error may have a frame in smtplab.so:
# invalid reads and writes, uses of uninitialised values, and blocks
# definitely lost. Wireshark and GLib leak at exit; their own errors are
# counted and ignored (plugin-errors.py).
# As Wireshark's tools/valgrind-wireshark.sh does, every wmem allocation is
# a plain malloc (WIRESHARK_DEBUG_WMEM_OVERRIDE=simple, G_SLICE=always-malloc)
# so that valgrind sees each one.
# Usage: valgrind.sh <build dir> <report dir> <tshark options> <capture>...
#        e.g. valgrind.sh build build/valgrind "-2 -nVx" tests/captures/*.pcapng
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1 reports=$2 opts=$3; shift 3
ver_dir=$(cd "$build/plugins" && ls -d */ | head -n 1)
stage=$(mktemp -d /tmp/smtplab-valgrind.XXXXXX)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/plugins/${ver_dir%/}/epan" "$stage/home" "$reports"
cp "$build/plugins/${ver_dir%/}/epan/smtplab.so" "$stage/plugins/${ver_dir%/}/epan/"
mergecap -a -F pcapng -w "$stage/all.pcapng" "$@"
chmod -R a+rwX "$stage"
name=$(echo "$opts" | tr -c 'A-Za-z0-9\n' _)
xml="$reports/memcheck$name.xml"
rm -f "$xml"

envs=(env -i PATH=/usr/bin:/bin HOME="$stage/home" TZ=UTC LC_ALL=C.UTF-8
      WIRESHARK_PLUGIN_DIR="$stage/plugins" WIRESHARK_DEBUG_WMEM_OVERRIDE=simple G_SLICE=always-malloc
      WIRESHARK_ABORT_ON_DISSECTOR_BUG=1)
vg=(valgrind --tool=memcheck --xml=yes --xml-file="$stage/memcheck.xml" --leak-check=full
    --show-leak-kinds=definite --errors-for-leak-kinds=definite --track-origins=yes --num-callers=40)
user=()
[ "$(id -u)" = 0 ] && user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
rc=0
# shellcheck disable=SC2086
"${user[@]}" "${envs[@]}" "${vg[@]}" tshark $opts -r "$stage/all.pcapng" > /dev/null 2> "$stage/stderr" || rc=$?
cp "$stage/memcheck.xml" "$xml" 2>/dev/null || true
if [ $rc != 0 ]; then
    echo "FAIL: tshark $opts under valgrind exited with $rc"
    tail -n 20 "$stage/stderr"
    exit 1
fi
echo "tshark $opts under valgrind: $(capinfos -c -M "$stage/all.pcapng" | sed -n 's/^Number of packets: *//p') frames of $# captures; report $xml"
/usr/bin/python3 "$here/plugin-errors.py" "$xml"
