#!/usr/bin/env bash
# ctest lab.errors: smtplab-lab on a machine that does not allow the lab, and
# misused. Each case must exit with its status and say what is missing and
# the command that fixes it:
#   - no display for the window mode (exit 2): "smtplab-lab --text";
#   - user namespaces disabled (user.max_user_namespaces = 0, set in a user
#     namespace of our own so that nothing else is touched; exit 2): the sysctl;
#   - dumpcap missing from PATH (exit 2): "sudo apt install wireshark-common";
#   - an unknown scenario, an unwritable --save-dir (exit 2);
#   - `smtplab-lab shell` with no lab running (exit 2);
#   - a second lab while one runs (exit 2, naming the running one); the first,
#     stopped with SIGINT, still exits 0 and saves its capture.
# Usage: check-errors.sh <build dir> <source dir>
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
me=lab.errors
lab=$src/plugin/lab/smtplab-lab
log() { printf '%s: %s\n' "$me" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

work=$(mktemp -d /tmp/smtplab-laberr.XXXXXX)
chmod 700 "$work"
mkdir -p "$work/rt" "$work/out" "$work/bin"
first=""
cleanup() {
    local rc=$?
    [ -n "$first" ] && kill -KILL "$first" 2>/dev/null || true
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
export XDG_RUNTIME_DIR=$work/rt PYTHONDONTWRITEBYTECODE=1 SMTPLAB_PROFILE=$src/plugin/profile
if [ "$(id -u)" = 0 ]; then
    export SMTPLAB_TSHARK="$src/tests/tshark/tshark-as-user.sh $build"
else
    export WIRESHARK_PLUGIN_DIR=$build/plugins
fi

# expect STATUS TEXT... -- COMMAND...: COMMAND exits with STATUS and its
# stderr holds every TEXT (fixed strings).
expect() {
    local want=$1 rc=0 t
    shift
    local texts=()
    while [ "$1" != -- ]; do texts+=("$1"); shift; done
    shift
    timeout -k 5 60 "$@" >"$work/out.txt" 2>"$work/err.txt" </dev/null || rc=$?
    [ "$rc" = "$want" ] || die "$* exited $rc, want $want: $(head -c 600 "$work/err.txt")"
    for t in "${texts[@]}"; do
        grep -qF -- "$t" "$work/err.txt" || die "$*: no \"$t\" in what it said: $(head -c 600 "$work/err.txt")"
    done
    log "ok: exit $rc: $(tr '\n' ' ' < "$work/err.txt" | head -c 160)"
}

expect 2 "no display for Wireshark: DISPLAY and WAYLAND_DISPLAY are not set" "fix: smtplab-lab --text" \
    -- env -u DISPLAY -u WAYLAND_DISPLAY "$lab" --save-dir "$work/out"
expect 2 "user namespaces are disabled (user.max_user_namespaces = 0" "fix: sudo sysctl -w user.max_user_namespaces=15000" \
    -- unshare --user --map-root-user sh -c 'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"' sh \
       "$lab" --text --save-dir "$work/out"
# A PATH with every command of /usr/sbin and /usr/bin but dumpcap.
for c in /usr/sbin/* /usr/bin/*; do
    [ "${c##*/}" = dumpcap ] || ln -sf "$c" "$work/bin/${c##*/}"
done
expect 2 "dumpcap is missing" -- env PATH="$work/bin" "$lab" --text --save-dir "$work/out"
# Only that, whole:
diff -u - "$work/err.txt" <<'EOF' || die "smtplab-lab without dumpcap said more or other than the above"
smtplab-lab: this machine cannot run the lab yet:
  - dumpcap is missing
      fix: sudo apt install wireshark-common
EOF
expect 2 "argument --scenario: invalid choice: 'nope'" -- "$lab" --text --scenario nope
expect 2 "--save-dir $work/none: not a folder you can write to" -- "$lab" --text --save-dir "$work/none"
expect 2 "no lab is running: start one with  smtplab-lab" -- "$lab" shell

# A lab runs; a second one is refused; the first ends cleanly.
"$lab" --text --save-dir "$work/out" >"$work/first.out" 2>"$work/first.err" </dev/null &
first=$!
for ((i = 0; i < 300; i++)); do
    grep -q 'the lab network is up' "$work/first.out" 2>/dev/null && break
    kill -0 "$first" 2>/dev/null || die "the first lab ended: $(cat "$work/first.err")"
    sleep 0.1
done
grep -q 'the lab network is up' "$work/first.out" || die "the first lab did not start within 30 s"
expect 2 "a lab is already running ($work/rt/smtplab-lab." "to use it, run  smtplab-lab shell" \
    -- "$lab" --text --save-dir "$work/out"
kill -INT "$first"
rc=0; wait "$first" || rc=$?
first=""
[ "$rc" = 0 ] || die "the first lab, stopped with SIGINT, exited $rc: $(cat "$work/first.err")"
grep -q '^smtplab-lab: saved 0 packets to ' "$work/first.out" || die "the first lab did not say it saved: $(cat "$work/first.out")"
[ -z "$(ls -A "$work/rt")" ] || die "left in XDG_RUNTIME_DIR: $(ls -A "$work/rt")"
log "PASS"
