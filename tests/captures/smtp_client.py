#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# smtp_client.py: scripted SMTP clients (one-byte-per-segment "typist", pipelining, refused/unanswered connects) for the smtplab captures.
"""Scripted SMTP clients used by record.sh.  Standard library only.

  smtp_client.py SCENARIO [--host H] [--port P] [--timeout S]

Scenarios (see README.md for the exact bytes each one sends):
  typed-lab, typed-backspace, typed-errors, no-quit, typed-bare-lf-cr, starttls,
  pipelining, refused, syn-unanswered

"Typing" means one byte per send() on a TCP_NODELAY socket with a pause of
TYPE_DELAY seconds after every byte, so that on loopback each byte travels
in its own TCP segment.  The client checks every reply code it gets and
exits non-zero if the server does not behave as expected.
"""

import argparse
import re
import socket
import ssl
import sys
import time

TYPE_DELAY = 0.04      # pause after each typed byte (s)
THINK_DELAY = 0.2      # pause between reading a reply and typing the next line
REPLY_TIMEOUT = 5.0

_final_line = re.compile(rb"(?:^|\r\n)(\d{3}) [^\r\n]*\r\n$")


def log(msg):
    print(f"smtp_client: {msg}", file=sys.stderr, flush=True)


class Session:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.tls = False

    # --- sending ---------------------------------------------------------
    def type(self, data: bytes, delay: float = TYPE_DELAY):
        """Send data one byte per segment."""
        log(f"type {data!r}")
        for i in range(len(data)):
            self.sock.sendall(data[i:i + 1])
            time.sleep(delay)

    def send(self, data: bytes):
        """Send data in one send() call (one segment on loopback)."""
        log(f"send {data!r}")
        self.sock.sendall(data)

    # --- receiving -------------------------------------------------------
    def reply(self, expect=None, timeout=REPLY_TIMEOUT) -> bytes:
        """Read one complete (possibly multi-line) SMTP reply."""
        deadline = time.monotonic() + timeout
        while True:
            m = self._complete_reply()
            if m is not None:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no complete reply, have {self.buf!r}")
            self.sock.settimeout(left)
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError(f"EOF while waiting for reply, have {self.buf!r}")
            self.buf += chunk
        rep, self.buf = self.buf[:m], self.buf[m:]
        log(f"reply {rep!r}")
        code = int(rep[:3])
        if expect is not None and code not in (
                expect if isinstance(expect, (tuple, list)) else (expect,)):
            raise RuntimeError(f"expected {expect}, got {rep!r}")
        time.sleep(THINK_DELAY)
        return rep

    def _complete_reply(self):
        """Return the length of the first complete reply in buf, or None."""
        pos = 0
        while True:
            nl = self.buf.find(b"\r\n", pos)
            if nl < 0:
                return None
            line = self.buf[pos:nl]
            if len(line) >= 4 and line[3:4] == b" ":
                return nl + 2
            if len(line) == 3:
                return nl + 2
            pos = nl + 2

    def wait_eof(self, timeout=REPLY_TIMEOUT):
        """Read until the server closes (so our close never resets)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("server did not close the connection")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(4096)
            except ssl.SSLZeroReturnError:
                chunk = b""
            if not chunk and self.tls:
                # TLS close_notify from the server: answer it with ours
                # (unwrap), then wait for the TCP FIN on the plain socket.
                log("TLS close_notify received, sending ours")
                self.sock = self.sock.unwrap()
                self.tls = False
                continue
            if not chunk:
                log("server closed")
                return
            raise RuntimeError(f"unexpected data before EOF: {chunk!r}")

    def close(self):
        self.sock.close()
        log("closed")


def connect(host, port, timeout=REPLY_TIMEOUT) -> Session:
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(timeout)
    s.connect((host, port))
    log(f"connected {s.getsockname()} -> {s.getpeername()}")
    return Session(s)


# --- scenarios -----------------------------------------------------------

def sc_typed_lab(a):
    c = connect(a.host, a.port)
    c.reply(220)
    c.type(b"helo lab.example\r\n")
    c.reply(250)
    c.type(b"quit\r\n")
    c.reply(221)
    c.wait_eof()
    c.close()


def sc_typed_backspace(a):
    c = connect(a.host, a.port)
    c.reply(220)
    c.type(b"hekk\x08\x08lo lab.example\r\n")
    c.reply(500)
    c.type(b"helo lab.example\r\n")
    c.reply(250)
    c.type(b"quix\x7ft\r\n")
    r = c.reply((221, 500, 502))
    if not r.startswith(b"221"):
        c.type(b"quit\r\n")
        c.reply(221)
    c.wait_eof()
    c.close()


def sc_typed_errors(a):
    c = connect(a.host, a.port)
    c.reply(220)
    c.type(b"helo\r\n")
    c.reply(501)
    c.type(b"helo lab.example\r\n")
    c.reply(250)
    c.type(b"rcpt to:<teacher@lab.example>\r\n")
    c.reply(503)
    c.type(b"quit\r\n")
    c.reply(221)
    c.wait_eof()
    c.close()


def sc_no_quit(a):
    c = connect(a.host, a.port)
    c.reply(220)
    c.type(b"helo lab.example\r\n")
    c.reply(250)
    log("shutdown(SHUT_WR) without QUIT")
    c.sock.shutdown(socket.SHUT_WR)
    c.wait_eof()
    c.close()


def sc_typed_bare_lf_cr(a):
    c = connect(a.host, a.port)
    c.reply(220)
    c.type(b"helo lab.example\n")        # bare LF line end
    c.reply(250)
    c.type(b"noop\r")                    # CR ends this burst ...
    time.sleep(0.5)
    c.type(b"\n")                        # ... its LF follows 0.5 s later
    c.reply(250)
    c.type(b"quit\r\n")
    c.reply(221)
    c.wait_eof()
    c.close()


def sc_starttls(a):
    c = connect(a.host, a.port)
    c.reply(220)
    c.type(b"ehlo lab.example\r\n")
    c.reply(250)
    c.type(b"mail from:<student@lab.example>\r\n")
    c.reply(530)
    c.type(b"starttls\r\n")
    c.reply(220)
    if c.buf:
        raise RuntimeError(f"plaintext left over after STARTTLS: {c.buf!r}")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    c.sock.settimeout(REPLY_TIMEOUT)
    c.sock = ctx.wrap_socket(c.sock, server_hostname="lab.example")
    c.tls = True
    log(f"TLS up: {c.sock.version()} {c.sock.cipher()[0]}")
    c.send(b"ehlo lab.example\r\n")
    c.reply(250)
    c.send(b"quit\r\n")
    c.reply(221)
    c.wait_eof()
    c.close()


def sc_pipelining(a):
    c = connect(a.host, a.port)
    c.reply(220)
    c.send(b"EHLO lab.example\r\n")
    c.reply(250)
    c.send(b"MAIL FROM:<a@lab.example>\r\nRCPT TO:<b@lab.example>\r\nDATA\r\n")
    c.reply(250)
    c.reply(250)
    c.reply(354)
    c.send(b"Subject: smtplab pipelining\r\n\r\nHello from the pipelining client.\r\n")
    time.sleep(THINK_DELAY)
    c.send(b".\r\n")
    c.reply(250)
    c.send(b"QUIT\r\n")
    c.reply(221)
    c.wait_eof()
    c.close()


def sc_refused(a):
    try:
        connect(a.host, a.port)
    except ConnectionRefusedError:
        log("connection refused, as expected")
        return
    raise RuntimeError("connect succeeded, but nothing should be listening")


def sc_syn_unanswered(a):
    try:
        connect(a.host, a.port, timeout=a.timeout)
    except (socket.timeout, TimeoutError):
        log(f"connect timed out after {a.timeout} s, as expected")
        return
    raise RuntimeError("connect did not time out")


SCENARIOS = {
    "typed-lab": sc_typed_lab,
    "typed-backspace": sc_typed_backspace,
    "typed-errors": sc_typed_errors,
    "no-quit": sc_no_quit,
    "typed-bare-lf-cr": sc_typed_bare_lf_cr,
    "starttls": sc_starttls,
    "pipelining": sc_pipelining,
    "refused": sc_refused,
    "syn-unanswered": sc_syn_unanswered,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", choices=sorted(SCENARIOS))
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=25)
    ap.add_argument("--timeout", type=float, default=3.5,
                    help="connect timeout for syn-unanswered (s)")
    a = ap.parse_args()
    SCENARIOS[a.scenario](a)


if __name__ == "__main__":
    main()
