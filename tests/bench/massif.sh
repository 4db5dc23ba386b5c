#!/usr/bin/env bash
# Where the memory goes: tshark under valgrind's massif on a ~20k-frame
# benchmark capture (summary mode), with the smtplab plugin and without
# it, then the heap at its peak by the plugin's allocating function and
# line (massif-report.py). See tests/bench/README.md.
#
# Two things make the plugin's allocations visible:
# - WIRESHARK_DEBUG_WMEM_OVERRIDE=simple: every wmem allocation is its own
#   malloc, so massif sees who asked for it (the block allocator hands out
#   pieces of 8 MB blocks);
# - a preloaded dlclose() that does nothing: tshark unloads its plugins
#   before it exits, and massif then names the plugin's frames "???".
# The simple allocator has no chunk headers, so the figures are the bytes
# asked for; tshark's real peak is measured by run-bench.sh.
#
# Usage: massif.sh [--frames N] [--build DIR] [--out DIR]   (as profile.sh)
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=common.sh
. "$here/common.sh"
bench_small_args "$@"
command -v valgrind >/dev/null || { echo "massif.sh: valgrind missing: apt-get install valgrind" >&2; exit 1; }
command -v cc >/dev/null || { echo "massif.sh: a C compiler is needed (apt-get install gcc)" >&2; exit 1; }

bench_build

/usr/bin/python3 "$here/gen-capture.py" --frames "$frames" --out "$out/bench-$frames.pcap" > "$out/bench-$frames.pcap.json"

stage=$(mktemp -d /tmp/smtplab-massif.XXXXXX)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/with/$ver_dir/epan" "$stage/without/$ver_dir/epan" "$stage/home" "$stage/ms"
cp "$so" "$stage/with/$ver_dir/epan/"
cp "$out/bench-$frames.pcap" "$stage/"
printf 'int dlclose(void *handle) { (void)handle; return 0; }\n' > "$stage/nodlclose.c"
cc -shared -fPIC -o "$stage/nodlclose.so" "$stage/nodlclose.c"
chmod -R a+rwX "$stage"
as_user=()
[ "$(id -u)" = 0 ] && as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)

res=$out/massif-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$res"
for v in without with; do
    echo "massif: $v" >&2
    "${as_user[@]}" env -i PATH=/usr/bin:/bin HOME="$stage/home" TZ=UTC LC_ALL=C.UTF-8 \
        WIRESHARK_PLUGIN_DIR="$stage/$v" WIRESHARK_DEBUG_WMEM_OVERRIDE=simple LD_PRELOAD="$stage/nodlclose.so" \
        valgrind --tool=massif --depth=10 --threshold=0.0 --peak-inaccuracy=0.5 \
        --massif-out-file="$stage/ms/$v.out" tshark -r "$stage/bench-$frames.pcap" > /dev/null 2> "$stage/ms/$v.log"
done
cp "$stage"/ms/* "$res/"
frames_in=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["frames"])' "$out/bench-$frames.pcap.json")
/usr/bin/python3 "$here/massif-report.py" "$res" "$frames_in" | tee "$res/report.txt"
