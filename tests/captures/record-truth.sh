#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# record-truth.sh: records the captures of issue 14 (the SMTP Lab layer on
# real captures: begun after the greeting, pipelined QUIT, timeout, malformed
# BDAT, EXPN/HELP/VRFY, relay denied, one direction only, a 554 greeting)
# against a private postfix, with each session's server log (run as root).
#
# Usage:  sudo bash tests/captures/record-truth.sh [OUTDIR]
#         (OUTDIR defaults to this folder; the captures go to OUTDIR/<name>.pcapng
#         and the server's log of each session to OUTDIR/logs/<name>.log, each
#         replaced by an atomic rename, only after all of them passed the check)
#
# Needs (Debian 12 packages): tshark (dumpcap), postfix, inetutils-telnet
# (/usr/bin/telnet), openssl, python3, iproute2.
#
# How it works:
#   * Everything runs inside a private network namespace (smtplab-truth)
#     with its own "lo" and tcp_early_retrans=0, as in record.sh.
#   * A private postfix instance as in record-clients.sh (its own config,
#     queue, data folder and log in the temporary folder, master(8) in the
#     foreground inside the namespace, debug_peer_list = 127.0.0.1 so smtpd
#     logs every command line it read and every reply), started four times
#     with different settings: the lab's (mynetworks holds no loopback
#     address, so a foreign recipient is refused), with STARTTLS offered
#     (a self-signed cert made with openssl in the temporary folder), with
#     smtpd_timeout = 3s, and with every client rejected at connect
#     (smtpd_client_restrictions = reject, smtpd_delay_reject = no).
#     Mail it accepts stays in its queue (defer_transports).  The system's
#     postfix (/etc/postfix, /var/spool/postfix) is neither used nor touched.
#   * truth_client.py sends the scripted sessions; client_drive.py types the
#     others into /usr/bin/telnet on a pty, key by key.
#   * after-greeting*: the client connects and reads the 220 first; only then
#     is dumpcap started, and the client goes on once dumpcap captures.
#   * client-only / server-only: one typed session, two dumpcaps at once,
#     with "tcp dst port 25" and "tcp src port 25".
#   * Each session's server log is the part of postfix's log written during
#     that session, less the verbose smtp_stream_setup: / match_hostname: /
#     match_hostaddr: lines (as in record-clients.sh).
#   * Everything is written to a temporary folder first and moved into place
#     only when every session recorded and check_captures.py --set truth
#     accepts the result.
#   * A trap stops every process this script started (postfix, dumpcap,
#     clients) and deletes the namespace, also when a step fails.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEST=${1:-$HERE}
PY=/usr/bin/python3
NS=smtplab-truth
MASTER=/usr/lib/postfix/sbin/master
WORK=""
PIDS=()
START=$SECONDS

REC_NAME=record-truth.sh
. "$HERE/record-lib.sh"

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    rec_stop_pids
    ip netns del "$NS" 2>/dev/null || true
    if [ "$rc" -ne 0 ] && [ -n "$WORK" ] && [ -d "$WORK" ]; then
        rec_show_logs "$rc" "$WORK"/*.log "$WORK"/postfix*/maillog
    fi
    [ -n "$WORK" ] && rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- checks ---
[ "$(id -u)" -eq 0 ] || die "run as root (needs network namespaces, dumpcap and postfix)"
for cmd in ip ss dumpcap tshark openssl postfix postconf "$MASTER" /usr/bin/telnet "$PY"; do
    command -v "$cmd" >/dev/null || die "missing command: $cmd"
done
getent passwd postfix >/dev/null || die "no user postfix (apt-get install postfix)"

[ -d "$DEST" ] || die "no such folder: $DEST"
DEST=$(cd "$DEST" && pwd)
WORK=$(mktemp -d /tmp/smtplab-record-truth.XXXXXX)
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
# start_postfix NAME [SETTING...]: master -d (foreground) in $NS with the lab's
# main.cf plus SETTINGs, in $WORK/postfix-NAME; wait until smtpd listens.
start_postfix() {
    local d="$WORK/postfix-$1" i
    shift
    # No loopback address: 127.0.0.1 may not relay (relay-denied); accepted
    # mail stays in the queue, nothing is delivered.
    rec_make_postfix "$d" "mynetworks = 192.0.2.0/24" "defer_transports = local, smtp, relay, virtual" "$@"
    SERVER_LOG="$d/maillog"
    ip netns exec "$NS" "$MASTER" -d -c "$d/etc" >"$d.master.log" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    for ((i = 0; i < 200; i++)); do
        listening 25 && break
        kill -0 "$SERVER_PID" 2>/dev/null || die "postfix master died (see $d.master.log)"
        sleep 0.05
    done
    listening 25 || die "postfix does not listen on 127.0.0.1:25"
    wait_for_line "$SERVER_LOG" 'daemon started' "$SERVER_PID" 10
    log "postfix $(postconf -h mail_version) up (master pid $SERVER_PID): ${*:-lab settings}"
}

stop_server() {
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" || true
    forget_pid "$SERVER_PID"
    SERVER_PID=""
    # Let the port go before the next instance binds it.
    while listening 25; do sleep 0.05; done
}

LOG_FROM=0
log_start() { LOG_FROM=$(stat -c %s "$SERVER_LOG"); }
# log_keep NAME...: the server's log since log_start, as logs/NAME.log.  The
# log is read once smtpd has logged the session's disconnect.
log_keep() {
    local name i
    for ((i = 0; i < 200; i++)); do
        tail -c +"$((LOG_FROM + 1))" "$SERVER_LOG" | grep -q 'disconnect from' && break
        sleep 0.05
    done
    for name in "$@"; do
        tail -c +"$((LOG_FROM + 1))" "$SERVER_LOG" \
            | grep -Ev 'postfix/smtpd\[[0-9]+\]: (smtp_stream_setup|match_host(name|addr)): ' \
            >"$OUT/logs/$name.log" || true
        [ -s "$OUT/logs/$name.log" ] || die "$name: the server logged nothing"
    done
}

# typed NAME [SCENARIO]: a client_drive.py session (telnet typed on a pty)
# against 127.0.0.1:25, its capture, and the server's log of it.
typed() {
    local name=$1 scenario=${2:-$1}
    log "recording $name.pcapng (client_drive.py $scenario)"
    log_start
    cap_start "$NS" lo "tcp port 25" "$name"
    ip netns exec "$NS" "$PY" "$HERE/client_drive.py" "$scenario" 127.0.0.1 25 \
        >"$WORK/client-$name.log" 2>&1 || die "$name: client failed (exit $?)"
    cap_stop
    log_keep "$name"
}

# scripted NAME: a truth_client.py session, its capture and the server's log.
scripted() {
    local name=$1
    log "recording $name.pcapng (truth_client.py $name)"
    log_start
    cap_start "$NS" lo "tcp port 25" "$name"
    ip netns exec "$NS" "$PY" "$HERE/truth_client.py" "$name" \
        >"$WORK/client-$name.log" 2>&1 || die "$name: client failed (exit $?)"
    cap_stop
    log_keep "$name"
}

# after_greeting NAME: truth_client.py NAME connects and reads the 220 before
# dumpcap starts; it goes on once dumpcap captures.
after_greeting() {
    local name=$1 pid
    local banner="$WORK/$name.banner" go="$WORK/$name.go"
    log "recording $name.pcapng (truth_client.py $name, capture begun after the 220)"
    log_start
    ip netns exec "$NS" "$PY" "$HERE/truth_client.py" "$name" \
        --banner-file "$banner" --go-file "$go" >"$WORK/client-$name.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait_for_line "$banner" '^BANNER$' "$pid" 10
    cap_start "$NS" lo "tcp port 25" "$name"
    touch "$go"
    wait "$pid" || die "$name: client failed (exit $?)"
    forget_pid "$pid"
    cap_stop
    log_keep "$name"
}

# one_direction: one typed session, captured twice at once: client-only with
# "tcp dst port 25", server-only with "tcp src port 25".
one_direction() {
    local first
    log "recording client-only.pcapng and server-only.pcapng (client_drive.py one-direction)"
    log_start
    cap_start "$NS" lo "tcp dst port 25" client-only
    first=$CAP_PID
    cap_start "$NS" lo "tcp src port 25" server-only
    ip netns exec "$NS" "$PY" "$HERE/client_drive.py" one-direction 127.0.0.1 25 \
        >"$WORK/client-one-direction.log" 2>&1 || die "one-direction: client failed (exit $?)"
    cap_stop
    CAP_PID=$first
    cap_stop
    log_keep client-only server-only
}

# ------------------------------------------------------------ namespace ---
ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" sysctl -qw net.ipv4.tcp_early_retrans=0

# 1. The lab's settings.
start_postfix lab
after_greeting after-greeting
scripted pipelined-quit
scripted bdat-bad-syntax
typed expn-help
typed relay-denied
one_direction
stop_server

# 2. STARTTLS offered.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 3650 \
    -subj /CN=lab.example >"$WORK/openssl.log" 2>&1
chmod 0644 "$WORK/key.pem" "$WORK/cert.pem"
start_postfix tls "smtpd_tls_cert_file = $WORK/cert.pem" "smtpd_tls_key_file = $WORK/key.pem" \
    "smtpd_tls_security_level = may"
after_greeting after-greeting-starttls
stop_server

# 3. A 3 s timeout.
start_postfix timeout "smtpd_timeout = 3s"
typed idle-timeout
stop_server

# 4. Every client rejected at connect.
start_postfix reject "smtpd_client_restrictions = reject" "smtpd_delay_reject = no"
typed greeting-554
stop_server

ip netns del "$NS"

# ----------------------------------------------------------------- check ---
chmod 0644 "$OUT"/*.pcapng "$OUT"/logs/*.log
"$PY" "$HERE/check_captures.py" "$OUT" --set truth >"$WORK/check.log" 2>&1 || {
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
