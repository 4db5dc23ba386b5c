#!/usr/bin/env bash
# Fuzzes the plugin inside Debian's tshark, the way Wireshark's
# tools/fuzz-test.sh does: every capture is mutated with editcap -E (a
# probability per byte of changing it), and tshark reads the result three
# ways (-nVxr: full tree and hex dump; -nr: no tree; -2 -nVxr: two passes)
# with the plugin built with AddressSanitizer and UndefinedBehaviorSanitizer
# and loaded into tshark by LD_PRELOAD of the ASan runtime, with
# WIRESHARK_DEBUG_WMEM_OVERRIDE=strict and WIRESHARK_ABORT_ON_DISSECTOR_BUG=1.
#
# A failure is a non-zero exit (a crash, an abort on a dissector bug or a
# sanitizer report), a timeout, or a sanitizer or dissector-bug message on
# stderr. Each failing mutated capture is kept in the output folder with
# tshark's stderr and the command. A failure that tshark also shows without
# the plugin is Wireshark's own: it is kept apart and reported, and does
# not fail the run.
#
# Usage: tshark-fuzz.sh [-b asan build dir] [-p passes] [-t seconds] [-e probability]
#                       [-s first seed] [-o failures dir] [-w allocator] [-d] [capture ...]
#   -p  passes over all captures (0: until -t runs out; default 1)
#   -t  stop starting new passes after this many seconds (default: no limit)
#   -s  editcap seed of the first mutation; each next one adds 1
#       (default: a random one; -d uses 1 so that ctest runs are repeatable)
#   -o  where failing inputs are kept (default ./tshark-fuzz-failures)
#   -w  WIRESHARK_DEBUG_WMEM_OVERRIDE (default strict; simple makes every
#       wmem allocation its own malloc, so ASan sees its exact bounds)
# Without captures: tests/captures/*.pcapng, tests/hostile/captures/*.pcap,
# ../shared/captures/*.pcap.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$src/build/fuzz/asan-build passes=1 max_secs=0 prob=0.02 seed= out=$PWD/tshark-fuzz-failures
wmem=strict
while getopts "b:p:t:e:s:o:w:d" opt; do
    case $opt in
    b) build=$OPTARG ;;
    p) passes=$OPTARG ;;
    t) max_secs=$OPTARG ;;
    e) prob=$OPTARG ;;
    s) seed=$OPTARG ;;
    o) out=$OPTARG ;;
    w) wmem=$OPTARG ;;
    d) seed=${seed:-1} ;;
    *) sed -n '2,/^# SPDX/p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ -n "$seed" ] || seed=$(( (RANDOM << 15 | RANDOM) + 1 ))
caps=("$@")
if [ ${#caps[@]} = 0 ]; then
    shopt -s nullglob
    caps=("$src"/tests/captures/*.pcapng "$src"/tests/hostile/captures/*.pcap "$src"/../shared/captures/*.pcap)
fi

# The plugin with AddressSanitizer and UndefinedBehaviorSanitizer, in a
# build folder of its own (built with the system's default C compiler).
flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSMTPLAB_FUZZ=OFF \
        -DCMAKE_C_FLAGS="$flags" -DCMAKE_MODULE_LINKER_FLAGS="-fsanitize=address,undefined" > "$build.configure.log" 2>&1 ||
        { cat "$build.configure.log"; exit 1; }
fi
cmake --build "$build" --target smtplab -j "$(nproc)" > "$build.build.log" 2>&1 || { cat "$build.build.log"; exit 1; }
so=$(ls "$build"/plugins/*/epan/smtplab.so)
[[ "$(nm -D --undefined-only "$so")" == *__asan_report* ]] || { echo "FAIL: $so is not built with AddressSanitizer"; exit 1; }
# The ASan runtime of the compiler that built it, which must come first.
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
asan=$(readlink -f "$("$cc" -print-file-name=libasan.so)")
[ -f "$asan" ] || { echo "FAIL: no ASan runtime for $cc"; exit 1; }
san_env="LD_PRELOAD=$asan ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:detect_odr_violation=0"
san_env+=" UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"

export WIRESHARK_DEBUG_WMEM_OVERRIDE=$wmem
mkdir -p "$out"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
modes=("-nVxr" "-nr" "-2 -nVxr")
bad_msgs='AddressSanitizer|LeakSanitizer|runtime error:|Dissector bug|DISSECTOR_ASSERT|assertion failed|Assertion'

# Runs tshark on a mutated capture in one mode: 0 when clean, 1 when not.
# $1 mode, $2 capture, $3 stderr file, $4 "plugin" or "none".
run_one() {
    local rc=0 extra=
    [ "$4" = none ] && extra=1
    # shellcheck disable=SC2086
    SMTPLAB_UNCHECKED=1 SMTPLAB_NO_PLUGIN=$extra SMTPLAB_EXTRA_ENV="$san_env" timeout -k 10 300 \
        "$here/../tshark/tshark-as-user.sh" "$build" $1 "$2" > /dev/null 2> "$3" || rc=$?
    [ $rc = 0 ] && ! grep -Eq "$bad_msgs" "$3"
}

start=$SECONDS pass=0 runs=0 mutated=0 failures=0 wireshark_own=0 s=$seed
echo "tshark fuzz: ${#caps[@]} captures, editcap -E $prob, first seed $seed, modes: ${modes[*]}, wmem $wmem"
echo "plugin: $so (ASan runtime $asan)"
while { [ "$passes" = 0 ] || [ $pass -lt "$passes" ]; }; do
    [ "$max_secs" != 0 ] && [ $((SECONDS - start)) -ge "$max_secs" ] && break
    pass=$((pass + 1))
    for cap in "${caps[@]}"; do
        name=$(basename "$cap"); name=${name%.*}
        fuzzed="$work/$name.s$s.${cap##*.}"
        if ! editcap -E "$prob" --seed "$s" "$cap" "$fuzzed" > /dev/null 2>&1; then
            echo "  $name: editcap failed, skipped"
            s=$((s + 1)); continue
        fi
        mutated=$((mutated + 1))
        pids=() i=0
        for m in "${modes[@]}"; do
            run_one "$m" "$fuzzed" "$work/err.$i" plugin & pids+=($!)
            i=$((i + 1))
        done
        i=0
        for m in "${modes[@]}"; do
            runs=$((runs + 1))
            if ! wait "${pids[$i]}"; then
                if run_one "$m" "$fuzzed" "$work/err.none" none; then
                    dest="$out/plugin"; failures=$((failures + 1)); what="FAIL (plugin)"
                else
                    dest="$out/wireshark"; wireshark_own=$((wireshark_own + 1)); what="fails without the plugin too"
                fi
                mkdir -p "$dest"
                cp "$fuzzed" "$dest/"
                { echo "tshark $m $(basename "$fuzzed")   # from $cap, editcap -E $prob --seed $s"
                  cat "$work/err.$i"; } > "$dest/$(basename "$fuzzed").mode$i.txt"
                echo "  $name seed $s ($m): $what; kept in $dest"
                grep -Em 5 "$bad_msgs|SUMMARY" "$work/err.$i" | sed 's/^/    /' || true
            fi
            i=$((i + 1))
        done
        rm -f "$fuzzed"
        s=$((s + 1))
    done
    echo "pass $pass done: $mutated mutated captures, $runs tshark runs, $failures plugin failures, $((SECONDS - start)) s"
done
echo "tshark fuzz: $pass passes, $mutated mutated captures, $runs tshark runs, $failures failures of the plugin," \
     "$wireshark_own of Wireshark alone, seeds $seed to $((s - 1)), $((SECONDS - start)) s"
[ $failures = 0 ]
