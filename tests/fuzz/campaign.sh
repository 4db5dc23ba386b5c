#!/usr/bin/env bash
# A long fuzzing campaign: every libFuzzer target for the given time, in
# libFuzzer's fork mode so that it goes on after a crash and keeps every
# crashing input (-ignore_crashes, -ignore_timeouts, -ignore_ooms), then,
# optionally, passes of the tshark fuzz test (tshark-fuzz.sh) with random
# seeds. The corpus each target grows is kept in the output folder and
# used again by the next campaign.
#
# Usage: campaign.sh [-b build dir] [-o output dir] [-j jobs] <seconds per target> [tshark passes]
#   -b  a build configured with SMTPLAB_FUZZ=ON (default: <source>/build);
#       the targets are (re)built there first
#   -o  default <build dir>/fuzz-campaign
#   -j  libFuzzer fork jobs per target (default 1); targets run one at a time
# Output: <out>/crashes/<target>/ (crash-*, timeout-*, oom-*, leak-*),
# <out>/corpus/<target>/, <out>/logs/, <out>/tshark-failures/, and
# <out>/summary.txt with the figures of the campaign.
# Reproduce a crash: <build>/fuzz/targets/<target> <out>/crashes/<target>/crash-...
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$src/build out= jobs=1
while getopts "b:o:j:" opt; do
    case $opt in
    b) build=$OPTARG ;;
    o) out=$OPTARG ;;
    j) jobs=$OPTARG ;;
    *) sed -n '2,/^# SPDX/p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { sed -n '2,/^# SPDX/p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
secs=$1 tshark_passes=${2:-0}
build=$(cd "$build" && pwd)
out=${out:-$build/fuzz-campaign}
mkdir -p "$out/logs"

grep -q '^SMTPLAB_FUZZ:BOOL=ON' "$build/CMakeCache.txt" ||
    { echo "$build is not configured with SMTPLAB_FUZZ=ON (needs clang-14, libclang-rt-14-dev)"; exit 1; }
cmake --build "$build" --target smtplab_fuzz_targets > "$out/logs/build.log" 2>&1 || { cat "$out/logs/build.log"; exit 1; }

summary=$out/summary.txt
{
    echo "campaign started $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $secs s per libFuzzer target, $jobs job(s) each"
    echo "source $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$src" diff --quiet 2>/dev/null || echo ' (with local changes)')"
} > "$summary"
total_crashes=0
for t in fuzz_line_assembly fuzz_stage_machine fuzz_smtp_parse fuzz_tcp_locate; do
    mkdir -p "$out/corpus/$t" "$out/crashes/$t"
    log=$out/logs/$t.log
    echo "== $t: $secs s"
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        "$build/fuzz/targets/$t" -fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
        -artifact_prefix="$out/crashes/$t/" "$out/corpus/$t" "$here/corpus/$t" > "$log" 2>&1 || true
    # The fork-mode status lines: "#<executions>: cov: ... corp: N ... oom/timeout/crash: a/b/c time: Ns".
    last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -n 1 || true)
    execs=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$last")
    cov=$(sed -nE 's/.* cov: ([0-9]+) .*/\1/p' <<<"$last")
    corp=$(sed -nE 's/.* corp: ([0-9]+) .*/\1/p' <<<"$last")
    otc=$(sed -nE 's#.*oom/timeout/crash: ([0-9/]+) .*#\1#p' <<<"$last")
    kept=$(find "$out/crashes/$t" -type f | wc -l)
    total_crashes=$((total_crashes + kept))
    line="$t: ${execs:-?} executions in $secs s, coverage ${cov:-?} edges, corpus ${corp:-?} inputs, oom/timeout/crash ${otc:-?}, $kept input(s) kept in crashes/$t"
    echo "$line" | tee -a "$summary"
done

status=0
[ $total_crashes = 0 ] || status=1
if [ "$tshark_passes" -gt 0 ]; then
    echo "== tshark fuzz: $tshark_passes passes"
    if "$here/tshark-fuzz.sh" -b "$build/fuzz/asan-build" -p "$tshark_passes" -o "$out/tshark-failures" \
            > "$out/logs/tshark-fuzz.log" 2>&1; then :; else status=1; fi
    grep -E '^  |^tshark fuzz:' "$out/logs/tshark-fuzz.log" | tail -n 40
    tail -n 1 "$out/logs/tshark-fuzz.log" >> "$summary"
fi
echo "campaign ended $(date -u '+%Y-%m-%d %H:%M:%S UTC')" >> "$summary"
echo "summary: $summary"
exit $status
