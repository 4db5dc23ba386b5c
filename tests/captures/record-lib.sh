# Shared by record.sh and record-clients.sh (sourced, not run): logging,
# stopping the processes a recording started, waiting for a line in a log,
# and dumpcap started and stopped around one session.
# Needs: REC_NAME (the script's name, for messages), PIDS (an array), WORK
# (the work folder) and OUT (where captures go) set by the script.
# SPDX-License-Identifier: GPL-2.0-or-later

log() { printf '%s: %s\n' "$REC_NAME" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# rec_stop_pids: TERM every process in PIDS, KILL those still there after 2 s.
rec_stop_pids() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 20); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

# rec_show_logs EXIT_STATUS FILE...: after a failure, the last lines of each log.
rec_show_logs() {
    local f
    log "FAILED (exit $1); last lines of the logs:"
    shift
    for f in "$@"; do
        [ -s "$f" ] || continue
        printf '==> %s <==\n' "$(basename "$f")" >&2
        tail -n 15 "$f" >&2
    done
}

# wait_for_line FILE REGEX PID SECONDS: wait until FILE has a line matching
# REGEX, failing early if PID dies.
wait_for_line() {
    local file=$1 re=$2 pid=$3 secs=$4 i
    for ((i = 0; i < secs * 20; i++)); do
        grep -qE "$re" "$file" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || die "process $pid died (see $(basename "$file"))"
        sleep 0.05
    done
    die "timed out waiting for /$re/ in $(basename "$file")"
}

# forget_pid PID: drop a process that has been waited for from PIDS.
forget_pid() {
    local keep=() p
    for p in "${PIDS[@]}"; do
        [ "$p" = "$1" ] || keep+=("$p")
    done
    PIDS=("${keep[@]}")
}

CAP_PID=""
# cap_start NETNS IFACE BPF NAME: start dumpcap and wait until it really captures.
cap_start() {
    local netns=$1 iface=$2 bpf=$3 name=$4
    local clog="$WORK/dumpcap-$name.log"
    ip netns exec "$netns" dumpcap -q -i "$iface" -f "$bpf" -w "$OUT/$name.pcapng" \
        >"$clog" 2>&1 &
    CAP_PID=$!
    PIDS+=("$CAP_PID")
    # dumpcap prints "File: ..." once the interface is open, the filter is
    # set and the output file is created.
    wait_for_line "$clog" '^File: ' "$CAP_PID" 10
    sleep 0.3
}

# cap_stop: let the last packets arrive, then stop dumpcap with SIGINT.
cap_stop() {
    sleep 0.5
    kill -INT "$CAP_PID"
    wait "$CAP_PID" || die "dumpcap $CAP_PID exited with $?"
    forget_pid "$CAP_PID"
    CAP_PID=""
}

# rec_make_postfix DIR [SETTING...]: a private postfix instance (config,
# queue, data, log) in DIR that logs every line smtpd reads and every reply
# (debug_peer_list); each SETTING is one more main.cf line (mynetworks and
# the session's own). The system's postfix is neither used nor touched.
rec_make_postfix() {
    local d=$1 line
    shift
    mkdir -p "$d/etc" "$d/spool" "$d/data"
    chmod 0755 "$d" "$d/etc" "$d/spool"
    chown postfix "$d/data"
    cat >"$d/etc/main.cf" <<EOF
compatibility_level = 3.6
myhostname = lab.example
mydomain = lab.example
myorigin = \$myhostname
mydestination = \$myhostname, localhost
inet_interfaces = loopback-only
inet_protocols = ipv4
smtpd_banner = \$myhostname ESMTP Postfix
queue_directory = $d/spool
data_directory = $d/data
maillog_file = $d/maillog
maillog_file_prefixes = $d
debug_peer_list = 127.0.0.1
debug_peer_level = 1
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
EOF
    for line in "$@"; do
        printf '%s\n' "$line" >>"$d/etc/main.cf"
    done
    # No chroot (the queue folder is not set up for one), one smtpd.
    cat >"$d/etc/master.cf" <<'EOF'
smtp      inet  n       -       n       -       1       smtpd
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
retry     unix  -       -       n       -       -       error
trace     unix  -       -       n       -       0       bounce
anvil     unix  -       -       n       -       1       anvil
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
    # Creates the queue's subfolders with their owners and modes.
    postfix -c "$d/etc" check
}
