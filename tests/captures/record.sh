#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# record.sh: re-records every smtplab test capture in this folder from scratch (run as root).
#
# Usage:  sudo bash tests/captures/record.sh [OUTDIR]
#         (OUTDIR defaults to this folder; existing captures are replaced,
#         each by an atomic rename, only after all of them passed the check)
#
# Needs (Debian 12 packages): tshark (dumpcap), python3-aiosmtpd (used by
# /usr/bin/python3), inetutils-telnet (/usr/bin/telnet), swaks, openssl,
# iproute2, nftables.
#
# How it works:
#   * All loopback scenarios run inside a private network namespace
#     (smtplab-rec) with its own "lo", so nothing else on the machine can
#     listen on ports 25/587 or add packets, and so that a per-namespace
#     sysctl can switch off TCP tail-loss probes (tcp_early_retrans=0):
#     on loopback they otherwise fire a spurious retransmission whenever a
#     server sends two segments the client has not ACKed within ~10 ms.
#   * smtp_server.py (aiosmtpd, hostname lab.example) listens on 127.0.0.1
#     and ::1; one dumpcap per scenario captures "lo" with a BPF for that one
#     port; the clients are smtp_client.py, telnet_drive.py (the real
#     /usr/bin/telnet on a pty) and swaks.
#   * syn-unanswered uses two more namespaces (smtplab-cli, smtplab-srv)
#     joined by a veth pair (192.0.2.1 <-> 192.0.2.2, TEST-NET-1) with an
#     nftables drop rule on the target; the capture is on the client's veth.
#   * Everything is written to a temporary folder first and moved here only
#     when every scenario recorded and check_captures.py accepts the result.
#   * A trap stops every process this script started and deletes the
#     namespaces, also when a step fails.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEST=${1:-$HERE}
PY=/usr/bin/python3
NS=smtplab-rec
NS_CLI=smtplab-cli
NS_SRV=smtplab-srv
WORK=""
PIDS=()
START=$SECONDS

REC_NAME=record.sh
. "$HERE/record-lib.sh"

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    rec_stop_pids
    local ns
    for ns in "$NS" "$NS_CLI" "$NS_SRV"; do
        ip netns del "$ns" 2>/dev/null || true
    done
    if [ "$rc" -ne 0 ] && [ -n "$WORK" ] && [ -d "$WORK" ]; then
        rec_show_logs "$rc" "$WORK"/*.log
    fi
    [ -n "$WORK" ] && rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- checks ---
[ "$(id -u)" -eq 0 ] || die "run as root (needs network namespaces and dumpcap)"
for cmd in ip dumpcap tshark swaks openssl nft /usr/bin/telnet "$PY"; do
    command -v "$cmd" >/dev/null || die "missing command: $cmd"
done
"$PY" -c 'import aiosmtpd' 2>/dev/null || die "$PY cannot import aiosmtpd (apt-get install python3-aiosmtpd)"

[ -d "$DEST" ] || die "no such folder: $DEST"
DEST=$(cd "$DEST" && pwd)
WORK=$(mktemp -d /tmp/smtplab-record.XXXXXX)
OUT="$WORK/out"
mkdir -p "$OUT"

# Leftovers of an earlier, killed run: our own namespaces only.
for ns in "$NS" "$NS_CLI" "$NS_SRV"; do
    ip netns del "$ns" 2>/dev/null || true
done

in_ns() { ip netns exec "$NS" "$@"; }

# -------------------------------------------------------------- helpers ---
SERVER_PID=""
# start_server NAME ARGS...: start smtp_server.py in $NS, wait until listening.
start_server() {
    local name=$1; shift
    local ready="$WORK/$name.ready"
    rm -f "$ready"
    # Not through in_ns: a backgrounded shell function would be a subshell
    # and $! its pid, not the server's.  ip netns exec execs in place.
    ip netns exec "$NS" "$PY" "$HERE/smtp_server.py" --ready-file "$ready" "$@" \
        >"$WORK/server-$name.log" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    wait_for_line "$ready" '^READY$' "$SERVER_PID" 10
    log "server $name up (pid $SERVER_PID): $*"
}

stop_server() {
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" || die "server $SERVER_PID exited with $?"
    forget_pid "$SERVER_PID"
    SERVER_PID=""
}

# record NAME PORT COMMAND...: one capture of COMMAND (run inside $NS) on lo.
record() {
    local name=$1 port=$2; shift 2
    log "recording $name.pcapng (tcp port $port): $*"
    cap_start "$NS" lo "tcp port $port" "$name"
    in_ns "$@" >"$WORK/client-$name.log" 2>&1 || die "$name: client failed (exit $?)"
    cap_stop
}

CLIENT=("$PY" "$HERE/smtp_client.py")
TELNET=("$PY" "$HERE/telnet_drive.py")
SWAKS_DATA='From: student@lab.example\nTo: teacher@lab.example\nSubject: smtplab swaks test\n\nHello from swaks in the smtplab lab.'

# ------------------------------------------------------ loopback namespace ---
ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" sysctl -qw net.ipv4.tcp_early_retrans=0
# ::1 is usable as soon as lo is up (no DAD on loopback); make sure.
for _ in $(seq 50); do
    ip -n "$NS" -6 addr show dev lo | grep -q '::1/128' && break
    sleep 0.1
done

# 1. Nothing listening yet: connection refused.
record refused 25 "${CLIENT[@]}" refused --host 127.0.0.1 --port 25

# 2. Plain server on 25 and 587.
start_server plain --mode plain --port 25 --port 587
record typed-lab        25  "${CLIENT[@]}" typed-lab --host 127.0.0.1 --port 25
record typed-backspace  25  "${CLIENT[@]}" typed-backspace --host 127.0.0.1 --port 25
record telnet-line      25  "${TELNET[@]}" line 127.0.0.1 25
record telnet-char      25  "${TELNET[@]}" char 127.0.0.1 25
record swaks            25  swaks --server 127.0.0.1 --port 25 \
    --from student@lab.example --to teacher@lab.example \
    --helo client.lab.example --data "$SWAKS_DATA"
record typed-ipv6       25  "${CLIENT[@]}" typed-lab --host ::1 --port 25
record typed-587        587 "${CLIENT[@]}" typed-lab --host 127.0.0.1 --port 587
record pipelining       25  "${CLIENT[@]}" pipelining --host 127.0.0.1 --port 25
record typed-errors     25  "${CLIENT[@]}" typed-errors --host 127.0.0.1 --port 25
record no-quit          25  "${CLIENT[@]}" no-quit --host 127.0.0.1 --port 25
record typed-bare-lf-cr 25  "${CLIENT[@]}" typed-bare-lf-cr --host 127.0.0.1 --port 25
stop_server

# 3. STARTTLS-required server on 587, with a throw-away self-signed cert.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 3650 \
    -subj /CN=lab.example >"$WORK/openssl.log" 2>&1
start_server starttls --mode starttls --port 587 \
    --cert "$WORK/cert.pem" --key "$WORK/key.pem"
record starttls-587 587 "${CLIENT[@]}" starttls --host 127.0.0.1 --port 587
stop_server

# 4. AUTH server (student/secret, AUTH allowed without TLS) on 587.
start_server auth --mode auth --port 587
record auth 587 swaks --server 127.0.0.1 --port 587 \
    --from student@lab.example --to teacher@lab.example \
    --helo client.lab.example --auth PLAIN --auth-user student \
    --auth-password secret --data "$SWAKS_DATA"
stop_server

ip netns del "$NS"

# 5. SYN that is never answered: two namespaces, veth, nftables drop.
log "recording syn-unanswered.pcapng (namespaces $NS_CLI / $NS_SRV)"
ip netns add "$NS_CLI"
ip netns add "$NS_SRV"
ip link add smtplab-c netns "$NS_CLI" type veth peer name smtplab-s netns "$NS_SRV"
for ns in "$NS_CLI" "$NS_SRV"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ip -n "$ns" link set lo up
done
ip -n "$NS_CLI" addr add 192.0.2.1/24 dev smtplab-c
ip -n "$NS_SRV" addr add 192.0.2.2/24 dev smtplab-s
ip -n "$NS_CLI" link set smtplab-c up
ip -n "$NS_SRV" link set smtplab-s up
ip netns exec "$NS_SRV" nft -f - <<'EOF'
table inet smtplab {
    chain input {
        type filter hook input priority 0; policy accept;
        tcp dport 25 drop
    }
}
EOF
# Wait for carrier on both ends of the veth.
for _ in $(seq 50); do
    ip -n "$NS_CLI" link show smtplab-c | grep -q 'LOWER_UP' \
        && ip -n "$NS_SRV" link show smtplab-s | grep -q 'LOWER_UP' && break
    sleep 0.1
done
ip -n "$NS_CLI" link show smtplab-c | grep -q 'LOWER_UP' || die "veth smtplab-c has no carrier"
cap_start "$NS_CLI" smtplab-c "tcp port 25" syn-unanswered
ip netns exec "$NS_CLI" "${CLIENT[@]}" syn-unanswered --host 192.0.2.2 --port 25 \
    --timeout 3.5 >"$WORK/client-syn-unanswered.log" 2>&1 \
    || die "syn-unanswered: client failed"
cap_stop
ip netns del "$NS_CLI"
ip netns del "$NS_SRV"

# ----------------------------------------------------------------- check ---
chmod 0644 "$OUT"/*.pcapng
"$PY" "$HERE/check_captures.py" "$OUT" --set lab >"$WORK/check.log" 2>&1 || {
    cat "$WORK/check.log" >&2
    die "check_captures.py rejected the new captures; old ones left in place"
}
cat "$WORK/check.log" >&2
for f in "$OUT"/*.pcapng; do
    name=$(basename "$f")
    cp "$f" "$DEST/.$name.new"
    mv -f "$DEST/.$name.new" "$DEST/$name"
done
log "all $(ls "$OUT"/*.pcapng | wc -l) captures written to $DEST in $((SECONDS - START)) s"
