#!/usr/bin/env bash
# Shows that a version's own expected files (tests/tshark/expected/<V>/)
# differ from the 4.0 ones only in what Wireshark prints, not in what the
# plugin adds. For every row where the file in effect for V differs from the
# 4.0 file, it prints the plugin's part of that row in the file this build
# is tested against: the keystroke.* and smtplab.* values, and the expert
# messages that tshark does not print without the plugin (in a summary line:
# the texts the keystroke layer writes). It fails when, in such a row, a
# Wireshark field is not what tshark prints without the plugin. Run with the
# 4.0 build and with the V build: both must print the same (run.sh compares
# them), so the plugin's part of every changed row is the same in both.
# Usage: audit-expected.sh <build dir> <version V> <expected dir> <capture>...
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1 v=$2 expdir=$3; shift 3
. "$here/ws-version.sh"
mine_v=$(ws_version "$build")
without() { SMTPLAB_NO_PLUGIN=1 "$here/../tshark/tshark-as-user.sh" "$build" "$@"; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
status=0
for cap in "$@"; do
    name=$(basename "$cap"); name=${name%.*}
    for k in 2pass 1pass summary; do
        base="$expdir/$name.$k"
        other=$(ws_expected "$v" "$expdir" "$name.$k")
        [ "$other" != "$base" ] || continue
        mine=$(ws_expected "$mine_v" "$expdir" "$name.$k")
        if [ "$k" = summary ]; then
            without -n -r "$cap" > "$work/without"
        else
            args=(-n -T fields -E header=y -E occurrence=a -E aggregator='|')
            [ "$k" = 2pass ] && args+=(-2)
            for f in $(head -n 1 "$base"); do [[ $f =~ ^(keystroke|smtplab)\. ]] || args+=(-e "$f"); done
            without -r "$cap" "${args[@]}" > "$work/without"
        fi
        gawk -F'\t' -v kind="$k" -v what="$name.$k" '
            ARGIND == 1 { base[FNR] = $0; next }
            ARGIND == 2 { other[FNR] = $0; next }
            ARGIND == 3 { mine[FNR] = $0; n = FNR; next }
            { without[FNR] = $0 }
            ARGIND == 4 && FNR == 1 && kind != "summary" { for (i = 1; i <= NF; i++) col[$i] = i }
            END {
                if (length(base) != length(other)) { print "FAIL: " what ": " length(base) " rows, " length(other) " in the other version"; bad = 1 }
                if (kind != "summary") split(base[1], names, "\t")
                for (r = 1 + (kind != "summary"); r <= n; r++) {
                    if (base[r] == other[r]) continue
                    if (kind == "summary") {
                        # What the keystroke layer writes in the columns; SMTP writes the rest.
                        line = mine[r]; texts = ""
                        if (line ~ / Keystroke [0-9]+ /) texts = texts " [protocol Keystroke]"
                        while (match(line, /[CS]: keystroke "([^"\\]|\\.)*" \([0-9]+\)|\[retransmitted keystrokes\]|\[meant: [^]]*\]/)) {
                            texts = texts " " substr(line, RSTART, RLENGTH); line = substr(line, RSTART + RLENGTH)
                        }
                        print what "\tline " r "\tplugin texts:" texts
                        continue
                    }
                    nm = split(mine[r], m, "\t"); split(without[r], wr, "\t")
                    for (i = 1; i <= nm; i++) w[i] = (names[i] in col) ? wr[col[names[i]]] : ""
                    part = ""
                    for (i = 1; i <= nm; i++) {
                        if (names[i] ~ /^(keystroke|smtplab)\./) part = part "\t" names[i] "=" m[i]
                        else if (names[i] == "_ws.expert.message") {
                            delete left; split(w[i], wm, "|"); for (j in wm) left[wm[j]]++
                            nmm = split(m[i], mm, "|"); plugin = ""
                            for (j = 1; j <= nmm; j++) { if (left[mm[j]] > 0) left[mm[j]]--; else plugin = plugin "|" mm[j] }
                            part = part "\tplugin experts=" substr(plugin, 2)
                        } else if (m[i] != w[i]) {
                            print "FAIL: " what " frame " m[1] ": " names[i] " is \"" m[i] "\", without the plugin \"" w[i] "\""; bad = 1
                        }
                    }
                    print what "\tframe " m[1] part
                }
                exit bad
            }' "$base" "$other" "$mine" "$work/without" || status=1
    done
done
exit $status
