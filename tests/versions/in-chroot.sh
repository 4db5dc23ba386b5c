#!/usr/bin/env bash
# Runs inside a Debian release's chroot, started by run.sh: builds smtplab
# out of tree against that release's Wireshark, runs the test suite, builds
# the .deb with CPack, installs it with apt and checks that tshark, run as a
# normal user, loads it from the global plugin folder.
# It also writes <build dir>/audit.txt (audit-expected.sh) for run.sh.
# Usage: in-chroot.sh <release> <source dir> <build dir> <ctest label regex> <jobs> [update]
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
release=$1 src=$2 build=$3 labels=$4 jobs=$5 update=${6:-}
. "$src/tests/versions/ws-version.sh"
status=0
step() { echo; echo "== [$release] $1"; t0=$SECONDS; }
took() { echo "== [$release] $1: $((SECONDS - t0)) s"; }

step "build against $(dpkg-query -W -f='libwireshark-dev ${Version}' libwireshark-dev)"
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$build.configure.log" ||
    { cat "$build.configure.log"; exit 1; }
grep -E 'Building against|sequence_analysis' "$build.configure.log" || true
cmake --build "$build" -j "$jobs" 2>&1 | grep -E 'warning|error|Built target smtplab$' || true
[ -f "$build/plugins/$(ws_version "$build")/epan/smtplab.so" ] || { echo "FAIL: the plugin did not build"; exit 1; }
took "build"

if [ "$update" = update ]; then
    step "rewrite the expected files of Wireshark $(ws_version "$build") where they differ"
    SMTPLAB_UPDATE=1 ctest --test-dir "$build" -R '^tshark\.fields\.' -j "$jobs" > /dev/null || true
    took "update"
fi

step "ctest -L '$labels' -LE versions"
ctest --test-dir "$build" -L "$labels" -LE versions --output-on-failure -j "$jobs" || status=1
took "tests"

ws=$(ws_version "$build")
step "audit: the plugin's part of the rows where the expected files of Wireshark $ws differ from 4.0's"
{
    "$src/tests/versions/audit-expected.sh" "$build" "$ws" "$src/tests/tshark/expected" "$src"/tests/captures/*.pcapng
    if [ -d "$src/../shared/captures" ]; then
        "$src/tests/versions/audit-expected.sh" "$build" "$ws" "$src/tests/tshark/expected/shared" "$src"/../shared/captures/*.pcap
    fi
} > "$build/audit.txt" || { cat "$build/audit.txt"; status=1; }
echo "$(grep -c . "$build/audit.txt") changed rows (run.sh compares the plugin's part of them with 4.0's)"
took "audit"

step "cpack -G DEB"
(cd "$build" && cpack -G DEB > cpack.log) || { cat "$build/cpack.log"; exit 1; }
deb=$(ls "$build"/packages/smtplab_*.deb)
echo "$(basename "$deb"):"
dpkg-deb -f "$deb" Package Version Depends Recommends | sed 's/^/    /'
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { $1 = $2 = $3 = $4 = $5 = ""; sub(/^ +/, ""); print "    " $0 }'
took "package"

step "apt-get install ./$(basename "$deb"), tshark as a normal user"
cp "$deb" /tmp/
DEBIAN_FRONTEND=noninteractive apt-get install -y -q "/tmp/$(basename "$deb")" > /tmp/apt.log 2>&1 ||
    { cat /tmp/apt.log; exit 1; }
id student > /dev/null 2>&1 || useradd -m student
cp "$src/tests/captures/typed-lab.pcapng" /tmp/typed-lab.pcapng
chmod a+r /tmp/typed-lab.pcapng
as_student() { runuser -u student -- env -i HOME=/home/student PATH=/usr/bin:/bin TZ=UTC LC_ALL=C.UTF-8 "$@"; }
# tshark as the student, checked as in tests/tshark/tshark-as-user.sh: a
# non-zero exit or anything on stderr is written to $runlog, and the check
# that made the run fails, also when the run was inside $(...).
runlog=$(mktemp) runlog_read=0
student_tshark() {
    local rc=0 err
    err=$(mktemp)
    as_student tshark "$@" 2> "$err" || rc=$?
    cat "$err" >&2
    if [ "$rc" != 0 ] || [ -s "$err" ]; then
        echo "tshark $* (exit $rc): $(head -c 300 "$err" | tr '\n' ' ')" >> "$runlog"
    fi
    rm -f "$err"
    return "$rc"
}
passed=0 failed=0
check() { # description, actual, expected
    local size runs=""
    size=$(stat -c %s "$runlog")
    [ "$size" -gt "$runlog_read" ] && runs=$(tail -c +$((runlog_read + 1)) "$runlog")
    runlog_read=$size
    if [ -n "$runs" ]; then failed=$((failed + 1)); printf 'not ok - %s\n  a tshark run of this check failed: %s\n' "$1" "$runs"
    elif [ "$2" == "$3" ]; then passed=$((passed + 1)); echo "ok - $1"
    else failed=$((failed + 1)); printf 'not ok - %s\n  expected: %s\n  actual:   %s\n' "$1" "$3" "$2"; fi
}
# Where this tshark looks for its global plugins.
global="$(student_tshark -G folders | sed -n 's/^Global Plugins:[[:space:]]*//p')/epan/smtplab.so"
check "the package put smtplab.so in the global plugin folder" "$(dpkg -L smtplab | grep -x "$global")" "$global"
check "tshark -G plugins (as student) lists the installed smtplab.so" \
    "$(student_tshark -G plugins | awk -F'\t' '$1 ~ /^smtplab\.so/ { sub(/ +$/, "", $1); print $1, $NF }')" "smtplab.so $global"
# The stage of every frame, as the tests' single-pass expected file has it.
expected_stages=$(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "frame.number") f = i; if ($i == "smtplab.stage") s = i }; next }
    { print $f "\t" $s }' "$src/tests/tshark/expected/typed-lab.1pass")
check "tshark -r typed-lab.pcapng -T fields -e smtplab.stage (as student) labels all 58 frames" \
    "$(student_tshark -n -r /tmp/typed-lab.pcapng -T fields -e frame.number -e smtplab.stage)" "$expected_stages"
check "the SMTP Lab profile is in the global profiles" \
    "$(ls "/usr/share/wireshark/profiles/SMTP Lab" | tr '\n' ' ')" "colorfilters dfilter_buttons preferences recent "
student_tshark -n -2 -C "SMTP Lab" -r /tmp/typed-lab.pcapng > /tmp/columns || true
check "tshark -C \"SMTP Lab\" (as student) reads the global profile without a warning" "" ""
check "its Stage/Role/Act columns on frame 40" "$(awk '$1 == 40' /tmp/columns | grep -o 'helo line 5 helo lab.example')" \
    "helo line 5 helo lab.example"
DEBIAN_FRONTEND=noninteractive apt-get remove -y -q smtplab > /tmp/apt.log 2>&1 || { cat /tmp/apt.log; exit 1; }
check "apt-get remove takes the plugin away" "$(student_tshark -G plugins | grep -c '^smtplab\.so' || true)" "0"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] || status=1
took "package check"
exit $status
