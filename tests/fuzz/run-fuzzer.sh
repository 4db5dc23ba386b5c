#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time from its committed seed
# corpus (copied, so the committed one stays as it is). Fails on any crash,
# sanitizer report, failed check, leak, timeout or out-of-memory; libFuzzer
# writes the input that caused it into the crash folder.
# Usage: run-fuzzer.sh <target binary> <seed corpus dir> <crash dir> <seconds>
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
bin=$1 seeds=$2 crashes=$3 secs=$4
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$crashes"
[ -d "$seeds" ] && cp -r "$seeds/." "$work/corpus/"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$work/corpus" > "$work/log" 2>&1; then
    tail -n 60 "$work/log"
    echo "FAIL: $(basename "$bin"): see the input(s) kept in $crashes"
    exit 1
fi
grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|^#[0-9]+ *DONE' "$work/log" || true
echo "ok $(basename "$bin"): $secs s, no crash"
