# Shared by the scripts that check one capture against expected files
# (check-capture.sh, flow.sh, reports.sh, ../hostile/check-collapsed.sh),
# sourced after they set $build and $cap: the tshark runner, a work folder
# removed at exit, the capture's name, and the fields the golden files hold.
# SPDX-License-Identifier: GPL-2.0-or-later
capture_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
run() { "$capture_lib_dir/tshark-as-user.sh" "$build" "$@"; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
name=$(basename "$cap"); name=${name%.*}
golden_fields=(frame.number tcp.srcport tcp.len
        keystroke.char keystroke.index keystroke.interval keystroke.line keystroke.line.edited
        keystroke.eol keystroke.count keystroke.segment keystroke.backspaces keystroke.duration
        keystroke.telnet.command keystroke.telnet.option keystroke.line_in
        smtp.req.command smtp.req.parameter smtp.response.code
        smtplab.stage smtplab.role smtplab.activity smtplab.response_in smtplab.request_in
        smtplab.time smtplab.progress smtplab.complete
        _ws.expert.message)
