#!/usr/bin/env bash
# Runs Debian's tshark with the built plugin loaded, as an unprivileged user
# when called as root (Wireshark ignores plugin folders for root).
# Usage: [SMTPLAB_NO_PLUGIN=1] [SMTPLAB_PROFILE=<dir>] tshark-as-user.sh <build dir> <tshark args...>
#        SMTPLAB_PROGRAM=sharkd tshark-as-user.sh <build dir> -   (sharkd the
#        same way, its JSON requests on stdin; it names files inside them,
#        so the caller makes those readable)
# Every argument that names an existing file is staged into a fresh
# world-readable folder first, so that user can read it.
# Every run is checked: a non-zero exit, or a line on stderr that
# SMTPLAB_ALLOWED_STDERR (an ERE) does not match, makes this script fail
# (exit 125 when tshark itself exited 0) and appends a line saying so to the
# file SMTPLAB_RUN_LOG, where the test scripts read it: a failure inside
# $(...) or a pipeline cannot pass unseen. tshark's stderr is passed on.
# SMTPLAB_UNCHECKED=1 (for callers that judge the exit and stderr
# themselves, such as the fuzzer) leaves the run unchecked.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
build=$1; shift
prog=${SMTPLAB_PROGRAM:-tshark}
case "$prog" in tshark|sharkd) ;; *) echo "tshark-as-user: SMTPLAB_PROGRAM must be tshark or sharkd" >&2; exit 2;; esac
ver_dir=$(cd "$build/plugins" && ls -d */ | head -n 1)
stage=$(mktemp -d /tmp/smtplab-tshark.XXXXXX)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/plugins/${ver_dir%/}/epan" "$stage/home" "$stage/files"
# SMTPLAB_NO_PLUGIN=1: the same run without the plugin, for comparisons.
[ "${SMTPLAB_NO_PLUGIN:-}" = 1 ] || cp "$build/plugins/${ver_dir%/}/epan/smtplab.so" "$stage/plugins/${ver_dir%/}/epan/"
# SMTPLAB_PROFILE=<folder>: install that folder as the "SMTP Lab" profile.
if [ -n "${SMTPLAB_PROFILE:-}" ]; then
    mkdir -p "$stage/home/.config/wireshark/profiles"
    cp -r "$SMTPLAB_PROFILE" "$stage/home/.config/wireshark/profiles/SMTP Lab"
fi
args=()
for a in "$@"; do
    if [ -f "$a" ]; then
        cp "$a" "$stage/files/"
        args+=("$stage/files/$(basename "$a")")
    else
        args+=("$a")
    fi
done
chmod -R a+rwX "$stage"
envs=(env -i PATH=/usr/bin:/bin HOME="$stage/home" TZ=UTC LC_ALL=C.UTF-8
      WIRESHARK_PLUGIN_DIR="$stage/plugins"
      WIRESHARK_DEBUG_WMEM_OVERRIDE="${WIRESHARK_DEBUG_WMEM_OVERRIDE:-strict}"
      WIRESHARK_ABORT_ON_DISSECTOR_BUG=1
      ${SMTPLAB_EXTRA_ENV:-})
tshark_as_user() {
    if [ "$(id -u)" = 0 ]; then
        setpriv --reuid=nobody --regid=nogroup --clear-groups "${envs[@]}" "$prog" "$@"
    else
        "${envs[@]}" "$prog" "$@"
    fi
}
# Wireshark 4.2 and later print -T fields values differently from 4.0 (a
# backslash doubled, booleans as True/False): read them as 4.0 prints them,
# so that one set of expected values holds (../versions/ws-version.sh).
. "$(dirname "$0")/../versions/ws-version.sh"
if ws_at_least "${ver_dir%/}" 4.2 && [[ " $* " == *" -T fields "* || " $* " == *" -Tfields "* ]]; then
    booleans="$build/ws-boolean-fields"
    if ! [ "$booleans" -nt "$build/plugins/${ver_dir%/}/epan/smtplab.so" ]; then
        env -u SMTPLAB_NO_PLUGIN -u SMTPLAB_PROFILE "$0" "$build" -G fields |
            gawk -F'\t' '$1 == "F" && $4 == "FT_BOOLEAN" { print $3 }' > "$booleans.$$"
        mv -f "$booleans.$$" "$booleans"
    fi
    tshark_rc=0
    tshark_as_user "${args[@]}" 2> "$stage/stderr" | ws_fields_as_base "$booleans" "$@" || tshark_rc=$?
else
    tshark_rc=0
    tshark_as_user "${args[@]}" 2> "$stage/stderr" || tshark_rc=$?
fi
cat "$stage/stderr" >&2
[ "${SMTPLAB_UNCHECKED:-}" = 1 ] && exit "$tshark_rc"
unexpected=$(grep -Ev "${SMTPLAB_ALLOWED_STDERR:-^$}" "$stage/stderr" || true)
if [ "$tshark_rc" != 0 ] || [ -n "$unexpected" ]; then
    what="$prog $* (exit $tshark_rc)"
    [ -n "$unexpected" ] && what+=", on stderr: $(head -c 300 <<<"$unexpected" | tr '\n' ' ')"
    echo "tshark-as-user: FAILED: $what" >&2
    [ -n "${SMTPLAB_RUN_LOG:-}" ] && echo "$what" >> "$SMTPLAB_RUN_LOG"
    [ "$tshark_rc" != 0 ] && exit "$tshark_rc"
    exit 125
fi
