# Shared by the acceptance scripts (sourced, not run): the tshark runner and
# a named check that prints TAP-like lines and counts.
# Needs: $here (this folder), $build (the build folder).
# SPDX-License-Identifier: GPL-2.0-or-later
run() { "$here/tshark-as-user.sh" "$build" "$@"; }
passed=0 failed=0
# Every tshark run appends to this file when it fails (tshark-as-user.sh):
# a check fails when a run made for it did, even inside $(...).
SMTPLAB_RUN_LOG=$(mktemp /tmp/smtplab-runs.XXXXXX)
export SMTPLAB_RUN_LOG
run_log_read=0 runs=""
# Sets $runs to the failed runs since the last call (not in a subshell: it
# moves the read position).
read_failed_runs() {
    local size
    size=$(stat -c %s "$SMTPLAB_RUN_LOG")
    runs=""
    [ "$size" -gt "$run_log_read" ] && runs=$(tail -c +$((run_log_read + 1)) "$SMTPLAB_RUN_LOG" | cut -c1-400)
    run_log_read=$size
}
check() { # description, actual, expected
    read_failed_runs
    if [ -n "$runs" ]; then
        failed=$((failed + 1)); printf 'not ok - %s\n  a tshark run of this check failed:\n%s\n' "$1" "$(sed 's/^/    /' <<<"$runs")"
    elif [ "$2" == "$3" ]; then passed=$((passed + 1)); echo "ok - $1"
    else failed=$((failed + 1)); printf 'not ok - %s\n  expected: %q\n  actual:   %q\n' "$1" "$3" "$2"; fi
}
# The closing line ctest and CI read, and the exit status.
finish() {
    read_failed_runs
    if [ -n "$runs" ]; then
        failed=$((failed + 1)); printf 'not ok - tshark runs after the last check\n%s\n' "$(sed 's/^/    /' <<<"$runs")"
    fi
    rm -f "$SMTPLAB_RUN_LOG"
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
}
