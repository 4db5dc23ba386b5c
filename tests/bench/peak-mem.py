#!/usr/bin/env python3
"""Runs a command and prints its wall time (s) and the peak, over the run,
of the summed resident memory (KiB) of the command and all its descendants,
sampled from /proc every 50 ms (short-lived children are seen if they live
at least one tick; tshark lives about 0.4 s). Exits with the command's status.

Usage: peak-mem.py OUT_FILE -- CMD...     (OUT_FILE gets "wall_s<TAB>peak_kib")
SPDX-License-Identifier: GPL-2.0-or-later
"""
import os
import subprocess
import sys
import time

PAGE_KIB = os.sysconf('SC_PAGE_SIZE') // 1024


def tree_rss(root):
    children, rss = {}, {}
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % d) as f:
                st = f.read()
            with open('/proc/%s/statm' % d) as f:
                pages = int(f.read().split()[1])
        except OSError:
            continue
        ppid = int(st[st.rindex(')') + 2:].split()[1])
        children.setdefault(ppid, []).append(int(d))
        rss[int(d)] = pages * PAGE_KIB
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def main():
    out, cmd = sys.argv[1], sys.argv[sys.argv.index('--') + 1:]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd)
    peak = 0
    while p.poll() is None:
        peak = max(peak, tree_rss(p.pid))
        time.sleep(0.05)
    wall = time.monotonic() - t0
    with open(out, 'w') as f:
        f.write('%.3f\t%d\n' % (wall, peak))
    return p.returncode


if __name__ == '__main__':
    sys.exit(main())
