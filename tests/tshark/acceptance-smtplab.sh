#!/usr/bin/env bash
# The SMTP Lab layer's promises, each checked by name on a recorded capture:
# every frame of a typed lab session labelled handshake to teardown, one
# marker per stage, each diagnosis on the capture that shows its problem and
# on no frame of a clean session, and command-reply links.
# Usage: acceptance-smtplab.sh <build dir> <captures dir>
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1 caps=$2
. "$here/check-lib.sh"
# Frame numbers (and fields) of the frames a filter matches, on one line.
frames() { # pass (-1 or -2), capture, filter, [fields...]
    local pass=$1 cap=$2 filter=$3; shift 3
    local args=(-n -r "$caps/$cap" -Y "$filter" -T fields -E occurrence=a -E aggregator='|' -e frame.number)
    [ "$pass" = -2 ] && args+=(-2)
    for f in "$@"; do args+=(-e "$f"); done
    run "${args[@]}" | tr '\t\n' ': ' | sed 's/ $//'
}
# Runs of equal stage/role/activity, in frame order.
runs() { # pass, capture
    local args=(-n -r "$caps/$2" -T fields -e smtplab.stage -e smtplab.role -e smtplab.activity)
    [ "$1" = -2 ] && args+=(-2)
    run "${args[@]}" | awk -F'\t' '{ k = $1 "/" $2 "/" $3; if (k != p) { printf "%s%s", s, k; s = " " } p = k } END { print "" }'
}

lab="handshake/syn/3 handshake/syn-ack/3 handshake/ack/3 banner/reply/4 banner/ack/4 helo/keystroke/5 helo/ack/5 \
helo/keystroke/5 helo/ack/5 helo/keystroke/5 helo/ack/5 helo/keystroke/5 helo/ack/5 helo/keystroke/5 helo/ack/5 \
helo/keystroke/5 helo/ack/5 helo/keystroke/5 helo/ack/5 helo/keystroke/5 helo/ack/5 helo/keystroke/5 helo/ack/5 \
helo/keystroke/5 helo/ack/5 helo/keystroke/5 helo/ack/5 helo/keystroke/5 helo/ack/5 helo/keystroke/5 helo/ack/5 \
helo/keystroke/5 helo/ack/5 helo/keystroke/5 helo/ack/5 helo/keystroke/5 helo/ack/5 helo/keystroke/5 helo/ack/5 \
helo/line/5 helo/ack/5 helo-reply/reply/6 helo-reply/ack/6 quit/keystroke/7 quit/ack/7 quit/keystroke/7 quit/ack/7 \
quit/keystroke/7 quit/line/7 quit/ack/7 quit-reply/reply/8 quit-reply/ack/8 teardown/fin/8 teardown/ack/8 \
teardown/fin/8 teardown/ack/8"
# (Runs of equal labels are merged: the 18 HELO keystrokes alternate with ACKs.)
check "typed lab, two passes: every frame's stage/role/activity, handshake to teardown" "$(runs -2 typed-lab.pcapng)" "$lab"
check "typed lab, one pass: the same labels" "$(runs -1 typed-lab.pcapng)" "$lab"
check "typed lab: all 58 frames carry a stage" "$(frames -2 typed-lab.pcapng smtplab.stage | wc -w)" "58"
check "typed lab: smtplab.activity == 4 is the banner and its ACK" "$(frames -2 typed-lab.pcapng 'smtplab.activity == 4')" "4 5"
check "typed lab: smtplab.stage == \"helo\" is 36 frames" "$(frames -2 typed-lab.pcapng 'smtplab.stage == "helo"' | wc -w)" "36"
for m in handshake:3 banner:4 helo:40 helo_reply:42 quit:51 quit_reply:53; do
    check "typed lab: marker smtplab.stage.${m%%:*} once, on frame ${m##*:}" \
        "$(frames -2 typed-lab.pcapng "smtplab.stage.${m%%:*}")" "${m##*:}"
done
check "typed lab: complete after two passes" "$(frames -2 typed-lab.pcapng 'frame.number == 58' smtplab.complete smtplab.progress)" \
    "58:1:handshake banner helo helo-reply quit quit-reply teardown"
check "typed lab: no smtplab.progress before the handshake is done (SYN, SYN/ACK)" \
    "$(frames -2 typed-lab.pcapng 'smtplab.progress' | cut -d' ' -f1-2)" "3 4"
check "typed lab: keystroke.duration only on the client's lines typed in several segments" \
    "$(frames -2 typed-lab.pcapng 'keystroke.duration' keystroke.count)" "40:18 51:6"
check "random-bytes (hostile): a server line in two segments has no typing time" \
    "$(frames -2 ../hostile/captures/random-bytes.pcap 'tcp.srcport == 25 && keystroke.count > 1' keystroke.count keystroke.duration)" \
    "12:2|1|1:"
check "no-quit: not complete" "$(frames -2 no-quit.pcapng 'frame.number == 46' smtplab.complete)" "46:0"

# Each diagnosis on the capture that shows it.
check "port_blocked: SYN answered by RST" "$(frames -2 refused.pcapng smtplab.diag.port_blocked smtplab.role)" "2:rst"
check "port_blocked: SYN never answered" "$(frames -2 syn-unanswered.pcapng smtplab.diag.port_blocked)" "2"
check "cr_nul: telnet character mode, on the Enter frames" "$(frames -2 telnet-char.pcapng smtplab.diag.cr_nul keystroke.enter)" \
    "40:CR NUL 50:CR NUL"
check "telnet_negotiation: IAC DO SGA, IAC DO ECHO" "$(frames -2 telnet-char.pcapng smtplab.diag.telnet_negotiation keystroke.char)" \
    "6:<IAC DO Suppress Go Ahead><IAC DO ECHO>"
check "no_reply: none on telnet-char, where no line ended" "$(frames -2 telnet-char.pcapng smtplab.diag.no_reply)" ""
check "no_quit: telnet-char closed without QUIT reaching the server" "$(frames -2 telnet-char.pcapng smtplab.diag.no_quit smtplab.role)" "52:fin"
check "editing: BS and DEL" "$(frames -2 typed-backspace.pcapng smtplab.diag.editing keystroke.backspaces)" "48:2 91:1"
check "error_reply: the 500s" "$(frames -2 typed-backspace.pcapng smtplab.diag.error_reply smtp.response.code)" "50:500 93:500"
check "helo_no_domain: a bare HELO" "$(frames -2 typed-errors.pcapng smtplab.diag.helo_no_domain keystroke.line)" "16:helo"
check "error_reply: 501 and 503" "$(frames -2 typed-errors.pcapng smtplab.diag.error_reply smtplab.stage)" \
    "18:helo-reply 117:rcpt-reply"
check "starttls_required: 530 before STARTTLS" "$(frames -2 starttls-587.pcapng smtplab.diag.starttls_required smtp.response.code)" "110:530"
check "no_quit: closed after HELO" "$(frames -2 no-quit.pcapng smtplab.diag.no_quit smtplab.role)" "44:fin"
check "the port_blocked message" "$(frames -2 refused.pcapng smtplab.diag.port_blocked _ws.expert.message | tr '|' '\n' | grep -c 'try port 587')" "1"

# The field smtplab.diag is on every frame with a diagnosis, whichever.
diags="smtplab.diag"
for clean in typed-lab telnet-line swaks typed-ipv6 typed-587 pipelining auth typed-bare-lf-cr; do
    check "clean session $clean: no diagnosis" "$(frames -2 "$clean.pcapng" "$diags")" ""
done

# Command-reply links.
check "pipelining: three commands in one frame, three replies" \
    "$(frames -2 pipelining.pcapng 'smtplab.response_in || smtplab.request_in' smtplab.response_in smtplab.request_in)" \
    "6:14: 8::6 10::6 12::6 14::6 16:17|19|21: 17::16 19::16 21::16 25:27: 27::25 29:30: 30::29"
check "swaks: each command's final reply" \
    "$(frames -2 swaks.pcapng 'smtplab.response_in' smtplab.response_in)" "6:12 14:15 16:17 18:19 20:21 22:23"
check "swaks: reply time on each reply frame but the banner" "$(frames -2 swaks.pcapng 'smtplab.time >= 0')" "8 9 10 12 15 17 19 21 23"

finish
