#!/usr/bin/env bash
# ctest gui.wireshark: starts Debian's real Wireshark GUI under Xvfb with the
# built plugin (as nobody when run as root) on typed-lab.pcapng, and proves
# from what the GUI itself shows that the plugin is loaded and dissects:
#   1. a display filter on the plugin's fields (-Y) keeps the 9 frames that
#      complete a stage's line or reply (plus SYNs and FINs), and colouring
#      rules on smtplab.stage paint each of the 7 lab stages in its own test
#      colour: the screenshot must hold every one of the 7 colours, so the
#      GUI's own dissection produced every stage value;
#   2. Statistics > SMTP Lab (the menu entry the plugin registers) opens a
#      window titled "Wireshark · SMTP Lab · typed-lab.pcapng";
#   3. no other window (such as an error dialog about a plugin, a filter or
#      a colouring rule) opens, wireshark's stderr holds no plugin, dissector
#      or epan error, and File > Quit ends wireshark with status 0.
# Hard limits: Xvfb 120 s, wireshark 45 s, every wait 10-20 s; ctest gives
# the whole test 60 s. A trap stops wireshark and Xvfb, by pid.
# Usage: check-gui.sh <build dir> <source dir>
#   SMTPLAB_NO_PLUGIN=1 runs it without the plugin (it must then fail).
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
here=$src/tests/gui
GUI_ME=gui.wireshark    # used by gui-lib.sh
export GUI_ME
# shellcheck source=tests/gui/gui-lib.sh
. "$here/gui-lib.sh"
gui_need Xvfb xdotool wireshark import /usr/bin/convert setpriv timeout cmake
width=1280 height=800
capture=$src/tests/captures/typed-lab.pcapng

gui_test_traps "$build/gui-failure.png"

gui_stage "$build" "$src/plugin/profile" "$width" "$height" "$capture"
# Test colours (background, then foreground) for the 7 stages, in place of
# the profile's own rules: pure colours that nothing else on screen uses.
stages=(handshake banner helo helo-reply quit quit-reply teardown)
colours=(FF0000 00FF00 0000FF FFFF00 FF00FF 00FFFF FF8000)
rgb16=("65535,0,0" "0,65535,0" "0,0,65535" "65535,65535,0" "65535,0,65535" "0,65535,65535" "65535,32768,0")
cf="$GUI_STAGE/home/.config/wireshark/profiles/SMTP Lab/colorfilters"
: >"$cf"
for i in "${!stages[@]}"; do
    printf '@test %s@smtplab.stage == "%s"@[%s][0,0,0]\n' "${stages[$i]}" "${stages[$i]}" "${rgb16[$i]}" >>"$cf"
done
chmod a+rw "$cf"

gui_start_xvfb "${width}x${height}"
xdotool mousemove $((width - 1)) $((height - 1))    # no hover highlight on a row
start=$SECONDS
gui_wireshark 45 -C "SMTP Lab" -r "$GUI_STAGE/files/typed-lab.pcapng" \
    -Y 'smtplab.role != "keystroke" && smtplab.role != "ack"'
main=$(gui_wait_window '^typed-lab\.pcapng$' 20) ||
    gui_die "no main window 'typed-lab.pcapng' within 20 s; windows: $(gui_windows | tr '\n' ';')"
gui_log "main window $main after $((SECONDS - start)) s"

# 1. Every stage colour on screen (poll: the file loads after the window maps).
missing=()
for ((try = 0; try < 20; try++)); do
    gui_shot "$main" "$GUI_STAGE/shot.png"
    /usr/bin/convert "$GUI_STAGE/shot.png" -format %c histogram:info:- >"$GUI_STAGE/histogram.txt"
    missing=()
    counts=""
    for i in "${!stages[@]}"; do
        n=$(awk -v hex="#${colours[$i]}" 'toupper($0) ~ hex { sub(":", "", $1); print $1; exit }' "$GUI_STAGE/histogram.txt")
        counts+=" ${stages[$i]}=${n:-0}"
        # A row of this colour: at least 3000 pixels (a row is ~1200 x 17).
        [ "${n:-0}" -ge 3000 ] || missing+=("${stages[$i]}")
    done
    [ ${#missing[@]} -eq 0 ] && break
    sleep 0.5
done
[ ${#missing[@]} -eq 0 ] ||
    gui_die "no packet-list row coloured for stage(s) ${missing[*]} (pixels:$counts): the GUI did not dissect with smtplab"
gui_log "packet list coloured by smtplab.stage, pixels per stage colour:$counts"

# 3a. No dialog besides the main window (errors about plugins, filters, rules).
others=$(gui_windows | awk -v m="$main" '$1 != m')
[ -z "$others" ] || gui_die "unexpected window(s): $others"

# 2. Statistics > SMTP Lab: the last entry of the Statistics menu.
stats=""
for try in 1 2; do
    gui_key "$main" alt+s Up Return
    stats=$(gui_wait_window '· SMTP Lab · typed-lab\.pcapng$' 10) && break
    gui_key "$main" Escape Escape
done
[ -n "$stats" ] || gui_die "Statistics > SMTP Lab did not open the plugin's statistics window; windows: $(gui_windows | tr '\n' ';')"
gui_log "statistics window: $(xdotool getwindowname "$stats")"
gui_key "$stats" Escape

# 3b. File > Quit: a clean exit.
rc=0
gui_quit "$main" || rc=$?
[ "$rc" = 0 ] || gui_die "wireshark exited with status $rc after File > Quit"

# 3c. Nothing alarming on stderr (Qt's own [GUI WARNING] lines are allowed).
bad=$(grep -iE 'plugin|smtplab|keystroke|couldn.t|dissector bug|assert|wmem|\[[A-Za-z]+ (ERROR|CRITICAL)\]|\[(Epan|Main|Wiretap|Capture) WARNING\]' \
      "$GUI_STAGE/wireshark.log" || true)
[ -z "$bad" ] || gui_die "wireshark's stderr: $bad"

GUI_FAILED=0
gui_log "PASS: the Wireshark GUI loaded smtplab and dissected typed-lab.pcapng ($((SECONDS - start)) s)"
