#!/usr/bin/env python3
"""Reads tests/mutation/mutants.txt and applies its mutants to a source tree.

Usage:
  mutants.py check <source dir>          every mutant applies: its original code
                                         occurs exactly once in its file
  mutants.py list                        name<TAB>file<TAB>description, one a line
  mutants.py apply <source dir> <name>   writes the mutant into its file

SPDX-License-Identifier: GPL-2.0-or-later
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LIST = os.path.join(HERE, "mutants.txt")
NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def parse(path=LIST):
    """The mutants in file order: dicts with name, description, file,
    original, replacement. Raises ValueError on a malformed entry."""
    mutants = []
    cur = None
    block = None  # "original" or "replacement" while reading code
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for no, line in enumerate(lines, 1):
        where = f"{os.path.basename(path)}:{no}"
        if block:
            if line == "--- replacement" and block == "original":
                block = "replacement"
                cur[block] = []
            elif line == "--- end":
                if block != "replacement":
                    raise ValueError(f"{where}: '--- end' before '--- replacement'")
                block = None
            elif line.startswith("--- "):
                raise ValueError(f"{where}: unexpected {line!r}")
            else:
                cur[block].append(line)
            continue
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            cur = {"name": line[1:-1], "line": no}
            if not NAME.match(cur["name"]):
                raise ValueError(f"{where}: bad mutant name {cur['name']!r}")
            mutants.append(cur)
        elif cur is None:
            raise ValueError(f"{where}: text before the first [name]")
        elif line == "--- original":
            block = "original"
            cur[block] = []
        elif ":" in line and line.split(":", 1)[0] in ("description", "file"):
            key, value = line.split(":", 1)
            cur[key] = value.strip()
        else:
            raise ValueError(f"{where}: unexpected {line!r}")
    if block:
        raise ValueError(f"{os.path.basename(path)}: the last code block has no '--- end'")
    seen = set()
    for m in mutants:
        for key in ("description", "file", "original", "replacement"):
            if key not in m:
                raise ValueError(f"mutant {m['name']} (line {m['line']}): no {key}")
        if m["name"] in seen:
            raise ValueError(f"mutant {m['name']}: named twice")
        seen.add(m["name"])
        m["original"] = "\n".join(m["original"]) + "\n"
        m["replacement"] = "\n".join(m["replacement"]) + "\n"
        if m["original"] == m["replacement"]:
            raise ValueError(f"mutant {m['name']}: the replacement is the original")
    return mutants


def problem(src, m):
    """Why the mutant does not apply to the tree at src, or None."""
    path = os.path.join(src, m["file"])
    if not os.path.isfile(path):
        return f"{m['file']}: no such file"
    with open(path, encoding="utf-8") as f:
        n = f.read().count(m["original"])
    if n != 1:
        return f"{m['file']}: the original code occurs {n} times, not once (the mutant list is stale)"
    return None


def main(argv):
    if len(argv) < 2 or argv[1] not in ("check", "list", "apply"):
        sys.stderr.write(__doc__)
        return 2
    try:
        mutants = parse()
    except ValueError as e:
        print(f"mutants.txt: {e}")
        return 1
    cmd = argv[1]
    if cmd == "list":
        for m in mutants:
            print(f"{m['name']}\t{m['file']}\t{m['description']}")
        return 0
    if cmd == "check":
        if len(argv) != 3:
            sys.stderr.write(__doc__)
            return 2
        bad = 0
        for m in mutants:
            why = problem(argv[2], m)
            if why:
                bad += 1
                print(f"not ok - {m['name']}: {why}")
            else:
                print(f"ok - {m['name']} applies to {m['file']}")
        print(f"{len(mutants) - bad} of {len(mutants)} mutants apply")
        return 1 if bad else 0
    if len(argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    src, name = argv[2], argv[3]
    found = [m for m in mutants if m["name"] == name]
    if not found:
        print(f"no mutant named {name}")
        return 1
    m = found[0]
    why = problem(src, m)
    if why:
        print(f"{name}: {why}")
        return 1
    path = os.path.join(src, m["file"])
    with open(path, encoding="utf-8") as f:
        text = f.read()
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace(m["original"], m["replacement"], 1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
