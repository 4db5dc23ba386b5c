#!/usr/bin/env bash
# The "SMTP Lab" configuration profile: Wireshark reads it without a warning,
# its custom columns show the plugin's values, every filter button and
# coloring rule compiles, and the install keeps a file the user changed.
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

# Coloring rules compile (tshark warns about any that does not).
prun -n --color -C "SMTP Lab" -r "$caps/typed-lab.pcapng" > /dev/null 2> "$work/color.err"
check "coloring rules compile" "$(cat "$work/color.err")" ""
check "nine SMTP Lab coloring rules" "$(grep -c '^@.*smtplab\.' "$profile/colorfilters")" "9"

# Every filter button's expression compiles.
n=0
while IFS= read -r expr; do
    n=$((n + 1))
    err=$(run -n -r "$caps/refused.pcapng" -Y "$expr" 2>&1 >/dev/null || echo "tshark failed")
    check "filter button $n compiles: $expr" "$err" ""
done < <(grep '^"' "$profile/dfilter_buttons" | sed 's/^"[^"]*","[^"]*","//; s/","[^"]*"$//; s/\\x22/"/g')
check "eight filter buttons" "$n" "8"

# The install script: into a fresh folder, then again after the user
# changed a file.
dest="$work/profiles/SMTP Lab"
install_profile() {
    cmake -DSMTPLAB_PROFILE_SRC="$profile" -DSMTPLAB_PROFILE_DEST="$dest" -P "$here/../../cmake/InstallProfile.cmake"
}
install_profile > "$work/install1.log"
check "installed profile files" "$(cd "$dest" && ls)" "$(printf 'colorfilters\ndfilter_buttons\npreferences')"
echo "gui.column.hidden: %t" >> "$dest/preferences"
install_profile > "$work/install2.log"
check "a file the user changed is kept" "$(tail -n 1 "$dest/preferences")" "gui.column.hidden: %t"
check "and the install says so" "$(grep -c 'Kept your changed' "$work/install2.log")" "1"
check "an unchanged file is still the plugin's" "$(cmp "$profile/colorfilters" "$dest/colorfilters" && echo same)" "same"
install_profile > "$work/install3.log"
check "still kept on the next install" "$(tail -n 1 "$dest/preferences")" "gui.column.hidden: %t"
finish
