#!/usr/bin/env bash
# Expert items without a tree: `tshark -q -z expert` (no protocol tree: the
# plugin's layers run with tree == NULL) lists the same expert items, each
# as often, as `tshark -V -q -z expert` (a full tree), in one pass and in
# two, on every capture given (STYLE.md rule 8), and on a 70 000-byte line
# generated here (gen-hostile.py long-line), longer than a line keeps.
# An item of another protocol that differs is allowed only when Wireshark
# without the plugin differs the same way (its own dissector's doing).
# Usage: expert-no-tree.sh <build dir> <capture or folder of captures>...
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1; shift
. "$here/check-lib.sh"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

caps=()
for a in "$@"; do
    if [ -d "$a" ]; then
        for c in "$a"/*.pcap "$a"/*.pcapng; do [ -f "$c" ] && caps+=("$c"); done
    else
        caps+=("$a")
    fi
done
/usr/bin/python3 "$here/../hostile/gen-hostile.py" "$work" long-line
caps+=("$work/long-line.pcap")

# The expert items of a run, one per line: severity, group, protocol,
# summary, count (tap-expert.c prints "%12d %10s %18s  %s").
items() { # capture, then tshark options (-2, -V)
    local cap=$1; shift
    run -n "$@" -q -z expert -r "$cap" |
        awk -v OFS='\t' '/^(Errors|Warns|Notes|Chats|Comments) \([0-9]+\)$/ { sev = $1; next }
            sev != "" && /^ *[0-9]+ / && $1 != "Frequency" {
                g = substr($0, 14, 10); p = substr($0, 25, 18); gsub(/^ +/, "", g); gsub(/^ +/, "", p)
                print sev, g, p, substr($0, 45), $1 + 0 }' | sort
}
# How the counts of the tree run ($2) differ from those without ($1):
# severity, group, protocol, summary, count without, count with.
delta() {
    awk -F'\t' -v OFS='\t' 'FNR == 1 { f++ } { k = $1 OFS $2 OFS $3 OFS $4; n[k, f] = $5; keys[k] = 1 }
        END { for (k in keys) if (n[k, 1] + 0 != n[k, 2] + 0) print k, n[k, 1] + 0, n[k, 2] + 0 }' "$1" "$2" | sort
}

# One line per difference, for the report.
say() { awk -F'\t' '{ printf "%s %s/%s \"%s\": %d without a tree, %d with\n", $3, $1, $2, $4, $5, $6 }'; }

# Both passes of one capture, into folder $work/<index>: the differences
# not explained (<pass>.unexplained), those Wireshark alone shows too
# (<pass>.allowed), the kinds of items (<pass>.kinds) and the failed runs.
one_capture() { # index, capture
    local d="$work/$1" cap=$2 pass
    local opts=()
    # A failed run is in the run log, which fails the capture's checks.
    set +e
    export SMTPLAB_RUN_LOG="$d/runs"
    for pass in 1 2; do
        opts=(); [ $pass = 2 ] && opts=(-2)
        items "$cap" "${opts[@]}" > "$d/no-tree"
        items "$cap" "${opts[@]}" -V > "$d/tree"
        wc -l < "$d/tree" > "$d/$pass.kinds"
        delta "$d/no-tree" "$d/tree" > "$d/delta"
        awk -F'\t' '$3 == "Keystroke" || $3 == "SMTP Lab"' "$d/delta" > "$d/$pass.unexplained"
        awk -F'\t' '$3 != "Keystroke" && $3 != "SMTP Lab"' "$d/delta" > "$d/other"
        : > "$d/$pass.allowed"
        if [ -s "$d/other" ]; then
            SMTPLAB_NO_PLUGIN=1 items "$cap" "${opts[@]}" > "$d/ws-no-tree"
            SMTPLAB_NO_PLUGIN=1 items "$cap" "${opts[@]}" -V > "$d/ws-tree"
            delta "$d/ws-no-tree" "$d/ws-tree" > "$d/ws-delta"
            comm -23 "$d/other" "$d/ws-delta" >> "$d/$pass.unexplained"
            comm -12 "$d/other" "$d/ws-delta" > "$d/$pass.allowed"
        fi
    done
}

# The captures in parallel (four tshark runs each, mostly start-up time),
# SMTPLAB_JOBS at a time (default: the number of processors).
jobs=${SMTPLAB_JOBS:-$(nproc)}
for i in "${!caps[@]}"; do
    mkdir -p "$work/$i"
    touch "$work/$i/runs" "$work/$i/"{1,2}.{kinds,unexplained,allowed}
    one_capture "$i" "${caps[i]}" &
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
done
wait
for i in "${!caps[@]}"; do
    cat "$work/$i/runs" >> "$SMTPLAB_RUN_LOG"
    for pass in 1 2; do
        say < "$work/$i/$pass.allowed" | sed 's/^/# allowed, the same without the plugin: /'
        check "$(basename "${caps[i]}") ($pass pass$([ $pass = 2 ] && echo es || true)): the same expert items without a tree as with -V ($(cat "$work/$i/$pass.kinds") kinds)" \
            "$(say < "$work/$i/$pass.unexplained")" ""
    done
done
finish
