#!/usr/bin/env bash
# Where the time goes: tshark under valgrind's callgrind on a ~20k-frame
# benchmark capture, with the smtplab plugin and without it, in the
# no-tree (summary), fields and two-pass full-tree (-2 -V) modes, plus the
# start-up cost (an empty capture). Fields mode also runs the plugin with
# the no-plugin command (to separate printing the two extra columns) and
# with smtplab disabled (the keystroke layer alone). Instruction counts
# (Ir) are exact and repeatable, unlike timings on a shared machine. See
# tests/bench/README.md.
#
# Usage: profile.sh [--frames N] [--build DIR] [--out DIR]
#   --frames N    capture size (default 20000)
#   --build DIR   use DIR/plugins/<X.Y>/epan/smtplab.so (default: build
#                 <repo>/build/bench/plugin-build, RelWithDebInfo)
#   --out DIR     captures and profiles (default <repo>/build/bench)
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=common.sh
. "$here/common.sh"
bench_small_args "$@"
command -v valgrind >/dev/null || { echo "profile.sh: valgrind missing: apt-get install valgrind" >&2; exit 1; }

bench_build

for n in 0 "$frames"; do
    /usr/bin/python3 "$here/gen-capture.py" --frames "$n" --out "$out/bench-$n.pcap" > "$out/bench-$n.pcap.json"
done

stage=$(mktemp -d /tmp/smtplab-bench.XXXXXX)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/with/$ver_dir/epan" "$stage/without/$ver_dir/epan" "$stage/home" "$stage/files" "$stage/cg"
cp "$so" "$stage/with/$ver_dir/epan/"
cp "$out/bench-0.pcap" "$out/bench-$frames.pcap" "$stage/files/"
chmod -R a+rwX "$stage"
as_user=()
[ "$(id -u)" = 0 ] && as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)

prof=$out/profile-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$prof"
# name, plugin folder, tshark arguments (@CAP@ = the capture)
while IFS='|' read -r name plugins args; do
    read -r -a argv <<< "${args//@CAP@/$stage/files/bench-$frames.pcap}"
    argv=("${argv[@]//@EMPTY@/$stage/files/bench-0.pcap}")
    echo "callgrind: $name" >&2
    "${as_user[@]}" env -i PATH=/usr/bin:/bin HOME="$stage/home" TZ=UTC LC_ALL=C.UTF-8 \
        WIRESHARK_PLUGIN_DIR="$stage/$plugins" \
        valgrind --tool=callgrind --callgrind-out-file="$stage/cg/$name.out" tshark "${argv[@]}" \
        > /dev/null 2> "$stage/cg/$name.log"
done <<'EOF'
startup.noplugin|without|-r @EMPTY@
startup.plugin|with|-r @EMPTY@
summary.noplugin|without|-r @CAP@
summary.plugin|with|-r @CAP@
summary.nosmtp|without|--disable-protocol smtp -r @CAP@
summary.data|without|-d tcp.port==25,data -d tcp.port==587,data -r @CAP@
summary.plugin-off|with|--disable-protocol keystroke --disable-protocol smtplab -r @CAP@
fields.noplugin|without|-r @CAP@ -T fields -e smtp.req.command
fields.plugin|with|-r @CAP@ -T fields -e smtp.req.command -e smtplab.stage -e keystroke.line
fields.plugin-same|with|-r @CAP@ -T fields -e smtp.req.command
fields.keystroke-only|with|--disable-protocol smtplab -r @CAP@ -T fields -e smtp.req.command -e smtplab.stage -e keystroke.line
tree2.noplugin|without|-2 -r @CAP@ -V
tree2.plugin|with|-2 -r @CAP@ -V
EOF
cp "$stage"/cg/* "$prof/"
frames_in=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["frames"])' "$out/bench-$frames.pcap.json")
/usr/bin/python3 "$here/profile-report.py" "$prof" "$frames_in" | tee "$prof/report.txt"
