#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes tab-separated lines (tshark -T fields output) with every run of 3
or more lines that step evenly written once.  Stdlib only.

  collapse.py [--long N] < fields.tsv > fields.collapsed

Within a run, each column either keeps its value or is a whole number that
changes by the same step from line to line (frame.number +2, say).  A run
is written as its first line followed by
    ... <N> lines, step <d1>,<d2>,...      (one step per column, 0 = same)
The form is lossless: the full output can be written back from it, so two
outputs are equal exactly when their collapsed forms are.  It keeps the
expected output of captures with 100 000 frames small and readable.

With --long N, a column value longer than N characters is first written as
"[<length> chars, sha256 <first 16 hex digits>: <its first 40 chars>...]":
still exact, by the hash, without a 64 KiB line in the expected file.
"""

import hashlib
import sys


def as_int(v):
    """The column as a whole number, or None (leading zeros, "", text)."""
    digits = v[1:] if v.startswith("-") else v
    if not digits.isascii() or not digits.isdigit():
        return None
    n = int(v)
    return n if str(n) == v else None


def step(a, b):
    """Per-column steps from line a to line b, or None when they differ in
    a column that is not a whole number or in the number of columns."""
    if len(a) != len(b):
        return None
    out = []
    for x, y in zip(a, b):
        if x == y:
            out.append(0)
            continue
        nx, ny = as_int(x), as_int(y)
        if nx is None or ny is None:
            return None
        out.append(ny - nx)
    return out


def collapse(lines):
    rows = [ln.split("\t") for ln in lines]
    out = []
    i = 0
    while i < len(rows):
        j = i + 1
        d = step(rows[i], rows[j]) if j < len(rows) else None
        if d is not None:
            while j + 1 < len(rows) and step(rows[j], rows[j + 1]) == d:
                j += 1
        n = j - i + 1 if d is not None else 1
        if n >= 3:
            out.append(lines[i])
            out.append(f"... {n} lines, step {','.join(str(x) for x in d)}")
            i = j + 1
        else:
            out.append(lines[i])
            i += 1
    return out


def shorten(line, limit):
    cols = line.split("\t")
    for k, v in enumerate(cols):
        if len(v) > limit:
            h = hashlib.sha256(v.encode("utf-8", "surrogateescape")).hexdigest()[:16]
            cols[k] = f"[{len(v)} chars, sha256 {h}: {v[:40]}...]"
    return "\t".join(cols)


def main():
    limit = int(sys.argv[2]) if sys.argv[1:2] == ["--long"] else None
    data = sys.stdin.buffer.read().decode("utf-8", "surrogateescape")
    lines = data.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if limit:
        lines = [shorten(ln, limit) for ln in lines]
    out = sys.stdout.buffer
    for ln in collapse(lines):
        out.write((ln + "\n").encode("utf-8", "surrogateescape"))


if __name__ == "__main__":
    main()
