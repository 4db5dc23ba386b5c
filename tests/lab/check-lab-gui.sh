#!/usr/bin/env bash
# ctest lab.gui: smtplab-lab in its default (GUI) mode, scenario normal, under
# Xvfb, as a student runs it: smtplab-lab itself starts Wireshark on the live
# stream (-k -i <fifo> -C "SMTP Lab") and opens a terminal window in the lab
# network (x-terminal-emulator, an xterm), where the test types
# `telnet mail.lab 25`, `helo student.lab` and `quit` with xdotool, 120 ms a
# key, each reply awaited in the terminal's own output (xterm's log of its
# pty, switched on by the staged ~/.Xdefaults). Then the student's way out:
# File > Quit in Wireshark (Ctrl+Q), and "Stop and Quit without Saving"
# clicked in Wireshark's "Unsaved packets…" question. Checks:
#   - Wireshark's title says it captures ("Capturing from …/lab-eth0") as soon
#     as the lab is up, before any packet, and still once the session is done;
#   - Wireshark showed the session live: its packet list (read through
#     AT-SPI) holds the lab stages handshake … teardown in the Stage column,
#     as many rows as the saved capture has packets;
#   - smtplab-lab exits 0 when Wireshark closes, and says "saved N packets to
#     PATH", PATH named smtplab-<login>-<YYYYmmdd-HHMMSS>.pcapng in --save-dir;
#   - the saved capture with the plugin, two passes: its stages in order and
#     smtplab.complete 1;
#   - nothing of the lab is left: no process that smtplab-lab started (server,
#     dumpcap, xterm, shell, telnet, wireshark: found by a variable only the
#     lab's environment has), no record in XDG_RUNTIME_DIR.
# As root, the whole lab runs as nobody (Wireshark ignores personal plugin
# folders for root), with the plugin and the profile in the personal folders
# of a staged home as `bash cmake/setup.sh demo` installs them; otherwise as
# the caller. Hard limits: Xvfb and the lab 120 s, every wait 10-30 s; ctest
# gives the test 180 s. A trap ends the lab, then Wireshark's helpers and
# Xvfb, by pid, and leaves the screen at a failure in <build>/lab-gui-failure.png.
# Usage: check-lab-gui.sh <build dir> <source dir> [<screenshot.png>]
#   with a third argument, the screen once the session is done (Wireshark
#   capturing, the student's HELO line selected, the terminal beside it) is
#   saved there, PNG, 256 colours, with a bar on top that shows each window's
#   title (Xvfb runs no window manager to draw title bars).
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
shot=${3:-}
[ -z "$shot" ] || shot=$(cd "$(dirname "$shot")" && pwd)/$(basename "$shot")
GUI_ME=lab.gui    # used by gui-lib.sh
export GUI_ME
# shellcheck source=tests/gui/gui-lib.sh
. "$src/tests/gui/gui-lib.sh"
log() { gui_log "$@"; }
die() { gui_die "$@"; }
gui_need Xvfb xdotool wireshark tshark dumpcap xterm telnet unshare nsenter import /usr/bin/convert \
    setpriv timeout cmake dbus-daemon dbus-send /usr/bin/python3
width=1600 height=900      # the screen: Wireshark on the left, the terminal on the right
ws_width=1040
stages="handshake banner helo helo-reply quit quit-reply teardown"

LAB_PID=""       # the `timeout` that runs smtplab-lab

# lab_processes: the pids of every process that the lab's environment
# started (smtplab-lab and all it runs carry SMTPLAB_LAB_GUI_TEST=<stage>).
lab_processes() {
    local e
    for e in /proc/[0-9]*/environ; do
        grep -qzxF "SMTPLAB_LAB_GUI_TEST=$GUI_STAGE" "$e" 2>/dev/null || continue
        e=${e#/proc/}
        printf '%s\n' "${e%/environ}"
    done
}

# children PID: its child processes' pids.
children() { cat /proc/"$1"/task/*/children 2>/dev/null || true; }
# xterm_text: what the terminal showed, without CRs and control sequences
# (bash's bracketed paste mode before each prompt).
xterm_text() { tr -d '\r' <"$GUI_STAGE/xterm.log" 2>/dev/null | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g'; }

# lab_exit: the EXIT trap. On a failure (GUI_FAILED=1 until the end), the
# screen is saved first, then the lab ended; then Xvfb and the rest (gui_cleanup).
lab_exit() {
    local rc=$? p i
    trap - EXIT
    set +e     # clean up whatever fails
    if [ "$GUI_FAILED" = 1 ] && [ -n "$XVFB_PID" ] && import -window root "$build/lab-gui-failure.png" 2>/dev/null; then
        log "the screen at the failure: $build/lab-gui-failure.png"
    fi
    if [ -n "$LAB_PID" ]; then
        kill -TERM "$LAB_PID" 2>/dev/null    # smtplab-lab ends the lab and saves
        for ((i = 0; i < 250; i++)); do
            kill -0 "$LAB_PID" 2>/dev/null || break
            sleep 0.1
        done
        # shellcheck disable=SC2046 # one pid per word
        kill -KILL $(children "$LAB_PID") "$LAB_PID" 2>/dev/null
        wait "$LAB_PID" 2>/dev/null
    fi
    if [ -n "$GUI_STAGE" ]; then
        for p in $(lab_processes); do kill -KILL "$p" 2>/dev/null; done
        if [ "$GUI_FAILED" = 1 ]; then
            [ -s "$GUI_STAGE/lab.out" ] && { log "smtplab-lab said:"; tr -d '\r' <"$GUI_STAGE/lab.out" >&2; }
            [ -s "$GUI_STAGE/xterm.log" ] && { log "the terminal showed:"; xterm_text | tail -n 40 >&2; }
        fi
    fi
    gui_cleanup
    exit "$rc"
}
GUI_FAILED=1
trap lab_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The student's home: the plugin and the profile where `bash cmake/setup.sh
# demo` puts them (gui_stage installs the profile as `cmake --install` does,
# and a recent_common that puts Wireshark's window at 0,0, ws_width wide);
# xterm's settings: a readable font, from the start the size it gets beside
# Wireshark (560x900 px: xterm does not rewrap a line it has shown), and a
# log of all it shows.
SMTPLAB_NO_PLUGIN=1 gui_stage "$build" "$src/plugin/profile" "$ws_width" "$height"
home=$GUI_STAGE/home
ver=$(cd "$build/plugins" && ls -d */ | head -n 1)
mkdir -p "$home/.local/lib/wireshark/plugins/${ver%/}/epan" "$home/labs"
cp "$build/plugins/${ver%/}/epan/smtplab.so" "$home/.local/lib/wireshark/plugins/${ver%/}/epan/"
cat >"$home/.Xdefaults" <<EOF
*VT100.faceName: DejaVu Sans Mono
*VT100.faceSize: 11
*VT100.geometry: 61x47
*VT100.logging: true
*VT100.logFile: $GUI_STAGE/xterm.log
EOF
# The lab's files where nobody can read them (the source may be in a home
# folder only root may enter).
cp -r "$src/plugin/lab" "$GUI_STAGE/lab"
rm -rf "$GUI_STAGE/lab/smtplab_lab/__pycache__"
chmod -R a+rX "$GUI_STAGE/lab"
login=$(id -un)
if [ "$(id -u)" = 0 ]; then
    chown -R nobody:nogroup "$home"
    login=nobody
fi
# x-terminal-emulator is Debian's choice of terminal: xterm (lxterm) unless
# the machine chose another, which writes no log; then xterm, first in PATH.
path=/usr/bin:/bin
case $(basename "$(readlink -f "$(command -v x-terminal-emulator || echo none)")") in
lxterm | uxterm | xterm) ;;
*)
    mkdir -p "$GUI_STAGE/bin"
    ln -s "$(command -v xterm)" "$GUI_STAGE/bin/x-terminal-emulator"
    path=$GUI_STAGE/bin:$path
    ;;
esac

gui_start_xvfb "${width}x${height}"
xdotool mousemove $((width - 1)) $((height - 1))
gui_start_atspi     # sets GUI_RUN: as nobody, the staged home, our display and session bus
start=$SECONDS
(cd "$home" && exec timeout -s TERM -k 10 120 "${GUI_RUN[@]}" PATH="$path" PYTHONDONTWRITEBYTECODE=1 \
    SMTPLAB_LAB_GUI_TEST="$GUI_STAGE" WIRESHARK_DEBUG_WMEM_OVERRIDE=strict WIRESHARK_ABORT_ON_DISSECTOR_BUG=1 \
    "$GUI_STAGE/lab/smtplab-lab" --save-dir "$home/labs") >"$GUI_STAGE/lab.out" 2>&1 &
LAB_PID=$!

# child COMM: the pid of smtplab-lab's child process named COMM (smtplab-lab
# is the child of our `timeout`).
child() {
    local lab p
    for lab in $(children "$LAB_PID"); do
        for p in $(children "$lab"); do
            [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$1" ] && { printf '%s\n' "$p"; return 0; }
        done
    done
    return 1
}
lab_running() { kill -0 "$LAB_PID" 2>/dev/null || die "smtplab-lab ended early: $(tr -d '\r' <"$GUI_STAGE/lab.out")"; }

# wait_xterm REGEX SECONDS: until the terminal has shown a line matching REGEX.
wait_xterm() {
    local re=$1 secs=$2 i
    for ((i = 0; i < secs * 10; i++)); do
        xterm_text | grep -qE -- "$re" && return 0
        lab_running
        sleep 0.1
    done
    die "the terminal showed no /$re/ within $secs s"
}

# type_line TEXT: typed into the terminal, 120 ms a key, then Enter.
type_line() {
    timeout 10 xdotool windowfocus --sync "$xterm"
    timeout 30 xdotool type --delay 120 -- "$1"
    sleep 0.2
    timeout 10 xdotool key Return
}

# The windows smtplab-lab opened: Wireshark, capturing from the lab's FIFO
# before any packet, and the terminal (found by xterm's pid).
main=$(gui_wait_window '^Capturing from .*/lab-eth0$' 30) ||
    die "no Wireshark window 'Capturing from …/lab-eth0' within 30 s; windows: $(gui_windows | tr '\n' ';')"
title_start=$(xdotool getwindowname "$main")
log "Wireshark after $((SECONDS - start)) s, before any packet, titled '$title_start'"
for ((i = 0; i < 100; i++)); do
    xterm_pid=$(child xterm) && break
    lab_running
    sleep 0.1
done
[ -n "${xterm_pid:-}" ] || die "smtplab-lab opened no terminal (no xterm) within 10 s"
xterm=$(timeout 10 xdotool search --sync --onlyvisible --pid "$xterm_pid" | head -n 1) ||
    die "xterm $xterm_pid shows no window within 10 s"
# Side by side: Wireshark at 0,0 (recent_common), the terminal on the right.
timeout 10 xdotool windowmove --sync "$xterm" "$ws_width" 0
timeout 10 xdotool windowsize --sync "$xterm" $((width - ws_width)) "$height"

# The session, each reply awaited in the terminal.
wait_xterm '^\(smtplab lab\) ~ \$ ' 20
type_line "telnet mail.lab 25"
wait_xterm '^220 mail\.lab ESMTP' 20
type_line "helo student.lab"
wait_xterm '^250 mail\.lab' 10
type_line quit
wait_xterm '^221 2\.0\.0 Bye' 10
wait_xterm '^Connection closed by foreign host' 10

# What Wireshark shows while it still captures: every stage, in its packet
# list (its Stage column, read through AT-SPI), until teardown or 20 s.
col=$(gui_read --wait 10 headers '^Capturing from ' --table 'Packet list' | awk -F'\t' '$1 == "Stage" { print NR + 1 }')
[ -n "$col" ] || die "Wireshark's packet list has no Stage column (not the SMTP Lab profile?)"
# fold: the lab stages of a column, repeats folded, on one line.
fold() { awk -v re="^($(tr ' ' '|' <<<"$stages"))\$" '$1 ~ re && $1 != prev { printf "%s%s", sep, $1; sep = " "; prev = $1 }'; }
end=$((SECONDS + 20))
while :; do
    gui_read rows '^Capturing from ' --table 'Packet list' 2>/dev/null | cut -f "$col" >"$GUI_STAGE/list.stages" || true
    shown=$(fold <"$GUI_STAGE/list.stages")
    [ "$shown" = "$stages" ] || [ "$SECONDS" -ge "$end" ] && break
    lab_running
    sleep 0.2
done
[ "$shown" = "$stages" ] || die "Wireshark's packet list shows the stages \"$shown\", want \"$stages\""
rows=$(wc -l <"$GUI_STAGE/list.stages")
title=$(xdotool getwindowname "$main")
[[ "$title" =~ ^Capturing\ from\ .*/lab-eth0$ ]] || die "Wireshark's title is '$title' once the session is done"
log "Wireshark's packet list: $rows rows, stages $shown; titled '$title'"
if [ -n "$shot" ]; then
    # The student's HELO line selected, its SMTP Lab tree expanded.
    at=$(gui_read --where rows '^Capturing from ' --table 'Packet list' |
        awk -F'\t' -v c="$col" '$c == "helo" { print $NF; exit }')
    [ -n "$at" ] || die "no helo row in Wireshark's packet list"
    gui_click "$at"
    at=$(gui_read --wait 5 --where rows '^Capturing from ' --table 'Packet details' |
        awk -F'\t' 'index($2, "SMTP Lab: ") == 1 { print $NF; exit }')
    [ -n "$at" ] || die "no SMTP Lab item in Wireshark's packet details"
    gui_click "$at"
    gui_key "$main" Right
    sleep 0.5
    gui_shot root "$GUI_STAGE/shot.png"
    # No window manager runs on Xvfb, so no window has a title bar: a bar
    # is added above the screen with each window's own title at its left edge.
    font=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
    [ -f "$font" ] || font=DejaVu-Sans
    /usr/bin/convert "$GUI_STAGE/shot.png" -background '#d8d8d8' -gravity north -splice 0x28 \
        -gravity northwest -font "$font" -pointsize 15 -fill '#202020' \
        -annotate +10+5 "$title" -annotate +$((ws_width + 10))+5 "$(xdotool getwindowname "$xterm")" \
        -fill none -stroke '#909090' -draw "line $ws_width,0 $ws_width,27" \
        -strip +dither -colors 256 "PNG8:$shot"
    log "wrote $shot ($(stat -c %s "$shot") bytes)"
fi

# The student closes Wireshark: File > Quit, then "Stop and Quit without Saving".
gui_key "$main" ctrl+q
gui_wait_window '^Unsaved packets' 10 >/dev/null || die "Ctrl+Q asked nothing; windows: $(gui_windows | tr '\n' ';')"
at=$(gui_read --wait 10 widget '^Unsaved packets' 'push button' 'Stop and Quit without Saving' | cut -f1) ||
    die "no button 'Stop and Quit without Saving'"
gui_click "$at"
for ((i = 0; i < 300; i++)); do
    kill -0 "$LAB_PID" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$LAB_PID" 2>/dev/null && die "smtplab-lab still runs 30 s after Wireshark was closed"
rc=0
wait "$LAB_PID" || rc=$?
LAB_PID=""
[ "$rc" = 0 ] || die "smtplab-lab exited with $rc"
log "smtplab-lab ended $((SECONDS - start)) s after it started"

# Nothing left of the lab.
left=$(lab_processes)
if [ -n "$left" ]; then
    # shellcheck disable=SC2086 # one pid per word
    die "processes of the lab still run: $(ps -o pid=,comm=,args= -p "$(echo $left | tr ' ' ,)" | tr '\n' ';')"
fi
left=$(find "$GUI_STAGE/run" -maxdepth 1 -name 'smtplab-lab*')
[ -z "$left" ] || die "smtplab-lab left files in XDG_RUNTIME_DIR: $left"

# The saved capture.
saved=$(tr -d '\r' <"$GUI_STAGE/lab.out" | sed -n 's/^smtplab-lab: saved \([0-9]*\) packets to //p')
n=$(tr -d '\r' <"$GUI_STAGE/lab.out" | sed -n 's/^smtplab-lab: saved \([0-9]*\) packets to .*/\1/p')
[ -n "$saved" ] && [ -f "$saved" ] || die "no 'saved N packets to FILE' line, or no such file"
[ "$(dirname "$saved")" = "$home/labs" ] || die "saved in $(dirname "$saved"), not in --save-dir $home/labs"
[[ "$(basename "$saved")" =~ ^smtplab-${login}-20[0-9]{6}-[0-9]{6}\.pcapng$ ]] ||
    die "saved as $(basename "$saved"), not smtplab-$login-<YYYYmmdd-HHMMSS>.pcapng"
[ "$n" = "$rows" ] || die "saved $n packets, Wireshark's packet list showed $rows"
T() { timeout -k 5 60 "$src/tests/tshark/tshark-as-user.sh" "$build" -n -2 -r "$saved" "$@"; }
got=$(T -T fields -e smtplab.stage -E occurrence=f | fold)
[ "$got" = "$stages" ] || die "saved capture's stages: got \"$got\", want \"$stages\""
got=$(T -T fields -e tcp.stream -e smtplab.complete | awk -F'\t' '!($1 in s) { s[$1]; printf "%s%s", sep, $2; sep = " " }')
[ "$got" = 1 ] || die "saved capture's smtplab.complete by connection: got \"$got\", want \"1\""

GUI_FAILED=0
log "PASS: as $login, $n packets saved as $(basename "$saved"), stages $stages, complete 1; Wireshark titled '$title'; in $((SECONDS - start)) s"
