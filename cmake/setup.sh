#!/usr/bin/env bash
# The two set-up commands of README.md, on Debian 12 (as root, or as a user
# with sudo):
#   bash cmake/setup.sh demo   install what is missing, build, install the
#                              plugin, and show it on the bundled captures
#   bash cmake/setup.sh test   install what is missing, build, run every test
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
case "$mode" in demo|test) ;; *) echo "usage: bash cmake/setup.sh demo|test" >&2; exit 2 ;; esac

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# What builds the plugin and runs it (the demo): Debian's packages, with
# what cmake/fetch-ws-headers.sh runs to fetch the flow graph's header
# (gawk, bzip2, xz-utils, patch: a fresh Debian 12 may lack them), and what
# smtplab-lab, the practice lab, runs: its mail server (python3-aiosmtpd),
# its private network (iproute2) and the student's client (telnet).
packages=(cmake make gcc libc6-dev libglib2.0-dev libwireshark-dev wireshark-dev tshark gawk bzip2 xz-utils patch python3-aiosmtpd iproute2 telnet)
if [ "$mode" = test ]; then
    # The tests' own needs: tools the scripts call (util-linux: setpriv,
    # unshare; diffutils), and
    packages+=(util-linux diffutils)
    # tests/versions (Wireshark 4.4 and 4.6 in Debian chroots, and the .deb): debootstrap,
    # and what CPack runs for the package's Depends (dpkg-shlibdeps, file). The chroots
    # get the demo's list, the three above and these two.
    packages+=(debootstrap dpkg-dev file)
    # tests/gui (the real Wireshark GUI under Xvfb) and tests/live (live capture in a network namespace).
    # tests/gui reads the GUI's windows through AT-SPI (a private session bus).
    packages+=(wireshark-qt xvfb xdotool imagemagick)
    packages+=(at-spi2-core python3-pyatspi dbus-daemon dbus-bin)
    # tests/lab/check-lab-gui.sh: smtplab-lab's GUI mode opens its terminal window with
    # x-terminal-emulator (xterm), in which the test types telnet; xterm's font there.
    packages+=(xterm fonts-dejavu-core)
    # tests/hostile (capture generator, peak memory), tests/fuzz (libFuzzer with clang,
    # ASan/UBSan runtimes come with gcc), tests/valgrind.
    packages+=(python3 time clang-14 libclang-rt-14-dev valgrind)
    # tests/grade: smtplab-grade's HTML page in a real browser (headless).
    packages+=(chromium)
    # tests/lab: smtplab-lab driven through a terminal multiplexer.
    packages+=(tmux)
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

build=${SMTPLAB_BUILD_DIR:-build}
# Wireshark ignores personal plugin folders when it runs as root: root gets
# a system-wide install, everyone else the personal plugin folder.
system=OFF
[ "$(id -u)" = 0 ] && system=ON
# The flow graph needs one Wireshark header that Debian's libwireshark-dev
# does not install: fetched from Debian's source package of the installed
# version (cmake/fetch-ws-headers.sh). The test command requires it, so that
# CI cannot silently drop the flow graph; the demo goes on without it.
require_flow=OFF
[ "$mode" = test ] && require_flow=ON
echo "== fetching epan/sequence_analysis.h from Debian's wireshark source package"
mkdir -p "$build"
if ! bash cmake/fetch-ws-headers.sh "$build"; then
    [ "$mode" = test ] && { echo "== the test command needs the flow graph's header: stopping" >&2; exit 1; }
    echo "== could not fetch it: building without the SMTP Lab flow graph (-z flow,smtplab)"
fi
echo "== building in $build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSMTPLAB_SYSTEM_INSTALL=$system \
    -DSMTPLAB_REQUIRE_FLOW=$require_flow
cmake --build "$build" -j "$(nproc)"

if [ "$mode" = test ]; then
    echo "== testing"
    ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
    exit 0
fi

echo "== installing the plugin"
cmake --install "$build"
echo
echo "== tshark -G plugins"
loaded=$(tshark -G plugins 2>/dev/null | grep smtplab || true)
echo "$loaded"
if [ "$(id -u)" = 0 ]; then
    echo "(installed for every user, since Wireshark ignores personal plugin folders when run as root)"
else
    echo "(installed in your personal plugin folder; as root, run this command again to install it for every user)"
    case "$loaded" in
    *"$HOME"/*) ;;
    *)  echo "Note: Wireshark loads the system-wide copy above, not yours; remove it to use your build:" \
             "sudo rm $(printf '%s' "$loaded" | awk -F'\t' '{print $NF}')" ;;
    esac
fi
# smtplab-grade and smtplab-lab: for a normal user in ~/.local/bin, which a
# login shell puts on PATH only when the folder existed at login.
if [ "$(id -u)" != 0 ] && [[ ":$PATH:" != *":$HOME/.local/bin:"* ]]; then
    echo "Note: smtplab-lab and smtplab-grade are in ~/.local/bin, which is not on your PATH yet:" \
         "log out and in again (or run  . ~/.profile  in this shell)"
fi
for cap in typed-lab typed-backspace telnet-char; do
    echo
    echo "== tests/captures/$cap.pcapng: each line as the server received it, as the person meant it, and Enter presses that ended no line"
    tshark -n -2 -r "tests/captures/$cap.pcapng" -Y 'keystroke.line || keystroke.enter' -T fields -E header=y \
        -e frame.number -e keystroke.count -e keystroke.eol -e keystroke.enter -e keystroke.line -e keystroke.line.edited 2>/dev/null
done
echo
echo "== tests/captures/typed-lab.pcapng: the stage of every frame (smtplab.stage, role, lab activity)"
tshark -n -2 -r tests/captures/typed-lab.pcapng -T fields -E header=y \
    -e frame.number -e tcp.srcport -e smtplab.stage -e smtplab.role -e smtplab.activity -e smtplab.response_in 2>/dev/null
# (Into variables first: under pipefail, grep -q leaving early would make
# tshark die of SIGPIPE and the test fail.)
plugins=$(tshark -G plugins 2>/dev/null || true)
taps=$(tshark -q -z help 2>&1 || true)
if grep -q smtplab <<<"$plugins" && grep -q 'flow,smtplab' <<<"$taps"; then
    echo
    echo "== tests/captures/typed-lab.pcapng: the session as a ladder (SMTP Lab flow graph)"
    tshark -n -q -z flow,smtplab,standard -r tests/captures/typed-lab.pcapng 2>/dev/null
else
    echo
    echo "== no SMTP Lab flow graph in this build (the header could not be fetched; see above), so no ladder"
fi
echo
echo "== tests/captures/telnet-char.pcapng: why the server never answered (SMTP Lab's diagnoses)"
tshark -n -2 -r tests/captures/telnet-char.pcapng -T fields -E occurrence=a -E aggregator='|' \
    -Y 'smtplab.diag.cr_nul || smtplab.diag.telnet_negotiation || smtplab.diag.no_reply || smtplab.diag.no_quit' \
    -e frame.number -e _ws.expert.message 2>/dev/null | awk -F'\t' '{ gsub(/\|/, "\n    ", $2); print "frame " $1 ":\n    " $2 }'
echo
echo "== the practice lab: smtplab-lab --text  (a mail server, mail.lab, and a live capture; no root needed)"
echo "   smtplab-lab alone opens Wireshark's window: it needs a desktop and Wireshark (sudo apt-get install wireshark-qt)."
echo "   README.md, \"Doing the lab without a mail server\", says the rest."
