# common.sh: sourced by run-bench.sh, profile.sh and massif.sh (after they
# set $repo).
# SPDX-License-Identifier: GPL-2.0-or-later

# The options of profile.sh and massif.sh: --frames N, --build DIR, --out DIR.
bench_small_args() {
    frames=20000
    build=
    out=$repo/build/bench
    while [ $# -gt 0 ]; do
        case $1 in
            --frames) frames=$2; shift ;;
            --build) build=$(cd "$2" && pwd); shift ;;
            --out) mkdir -p "$2"; out=$(cd "$2" && pwd); shift ;;
            *) echo "$(basename "$0"): unknown argument $1" >&2; exit 2 ;;
        esac
        shift
    done
}

# Sets $ver_dir and $so from $build; with no $build, configures and builds
# $out/plugin-build (RelWithDebInfo, target smtplab) from the working tree.
bench_build() {
    mkdir -p "$out"
    if [ -z "$build" ]; then
        build=$out/plugin-build
        cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
        cmake --build "$build" --target smtplab -j "$(nproc)" >/dev/null
    fi
    ver_dir=$(cd "$build/plugins" && ls -d */ | head -n 1)
    ver_dir=${ver_dir%/}
    so=$build/plugins/$ver_dir/epan/smtplab.so
    [ -f "$so" ] || { echo "$(basename "$0"): $so not built" >&2; exit 1; }
}
