#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Reads valgrind memcheck's XML output (--xml=yes) and reports the errors
that concern the plugin: every error, uninitialised-value use and
definitely-lost leak whose stack has a frame in smtplab.so.  Errors and
leaks of Wireshark and GLib alone (tshark leaks at exit) are only counted.
Stdlib only.

  plugin-errors.py VALGRIND.xml [MODULE]      (MODULE: smtplab.so)

Exits 1 when the plugin has any, 2 when the file is not a complete valgrind
report (valgrind did not finish), else 0.
"""

import sys
import xml.etree.ElementTree as ET


def frame_text(fr):
    fn = fr.findtext("fn") or "?"
    where = fr.findtext("file")
    if where:
        where = f"{where}:{fr.findtext('line')}"
    else:
        where = fr.findtext("obj") or "?"
    return f"{fn} ({where})"


def main(argv):
    path = argv[1]
    module = argv[2] if len(argv) > 2 else "smtplab.so"
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        print(f"{path}: not a complete valgrind XML report: {e}")
        return 2
    if root.find("status[state='FINISHED']") is None and not any(
            s.findtext("state") == "FINISHED" for s in root.iter("status")):
        print(f"{path}: valgrind did not finish")
        return 2
    ours, others = [], 0
    for err in root.iter("error"):
        kind = err.findtext("kind") or "?"
        if kind.startswith("Leak_") and kind != "Leak_DefinitelyLost":
            continue
        stack = err.find("stack")
        frames = stack.findall("frame") if stack is not None else []
        if any((fr.findtext("obj") or "").endswith("/" + module) for fr in frames):
            what = err.findtext("what") or err.findtext("xwhat/text") or kind
            ours.append((kind, what, frames))
        else:
            others += 1
    for kind, what, frames in ours:
        print(f"{kind}: {what}")
        for fr in frames[:15]:
            print(f"    {frame_text(fr)}")
    print(f"{len(ours)} error(s) in {module}, {others} error(s) or definite leak(s) of Wireshark/GLib alone (ignored)")
    return 1 if ours else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
