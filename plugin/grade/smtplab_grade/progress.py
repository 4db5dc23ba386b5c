"""A one-line progress bar on a terminal (files done, rate, time left);
nothing when stderr is not a terminal.

SPDX-License-Identifier: GPL-2.0-or-later
"""
import sys
import time


class Progress:
    def __init__(self, total, enabled=None):
        self.total = total
        self.done = 0
        self.start = time.monotonic()
        self.enabled = sys.stderr.isatty() if enabled is None else enabled

    def step(self):
        self.done += 1
        if not self.enabled:
            return
        el = time.monotonic() - self.start
        rate = self.done / el if el > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else 0
        width = 30
        fill = int(width * self.done / self.total) if self.total else width
        sys.stderr.write('\r[%s%s] %d/%d files, %.1f/s, %d:%02d left ' % (
            '#' * fill, '.' * (width - fill), self.done, self.total, rate, int(left) // 60, int(left) % 60))
        sys.stderr.flush()

    def close(self):
        if self.enabled:
            sys.stderr.write('\n')
            sys.stderr.flush()
