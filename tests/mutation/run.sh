#!/usr/bin/env bash
# Mutation testing of the plugin: applies each fault of mutants.txt to a copy
# of the repository, builds it, runs the unit, tshark and truth tests (the
# cheap ones first, stopping at the first failure), and prints which test
# killed each mutant, or SURVIVED. A mutant whose original code is not found
# exactly once, or that does not compile, is an error of the list (INVALID),
# not a kill. Before the mutants, the same tests must pass on the unchanged
# copy (the baseline).
#
# Usage: tests/mutation/run.sh [-j N] [--head] [--keep] [--no-baseline]
#                              [--ws-headers DIR] [-o results.tsv] [mutant...]
#   -j N            parallel build jobs and ctest jobs (default 2)
#   --head          copy the last commit (git archive HEAD) instead of the
#                   working tree's tracked files
#   --keep          keep the temporary folder (printed at the end)
#   --no-baseline   skip the run on the unchanged copy
#   --ws-headers    the flow graph's fetched headers (default
#                   <repo>/build/ws-headers, made by cmake/fetch-ws-headers.sh)
#   -o FILE         also write the results as TSV: mutant, file, result,
#                   killing test, seconds, description
#   mutant...       only these mutants (default: all, in list order)
# Exits 0 when every mutant was killed, 1 when one survived or was invalid.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
jobs=2 head=0 keep=0 baseline=1 out=""
ws_headers=$repo/build/ws-headers
timeout=600
names=()
usage() { sed -n '/^# Usage:/,/^# Exits/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
    -j) jobs=$2; shift 2 ;;
    -j*) jobs=${1#-j}; shift ;;
    --head) head=1; shift ;;
    --keep) keep=1; shift ;;
    --no-baseline) baseline=0; shift ;;
    --ws-headers) ws_headers=$2; shift 2 ;;
    -o) out=$2; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "unknown option $1" >&2; usage ;;
    *) names+=("$1"); shift ;;
    esac
done
[ -n "$out" ] && out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

start_all=$(date +%s)
tmp=$(mktemp -d /tmp/smtplab-mutation.XXXXXX)
cleanup() { if [ "$keep" = 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi; }
trap cleanup EXIT
src=$tmp/main build=$tmp/build logs=$tmp/logs
mkdir -p "$src" "$logs" "$tmp/pristine"

# The copy: at <tmp>/main, with <tmp>/shared beside it as the tests expect
# (${CMAKE_SOURCE_DIR}/../shared/captures).
if [ "$head" = 1 ]; then
    git -C "$repo" archive HEAD | tar -x -C "$src"
    what="HEAD $(git -C "$repo" rev-parse --short HEAD)"
else
    git -C "$repo" ls-files -z | while IFS= read -r -d '' f; do
        [ -e "$repo/$f" ] && printf '%s\0' "$f"
    done | tar -C "$repo" --null -T - -cf - | tar -C "$src" -xf -
    what="the working tree's tracked files (HEAD $(git -C "$repo" rev-parse --short HEAD))"
fi
[ -d "$repo/../shared" ] && ln -s "$(cd "$repo/../shared" && pwd)" "$tmp/shared"
echo "== mutation run of $what in $tmp"

# The list: name, file, description (tab-separated), in list order, read
# from the copy, so that list and code are of the same moment (others may
# move code and mutants while a run goes on).
mut=$src/tests/mutation/mutants.py
[ -f "$mut" ] || mut=$here/mutants.py
declare -A m_file m_desc
all=()
listing=$(python3 "$mut" list) || { echo "$listing"; exit 1; }
while IFS=$'\t' read -r n f d; do
    all+=("$n"); m_file[$n]=$f; m_desc[$n]=$d
done <<<"$listing"
if [ ${#names[@]} -eq 0 ]; then
    names=("${all[@]}")
else
    for n in "${names[@]}"; do
        [ -n "${m_file[$n]:-}" ] || { echo "no mutant named $n (tests/mutation/mutants.txt)" >&2; exit 2; }
    done
fi

if ! python3 "$mut" check "$src" > "$logs/check.log"; then
    grep -v '^ok' "$logs/check.log"
    echo "The mutant list is stale: fix tests/mutation/mutants.txt"
    exit 1
fi

echo "== configuring and building"
if ! cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSMTPLAB_WS_HEADERS_DIR="$ws_headers" \
        -DSMTPLAB_REQUIRE_FLOW=ON -DSMTPLAB_FUZZ=OFF > "$logs/configure.log" 2>&1; then
    tail -n 30 "$logs/configure.log"; echo "configuring failed"; exit 1
fi
if ! cmake --build "$build" -j "$jobs" > "$logs/build.log" 2>&1; then
    tail -n 30 "$logs/build.log"; echo "the unchanged copy does not build"; exit 1
fi

# The tests, cheap ones first (a tshark run takes about a second): unit
# tests; the golden fields of each recorded capture (4 runs each); their
# reports and flow graphs; the acceptance and truth checks (dozens of runs
# each); then the rest (differential, profile, public captures).
mapfile -t tests < <(ctest --test-dir "$build" -N -L 'unit|tshark|truth' | sed -n 's/^ *Test *#[0-9]*: //p')
[ ${#tests[@]} -gt 0 ] || { echo "ctest lists no unit or tshark test"; exit 1; }
stage_of() {
    case "$1" in
    unit.*) echo 1 ;;
    tshark.*.shared.*) echo 5 ;;
    tshark.fields.*) echo 2 ;;
    tshark.reports.*|tshark.flow.*) echo 3 ;;
    tshark.acceptance.*|truth.*) echo 4 ;;
    *) echo 5 ;;
    esac
}
# The stages as ctest -R regular expressions, without the tests in $skip.
skip=" "
make_stages() {
    local t s
    stage_re=("" "" "" "" "" "")
    for t in "${tests[@]}"; do
        [[ "$skip" == *" $t "* ]] && continue
        s=$(stage_of "$t")
        stage_re[$s]+="${stage_re[$s]:+|}${t//./\\.}"
    done
}
make_stages

# Runs the stages; prints the failed tests (first one first) and returns 1
# when one failed. With "stop", at the first failure.
run_tests() { # log prefix, stop|all
    local s failed all_failed="" stop=()
    [ "$2" = stop ] && stop=(--stop-on-failure)
    for s in 1 2 3 4 5; do
        [ -n "${stage_re[$s]}" ] || continue
        # In test order: no cost data, which would put the costliest first.
        rm -f "$build/Testing/Temporary/CTestCostData.txt"
        if ! ctest --test-dir "$build" -R "^(${stage_re[$s]})\$" -j "$jobs" "${stop[@]}" \
                --timeout "$timeout" --output-on-failure > "$1.stage$s.log" 2>&1; then
            failed=$(sed -n '/The following tests FAILED:/,$ s/^[[:space:]]*[0-9]* - \([^ ]*\) (.*/\1/p' "$1.stage$s.log")
            [ -n "$failed" ] || failed="ctest-stage-$s"
            all_failed+="$failed"$'\n'
            [ "$2" = stop ] && break
        fi
    done
    [ -z "$all_failed" ] && return 0
    printf '%s' "$all_failed"
    return 1
}

# Tests that fail on the unchanged copy (work in progress of others, say)
# cannot kill a mutant: they are left out, and said so.
if [ "$baseline" = 1 ]; then
    echo "== baseline: ${#tests[@]} tests on the unchanged copy"
    t0=$(date +%s)
    if failed=$(run_tests "$logs/baseline" all); then
        echo "   all pass ($(( $(date +%s) - t0 )) s)"
    else
        for t in $failed; do skip+="$t "; done
        echo "   WARNING: these tests fail without any mutant and are left out: ${skip# }"
        echo "   ($(( $(date +%s) - t0 )) s; logs in $logs)"
        keep=1
        make_stages
    fi
fi

declare -A result killer secs
survived=0 invalid=0
for n in "${names[@]}"; do
    f=${m_file[$n]}
    t0=$(date +%s)
    mkdir -p "$tmp/pristine/$(dirname "$f")"
    cp -p "$src/$f" "$tmp/pristine/$f"
    printf '== %-36s ' "$n"
    if ! python3 "$mut" apply "$src" "$n" > "$logs/$n.apply.log" 2>&1; then
        result[$n]=INVALID killer[$n]="does not apply: $(head -n 1 "$logs/$n.apply.log")"
    elif ! cmake --build "$build" -j "$jobs" > "$logs/$n.build.log" 2>&1; then
        result[$n]=INVALID killer[$n]="does not compile (see $logs/$n.build.log)"
    elif failed=$(run_tests "$logs/$n" stop); then
        result[$n]=SURVIVED killer[$n]=""
    else
        result[$n]=killed killer[$n]=$(head -n 1 <<<"$failed")
        others=$(($(wc -l <<<"$failed") - 1))
        [ "$others" -gt 0 ] && killer[$n]+=" (+$others)"
    fi
    # Back to the original, newer than the mutant's object file.
    cp "$tmp/pristine/$f" "$src/$f"
    touch "$src/$f"
    secs[$n]=$(( $(date +%s) - t0 ))
    case "${result[$n]}" in
    SURVIVED) survived=$((survived + 1)); keep=1 ;;
    INVALID) invalid=$((invalid + 1)); keep=1 ;;
    esac
    case "${result[$n]}" in
    killed) echo "killed by ${killer[$n]} (${secs[$n]} s)" ;;
    SURVIVED) echo "SURVIVED (${secs[$n]} s)" ;;
    *) echo "INVALID: ${killer[$n]}" ;;
    esac
done

echo
printf '%-36s %-44s %s\n' "mutant" "result" "description"
[ -n "$out" ] && printf 'mutant\tfile\tresult\tkilled_by\tseconds\tdescription\n' > "$out"
for n in "${names[@]}"; do
    case "${result[$n]}" in
    killed) r="killed by ${killer[$n]}" ;;
    SURVIVED) r="SURVIVED" ;;
    *) r="INVALID: ${killer[$n]}" ;;
    esac
    printf '%-36s %-44s %s\n' "$n" "$r" "${m_desc[$n]}"
    [ -n "$out" ] && printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "${m_file[$n]}" "${result[$n]}" "${killer[$n]}" \
        "${secs[$n]}" "${m_desc[$n]}" >> "$out"
done
total=${#names[@]}
echo
echo "${total} mutants: $((total - survived - invalid)) killed, $survived survived, $invalid invalid" \
     "($(( $(date +%s) - start_all )) s)"
[ "$survived" = 0 ] && [ "$invalid" = 0 ]
