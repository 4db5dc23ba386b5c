#!/usr/bin/env bash
# Runs tshark with the plugin on one capture and compares with its expected
# output: two-pass fields (the golden file), single-pass fields (the same,
# with the two-pass-only column keystroke.line_in empty), the summary lines
# (NULL tree), and the -V tree's line values against the fields.
# Usage: check-capture.sh <build dir> <capture> <expected dir>
#        SMTPLAB_UPDATE=1 check-capture.sh ...   rewrites the expected files
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1 cap=$2 expdir=$3
name=$(basename "$cap"); name=${name%.*}
run() { "$here/tshark-as-user.sh" "$build" "$@"; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# keystroke.line_in stays last: single-pass output has it empty.
fields=(frame.number tcp.srcport keystroke.char keystroke.index keystroke.interval
        keystroke.line keystroke.line.edited keystroke.eol keystroke.count keystroke.segment
        keystroke.backspaces keystroke.telnet.command keystroke.telnet.option
        smtp.req.command smtp.req.parameter smtp.response.code _ws.expert.message
        keystroke.line_in)
fargs=(-T fields -E occurrence=a -E aggregator='|')
for f in "${fields[@]}"; do fargs+=(-e "$f"); done
# Keystroke intervals are recorded times; the golden keeps whether one is
# there, not its value.
mask='BEGIN{FS=OFS="\t"} {if ($5 != "") $5 = "t"; print}'

run -n -2 -r "$cap" "${fargs[@]}" | awk "$mask" > "$work/two"
run -n -r "$cap" "${fargs[@]}" | awk "$mask" > "$work/one"
run -n -r "$cap" > "$work/summary"
run -n -2 -V -r "$cap" > "$work/verbose"

if [ "${SMTPLAB_UPDATE:-}" = 1 ]; then
    cp "$work/two" "$expdir/$name.fields"
    cp "$work/summary" "$expdir/$name.summary"
    echo "updated $expdir/$name.{fields,summary}"
    exit 0
fi

status=0
diff -u "$expdir/$name.fields" "$work/two" || { echo "FAIL: two-pass fields differ from $name.fields"; status=1; }
awk 'BEGIN{FS=OFS="\t"} {$NF = ""; print}' "$expdir/$name.fields" > "$work/one.expected"
diff -u "$work/one.expected" "$work/one" || { echo "FAIL: single-pass fields differ (line_in aside)"; status=1; }
diff -u "$expdir/$name.summary" "$work/summary" || { echo "FAIL: summary lines (no tree) differ from $name.summary"; status=1; }
# The full tree shows each line "as meant" that the fields show, in order.
grep -o '\[Line as meant: .*\]$' "$work/verbose" | sed 's/^\[Line as meant: //; s/\]$//' > "$work/v.meant"
cut -f7 "$work/two" | tr '|' '\n' | sed '/^$/d' > "$work/f.meant"
diff -u "$work/f.meant" "$work/v.meant" || { echo "FAIL: -V tree and fields disagree on keystroke.line.edited"; status=1; }
[ -s "$expdir/$name.fields" ] || { echo "FAIL: empty expected file"; status=1; }
[ $status = 0 ] && echo "ok $name: $(wc -l < "$work/two") frames, $(wc -l < "$work/f.meant") lines"
exit $status
