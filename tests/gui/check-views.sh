#!/usr/bin/env bash
# ctest gui.views: what the real Wireshark GUI shows with the "SMTP Lab"
# profile installed as `cmake --install` installs it (InstallProfile.cmake
# into the staged home), on typed-backspace.pcapng, read from the running
# windows through AT-SPI accessibility (read-window.py) and compared with
# values a person checked:
#   1. the packet list's header: every column, in order, with the profile's
#      width in pixels (plugin/profile/recent), as the header shows it;
#      and the widths Wireshark writes back into the profile's recent on exit;
#   2. Analyze > Expert Information (opened by -z expert): the default view
#      (grouped by summary, equal severities newest frame first: Activity 8
#      before 3), then with "Group by summary" unchecked, the Chat group of
#      SMTP Lab expanded: Activity 3 ... 8, in lab order, with their frames;
#   3. Statistics > SMTP Lab: rows and counts in the default order, then
#      after one click on the "Topic / Item" header (ascending): the stage
#      rows and the reply classes stay in lab order.
# The counts and messages are those of `tshark -2 -z smtplab,tree` and
# `tshark -2 -e _ws.expert.message`: the GUI shows the frames as dissected
# after its first pass (one pass gives 65 helo frames and 8 "unknown").
# Clicks and keys go through xdotool at the places AT-SPI reports.
# Hard limits: Xvfb and the buses 120 s, wireshark 45 s, each read 30 s;
# ctest gives the whole test 60 s. A trap stops every process, by pid.
# Usage: check-views.sh <build dir> <source dir>
#   SMTPLAB_PROFILE_DIR=<dir> takes the profile from <dir> (plugin/profile).
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
here=$src/tests/gui
GUI_ME=gui.views    # used by gui-lib.sh
export GUI_ME
# shellcheck source=tests/gui/gui-lib.sh
. "$here/gui-lib.sh"
gui_need Xvfb xdotool wireshark import setpriv timeout cmake dbus-daemon dbus-send
profile=${SMTPLAB_PROFILE_DIR:-$src/plugin/profile}
capture=$src/tests/captures/typed-backspace.pcapng
width=1280 height=800

failures=()
gui_test_traps "$build/gui-views-failure.png"

# check_shows WHAT EXPECTED READ-WINDOW-ARGS...: read the window until it shows
# EXPECTED (for at most 3 s after it first answers); a difference is
# recorded as a failure, with the diff.
check_shows() {
    local what=$1 want=$2 got="" until; shift 2
    until=$((${EPOCHREALTIME/./} + 3000000))
    while :; do
        got=$(gui_read "$@" 2>&1) || true
        [ "$got" = "$want" ] && { gui_log "ok: $what"; return 0; }
        [ "${EPOCHREALTIME/./}" -lt "$until" ] || break
        sleep 0.2
    done
    gui_log "FAILED: $what; diff (- expected, + shown):"
    diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") | sed -n 's/^</  -/p; s/^>/  +/p' >&2 || true
    failures+=("$what")
}

gui_stage "$build" "$profile" "$width" "$height" "$capture"
gui_start_xvfb "${width}x${height}"
gui_start_atspi
xdotool mousemove "${GUI_CORNER%,*}" "${GUI_CORNER#*,}"    # no hover highlight on a row
start=$SECONDS
gui_wireshark 45 -C "SMTP Lab" -r "$GUI_STAGE/files/typed-backspace.pcapng" -z expert
main=$(gui_wait_window '^typed-backspace\.pcapng$' 20) ||
    gui_die "no main window within 20 s; windows: $(gui_windows | tr '\n' ';')"
gui_log "main window after $((SECONDS - start)) s"

# 1. The packet list's header: "title<TAB>width", left to right.
widths='No.	60
Time	100
Source	110
Destination	110
Protocol	90
Length	60
Stage	125
Role	85
Act	40
Meant	380
Reply time	100
Info	700'
gui_read --wait 20 --min-rows 111 rows '^typed-backspace\.pcapng$' --table 'Packet list' --columns 1 >/dev/null ||
    gui_die "the packet list did not show the 111 frames within 20 s"
check_shows "packet list columns and widths" "$widths" headers '^typed-backspace\.pcapng$' --table 'Packet list'

# 2. Expert Information. Columns: Severity, Summary, Group, Protocol, Count.
gui_read --wait 20 --min-rows 13 rows 'Expert Information' --columns 1 >/dev/null ||
    gui_die "Expert Information (-z expert) did not show its 13 groups within 20 s"
check_shows "Expert Information, default view (group by summary)" "0	Warning	Negative reply (4xx transient, 5xx permanent)	Response	SMTP Lab	2
0	Warning	Erase keystrokes sent: the server receives the raw bytes	Protocol	SMTP Lab	2
0	Note	This frame undergoes the connection closing	Sequence	TCP	1
0	Note	This frame initiates the connection closing	Sequence	TCP	1
0	Chat	Connection finish (FIN)	Sequence	TCP	2
0	Chat	Activity 8: 221 closing reply	Sequence	SMTP Lab	1
0	Chat	Activity 7: QUIT	Sequence	SMTP Lab	1
0	Chat	Activity 6: reply to HELO/EHLO	Sequence	SMTP Lab	1
0	Chat	Activity 5: HELO/EHLO	Sequence	SMTP Lab	1
0	Chat	Activity 4: service ready (220 banner)	Sequence	SMTP Lab	1
0	Chat	Activity 3: TCP three-way handshake	Sequence	SMTP Lab	1
0	Chat	Connection establish acknowledge (SYN+ACK)	Sequence	TCP	1
0	Chat	Connection establish request (SYN)	Sequence	TCP	1" rows 'Expert Information'

box=$(gui_read widget 'Expert Information' 'check box' 'Group by summary') ||
    gui_die "no 'Group by summary' check box"
[ "${box#*	}" = checked ] || failures+=("'Group by summary' is not checked at start")
gui_click "${box%	*}"
check_shows "'Group by summary' unchecked by the click" "${box%	*}	unchecked" widget 'Expert Information' 'check box' 'Group by summary'
# The Chat group of SMTP Lab: select it, Right expands it.
group=$(gui_read --where rows 'Expert Information' | awk -F'\t' '$1 == 0 && $2 == "Chat" && $5 == "SMTP Lab" { print $NF; exit }')
[ -n "$group" ] || gui_die "no Chat group of SMTP Lab with 'Group by summary' unchecked"
gui_click "$group"
gui_key "$(gui_wait_window 'Expert Information' 5)" Right
# Children: frame, message, group, protocol, (no count).
check_shows "Expert Information, not grouped by summary, SMTP Lab's Chat group expanded" "0	Warning		Response	SMTP Lab	2
0	Warning		Protocol	SMTP Lab	2
0	Note		Sequence	TCP	2
0	Chat		Sequence	SMTP Lab	6
1	3	Activity 3: TCP three-way handshake complete: SYN (frame 1), SYN/ACK (frame 2), ACK (frame 3)	Sequence	SMTP Lab	
1	4	Activity 4: the server's 220 greeting (banner): service ready, the client may send HELO or EHLO	Sequence	SMTP Lab	
1	77	Activity 5: the client greets the server with \"helo lab.example\" (18 segments), accepted with 250 in frame 79	Sequence	SMTP Lab	
1	79	Activity 6: the server accepts \"helo lab.example\" (frame 77) with 250	Sequence	SMTP Lab	
1	104	Activity 7: the client ends the session with \"quit\" (6 segments), answered 221 in frame 106	Sequence	SMTP Lab	
1	106	Activity 8: the server answers QUIT (frame 104) with 221 (closing): the connection closes next	Sequence	SMTP Lab	
0	Chat		Sequence	TCP	4" rows 'Expert Information'
gui_key "$(gui_wait_window 'Expert Information' 5)" Escape

# 3. Statistics > SMTP Lab (the last entry of the Statistics menu): Topic
#    and Count.
stats=""
for _ in 1 2; do
    gui_key "$main" alt+s Up Return
    stats=$(gui_wait_window '· SMTP Lab · typed-backspace\.pcapng$' 10) && break
    gui_key "$main" Escape Escape
done
[ -n "$stats" ] || gui_die "Statistics > SMTP Lab did not open; windows: $(gui_windows | tr '\n' ';')"
lab_rows='1	3 handshake	3
1	4 banner	2
1	5 helo	71
1	6 helo-reply	4
1	7 quit	23
1	8 quit-reply	4
1	8 teardown	4'
classes='1	2xx positive	3
1	3xx intermediate	0
1	4xx transient negative	0
1	5xx permanent negative	2'
check_shows "Statistics > SMTP Lab, default order (Topic descending)" "0	Sessions	1
1	complete	1
0	Frames by lab stage	111
$lab_rows
0	Frames in other stages	0
0	Final replies by class	5
$classes
0	Diagnoses	4
1	Negative reply (4xx transient, 5xx permanent)	2
1	Erase keystrokes sent: the server receives the raw bytes	2" --wait 10 rows '· SMTP Lab ·' --columns 2
topic=$(gui_read --where headers '· SMTP Lab ·' | awk -F'\t' '$1 == "Topic / Item" { print $3 }')
[ -n "$topic" ] || gui_die "no 'Topic / Item' header in the statistics window"
gui_click "$topic"
check_shows "Statistics > SMTP Lab after one click on Topic / Item (ascending)" "0	Frames by lab stage	111
$lab_rows
0	Sessions	1
1	complete	1
0	Diagnoses	4
1	Erase keystrokes sent: the server receives the raw bytes	2
1	Negative reply (4xx transient, 5xx permanent)	2
0	Final replies by class	5
$classes
0	Frames in other stages	0" rows '· SMTP Lab ·' --columns 2
gui_key "$stats" Escape

# File > Quit, then the widths Wireshark wrote back into the profile.
rc=0
gui_quit "$main" || rc=$?
[ "$rc" = 0 ] || failures+=("wireshark exited with status $rc after File > Quit")
recent="$GUI_STAGE/home/.config/wireshark/profiles/SMTP Lab/recent"
# Wireshark writes "        %m, 60," (8 spaces); the profile has tabs.
written=$(sed -n '/^column.width:/,/^$/p' "$recent" |
          sed -n 's/^[ \t]*"\{0,1\}\([^",]*\)"\{0,1\}, \([0-9]*\),\{0,1\}$/\1 \2/p')
want_written='%m 60
%t 100
%s 110
%d 110
%p 90
%L 60
%Cus:smtplab.stage 125
%Cus:smtplab.role 85
%Cus:smtplab.activity 40
%Cus:keystroke.line.edited 380
%Cus:smtplab.time 100
%i 700'
if [ "$written" = "$want_written" ]; then
    gui_log "ok: the column widths Wireshark wrote back into the profile's recent"
else
    gui_log "FAILED: the column widths written back into the profile's recent; diff (- expected, + written):"
    diff <(printf '%s\n' "$want_written") <(printf '%s\n' "$written") | sed -n 's/^</  -/p; s/^>/  +/p' >&2 || true
    failures+=("column widths written back")
fi

bad=$(grep -iE 'plugin|smtplab|keystroke|couldn.t|dissector bug|assert|wmem|\[[A-Za-z]+ (ERROR|CRITICAL)\]|\[(Epan|Main|Wiretap|Capture) WARNING\]' \
      "$GUI_STAGE/wireshark.log" || true)
[ -z "$bad" ] || failures+=("wireshark's stderr: $bad")

if [ ${#failures[@]} -gt 0 ]; then
    gui_die "${#failures[@]} check(s) failed: $(printf '%s; ' "${failures[@]}")"
fi
GUI_FAILED=0
gui_log "PASS: columns, Expert Information and Statistics > SMTP Lab as checked ($((SECONDS - start)) s)"
