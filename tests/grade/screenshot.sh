#!/usr/bin/env bash
# The picture of README's "Grading a class": smtplab-grade's HTML page of the
# generated class (make-class.py) in Debian's chromium, headless. Not a test.
# Usage: bash tests/grade/screenshot.sh [BUILD_DIR [OUT_DIR]]
#   default: build, tests/grade/screenshots: class-page.png (the top of the
#   page) and student-ladder.png (the section of Ingrid Berg, telnet in
#   character mode: CR NUL, telnet negotiation, an error reply)
# Needs: chromium, imagemagick (convert), the plugin built in BUILD_DIR.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
out=${2:-$src/tests/grade/screenshots}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d /tmp/smtplab-grade-shot.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 "$src/tests/grade/make-class.py" "$work/submissions.zip" "$work/manifest.json" "$src/tests/captures" "$src/../shared/captures"
cd "$work"
SMTPLAB_UNCHECKED=1 python3 "$src/plugin/grade/smtplab-grade" --tshark "$src/tests/tshark/tshark-as-user.sh $build" \
    -j2 --html --progress never submissions.zip > /dev/null || true
[ -s smtplab-grades/grades.html ] || { echo "screenshot.sh: no grades.html" >&2; exit 1; }
# shot NAME URL: a 1400x1800 picture of URL, as a 256-colour PNG.
shot() {
    # --no-sandbox: chromium's sandbox does not run as root.
    timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,1800 \
        --virtual-time-budget=5000 --screenshot="$work/$1.png" "$2" 2> /dev/null
    /usr/bin/convert "$work/$1.png" -strip +dither -colors 256 "PNG8:$out/$1.png"
    echo "screenshot.sh: wrote $out/$1.png ($(stat -c %s "$out/$1.png") bytes)"
}
page="file://$work/smtplab-grades/grades.html"
shot class-page "$page"
# The student's section alone: a copy of the page with a style that hides
# the rest (chromium's headless screenshot does not scroll to an anchor).
anchor=$(grep -o '<a href="#s[0-9]*">Ingrid Berg</a>' smtplab-grades/grades.html | sed 's/.*href="#\([^"]*\)".*/\1/')
[ -n "$anchor" ] || { echo "screenshot.sh: no section for Ingrid Berg" >&2; exit 1; }
sed "s|</head>|<style>body > :not(.student), .student:not(#$anchor) { display: none }</style></head>|" \
    smtplab-grades/grades.html > smtplab-grades/one-student.html
shot student-ladder "file://$work/smtplab-grades/one-student.html"
