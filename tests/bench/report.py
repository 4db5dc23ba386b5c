#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# report.py: prints the benchmark table from a run-bench.sh results folder.
"""Summarize run-bench.sh results.  Stdlib only.

  report.py RESULTS_DIR [--markdown]

Reads RESULTS_DIR/results.tsv and env.tsv.  For every size, mode and
variant: median wall time, median CPU time (user+sys of each run), median
peak RSS, the wall-time spread (max-min over median) and the time per
frame; then the ratios plugin/noplugin, and for the summary mode the
ratios of the disabled variants.  Per-frame times are wall time minus the
median start-up time of the same variant (tshark on an empty capture),
divided by the frame count.  "busy" is the largest share of one core that
other processes used during any run of that row (from /proc/stat): above
a few per cent, that row's times are disturbed.
"""

import json
import os
import statistics
import sys
from collections import defaultdict

MODES = {
    "summary": "tshark -r X > /dev/null (summary lines, no tree)",
    "fields": "tshark -r X -T fields -e smtp.req.command [-e smtplab.stage -e keystroke.line]",
    "filter": "tshark -r X -Y 'smtp.req.command == \"helo\"' | -Y 'smtplab.stage == \"helo\"'",
    "tree2": "tshark -2 -r X -V > /dev/null (full tree, two passes)",
}
VARIANTS = {
    "noplugin": "built-in SMTP, no plugin",
    "plugin": "smtplab.so loaded",
    "nosmtp": "no plugin, --disable-protocol smtp (the payload then goes through TCP's heuristic dissectors)",
    "data": "no plugin, -d tcp.port==25,data -d tcp.port==587,data (floor: no SMTP work at all)",
    "plugin-off": "smtplab.so loaded, keystroke and smtplab disabled",
}
ORDER = ["noplugin", "plugin", "nosmtp", "data", "plugin-off"]


def main():
    res = sys.argv[1]
    md = "--markdown" in sys.argv
    env = []
    frames = {0: 0}
    captures = {}
    lines = []
    with open(os.path.join(res, "env.tsv")) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts[0] == "capture":
                try:
                    info = json.loads(parts[2])
                except ValueError:
                    continue
                frames[int(parts[1])] = info["frames"]
                captures[int(parts[1])] = info
            elif parts[0] == "lines":
                lines.append(parts[1:])
            else:
                env.append(parts)
    runs = defaultdict(list)
    with open(os.path.join(res, "results.tsv")) as f:
        next(f)
        for line in f:
            cols = line.rstrip("\n").split("\t")
            size, mode, var, run, wall, user, sys_, rss, rc = cols[:9]
            other = float(cols[9]) if len(cols) > 9 else 0.0
            runs[(int(size), mode, var)].append((float(wall), float(user) + float(sys_), int(rss),
                                                 other / float(wall)))

    def med(key, i):
        return statistics.median(r[i] for r in runs[key])

    startup = {v: (med((0, "startup", v), 0), med((0, "startup", v), 1))
               for v in ORDER if (0, "startup", v) in runs}

    def per_frame_us(size, mode, var, i=0):
        """Wall (i=0) or CPU (i=1) time per frame, start-up subtracted."""
        base = startup.get(var, startup.get("noplugin", (0.0, 0.0)))[i]
        return (med((size, mode, var), i) - base) / frames[size] * 1e6

    out = []
    p = out.append
    for k, v in env:
        p(f"{k}: {v}")
    p("")
    p("Captures (frames; sessions typed / client-program / non-SMTP; frames on ports 25/587):")
    for n in sorted(captures):
        c = captures[n]
        if n:
            p(f"  {n:>8}: {c['frames']} frames; {c['typed_sessions']} / {c['client_sessions']} / "
              f"{c['other_sessions']} sessions; {c['smtp_port_frames']} frames on 25/587 "
              f"({100 * c['smtp_port_frames'] / c['frames']:.1f} %)")
    p("")
    p("Modes:")
    for m, d in MODES.items():
        p(f"  {m:8} {d}")
    p("Variants:")
    for v, d in VARIANTS.items():
        p(f"  {v:10} {d}")
    if startup:
        p("Start-up (empty capture), median wall / CPU: " +
          ", ".join(f"{v} {w:.3f} / {c:.3f} s" for v, (w, c) in startup.items()))
    p("")

    sizes = sorted({k[0] for k in runs if k[0]})
    p("Ratios plugin / no plugin of the medians: wall (CPU user+sys) [peak RSS]")
    p("  " + "mode".ljust(9) + "".join(f"{frames[s]:>26}" for s in sizes))
    for mode in MODES:
        cells = []
        for s in sizes:
            a, b = (s, mode, "plugin"), (s, mode, "noplugin")
            if a in runs and b in runs:
                cells.append(f"{med(a, 0) / med(b, 0):.3f} ({med(a, 1) / med(b, 1):.3f}) "
                             f"[{med(a, 2) / med(b, 2):.3f}]")
            else:
                cells.append("-")
        p("  " + mode.ljust(9) + "".join(f"{c:>26}" for c in cells))
    p("")
    sep = "|" if md else " "
    hdr = ["size", "mode", "variant", "wall s", "spread", "cpu s", "rss MB", "us/frame", "busy"]
    widths = [8, 7, 26, 8, 7, 8, 7, 9, 5]

    def row(cells):
        if md:
            return "| " + " | ".join(str(c) for c in cells) + " |"
        return " ".join(str(c).rjust(w) if i >= 3 else str(c).ljust(w)
                        for i, (c, w) in enumerate(zip(cells, widths)))

    p(row(hdr))
    if md:
        p("|" + "|".join("---" for _ in hdr) + "|")
    for size in sizes:
        for mode in MODES:
            present = [v for v in ORDER if (size, mode, v) in runs]
            if not present:
                continue
            for v in present:
                key = (size, mode, v)
                walls = [r[0] for r in runs[key]]
                w = med(key, 0)
                p(row([frames[size], mode, v, f"{w:.3f}",
                       f"{100 * (max(walls) - min(walls)) / w:.0f}%", f"{med(key, 1):.3f}",
                       f"{med(key, 2) / 1024:.0f}", f"{per_frame_us(size, mode, v):.2f}",
                       f"{100 * max(r[3] for r in runs[key]):.0f}%"]))
            pairs = [("plugin", "noplugin"), ("plugin-off", "noplugin"),
                     ("nosmtp", "noplugin"), ("data", "noplugin")]
            for a, b in pairs:
                if (size, mode, a) in runs and (size, mode, b) in runs:
                    ka, kb = (size, mode, a), (size, mode, b)
                    p(row([frames[size], mode, f"ratio {a}/{b}", f"{med(ka, 0) / med(kb, 0):.3f}", "",
                           f"{med(ka, 1) / med(kb, 1):.3f}", f"{med(ka, 2) / med(kb, 2):.3f}",
                           f"{per_frame_us(size, mode, a) / per_frame_us(size, mode, b):.3f}", ""]))
    p("")
    if len(sizes) > 1:
        lo, hi = sizes[0], sizes[-1]
        pairs = [(hi, lo)] + ([(hi, sizes[-2])] if len(sizes) > 2 else [])
        p("Per-frame time in us, wall / CPU, start-up subtracted; ratios of the per-frame times: " +
          ", ".join(f"{frames[a]} vs {frames[b]} frames" for a, b in pairs))
        hdr2 = ["mode", "variant"] + [str(frames[s]) for s in sizes] + [f"ratio {a // 1000}k/{b // 1000}k" for a, b in pairs]
        if md:
            p("| " + " | ".join(hdr2) + " |")
            p("|" + "|".join("---" for _ in hdr2) + "|")
        else:
            p(hdr2[0].ljust(8) + hdr2[1].ljust(11) + "".join(" " + h.rjust(16) for h in hdr2[2:]))
        for mode in MODES:
            for v in ORDER:
                have = [s for s in sizes if (s, mode, v) in runs]
                if not have:
                    continue
                cells = [f"{per_frame_us(s, mode, v):.2f} / {per_frame_us(s, mode, v, 1):.2f}"
                         if s in have else "-" for s in sizes]
                for a, b in pairs:
                    if a in have and b in have:
                        cells.append(" / ".join(
                            f"{per_frame_us(a, mode, v, i) / per_frame_us(b, mode, v, i):.2f}"
                            if per_frame_us(b, mode, v, i) > 0 else "-" for i in (0, 1)))
                    else:
                        cells.append("-")
                if md:
                    p("| " + " | ".join([mode, v] + cells) + " |")
                else:
                    p(mode.ljust(8) + v.ljust(11) + "".join(" " + c.rjust(16) for c in cells))
        p("")
    if lines:
        p("Output lines on the smallest capture (untimed check):")
        for size, mode, v, n in lines:
            p(f"  {size} frames, {mode}, {v}: {n} lines")
    print("\n".join(out))


if __name__ == "__main__":
    main()
