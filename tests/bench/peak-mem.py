#!/usr/bin/env python3
"""Runs a command and prints its wall time (s) and the peak, over the run,
of the summed resident memory (KiB) of the command and all its descendants,
sampled from /proc every 50 ms (short-lived children are seen if they live
at least one tick; tshark lives about 0.4 s), and the CPU time the rest of
the machine used meanwhile (busy time in /proc/stat minus the command's and
this sampler's own), which tells a disturbed run. Exits with the command's
status.

Usage: peak-mem.py OUT_FILE -- CMD...
       (OUT_FILE gets "wall_s<TAB>peak_kib<TAB>other_cpu_s")
SPDX-License-Identifier: GPL-2.0-or-later
"""
import os
import resource
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


def busy_s():
    """Busy CPU time of the whole machine so far, in seconds."""
    with open('/proc/stat') as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / os.sysconf('SC_CLK_TCK')


def main():
    out, cmd = sys.argv[1], sys.argv[sys.argv.index('--') + 1:]
    me0 = resource.getrusage(resource.RUSAGE_SELF)
    b0, t0 = busy_s(), time.monotonic()
    p = subprocess.Popen(cmd)
    peak, status = 0, None
    while status is None:
        peak = max(peak, tree_rss(p.pid))
        time.sleep(0.05)
        pid, st, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            status = os.waitstatus_to_exitcode(st)
    wall, b1 = time.monotonic() - t0, busy_s()
    me1 = resource.getrusage(resource.RUSAGE_SELF)
    own = ru.ru_utime + ru.ru_stime + (me1.ru_utime - me0.ru_utime) + (me1.ru_stime - me0.ru_stime)
    with open(out, 'w') as f:
        f.write('%.3f\t%d\t%.1f\n' % (wall, peak, max(0.0, b1 - b0 - own)))
    return status


if __name__ == '__main__':
    sys.exit(main())
