#!/usr/bin/env bash
# The plugin's tshark reports on one capture, against expected files: the
# statistics tree (-z smtplab,tree) in one pass and in two, and the
# per-session report (-z smtplab,report, text and JSON), which must be the
# same in one pass and in two.
# Usage: reports.sh <build dir> <capture> <expected dir>
#        SMTPLAB_UPDATE=1 reports.sh ...   rewrites the expected files
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1 cap=$2 expdir=$3
. "$here/capture-lib.sh"

run -n -q -z smtplab,tree -r "$cap" > "$work/tree1"
run -n -2 -q -z smtplab,tree -r "$cap" > "$work/tree2"
run -n -q -z smtplab,report -r "$cap" > "$work/report"
run -n -2 -q -z smtplab,report -r "$cap" > "$work/report2"
run -n -q -z smtplab,report,json -r "$cap" > "$work/json"
run -n -2 -q -z smtplab,report,json -r "$cap" > "$work/json2"

if [ "${SMTPLAB_UPDATE:-}" = 1 ]; then
    mkdir -p "$expdir"
    for k in tree1 tree2 report json; do cp "$work/$k" "$expdir/$name.$k"; done
    echo "updated $expdir/$name.{tree1,tree2,report,json}"
    check_truth "$expdir"
    exit
fi
status=0
for k in tree1 tree2 report json; do
    [ -s "$expdir/$name.$k" ] || { echo "FAIL: no expected file $name.$k"; status=1; continue; }
    diff -u "$expdir/$name.$k" "$work/$k" || { echo "FAIL: $k differs from $name.$k"; status=1; }
done
diff -u "$work/report" "$work/report2" || { echo "FAIL: the report differs between one and two passes"; status=1; }
diff -u "$work/json" "$work/json2" || { echo "FAIL: the JSON report differs between one and two passes"; status=1; }
# One JSON object per session, one per line, and as many as text blocks.
check_json=$(grep -vc '^{"session":[0-9]*,.*"complete":\(true\|false\)}$' "$work/json" || true)
[ "$check_json" = 0 ] || { echo "FAIL: $check_json JSON lines are not session objects"; status=1; }
[ "$(grep -c '^Session [0-9]*:' "$work/report")" = "$(wc -l < "$work/json")" ] ||
    { echo "FAIL: text and JSON reports count different sessions"; status=1; }
[ $status = 0 ] && echo "ok $name: $(wc -l < "$work/json") sessions"
exit $status
