#!/usr/bin/env python3
"""An independent reading of SMTP captures, and how far the plugin agrees.

Reads each capture with tshark WITHOUT the plugin (TCP fields and the raw
payload bytes), gives every TCP frame on ports 25/587 the session stage a
person reading the bytes would give (README "Stages" and "How frames get
their stage"; written from the protocol, not from plugin/*.c), then runs
tshark with the plugin (two passes) and compares smtplab.stage per frame.

Usage: independent.py [--min PCT] [--quiet] [--label-only] BUILD CAPTURE...
Prints per capture: frames, agreeing, percent, each disagreeing frame with
both labels; then the total. Exit 0; with --min, exit 1 when the total
agreement is below PCT.
SPDX-License-Identifier: GPL-2.0-or-later
"""
import argparse
import bisect
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TSHARK = os.path.join(HERE, "..", "tshark", "tshark-as-user.sh")
PORTS = (25, 587)
VERBS = {
    b"HELO": "helo", b"EHLO": "helo", b"MAIL": "mail", b"RCPT": "rcpt",
    b"DATA": "data", b"RSET": "rset", b"NOOP": "noop", b"VRFY": "vrfy",
    b"EXPN": "expn", b"HELP": "help", b"QUIT": "quit",
    b"STARTTLS": "starttls", b"AUTH": "auth", b"BDAT": "bdat",
}
IAC, SB, SE = 0xFF, 0xFA, 0xF0
EC, EL = 0xF7, 0xF8
OPTION_CMDS = (0xFB, 0xFC, 0xFD, 0xFE)  # WILL WONT DO DONT
UNREAD = frozenset(["?"])  # a pure ACK of bytes the capture does not hold


# ---------------------------------------------------------------- reading

def read_frames(build, cap):
    """The capture's TCP frames as dicts, read without the plugin."""
    cmd = [TSHARK, build, "-r", cap,
           "-o", "tcp.desegment_tcp_streams:FALSE",
           "-d", "tcp.port==25,data", "-d", "tcp.port==587,data",
           "-Y", "tcp && !icmp && !icmpv6",
           "-T", "fields", "-E", "occurrence=f",
           "-e", "frame.number", "-e", "tcp.stream", "-e", "tcp.srcport",
           "-e", "tcp.dstport", "-e", "tcp.flags", "-e", "tcp.seq",
           "-e", "tcp.ack", "-e", "tcp.len", "-e", "tcp.payload"]
    env = dict(os.environ, SMTPLAB_NO_PLUGIN="1")
    out = subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE,
                         universal_newlines=True).stdout
    frames = []
    for line in out.splitlines():
        f = line.split("\t")
        f += [""] * (9 - len(f))
        if not f[4] or not f[5]:
            continue  # cut inside the TCP header: no segment to read
        flags = int(f[4], 16)
        data = bytes.fromhex(f[8].replace(":", "")) if f[8] else b""
        frames.append({
            "no": int(f[0]), "stream": int(f[1]), "sport": int(f[2]),
            "dport": int(f[3]), "syn": bool(flags & 0x02),
            "fin": bool(flags & 0x01), "rst": bool(flags & 0x04),
            "ackf": bool(flags & 0x10), "seq": int(f[5]),
            "ack": int(f[6]) if f[6] else 0, "len": int(f[7] or 0),
            "data": data,
        })
    return frames


def plugin_stages(build, cap):
    """frame number -> the plugin's set of smtplab.stage (two passes)."""
    cmd = [TSHARK, build, "-2", "-r", cap, "-T", "fields",
           "-E", "occurrence=a", "-E", "aggregator=|",
           "-e", "frame.number", "-e", "smtplab.stage"]
    env = dict(os.environ)
    env.pop("SMTPLAB_NO_PLUGIN", None)
    out = subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE,
                         universal_newlines=True).stdout
    got = {}
    for line in out.splitlines():
        no, _, st = line.partition("\t")
        if st:
            got[int(no)] = frozenset(st.split("|"))
    return got


# ------------------------------------------------------- one direction

class Direction:
    """One direction's bytes by sequence number: which frame first brought
    each byte, and which unit (line, chunk, TLS, SYN, FIN) it belongs to."""

    def __init__(self):
        self.byte = {}      # seq -> byte value
        self.first = {}     # seq -> frame number that first carried it
        self.stage = {}     # seq -> stage of the unit holding it
        self.syn = None     # seq of the SYN
        self.cut = set()    # seq of the last captured byte of a cut segment
        self.fin = None     # seq of the FIN
        self.frames = []

    def add(self, fr):
        self.frames.append(fr)
        if fr["syn"] and self.syn is None:
            self.syn = fr["seq"]
            self.stage[fr["seq"]] = "handshake"
        for i, b in enumerate(fr["data"]):
            s = fr["seq"] + i
            if s not in self.byte:
                self.byte[s] = b
                self.first[s] = fr["no"]
        if fr["data"] and len(fr["data"]) < fr["len"]:
            # the snapshot length cut it: its unseen tail ends what it began
            self.cut.add(fr["seq"] + len(fr["data"]) - 1)
        if fr["fin"] and self.fin is None:
            self.fin = fr["seq"] + fr["len"]
            self.stage[self.fin] = "teardown"

    def stream(self):
        """The payload in sequence order: list of (seq, byte), holes skipped."""
        return [(s, self.byte[s]) for s in sorted(self.byte)]


class Reader:
    """Walks one direction's payload unit by unit; the caller tells it how to
    read the next unit (a line, n chunk bytes, or everything as TLS)."""

    def __init__(self, d):
        self.d = d
        self.s = d.stream()
        self.pos = 0

    def done(self):
        return self.pos >= len(self.s)

    def peek_line(self):
        """(end index, completing frame, complete?) of the next line."""
        i = self.pos
        while (i < len(self.s) and self.s[i][1] != 0x0A
               and self.s[i][0] not in self.d.cut):
            i += 1
        complete = i < len(self.s)
        end = i + 1 if complete else len(self.s)
        return end, self._when(end, complete), complete

    def peek_bytes(self, n):
        end = min(self.pos + n, len(self.s))
        return end, self._when(end, end - self.pos == n), end - self.pos == n

    def peek_rest(self):
        return len(self.s), self._when(len(self.s), True), True

    def _when(self, end, complete):
        """The frame by which every byte up to end had arrived."""
        if end <= self.pos:
            return 0
        w = max(self.d.first[self.s[k][0]] for k in range(self.pos, end))
        return w if complete else float("inf")

    def take(self, end, stage):
        raw = bytes(b for _, b in self.s[self.pos:end])
        for k in range(self.pos, end):
            self.d.stage[self.s[k][0]] = stage
        self.pos = end
        return raw

    def label(self, start, end, stage):
        for k in range(start, end):
            self.d.stage[self.s[k][0]] = stage


# ----------------------------------------------------- reading a command

def as_meant(raw):
    """A client line as its sender meant it: telnet commands dropped (IAC IAC
    is a 0xFF, IAC EC erases a character, IAC EL the line), BS and DEL erase
    the character before them; line end removed."""
    out = bytearray()
    i = 0
    n = len(raw)
    while i < n:
        b = raw[i]
        if b == IAC and i + 1 == n:
            break  # a telnet command not finished when the line ends
        if b == IAC:
            c = raw[i + 1]
            if c == IAC:
                out.append(0xFF)
                i += 2
            elif c in OPTION_CMDS:
                i += 3
            elif c == SB:
                # up to IAC SE; IAC and another command byte also ends it
                # (and that command counts), as telnet servers read it
                j = i + 2
                while j + 1 < n and not (raw[j] == IAC and raw[j + 1] != IAC):
                    j += 2 if raw[j] == IAC else 1
                if j + 1 < n and raw[j + 1] == SE:
                    j += 2
                i = j if j + 1 < n else n
            elif c == EC:
                if out:
                    out.pop()
                i += 2
            elif c == EL:
                out.clear()
                i += 2
            elif c >= 240:
                i += 2
            else:
                out += raw[i:i + 2]
                i += 2
        elif b in (0x08, 0x7F):
            if out:
                out.pop()
            i += 1
        else:
            out.append(b)
            i += 1
    return bytes(out).rstrip(b"\n").rstrip(b"\r")


def command(raw):
    """(stage, argument words) of a command line."""
    meant = as_meant(raw).lstrip(b" \t")
    word = bytearray()
    for b in meant:
        if b in b" \t\r\n\0":
            break
        word.append(b)
    args = meant[len(word):].replace(b"\r", b" ").replace(b"\0", b" ").split()
    return VERBS.get(bytes(word).upper(), "unknown"), args


def bdat_size(args):
    """The chunk size of BDAT <n> [LAST], or None when it names none."""
    if args and args[0].isdigit():
        return int(args[0])
    return None


# ------------------------------------------------------- one connection

def read_connection(frames):
    """frame number -> set of stages, for one TCP connection."""
    first = frames[0]
    if first["syn"] and not first["ackf"]:
        client_port = first["sport"]
    elif first["dport"] in PORTS and first["sport"] not in PORTS:
        client_port = first["sport"]
    elif first["sport"] in PORTS and first["dport"] not in PORTS:
        client_port = first["dport"]
    else:
        client_port = first["sport"]
    cli, srv = Direction(), Direction()
    for fr in frames:
        (cli if fr["sport"] == client_port else srv).add(fr)
    c, s = Reader(cli), Reader(srv)
    syn_seen = cli.syn is not None or srv.syn is not None

    cmode = "command"   # command | message | tls
    smode = "reply"     # reply | tls
    pending = []        # command lines the server has read, unanswered
    greeted = False     # the first reply has gone by
    chunk = 0           # BDAT chunk bytes still to come
    after_auth = False  # the next client line answers a 334
    tls_after = None    # the STARTTLS line waiting for its reply
    data_line = None    # the DATA line whose reply decides the message
    reply_lines = []    # (start, end) of the reply being read
    asked = []          # (completing frame, stage) of each line a reply answers
    reply_start = None

    while not (c.done() and s.done()):
        # the next client unit, read as the current mode says
        if c.done():
            cnext = None
        elif cmode == "tls":
            cnext = ("tls",) + c.peek_rest()
        elif chunk:
            cnext = ("chunk",) + c.peek_bytes(chunk)
        else:
            cnext = ("line",) + c.peek_line()
        if s.done():
            snext = None
        elif smode == "tls":
            snext = ("tls",) + s.peek_rest()
        else:
            snext = ("line",) + s.peek_line()
        if snext is None or (cnext is not None and cnext[2] <= snext[2]):
            kind, end, when, complete = cnext
            if kind == "tls":
                c.take(end, "tls")
            elif kind == "chunk":
                chunk -= end - c.pos
                c.take(end, "bdat")
            elif cmode == "message":
                raw = c.take(end, "message")
                if raw.rstrip(b"\r\n") == b"." and raw.endswith(b"\n"):
                    cmode = "command"
                    asked.append((when, "message"))
                    pending.append("message")
            elif after_auth:
                c.take(end, "auth")
                asked.append((when, "auth"))
                pending.append("auth")
            else:
                start = c.pos
                raw = c.take(end, "unknown")
                stage, args = command(raw)
                if not complete and not as_meant(raw).strip():
                    stage = None  # a line never sent, of telnet bytes only
                c.label(start, end, stage)
                if not complete:
                    continue
                asked.append((when, stage))
                pending.append(stage)
                if stage == "data":
                    cmode = "message"
                    data_line = len(pending)
                elif stage == "bdat":
                    chunk = bdat_size(args) or 0
                elif stage == "starttls":
                    tls_after = True
            continue
        # a server line
        kind, end, when, complete = snext
        if kind == "tls":
            s.take(end, "tls")
            continue
        start = s.pos
        raw = s.take(end, "unknown-reply")
        code = raw[:3]
        if not (len(raw) >= 3 and code.isdigit()):
            continue  # no reply code: answers nothing, a reply it splits goes on
        if reply_start is None:
            reply_start = start
        reply_lines.append((start, end))
        if len(raw) > 3 and raw[3:4] == b"-" and complete:
            continue
        code = int(code)
        if not greeted and code in (220, 554) and (syn_seen or not pending):
            stage = "banner"
        elif pending:
            answered = pending.pop(0)
            stage = answered + "-reply"
            if data_line is not None:
                data_line -= 1
            if answered == "data" and data_line == 0:
                data_line = None
                if code != 354 and cmode == "message":
                    cmode = "command"
            if answered == "auth":
                after_auth = code == 334
            if answered == "starttls" and tls_after:
                tls_after = None
                if code == 220:
                    cmode, smode = "tls", "tls"
        else:
            stage = "unknown-reply"
        greeted = True
        for a, b in reply_lines:
            s.label(a, b, stage)
        reply_lines, reply_start = [], None

    if cli.frames and not srv.frames:
        unseen_replies(cli, srv, asked)
    out = {}
    for d, other in ((cli, srv), (srv, cli)):
        acked = other.syn if other.syn is not None else None
        for fr in d.frames:
            st = set()
            if fr["syn"]:
                st.add("handshake")
            for k in range(fr["seq"], fr["seq"] + fr["len"]):
                if d.stage.get(k):
                    st.add(d.stage[k])
            if fr["fin"] or fr["rst"]:
                st.add("teardown")
            if not st and fr["ackf"] and fr["len"] == 0:
                st = acked_stages(other, acked, fr["ack"])
            if fr["ackf"]:
                acked = fr["ack"] if acked is None else max(acked, fr["ack"])
            out[fr["no"]] = frozenset(st) if st else UNREAD
    return out


def unseen_replies(cli, srv, asked):
    """A capture of the client's side only: what the client's ACKs say of the
    server's bytes. Its first acknowledgement is of the server's SYN; the
    first bytes after it, of a server that has not spoken yet, the greeting;
    each later advance a reply to the oldest line sent before it and not yet
    answered; a last advance of one sequence number, the server's FIN (no
    reply is shorter than "ddd" LF)."""
    acks = [f for f in cli.frames if f["ackf"]]
    if not acks:
        return
    prev = acks[0]["ack"]
    if cli.syn is not None:
        srv.syn = prev - 1
        srv.stage[prev - 1] = "handshake"
    greeted = cli.syn is None
    waiting = 0
    for i, f in enumerate(acks):
        if f["ack"] <= prev:
            continue
        size = f["ack"] - prev
        if size == 1 and all(g["ack"] == f["ack"] for g in acks[i:]):
            srv.fin = prev
            stage = "teardown"
        elif not greeted:
            stage = "banner"
        else:
            sent = [st for when, st in asked if when < f["no"]]
            stage = sent[waiting] + "-reply" if waiting < len(sent) else "unknown-reply"
            waiting = min(waiting + 1, len(sent))
        greeted = True
        for k in range(prev, f["ack"]):
            srv.stage[k] = stage
        prev = f["ack"]


def acked_stages(other, before, ack):
    """The stages of the data a pure ACK acknowledges: what it newly
    acknowledges; a repeated ACK, the byte it points after; an ACK of a
    FIN is teardown. Bytes the capture lacks (a hole) belong to the unit
    around them."""
    if other.fin is not None and ack == other.fin + 1:
        return {"teardown"}
    lo = before if before is not None and before < ack else ack - 1
    st = {other.stage[k] for k in range(lo, ack) if other.stage.get(k)}
    if not st:
        keys = sorted(other.stage)
        i = bisect.bisect_left(keys, ack)
        if 0 < i < len(keys):
            st = {other.stage[keys[i - 1]]}
    return st


def read_capture(build, cap):
    frames = read_frames(build, cap)
    streams = {}
    for fr in frames:
        if fr["sport"] in PORTS or fr["dport"] in PORTS:
            streams.setdefault(fr["stream"], []).append(fr)
    out = {}
    for fs in streams.values():
        out.update(read_connection(fs))
    return out


# ----------------------------------------------------------------- compare

def show(st):
    return "|".join(sorted(st)) if st else "(none)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min", type=float, default=None)
    ap.add_argument("--quiet", action="store_true",
                    help="no list of disagreeing frames")
    ap.add_argument("--label-only", action="store_true",
                    help="print the independent reading, compare nothing")
    ap.add_argument("build")
    ap.add_argument("captures", nargs="+")
    a = ap.parse_args()
    total = agree_total = unread_total = 0
    for cap in a.captures:
        mine = read_capture(a.build, cap)
        name = os.path.basename(cap)
        if a.label_only:
            print("== %s" % name)
            for no in sorted(mine):
                print("%d\t%s" % (no, show(mine[no])))
            continue
        theirs = plugin_stages(a.build, cap)
        unread = [n for n in sorted(mine) if mine[n] == UNREAD]
        nos = sorted((set(mine) | set(theirs)) - set(unread))
        bad = [n for n in nos if mine.get(n, frozenset()) != theirs.get(n, frozenset())]
        agree = len(nos) - len(bad)
        total += len(nos)
        agree_total += agree
        unread_total += len(unread)
        pct = 100.0 * agree / len(nos) if nos else 100.0
        print("%-45s %5d frames %5d agree %6.2f %%%s"
              % (name, len(nos), agree, pct,
                 "  (%d more the bytes cannot decide: %s)"
                 % (len(unread), " ".join(map(str, unread))) if unread else ""))
        if not a.quiet:
            for n in bad:
                print("    frame %-5d independent %-30s plugin %s"
                      % (n, show(mine.get(n, ())), show(theirs.get(n, ()))))
    if a.label_only:
        return 0
    pct = 100.0 * agree_total / total if total else 100.0
    print("%-45s %5d frames %5d agree %6.2f %%" % ("TOTAL", total, agree_total, pct))
    if unread_total:
        print("(%d frames left out: pure ACKs of bytes the capture does not hold)"
              % unread_total)
    if a.min is not None and pct < a.min:
        print("below the minimum %.2f %%" % a.min)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
