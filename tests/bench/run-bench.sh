#!/usr/bin/env bash
# Benchmark: Debian's tshark on large generated captures, with the smtplab
# plugin and without it (the built-in SMTP dissector on the same ports).
# Not a ctest test. See tests/bench/README.md.
#
# Usage: run-bench.sh [--quick] [--runs N] [--sizes A,B,..] [--v-sizes A,..]
#                     [--build DIR] [--out DIR]
#   --quick       sizes 10000,100000, -V at 10000, 3 runs (a smoke check)
#   --runs N      timed runs per variant (default 5)
#   --sizes       capture sizes in frames (default 10000,100000,1000000)
#   --v-sizes     sizes for the two-pass -V mode (default 10000,100000)
#   --build DIR   use DIR/plugins/<X.Y>/epan/smtplab.so as built; default:
#                 configure and build <repo>/build/bench/plugin-build
#                 (RelWithDebInfo) from the working tree
#   --out DIR     captures and results (default <repo>/build/bench)
#   --max-wait S  wait at most S seconds in all (default 120) for the rest
#                 of the machine to go idle before runs
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
runs=5
sizes=10000,100000,1000000
vsizes=10000,100000
build=
out=$repo/build/bench
max_wait=120
while [ $# -gt 0 ]; do
    case $1 in
        --quick) sizes=10000,100000; vsizes=10000; runs=3 ;;
        --runs) runs=$2; shift ;;
        --sizes) sizes=$2; shift ;;
        --v-sizes) vsizes=$2; shift ;;
        --build) build=$(cd "$2" && pwd); shift ;;
        --out) mkdir -p "$2"; out=$(cd "$2" && pwd); shift ;;
        --max-wait) max_wait=$2; shift ;;
        *) echo "run-bench.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

for tool in tshark setpriv /usr/bin/python3 cmake; do
    command -v "$tool" >/dev/null || { echo "run-bench.sh: $tool not found" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "run-bench.sh: /usr/bin/time missing: apt-get install time" >&2; exit 1; }

# shellcheck source=common.sh
. "$here/common.sh"
bench_build

# Captures: regenerated only when the generator, the recorded sessions or
# the size changed.
key_of() {
    cat "$here/gen-capture.py" "$repo"/tests/captures/*.pcapng | sha256sum | cut -c1-16
    echo "frames=$1"
}
declare -A cap
for n in 0 ${sizes//,/ } ${vsizes//,/ }; do
    [ -n "${cap[$n]:-}" ] && continue
    f=$out/bench-$n.pcap
    if [ ! -f "$f" ] || [ ! -f "$f.json" ] || [ "$(key_of "$n")" != "$(cat "$f.key" 2>/dev/null)" ]; then
        echo "generating $f" >&2
        /usr/bin/python3 "$here/gen-capture.py" --frames "$n" --out "$f" > "$f.json"
        key_of "$n" > "$f.key"
    fi
    cap[$n]=$f
done

# A world-readable staging folder: the plugin folder with smtplab.so, an
# empty plugin folder of the same shape, a home; the captures are copied
# in only if the unprivileged user cannot read them where they are.
stage=$(mktemp -d /tmp/smtplab-bench.XXXXXX)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/with/$ver_dir/epan" "$stage/without/$ver_dir/epan" "$stage/home" "$stage/files"
cp "$so" "$stage/with/$ver_dir/epan/"
chmod -R a+rwX "$stage"

as_user=()
[ "$(id -u)" = 0 ] && as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
# Same environment on both sides; no strict wmem, no abort-on-bug.
tshark_env() {
    local plugins=$1; shift
    "${as_user[@]}" env -i PATH=/usr/bin:/bin HOME="$stage/home" TZ=UTC LC_ALL=C.UTF-8 \
        WIRESHARK_PLUGIN_DIR="$stage/$plugins" "$@"
}
for n in "${!cap[@]}"; do
    if ! tshark_env without test -r "${cap[$n]}"; then
        cp "${cap[$n]}" "$stage/files/"
        chmod a+r "$stage/files/$(basename "${cap[$n]}")"
        cap[$n]=$stage/files/$(basename "${cap[$n]}")
    fi
done

loaded=$(tshark_env with tshark -G plugins)
[[ $loaded == *smtplab.so* ]] || { echo "run-bench.sh: tshark did not load $so" >&2; exit 1; }
loaded=$(tshark_env without tshark -G plugins)
if [[ $loaded == *smtplab.so* ]]; then
    echo "run-bench.sh: smtplab.so is installed system-wide or personally: the no-plugin side would load it" >&2
    exit 1
fi

res=$out/results-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$res"
{
    echo "date	$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "tshark	$(tshark --version | head -n 1)"
    echo "cpu	$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "nproc	$(nproc)"
    echo "ram	$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "kernel	$(uname -r)"
    echo "plugin	$so"
    echo "build_type	$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt" 2>/dev/null)"
    src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt" 2>/dev/null)
    if git -C "${src:-/nonexistent}" rev-parse HEAD >/dev/null 2>&1; then
        echo "source	$src, commit $(git -C "$src" rev-parse --short HEAD)$(git -C "$src" status --porcelain plugin | grep -q . && echo ', plugin/ has uncommitted changes')"
    else
        echo "source	${src:-unknown} (not a git checkout)"
    fi
    echo "runs	$runs"
} > "$res/env.tsv"
for n in "${!cap[@]}"; do
    echo "capture	$n	$(tr -d '\n ' < "${cap[$n]}.json" 2>/dev/null || true)" >> "$res/env.tsv"
done
printf 'size\tmode\tvariant\trun\twall_s\tuser_s\tsys_s\tmaxrss_kb\texit\tother_cpu_s\n' > "$res/results.tsv"

# The variants of a mode: name, plugin folder, tshark arguments (@CAP@ = the capture).
variants() {
    local mode=$1
    case $mode in
        startup|summary)
            echo 'noplugin|without|-r @CAP@'
            echo 'plugin|with|-r @CAP@'
            if [ "$mode" = summary ]; then
                echo 'nosmtp|without|--disable-protocol smtp -r @CAP@'
                echo 'data|without|-d tcp.port==25,data -d tcp.port==587,data -r @CAP@'
                echo 'plugin-off|with|--disable-protocol keystroke --disable-protocol smtplab -r @CAP@'
            fi ;;
        fields)
            echo 'noplugin|without|-r @CAP@ -T fields -e smtp.req.command'
            echo 'plugin|with|-r @CAP@ -T fields -e smtp.req.command -e smtplab.stage -e keystroke.line' ;;
        filter)
            echo 'noplugin|without|-r @CAP@ -Y smtp.req.command=="helo"'
            echo 'plugin|with|-r @CAP@ -Y smtplab.stage=="helo"' ;;
        tree2)
            echo 'noplugin|without|-2 -r @CAP@ -V'
            echo 'plugin|with|-2 -r @CAP@ -V' ;;
    esac
}

timefile=$stage/time.txt
# Busy CPU time of the whole machine so far, in clock ticks (USER_HZ).
busy_ticks() {
    awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat
}
hz=$(getconf CLK_TCK)
# Before each run, waits until no other process uses the CPU (below 5 %
# of one core over 0.5 s): other work on a 2-core machine (a parallel
# ctest) skews the timings. The waiting is capped at $max_wait seconds for
# the whole benchmark; after that, runs start at once and the "busy"
# column of the report shows how disturbed each row is.
waited=0
busy_starts=0
wait_quiet() {
    local b0 b1
    while :; do
        b0=$(busy_ticks)
        sleep 0.5
        b1=$(busy_ticks)
        (( (b1 - b0) * 100 < hz * 5 / 2 )) && return 0
        if ((waited >= max_wait * 2)); then
            busy_starts=$((busy_starts + 1))
            return 0
        fi
        ((waited == 0)) && echo "  waiting for a quiet machine (at most $max_wait s in all)..." >&2
        waited=$((waited + 1))
    done
}

# One timed run; appends a row to results.tsv. other_cpu_s: CPU time the
# rest of the machine used during the run (busy ticks minus tshark's own).
timed() {
    local size=$1 mode=$2 name=$3 plugins=$4 args=$5 run=$6 t0 t1 rc wall b0 b1
    local -a argv
    read -r -a argv <<< "${args//@CAP@/${cap[$size]}}"
    wait_quiet
    b0=$(busy_ticks)
    t0=$EPOCHREALTIME
    rc=0
    /usr/bin/time -v -o "$timefile" "${as_user[@]}" env -i PATH=/usr/bin:/bin HOME="$stage/home" \
        TZ=UTC LC_ALL=C.UTF-8 WIRESHARK_PLUGIN_DIR="$stage/$plugins" tshark "${argv[@]}" \
        > /dev/null 2> "$stage/stderr.txt" || rc=$?
    t1=$EPOCHREALTIME
    b1=$(busy_ticks)
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", b - a}')
    awk -F': ' -v s="$size" -v m="$mode" -v v="$name" -v r="$run" -v w="$wall" -v rc="$rc" \
        -v busy="$(( b1 - b0 ))" -v hz="$hz" '
        /User time/ {u = $2} /System time/ {y = $2} /Maximum resident/ {k = $2}
        END {o = busy / hz - u - y; if (o < 0) o = 0
             printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\n", s, m, v, r, w, u, y, k, rc, o}' \
        "$timefile" >> "$res/results.tsv"
    if [ "$rc" != 0 ]; then
        echo "run-bench.sh: tshark failed ($mode $name, size $size):" >&2
        cat "$stage/stderr.txt" >&2
        exit 1
    fi
    printf '  %-8s %-7s %-10s run %s: %6.2f s\n' "$size" "$mode" "$name" "$run" "$wall" >&2
}

# Output lines of each variant on the smallest size, untimed: shows what
# each side produced.
small=${sizes%%,*}
for mode in fields filter; do
    while IFS='|' read -r name plugins args; do
        read -r -a argv <<< "${args//@CAP@/${cap[$small]}}"
        lines=$(tshark_env "$plugins" tshark "${argv[@]}" | wc -l)
        printf 'lines\t%s\t%s\t%s\t%s\n' "$small" "$mode" "$name" "$lines" >> "$res/env.tsv"
    done < <(variants "$mode")
done

# Runs alternate between the variants; odd runs go in order, even runs
# in reverse order, so neither side always runs first.
run_mode() {
    local size=$1 mode=$2 r i
    local -a vs
    mapfile -t vs < <(variants "$mode")
    cat "${cap[$size]}" > /dev/null
    for ((r = 1; r <= runs; r++)); do
        if ((r % 2)); then
            for ((i = 0; i < ${#vs[@]}; i++)); do
                IFS='|' read -r name plugins args <<< "${vs[$i]}"
                timed "$size" "$mode" "$name" "$plugins" "$args" "$r"
            done
        else
            for ((i = ${#vs[@]} - 1; i >= 0; i--)); do
                IFS='|' read -r name plugins args <<< "${vs[$i]}"
                timed "$size" "$mode" "$name" "$plugins" "$args" "$r"
            done
        fi
    done
}

start=$SECONDS
echo "results in $res" >&2
run_mode 0 startup
for n in ${sizes//,/ }; do
    for mode in summary fields filter; do
        run_mode "$n" "$mode"
    done
    case ",$vsizes," in *",$n,"*) run_mode "$n" tree2 ;; esac
done
for n in ${vsizes//,/ }; do
    case ",$sizes," in *",$n,"*) ;; *) run_mode "$n" tree2 ;; esac
done
echo "elapsed	$((SECONDS - start)) s" >> "$res/env.tsv"
echo "runs started while other processes used the CPU	$busy_starts (after waiting $((waited / 2)) s in all)" >> "$res/env.tsv"

/usr/bin/python3 "$here/report.py" "$res" | tee "$res/report.txt"
