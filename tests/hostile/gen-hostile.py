#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Hostile-input captures for the smtplab plugin.  Stdlib only.

  gen-hostile.py OUTDIR [NAME...]     writes OUTDIR/NAME.pcap for each NAME
  gen-hostile.py --list               names and one-line descriptions

Without NAME it writes the small captures (the ones committed under
tests/hostile/captures).  The big ones, endless-line, segments-100k,
endless-line-32m and long-line, are only written when named: the tests
generate them into the build folder (long-line into tshark.expert-no-tree's
own folder).  Every byte and every timestamp is fixed, so the output
is the same on every run (tests/hostile/CMakeLists.txt checks that the
committed files are what this script writes).

Classic libpcap, microsecond timestamps, Ethernet, IPv4 with correct
checksums.  The client is 192.0.2.10 (TEST-NET-1), the server
198.51.100.25 (TEST-NET-2), port 25.
"""

import random
import struct
import sys

BASE_US = 1_704_067_200 * 10**6   # 2024-01-01 00:00:00 UTC
CLIENT_IP = bytes([192, 0, 2, 10])
SERVER_IP = bytes([198, 51, 100, 25])
MAC_C = bytes.fromhex("020000000a0a")
MAC_S = bytes.fromhex("020000001919")
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
C, S = "C", "S"

IAC, DONT, DO, WONT, WILL, SB, GA, EL, EC, AYT, AO, IP, BRK, DM, NOP, SE = \
    255, 254, 253, 252, 251, 250, 249, 248, 247, 246, 245, 244, 243, 242, 241, 240
BS, DEL = b"\x08", b"\x7f"


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


class Capture:
    """Packets of one capture file, in the order written."""

    def __init__(self, snaplen=262144):
        self.snaplen = snaplen
        self.t = BASE_US
        self.records = []   # (ts us, frame, captured length)

    def add(self, frame, caplen=None):
        n = len(frame) if caplen is None else min(caplen, len(frame))
        n = min(n, self.snaplen)
        self.records.append((self.t, frame, n))

    def write(self, path):
        out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, self.snaplen, 1)]
        for ts, frame, n in self.records:
            out.append(struct.pack("<IIII", ts // 10**6, ts % 10**6, n, len(frame)))
            out.append(frame[:n])
        with open(path, "wb") as f:
            f.write(b"".join(out))


class Conn:
    """One TCP connection between the client and the server, tracking both
    sides' sequence numbers.  Every method advances the capture clock by dt
    microseconds before its packet."""

    def __init__(self, cap, cport, sport=25, cisn=1000, sisn=5000):
        self.cap = cap
        self.port = {C: cport, S: sport}
        self.nxt = {C: cisn, S: sisn}
        self.ipid = {C: 0x1000 + cport % 0x1000, S: 0x4000 + cport % 0x1000}

    def frame(self, side, flags, payload=b"", seq=None, ack=None):
        """The Ethernet frame of one segment (nothing is added)."""
        other = S if side == C else C
        src, dst = (CLIENT_IP, SERVER_IP) if side == C else (SERVER_IP, CLIENT_IP)
        seq = self.nxt[side] if seq is None else seq
        ack = (self.nxt[other] if flags & ACK else 0) if ack is None else ack
        tcp = struct.pack("!HHIIBBHHH", self.port[side], self.port[other], seq & 0xFFFFFFFF,
                          ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0) + payload
        c = csum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        self.ipid[side] = (self.ipid[side] + 1) & 0xFFFF
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), self.ipid[side], 0x4000, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        eth = (MAC_S + MAC_C) if side == C else (MAC_C + MAC_S)
        return eth + b"\x08\x00" + ip + tcp

    def send(self, side, flags, payload=b"", dt=1000, seq=None, ack=None, advance=True, caplen=None):
        """Adds one segment; returns its frame (to duplicate it later)."""
        self.cap.t += dt
        f = self.frame(side, flags, payload, seq, ack)
        self.cap.add(f, caplen)
        if advance and seq is None:
            self.nxt[side] += len(payload) + (1 if flags & (SYN | FIN) else 0)
        return f

    def handshake(self, dt=1000):
        self.send(C, SYN, dt=dt)
        self.send(S, SYN | ACK, dt=200)
        self.send(C, ACK, dt=100)

    def data(self, side, payload, dt=1000, acked=True, caplen=None):
        """One data segment, and the other side's ACK when acked."""
        self.send(side, PSH | ACK, payload, dt=dt, caplen=caplen)
        if acked:
            self.ack(S if side == C else C, caplen=caplen)

    def ack(self, side, dt=300, caplen=None):
        self.send(side, ACK, dt=dt, caplen=caplen)

    def typed(self, text, dt=40000, acked=True, caplen=None):
        """The client types text one byte per segment."""
        for i in range(len(text)):
            self.data(C, text[i:i + 1], dt=dt, acked=acked, caplen=caplen)

    def reply(self, text, dt=5000):
        self.data(S, text, dt=dt)

    def close(self, first=S, dt=10000):
        second = C if first == S else S
        self.send(first, FIN | ACK, dt=dt)
        self.ack(second)
        self.send(second, FIN | ACK, dt=2000)
        self.ack(first)


def banner(conn, dt=20000):
    conn.reply(b"220 lab.example ESMTP Postfix\r\n", dt=dt)


def lab_end(conn):
    conn.typed(b"quit\r\n")
    conn.reply(b"221 2.0.0 Bye\r\n")
    conn.close()


# ---------------------------------------------------------------- captures

def tls_client_hello():
    """A TLS ClientHello (implicit TLS) sent to an SMTP server: the 0xff of
    the renegotiation SCSV is an IAC, and the record holds CR and LF bytes."""
    rng = random.Random(4401)
    sni = b"mail.lab.example"
    suites = bytes.fromhex("c02bc02fc02cc030cca9cca8c013c014009c009d002f003500ff")
    ext = b""
    ext += struct.pack("!HHHBH", 0, len(sni) + 5, len(sni) + 3, 0, len(sni)) + sni
    ext += struct.pack("!HHH", 10, 8, 6) + bytes.fromhex("001d00170018")
    ext += struct.pack("!HHB", 11, 2, 1) + b"\x00"
    ext += struct.pack("!HHH", 13, 10, 8) + bytes.fromhex("0403050308040401")
    ext += struct.pack("!HHB", 43, 5, 4) + bytes.fromhex("03040303")
    ext += struct.pack("!HH", 0x0a0d, 4) + b"\r\n\r\n"   # an unassigned extension holding CR LF
    body = b"\x03\x03" + bytes(rng.getrandbits(8) for _ in range(32)) + b"\x20" + \
        bytes(rng.getrandbits(8) for _ in range(32)) + struct.pack("!H", len(suites)) + suites + \
        b"\x01\x00" + struct.pack("!H", len(ext)) + ext
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    record = b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs
    cap = Capture()
    c = Conn(cap, 49301)
    c.handshake()
    banner(c)
    c.data(C, record, dt=3000)
    c.reply(b"500 5.5.2 Error: bad syntax\r\n")
    c.close(first=C, dt=30000)
    return cap


def http_request():
    """A web client and a web server on port 25: no banner, no SMTP."""
    cap = Capture()
    c = Conn(cap, 49302)
    c.handshake()
    c.data(C, b"GET / HTTP/1.1\r\nHost: lab.example:25\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n")
    c.data(S, b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 22\r\n\r\n"
              b"<html>It works</html>\n", dt=2000)
    c.close(first=S)
    return cap


def random_bytes():
    """Random bytes both ways, then RST."""
    rng = random.Random(2501)
    cap = Capture()
    c = Conn(cap, 49303)
    c.handshake()
    for n in (37, 512, 1448):
        c.data(C, bytes(rng.getrandbits(8) for _ in range(n)))
    for n in (64, 900):
        c.data(S, bytes(rng.getrandbits(8) for _ in range(n)))
    c.send(C, RST | ACK, dt=1000)
    return cap


def iac_flood():
    """Full segments of telnet commands: DO ECHO, NOP, IAC IAC (literal
    0xff data), SB TERMINAL-TYPE IS xterm SE, then a line."""
    cap = Capture()
    c = Conn(cap, 49304)
    c.handshake()
    banner(c)
    c.data(C, bytes([IAC, DO, 1]) * 482)
    c.data(C, bytes([IAC, NOP]) * 724)
    c.data(C, bytes([IAC, IAC]) * 724)
    c.data(C, (bytes([IAC, SB, 24, 0]) + b"xterm" + bytes([IAC, SE])) * 131)
    c.data(C, bytes([IAC, AYT, IAC, WILL, 31]) * 289 + b"helo lab.example\r\n")
    c.reply(b"500 5.5.2 Error: bad syntax\r\n")
    lab_end(c)
    return cap


def iac_segment_end():
    """Telnet commands split across segments, IAC as a segment's last byte,
    and a capture that ends right after an IAC."""
    cap = Capture()
    c = Conn(cap, 49305)
    c.handshake()
    banner(c)
    for seg in (bytes([IAC]), bytes([DO]), bytes([3]),              # IAC DO SGA, byte by byte
                b"h" + bytes([IAC]), bytes([EC]),                     # h, then IAC EC erases it
                b"he" + bytes([IAC]), bytes([IAC]) + b"lo",           # IAC IAC: a literal 0xff
                bytes([IAC, SB]), bytes([24, 1]) + bytes([IAC]), bytes([SE]),  # SB split at IAC
                bytes([IAC]), b"\r\n"):                               # IAC then CR: an unknown command 0x0d
        c.data(C, seg)
    c.reply(b"500 5.5.2 Error: bad syntax\r\n")
    c.data(C, b"helo lab.example\r" + bytes([IAC]))
    c.data(C, bytes([NOP]) + b"\n")
    c.reply(b"250 lab.example\r\n")
    c.data(C, b"quit\r\n" + bytes([IAC]))
    c.reply(b"221 2.0.0 Bye\r\n")
    return cap


def sb_no_se():
    """Subnegotiations that never end: one longer than the 1024-byte limit
    (with a CR LF inside it), one broken by IAC NOP, one cut by the close."""
    cap = Capture()
    c = Conn(cap, 49306)
    c.handshake()
    banner(c)
    c.data(C, bytes([IAC, SB, 24, 0]) + b"x" * 600 + b"\r\n" + b"y" * 440)
    c.data(C, b"z" * 20 + b"helo lab.example\r\n")
    c.reply(b"500 5.5.2 Error: bad syntax\r\n")
    c.data(C, bytes([IAC, SB, 31, 0, 80]) + bytes([IAC, NOP]) + b"helo lab.example\r\n")
    c.reply(b"250 lab.example\r\n")
    c.data(C, bytes([IAC, SB, 24]) + b"quit\r\n")
    c.close(first=C)
    return cap


def nul_8bit():
    """NUL and 8-bit bytes inside lines, in both directions, and every line
    ending: CRLF, CR NUL, bare LF, bare CR."""
    cap = Capture()
    c = Conn(cap, 49307)
    c.handshake()
    c.reply(b"220 lab.example ESMTP gr\xfc\xdf dich\x00 \x80\xff\xff\r\n")
    c.data(C, b"helo lab\x00.ex\xe4mple\r\n")
    c.reply(b"250 lab.example\r\n")
    c.data(C, b"\x00\x00\x00\r\n")
    c.reply(b"500 5.5.2 Error: bad \x00 syntax\r\n")
    # A server waits for LF: "noop ...\r\0rset\n" and "noop\rquit\r\n" are
    # one line each to it, and get one reply each.
    c.typed(b"noop \x01\x7e\x9b\xa0\r\x00")
    c.data(C, b"rset\n")
    c.reply(b"500 5.5.2 Error: bad syntax\n")
    c.data(C, b"noop\rquit\r\n")
    c.reply(b"250 2.0.0 Ok\r\n")
    c.data(C, b"quit\r\n")
    c.reply(b"221 2.0.0 Bye\r\n")
    c.close()
    return cap


def invalid_utf8():
    """Invalid and partial UTF-8, erased with BS and DEL one byte per
    segment: each erase removes one whole character when the bytes before
    it end one, else one byte."""
    cap = Capture()
    c = Conn(cap, 49308)
    c.handshake()
    banner(c)
    c.data(C, b"helo \xc3\x28.\xc0\xafexample\xed\xa0\x80\r\n")
    c.reply(b"250 lab.example \xff\xfe \xf8\x88\x80\x80\x80\r\n")
    c.typed(b"noop \xe2\x82" + BS + b"\xf0\x9f\x98\x80" + BS + b"\x80\x80\x80\x80" + DEL +
            b"\xc3" + BS + b"\xf8\x88\x80\x80\x80" + BS + b"\xe2\x82\xac" + BS + b"x\r\n")
    c.reply(b"250 2.0.0 Ok\r\n")
    lab_end(c)
    return cap


def snaplen():
    """A typed session captured with a 72-byte snaplen: headers are 54
    bytes, so 18 payload bytes are kept; some frames are cut shorter,
    inside the TCP header (44 bytes) and inside the IP header (30)."""
    cap = Capture(snaplen=72)
    c = Conn(cap, 49309)
    c.handshake()
    banner(c)
    c.typed(b"helo")
    c.data(C, b" ", caplen=44)                       # TCP header cut
    c.typed(b"lab.example")
    c.data(C, b"\r", caplen=30)                      # IP header cut
    c.data(C, b"\n")
    c.reply(b"250-lab.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n")
    c.data(C, b"mail from:<student@lab.example>\r\n")
    c.reply(b"250 2.1.0 Ok\r\n")
    lab_end(c)
    return cap


def retrans_dup_ooo():
    """Typed keystrokes retransmitted, duplicated (the same frame twice),
    out of order, and a retransmission overlapping new bytes; sequence
    numbers wrap around 2^32 in the middle of the line."""
    cap = Capture()
    c = Conn(cap, 49310, cisn=0xFFFFFFFA, sisn=0x7FFFFFF0)
    c.handshake()
    banner(c)
    c.typed(b"hel")
    c.send(C, PSH | ACK, b"e", seq=c.nxt[C] - 2, dt=200000)   # retransmission of "e"
    f = c.send(C, PSH | ACK, b"o", dt=40000)
    cap.add(f)                                        # exact duplicate frame
    c.ack(S)
    c.typed(b" ")
    # "lab": "a" is sent before "l" in the capture (out of order).
    base = c.nxt[C]
    c.send(C, PSH | ACK, b"a", seq=base + 1, dt=40000, advance=False)
    c.send(C, PSH | ACK, b"l", seq=base, dt=40000, advance=False)
    c.nxt[C] = base + 2
    c.ack(S)
    c.typed(b"b.exam")
    # Retransmission of "m" together with the new "p".
    c.send(C, PSH | ACK, b"mp", seq=c.nxt[C] - 1, dt=40000, advance=False)
    c.nxt[C] += 1
    c.ack(S)
    c.typed(b"le\r\n")
    f = c.send(S, PSH | ACK, b"250 lab.example\r\n", dt=5000)
    c.send(S, PSH | ACK, b"250 lab.example\r\n", seq=c.nxt[S] - 17, dt=200000)  # reply retransmitted
    c.ack(C)
    lab_end(c)
    return cap


def midstream():
    """The capture starts in the middle of a typed HELO line: no handshake,
    no banner; then the rest of a session."""
    cap = Capture()
    c = Conn(cap, 49311, cisn=300000, sisn=700000)
    c.typed(b"lo lab.example\r\n")
    c.reply(b"250 lab.example\r\n")
    c.data(C, b"MAIL FROM:<student@lab.example>\r\n")
    c.reply(b"250 2.1.0 Ok\r\n")
    lab_end(c)
    return cap


def typed_before_banner():
    """The client types HELO before the server's banner arrives."""
    cap = Capture()
    c = Conn(cap, 49312)
    c.handshake()
    c.typed(b"helo lab.example\r\n")
    banner(c, dt=2000000)
    c.reply(b"250 lab.example\r\n", dt=1000)
    lab_end(c)
    return cap


def port_reuse():
    """Two connections on the same ports, one after the other: the second
    SYN has a new initial sequence number."""
    cap = Capture()
    c = Conn(cap, 49313, cisn=1000, sisn=5000)
    c.handshake()
    banner(c)
    c.typed(b"helo a.example\r\n")
    c.reply(b"250 lab.example\r\n")
    lab_end(c)
    cap.t += 1000000
    c = Conn(cap, 49313, cisn=900000, sisn=2000000)
    c.handshake()
    banner(c)
    c.data(C, b"EHLO b.example\r\n")
    c.reply(b"250-lab.example\r\n250 8BITMIME\r\n")
    c.data(C, b"MAIL FROM:<b@b.example>\r\n")
    c.send(C, RST | ACK, dt=1000)
    return cap


def reply_no_command():
    """Replies that answer no command: an unsolicited 250 after the banner,
    and a 421 on a timeout before the server closes."""
    cap = Capture()
    c = Conn(cap, 49314)
    c.handshake()
    banner(c)
    c.reply(b"250 hello?\r\n", dt=1000000)
    c.typed(b"helo lab.example\r\n")
    c.reply(b"250 lab.example\r\n")
    c.reply(b"421 4.4.2 lab.example Error: timeout exceeded\r\n", dt=300000000)
    c.close(first=S)
    return cap


def only_backspaces():
    """Lines that are only erase keystrokes: BS and DEL, telnet EC, and an
    EL; each meant line is empty."""
    cap = Capture()
    c = Conn(cap, 49315)
    c.handshake()
    banner(c)
    c.typed(BS + BS + BS + DEL + b"\r\n")
    c.reply(b"500 5.5.2 Error: bad syntax\r\n")
    c.typed(b"x" + BS + BS + b"\r\n")
    c.reply(b"500 5.5.2 Error: bad syntax\r\n")
    c.data(C, bytes([IAC, EC, IAC, EC]) + b"\r\n")
    c.reply(b"500 5.5.2 Error: bad syntax\r\n")
    c.data(C, b"helo" + bytes([IAC, EL]) + b"\r\n")
    c.reply(b"500 5.5.2 Error: bad syntax\r\n")
    c.typed(b"helo lab.example\r\n")
    c.reply(b"250 lab.example\r\n")
    lab_end(c)
    return cap


def endless_line(mib=1, port=49316):
    """1 MiB of a HELO line that never ends, in full segments, then the
    client closes."""
    cap = Capture()
    c = Conn(cap, port)
    c.handshake()
    banner(c)
    pattern = b"abcdefghijklmnopqrstuvwxyz0123456789"
    line = (b"HELO " + pattern * ((mib << 20) // len(pattern) + 1))[:mib << 20]
    for i, off in enumerate(range(0, len(line), 1448)):
        c.send(C, PSH | ACK, line[off:off + 1448], dt=100)
        if i % 16 == 15:
            c.ack(S, dt=50)
    c.ack(S, dt=50)
    c.send(C, FIN | ACK, dt=1000000)
    c.ack(S)
    c.send(S, FIN | ACK, dt=2000)
    c.ack(C)
    return cap


def segments_100k():
    """One EHLO line of 100 000 bytes typed one byte per segment (no ACKs
    in between), its reply, then QUIT."""
    cap = Capture()
    c = Conn(cap, 49317)
    c.handshake()
    banner(c)
    line = b"EHLO " + b"x" * 99993 + b"\r\n"
    c.typed(line, dt=1000, acked=False)
    c.ack(S)
    c.reply(b"500 5.5.2 Error: line too long\r\n")
    c.data(C, b"QUIT\r\n")
    c.reply(b"221 2.0.0 Bye\r\n")
    c.close()
    return cap


def long_line():
    """A HELO line of 70 000 bytes in 1448-byte segments, longer than the
    64 KiB the plugin keeps of a line, completed with CRLF, its 500 reply,
    then QUIT."""
    cap = Capture()
    c = Conn(cap, 49319)
    c.handshake()
    banner(c)
    pattern = b"abcdefghijklmnopqrstuvwxyz0123456789"
    line = (b"HELO " + pattern * (70000 // len(pattern) + 1))[:69998] + b"\r\n"
    for i, off in enumerate(range(0, len(line), 1448)):
        c.send(C, PSH | ACK, line[off:off + 1448], dt=100)
        if i % 16 == 15:
            c.ack(S, dt=50)
    c.ack(S, dt=50)
    c.reply(b"500 5.5.2 Error: line too long\r\n")
    c.data(C, b"QUIT\r\n")
    c.reply(b"221 2.0.0 Bye\r\n")
    c.close()
    return cap


SMALL = {
    "tls-clienthello": tls_client_hello,
    "http-request": http_request,
    "random-bytes": random_bytes,
    "iac-flood": iac_flood,
    "iac-segment-end": iac_segment_end,
    "sb-no-se": sb_no_se,
    "nul-8bit": nul_8bit,
    "invalid-utf8": invalid_utf8,
    "snaplen": snaplen,
    "retrans-dup-ooo": retrans_dup_ooo,
    "midstream": midstream,
    "typed-before-banner": typed_before_banner,
    "port-reuse": port_reuse,
    "reply-no-command": reply_no_command,
    "only-backspaces": only_backspaces,
}
def endless_line_32m():
    """The endless line at 32 MiB (for the memory test: more than the plugin
    keeps of a line)."""
    return endless_line(32, 49318)


BIG = {
    "endless-line": endless_line,
    "segments-100k": segments_100k,
    "endless-line-32m": endless_line_32m,
    "long-line": long_line,
}


def main(argv):
    if argv[1:] == ["--list"]:
        for name, fn in list(SMALL.items()) + list(BIG.items()):
            print(f"{name}\t{' '.join(fn.__doc__.split())}")
        return 0
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    outdir, names = argv[1], argv[2:] or list(SMALL)
    for name in names:
        fn = SMALL.get(name) or BIG.get(name)
        if fn is None:
            print(f"unknown capture {name}", file=sys.stderr)
            return 2
        fn().write(f"{outdir}/{name}.pcap")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
