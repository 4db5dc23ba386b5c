#!/usr/bin/env bash
# Bounded memory: tshark's peak resident memory (GNU time's "Maximum
# resident set size") with the plugin, against the same run without it,
# each read in two passes (which keeps the most state: every frame's, for
# the second pass):
#   endless-line (1 MiB line), segments-100k (100 000 frames):
#       with plugin <= 1.2 x without + 16 MiB
#   endless-line-32m (a 32 MiB line with no end, 23 000 frames):
#       with plugin <= without + 24 MiB, less than the line: the plugin keeps at
#       most 64 KiB of a line, not the line
# The plugin keeps a fixed amount per frame (about 350 bytes); the bounds
# catch state that grows with the bytes of a line, or faster than the frames.
# Both runs use Wireshark's usual allocators (WIRESHARK_DEBUG_WMEM_OVERRIDE
# =block: the strict allocator's canaries would dominate the figures).
# Without the plugin, Wireshark's own SMTP dissector needs more than ten
# minutes for the 100 000 one-byte segments (it is the plugin that hands it
# whole lines) and for the 32 MiB line (it reassembles it, looking for a
# line end), so those baselines run with --disable-protocol smtp.
# Usage: memory.sh <build dir> <folder with the captures of gen-hostile.py>
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1 caps=$2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export WIRESHARK_DEBUG_WMEM_OVERRIDE=block

# Peak RSS in KiB of one tshark run; fails when tshark fails.
peak() { # tshark args...
    if ! /usr/bin/time -f %M -o "$work/rss" "$here/../tshark/tshark-as-user.sh" "$build" "$@" > /dev/null; then
        echo "FAIL: tshark $* exited with an error" >&2
        return 1
    fi
    tail -n 1 "$work/rss"
}

status=0
check() { # capture, ratio (tenths), MiB added, the baseline's extra argument (or -)
    local cap=$1 ratio=$2 add=$3 base=$4
    local extra=(); [ "$base" = - ] || extra=("$base")
    local without with bound
    without=$(SMTPLAB_NO_PLUGIN=1 peak -n -2 -r "$caps/$cap" "${extra[@]}")
    with=$(peak -n -2 -r "$caps/$cap")
    bound=$(( without * ratio / 10 + add * 1024 ))
    if [ "$with" -le "$bound" ]; then
        printf 'ok - %s: %d KiB with the plugin, %d KiB without%s (bound %d KiB)\n' \
            "$cap" "$with" "$without" "${extra[*]:+ (${extra[*]})}" "$bound"
    else
        printf 'not ok - %s: %d KiB with the plugin, %d KiB without%s: over the bound %d KiB\n' \
            "$cap" "$with" "$without" "${extra[*]:+ (${extra[*]})}" "$bound"
        status=1
    fi
}

check endless-line.pcap 12 16 -
check segments-100k.pcap 12 16 --disable-protocol=smtp
check endless-line-32m.pcap 10 24 --disable-protocol=smtp
exit $status
