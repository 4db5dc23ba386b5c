#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# record-clients.sh: records the real-client sessions of issue 13 (socat, telnet,
# plink, busybox telnet, nc typed on a pty) against aiosmtpd and postfix, with
# each session's server log (run as root).
#
# Usage:  sudo bash tests/captures/record-clients.sh [OUTDIR]
#         (OUTDIR defaults to this folder; the captures go to OUTDIR/<name>.pcapng
#         and the server's log of each session to OUTDIR/logs/<name>.log, each
#         replaced by an atomic rename, only after all of them passed the check)
#
# Needs (Debian 12 packages): tshark (dumpcap), python3-aiosmtpd (used by
# /usr/bin/python3), postfix, socat, inetutils-telnet (/usr/bin/telnet),
# putty-tools (plink), busybox, netcat-openbsd (nc), iproute2.
#
# How it works:
#   * Everything runs inside a private network namespace (smtplab-clients)
#     with its own "lo" and tcp_early_retrans=0, as in record.sh.
#   * First smtp_server.py --log-lines (aiosmtpd, lab.example) on 127.0.0.1:25
#     and ::1:25, then a private postfix instance on 127.0.0.1:25: its own
#     config, queue and data folders in the temporary folder, master(8) run in
#     the foreground inside the namespace, debug_peer_list = 127.0.0.1 so
#     smtpd logs every command line it read ("< ...") and every reply
#     ("> ..."), maillog_file in the temporary folder.  The system's postfix
#     (/etc/postfix, /var/spool/postfix) is neither used nor touched.
#   * client_drive.py runs the real client on a pty and types into it key by
#     key; one dumpcap per session captures "lo" with "tcp port 25".
#   * Each session's server log is the part of the server's log written
#     during that session.  From postfix's, two kinds of verbose lines that
#     say nothing about the session (smtp_stream_setup:, match_hostname: /
#     match_hostaddr: of smtpd_client_event_limit_exceptions) are left out.
#   * Everything is written to a temporary folder first and moved into place
#     only when every session recorded and check_captures.py --set clients
#     accepts the result.
#   * A trap stops every process this script started (servers, dumpcap) and
#     deletes the namespace, also when a step fails.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEST=${1:-$HERE}
PY=/usr/bin/python3
NS=smtplab-clients
MASTER=/usr/lib/postfix/sbin/master
WORK=""
PIDS=()
START=$SECONDS

REC_NAME=record-clients.sh
. "$HERE/record-lib.sh"

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    rec_stop_pids
    ip netns del "$NS" 2>/dev/null || true
    if [ "$rc" -ne 0 ] && [ -n "$WORK" ] && [ -d "$WORK" ]; then
        rec_show_logs "$rc" "$WORK"/*.log "$WORK"/postfix/maillog
    fi
    [ -n "$WORK" ] && rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- checks ---
[ "$(id -u)" -eq 0 ] || die "run as root (needs network namespaces, dumpcap and postfix)"
for cmd in ip dumpcap tshark postfix postconf "$MASTER" /usr/bin/socat /usr/bin/telnet \
           /usr/bin/plink /usr/bin/busybox /usr/bin/nc "$PY"; do
    command -v "$cmd" >/dev/null || die "missing command: $cmd"
done
"$PY" -c 'import aiosmtpd' 2>/dev/null || die "$PY cannot import aiosmtpd (apt-get install python3-aiosmtpd)"
/usr/bin/nc -h 2>&1 | grep -q OpenBSD || die "/usr/bin/nc is not netcat-openbsd"
getent passwd postfix >/dev/null || die "no user postfix (apt-get install postfix)"

[ -d "$DEST" ] || die "no such folder: $DEST"
DEST=$(cd "$DEST" && pwd)
WORK=$(mktemp -d /tmp/smtplab-record-clients.XXXXXX)
# postfix's daemons run as user postfix and must reach their queue folder.
chmod 0755 "$WORK"
OUT="$WORK/out"
mkdir -p "$OUT/logs"

# Leftovers of an earlier, killed run: our own namespace only.
ip netns del "$NS" 2>/dev/null || true

# -------------------------------------------------------------- helpers ---
# listening PORT: true once something in $NS listens on 127.0.0.1:PORT.
listening() {
    ip netns exec "$NS" ss -Hltn "sport = :$1" | grep -q '127\.0\.0\.1:'
}

SERVER_PID=""
SERVER_LOG=""
# start_aiosmtpd: smtp_server.py --log-lines on port 25, wait until listening.
start_aiosmtpd() {
    local ready="$WORK/aiosmtpd.ready"
    SERVER_LOG="$WORK/aiosmtpd.log"
    ip netns exec "$NS" "$PY" "$HERE/smtp_server.py" --mode plain --port 25 --log-lines \
        --ready-file "$ready" >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    wait_for_line "$ready" '^READY$' "$SERVER_PID" 10
    log "aiosmtpd up (pid $SERVER_PID)"
}

# start_postfix: master -d (foreground) in $NS, wait until smtpd's port listens.
start_postfix() {
    local d="$WORK/postfix" i
    rec_make_postfix "$d" "mynetworks = 127.0.0.0/8"
    SERVER_LOG="$d/maillog"
    ip netns exec "$NS" "$MASTER" -d -c "$d/etc" >"$WORK/postfix-master.log" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    for ((i = 0; i < 200; i++)); do
        listening 25 && break
        kill -0 "$SERVER_PID" 2>/dev/null || die "postfix master died (see postfix-master.log)"
        sleep 0.05
    done
    listening 25 || die "postfix does not listen on 127.0.0.1:25"
    wait_for_line "$SERVER_LOG" 'daemon started' "$SERVER_PID" 10
    log "postfix $(postconf -h mail_version) up (master pid $SERVER_PID)"
}

stop_server() {
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" || true
    forget_pid "$SERVER_PID"
    SERVER_PID=""
}

# record NAME: one session of client_drive.py NAME against 127.0.0.1:25, its
# capture, and the server's log of it.
record() {
    local name=$1 from
    log "recording $name.pcapng"
    from=$(stat -c %s "$SERVER_LOG")
    cap_start "$NS" lo "tcp port 25" "$name"
    ip netns exec "$NS" "$PY" "$HERE/client_drive.py" "$name" 127.0.0.1 25 \
        >"$WORK/client-$name.log" 2>&1 || die "$name: client failed (exit $?)"
    cap_stop
    tail -c +"$((from + 1))" "$SERVER_LOG" \
        | grep -Ev 'postfix/smtpd\[[0-9]+\]: (smtp_stream_setup|match_host(name|addr)): ' \
        >"$OUT/logs/$name.log" || true
    [ -s "$OUT/logs/$name.log" ] || die "$name: the server logged nothing"
}

# ------------------------------------------------------------ namespace ---
ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" sysctl -qw net.ipv4.tcp_early_retrans=0

# 1. aiosmtpd.
start_aiosmtpd
record telnet-send-ayt
record plink-telnet
record plink-raw
record busybox-telnet-line
record busybox-telnet-char-del
record nc-crlf
stop_server

# 2. postfix.
start_postfix
record socat-raw-bare-cr
record socat-raw-ctrl-j
record telnet-char-toggle-crlf
record telnet-send-brk
record nc-bare-lf
stop_server

ip netns del "$NS"

# ----------------------------------------------------------------- check ---
chmod 0644 "$OUT"/*.pcapng "$OUT"/logs/*.log
"$PY" "$HERE/check_captures.py" "$OUT" --set clients >"$WORK/check.log" 2>&1 || {
    cat "$WORK/check.log" >&2
    die "check_captures.py rejected the new captures; old ones left in place"
}
cat "$WORK/check.log" >&2
mkdir -p "$DEST/logs"
for f in "$OUT"/*.pcapng "$OUT"/logs/*.log; do
    rel=${f#"$OUT"/}
    cp "$f" "$DEST/$(dirname "$rel")/.$(basename "$rel").new"
    mv -f "$DEST/$(dirname "$rel")/.$(basename "$rel").new" "$DEST/$rel"
done
log "all $(ls "$OUT"/*.pcapng | wc -l) captures and their server logs written to $DEST in $((SECONDS - START)) s"
