#!/usr/bin/env python3
"""The sharkd prototype of grade-bench.sh: -j workers, each one long-lived
`sharkd -` that loads capture after capture and, per capture, asks for
what sharkd 4.0 can give of what smtplab-grade reads: the grader's
per-frame fields (dissect.FIELDS) as custom columns of a "frames" request,
and the expert items (the plugin's stage markers and diagnoses) from the
"expert" tap. sharkd has no way to run the plugin's -z smtplab,report
(a tshark command-line tap), so this is a lower bound of a sharkd grader's
work: the report would still have to be rebuilt from the fields.
sharkd 4.0 keeps about 11.5 MB more after every "load", with or without
the plugin (see README.md), so each worker starts a new sharkd after
--recycle loads (default 20). Prints "files frames errors" at the end.

Usage: sharkd-grade-proto.py [-j N] [--recycle R] LIST_FILE SHARKD_CMD...
SPDX-License-Identifier: GPL-2.0-or-later
"""
import json
import os
import queue
import subprocess
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'plugin', 'grade'))
from smtplab_grade.dissect import FIELDS  # noqa: E402

COLUMNS = {'column%d' % i: f + ':0' for i, f in enumerate(FIELDS)}


def start(cmd):
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def worker(cmd, recycle, files, totals, lock):
    p = start(cmd)
    rid, frames, errors, loads = 0, 0, 0, 0

    def call(method, params):
        nonlocal rid
        rid += 1
        p.stdin.write((json.dumps({'jsonrpc': '2.0', 'id': rid, 'method': method, 'params': params}) + '\n').encode())
        p.stdin.flush()
        return json.loads(p.stdout.readline())

    while True:
        try:
            path = files.get_nowait()
        except queue.Empty:
            break
        if loads == recycle:
            p.stdin.close()
            p.wait()
            p, loads = start(cmd), 0
        loads += 1
        if 'error' in call('load', {'file': path}):
            errors += 1
            continue
        rows = call('frames', COLUMNS).get('result', [])
        expert = call('tap', {'tap0': 'expert'}).get('result', {})
        frames += len(rows)
        if not expert.get('taps'):
            errors += 1
    p.stdin.close()
    p.wait()
    with lock:
        totals[0] += frames
        totals[1] += errors


def main():
    args = sys.argv[1:]
    jobs, recycle = 1, 20
    while args[0] in ('-j', '--recycle'):
        if args[0] == '-j':
            jobs = int(args[1])
        else:
            recycle = int(args[1])
        args = args[2:]
    paths = [l.split('\t')[0] for l in open(args[0], encoding='utf-8').read().splitlines() if l]
    files = queue.Queue()
    for path in paths:
        files.put(path)
    totals, lock = [0, 0], threading.Lock()
    threads = [threading.Thread(target=worker, args=(args[1:], recycle, files, totals, lock)) for _ in range(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(len(paths), totals[0], totals[1])
    return 1 if totals[1] else 0


if __name__ == '__main__':
    sys.exit(main())
