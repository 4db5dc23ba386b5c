#!/usr/bin/env bash
# The keystroke layer's promises, each checked by name on a recorded capture:
# the plugin loads, every published keystroke.* field exists, telnet
# character mode and backspaces are read as the person meant them.
# Usage: acceptance-keystroke.sh <build dir> <captures dir>
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1 caps=$2
. "$here/check-lib.sh"
fields() { # capture, display filter, fields...
    local cap=$1 filter=$2; shift 2
    local args=(-n -2 -r "$caps/$cap" -Y "$filter" -T fields -E occurrence=a -E aggregator='|')
    for f in "$@"; do args+=(-e "$f"); done
    run "${args[@]}" | tr '\t\n' ' ;'
}

check "tshark -G plugins lists smtplab.so" "$(run -G plugins | cut -f1 | grep -c '^smtplab.so')" "1"
published="keystroke.char keystroke.index keystroke.line keystroke.line.edited keystroke.eol keystroke.count
keystroke.segment keystroke.line_in keystroke.backspaces keystroke.telnet.command keystroke.telnet.option
keystroke.interval keystroke.duration keystroke.enter"
have=$(run -G fields | cut -f3)
for f in $published; do
    check "field $f is registered" "$(grep -cx "$f" <<<"$have")" "1"
done
check "protocol keystroke is registered" "$(run -G protocols | cut -f3 | grep -cx keystroke)" "1"

# Debian telnet in character mode: IAC DO SGA, IAC DO ECHO, and Enter sends
# CR NUL, which ends no line: aiosmtpd, which reads lines up to LF, never
# received one (it answered nothing but the banner).
check "telnet character mode: no line reached the server" \
    "$(fields telnet-char.pcapng 'keystroke.line and tcp.dstport == 25' keystroke.line)" ""
check "telnet character mode: the two Enter presses sent CR NUL" \
    "$(fields telnet-char.pcapng 'keystroke.enter' frame.number keystroke.enter)" "40 CR NUL;50 CR NUL;"
check "telnet character mode: the negotiation" \
    "$(fields telnet-char.pcapng 'keystroke.telnet.command' keystroke.telnet.command keystroke.telnet.option)" \
    "DO|DO Suppress Go Ahead|ECHO;"
check "telnet character mode: no smtp.req.command (the server got no command)" \
    "$(fields telnet-char.pcapng 'smtp.req.command' frame.number)" ""

# Typed with two backspaces, then clean lines.
check "backspaces: the completing frame of hekk<BS><BS>lo" \
    "$(fields typed-backspace.pcapng 'keystroke.line.edited == "helo lab.example" && keystroke.backspaces == 2' \
        frame.number keystroke.line keystroke.count)" \
    '48 hekk\b\blo lab.example 22;'
check "backspaces: smtp.req.command on the clean lines, none on the edited ones" \
    "$(fields typed-backspace.pcapng 'smtp.req.command' frame.number smtp.req.command keystroke.backspaces)" \
    "77 helo 0;104 quit 0;"
check "backspaces: DEL in quix<DEL>t" \
    "$(fields typed-backspace.pcapng 'frame.number == 91' keystroke.line keystroke.line.edited keystroke.backspaces)" \
    'quix\x7ft quit 1;'
check "backspaces: the first clean HELO" \
    "$(fields typed-backspace.pcapng 'smtp.req.command == "helo"' frame.number keystroke.backspaces)" \
    "77 0;"

# One keystroke per segment: every segment of HELO is listed, and each
# earlier segment points at the frame that completes the line.
check "typed lab: HELO carried by 18 segments" \
    "$(fields typed-lab.pcapng 'smtp.req.command == "helo"' keystroke.count keystroke.segment)" \
    "18 6|8|10|12|14|16|18|20|22|24|26|28|30|32|34|36|38|40;"
check "typed lab: keystroke.line_in of the first keystroke" \
    "$(fields typed-lab.pcapng 'frame.number == 6' keystroke.char keystroke.index keystroke.line_in)" \
    "h 1 40;"

# Switching the layers off, as in Enabled Protocols, and Decode As.
lines() { run -n -r "$caps/typed-lab.pcapng" "$@" -T fields -e smtp.req.command -e keystroke.line -e smtplab.stage \
    | awk -F'\t' '$1 != "" || $2 != "" || $3 != "" { n[$1 "/" ($2 != "") "/" ($3 != "")]++ } END { for (k in n) print k "=" n[k] }' \
    | sort | tr '\n' ' '; }
check "keystroke disabled: the built-in SMTP has ports 25 and 587 back, SMTP Lab is silent" \
    "$(lines --disable-protocol keystroke)" "helo/0/0=1 quit/0/0=1 "
check "smtplab disabled: lines still reassembled, no stage" \
    "$(lines --disable-protocol smtplab)" "/1/0=3 helo/1/0=1 quit/1/0=1 "
check "Decode As SMTP on port 25: the built-in SMTP alone" \
    "$(lines -d tcp.port==25,smtp)" "helo/0/0=1 quit/0/0=1 "

finish
