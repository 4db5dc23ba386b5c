#!/usr/bin/env bash
# Compares Wireshark's own SMTP fields with and without the plugin on one
# capture: loading smtplab must not change what the built-in SMTP dissector
# shows on a clean session.
# Usage: differential.sh <build dir> <capture> [allowed-differences file]
# The optional file lists, one per line, "frame<TAB>reason" for frames where
# a difference is expected (lines the built-in dissector mis-parses).
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1 cap=$2 allowed=${3:-}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
# Without a file: the one ../versions/allowed/<version>/ has for a Wireshark
# version that hands this capture to the plugin differently (../versions/README.md).
. "$here/../versions/ws-version.sh"
[ -n "$allowed" ] || allowed=$(ws_allowed_differences "$(ws_version "$build")" "$cap")

fields=(frame.number smtp.req.command smtp.req.parameter smtp.response.code smtp.rsp.parameter
        smtp.data.fragment imf.from imf.to imf.subject tcp.analysis.flags frame.len)
fargs=(-n -T fields -E occurrence=a -E aggregator='|')
for f in "${fields[@]}"; do fargs+=(-e "$f"); done

"$here/tshark-as-user.sh" "$build" -r "$cap" "${fargs[@]}" > "$work/with"
SMTPLAB_NO_PLUGIN=1 "$here/tshark-as-user.sh" "$build" -r "$cap" "${fargs[@]}" > "$work/without"

if ! diff "$work/without" "$work/with" > "$work/diff"; then
    if [ -n "$allowed" ]; then
        bad=$(grep -E '^[<>]' "$work/diff" | cut -c3- | cut -f1 | sort -u | while read -r fr; do
            grep -q "^$fr	" "$allowed" || echo "$fr"; done)
        if [ -z "$bad" ]; then
            echo "ok $(basename "$cap"): differences only in the frames named in $(basename "$allowed")"
            exit 0
        fi
    fi
    echo "FAIL: $(basename "$cap"): built-in fields differ with the plugin loaded"
    cat "$work/diff"
    exit 1
fi
echo "ok $(basename "$cap"): $(wc -l < "$work/with") frames, built-in fields identical"
