#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# client_drive.py: runs real SMTP-by-hand clients (socat, telnet, plink, busybox telnet, nc) on a pty and types into them like a person.
"""Drive a real client through a pseudo-terminal, key by key.  Stdlib only.

  client_drive.py SCENARIO HOST PORT

Scenarios (issue 13: lines as the server reads them):

  socat-raw-bare-cr        socat -,raw,echo=0: "helo lab.exampel", two
                           Backspaces, "le", Enter, Enter, "quit" Enter,
                           Ctrl+C, then the terminal is closed
  socat-raw-ctrl-j         socat -,raw,echo=0: "helo lab.example" Enter, and
                           Ctrl+J 3 s later; the same for "quit"
  telnet-char-toggle-crlf  /usr/bin/telnet: "helo lab.example" (line mode);
                           Ctrl+] "mode character"; "quit" Enter; Ctrl+]
                           "toggle crlf"; "quit" Enter; "quit" Enter
  telnet-send-ayt          /usr/bin/telnet: "helo lab." Ctrl+] "send ayt",
                           "example" Enter, then "quit" Enter
  telnet-send-brk          the same with "send brk"
  plink-telnet             plink -telnet: "helo lab.example" Enter, "quit" Enter
  plink-raw                plink -raw: the same
  busybox-telnet-line      busybox telnet: the same
  busybox-telnet-char-del  busybox telnet, Ctrl+C "c" (character mode):
                           "helo lab.exampel", two DELs, "le" Enter, "quit" Enter
  nc-crlf                  nc -C: "helo lab.example" Enter, "quit" Enter
  nc-bare-lf               nc: the same

Scenarios of record-truth.sh (issue 14), all /usr/bin/telnet in its default
line mode against postfix:

  expn-help                "helo lab.example", "EXPN root", "HELP",
                           "VRFY root", "quit", each after the last reply
  relay-denied             "helo lab.example", "MAIL FROM:<a@lab.example>",
                           "RCPT TO:<b@elsewhere.example>", "quit"
  idle-timeout             "helo lab.example", then nothing: the person waits
                           until the server gives up (its 421) and closes
  one-direction            "helo lab.example", "mail from:", "rcpt to:",
                           "data", a 2-line message, ".", "quit"
  greeting-554             waits for the 554 greeting, then "helo
                           lab.example" and "quit"

Keys are written to the pty one at a time, 100-150 ms apart (a fixed
pseudo-random sequence, so a re-recording types at the same pace).  The
Backspace key of a Linux terminal sends DEL (0x7f), Enter sends CR (0x0d),
Ctrl+J LF (0x0a), Ctrl+C 0x03, Ctrl+] 0x1d.  Whether a key reaches the
network at once, at the end of the line, or changed (CR to LF, CR NUL,
CR LF) is the client's and the terminal line discipline's business, as for
a person.  A client still open a second after the server's 221 (nc,
plink -raw) is left with Ctrl+C.  Everything the client prints is copied to
stderr.
"""

import os
import random
import signal
import sys
import time

from telnet_drive import Pty

ENTER = b"\r"
BACKSPACE = b"\x7f"
CTRL_C = b"\x03"
CTRL_J = b"\n"
CTRL_RBRACKET = b"\x1d"


class Typist:
    """A client on a pty, typed into at a person's pace."""

    def __init__(self, argv, seed):
        self.t = Pty(argv)
        self.rng = random.Random(seed)

    def type(self, keys: bytes):
        """One key at a time, 100-150 ms apart, reading the screen meanwhile."""
        for i in range(len(keys)):
            self.t.keys(keys[i:i + 1])
            self.t.drain(self.rng.uniform(0.10, 0.15))

    def expect(self, needle: bytes, timeout=5.0):
        self.t.expect(needle, timeout)

    def pause(self, seconds):
        self.t.drain(seconds)

    def escape(self, line: bytes):
        """Ctrl+] then a command at telnet's prompt, typed like the rest."""
        self.type(CTRL_RBRACKET)
        self.expect(b"telnet> ")
        self.type(line + ENTER)

    def exited(self):
        pid, status = os.waitpid(self.t.pid, os.WNOHANG)
        if pid:
            self.t.exit_status = status
            log(f"client exited, status {status}")
        return bool(pid)

    def finish(self):
        """After the 221: a client that stays open is left with Ctrl+C."""
        self.pause(1.0)
        if self.exited():
            return
        self.type(CTRL_C)
        self.wait_exit()

    def close_terminal(self):
        """The person closes the terminal window: the pty goes away."""
        log("closing the terminal")
        os.close(self.t.fd)
        self.wait_exit()

    def wait_exit(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.exited():
                return
            time.sleep(0.05)
        os.kill(self.t.pid, signal.SIGKILL)
        os.waitpid(self.t.pid, 0)
        raise RuntimeError("client did not exit")


def log(msg):
    print(f"client_drive: {msg}", file=sys.stderr, flush=True)


def banner(c):
    c.expect(b"220 ")
    c.expect(b"\n")
    c.pause(0.8)


def socat_raw_bare_cr(host, port):
    c = Typist(["/usr/bin/socat", "-,raw,echo=0", f"TCP:{host}:{port}"], 1)
    banner(c)
    c.type(b"helo lab.exampel")
    c.type(BACKSPACE + BACKSPACE)
    c.type(b"le" + ENTER)
    c.pause(1.5)
    c.type(ENTER)
    c.pause(1.5)
    c.type(b"quit" + ENTER)
    c.pause(1.5)
    c.type(CTRL_C)          # raw mode: sent as the byte 0x03, socat goes on
    c.pause(2.0)
    c.close_terminal()


def socat_raw_ctrl_j(host, port):
    c = Typist(["/usr/bin/socat", "-,raw,echo=0", f"TCP:{host}:{port}"], 2)
    banner(c)
    c.type(b"helo lab.example" + ENTER)
    c.pause(3.0)
    c.type(CTRL_J)
    c.expect(b"250 ")
    c.pause(0.8)
    c.type(b"quit" + ENTER)
    c.pause(3.0)
    c.type(CTRL_J)
    c.expect(b"221 ")
    c.finish()


def telnet_char_toggle_crlf(host, port):
    c = Typist(["/usr/bin/telnet", host, str(port)], 3)
    banner(c)
    c.type(b"helo lab.example" + ENTER)
    c.expect(b"250 ")
    c.pause(0.8)
    c.escape(b"mode character")
    c.pause(1.0)
    c.type(b"quit" + ENTER)
    c.pause(2.0)
    c.escape(b"toggle crlf")
    c.pause(1.0)
    c.type(b"quit" + ENTER)
    c.expect(b"500 ")
    c.pause(1.5)
    c.type(b"quit" + ENTER)
    c.expect(b"221 ")
    c.finish()


def telnet_send(what, seed):
    def scenario(host, port):
        c = Typist(["/usr/bin/telnet", host, str(port)], seed)
        banner(c)
        c.type(b"helo lab.")
        c.escape(b"send " + what)
        c.pause(0.8)
        c.type(b"example" + ENTER)
        c.expect(b"500 ")
        c.pause(1.5)
        c.type(b"quit" + ENTER)
        c.expect(b"221 ")
        c.finish()
    return scenario


def helo_quit(argv, seed):
    """HELO and QUIT, each line typed and ended with Enter."""
    def scenario(host, port):
        c = Typist(argv(host, port), seed)
        banner(c)
        c.type(b"helo lab.example" + ENTER)
        c.expect(b"\n")
        c.pause(0.8)
        c.type(b"quit" + ENTER)
        c.expect(b"221 ")
        c.finish()
    return scenario


def busybox_telnet_char_del(host, port):
    c = Typist(["/usr/bin/busybox", "telnet", host, str(port)], 11)
    banner(c)
    # In line mode busybox's escape is Ctrl+C (its SIGINT), not Ctrl+].
    c.type(CTRL_C)
    c.expect(b"character mode")
    c.type(b"c")
    c.pause(1.0)
    c.type(b"helo lab.exampel")
    c.type(BACKSPACE + BACKSPACE)
    c.type(b"le" + ENTER)
    c.expect(b"500 ")
    c.pause(1.5)
    c.type(b"quit" + ENTER)
    c.expect(b"221 ")
    c.finish()


def telnet_lines(seed, steps, greeting=b"220 "):
    """/usr/bin/telnet in line mode: each line typed after the reply to the
    one before it; steps are (line, what the reply starts with)."""
    def scenario(host, port):
        c = Typist(["/usr/bin/telnet", host, str(port)], seed)
        c.expect(greeting)
        c.expect(b"\n")
        c.pause(0.8)
        for line, reply in steps:
            c.type(line + ENTER)
            c.expect(reply)
            c.expect(b"\n")
            c.pause(0.8)
        c.finish()
    return scenario


def idle_timeout(host, port):
    c = Typist(["/usr/bin/telnet", host, str(port)], 12)
    banner(c)
    c.type(b"helo lab.example" + ENTER)
    c.expect(b"250 ")
    # The person waits; the server's timeout ends the session.
    c.expect(b"421 ", timeout=30.0)
    c.expect(b"Connection closed", timeout=5.0)
    c.wait_exit()


SCENARIOS = {
    "socat-raw-bare-cr": socat_raw_bare_cr,
    "socat-raw-ctrl-j": socat_raw_ctrl_j,
    "telnet-char-toggle-crlf": telnet_char_toggle_crlf,
    "telnet-send-ayt": telnet_send(b"ayt", 4),
    "telnet-send-brk": telnet_send(b"brk", 5),
    "plink-telnet": helo_quit(lambda h, p: ["/usr/bin/plink", "-telnet", h, "-P", str(p)], 6),
    "plink-raw": helo_quit(lambda h, p: ["/usr/bin/plink", "-raw", h, "-P", str(p)], 7),
    "busybox-telnet-line": helo_quit(lambda h, p: ["/usr/bin/busybox", "telnet", h, str(p)], 8),
    "busybox-telnet-char-del": busybox_telnet_char_del,
    "nc-crlf": helo_quit(lambda h, p: ["/usr/bin/nc", "-C", h, str(p)], 9),
    "nc-bare-lf": helo_quit(lambda h, p: ["/usr/bin/nc", h, str(p)], 10),
    "expn-help": telnet_lines(13, [(b"helo lab.example", b"250 "), (b"EXPN root", b"500 "),
                                   (b"HELP", b"500 "), (b"VRFY root", b"252 "),
                                   (b"quit", b"221 ")]),
    "relay-denied": telnet_lines(14, [(b"helo lab.example", b"250 "),
                                      (b"MAIL FROM:<a@lab.example>", b"250 "),
                                      (b"RCPT TO:<b@elsewhere.example>", b"554 "),
                                      (b"quit", b"221 ")]),
    "idle-timeout": idle_timeout,
    "one-direction": telnet_lines(15, [(b"helo lab.example", b"250 "),
                                       (b"mail from:<student@lab.example>", b"250 "),
                                       (b"rcpt to:<teacher@lab.example>", b"250 "),
                                       (b"data", b"354 "),
                                       (b"Subject: one direction", b""),
                                       (b"Hello from telnet.", b""),
                                       (b".", b"250 "),
                                       (b"quit", b"221 ")]),
    "greeting-554": telnet_lines(16, [(b"helo lab.example", b"503 "), (b"quit", b"221 ")],
                                 greeting=b"554 "),
}


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in SCENARIOS:
        sys.exit(__doc__)
    SCENARIOS[sys.argv[1]](sys.argv[2], int(sys.argv[3]))


if __name__ == "__main__":
    main()
