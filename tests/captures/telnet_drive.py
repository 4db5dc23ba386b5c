#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# telnet_drive.py: runs the real /usr/bin/telnet on a pty and types into it like a student (line mode or "mode character").
"""Drive the system telnet client through a pseudo-terminal.  Stdlib only.

  telnet_drive.py line HOST PORT   # default mode: type whole lines
  telnet_drive.py char HOST PORT   # Ctrl-] "mode character", then key by key

Everything telnet prints is copied to stderr (as Python byte reprs) so a
recording log shows what the student would have seen.
"""

import os
import pty
import select
import signal
import sys
import time

TELNET = "/usr/bin/telnet"
KEY_DELAY = 0.15      # pause after each key in character mode (s)


def log(msg):
    print(f"telnet_drive: {msg}", file=sys.stderr, flush=True)


class Pty:
    def __init__(self, argv):
        env = dict(os.environ, TERM="dumb", LANG="C", LC_ALL="C")
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(argv[0], argv, env)
        self.out = b""
        self.seen = 0
        self.exit_status = None

    def _pump(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return True
        try:
            data = os.read(self.fd, 4096)
        except OSError:          # EIO: child closed the pty
            data = b""
        if not data:
            return False
        log(f"screen {data!r}")
        self.out += data
        return True

    def expect(self, needle: bytes, timeout=5.0):
        """Wait until needle appears in output printed since the last expect."""
        deadline = time.monotonic() + timeout
        while True:
            i = self.out.find(needle, self.seen)
            if i >= 0:
                self.seen = i + len(needle)
                return
            left = deadline - time.monotonic()
            if left <= 0 or not self._pump(left):
                raise RuntimeError(f"telnet never printed {needle!r}; got {self.out[self.seen:]!r}")

    def drain(self, seconds):
        """Collect output for a while (no expectation)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if not self._pump(left):
                break

    def keys(self, data: bytes, delay=0.0):
        log(f"keys {data!r}")
        if delay:
            for i in range(len(data)):
                os.write(self.fd, data[i:i + 1])
                self.drain(delay)
        else:
            os.write(self.fd, data)

    def wait_exit(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.exit_status = status
                self.drain(0.05)
                log(f"telnet exited, status {status}")
                return
            self._pump(0.1)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        raise RuntimeError("telnet did not exit")


def line_mode(host, port):
    t = Pty([TELNET, host, str(port)])
    t.expect(b"220 ")
    t.expect(b"\n")
    time.sleep(0.5)
    t.keys(b"helo lab.example\r")
    t.expect(b"250 ")
    time.sleep(0.5)
    t.keys(b"quit\r")
    t.expect(b"221 ")
    t.wait_exit()


def char_mode(host, port):
    t = Pty([TELNET, host, str(port)])
    t.expect(b"220 ")
    t.expect(b"\n")
    time.sleep(0.5)
    t.keys(b"\x1d")                      # Ctrl-]
    t.expect(b"telnet> ")
    t.keys(b"mode character\r", delay=0.05)
    t.drain(1.0)
    t.keys(b"helo lab.example\r", delay=KEY_DELAY)
    t.drain(2.0)
    t.keys(b"quit\r", delay=KEY_DELAY)
    t.drain(2.0)
    t.keys(b"\x1d")
    t.expect(b"telnet> ")
    t.keys(b"close\r")
    t.drain(1.0)
    if t.out.rfind(b"telnet> ") > t.seen:
        t.keys(b"quit\r")
    t.wait_exit()


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("line", "char"):
        sys.exit(__doc__)
    {"line": line_mode, "char": char_mode}[sys.argv[1]](sys.argv[2], int(sys.argv[3]))


if __name__ == "__main__":
    main()
