#!/usr/bin/env bash
# The "SMTP Lab" configuration profile: Wireshark reads it without a warning,
# its custom columns show the plugin's values, every coloring rule and
# filter button compiles and keeps the frames it is meant for on a chosen
# capture, the rules colour each lab stage, and the install keeps a file the
# user changed.
# Usage: profile.sh <build dir> <profile dir> <captures dir> <expected dir>
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1 profile=$(cd "$2" && pwd) caps=$3 expdir=$4
. "$here/check-lib.sh"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
prun() { SMTPLAB_PROFILE="$profile" run "$@"; }

# The columns, on the typed lab session (two passes) and the telnet one.
for cap in typed-lab telnet-char; do
    prun -n -2 -C "SMTP Lab" -r "$caps/$cap.pcapng" > "$work/$cap.columns" 2> "$work/$cap.err"
    if [ "${SMTPLAB_UPDATE:-}" = 1 ]; then cp "$work/$cap.columns" "$expdir/profile-$cap.columns"; fi
    check "profile columns on $cap" "$(diff "$expdir/profile-$cap.columns" "$work/$cap.columns" && echo same)" "same"
    check "no warning reading the profile ($cap)" "$(cat "$work/$cap.err")" ""
done
check "the Stage/Role/Act columns of frame 40" \
    "$(awk '$1 == 40' "$work/typed-lab.columns" | grep -o 'helo line 5 helo lab.example')" "helo line 5 helo lab.example"

# Frame numbers as ranges: "1-3 6-41 48 50".
ranges() { awk 'NF { if (s != "" && $1 == e + 1) { e = $1; next } if (s != "") o = o (o == "" ? "" : " ") (s == e ? s : s "-" e); s = e = $1 }
    END { if (s != "") o = o (o == "" ? "" : " ") (s == e ? s : s "-" e); printf "%s", o }'; }
# The frames of a capture that a display filter keeps (two passes, with the profile).
matching() { prun -n -2 -C "SMTP Lab" -r "$caps/$1" -Y "$2" -T fields -e frame.number | ranges; }

# Every coloring rule and every filter button, by name, on a capture chosen
# for it, with the exact frames its filter keeps (two passes). A rule or
# button missing here, or here but not in the profile, fails.
expectations='rule|SMTP Lab diagnosis|typed-backspace.pcapng|48 50 91 93
rule|SMTP Lab diagnosis|refused.pcapng|2
rule|Activity 3: handshake|typed-lab.pcapng|1-3
rule|Activity 4: banner|typed-lab.pcapng|4-5
rule|Activity 5: HELO|typed-lab.pcapng|6-41
rule|Activity 6: HELO reply|typed-lab.pcapng|42-43
rule|Activity 7: QUIT|typed-lab.pcapng|44-52
rule|Activity 8: QUIT reply|typed-lab.pcapng|53-54
rule|Activity 8: teardown|typed-lab.pcapng|55-58
rule|SMTP Lab: other stages|pipelining.pcapng|1-35
rule|Bad TCP|syn-unanswered.pcapng|2-4
rule|TCP RST|refused.pcapng|2
button|Act 3|typed-lab.pcapng|1-3
button|Act 3|refused.pcapng|1
button|Act 4|typed-lab.pcapng|4-5
button|Act 5|typed-lab.pcapng|6-41
button|Act 6|typed-lab.pcapng|42-43
button|Act 7|typed-lab.pcapng|44-52
button|Act 8|typed-lab.pcapng|53-58
button|Lines|typed-lab.pcapng|4 40 42 51 53
button|Problems|typed-backspace.pcapng|48 50 91 93
button|Problems|telnet-char.pcapng|6 40 50 52
button|Problems|socat-raw-bare-cr.pcapng|46 48 58 62
button|Problems|refused.pcapng|2'
# name<TAB>filter of each rule and button in the profile's files.
grep '^@' "$profile/colorfilters" | awk -F@ '{ print $2 "\t" $3 }' > "$work/rules"
grep '^"' "$profile/dfilter_buttons" |
    sed 's/^"[^"]*","\([^"]*\)","/\1\t/; s/","[^"]*"$//; s/\\x22/"/g' > "$work/buttons"
for kind in rule button; do
    check "every ${kind} of the profile has a capture to match" \
        "$(cut -f1 "$work/${kind}s" | sort -u)" "$(grep "^$kind|" <<<"$expectations" | cut -d'|' -f2 | sort -u)"
done
while IFS='|' read -r kind name cap frames; do
    expr=$(awk -F'\t' -v n="$name" '$1 == n { print $2; exit }' "$work/${kind}s")
    [ -n "$expr" ] || { check "$kind \"$name\" is in the profile" "missing" "present"; continue; }
    check "$kind \"$name\" compiles and keeps frames $frames of $cap" "$(matching "$cap" "$expr")" "$frames"
done <<<"$expectations"

# The rules as Wireshark applies them (the first that matches colours a
# frame): which rule colours which frames; tshark warns about a rule that
# does not compile.
coloured() { # capture: "rule: frames" per rule, in the order of first use
    prun -n -2 -C "SMTP Lab" --color -r "$caps/$1" -T fields -e frame.number -e frame.coloring_rule.name 2> "$work/color.err" |
        awk -F'\t' '{ if (!($2 in f)) o[++n] = $2; f[$2] = f[$2] " " $1 } END { for (i = 1; i <= n; i++) print o[i] "\t" f[o[i]] }' |
        while IFS=$'\t' read -r rule list; do printf '%s: %s\n' "$rule" "$(tr ' ' '\n' <<<"$list" | ranges)"; done
}
check "coloring on typed-lab: each stage its rule" "$(coloured typed-lab.pcapng)" "Activity 3: handshake: 1-3
Activity 4: banner: 4-5
Activity 5: HELO: 6-41
Activity 6: HELO reply: 42-43
Activity 7: QUIT: 44-52
Activity 8: QUIT reply: 53-54
Activity 8: teardown: 55-58"
check "coloring rules compile (no warning)" "$(cat "$work/color.err")" ""
check "coloring on typed-backspace: the diagnosis rule before the stage rules" \
    "$(coloured typed-backspace.pcapng | grep -E '^(SMTP Lab diagnosis|Activity 6: HELO reply):')" \
    "SMTP Lab diagnosis: 48 50 91 93
Activity 6: HELO reply: 51 79-80"
check "coloring on pipelining: MAIL to the message's reply in \"other stages\"" \
    "$(coloured pipelining.pcapng | grep '^SMTP Lab: other stages:')" "SMTP Lab: other stages: 16-28"
check "coloring on refused: the RST is a diagnosis" "$(coloured refused.pcapng)" "Activity 3: handshake: 1
SMTP Lab diagnosis: 2"

# The column titles and a line's columns, as tshark prints them with the
# profile (PSML: the packet list's structure, then each row).
psml() { prun -n -2 "$@" -r "$caps/typed-lab.pcapng" -Y 'frame.number == 40 || frame.number == 42' -T psml |
    sed -n 's/^<section>\(.*\)<\/section>$/\1/p' | paste -sd'|'; }
check "tshark -C \"SMTP Lab\": the profile's columns, frames 40 and 42" "$(psml -C "SMTP Lab")" \
"No.|Time|Source|Destination|Protocol|Length|Stage|Role|Act|Meant|Reply time|Info|\
40|0.886363390|127.0.0.1|127.0.0.1|SMTP|67|helo|line|5|helo lab.example||C: helo lab.example|\
42|0.886820428|127.0.0.1|127.0.0.1|SMTP|83|helo-reply|reply|6|250 lab.example|0.000457038|S: 250 lab.example"
check "without -C: Wireshark's default columns" "$(psml | cut -d'|' -f1-7)" "No.|Time|Source|Destination|Protocol|Length|Info"

# The column widths (recent): one for each column of the profile, in the
# form Wireshark reads ("%Cus:<field>" for a custom column). tests/gui
# (gui.views) checks that the GUI applies them.
formats=$(sed -n '/^gui.column.format:/,/^$/p' "$profile/preferences" | sed -n 's/^\t"[^"]*", "\([^"]*\)",\{0,1\}$/\1/p' |
    sed 's/^\(%Cus:[^:]*\):.*/\1/')
widths=$(sed -n '/^column.width:/,/^$/p' "$profile/recent" | sed -n 's/^\t"\{0,1\}\([^",]*\)"\{0,1\}, \([0-9]*\),\{0,1\}$/\1 \2/p')
check "a width for every column, in the columns' order" "$(cut -d' ' -f1 <<<"$widths")" "$formats"
check "no width below 40 pixels" "$(awk '$2 < 40' <<<"$widths")" ""

# The install script: into a fresh folder, then again after the user
# changed a file.
dest="$work/profiles/SMTP Lab"
install_profile() {
    cmake -DSMTPLAB_PROFILE_SRC="$profile" -DSMTPLAB_PROFILE_DEST="$dest" -P "$here/../../cmake/InstallProfile.cmake"
}
install_profile > "$work/install1.log"
check "installed profile files" "$(cd "$dest" && ls)" "$(printf 'colorfilters\ndfilter_buttons\npreferences\nrecent')"
echo "gui.column.hidden: %t" >> "$dest/preferences"
install_profile > "$work/install2.log"
check "a file the user changed is kept" "$(tail -n 1 "$dest/preferences")" "gui.column.hidden: %t"
check "and the install says so" "$(grep -c 'Kept your changed' "$work/install2.log")" "1"
check "an unchanged file is still the plugin's" "$(cmp "$profile/colorfilters" "$dest/colorfilters" && echo same)" "same"
install_profile > "$work/install3.log"
check "still kept on the next install" "$(tail -n 1 "$dest/preferences")" "gui.column.hidden: %t"
finish
