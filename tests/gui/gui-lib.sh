# shellcheck shell=bash
# Helpers to run Debian's real Wireshark GUI with the built plugin under Xvfb,
# sourced by check-gui.sh (the ctest test) and screenshots.sh.
# Wireshark ignores plugin folders when it runs as root, so as root the GUI
# runs as nobody, with the plugin, the captures and the profile staged in a
# fresh world-readable folder (as tests/tshark/tshark-as-user.sh does for
# tshark). Every process started here has a hard timeout and is stopped by
# gui_cleanup, by its pid. gui_start_atspi and gui_read let a test read the
# windows' contents through AT-SPI accessibility (read-window.py).
# SPDX-License-Identifier: GPL-2.0-or-later

GUI_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GUI_STAGE=""      # the staged folder: plugins/, home/, files/, run/, logs
GUI_DISPLAY=""    # ":N" of our Xvfb
GUI_BUS=""        # DBUS_SESSION_BUS_ADDRESS of our session bus (gui_start_atspi)
GUI_RUN=()        # the command prefix that runs a program as wireshark runs
GUI_CORNER=""     # "W,H": the screen's size, where gui_click parks the pointer
XVFB_PID=""
WS_PID=""         # the `timeout` process that runs wireshark
DBUS_PID=""       # ... the session dbus-daemon
ATSPI_PID=""      # ... at-spi-bus-launcher

gui_log() { printf '%s: %s\n' "${GUI_ME:-gui}" "$*" >&2; }
gui_die() { gui_log "FAIL: $*"; exit 1; }

# gui_need CMD...: fail with the package to install when a command is missing.
gui_need() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 ||
            gui_die "missing command '$c': run 'bash cmake/setup.sh test' (Debian packages wireshark-qt xvfb xdotool imagemagick at-spi2-core python3-pyatspi dbus-daemon dbus-bin cmake)"
    done
}

# gui_stage BUILD PROFILE_DIR WIDTH HEIGHT CAPTURE...: stage the plugin of
# BUILD, the profile folder PROFILE_DIR as profile "SMTP Lab" in the staged
# home, installed as `cmake --install` installs it (cmake/InstallProfile.cmake),
# a recent_common that places the main window at 0,0 with size WIDTH x HEIGHT,
# and the captures, if any (into $GUI_STAGE/files). SMTPLAB_NO_PLUGIN=1 stages
# no plugin.
gui_stage() {
    local build=$1 profile=$2 width=$3 height=$4; shift 4
    local ver_dir
    profile=$(cd "$profile" && pwd) || gui_die "no profile folder $2"
    ver_dir=$(cd "$build/plugins" && ls -d */ | head -n 1) || gui_die "no plugin built in $build/plugins"
    ver_dir=${ver_dir%/}
    GUI_STAGE=$(mktemp -d /tmp/smtplab-gui.XXXXXX)
    local conf="$GUI_STAGE/home/.config/wireshark"
    mkdir -p "$GUI_STAGE/plugins/$ver_dir/epan" "$GUI_STAGE/files" "$GUI_STAGE/run" "$conf/profiles"
    [ "${SMTPLAB_NO_PLUGIN:-}" = 1 ] ||
        cp "$build/plugins/$ver_dir/epan/smtplab.so" "$GUI_STAGE/plugins/$ver_dir/epan/"
    cmake -DSMTPLAB_PROFILE_SRC="$profile" -DSMTPLAB_PROFILE_DEST="$conf/profiles/SMTP Lab" \
        -P "$GUI_LIB_DIR/../../cmake/InstallProfile.cmake" >"$GUI_STAGE/install-profile.log" 2>&1 ||
        gui_die "InstallProfile.cmake failed: $(cat "$GUI_STAGE/install-profile.log")"
    [ "$#" = 0 ] || cp "$@" "$GUI_STAGE/files/"
    # Window geometry, and no start-up questions.
    cat >"$conf/recent_common" <<EOF
gui.geometry_main_x: 0
gui.geometry_main_y: 0
gui.geometry_main_width: $width
gui.geometry_main_height: $height
gui.geometry_main_maximized: FALSE
gui.last_used_profile: SMTP Lab
privs.warn_if_elevated: FALSE
sys.warn_if_no_capture: FALSE
EOF
    chmod -R a+rwX "$GUI_STAGE"
    # Qt wants its runtime folder private to the user that runs it.
    chmod 700 "$GUI_STAGE/run"
    [ "$(id -u)" = 0 ] && chown nobody:nogroup "$GUI_STAGE/run"
    return 0
}

# gui_start_xvfb WIDTHxHEIGHT: start Xvfb on a free display (it picks the
# number and writes it to a file), for at most 120 s.
gui_start_xvfb() {
    local geometry=$1 i
    timeout -k 5 120 Xvfb -displayfd 3 -screen 0 "${geometry}x24" -nolisten tcp -noreset \
        3>"$GUI_STAGE/display" >"$GUI_STAGE/xvfb.log" 2>&1 &
    XVFB_PID=$!
    for ((i = 0; i < 100; i++)); do
        [ -s "$GUI_STAGE/display" ] && break
        kill -0 "$XVFB_PID" 2>/dev/null || { cat "$GUI_STAGE/xvfb.log" >&2; gui_die "Xvfb did not start"; }
        sleep 0.1
    done
    [ -s "$GUI_STAGE/display" ] || gui_die "Xvfb gave no display number within 10 s"
    GUI_DISPLAY=:$(head -n 1 "$GUI_STAGE/display")
    GUI_CORNER="$((${geometry%x*} - 1)),$((${geometry#*x} - 1))"
    export DISPLAY=$GUI_DISPLAY
    # xdotool as root on the same display: wait until the server answers.
    for ((i = 0; i < 50; i++)); do
        xdotool getmouselocation >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    gui_die "Xvfb on $GUI_DISPLAY does not answer"
}

# gui_run_prefix: set GUI_RUN to the prefix that runs a command as wireshark
# runs: as nobody when run as root, with a clean environment, the staged
# home, our display and (after gui_start_atspi) our session bus, on which Qt
# then always offers its accessibility interface.
gui_run_prefix() {
    GUI_RUN=()
    [ "$(id -u)" = 0 ] && GUI_RUN=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
    GUI_RUN+=(env -i PATH=/usr/bin:/bin HOME="$GUI_STAGE/home" DISPLAY="$GUI_DISPLAY"
              XDG_RUNTIME_DIR="$GUI_STAGE/run" TZ=UTC LC_ALL=C.UTF-8 NO_AT_BRIDGE=1)
    [ -z "$GUI_BUS" ] ||
        GUI_RUN+=(DBUS_SESSION_BUS_ADDRESS="$GUI_BUS" QT_LINUX_ACCESSIBILITY_ALWAYS_ON=1)
}

# gui_start_atspi: start a session D-Bus and the AT-SPI bus launcher on it
# (Debian's dbus-daemon and at-spi2-core), as the user wireshark runs as,
# for at most 120 s; copy read-window.py into the staged folder. Call it
# after gui_start_xvfb and before gui_wireshark.
gui_start_atspi() {
    local i
    [ -x /usr/libexec/at-spi-bus-launcher ] ||
        gui_die "missing /usr/libexec/at-spi-bus-launcher: run 'bash cmake/setup.sh test' (Debian package at-spi2-core)"
    /usr/bin/python3 -c 'import pyatspi' 2>/dev/null ||
        gui_die "missing Python module pyatspi: run 'bash cmake/setup.sh test' (Debian package python3-pyatspi)"
    install -m 755 "$GUI_LIB_DIR/read-window.py" "$GUI_STAGE/read-window.py"
    gui_run_prefix
    timeout -k 5 120 "${GUI_RUN[@]}" dbus-daemon --session --nofork \
        --address="unix:path=$GUI_STAGE/run/bus" >"$GUI_STAGE/dbus.log" 2>&1 &
    DBUS_PID=$!
    for ((i = 0; i < 100; i++)); do
        [ -S "$GUI_STAGE/run/bus" ] && break
        sleep 0.1
    done
    [ -S "$GUI_STAGE/run/bus" ] || gui_die "the session dbus-daemon did not start: $(cat "$GUI_STAGE/dbus.log")"
    GUI_BUS="unix:path=$GUI_STAGE/run/bus"
    gui_run_prefix
    timeout -k 5 120 "${GUI_RUN[@]}" /usr/libexec/at-spi-bus-launcher --launch-immediately --a11y=1 \
        >"$GUI_STAGE/atspi.log" 2>&1 &
    ATSPI_PID=$!
    # Ready when the launcher owns org.a11y.Bus on the session bus.
    for ((i = 0; i < 100; i++)); do
        "${GUI_RUN[@]}" dbus-send --session --print-reply --dest=org.freedesktop.DBus \
            /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.a11y.Bus 2>/dev/null |
            grep -q 'boolean true' && return 0
        sleep 0.1
    done
    gui_die "at-spi-bus-launcher did not start: $(cat "$GUI_STAGE/atspi.log")"
}

# gui_read ARGS...: run read-window.py ARGS (see its header) as wireshark
# runs, for at most 30 s; its output on stdout.
gui_read() {
    timeout -k 2 30 "${GUI_RUN[@]}" /usr/bin/python3 "$GUI_STAGE/read-window.py" "$@"
}

# gui_wireshark SECONDS ARGS...: start Debian's wireshark in the background
# with the staged plugin folder and home, as nobody when run as root, for at
# most SECONDS; its stdout and stderr go to $GUI_STAGE/wireshark.log.
gui_wireshark() {
    local secs=$1; shift
    gui_run_prefix
    (cd "$GUI_STAGE" && exec timeout -k 5 "$secs" "${GUI_RUN[@]}" WIRESHARK_PLUGIN_DIR="$GUI_STAGE/plugins" \
        WIRESHARK_DEBUG_WMEM_OVERRIDE=strict WIRESHARK_ABORT_ON_DISSECTOR_BUG=1 wireshark "$@") \
        >"$GUI_STAGE/wireshark.log" 2>&1 &
    WS_PID=$!
}

# gui_wait_window REGEX SECONDS: print the id of the first visible window
# whose name matches REGEX, waiting at most SECONDS.
gui_wait_window() {
    local re=$1 secs=$2 id
    id=$(timeout "$secs" xdotool search --sync --onlyvisible --name "$re" 2>/dev/null | head -n 1) || true
    [ -n "$id" ] || return 1
    printf '%s\n' "$id"
}

# gui_windows: every visible named top-level window, "id name" per line.
gui_windows() {
    local w
    for w in $(xdotool search --onlyvisible --name . 2>/dev/null); do
        printf '%s %s\n' "$w" "$(xdotool getwindowname "$w" 2>/dev/null)"
    done
}

# gui_key WINDOW KEY...: focus WINDOW (no window manager: X input focus) and
# type the keys, one at a time.
gui_key() {
    local w=$1 k; shift
    xdotool windowfocus --sync "$w"
    for k in "$@"; do
        xdotool key --clearmodifiers "$k"
        sleep 0.15
    done
}

# gui_click X,Y: a left click there (no window manager: X sends it to the
# window under the pointer, which takes the focus), then the pointer parked
# in the screen's bottom-right corner, so that no hover highlight stays.
gui_click() {
    xdotool mousemove "${1%,*}" "${1#*,}" click 1
    sleep 0.3
    xdotool mousemove "${GUI_CORNER%,*}" "${GUI_CORNER#*,}"
}

# gui_quit WINDOW: File > Quit (Ctrl+Q) in the main window; wait at most 15 s
# for wireshark to exit, and return its exit status.
gui_quit() {
    local w=$1 i rc
    gui_key "$w" ctrl+q
    for ((i = 0; i < 150; i++)); do
        kill -0 "$WS_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$WS_PID" 2>/dev/null; then
        gui_log "wireshark still runs 15 s after Ctrl+Q"
        return 1
    fi
    rc=0
    wait "$WS_PID" || rc=$?
    WS_PID=""
    return "$rc"
}

# gui_shot WINDOW FILE: a PNG of WINDOW ("root": the whole screen).
gui_shot() {
    import -window "$1" "$2"
}

# gui_cleanup: stop wireshark and Xvfb (by pid) and delete the staged folder.
gui_cleanup() {
    local p i
    for p in "$WS_PID" "$ATSPI_PID" "$DBUS_PID" "$XVFB_PID"; do
        [ -n "$p" ] || continue
        kill -TERM "$p" 2>/dev/null || true
        for ((i = 0; i < 30; i++)); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        # Still there: kill its children (wireshark under `timeout`), then it.
        # shellcheck disable=SC2046 # one pid per word
        kill -KILL $(cat /proc/"$p"/task/*/children 2>/dev/null) 2>/dev/null || true
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    WS_PID="" ATSPI_PID="" DBUS_PID="" XVFB_PID="" GUI_BUS=""
    if [ -n "$GUI_STAGE" ] && [ -d "$GUI_STAGE" ] && [ -z "${SMTPLAB_KEEP:-}" ]; then
        rm -rf "$GUI_STAGE"
    fi
}

# gui_test_traps PNG: for a test script. Until it sets GUI_FAILED=0, an exit
# counts as a failure: the screen is saved as PNG and wireshark's output
# shown. Either way wireshark and Xvfb are stopped (gui_cleanup).
gui_test_traps() {
    GUI_FAILURE_PNG=$1
    GUI_FAILED=1
    trap gui_test_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}
gui_test_exit() {
    local rc=$?
    if [ "$GUI_FAILED" = 1 ] && [ -n "$GUI_STAGE" ]; then
        if [ -n "$XVFB_PID" ] && import -window root "$GUI_FAILURE_PNG" 2>/dev/null; then
            gui_log "the screen at the failure: $GUI_FAILURE_PNG"
        fi
        [ -f "$GUI_STAGE/wireshark.log" ] && { gui_log "wireshark's output:"; cat "$GUI_STAGE/wireshark.log" >&2; }
    fi
    gui_cleanup
    exit "$rc"
}
