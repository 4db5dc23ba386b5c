#!/usr/bin/env bash
# Benchmark of smtplab-grade (issue 16): the same N lab-sized captures
# (gen-grade-captures.py, from tests/captures and ../shared/captures) read
# three ways, each with -j workers:
#   floor   one bare `tshark -n -r FILE > /dev/null` per file, plugin loaded
#           (xargs -P j): what one tshark per file costs at the least
#   grade   smtplab-grade as it is (one tshark per file, -j j), all outputs
#   sharkd  sharkd-grade-proto.py: one long-lived `sharkd -` per worker that
#           loads file after file and asks for the grader's fields and the
#           expert items (a new sharkd every --recycle files)
# Each run gives the wall time (captures per second) and the peak of the
# summed resident memory of all processes of the run (peak-mem.py). The
# modes alternate, in a rotated order from run to run; the report is the
# median of the runs. tshark and sharkd run as nobody when called as root
# (Wireshark ignores plugin folders for root). Before each run the script
# waits until no ctest runs (polled every 30 s): a parallel test suite on
# the same cores skews the figures. A run during which the rest of the
# machine used more than 5 % of the run's wall time in CPU (peak-mem.py's
# other_cpu_s) is marked disturbed, left out of the medians and done
# again (at most 5 tries). Not a ctest test. See README.md.
#
# Usage: grade-bench.sh <build dir> [--n N] [--runs R] [-j J] [--recycle K]
#                       [--no-wait] [--out DIR]
#   --n N        captures (default 1000)      --runs R    runs (default 3)
#   -j J         workers (default nproc)      --recycle K sharkd loads per process (default 20)
#   --no-wait    do not wait for ctest to end --out DIR   results (default <repo>/build/bench)
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
[ $# -ge 1 ] || { sed -n '/^# Usage/,/^# SPDX/p' "$0" >&2; exit 2; }
build=$(cd "$1" && pwd); shift
n=1000 runs=3 jobs=$(nproc) recycle=20 wait_ctest=1 out=$repo/build/bench
while [ $# -gt 0 ]; do
    case $1 in
        --n) n=$2; shift ;;
        --runs) runs=$2; shift ;;
        -j) jobs=$2; shift ;;
        --recycle) recycle=$2; shift ;;
        --no-wait) wait_ctest=0 ;;
        --out) mkdir -p "$2"; out=$(cd "$2" && pwd); shift ;;
        *) echo "grade-bench.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
for tool in tshark sharkd setpriv /usr/bin/python3; do
    command -v "$tool" >/dev/null || { echo "grade-bench.sh: $tool not found" >&2; exit 1; }
done
ver_dir=$(cd "$build/plugins" && ls -d */ | head -n 1)
ver_dir=${ver_dir%/}
so=$build/plugins/$ver_dir/epan/smtplab.so
[ -f "$so" ] || { echo "grade-bench.sh: $so not built" >&2; exit 1; }

# A world-readable stage: the plugin, a home, the captures.
stage=$(mktemp -d /tmp/smtplab-grade-bench.XXXXXX)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/plugins/$ver_dir/epan" "$stage/home"
cp "$so" "$stage/plugins/$ver_dir/epan/"
/usr/bin/python3 "$here/gen-grade-captures.py" "$n" "$stage/caps" \
    "$repo"/tests/captures/*.pcapng "$repo"/../shared/captures/*.pcap > "$stage/list.tsv"
cut -f1 "$stage/list.tsv" > "$stage/files.txt"
chmod -R a+rwX "$stage"
as_user=()
[ "$(id -u)" = 0 ] && as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
user_env=("${as_user[@]}" env -i PATH=/usr/bin:/bin HOME="$stage/home" TZ=UTC LC_ALL=C.UTF-8
          WIRESHARK_PLUGIN_DIR="$stage/plugins")
[[ $("${user_env[@]}" tshark -G plugins) == *smtplab.so* ]] ||
    { echo "grade-bench.sh: tshark did not load $so" >&2; exit 1; }

res=$out/grade-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$res"
src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
{
    echo "date	$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "tshark	$(tshark --version 2>/dev/null | head -n 1)"
    echo "cpu	$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "nproc	$(nproc)"
    echo "ram	$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "commit	$(git -C "${src:-$repo}" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "captures	$n ($(du -sk "$stage/caps" | cut -f1) KiB, $(ls "$repo"/tests/captures/*.pcapng "$repo"/../shared/captures/*.pcap | wc -l) sources)"
    echo "jobs	$jobs"
    echo "recycle	$recycle"
    echo "runs	$runs"
} > "$res/env.tsv"
printf 'mode\trun\twall_s\tpeak_kib\tother_cpu_s\tkept\n' > "$res/results.tsv"

wait_no_ctest() {
    [ "$wait_ctest" = 1 ] || return 0
    while pgrep -x ctest >/dev/null; do
        echo "  a ctest is running: waiting (polling every 30 s)" >&2
        sleep 30
    done
}

# One timed run of a mode, tried again while disturbed; a row per try in
# results.tsv.
run_mode() {
    local mode=$1 run=$2 try kept
    for ((try = 1; try <= 5; try++)); do
        try_mode "$mode" "$run"
        kept=$(awk '{print ($3 <= 0.05 * $1) ? "yes" : "no"}' "$stage/pm.txt")
        printf '%s\t%s\t%s\t%s\n' "$mode" "$run" "$(cat "$stage/pm.txt")" "$kept" >> "$res/results.tsv"
        printf '  run %s %-6s %s%s\n' "$run" "$mode" "$(awk -v n="$n" '{printf "%.1f s, %.1f captures/s, peak %.0f MiB, other CPU %.1f s", $1, n / $1, $2 / 1024, $3}' "$stage/pm.txt")" \
            "$([ "$kept" = yes ] || echo ': disturbed, again')" >&2
        [ "$kept" = yes ] && return 0
    done
    echo "grade-bench.sh: $mode run $run disturbed 5 times" >&2
    exit 1
}

try_mode() {
    local mode=$1 run=$2 rc=0
    local -a cmd
    case $mode in
        floor) cmd=(xargs -a "$stage/files.txt" -d '\n' -P "$jobs" -n 1 "${user_env[@]}" tshark -n -r) ;;
        grade) cmd=(/usr/bin/python3 "$repo/plugin/grade/smtplab-grade" --tshark "${user_env[*]} tshark"
                    -j "$jobs" --progress never -o "$stage/grades-$run" "$stage/caps") ;;
        sharkd) cmd=(/usr/bin/python3 "$here/sharkd-grade-proto.py" -j "$jobs" --recycle "$recycle"
                     "$stage/list.tsv" "${user_env[@]}" sharkd -) ;;
    esac
    wait_no_ctest
    /usr/bin/python3 "$here/peak-mem.py" "$stage/pm.txt" -- "${cmd[@]}" > "$stage/$mode-$run.out" 2>&1 || rc=$?
    if [ "$rc" != 0 ]; then
        echo "grade-bench.sh: $mode run $run failed (exit $rc):" >&2
        tail -n 20 "$stage/$mode-$run.out" >&2
        exit 1
    fi
    cp "$stage/$mode-$run.out" "$res/"
}

echo "results in $res" >&2
cat "$stage"/caps/* > /dev/null
modes=(floor grade sharkd)
for ((r = 1; r <= runs; r++)); do
    for ((i = 0; i < ${#modes[@]}; i++)); do
        run_mode "${modes[(i + r - 1) % ${#modes[@]}]}" "$r"
    done
done
/usr/bin/python3 - "$res" "$n" <<'PY' | tee "$res/report.txt"
import statistics, sys
res, n = sys.argv[1], int(sys.argv[2])
every = [l.split('\t') for l in open(res + '/results.tsv').read().splitlines()[1:]]
rows = [r for r in every if r[5] == 'yes']
env = dict(l.split('\t', 1) for l in open(res + '/env.tsv').read().splitlines())
print('%s; %s, nproc %s, %s; %s' % (env['date'], env['cpu'], env['nproc'], env['ram'], env['tshark']))
print('%s captures, -j %s, median of %s runs (wall s of each run in brackets); %d disturbed runs left out and done again\n'
      % (env['captures'], env['jobs'], env['runs'], len(every) - len(rows)))
print('| mode | wall s | captures/s | peak memory, all processes (MiB) | x floor (time) |')
print('| --- | --- | --- | --- | --- |')
walls = {}
for mode in ('floor', 'grade', 'sharkd'):
    w = [float(r[2]) for r in rows if r[0] == mode]
    k = [int(r[3]) for r in rows if r[0] == mode]
    walls[mode] = statistics.median(w)
    print('| %s | %.1f (%s) | %.1f | %.0f | %.2f |' % (mode, walls[mode], ', '.join('%.1f' % x for x in w),
          n / walls[mode], statistics.median(k) / 1024, walls[mode] / walls['floor']))
PY
