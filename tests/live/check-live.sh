#!/usr/bin/env bash
# ctest live.typed-lab: the lab as a student does it, live. In a private
# network namespace (its own loopback; nothing leaves the machine):
#   - a real SMTP server (tests/captures/smtp_server.py, aiosmtpd) on 127.0.0.1:25,
#   - dumpcap on that namespace's lo, as root, writing pcapng to stdout, a pipe
#     read by tshark run as nobody with the built plugin, in one pass
#     (tshark -r - -l -T fields ...),
#   - the typing client (tests/captures/smtp_client.py typed-lab: one keystroke
#     per segment) types "helo lab.example" and "quit".
# While dumpcap still captures, tshark's live output must already show both
# typed lines (keystroke.line.edited) and every stage, in order: handshake,
# banner, helo, helo-reply, quit, quit-reply, teardown. Then dumpcap is
# stopped (SIGINT) and tshark must end cleanly.
# Needs root (namespaces, capture): otherwise exits 77, which ctest reports
# as skipped. Hard limits: every process runs under `timeout`, dumpcap stops
# itself after 30 s; a trap stops them all (by pid) and deletes the namespace.
# Usage: check-live.sh <build dir> <source dir>
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
me=live.typed-lab
PY=/usr/bin/python3
log() { printf '%s: %s\n' "$me" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

if [ "$(id -u)" != 0 ]; then
    log "SKIP: needs root (a network namespace, and dumpcap capturing in it); CI runs as root"
    exit 77
fi
for c in ip dumpcap tshark setpriv timeout mkfifo "$PY"; do
    command -v "$c" >/dev/null 2>&1 || die "missing command '$c': run 'bash cmake/setup.sh test' (Debian packages iproute2 tshark python3-aiosmtpd)"
done
"$PY" -c 'import aiosmtpd' 2>/dev/null || die "$PY cannot import aiosmtpd (Debian package python3-aiosmtpd)"

ns=smtplab-live-$$
work=$(mktemp -d /tmp/smtplab-live.XXXXXX)
pids=()
ok=0
cleanup() {
    local rc=$? p i
    trap - EXIT INT TERM
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        for ((i = 0; i < 30; i++)); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    ip netns del "$ns" 2>/dev/null || true
    if [ "$ok" != 1 ]; then
        for f in "$work"/*.log "$work/live.tsv"; do
            [ -s "$f" ] || continue
            printf '==> %s <==\n' "$(basename "$f")" >&2
            tail -n 40 "$f" >&2
        done
    fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
start=$SECONDS

# wait_for FILE REGEX PID SECONDS: until FILE has a line matching REGEX;
# fails at once if PID has ended.
wait_for() {
    local file=$1 re=$2 pid=$3 secs=$4 i
    for ((i = 0; i < secs * 20; i++)); do
        grep -qE "$re" "$file" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || die "process $pid ended before /$re/ appeared in $(basename "$file")"
        sleep 0.05
    done
    die "no /$re/ in $(basename "$file") within $secs s"
}

# The plugin, staged where nobody can read it (as tests/tshark/tshark-as-user.sh).
ver_dir=$(cd "$build/plugins" && ls -d */ | head -n 1)
ver_dir=${ver_dir%/}
mkdir -p "$work/plugins/$ver_dir/epan" "$work/home"
cp "$build/plugins/$ver_dir/epan/smtplab.so" "$work/plugins/$ver_dir/epan/"
chmod -R a+rwX "$work"

# The namespace: its own lo, up. As in tests/captures/record.sh, no tail-loss
# probes (they put spurious retransmissions into loopback captures).
ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" sh -c 'echo 0 > /proc/sys/net/ipv4/tcp_early_retrans'

# The server.
ip netns exec "$ns" timeout -k 5 60 "$PY" "$src/tests/captures/smtp_server.py" \
    --mode plain --port 25 --addr 127.0.0.1 --ready-file "$work/server.ready" \
    >"$work/server.log" 2>&1 &
pids+=($!)
wait_for "$work/server.ready" '^READY$' "${pids[-1]}" 10

# dumpcap (root, in the namespace) -> pipe -> tshark (nobody, one pass).
mkfifo "$work/pcap.pipe"
ip netns exec "$ns" timeout -s INT -k 5 40 dumpcap -i lo -f 'tcp port 25' -a duration:30 -w - \
    >"$work/pcap.pipe" 2>"$work/dumpcap.log" &
dumpcap_pid=$!
pids+=("$dumpcap_pid")
timeout -k 5 45 setpriv --reuid=nobody --regid=nogroup --clear-groups \
    env -i PATH=/usr/bin:/bin HOME="$work/home" TZ=UTC LC_ALL=C.UTF-8 \
    WIRESHARK_PLUGIN_DIR="$work/plugins" WIRESHARK_DEBUG_WMEM_OVERRIDE=strict \
    WIRESHARK_ABORT_ON_DISSECTOR_BUG=1 \
    tshark -r - -l -n -T fields -E separator=/t \
    -e frame.number -e tcp.srcport -e smtplab.stage -e smtplab.role -e keystroke.line.edited \
    <"$work/pcap.pipe" >"$work/live.tsv" 2>"$work/tshark.log" &
tshark_pid=$!
pids+=("$tshark_pid")
# dumpcap says "Capturing on 'Loopback: lo'" once the interface is open.
wait_for "$work/dumpcap.log" '^Capturing on' "$dumpcap_pid" 10
sleep 0.3

# The student types.
log "typing helo lab.example and quit, one keystroke per segment"
ip netns exec "$ns" timeout -k 5 30 "$PY" "$src/tests/captures/smtp_client.py" typed-lab \
    --host 127.0.0.1 --port 25 >"$work/client.log" 2>&1 || die "the typing client failed (exit $?)"

# Live: with dumpcap still capturing, tshark must already have printed the
# last frame of the session (the client's FIN, and the server's ACK of it).
for ((i = 0; i < 100; i++)); do
    [ "$(awk -F'\t' '$3 == "teardown"' "$work/live.tsv" | wc -l)" -ge 4 ] && break
    kill -0 "$tshark_pid" 2>/dev/null || die "tshark ended while dumpcap was capturing"
    sleep 0.05
done
kill -0 "$dumpcap_pid" 2>/dev/null || die "dumpcap ended early"
cp "$work/live.tsv" "$work/live-before-stop.tsv"
log "tshark printed $(wc -l <"$work/live-before-stop.tsv") frames live, $((SECONDS - start)) s after the start"

# Stop dumpcap: tshark reads the end of the pipe and ends.
kill -INT "$dumpcap_pid"
rc=0; wait "$dumpcap_pid" || rc=$?
[ "$rc" = 0 ] || die "dumpcap exited with status $rc"
rc=0; wait "$tshark_pid" || rc=$?
[ "$rc" = 0 ] || die "tshark exited with status $rc"

live=$work/live-before-stop.tsv
# 1. Each typed line, as the person meant it, on the frame completing it.
for line in "helo lab.example" "quit"; do
    awk -F'\t' -v l="$line" '$4 == "line" && $5 == l { found = 1 } END { exit !found }' "$live" ||
        die "no frame with smtplab.role line and keystroke.line.edited \"$line\" in the live output"
done
# 2. The stages, in order (consecutive repeats folded).
got=$(awk -F'\t' '$3 != "" && $3 != prev { printf "%s%s", sep, $3; sep = " "; prev = $3 }' "$live")
want="handshake banner helo helo-reply quit quit-reply teardown"
[ "$got" = "$want" ] || die "stages in order: got \"$got\", want \"$want\""
# 3. Every captured frame was staged, live and after the stop alike.
frames=$(wc -l <"$work/live.tsv")
unstaged=$(awk -F'\t' '$3 == ""' "$work/live.tsv" | wc -l)
[ "$unstaged" = 0 ] || die "$unstaged of $frames frames have no smtplab.stage"
cmp -s "$live" "$work/live.tsv" || die "tshark printed more after dumpcap stopped: the live output was not complete"
# 4. tshark said nothing (no dissector bug, no wmem error, no plugin error).
[ ! -s "$work/tshark.log" ] || die "tshark's stderr is not empty"

awk -F'\t' '$4 == "line" || $4 == "reply" { printf "  frame %s %-10s %-5s %s\n", $1, $3, $4, $5 }' "$live" >&2
ok=1
log "PASS: $frames frames, stages $got, in $((SECONDS - start)) s"
