# What the tshark tests need to know about the Wireshark version they run
# against (sourced, not run). The expected files in tests/tshark/expected/
# were made with Wireshark 4.0; README.md in this folder says what differs
# in later versions and why.
# SPDX-License-Identifier: GPL-2.0-or-later

# The version the expected files were made with.
ws_base_version=4.0

# The Wireshark major.minor a build is for: its plugin folder, <build>/plugins/X.Y.
ws_version() { # build dir
    local d
    d=$(cd "$1/plugins" && ls -d */ | head -n 1)
    echo "${d%/}"
}

# TRUE when version $1 is $2 or later.
ws_at_least() {
    [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" = "$2" ]
}

# The expected file in effect for a version: <expdir>/<V>/<file> for the
# newest V not after it that has one (Wireshark's own output changed there),
# else <expdir>/<file>.
ws_expected() { # version, expected dir, file name
    local v best=""
    for v in $(cd "$2" && ls -d [0-9]*.[0-9]*/ 2>/dev/null | tr -d / | sort -V); do
        ws_at_least "$1" "$v" && [ -e "$2/$v/$3" ] && best="$2/$v/$3"
    done
    echo "${best:-$2/$3}"
}

# The allowed-differences file of differential.sh for a capture on a version:
# allowed/<V>/<capture name>.txt in this folder for the newest V not after
# it, else nothing.
ws_allowed_differences() { # version, capture
    local here v name best=""
    here=$(dirname "${BASH_SOURCE[0]}")
    name=$(basename "$2"); name=${name%.*}
    for v in $(cd "$here/allowed" 2>/dev/null && ls -d [0-9]*.[0-9]*/ 2>/dev/null | tr -d / | sort -V); do
        ws_at_least "$1" "$v" && [ -e "$here/allowed/$v/$name.txt" ] && best="$here/allowed/$v/$name.txt"
    done
    echo "$best"
}

# SMTPLAB_UPDATE=1 on a version after the base: keeps <expdir>/<version>/<file>
# only when the output differs from what the older versions expect.
ws_update_expected() { # version, expected dir, file name, actual output file
    local own="$2/$1/$3" inherited
    if [ "$1" = "$ws_base_version" ]; then
        cp "$4" "$2/$3"
        return
    fi
    rm -f "$own"
    inherited=$(ws_expected "$1" "$2" "$3")
    if ! cmp -s "$inherited" "$4"; then
        mkdir -p "$2/$1"
        cp "$4" "$own"
        echo "Wireshark $1 differs from $(basename "$(dirname "$inherited")"): kept $own"
    fi
    rmdir "$2/$1" 2>/dev/null || true
}

# Wireshark 4.2 changed how tshark -T fields prints values: a backslash in a
# value is printed doubled (4.0: hekk\b\blo; 4.2+: hekk\\b\\blo) and booleans
# as True/False (4.0: 1/0). The values are the same (the -V tree and display
# filters agree); only their printing changed. This filter, on the output of
# `tshark -T fields` from 4.2 or later, prints each value as 4.0 does: every
# "\\" back to "\", and True/False back to 1/0 in the columns of FT_BOOLEAN
# fields. Arguments: the file listing the FT_BOOLEAN field names, then the
# tshark arguments (for the -e fields, -E header= and -E aggregator=).
ws_fields_as_base() {
    local booleans=$1; shift
    local fields=() header=n prev=""
    for a in "$@"; do
        case "$prev" in
        -e) fields+=("$a") ;;
        -E) case "$a" in header=*) header=${a#header=} ;; esac ;;
        esac
        case "$a" in -e?*) fields+=("${a#-e}") ;; esac
        prev=$a
    done
    gawk -F'\t' -v OFS='\t' -v booleans="$booleans" -v header="$header" -v fields="${fields[*]}" '
        BEGIN {
            while ((getline name < booleans) > 0) boolean[name] = 1
            n = split(fields, f, " ")
            for (i = 1; i <= n; i++) if (f[i] in boolean) b[i] = 1
        }
        NR == 1 && header == "y" { print; next }
        {
            for (i = 1; i <= NF; i++) {
                gsub(/\\\\/, "\\", $i)
                if (i in b) { gsub(/True/, "1", $i); gsub(/False/, "0", $i) }
            }
            print
        }'
}
