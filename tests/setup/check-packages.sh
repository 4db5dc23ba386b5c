#!/usr/bin/env bash
# README.md's by-hand apt-get line names exactly the packages of
# cmake/setup.sh's demo list (the first packages=(...) line), in its order:
# a package added to one and not the other would leave a by-hand student
# without it.
# Usage: check-packages.sh <source dir>
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
src=$1
demo=$(sed -n 's/^packages=(\(.*\))$/\1/p' "$src/cmake/setup.sh")
[ -n "$demo" ] || { echo "FAIL: no packages=(...) line in cmake/setup.sh"; exit 1; }
# The apt-get line and its continuation, up to the comment.
readme=$(sed -n '/^sudo apt-get install /,/# what setup.sh demo installs$/p' "$src/README.md" |
    sed 's/^sudo apt-get install //; s/#.*//; s/\\$//' | tr -s ' \n' '  ' | sed 's/^ *//; s/ *$//')
if [ "$readme" = "$demo" ]; then
    echo "ok - README's by-hand apt-get line is setup.sh's demo list: $demo"
else
    echo "not ok - README's by-hand apt-get line differs from setup.sh's demo list"
    echo "  README:   $readme"
    echo "  setup.sh: $demo"
    exit 1
fi
