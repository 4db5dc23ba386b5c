#!/usr/bin/env bash
# ctest grade.browser: the HTML page of the generated class opened in
# Debian's chromium, headless: browser-check.html loads it in a frame, sorts
# the class table by score both ways, and finds the expected rows, ladders,
# diagnoses beside their arrows, typing timelines and the summary chart.
# Any message on the browser's console (a script error, a blocked request)
# fails the test.
# Usage: browser.sh <build dir> <source dir>
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
build=$1 src=$2
fail() { echo "grade.browser: FAILED: $*" >&2; exit 1; }
command -v chromium > /dev/null || fail "no chromium (apt-get install chromium; cmake/setup.sh test installs it)"
work=$(mktemp -d /tmp/smtplab-grade-browser.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 "$src/tests/grade/make-class.py" "$work/submissions.zip" "$work/manifest.json" "$src/tests/captures" "$src/../shared/captures"
cd "$work"
rc=0
SMTPLAB_UNCHECKED=1 python3 "$src/plugin/grade/smtplab-grade" --tshark "$src/tests/tshark/tshark-as-user.sh $build" \
    -j2 --html --progress never submissions.zip > /dev/null || rc=$?
[ "$rc" = 1 ] || fail "smtplab-grade exited $rc, expected 1"
cp "$src/tests/grade/browser-check.html" .
# --no-sandbox: chromium's sandbox does not run as root (CI runs as root).
timeout 120 chromium --headless --no-sandbox --disable-gpu --allow-file-access-from-files \
    --enable-logging=stderr --v=0 --virtual-time-budget=10000 --dump-dom "file://$work/browser-check.html" \
    > dom.html 2> console.txt || fail "chromium failed: $(tail -5 console.txt)"
result=$(sed -n '/<pre id="result">/,/<\/pre>/p' dom.html)
echo "$result"
grep -q '<pre id="result">PASS</pre>' dom.html || fail "the page checks failed"
if grep -F 'CONSOLE' console.txt; then
    fail "messages on the browser console"
fi
echo "grade.browser: passed"
