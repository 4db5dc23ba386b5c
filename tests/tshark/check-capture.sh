#!/usr/bin/env bash
# Runs tshark with the plugin on one capture and compares with its expected
# output: the fields of a two-pass run and of a single-pass run (they differ
# only where a value needs the whole capture: forward links, completeness,
# the stage of a line still being typed), the summary lines (NULL tree), and
# the -V tree's lines against the fields; and that Wireshark cut no expert
# message (239 bytes or more).
# Usage: check-capture.sh <build dir> <capture> <expected dir>
#        SMTPLAB_UPDATE=1 check-capture.sh ...   rewrites the expected files
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1 cap=$2 expdir=$3
. "$here/capture-lib.sh"
# Where Wireshark's own output changed after 4.0, <expdir>/<version>/ holds
# that version's file (../versions/README.md).
. "$here/../versions/ws-version.sh"
ws=$(ws_version "$build")

fields=("${golden_fields[@]}")
# SMTPLAB_FIELDS=compact (for long public captures): without the bytes of
# every segment and line, which would make the expected files large.
if [ "${SMTPLAB_FIELDS:-}" = compact ]; then
    fields=(frame.number tcp.srcport tcp.len keystroke.index keystroke.eol keystroke.count
            keystroke.backspaces keystroke.telnet.command smtp.req.command smtp.response.code
            smtplab.stage smtplab.role smtplab.activity smtplab.response_in smtplab.request_in
            smtplab.time smtplab.progress smtplab.complete _ws.expert.message)
fi
fargs=(-n -T fields -E header=y -E occurrence=a -E aggregator='|')
for f in "${fields[@]}"; do fargs+=(-e "$f"); done

run -2 -r "$cap" "${fargs[@]}" > "$work/2pass"
run -r "$cap" "${fargs[@]}" > "$work/1pass"
run -n -r "$cap" > "$work/summary"
run -n -2 -V -r "$cap" > "$work/verbose"
# No expert message is cut (capture-lib.sh), in update mode too.
cut=0
check_expert_lengths || cut=1

if [ "${SMTPLAB_UPDATE:-}" = 1 ]; then
    mkdir -p "$expdir"
    for k in 2pass 1pass summary; do ws_update_expected "$ws" "$expdir" "$name.$k" "$work/$k"; done
    echo "updated $expdir/$name.{2pass,1pass,summary}"
    status=0
    check_truth "$expdir" || status=$?
    [ $cut = 0 ] || status=1
    exit $status
fi

status=$cut
for k in 2pass 1pass summary; do
    exp=$(ws_expected "$ws" "$expdir" "$name.$k")
    [ -s "$exp" ] || { echo "FAIL: no expected file $name.$k"; status=1; continue; }
    diff -u "$exp" "$work/$k" || { echo "FAIL: $k output differs from ${exp#"$expdir/"}"; status=1; }
done
# The full tree shows the same lines as meant, and the same stages.
col() { awk -F'\t' -v c="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) n = i; next } { print $n }' "$work/2pass"; }
# Each line's heading is its keystroke.line.edited: "Line: <meant> [CRLF,
# 18 segments]". A label over Wireshark's 240 bytes is cut, " [truncated]Line:
# …", and shows the start of the line, which then only has to begin the
# field's value.
{ grep -aE '^    ( \[truncated\])?Line: ' "$work/verbose" || true; } |
    sed -E 's/^    Line: (.*) \[[^][]*, [0-9]+ segments?\]$/=\1/; s/^     \[truncated\]Line: /</' > "$work/v.meant"
# One entry per line ending (a line as meant may be empty).
awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "keystroke.line.edited") m = i; if ($i == "keystroke.eol") e = i }; next }
    $e != "" { n = split($e, eols, "|"); split($m, lines, "|"); for (i = 1; i <= n; i++) print lines[i] }' "$work/2pass" > "$work/f.meant"
if [ "${SMTPLAB_FIELDS:-}" != compact ]; then
    # v.meant as f.meant would be: a cut label is replaced by the field's value when that begins with it.
    awk 'NR == FNR { f[FNR] = $0; next }
         { t = substr($0, 2); if (substr($0, 1, 1) == "<" && index(f[FNR], t) == 1) t = f[FNR]; print t }' \
        "$work/f.meant" "$work/v.meant" > "$work/v.meant.full"
    diff -u "$work/f.meant" "$work/v.meant.full" || { echo "FAIL: -V tree and fields disagree on keystroke.line.edited"; status=1; }
fi
{ grep -o '\[Stage: .*\]$' "$work/verbose" || true; } | sed 's/^\[Stage: //; s/\]$//' > "$work/v.stage"
# A frame with lines of several stages has one Stage item each.
col smtplab.stage | sed '/^$/d' | tr '|' '\n' > "$work/f.stage"
diff -u "$work/f.stage" "$work/v.stage" || { echo "FAIL: -V tree and fields disagree on smtplab.stage"; status=1; }
[ $status = 0 ] && echo "ok $name: $(($(wc -l < "$work/2pass") - 1)) frames, $(wc -l < "$work/f.meant") lines, $(wc -l < "$work/f.stage") staged frames"
exit $status
