#!/usr/bin/env bash
# ctest lab.<scenario> and lab.user: smtplab-lab driven as a student drives
# it, with no person: tmux runs `smtplab-lab --text --scenario <scenario>` in
# one window and `smtplab-lab shell` in another, where `telnet mail.lab 25`
# is typed key by key with human delays (60 to 180 ms a key), each reply
# awaited on the screen before the next line, as the scenario's steps say.
# Then Ctrl+C in the lab's window, and checks:
#   - the lab's live text, copied before Ctrl+C: the rows and diagnoses the
#     scenario must show while the session runs;
#   - the saved capture (smtplab-<login>-<YYYYmmdd-HHMMSS>.pcapng), two
#     passes: the lab stages in order, each connection's smtplab.complete,
#     the diagnoses (exactly);
#   - the truth: the lines the mail server logged as read, in order, are the
#     capture's command lines (keystroke.line), and the lines it logged as
#     written are the capture's reply lines;
#   - smtplab-grade on the saved capture: its student (the login, from the
#     file's name), complete and diagnoses columns.
# Usage: check-lab.sh <build dir> <source dir> <scenario> [user]
#   user: the whole lab as an unprivileged user (nobody, when run as root),
#   with the plugin and profile installed in that user's home as
#   `bash cmake/setup.sh demo` installs them, and Debian's tshark as it is.
#   Otherwise as the caller; as root, tshark runs through
#   tests/tshark/tshark-as-user.sh (Wireshark ignores plugin folders for root).
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
scenario=$3
mode=${4:-}
me=lab.${mode:+user.}$scenario
log() { printf '%s: %s\n' "$me" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

for c in tmux telnet unshare nsenter ip dumpcap tshark setpriv timeout /usr/bin/python3; do
    command -v "$c" >/dev/null 2>&1 ||
        die "missing command '$c': run 'bash cmake/setup.sh test' (Debian packages tmux telnet iproute2 tshark python3-aiosmtpd)"
done

work=$(mktemp -d /tmp/smtplab-labtest.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/out" "$work/rt" "$work/home" "$work/s"   # s: the student's tmux socket, lab output, server log
chmod 700 "$work/rt"
ok=0
as=()        # the command prefix that runs a program as the student
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    "${as[@]}" tmux -S "$work/s/tmux" kill-server 2>/dev/null || true
    if [ "$ok" != 1 ]; then
        for f in "$work/s/lab.out" "$work/telnet.screen" "$work/s/server.log"; do
            [ -s "$f" ] || continue
            printf '==> %s <==\n' "$(basename "$f")" >&2
            tail -n 60 "$f" >&2
        done
    fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

env_common=(PATH=/usr/local/bin:/usr/bin:/bin SHELL=/bin/bash TERM=xterm-256color LC_ALL=C.UTF-8 TZ=UTC
            XDG_RUNTIME_DIR="$work/rt" PYTHONDONTWRITEBYTECODE=1)
tshark_opt=()
login=$(id -un)
if [ "$mode" = user ]; then
    # The plugin and the profile where `bash cmake/setup.sh demo` puts them
    # for a user: the personal plugin folder, the personal profiles.
    ver=$(cd "$build/plugins" && ls -d */ | head -n 1)
    mkdir -p "$work/home/.local/lib/wireshark/plugins/${ver%/}/epan" "$work/home/.config/wireshark/profiles"
    cp "$build/plugins/${ver%/}/epan/smtplab.so" "$work/home/.local/lib/wireshark/plugins/${ver%/}/epan/"
    cp -r "$src/plugin/profile" "$work/home/.config/wireshark/profiles/SMTP Lab"
    if [ "$(id -u)" = 0 ]; then
        chown -R nobody:nogroup "$work/out" "$work/rt" "$work/home" "$work/s"
        as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
        login=nobody
    fi
    as+=(env -i HOME="$work/home" "${env_common[@]}")
else
    as=(env HOME="$work/home" "${env_common[@]}" SMTPLAB_PROFILE="$src/plugin/profile")
    if [ "$(id -u)" = 0 ]; then
        tshark_opt=(--tshark "$src/tests/tshark/tshark-as-user.sh $build")
    else
        as+=(WIRESHARK_PLUGIN_DIR="$build/plugins")
        mkdir -p "$work/home/.config/wireshark/profiles"
        cp -r "$src/plugin/profile" "$work/home/.config/wireshark/profiles/SMTP Lab"
    fi
fi
tm() { "${as[@]}" tmux -S "$work/s/tmux" "$@"; }

lab_args=(--text --scenario "$scenario" --save-dir "$work/out" --server-log "$work/s/server.log")
case "$scenario" in
slow) lab_args+=(--delay 3.5) ;;
idle-timeout) lab_args+=(--idle-timeout 4) ;;
esac
lab_cmd=$(printf '%q ' timeout --foreground -s INT -k 10 150 "$src/plugin/lab/smtplab-lab" "${lab_args[@]}" "${tshark_opt[@]}")
tm new-session -d -s lab -x 200 -y 50 "$lab_cmd; echo LAB-EXIT=\$?; sleep 600"
tm pipe-pane -t lab:0 -o "cat >> $(printf '%q' "$work/s/lab.out")"

# wait_for FILE-OR-WINDOW REGEX SECONDS: until the lab's output (lab) or the
# telnet window's screen (telnet) has a line matching REGEX.
wait_for() {
    local where=$1 re=$2 secs=$3 i text
    for ((i = 0; i < secs * 10; i++)); do
        if [ "$where" = lab ]; then
            text=$(tr -d '\r' 2>/dev/null < "$work/s/lab.out" || true)
        else
            text=$(tm capture-pane -p -J -S - -t lab:1 2>/dev/null || true)
            printf '%s\n' "$text" > "$work/telnet.screen"
        fi
        grep -qE -- "$re" <<<"$text" && return 0
        [ "$where" = telnet ] && [ -z "$stopped" ] && grep -q 'LAB-EXIT=' "$work/s/lab.out" 2>/dev/null &&
            die "the lab ended early"
        sleep 0.1
    done
    die "no /$re/ in the $where window within $secs s"
}

# type_line TEXT: keystroke by keystroke, 60 to 180 ms apart, then Enter.
type_line() {
    local s=$1 i
    for ((i = 0; i < ${#s}; i++)); do
        tm send-keys -t lab:1 -l "${s:i:1}"
        sleep "0.$((RANDOM % 13 + 6))"
    done
    sleep 0.2
    tm send-keys -t lab:1 Enter
}

start=$SECONDS
stopped=""
wait_for lab '^ *frame +time +stage' 30
tm new-window -t lab:1 "$(printf '%q ' "$src/plugin/lab/smtplab-lab" shell); echo SHELL-EXIT=\$?; sleep 600"
wait_for telnet '^\(smtplab lab\) ' 15

# Each scenario: what is typed, what is awaited; then what must be seen.
#   live:     regexes the live text must hold before Ctrl+C
#   stages:   the lab stages of the saved capture in frame order, repeats folded
#   complete: smtplab.complete of each connection, in order
#   diags:    the diagnoses of the saved capture, sorted, distinct
#   graded:   smtplab-grade's "complete" and "diagnoses" columns (the
#             diagnoses of the session it grades: not those of a refused or
#             unanswered connection to port 25 before a session on 587)
session_start() {
    type_line "telnet mail.lab ${1:-25}"
    wait_for telnet '^220 mail\.lab ESMTP' 30
}
session_quit() {
    type_line quit
    wait_for telnet '^221 2\.0\.0 Bye' 30
    wait_for telnet '^Connection closed by foreign host' 10
}
case "$scenario" in
normal)
    session_start
    type_line helo
    wait_for telnet '^250 mail\.lab' 10
    session_quit
    live=('^ +[0-9]+ +[0-9.]+  banner +mail\.lab:25 -> student +220 mail\.lab ESMTP$'
          '! helo_no_domain: HELO without a domain'
          '^ +[0-9]+ +[0-9.]+  helo-reply +mail\.lab:25 -> student +250 mail\.lab'
          '^ +[0-9]+ +[0-9.]+  quit-reply +mail\.lab:25 -> student +221 2\.0\.0 Bye'
          '\+ Activity 8: the server answers QUIT')
    stages="handshake banner helo helo-reply quit quit-reply teardown"
    complete="1"
    diags="helo_no_domain"
    graded="yes,helo_no_domain" ;;
blocked)
    type_line "telnet mail.lab 25"
    wait_for telnet '^Trying 192\.0\.2\.25' 10
    wait_for lab '! port_blocked: ' 20
    tm send-keys -t lab:1 C-c
    wait_for telnet '\(smtplab lab\) .*\$ $' 10
    session_start 587
    type_line "helo student.lab"
    wait_for telnet '^250 mail\.lab' 10
    session_quit
    live=('^ +2 +1\.[0-9]+  handshake +student -> mail\.lab:25 +SYN$'
          '! port_blocked: No answer to the SYN to port 25: sent again 1\.[0-9] s after frame 1\. A firewall drops it'
          '^ +[0-9]+ +[0-9.]+  banner +mail\.lab:587 -> student +220 mail\.lab ESMTP$')
    stages="handshake banner helo helo-reply quit quit-reply teardown"
    complete="0 1"
    diags="port_blocked"
    graded="yes," ;;
refused)
    type_line "telnet mail.lab 25"
    wait_for telnet 'Connection refused' 10
    wait_for lab '! port_blocked: ' 10
    session_start 587
    type_line "helo student.lab"
    wait_for telnet '^250 mail\.lab' 10
    session_quit
    live=('! port_blocked: Connection refused: the server answered the SYN to port 25 \(frame 1\) with RST'
          '^ +2 +[0-9.]+  teardown +mail\.lab:25 -> student +RST, ACK$')
    stages="handshake teardown handshake banner helo helo-reply quit quit-reply teardown"
    complete="0 1"
    diags="port_blocked"
    graded="yes," ;;
starttls)
    session_start
    type_line "ehlo student.lab"
    wait_for telnet '^250 ' 10
    type_line "mail from:<student@mail.lab>"
    wait_for telnet '^530 5\.7\.0 Must issue a STARTTLS command first' 10
    session_quit
    live=('^ +[0-9]+ +[0-9.]+  [a-z-]+ +mail\.lab:25 -> student +250-STARTTLS'
          '! starttls_required: The server demands STARTTLS before "mail from:<student@mail.lab>"')
    stages="handshake banner helo helo-reply mail mail-reply quit quit-reply teardown"
    complete="1"
    diags="starttls_required"
    graded="yes,starttls_required" ;;
strict-helo)
    session_start
    type_line helo
    wait_for telnet '^501 Syntax: HELO hostname' 10
    type_line "helo student"
    wait_for telnet '^504 5\.5\.2 <student>: Helo command rejected: need fully-qualified hostname' 10
    type_line "helo student.lab"
    wait_for telnet '^250 mail\.lab' 10
    session_quit
    live=('! helo_no_domain: HELO without a domain'
          '! error_reply: .*501 "Syntax: HELO hostname"'
          '! error_reply: The server refuses the argument of "helo student": 504 5\.5\.2 "<student>: Helo command rejected'
          '\+ Activity 6: the server accepts "helo student\.lab"')
    stages="handshake banner helo helo-reply helo helo-reply helo helo-reply quit quit-reply teardown"
    complete="1"
    diags="error_reply helo_no_domain"
    graded="yes,error_reply x2; helo_no_domain" ;;
slow)
    type_line "telnet mail.lab 25"
    wait_for telnet '^Connected to mail\.lab' 10
    wait_for telnet '^220 mail\.lab ESMTP' 15
    type_line "helo student.lab"
    wait_for telnet '^250 mail\.lab' 15
    type_line quit
    wait_for telnet '^221 2\.0\.0 Bye' 15
    wait_for telnet '^Connection closed by foreign host' 10
    live=('! slow_reply: The server took (3\.[5-9]|[4-9]\.[0-9]) s after the connection opened to send its greeting'
          '! slow_reply: The server took (3\.[5-9]|[4-9]\.[0-9]) s to answer "helo student\.lab"'
          '^ +[0-9]+ +[0-9.]+  helo-reply +mail\.lab:25 -> student +250 mail\.lab   \[after (3\.[5-9]|[4-9]\.[0-9]) s\]$')
    stages="handshake banner helo helo-reply quit quit-reply teardown"
    complete="1"
    diags="slow_reply"
    graded="yes,slow_reply x3" ;;
idle-timeout)
    session_start
    wait_for telnet '^421 4\.4\.2 mail\.lab Error: timeout exceeded' 15
    wait_for telnet '^Connection closed by foreign host' 10
    live=('! error_reply: The server closes the session: 421 4\.4\.2 "mail\.lab Error: timeout exceeded" \(no command waiting\), after 4\.[0-9] s of client silence since the greeting'
          '! no_quit: The server closed the connection')
    stages="handshake banner teardown"
    complete="0"
    diags="error_reply no_quit"
    graded="no,error_reply; no_quit" ;;
*) die "unknown scenario $scenario" ;;
esac

# The live text, as it was while the lab still ran.
sleep 1
tr -d '\r' < "$work/s/lab.out" > "$work/live.out"
for re in "${live[@]}"; do
    grep -qE -- "$re" "$work/live.out" || die "the live text has no line matching /$re/"
done
log "live text: ${#live[@]} expected rows and diagnoses seen while the lab ran"

tm send-keys -t lab:0 C-c
stopped=$SECONDS
wait_for lab '^LAB-EXIT=' 40
log "the lab ended $((SECONDS - stopped)) s after Ctrl+C"
grep -q '^LAB-EXIT=0$' <(tr -d '\r' < "$work/s/lab.out") || die "smtplab-lab did not exit with 0"
wait_for telnet 'SHELL-EXIT=' 20
saved=$(tr -d '\r' < "$work/s/lab.out" | sed -n 's/^.*smtplab-lab: saved [0-9]* packets to //p')
[ -n "$saved" ] && [ -f "$saved" ] || die "no 'saved N packets to FILE' line, or no such file"
[[ "$(basename "$saved")" =~ ^smtplab-${login}-20[0-9]{6}-[0-9]{6}\.pcapng$ ]] ||
    die "saved as $(basename "$saved"), not smtplab-$login-<YYYYmmdd-HHMMSS>.pcapng"
[ -z "$(ls -A "$work/rt")" ] || die "smtplab-lab left files in XDG_RUNTIME_DIR: $(ls -A "$work/rt")"

# The saved capture, with the plugin, two passes.
T() { "$src/tests/tshark/tshark-as-user.sh" "$build" -n -2 -r "$saved" "$@"; }
got=$(T -T fields -e smtplab.stage -E occurrence=f |
      awk '$1 ~ /^(handshake|banner|helo|helo-reply|mail|mail-reply|quit|quit-reply|teardown)$/ && $1 != prev { printf "%s%s", sep, $1; sep = " "; prev = $1 }')
[ "$got" = "$stages" ] || die "stages: got \"$got\", want \"$stages\""
got=$(T -T fields -e tcp.stream -e smtplab.complete | awk -F'\t' '!($1 in s) { s[$1]; printf "%s%s", sep, $2; sep = " " }')
[ "$got" = "$complete" ] || die "smtplab.complete by connection: got \"$got\", want \"$complete\""
got=$(T -T fields -E occurrence=a -E aggregator=' ' -e smtplab.diag | tr ' ' '\n' | sed '/^$/d' | sort -u | paste -sd ' ')
[ "$got" = "$diags" ] || die "diagnoses: got \"$got\", want \"$diags\""

# The truth: what the server read and wrote, against the capture's lines.
T -T fields -E occurrence=a -E aggregator='\x1f' -e tcp.srcport -e keystroke.line -Y 'keystroke.line' > "$work/lines.tsv"
/usr/bin/python3 - "$work/s/server.log" "$work/lines.tsv" <<'EOF' || die "the capture's lines are not what the server read and wrote"
import ast, re, sys
read, wrote = [], []
for ln in open(sys.argv[1], encoding='utf-8'):
    m = re.search(r" (recv|send) (b'.*'|b\".*\")$", ln.rstrip('\n'))
    if m:
        (read if m.group(1) == 'recv' else wrote).append(
            ast.literal_eval(m.group(2)).rstrip(b'\n').rstrip(b'\r').decode('ascii', 'backslashreplace'))
cap_read, cap_wrote = [], []
for ln in open(sys.argv[2], encoding='utf-8'):
    port, _, lines = ln.rstrip('\n').partition('\t')
    (cap_wrote if port in ('25', '587') else cap_read).extend(lines.split('\x1f'))
ok = True
for what, a, b in (('read', read, cap_read), ('wrote', wrote, cap_wrote)):
    if a != b:
        print('server %s %r\n  capture %r' % (what, a, b), file=sys.stderr)
        ok = False
    else:
        print('  the server %s %d lines, the capture holds the same' % (what, len(a)), file=sys.stderr)
sys.exit(0 if ok else 1)
EOF

# Grading, as a teacher does.
grade_tshark=()
[ "$(id -u)" = 0 ] && grade_tshark=(--tshark "$src/tests/tshark/tshark-as-user.sh $build")
WIRESHARK_PLUGIN_DIR="$build/plugins" "$src/plugin/grade/smtplab-grade" "${grade_tshark[@]}" --csv \
    -o "$work/grades" --progress never "$saved" >/dev/null || die "smtplab-grade failed"
got=$(/usr/bin/python3 -c 'import csv, sys
r = next(csv.DictReader(open(sys.argv[1])))
print(r["student"] + "," + r["complete"] + "," + r["diagnoses"])' "$work/grades/grades.csv")
[ "$got" = "$login,$graded" ] || die "smtplab-grade: student,complete,diagnoses got \"$got\", want \"$login,$graded\""

ok=1
log "PASS: $scenario as $login: $(T -T fields -e frame.number | wc -l) frames, stages $stages, diagnoses ${diags:-none}, graded $graded, in $((SECONDS - start)) s"
