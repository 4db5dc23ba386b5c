#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# truth_client.py: the scripted clients of record-truth.sh (issue 14): captures begun after the greeting, a pipelined ".\r\nQUIT\r\n", a malformed BDAT.
"""Scripted SMTP clients for record-truth.sh, against postfix.  Stdlib only.

  truth_client.py SCENARIO [--host H] [--port P] [--banner-file F --go-file G]

Scenarios:
  after-greeting           connect and read the 220; then (see below) EHLO,
                           MAIL, RCPT, DATA, a short message, ".", QUIT,
                           each sent in one send() once the previous reply came
  after-greeting-starttls  connect and read the 220; then EHLO, STARTTLS (220),
                           a TLS handshake (python ssl, no certificate check),
                           EHLO and QUIT inside TLS; after the server's
                           close_notify, the client closes without its own
  pipelined-quit           EHLO, MAIL, RCPT, DATA, the message in one send(),
                           then ".\\r\\nQUIT\\r\\n" in ONE send()
  bdat-bad-syntax          EHLO, MAIL, RCPT, then in one send()
                           "BDAT 1234 SCRAMBLE\\r\\n", a few chunk bytes and
                           "QUIT\\r\\n"; reads whatever comes until the server
                           closes

--banner-file/--go-file (the after-greeting scenarios): once the banner has
been read, the client writes BANNER into the banner file and waits until the
go file exists, so that the recording script can start dumpcap after the
greeting.  Each reply code is checked; the client exits non-zero when the
server does not behave as expected.
"""

import argparse
import os
import ssl
import sys
import time

from smtp_client import REPLY_TIMEOUT, THINK_DELAY, connect, log


def greeted(c, a):
    """Read the 220, then tell the recorder and wait for its go."""
    c.reply(220)
    if a.banner_file:
        with open(a.banner_file, "w") as f:
            f.write("BANNER\n")
        deadline = time.monotonic() + 20
        while not os.path.exists(a.go_file):
            if time.monotonic() > deadline:
                raise TimeoutError("no go from the recorder")
            time.sleep(0.05)
        log("go")
        time.sleep(THINK_DELAY)


def transaction(c, subject):
    c.send(b"MAIL FROM:<student@lab.example>\r\n")
    c.reply(250)
    c.send(b"RCPT TO:<teacher@lab.example>\r\n")
    c.reply(250)
    c.send(b"DATA\r\n")
    c.reply(354)
    c.send(b"Subject: " + subject + b"\r\n\r\nHello from the smtplab truth client.\r\n")
    time.sleep(THINK_DELAY)


def sc_after_greeting(a):
    c = connect(a.host, a.port)
    greeted(c, a)
    c.send(b"EHLO lab.example\r\n")
    c.reply(250)
    transaction(c, b"after the greeting")
    c.send(b".\r\n")
    c.reply(250)
    c.send(b"QUIT\r\n")
    c.reply(221)
    c.wait_eof()
    c.close()


def sc_after_greeting_starttls(a):
    c = connect(a.host, a.port)
    greeted(c, a)
    c.send(b"EHLO lab.example\r\n")
    if b"STARTTLS" not in c.reply(250):
        raise RuntimeError("the server offers no STARTTLS")
    c.send(b"STARTTLS\r\n")
    c.reply(220)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    c.sock.settimeout(REPLY_TIMEOUT)
    c.sock = ctx.wrap_socket(c.sock, server_hostname="lab.example")
    c.tls = True
    log(f"TLS up: {c.sock.version()} {c.sock.cipher()[0]}")
    c.send(b"EHLO lab.example\r\n")
    c.reply(250)
    c.send(b"QUIT\r\n")
    c.reply(221)
    # postfix sends its close_notify and closes at once: a close_notify of
    # ours would come after its FIN and draw a RST.  Close without one.
    c.sock.settimeout(REPLY_TIMEOUT)
    try:
        rest = c.sock.recv(4096)
    except ssl.SSLZeroReturnError:
        rest = b""
    if rest:
        raise RuntimeError(f"unexpected data before close_notify: {rest!r}")
    log("TLS close_notify received; closing without ours")
    c.close()


def sc_pipelined_quit(a):
    c = connect(a.host, a.port)
    c.reply(220)
    c.send(b"EHLO lab.example\r\n")
    if b"PIPELINING" not in c.reply(250):
        raise RuntimeError("the server offers no PIPELINING")
    transaction(c, b"pipelined quit")
    c.send(b".\r\nQUIT\r\n")
    c.reply(250)
    c.reply(221)
    c.wait_eof()
    c.close()


def sc_bdat_bad_syntax(a):
    c = connect(a.host, a.port)
    c.reply(220)
    c.send(b"EHLO lab.example\r\n")
    if b"CHUNKING" not in c.reply(250):
        raise RuntimeError("the server offers no CHUNKING")
    c.send(b"MAIL FROM:<student@lab.example>\r\n")
    c.reply(250)
    c.send(b"RCPT TO:<teacher@lab.example>\r\n")
    c.reply(250)
    c.send(b"BDAT 1234 SCRAMBLE\r\nSubject: a chunk\r\n\r\nHello.\r\nQUIT\r\n")
    c.reply(521)
    c.wait_eof()
    c.close()


SCENARIOS = {
    "after-greeting": sc_after_greeting,
    "after-greeting-starttls": sc_after_greeting_starttls,
    "pipelined-quit": sc_pipelined_quit,
    "bdat-bad-syntax": sc_bdat_bad_syntax,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", choices=sorted(SCENARIOS))
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=25)
    ap.add_argument("--banner-file")
    ap.add_argument("--go-file")
    a = ap.parse_args()
    if bool(a.banner_file) != bool(a.go_file):
        sys.exit("--banner-file and --go-file go together")
    SCENARIOS[a.scenario](a)


if __name__ == "__main__":
    main()
