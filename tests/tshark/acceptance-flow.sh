#!/usr/bin/env bash
# The "SMTP Lab" flow graph's promises (issue 4, item 5), each checked by
# name on a recorded capture: tshark offers -z flow,smtplab; a typed session
# is drawn with one arrow per typed line, not one per keystroke; each reply
# with its code; the handshake and the teardown; nothing else.
# Usage: acceptance-flow.sh <build dir> <captures dir>
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1 caps=$2
. "$here/check-lib.sh"
# The arrows of a two-node ladder as "direction comment", one per line: the
# ladder is 40 columns and a "|" after the time column, then the comment.
arrows() { # capture, extra tshark options...
    local cap=$1; shift
    run -n -q "$@" -z flow,smtplab,standard -r "$caps/$cap" | gawk '
        /^\|[0-9.]+ *\|/ { sub(/^\|[0-9.]+ *\|/, ""); comment = substr($0, 41); next }
        /-->|<--/ { print (/-->/ ? "c>s " : "s>c ") comment }'
}
count() { grep -c "$2" <<<"$1" || true; }

check "tshark -z help offers flow,smtplab" "$(SMTPLAB_ALLOWED_STDERR=. run -q -z help 2>&1 | grep -cx '[[:space:]]*flow,smtplab')" "1"

lab=$(arrows typed-lab.pcapng)
typed=$(run -n -2 -r "$caps/typed-lab.pcapng" -Y 'keystroke.eol && tcp.dstport == 25' -T fields -e keystroke.count | paste -sd' ')
keystrokes=$(run -n -2 -r "$caps/typed-lab.pcapng" -Y 'smtplab.role == "keystroke"' | wc -l)
check "typed-lab: the lines typed (segments each), by the keystroke layer" "$typed" "18 6"
check "typed-lab: 22 keystroke frames, none drawn" "$keystrokes $(count "$lab" keystroke$)" "22 0"
check "typed-lab: one arrow per typed line" "$(count "$lab" '^c>s Activity [57], [a-z]*: .* keystrokes)$')" "2"
check "typed-lab: the ladder, arrow by arrow" "$lab" "c>s Activity 3, handshake
s>c Activity 3, handshake
c>s Activity 3, handshake
s>c Activity 4, banner: 220 lab.example ESMTP aiosmtpd
c>s Activity 5, helo: helo lab.example (18 keystrokes)
s>c Activity 6, helo-reply: 250 lab.example
c>s Activity 7, quit: quit (6 keystrokes)
s>c Activity 8, quit-reply: 221 Bye
s>c Activity 8, teardown
c>s Activity 8, teardown
c>s Activity 8, teardown
s>c Activity 8, teardown"
check "typed-lab: the arrow labels of the handshake and teardown" \
    "$(run -n -q -z flow,smtplab,standard -r "$caps/typed-lab.pcapng" | sed -En 's/^\|[0-9.]+ *\| +([A-Z, ]+[A-Z]) *\|.*/\1/p' | paste -sd/)" \
    "SYN/SYN, ACK/ACK/FIN/ACK/FIN/ACK"

check "typed-backspace: lines as meant, a reply with its code" \
    "$(arrows typed-backspace.pcapng | sed -n '5,6p')" \
    'c>s Activity 5, helo: helo lab.example (22 keystrokes)
s>c Activity 6, helo-reply: 500 Error: command "HEKK\b\bLO" not recognized'
check "telnet-char: Enter sent CR NUL, so the server read no line: no line arrow, each Enter alone and marked" \
    "$(arrows telnet-char.pcapng)" \
    "c>s Activity 3, handshake
s>c Activity 3, handshake
c>s Activity 3, handshake
s>c Activity 4, banner: 220 lab.example ESMTP aiosmtpd
c>s helo: Enter sent no LF, so the server has not received a line end: helo lab.example\\r\\0 [1 Enter sent CR NUL, which ends no line] (no line end yet)
c>s helo: Enter sent no LF, so the server has not received a line end: helo lab.example\\r\\0quit\\r\\0 [2 Enters sent CR NUL, which ends no line] (no line end yet)
c>s Activity 8, teardown
s>c Activity 8, teardown
c>s Activity 8, teardown"
check "telnet-char-toggle-crlf: the CR NUL Enter is on the arrow of the line it ended up in, not alone" \
    "$(arrows telnet-char-toggle-crlf.pcapng | sed -n 's/^c>s .*: //p' | paste -sd/)" \
    "helo lab.example/quit\\r\\0quit (10 keystrokes) [1 Enter sent CR NUL, which ends no line]/quit (5 keystrokes)"
check "swaks: a client's lines, one segment each; the message counted" \
    "$(arrows swaks.pcapng | sed -n 's/^c>s .*: //p' | paste -sd/)" \
    "EHLO client.lab.example/MAIL FROM:<student@lab.example>/RCPT TO:<teacher@lab.example>/DATA/message (6 lines)/QUIT"
check "refused: SYN answered by RST" "$(arrows refused.pcapng)" "c>s Activity 3, handshake
s>c Activity 8, teardown"
check "keystroke layer off: no SMTP Lab arrows" \
    "$(arrows typed-lab.pcapng --disable-protocol keystroke | wc -l)" "0"
finish
