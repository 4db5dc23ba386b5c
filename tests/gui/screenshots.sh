#!/usr/bin/env bash
# Screenshots of the real Wireshark GUI with the plugin and the "SMTP Lab"
# profile, under Xvfb, for tests/gui/README.md.
# Usage: bash tests/gui/screenshots.sh [BUILD_DIR [OUT_DIR]]
#   BUILD_DIR  default: build (relative to the repository root)
#   OUT_DIR    default: tests/gui/screenshots
#   SMTPLAB_PROFILE_DIR=<dir> takes the profile from <dir> instead of plugin/profile.
# Needs (Debian 12): wireshark-qt, xvfb, xdotool, imagemagick (import, convert).
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
out=${2:-$here/screenshots}
profile=${SMTPLAB_PROFILE_DIR:-$root/plugin/profile}
capture=$root/tests/captures/typed-backspace.pcapng
frame=48                                  # the Enter that completes "hekk<BS><BS>lo lab.example"
width=1600 height=1200
GUI_ME=screenshots.sh   # used by gui-lib.sh
export GUI_ME
# shellcheck source=tests/gui/gui-lib.sh
. "$here/gui-lib.sh"
gui_need Xvfb xdotool wireshark import /usr/bin/convert cmake
mkdir -p "$out"
out=$(cd "$out" && pwd)
trap gui_cleanup EXIT

gui_stage "$build" "$profile" "$width" "$height" "$capture"
cap="$GUI_STAGE/files/$(basename "$capture")"
# Pane sizes and column widths for a readable main window (this copy of the
# profile only): the "SMTP Lab" columns wide enough for their values.
cat >>"$GUI_STAGE/home/.config/wireshark/profiles/SMTP Lab/recent" <<'EOF'
gui.geometry_main_upper_pane: 480
gui.geometry_main_lower_pane: 1060
gui.packet_diagram_show: FALSE
column.width:
	%m, 50,
	%t, 95,
	%s, 80,
	%d, 80,
	%p, 80,
	%L, 55,
	"%Cus:smtplab.stage", 85,
	"%Cus:smtplab.role", 80,
	"%Cus:smtplab.activity", 35,
	"%Cus:keystroke.line.edited", 230,
	"%Cus:smtplab.time", 85,
	%i, 600
EOF
chmod a+rw "$GUI_STAGE/home/.config/wireshark/profiles/SMTP Lab/recent"
gui_start_xvfb "${width}x${height}"
title="^$(basename "$capture" | sed 's/\./\\./g')\$"

# save NAME WINDOW: screenshot WINDOW into $out/NAME.png: 256 colours, no
# dithering, no metadata (about 100 KB; the text stays sharp).
save() {
    gui_shot "$2" "$GUI_STAGE/$1.png"
    /usr/bin/convert "$GUI_STAGE/$1.png" -strip +dither -colors 256 "PNG8:$out/$1.png"
    gui_log "wrote $out/$1.png ($(stat -c %s "$out/$1.png") bytes)"
}

# 1. Main window on frame 48, both layers expanded; then the statistics
#    window and Help > About > Plugins from the same run.
gui_wireshark 90 -C "SMTP Lab" -r "$cap" -g "$frame"
main=$(gui_wait_window "$title" 30) || gui_die "no main window; wireshark said: $(cat "$GUI_STAGE/wireshark.log")"
sleep 2
# Scroll the packet list down 9 rows (mouse wheel: selection unchanged), so
# that frame 48 sits in the middle with the 500 reply below it.
xdotool mousemove 700 300
sleep 0.2
xdotool click 5 click 5 click 5
sleep 0.3
# Packet details: focus it (a click on its empty lower part), then from the
# top row: Frame, Ethernet, IPv4, TCP, Telnet Keystroke Reassembly (expand),
# its 4th child "Line: ..." (expand); SMTP and SMTP Lab (expand); select "Line".
xdotool mousemove 300 $((height - 80)) click 1
sleep 0.3
gui_key "$main" Home Down Down Down Down Right Down Down Down Down Right \
    End Up Right End Right Home Down Down Down Down Down Down Down Down
xdotool mousemove $((width - 1)) $((height - 1))
sleep 0.5
save main-window "$main"

# Statistics > SMTP Lab: the last item of the Statistics menu.
gui_key "$main" alt+s Up Return
stats=$(gui_wait_window '· SMTP Lab ·' 10) || gui_die "the SMTP Lab statistics window did not open"
sleep 1
xdotool windowsize --sync "$stats" 900 640
xdotool windowmove --sync "$stats" 100 100
sleep 0.5
save statistics-smtp-lab "$stats"
gui_key "$stats" Escape

# Help > About Wireshark (the last item of Help), tab Plugins.
gui_key "$main" alt+h Up Return
about=$(gui_wait_window '^About Wireshark$' 10) || gui_die "the About window did not open"
sleep 1
xdotool windowsize --sync "$about" 1100 360
xdotool windowmove --sync "$about" 100 100
sleep 0.3
gui_key "$about" ctrl+Tab ctrl+Tab ctrl+Tab
sleep 0.5
save about-plugins "$about"
gui_key "$about" Escape
gui_quit "$main" || gui_die "wireshark did not exit cleanly: $(cat "$GUI_STAGE/wireshark.log")"

# 2. Analyze > Expert Information, opened with -z expert; the two Warning
#    groups (SMTP Lab's diagnoses) expanded.
gui_wireshark 60 -C "SMTP Lab" -r "$cap" -z expert
main=$(gui_wait_window "$title" 30) || gui_die "no main window"
expert=$(gui_wait_window 'Expert Information' 20) || gui_die "the Expert Information window did not open"
sleep 1.5
xdotool windowsize --sync "$expert" 1300 420
xdotool windowmove --sync "$expert" 50 50
sleep 0.3
# Select the first row (sorted by severity: the first Warning group), expand
# it, step over its two frames to the second Warning group, expand it.
xdotool mousemove 250 91 click 1
sleep 0.3
gui_key "$expert" Right Down Down Down Right
xdotool mousemove $((width - 1)) $((height - 1))
sleep 0.5
save expert-information "$expert"
gui_key "$expert" Escape
gui_quit "$main" || gui_die "wireshark did not exit cleanly"
