#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# profile-report.py: summarizes the callgrind profiles profile.sh wrote.
"""Summarize profile.sh's callgrind output.  Stdlib only.

  profile-report.py PROFILE_DIR FRAMES

For the summary (no tree) and fields modes: instructions (Ir) of the
whole run, of the frames alone (the run minus the start-up run on an
empty capture, function by function), per frame, plugin / no plugin;
Ir by shared object; the top functions of the plugin run; the functions
that grew most with the plugin; the smtplab.so functions, self and
inclusive; and the callees of the plugin's two entry points.
libwireshark has no debug symbols on Debian without the -dbgsym
packages, so its static functions show as addresses.
"""

import os
import re
import subprocess
import sys
from collections import defaultdict

LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(\*\s+|>\s+|<\s+)?(.*?)\s*$")
CALLS = re.compile(r"\s*\(([\d,]+)x\)")


def short_obj(obj):
    base = os.path.basename(obj)
    return re.sub(r"\.so[.\d]*$", ".so", base)


def split_fn(text):
    """'file:function (Nx) [object]' -> (function, object)."""
    text = CALLS.sub("", text)
    m = re.match(r"^(.*?)(?: \[(.*)\])?$", text)
    name, obj = m.group(1), m.group(2) or "?"
    fn = name.rsplit(":", 1)[-1] if ":" in name else name
    return fn, short_obj(obj)


def annotate(path, inclusive):
    out = subprocess.run(["callgrind_annotate", "--threshold=100", "--auto=no",
                          "--inclusive=" + ("yes" if inclusive else "no"), path],
                         capture_output=True, text=True, check=True).stdout
    total = 0
    costs = defaultdict(int)
    for line in out.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        ir = int(m.group(1).replace(",", ""))
        if "PROGRAM TOTALS" in line:
            total = ir
            continue
        key = split_fn(m.group(3))
        # One function can be listed under several file names: its self
        # costs add up, its inclusive cost is the largest of them.
        costs[key] = max(costs[key], ir) if inclusive else costs[key] + ir
    # callgrind_annotate leaves out the object of some entries: give them
    # the object the same function name has elsewhere.
    objs = defaultdict(set)
    for fn, obj in costs:
        if obj != "?":
            objs[fn].add(obj)
    for fn, obj in [k for k in costs if k[1] == "?"]:
        if len(objs[fn]) == 1:
            c, k = costs.pop((fn, obj)), (fn, next(iter(objs[fn])))
            costs[k] = max(costs[k], c) if inclusive else costs[k] + c
    return total, costs


def callees(path, fn_name, objmap):
    """(callee, object, Ir, calls) of one function, from --tree=calling."""
    out = subprocess.run(["callgrind_annotate", "--threshold=100", "--auto=no", "--inclusive=yes",
                          "--tree=calling", path], capture_output=True, text=True, check=True).stdout
    best, cur = None, None

    def better(c, b):
        return c is not None and c[1] and (b is None or c[0] > b[0])

    for line in out.splitlines():
        m = LINE.match(line)
        if not line.strip():
            if better(cur, best):
                best = cur
            cur = None
            continue
        if not m:
            continue
        ir = int(m.group(1).replace(",", ""))
        mark = (m.group(2) or "").strip()
        fn, obj = split_fn(m.group(3))
        if mark == "*":
            cur = (ir, []) if fn.split("'")[0] == fn_name else None
        elif mark == ">" and cur is not None:
            c = CALLS.search(m.group(3))
            cur[1].append((fn, obj if obj != "?" else objmap.get(fn, "?"), ir,
                           int(c.group(1).replace(",", "")) if c else 0))
    if better(cur, best):
        best = cur
    return best


def pct(a, b):
    return f"{100.0 * a / b:5.1f}%" if b else "   - "


def main():
    prof, frames = sys.argv[1], int(sys.argv[2])
    run = lambda name: os.path.join(prof, name + ".out")
    start = {v: annotate(run("startup." + v), False) for v in ("noplugin", "plugin")}
    print(f"Capture: {frames} frames.  Ir = instructions executed (callgrind).")
    print(f"Start-up (empty capture): no plugin {start['noplugin'][0]:,} Ir, "
          f"plugin {start['plugin'][0]:,} Ir")
    for mode in ("summary", "fields", "tree2"):
        if not os.path.exists(run(f"{mode}.plugin")):
            continue
        data = {}
        for v in ("noplugin", "plugin"):
            total, self_ = annotate(run(f"{mode}.{v}"), False)
            s_total, s_self = start[v]
            net = {k: c - s_self.get(k, 0) for k, c in self_.items()}
            data[v] = (total, total - s_total, net)
        (t0, n0, f0), (t1, n1, f1) = data["noplugin"], data["plugin"]
        grow = n1 - n0
        print()
        print(f"=== {mode} mode ===")
        print(f"whole run:  no plugin {t0:,} Ir, plugin {t1:,} Ir, ratio {t1 / t0:.3f}")
        print(f"frames only (start-up subtracted): no plugin {n0:,} Ir ({n0 / frames:,.0f}/frame), "
              f"plugin {n1:,} Ir ({n1 / frames:,.0f}/frame), ratio {n1 / n0:.3f}; "
              f"plugin adds {grow:,} Ir ({grow / frames:,.0f}/frame)")

        for v, what in (("nosmtp", "no plugin, SMTP disabled"),
                        ("data", "no plugin, ports 25/587 decoded as data"),
                        ("plugin-off", "plugin loaded, keystroke and smtplab disabled"),
                        ("plugin-same", "plugin loaded, the no-plugin command (no smtplab/keystroke columns)"),
                        ("keystroke-only", "plugin loaded, smtplab disabled (keystroke layer only)")):
            if os.path.exists(run(f"{mode}.{v}")):
                t, _ = annotate(run(f"{mode}.{v}"), False)
                base = start["noplugin" if v in ("nosmtp", "data") else "plugin"][0]
                print(f"{what}: whole run {t:,} Ir ({t / t0:.3f} of no plugin); frames only "
                      f"{t - base:,} Ir ({(t - base) / frames:,.0f}/frame, {(t - base) / n0:.3f} of no plugin)")
        if mode == "tree2":
            continue  # the ratio is what is asked for; the breakdowns are the other modes'
        print("\nIr of the frames by shared object (start-up subtracted):")
        objs = defaultdict(lambda: [0, 0])
        for i, f in enumerate((f0, f1)):
            for (fn, obj), c in f.items():
                objs[obj][i] += c
        print(f"  {'object':28} {'no plugin':>14} {'plugin':>14} {'added':>13} {'of added':>9}")
        for obj, (a, b) in sorted(objs.items(), key=lambda kv: -kv[1][1]):
            if max(abs(a), abs(b)) < n1 * 0.002:
                continue
            print(f"  {obj:28} {a:14,} {b:14,} {b - a:13,} {pct(b - a, grow):>9}")

        _, whole = annotate(run(f"{mode}.plugin"), False)
        print(f"\nTop functions of the whole plugin run, start-up included, self Ir (% of {t1:,}):")
        for (fn, obj), c in sorted(whole.items(), key=lambda kv: -kv[1])[:10]:
            print(f"  {c:13,} {pct(c, t1)}  {fn}  [{obj}]")

        print(f"\nTop functions of the plugin run, self Ir of the frames (% of {n1:,}):")
        for (fn, obj), c in sorted(f1.items(), key=lambda kv: -kv[1])[:20]:
            print(f"  {c:13,} {pct(c, n1)}  {fn}  [{obj}]")

        print(f"\nFunctions that grew most with the plugin, self Ir (% of the {grow:,} added):")
        keys = set(f0) | set(f1)
        diff = sorted(((f1.get(k, 0) - f0.get(k, 0), k) for k in keys), reverse=True)
        for d, (fn, obj) in diff[:20]:
            print(f"  {d:13,} {pct(d, grow)}  {fn}  [{obj}]")
        print("  ... and the ones that shrank (work the built-in SMTP path does and the plugin path does not):")
        for d, (fn, obj) in sorted(diff)[:8]:
            print(f"  {d:13,} {pct(d, grow)}  {fn}  [{obj}]")

        _, incl = annotate(run(f"{mode}.plugin"), True)
        print(f"\nsmtplab.so functions: inclusive Ir (% of plugin frames Ir {n1:,} / % of the added {grow:,}), self Ir")
        own = [(c, fn) for (fn, obj), c in incl.items() if obj == "smtplab.so" and "'" not in fn]
        for c, fn in sorted(own, reverse=True)[:25]:
            s = f1.get((fn, "smtplab.so"), 0)
            print(f"  {c:13,} {pct(c, n1)} {pct(c, grow)}  self {s:12,}  {fn}")

        for entry in ("dissect_smtplab", "smtplab_first_pass", "dissect_keystroke"):
            best = callees(run(f"{mode}.plugin"), entry, {fn: obj for fn, obj in incl if obj != "?"})
            if not best:
                continue
            print(f"\nCallees of {entry} (inclusive {best[0]:,} Ir, {pct(best[0], grow).strip()} of the added):")
            for fn, obj, ir, calls in sorted(best[1], key=lambda r: -r[2])[:12]:
                print(f"  {ir:13,} {pct(ir, grow)}  {fn} [{obj}]  {calls:,} calls, {ir / max(calls, 1):,.0f} Ir/call")


if __name__ == "__main__":
    main()
