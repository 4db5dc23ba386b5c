# Shared by the acceptance scripts (sourced, not run): the tshark runner and
# a named check that prints TAP-like lines and counts.
# Needs: $here (this folder), $build (the build folder).
# SPDX-License-Identifier: GPL-2.0-or-later
run() { "$here/tshark-as-user.sh" "$build" "$@"; }
passed=0 failed=0
check() { # description, actual, expected
    if [ "$2" == "$3" ]; then passed=$((passed + 1)); echo "ok - $1"
    else failed=$((failed + 1)); printf 'not ok - %s\n  expected: %q\n  actual:   %q\n' "$1" "$3" "$2"; fi
}
# The closing line ctest and CI read, and the exit status.
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
}
