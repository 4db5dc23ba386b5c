#!/usr/bin/env bash
# Screenshots of the real Wireshark GUI with the plugin and the "SMTP Lab"
# profile, under Xvfb, for tests/gui/README.md. The profile is installed
# into the staged home exactly as `cmake --install` installs it: column
# widths, pane sizes and layout are the profile's or Wireshark's defaults.
# Windows are found and driven through AT-SPI (read-window.py) and xdotool.
# Usage: bash tests/gui/screenshots.sh [BUILD_DIR [OUT_DIR]]
#   BUILD_DIR  default: build (relative to the repository root)
#   OUT_DIR    default: tests/gui/screenshots
#   SMTPLAB_PROFILE_DIR=<dir> takes the profile from <dir> instead of plugin/profile.
# Needs (Debian 12): wireshark-qt, xvfb, xdotool, imagemagick (import,
# convert), at-spi2-core, python3-pyatspi, dbus-daemon, cmake.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
out=${2:-$here/screenshots}
profile=${SMTPLAB_PROFILE_DIR:-$root/plugin/profile}
capture=$root/tests/captures/typed-backspace.pcapng
frame=48                                  # the Enter that completes "hekk<BS><BS>lo lab.example"
width=1920 height=1200
GUI_ME=screenshots.sh   # used by gui-lib.sh
export GUI_ME
# shellcheck source=tests/gui/gui-lib.sh
. "$here/gui-lib.sh"
gui_need Xvfb xdotool wireshark import /usr/bin/convert cmake dbus-daemon dbus-send
mkdir -p "$out"
out=$(cd "$out" && pwd)
trap gui_cleanup EXIT

gui_stage "$build" "$profile" "$width" "$height" "$capture"
cap="$GUI_STAGE/files/$(basename "$capture")"
gui_start_xvfb "${width}x${height}"
gui_start_atspi
title="^$(basename "$capture" | sed 's/\./\\./g')\$"

# save NAME WINDOW: screenshot WINDOW into $out/NAME.png: 256 colours, no
# dithering, no metadata (about 100 KB; the text stays sharp).
save() {
    gui_shot "$2" "$GUI_STAGE/$1.png"
    /usr/bin/convert "$GUI_STAGE/$1.png" -strip +dither -colors 256 "PNG8:$out/$1.png"
    gui_log "wrote $out/$1.png ($(stat -c %s "$out/$1.png") bytes)"
}

# row_at WINDOW_RE AWK_CONDITION [read-window.py options]: the centre "x,y"
# of the first row of the window's tree that meets the condition ($1 the
# depth, $2... the cells).
row_at() {
    local win=$1 cond=$2 at; shift 2
    at=$(gui_read --where rows "$win" "$@" | awk -F'\t' "$cond { print \$NF; exit }")
    [ -n "$at" ] || gui_die "no row ($cond) in the window $win"
    printf '%s\n' "$at"
}

# open_dialog MENU_ITEM WINDOW_RE: choose the main window's menu item
# (AT-SPI "Press", as a screen reader does) and print the new window's id.
open_dialog() {
    local id
    gui_read --wait 5 press "$title" 'menu item' "$1" || gui_die "no menu item '$1'"
    id=$(gui_wait_window "$2" 10) || gui_die "'$1' opened no window '$2'"
    printf '%s\n' "$id"
}

gui_wireshark 120 -C "SMTP Lab" -r "$cap" -g "$frame"
main=$(gui_wait_window "$title" 30) || gui_die "no main window; wireshark said: $(cat "$GUI_STAGE/wireshark.log")"
gui_read --wait 20 --min-rows 111 rows "$title" --table 'Packet list' --columns 1 >/dev/null ||
    gui_die "the packet list did not fill"

# 1. Main window on frame 48. Packet list: five mouse-wheel steps down
#    (selection unchanged) put frame 48 mid-list with the 500 reply below.
xdotool mousemove 700 300
sleep 0.2
xdotool click 5 click 5 click 5 click 5 click 5
sleep 0.3
# Details: expand Telnet Keystroke Reassembly, its "Line: ..." item, SMTP
# and SMTP Lab (a click selects a row, Right expands it); select "Line".
expand() {
    gui_click "$(row_at "$title" "index(\$2, \"$1\") == 1" --table 'Packet details')"
    gui_key "$main" Right
}
expand "Telnet Keystroke Reassembly"
expand "Line: "
expand "Simple Mail Transfer Protocol"
expand "SMTP Lab: "
# shellcheck disable=SC2016 # an awk condition
gui_click "$(row_at "$title" 'index($2, "Line: ") == 1' --table 'Packet details')"
sleep 0.5
save main-window "$main"

# 2. Statistics > SMTP Lab, in Wireshark's default order.
stats=$(open_dialog "SMTP Lab" '· SMTP Lab ·')
gui_read --wait 10 --min-rows 19 rows '· SMTP Lab ·' --columns 1 >/dev/null || gui_die "the statistics did not fill"
xdotool windowsize --sync "$stats" 1060 500
xdotool windowmove --sync "$stats" 100 100
sleep 0.5
save statistics-smtp-lab "$stats"
gui_key "$stats" Escape

# 3. Statistics > Flow Graph, flow type "SMTP Lab": open the combo box (a
#    click), click the item (its x: the combo's, as the popup list is
#    narrower than AT-SPI says).
flow=$(open_dialog "Flow Graph" '· Flow ·')
xdotool windowsize --sync "$flow" 1400 600
xdotool windowmove --sync "$flow" 50 50
sleep 0.5
combo=$(gui_read --wait 5 widget '· Flow ·' 'combo box' 'All Flows' | cut -f1) || gui_die "no flow type combo box"
xdotool mousemove "${combo%,*}" "${combo#*,}" click 1
sleep 0.5
item=$(gui_read --wait 5 widget '· Flow ·' 'list item' 'SMTP Lab' | cut -f1) || gui_die "no flow type SMTP Lab"
gui_click "${combo%,*},${item#*,}"
gui_read --wait 5 widget '· Flow ·' 'combo box' 'SMTP Lab' >/dev/null || gui_die "the flow type is not SMTP Lab"
sleep 1
save flow-graph "$flow"
gui_key "$flow" Escape

# 4. Analyze > Expert Information: "Group by summary" unchecked, SMTP
#    Lab's groups (two Warning, one Chat) expanded, bottom one first; the
#    Summary column dragged wider (its divider from x to x+340); the
#    Activity 3 row selected.
expert=$(open_dialog "Expert Information" 'Expert Information')
xdotool windowsize --sync "$expert" 1300 440
xdotool windowmove --sync "$expert" 50 50
gui_read --wait 10 --min-rows 13 rows 'Expert Information' --columns 1 >/dev/null || gui_die "Expert Information did not fill"
box=$(gui_read widget 'Expert Information' 'check box' 'Group by summary')
gui_click "${box%	*}"
gui_read --wait 3 widget 'Expert Information' 'check box' 'Group by summary' | grep -q unchecked ||
    gui_die "'Group by summary' is still checked"
for at in $(gui_read --where rows 'Expert Information' | awk -F'\t' '$1 == 0 && $5 == "SMTP Lab" { print $NF }' | tac); do
    gui_click "$at"
    gui_key "$expert" Right
done
summary=$(gui_read --where headers 'Expert Information' | awk -F'\t' '$1 == "Summary" { print $2, $3 }')
read -r sw sat <<<"$summary"
edge=$((${sat%,*} + sw / 2 - 1))
xdotool mousemove "$edge" "${sat#*,}" mousedown 1 mousemove $((edge + 100)) "${sat#*,}" \
    mousemove $((edge + 340)) "${sat#*,}" mouseup 1
# shellcheck disable=SC2016 # an awk condition
gui_click "$(row_at 'Expert Information' '$1 == 1 && index($3, "Activity 3:") == 1')"
sleep 0.5
save expert-information "$expert"
gui_key "$expert" Escape

# 5. Help > About Wireshark, tab Plugins.
about=$(open_dialog "About Wireshark" '^About Wireshark$')
sleep 1
xdotool windowsize --sync "$about" 1100 360
xdotool windowmove --sync "$about" 100 100
sleep 0.3
gui_click "$(gui_read --wait 5 widget '^About Wireshark$' 'page tab' 'Plugins' | cut -f1)"
sleep 0.5
save about-plugins "$about"
gui_key "$about" Escape
gui_quit "$main" || gui_die "wireshark did not exit cleanly: $(cat "$GUI_STAGE/wireshark.log")"
