#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# massif-report.py: the heap at its peak, from massif.sh's output.
"""Summarize massif.sh's output.  Stdlib only.

  massif-report.py RESULT_DIR FRAMES

Prints the peak heap with and without the plugin, and the bytes live at
the plugin run's peak by the plugin's function and source line that
asked for them (the innermost stack frame in the plugin's sources).
Bytes allocated by Wireshark code that the plugin called (the built-in
SMTP dissector, conversations) are counted apart: Wireshark allocates
them without the plugin too, called by TCP.
"""

import re
import sys

OURS = re.compile(r": (\S+) \(((?:packet-keystroke|packet-smtplab|stage_machine|line_assembly|escape|"
                  r"frame_table|telnet_iac|smtp_parse|tcp_locate|tap-smtplab-\w+)\.[ch]:\d+)\)")
NODE = re.compile(r"^(\s*)n(\d+): (\d+) (.*)$")


def peak(path):
    """(peak heap bytes, {site: bytes}) of a massif output file."""
    lines = open(path).read().split("\n")
    start, best = None, None
    for i, line in enumerate(lines):
        if line.startswith("snapshot="):
            start = i
        elif line == "heap_tree=peak":
            best = start
    if best is None:
        raise SystemExit(f"{path}: no peak snapshot")
    i = best
    heap = 0
    while not lines[i].startswith("n"):
        if lines[i].startswith("mem_heap_B="):
            heap = int(lines[i].split("=")[1])
        i += 1
    sites, path_ = {}, []
    while i < len(lines):
        m = NODE.match(lines[i])
        if not m:
            break
        depth, children, size, desc = len(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4)
        path_ = path_[:depth] + [desc]
        if children == 0:
            site, in_ws, via = "Wireshark", False, None
            for frame in path_[1:]:  # from malloc's caller outwards
                mm = OURS.search(frame)
                if mm and "frame_table.h" in mm.group(2) and not in_ws:
                    via = via or mm.group(1)  # an inline helper: name its caller
                    continue
                if mm or "smtplab.so" in frame:
                    if in_ws:
                        site = "Wireshark, called by the plugin"
                    else:
                        site = f"{mm.group(1)} {mm.group(2)}" if mm else "smtplab.so (no line)"
                        site += f" via {via}" if via else ""
                    break
                in_ws = in_ws or "libwireshark.so" in frame
            sites[site] = sites.get(site, 0) + size
        i += 1
    return heap, sites


def main():
    res, frames = sys.argv[1], int(sys.argv[2])
    h0, _ = peak(f"{res}/without.out")
    h1, sites = peak(f"{res}/with.out")
    ours = sum(v for k, v in sites.items() if not k.startswith("Wireshark"))
    print(f"Capture: {frames} frames.  Heap at the peak (massif, wmem 'simple' allocator: bytes asked for).")
    print(f"without the plugin {h0:,} B, with it {h1:,} B: {h1 - h0:+,} B ({(h1 - h0) / frames:,.0f} B a frame)")
    print(f"allocated in the plugin's own code at the peak: {ours:,} B ({ours / frames:,.0f} B a frame)")
    called = sites.get("Wireshark, called by the plugin", 0)
    print(f"allocated by Wireshark code the plugin called (SMTP, conversations): {called:,} B\n")
    print(f"  {'bytes':>11} {'of own':>7}  site")
    for site, b in sorted(sites.items(), key=lambda kv: -kv[1]):
        if site.startswith("Wireshark") or b < ours * 0.005:
            continue
        print(f"  {b:11,} {100.0 * b / ours:6.1f}%  {site}")


if __name__ == "__main__":
    main()
