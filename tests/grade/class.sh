#!/usr/bin/env bash
# ctest grade.class: smtplab-grade on a generated class (make-class.py: 52
# inputs in a course platform's zip, every kind of bad input among them)
# must write exactly the expected CSV, JSON and summary, exit 1 (five inputs
# cannot be read completely), and agree with the bundled captures' truth
# lists (check-truth.py). Without the plugin it must refuse to grade (exit
# 2), so a missing plugin cannot pass. SMTPLAB_UPDATE=1 rewrites the
# expected files (then read the diff).
# Usage: class.sh <build dir> <source dir>
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
build=$1 src=$2
here=$src/tests/grade expected=$src/tests/grade/expected
work=$(mktemp -d /tmp/smtplab-grade-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "grade.class: FAILED: $*" >&2; exit 1; }
python3 "$here/make-class.py" "$work/submissions.zip" "$work/manifest.json" "$src/tests/captures" "$src/../shared/captures"
tshark="$src/tests/tshark/tshark-as-user.sh $build"
cd "$work"
# tshark exits 2 on the bad captures: the grader judges that, not the wrapper.
export SMTPLAB_UNCHECKED=1
rc=0
python3 "$src/plugin/grade/smtplab-grade" --tshark "$tshark" -j2 --progress never submissions.zip \
    > summary.txt 2> stderr.txt || rc=$?
cat summary.txt
[ ! -s stderr.txt ] || fail "stderr: $(head -c 500 stderr.txt)"
[ "$rc" = 1 ] || fail "exit status $rc, expected 1 (5 inputs cannot be read completely)"
if [ "${SMTPLAB_UPDATE:-}" = 1 ]; then
    mkdir -p "$expected"
    cp smtplab-grades/grades.csv smtplab-grades/grades.json "$expected/"
    cp summary.txt "$expected/summary.txt"
fi
diff -u "$expected/grades.csv" smtplab-grades/grades.csv || fail "grades.csv differs from the expected"
diff -u "$expected/grades.json" smtplab-grades/grades.json > json.diff || { head -100 json.diff; fail "grades.json differs from the expected"; }
diff -u "$expected/summary.txt" summary.txt || fail "the summary differs from the expected"
python3 "$here/check-truth.py" smtplab-grades/grades.json smtplab-grades/grades.csv manifest.json "$src/tests/truth" ||
    fail "the grades disagree with the truth lists"
# Without the plugin: no grades at all, exit 2 and the reason.
rc=0
SMTPLAB_NO_PLUGIN=1 python3 "$src/plugin/grade/smtplab-grade" --tshark "$tshark" -o none --progress never \
    submissions.zip > /dev/null 2> noplugin.txt || rc=$?
[ "$rc" = 2 ] && grep -q 'does not load the smtplab plugin' noplugin.txt ||
    fail "without the plugin: exit $rc, $(cat noplugin.txt)"
[ ! -e none ] || fail "without the plugin it wrote outputs"
echo "grade.class: passed"
