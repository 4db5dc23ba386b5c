#!/usr/bin/env bash
# Runs tshark with the plugin on a capture and compares its fields, two
# passes and one pass, with the expected file, written in the lossless
# collapsed form of collapse.py: a run of frames that step evenly is one
# line, a value over 2000 characters is its length, hash and first
# characters. For the big generated captures (the 1 MiB line, the 100 000
# one-byte segments), whose full output would be megabytes, and for the
# lines too long for check-capture.sh's -V comparison (Wireshark cuts tree
# labels at 240 characters). tshark must exit 0, and cut no expert message.
# Usage: [SMTPLAB_FIELDS=big] check-collapsed.sh <build dir> <capture> <expected file>
#        SMTPLAB_UPDATE=1 check-collapsed.sh ...   rewrites the expected file
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1 cap=$2 expected=$3
. "$here/../tshark/capture-lib.sh"

# The fields of check-capture.sh. SMTPLAB_FIELDS=big leaves out the two
# that differ on every frame of the big captures (each segment's bytes, the
# list of segments), which would make one line per frame.
fields=("${golden_fields[@]}")
if [ "${SMTPLAB_FIELDS:-}" = big ]; then
    fields=("${fields[@]/keystroke.char}")
    fields=("${fields[@]/keystroke.segment}")
fi
fargs=(-n -T fields -E header=y -E occurrence=a -E aggregator='|')
for f in "${fields[@]}"; do [ -n "$f" ] && fargs+=(-e "$f"); done

{
    echo "## two passes"
    run -2 -r "$cap" "${fargs[@]}" | /usr/bin/python3 "$here/collapse.py" --long 2000
    echo "## one pass"
    run -r "$cap" "${fargs[@]}" | /usr/bin/python3 "$here/collapse.py" --long 2000
} > "$work/out"
# No expert message is cut (../tshark/capture-lib.sh), in update mode too.
cut=0
check_expert_lengths || cut=1

if [ "${SMTPLAB_UPDATE:-}" = 1 ]; then
    cp "$work/out" "$expected"
    echo "updated $expected"
    exit $cut
fi
[ -s "$expected" ] || { echo "FAIL: no expected file $expected"; exit 1; }
if ! diff -u "$expected" "$work/out"; then
    echo "FAIL: $(basename "$cap"): output differs from $(basename "$expected")"
    exit 1
fi
[ $cut = 0 ] || exit 1
echo "ok $(basename "$cap"): $(wc -l < "$work/out") collapsed lines as expected"
