#!/usr/bin/env bash
# The "SMTP Lab" flow graph on one capture (tshark -q -z flow,smtplab,standard)
# against its expected file; one pass and two passes must draw the same
# ladder; and the arrows must be exactly the frames the flow graph promises:
# SYN, SYN/ACK, FIN, RST, the ACKs of the handshake and the teardown, every
# frame that completes a line or carries a reply, TLS records; no keystroke
# and no ACK in between (checked by time stamp against smtplab.role and
# smtplab.stage, which the ladder does not print).
# Usage: flow.sh <build dir> <capture> <expected dir>
#        SMTPLAB_UPDATE=1 flow.sh ...   rewrites the expected file
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1 cap=$2 expdir=$3
. "$here/capture-lib.sh"
. "$here/../versions/ws-version.sh"
ws=$(ws_version "$build")

if ! SMTPLAB_ALLOWED_STDERR=. run -q -z help 2>&1 | grep -x '[[:space:]]*flow,smtplab' > /dev/null; then
    echo "FAIL: tshark offers no -z flow,smtplab (the plugin was built without epan/sequence_analysis.h:" \
         "cmake/fetch-ws-headers.sh, SMTPLAB_REQUIRE_FLOW)"
    exit 1
fi
run -n -q -z flow,smtplab,standard -r "$cap" > "$work/flow" 2> "$work/stderr1"
run -n -2 -q -z flow,smtplab,standard -r "$cap" > "$work/flow2" 2> "$work/stderr2"

if [ "${SMTPLAB_UPDATE:-}" = 1 ]; then
    mkdir -p "$expdir"
    ws_update_expected "$ws" "$expdir" "$name.flow" "$work/flow"
    echo "updated $expdir/$name.flow"
    exit 0
fi
status=0
exp=$(ws_expected "$ws" "$expdir" "$name.flow")
if [ -e "$exp" ]; then
    diff -u "$exp" "$work/flow" || { echo "FAIL: the flow graph differs from ${exp#"$expdir/"}"; status=1; }
else
    echo "FAIL: no expected file $name.flow"; status=1
fi
diff -u "$work/flow" "$work/flow2" || { echo "FAIL: the flow graph differs between one and two passes"; status=1; }
# Wireshark's text ladder warns on stderr when it cannot draw an item.
cat "$work/stderr1" "$work/stderr2" > "$work/stderr"
[ -s "$work/stderr" ] && { echo "FAIL: tshark wrote to stderr:"; cat "$work/stderr"; status=1; }

# The frames drawn, by their time stamps (the ladder's first column).
# Several sessions put the session's first frame before it ("37   |0.07 |").
# Both sides rounded to microseconds (the ladder prints the file's precision).
usec() { gawk '{ printf "%.6f\n", $1 }'; }
# Enter presses that ended no line have arrows of their own ("Enter sent no
# LF" in the comment) while their line has not ended; they are checked apart.
sed -En '/Enter sent no LF/d; s/^([0-9]+ *)?\|([0-9][0-9.]*) *\|.*/\2/p' "$work/flow" | usec > "$work/drawn"
sed -En '/Enter sent no LF/!d; s/^([0-9]+ *)?\|([0-9][0-9.]*) *\|.*/\2/p' "$work/flow" | usec > "$work/enters"
run -n -2 -r "$cap" -T fields -e frame.time_relative \
    -Y 'smtplab.role == "syn" || smtplab.role == "syn-ack" || smtplab.role == "fin" || smtplab.role == "rst"
        || (smtplab.role == "ack" && (smtplab.stage == "handshake" || smtplab.stage == "teardown"))
        || ((smtplab.role == "line" || smtplab.role == "reply") && keystroke.eol)
        || (smtplab.role == "data" && smtplab.stage == "tls")' | usec > "$work/promised"
diff -u "$work/promised" "$work/drawn" > "$work/frames.diff" ||
    { echo "FAIL: the arrows are not the promised frames (- promised, + drawn):"; cat "$work/frames.diff"; status=1; }
# One Enter arrow per frame with such an Enter (keystroke.enter) in a line
# that never ends in the capture (no keystroke.line_in), each on a keystroke
# frame of such a line (a bare CR is known, and drawn, at the next byte).
unended='smtplab.role == "keystroke" && !keystroke.line_in'
run -n -2 -r "$cap" -T fields -e frame.time_relative -Y "$unended" | usec > "$work/unended"
n_promised=$(run -n -2 -r "$cap" -T fields -e frame.number -Y "$unended && keystroke.enter" | wc -l)
[ "$(wc -l < "$work/enters")" = "$n_promised" ] ||
    { echo "FAIL: $(wc -l < "$work/enters") Enter arrows for $n_promised frames with an Enter in a line never ended"; status=1; }
extra=$(grep -vxFf "$work/unended" "$work/enters" || true)
[ -z "$extra" ] || { echo "FAIL: Enter arrows on frames that are not keystrokes of a line never ended: $extra"; status=1; }
# Only sessions on the plugin's ports (25 and 587): one end of every arrow.
others=$(sed -En 's/.*\(([0-9]+)\) *[<-]-+>? *\(([0-9]+)\).*/\1 \2/p' "$work/flow" |
         gawk '$1 != 25 && $1 != 587 && $2 != 25 && $2 != 587' | wc -l)
[ "$others" = 0 ] || { echo "FAIL: $others arrows between ports other than 25 and 587"; status=1; }
[ "$(grep -Ec '\([0-9]+\) *[<-]-+>? *\([0-9]+\)' "$work/flow")" = "$(($(wc -l < "$work/drawn") + $(wc -l < "$work/enters")))" ] ||
    { echo "FAIL: not one arrow per drawn frame"; status=1; }
[ $status = 0 ] && echo "ok $name: $(wc -l < "$work/drawn") arrows"
exit $status
