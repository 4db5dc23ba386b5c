#!/usr/bin/env bash
# Compares Wireshark's own SMTP fields with and without the plugin on one
# capture: loading smtplab must not change what the built-in SMTP dissector
# shows on a clean session.
# Usage: differential.sh <build dir> <capture> [allowed-differences file]
# The optional file lists, one per line, "frame<TAB>reason" for frames where
# a difference is expected (lines the built-in dissector mis-parses), and
# "tcp:frame<TAB>reason" for a TCP reassembly that differs other than as
# expected (below), named by the frame TCP reassembled it in.
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
diff "$work/without" "$work/with" > "$work/diff" || true

# TCP's reassembly fields, two passes (tcp.reassembled_in needs them). The
# keystroke layer takes the port's payload and reassembles each line itself,
# so TCP reassembles none of it: a line TCP reassembled without the plugin has
# no TCP fields with it. That difference is expected where the keystroke
# layer gives the same segments: on the completing frame, TCP's tcp.segment
# list and the keystroke.segment run of a line completed there end together
# and one is the tail of the other (the run starts at the first typed byte,
# so segments of telnet commands only before it are TCP's alone; SMTP takes a
# DATA line's start from its segment without TCP, so that segment is the
# keystroke layer's alone), and on every earlier frame tcp.reassembled_in is
# in keystroke.line_in. Any other difference is printed as "tcp:<frame TCP
# reassembled in><TAB>...", which the allowed file can name with a reason.
tcp=(frame.number tcp.reassembled_in tcp.segment.count tcp.segment tcp.reassembled.length tcp.reassembled.data)
targs=(-2 -n -T fields -E occurrence=a -E aggregator='|')
for f in "${tcp[@]}"; do targs+=(-e "$f"); done
"$here/tshark-as-user.sh" "$build" -r "$cap" "${targs[@]}" -e keystroke.segment -e keystroke.line_in > "$work/tcp-with"
SMTPLAB_NO_PLUGIN=1 "$here/tshark-as-user.sh" "$build" -r "$cap" "${targs[@]}" > "$work/tcp-without"
paste "$work/tcp-without" "$work/tcp-with" | gawk -F'\t' '
    function within(item, list) { return index("|" list "|", "|" item "|") > 0 }
    function ends_with(list, tail) { return tail != "" && substr("|" list, length(list) - length(tail) + 1) == "|" tail }
    {
        without = $2 FS $3 FS $4 FS $5 FS $6; with = $8 FS $9 FS $10 FS $11 FS $12
        if ($1 != $7) { print "tcp:" $1 "\tframe numbers out of step (" $7 ")"; exit }
        if (without == with) next
        ok = with == "\t\t\t\t"
        if ($4 != "") {
            n = split($4, seg, "|")
            run = ""; matched = 0
            m = split($13, ks, "|")
            for (i = 1; i <= m; i++) {
                run = run == "" ? ks[i] : run "|" ks[i]
                if (ks[i] == $1) { matched = matched || ends_with($4, run) || ends_with(run, $4); run = "" }
            }
            ok = ok && n > 1 && $3 == n && seg[n] == $1 && matched
        } else ok = ok && $3 $5 $6 == ""
        n = split($2, in_, "|")
        for (i = 1; i <= n; i++) ok = ok && within(in_[i], $14)
        if (ok) same++
        else print "tcp:" ($4 != "" ? $1 : in_[1]) "\tframe " $1 ": without the plugin " without " | with it " with " | keystroke.segment " $13 " | keystroke.line_in " $14
    }
    END { print same + 0 > "'"$work/tcp-same"'" }' | cut -c1-600 > "$work/tcp-diff"
if [ -s "$work/tcp-diff" ]; then echo "--- TCP reassembly" >> "$work/diff"; cat "$work/tcp-diff" >> "$work/diff"; fi

if [ -s "$work/diff" ]; then
    if [ -n "$allowed" ]; then
        bad=$( { grep -E '^[<>]' "$work/diff" | cut -c3-; cat "$work/tcp-diff"; } | cut -f1 | sort -u | while read -r fr; do
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
echo "ok $(basename "$cap"): $(wc -l < "$work/with") frames, built-in fields identical;" \
     "$(cat "$work/tcp-same") frames with TCP reassembly fields only without the plugin, the keystroke layer's segments"
