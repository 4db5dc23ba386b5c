#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# check_captures.py: verifies with tshark that each smtplab capture holds exactly the bytes, segmentation and TCP handshake/teardown README.md promises.
"""Check the recorded captures against the expectations below.  Stdlib only.

  check_captures.py [DIR] [--set lab|clients|truth|all] [--list]
  check_captures.py [DIR] [--set ...] --markdown   # frame index for README.md

--set picks the captures: those record.sh makes (lab), those
record-clients.sh makes (clients: real clients typed on a pty, against
aiosmtpd or postfix, each with its server log in DIR/logs/<name>.log),
those record-truth.sh makes (truth: issue 14's sessions against postfix,
with their server logs too), or all of them (all, the default).

For every capture: one TCP conversation to the scenario's server port, the
client's payload segments exactly as listed (byte-exact, segment by
segment), the server's payload bytes exactly as listed (concatenated;
aiosmtpd's own segmentation is not pinned), SYN / SYN-ACK / FIN from both
sides and no RST, retransmission or other TCP analysis warning, unless the
scenario says otherwise (mid: the capture begins after the handshake and
the greeting; only: one direction was captured; server given as a regular
expression where postfix's queue id is in it).  --list prints a per-frame listing too.  Exits
non-zero on the first capture that does not match.
"""

import os
import re
import subprocess
import sys

BANNER = b"220 lab.example ESMTP aiosmtpd\r\n"
HELO_OK = b"250 lab.example\r\n"
BYE = b"221 Bye\r\n"
OK = b"250 OK\r\n"
GO_AHEAD = b"354 End data with <CR><LF>.<CR><LF>\r\n"
ACCEPTED = b"250 OK: message accepted\r\n"
EHLO_PLAIN = (b"250-lab.example\r\n250-SIZE 33554432\r\n"
              b"250-8BITMIME\r\n250 HELP\r\n")
EHLO_AUTH = (b"250-lab.example\r\n250-SIZE 33554432\r\n250-8BITMIME\r\n"
             b"250-AUTH LOGIN PLAIN\r\n250 HELP\r\n")
EHLO_STARTTLS = (b"250-lab.example\r\n250-SIZE 33554432\r\n250-8BITMIME\r\n"
                 b"250-STARTTLS\r\n250 HELP\r\n")
SWAKS_MSG = (b"From: student@lab.example\r\nTo: teacher@lab.example\r\n"
             b"Subject: smtplab swaks test\r\n\r\n"
             b"Hello from swaks in the smtplab lab.\r\n.\r\n")


def typed(*lines):
    """Segments of a one-byte-per-segment typist."""
    return [bytes([b]) for line in lines for b in line]


SWAKS_CLIENT = [b"EHLO client.lab.example\r\n",
                b"MAIL FROM:<student@lab.example>\r\n",
                b"RCPT TO:<teacher@lab.example>\r\n",
                b"DATA\r\n", SWAKS_MSG, b"QUIT\r\n"]

EXPECT = {
    "typed-lab.pcapng": dict(
        port=25,
        client=typed(b"helo lab.example\r\n", b"quit\r\n"),
        server=BANNER + HELO_OK + BYE),
    "typed-backspace.pcapng": dict(
        port=25,
        client=typed(b"hekk\x08\x08lo lab.example\r\n", b"helo lab.example\r\n",
                     b"quix\x7ft\r\n", b"quit\r\n"),
        server=BANNER + b'500 Error: command "HEKK\x08\x08LO" not recognized\r\n'
        + HELO_OK + b'500 Error: command "QUIX\x7fT" not recognized\r\n' + BYE),
    "telnet-line.pcapng": dict(
        port=25,
        client=[b"helo lab.example\r\n", b"quit\r\n"],
        server=BANNER + HELO_OK + BYE),
    "telnet-char.pcapng": dict(
        port=25,
        client=[b"\xff\xfd\x03\xff\xfd\x01"] + typed(b"helo lab.example")
        + [b"\r\x00"] + typed(b"quit") + [b"\r\x00"],
        server=BANNER),
    "swaks.pcapng": dict(
        port=25, client=SWAKS_CLIENT,
        server=BANNER + EHLO_PLAIN + OK + OK + GO_AHEAD + ACCEPTED + BYE),
    "typed-ipv6.pcapng": dict(
        port=25, ipv6=True,
        client=typed(b"helo lab.example\r\n", b"quit\r\n"),
        server=BANNER + HELO_OK + BYE),
    "typed-587.pcapng": dict(
        port=587,
        client=typed(b"helo lab.example\r\n", b"quit\r\n"),
        server=BANNER + HELO_OK + BYE),
    "refused.pcapng": dict(port=25, refused=True),
    "syn-unanswered.pcapng": dict(port=25, unanswered=True),
    "starttls-587.pcapng": dict(
        port=587, tls=True,
        client=typed(b"ehlo lab.example\r\n",
                     b"mail from:<student@lab.example>\r\n", b"starttls\r\n"),
        server=BANNER + EHLO_STARTTLS
        + b"530 Must issue a STARTTLS command first\r\n"
        + b"220 Ready to start TLS\r\n"),
    "auth.pcapng": dict(
        port=587,
        client=[b"EHLO client.lab.example\r\n",
                b"AUTH PLAIN AHN0dWRlbnQAc2VjcmV0\r\n"] + SWAKS_CLIENT[1:],
        server=BANNER + EHLO_AUTH + b"235 2.7.0 Authentication successful\r\n"
        + OK + OK + GO_AHEAD + ACCEPTED + BYE),
    "pipelining.pcapng": dict(
        port=25,
        client=[b"EHLO lab.example\r\n",
                b"MAIL FROM:<a@lab.example>\r\nRCPT TO:<b@lab.example>\r\nDATA\r\n",
                b"Subject: smtplab pipelining\r\n\r\nHello from the pipelining client.\r\n",
                b".\r\n", b"QUIT\r\n"],
        server=BANNER + EHLO_PLAIN + OK + OK + GO_AHEAD + ACCEPTED + BYE),
    "typed-errors.pcapng": dict(
        port=25,
        client=typed(b"helo\r\n", b"helo lab.example\r\n",
                     b"rcpt to:<teacher@lab.example>\r\n", b"quit\r\n"),
        server=BANNER + b"501 Syntax: HELO hostname\r\n" + HELO_OK
        + b"503 Error: need MAIL command\r\n" + BYE),
    "no-quit.pcapng": dict(
        port=25, client_closes_first=True,
        client=typed(b"helo lab.example\r\n"),
        server=BANNER + HELO_OK),
    "typed-bare-lf-cr.pcapng": dict(
        port=25,
        client=typed(b"helo lab.example\n", b"noop\r", b"\n", b"quit\r\n"),
        server=BANNER + HELO_OK + OK + BYE),
}

PF_BANNER = b"220 lab.example ESMTP Postfix\r\n"
PF_BYE = b"221 2.0.0 Bye\r\n"
PF_BAD_UTF8 = b"500 5.5.2 Error: bad UTF-8 syntax\r\n"
BAD_SYNTAX = b"500 Error: bad syntax\r\n"

# record-clients.sh: real clients on a pty (client_drive.py); each capture
# has its server's log in logs/<name>.log.
EXPECT_CLIENTS = {
    "socat-raw-bare-cr.pcapng": dict(
        port=25, log=True, client_closes_first=True,
        client=typed(b"helo lab.exampel\x7f\x7fle\r", b"\r", b"quit\r", b"\x03"),
        server=PF_BANNER),
    "socat-raw-ctrl-j.pcapng": dict(
        port=25, log=True,
        client=typed(b"helo lab.example\r\n", b"quit\r\n"),
        server=PF_BANNER + HELO_OK + PF_BYE),
    "telnet-char-toggle-crlf.pcapng": dict(
        port=25, log=True,
        client=[b"helo lab.example\r\n", b"\xff\xfd\x03\xff\xfd\x01"]
        + typed(b"quit") + [b"\r\x00"] + typed(b"quit") + [b"\r\n"]
        + typed(b"quit") + [b"\r\n"],
        server=PF_BANNER + HELO_OK + PF_BAD_UTF8 + PF_BYE),
    "telnet-send-ayt.pcapng": dict(
        port=25, log=True,
        client=[b"helo lab.\xff\xf6", b"example\r\n", b"quit\r\n"],
        server=BANNER + b"500 Error: strict ASCII mode\r\n" + BYE),
    "telnet-send-brk.pcapng": dict(
        port=25, log=True,
        client=[b"helo lab.\xff\xf3", b"example\r\n", b"quit\r\n"],
        server=PF_BANNER + PF_BAD_UTF8 + PF_BYE),
    "plink-telnet.pcapng": dict(
        port=25, log=True,
        client=[b"\xff\xfb\x1f\xff\xfb\x20\xff\xfb\x18\xff\xfb\x27"
                b"\xff\xfd\x01\xff\xfb\x03\xff\xfd\x03",
                b"helo lab.example\n", b"quit\n"],
        server=BANNER + BAD_SYNTAX + BYE),
    "plink-raw.pcapng": dict(
        port=25, log=True,
        client=[b"helo lab.example\n", b"quit\n"],
        server=BANNER + HELO_OK + BYE),
    "busybox-telnet-line.pcapng": dict(
        port=25, log=True,
        client=[b"helo lab.example\r\n", b"quit\r\n"],
        server=BANNER + HELO_OK + BYE),
    "busybox-telnet-char-del.pcapng": dict(
        port=25, log=True,
        client=[b"\xff\xfd\x01\xff\xfd\x03"] + typed(b"helo lab.exampel\x7f\x7fle")
        + [b"\r\n"] + typed(b"quit") + [b"\r\n"],
        server=BANNER + BAD_SYNTAX + BYE),
    "nc-crlf.pcapng": dict(
        port=25, log=True,
        client=[b"helo lab.example", b"\r\n", b"quit", b"\r\n"],
        server=BANNER + HELO_OK + BYE),
    "nc-bare-lf.pcapng": dict(
        port=25, log=True,
        client=[b"helo lab.example\n", b"quit\n"],
        server=PF_BANNER + HELO_OK + PF_BYE),
}

PF_EHLO = (b"250-lab.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n"
           b"250-ETRN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n"
           b"250-SMTPUTF8\r\n250 CHUNKING\r\n")
PF_EHLO_TLS = PF_EHLO.replace(b"250-ETRN\r\n", b"250-ETRN\r\n250-STARTTLS\r\n")
PF_HELO_OK = b"250 lab.example\r\n"
PF_MAIL_OK = b"250 2.1.0 Ok\r\n"
PF_RCPT_OK = b"250 2.1.5 Ok\r\n"
PF_GO_AHEAD = b"354 End data with <CR><LF>.<CR><LF>\r\n"
PF_QUEUED = r"250 2\.0\.0 Ok: queued as [0-9A-F]+\r\n"
PF_NOT_RECOGNIZED = b"500 5.5.2 Error: command not recognized\r\n"
TRUTH_MAIL = [b"MAIL FROM:<student@lab.example>\r\n", b"RCPT TO:<teacher@lab.example>\r\n"]


def pattern(*parts):
    """A server-bytes regular expression: bytes parts literal, str parts as they are."""
    return re.compile(b"".join(re.escape(p) if isinstance(p, bytes) else p.encode()
                               for p in parts), re.S)


# record-truth.sh: issue 14's sessions against postfix (truth_client.py, or
# /usr/bin/telnet typed by client_drive.py); server log in logs/<name>.log.
EXPECT_TRUTH = {
    "after-greeting.pcapng": dict(
        port=25, log=True, mid=True,
        client=[b"EHLO lab.example\r\n"] + TRUTH_MAIL
        + [b"DATA\r\n",
           b"Subject: after the greeting\r\n\r\nHello from the smtplab truth client.\r\n",
           b".\r\n", b"QUIT\r\n"],
        server=pattern(PF_EHLO, PF_MAIL_OK, PF_RCPT_OK, PF_GO_AHEAD, PF_QUEUED, PF_BYE)),
    "after-greeting-starttls.pcapng": dict(
        port=25, log=True, mid=True, tls=True,
        client=[b"EHLO lab.example\r\n", b"STARTTLS\r\n"],
        server=PF_EHLO_TLS + b"220 2.0.0 Ready to start TLS\r\n"),
    "pipelined-quit.pcapng": dict(
        port=25, log=True,
        client=[b"EHLO lab.example\r\n"] + TRUTH_MAIL
        + [b"DATA\r\n",
           b"Subject: pipelined quit\r\n\r\nHello from the smtplab truth client.\r\n",
           b".\r\nQUIT\r\n"],
        server=pattern(PF_BANNER, PF_EHLO, PF_MAIL_OK, PF_RCPT_OK, PF_GO_AHEAD, PF_QUEUED, PF_BYE),
        # postfix batches the replies to pipelined input: both in one segment.
        server_segment=pattern(PF_QUEUED, PF_BYE)),
    "bdat-bad-syntax.pcapng": dict(
        port=25, log=True,
        client=[b"EHLO lab.example\r\n"] + TRUTH_MAIL
        + [b"BDAT 1234 SCRAMBLE\r\nSubject: a chunk\r\n\r\nHello.\r\nQUIT\r\n"],
        server=PF_BANNER + PF_EHLO + PF_MAIL_OK + PF_RCPT_OK
        + b"521 5.5.4 Syntax: BDAT count [LAST]\r\n"),
    "expn-help.pcapng": dict(
        port=25, log=True,
        client=[b"helo lab.example\r\n", b"EXPN root\r\n", b"HELP\r\n",
                b"VRFY root\r\n", b"quit\r\n"],
        server=PF_BANNER + PF_HELO_OK + PF_NOT_RECOGNIZED + PF_NOT_RECOGNIZED
        + b"252 2.0.0 root\r\n" + PF_BYE),
    "relay-denied.pcapng": dict(
        port=25, log=True,
        client=[b"helo lab.example\r\n", b"MAIL FROM:<a@lab.example>\r\n",
                b"RCPT TO:<b@elsewhere.example>\r\n", b"quit\r\n"],
        server=PF_BANNER + PF_HELO_OK + PF_MAIL_OK
        + b"554 5.7.1 <b@elsewhere.example>: Relay access denied\r\n" + PF_BYE),
    "client-only.pcapng": dict(
        port=25, log=True, only="client",
        client=[b"helo lab.example\r\n", b"mail from:<student@lab.example>\r\n",
                b"rcpt to:<teacher@lab.example>\r\n", b"data\r\n",
                b"Subject: one direction\r\n", b"Hello from telnet.\r\n", b".\r\n",
                b"quit\r\n"],
        server=b""),
    "server-only.pcapng": dict(
        port=25, log=True, only="server", client=[],
        server=pattern(PF_BANNER, PF_HELO_OK, PF_MAIL_OK, PF_RCPT_OK, PF_GO_AHEAD,
                       PF_QUEUED, PF_BYE)),
    "idle-timeout.pcapng": dict(
        port=25, log=True,
        client=[b"helo lab.example\r\n"],
        server=PF_BANNER + PF_HELO_OK
        + b"421 4.4.2 lab.example Error: timeout exceeded\r\n"),
    "greeting-554.pcapng": dict(
        port=25, log=True,
        client=[b"helo lab.example\r\n", b"quit\r\n"],
        server=b"554 5.7.1 <localhost[127.0.0.1]>: Client host rejected: Access denied\r\n"
        + b"503 5.7.0 Error: access denied for localhost[127.0.0.1]\r\n" + PF_BYE),
}

SETS = {"lab": EXPECT, "clients": EXPECT_CLIENTS, "truth": EXPECT_TRUTH,
        "all": {**EXPECT, **EXPECT_CLIENTS, **EXPECT_TRUTH}}

FIELDS = ["frame.number", "frame.time_relative", "ip.src", "ipv6.src",
          "tcp.stream", "tcp.srcport", "tcp.dstport", "tcp.flags.syn",
          "tcp.flags.ack", "tcp.flags.fin", "tcp.flags.reset", "tcp.len",
          "tcp.payload", "tcp.flags.str"]

WARN_FILTER = ("tcp.analysis.retransmission || tcp.analysis.fast_retransmission"
               " || tcp.analysis.spurious_retransmission || tcp.analysis.lost_segment"
               " || tcp.analysis.out_of_order || tcp.analysis.ack_lost_segment"
               " || tcp.analysis.duplicate_ack || tcp.analysis.zero_window")


def tshark(path, *args):
    out = subprocess.run(
        ["tshark", "-r", path, "-o", "tcp.desegment_tcp_streams:FALSE",
         "-o", "tcp.relative_sequence_numbers:TRUE", *args],
        check=True, capture_output=True, text=True).stdout
    return out


def frames(path):
    out = tshark(path, "-T", "fields", "-E", "separator=\t",
                 *sum((["-e", f] for f in FIELDS), []))
    rows = []
    for line in out.splitlines():
        v = dict(zip(FIELDS, line.split("\t")))
        v["payload"] = bytes.fromhex(v["tcp.payload"].replace(":", ""))
        for k in ("tcp.flags.syn", "tcp.flags.ack", "tcp.flags.fin",
                  "tcp.flags.reset"):
            v[k] = v[k] in ("1", "True")
        rows.append(v)
    return rows


def check(path, exp):
    rows = frames(path)
    port = str(exp["port"])
    errs = []
    if not rows:
        return ["no frames"]
    if {r["tcp.stream"] for r in rows} != {"0"}:
        errs.append("more than one TCP stream")
    if any(port not in (r["tcp.srcport"], r["tcp.dstport"]) for r in rows):
        errs.append(f"frame not on port {port}")
    if exp.get("ipv6") and any(not r["ipv6.src"] for r in rows):
        errs.append("not IPv6")
    cli = [r for r in rows if r["tcp.dstport"] == port]
    srv = [r for r in rows if r["tcp.srcport"] == port]
    syn = [r for r in cli if r["tcp.flags.syn"] and not r["tcp.flags.ack"]]

    if exp.get("refused"):
        if not (len(rows) == 2 and len(syn) == 1 and srv
                and srv[0]["tcp.flags.reset"] and srv[0]["tcp.flags.ack"]):
            errs.append("expected exactly SYN then RST/ACK")
        return errs
    if exp.get("unanswered"):
        if srv or len(syn) != len(rows) or len(syn) < 3:
            errs.append(f"expected only (>=3) client SYNs, got {len(rows)} frames")
        return errs

    only = exp.get("only")
    if only == "client" and srv or only == "server" and cli:
        errs.append(f"expected only the {only}'s side")
    want_syn = 0 if exp.get("mid") or only == "server" else 1
    want_synack = 0 if exp.get("mid") or only == "client" else 1
    if len(syn) != want_syn:
        errs.append(f"{len(syn)} SYNs, expected {want_syn}")
    if sum(r["tcp.flags.syn"] and r["tcp.flags.ack"] for r in srv) != want_synack:
        errs.append(f"expected {want_synack} SYN/ACK")
    if (sum(r["tcp.flags.fin"] for r in cli) != (only != "server")
            or sum(r["tcp.flags.fin"] for r in srv) != (only != "client")):
        errs.append("not exactly one FIN each captured way")
    if any(r["tcp.flags.reset"] for r in rows):
        errs.append("RST present")
    first_fin = next(r for r in rows if r["tcp.flags.fin"])
    if exp.get("client_closes_first") and first_fin["tcp.dstport"] != port:
        errs.append("server closed first, expected the client to")
    if tshark(path, "-Y", WARN_FILTER).strip():
        errs.append("TCP analysis warnings (retransmission etc.)")

    csegs = [r["payload"] for r in cli if r["payload"]]
    sbytes = b"".join(r["payload"] for r in srv)
    want_c, want_s = exp["client"], exp["server"]
    if exp.get("tls"):
        # Only the plaintext before STARTTLS is pinned; then TLS records.
        if csegs[:len(want_c)] != want_c:
            errs.append(f"client plaintext segments differ: {csegs[:len(want_c)]!r}")
        rest = csegs[len(want_c):]
        if not rest or rest[0][:1] != b"\x16":
            errs.append("no TLS ClientHello after STARTTLS")
        if not sbytes.startswith(want_s) or sbytes[len(want_s):len(want_s) + 1] != b"\x16":
            errs.append(f"server plaintext differs: {sbytes[:len(want_s) + 1]!r}")
    else:
        if csegs != want_c:
            errs.append(f"client segments differ:\n  got  {csegs!r}\n  want {want_c!r}")
        if (not want_s.fullmatch(sbytes) if isinstance(want_s, re.Pattern)
                else sbytes != want_s):
            errs.append(f"server bytes differ:\n  got  {sbytes!r}\n  want {want_s!r}")
    if exp.get("server_segment") and not any(
            exp["server_segment"].fullmatch(r["payload"]) for r in srv):
        errs.append(f"no server segment matches {exp['server_segment'].pattern!r}")
    return errs


NAMES = {0x00: "NUL", 0x08: "BS", 0x0a: "LF", 0x0d: "CR", 0x20: "SP",
         0x7f: "DEL", 0xff: "IAC"}


def spaced(data: bytes) -> str:
    """h e l o SP l a b CR LF style, one token per byte."""
    return " ".join(NAMES.get(b, chr(b) if 0x21 <= b < 0x7f else f"0x{b:02x}")
                    for b in data)


def quoted(data: bytes) -> str:
    out = []
    for b in data:
        if b == 0x0d:
            out.append("\\r")
        elif b == 0x0a:
            out.append("\\n")
        elif b == 0x22:
            out.append('\\"')
        elif 0x20 <= b < 0x7f and b not in (0x5c, 0x7c, 0x60):
            out.append(chr(b))
        else:
            out.append(f"\\x{b:02x}")
    return '`"' + "".join(out) + '"`'


FLAG_NAMES = (("S", "SYN"), ("F", "FIN"), ("R", "RST"), ("P", "PSH"), ("A", "ACK"))


def flag_names(s):
    return ",".join(n for c, n in FLAG_NAMES if c in s)


RUN_GAP = 0.25   # s; a longer pause between typed bytes starts a new row


def markdown(path, exp):
    """Frame index of one capture: every frame except pure ACKs; runs of
    one-byte client segments (only pure ACKs between them, each less than
    RUN_GAP after the previous one) on one row."""
    rows = frames(path)
    port = str(exp["port"])
    lines = ["| frame(s) | t (s) | dir | flags | len | bytes |",
             "| --- | --- | --- | --- | --- | --- |"]
    i = 0
    interesting = [r for r in rows if r["payload"] or r["tcp.flags.syn"]
                   or r["tcp.flags.fin"] or r["tcp.flags.reset"]]
    while i < len(interesting):
        r = interesting[i]
        d = "C→S" if r["tcp.dstport"] == port else "S→C"
        flags = flag_names(r["tcp.flags.str"])
        t = float(r["frame.time_relative"])
        if d == "C→S" and len(r["payload"]) == 1:
            j = i
            while (j + 1 < len(interesting)
                   and interesting[j + 1]["tcp.dstport"] == port
                   and len(interesting[j + 1]["payload"]) == 1
                   and float(interesting[j + 1]["frame.time_relative"])
                   - float(interesting[j]["frame.time_relative"]) < RUN_GAP):
                j += 1
            run = interesting[i:j + 1]
            if len(run) > 1:
                nums = ",".join(x["frame.number"] for x in run)
                data = b"".join(x["payload"] for x in run)
                t2 = float(run[-1]["frame.time_relative"])
                lines.append(f"| {nums} | {t:.3f}–{t2:.3f} | {d} | {flags} "
                             f"| {len(run)} × 1 | `{spaced(data)}` |")
                i = j + 1
                continue
        payload = r["payload"]
        if payload and payload[:1] in (b"\x14", b"\x16", b"\x17"):
            shown = f"TLS records, starting `{payload[:5].hex(' ')}`"
        elif payload:
            shown = quoted(payload)
        else:
            shown = ""
        lines.append(f"| {r['frame.number']} | {t:.3f} | {d} | {flags} "
                     f"| {len(payload)} | {shown} |")
        i += 1
    return "\n".join(lines)


def main():
    argv = sys.argv[1:]
    which = "all"
    if "--set" in argv:
        i = argv.index("--set")
        which = argv[i + 1] if i + 1 < len(argv) else ""
        del argv[i:i + 2]
        if which not in SETS:
            sys.exit("--set takes lab, clients, truth or all")
    expect = SETS[which]
    args = [a for a in argv if not a.startswith("--")]
    listing = "--list" in argv
    if "--markdown" in argv:
        d = args[0] if args else os.path.dirname(os.path.abspath(__file__))
        for name, exp in expect.items():
            path = os.path.join(d, name)
            n = len(frames(path))
            print(f"### {name}\n\n{n} frames, {os.path.getsize(path)} bytes; "
                  f"server port {exp['port']}.\n")
            print(markdown(path, exp) + "\n")
        return
    d = args[0] if args else os.path.dirname(os.path.abspath(__file__))
    bad = 0
    for name, exp in expect.items():
        path = os.path.join(d, name)
        if not os.path.exists(path):
            print(f"FAIL {name}: missing")
            bad += 1
            continue
        size = os.path.getsize(path)
        errs = check(path, exp)
        if size >= 50_000:
            errs.append(f"too big: {size} bytes")
        if exp.get("log"):
            logf = os.path.join(d, "logs", name.replace(".pcapng", ".log"))
            if not os.path.exists(logf) or not os.path.getsize(logf):
                errs.append(f"no server log {logf}")
        n = len(frames(path))
        print(f"{'ok  ' if not errs else 'FAIL'} {name}: {n} frames, {size} bytes")
        for e in errs:
            print(f"     {e}")
        bad += bool(errs)
        if listing:
            print(tshark(path, "-T", "fields", "-e", "frame.number",
                         "-e", "frame.time_relative", "-e", "tcp.srcport",
                         "-e", "tcp.dstport", "-e", "tcp.flags.str",
                         "-e", "tcp.len", "-e", "tcp.payload"))
    print(f"{len(expect) - bad} passed, {bad} failed")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
