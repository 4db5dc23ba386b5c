# Shared by the scripts that check one capture against expected files
# (check-capture.sh, flow.sh, reports.sh, ../hostile/check-collapsed.sh),
# sourced after they set $build and $cap: the tshark runner, a work folder
# removed at exit, the capture's name, and the fields the golden files hold.
# A tshark run that fails (tshark-as-user.sh) fails the script at its exit,
# also where the failure was inside $(...) or a pipeline.
# SPDX-License-Identifier: GPL-2.0-or-later
capture_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
run() { "$capture_lib_dir/tshark-as-user.sh" "$build" "$@"; }
work=$(mktemp -d)
export SMTPLAB_RUN_LOG="$work/failed-runs"
capture_lib_exit() {
    local rc=$?
    if [ -s "$SMTPLAB_RUN_LOG" ]; then
        echo "FAIL: tshark runs failed:"; sed 's/^/    /' "$SMTPLAB_RUN_LOG"
        rc=1
    fi
    rm -rf "$work"
    exit $rc
}
trap capture_lib_exit EXIT
name=$(basename "$cap"); name=${name%.*}
# After SMTPLAB_UPDATE=1 rewrote a capture's expected files: its truth list
# (../truth) judges them at once; a regenerated wrong answer fails here.
check_truth() { # expected dir
    local list="$capture_lib_dir/../truth/$name.truth"
    [ -e "$list" ] || { echo "no truth list $list: write one (../truth/README.md)"; return 1; }
    /usr/bin/python3 "$capture_lib_dir/../truth/check-truth.py" "$build" "$list" "$cap" "$1" | grep -v '^ok - '
}
golden_fields=(frame.number tcp.srcport tcp.len
        keystroke.char keystroke.index keystroke.interval keystroke.line keystroke.line.edited
        keystroke.eol keystroke.count keystroke.segment keystroke.backspaces keystroke.duration
        keystroke.telnet.command keystroke.telnet.option keystroke.line_in
        smtp.req.command smtp.req.parameter smtp.response.code
        smtplab.stage smtplab.role smtplab.activity smtplab.response_in smtplab.request_in
        smtplab.time smtplab.progress smtplab.complete
        _ws.expert.message)
# Wireshark formats an expert message into ITEM_LABEL_LENGTH (240) bytes,
# its NUL included, and cuts it at 239: a message of 239 bytes or more in the
# output was cut (SMTP Lab's texts stay shorter: SM_TEXT_MAX in
# plugin/stage_machine.h). Reads every message of a two-pass run, each whole
# (separated by a byte no message holds); prints the cut ones and returns 1.
check_expert_lengths() {
    run -n -2 -r "$cap" -T fields -E occurrence=a -E aggregator=$'\x01' -e _ws.expert.message |
        tr '\001' '\n' | LC_ALL=C awk -v name="$name" '
            length($0) >= 239 { printf "FAIL: %s: expert message cut by Wireshark (%d bytes): %s\n", name, length($0), $0; cut++ }
            END { exit cut > 0 }'
}
