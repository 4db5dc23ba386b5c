#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# gen-capture.py: builds a large benchmark capture, deterministically, from
# the committed recorded sessions in tests/captures plus synthetic non-SMTP
# traffic.
"""Build a large, deterministic benchmark capture.  Stdlib only.

  gen-capture.py --frames N --out FILE.pcap [--captures DIR] [--seed S]

The capture is made of whole "cycles".  One cycle is a fixed list of
sessions (CYCLE below): copies of the recorded IPv4 SMTP sessions in
tests/captures, each rewritten to a client address of its own (10.x.y.z),
its own client port and its own TCP initial sequence numbers, so that
every copy is a separate TCP conversation; copies of client-program
sessions with the server port rewritten to 443 (non-SMTP TCP); synthetic
HTTP exchanges on port 80; synthetic DNS query/response pairs on UDP 53.
Sessions start CYCLE_PERIOD / len(CYCLE) apart and keep their recorded
timing, so many conversations overlap, as on a busy lab network.  Packets
are merged in time order and written as classic libpcap (nanosecond
timestamps, Ethernet).  As many cycles as needed for at least N frames
are written, so the mix and the number of concurrent conversations are
the same at every size.  IPv4 and TCP/UDP checksums are recomputed.

A summary (frames, sessions per kind) is printed as JSON on stdout.
"""

import argparse
import hashlib
import heapq
import json
import os
import random
import struct
import sys

# (kind, template, server port after rewriting, copies per cycle)
#   typed:  a person typing, one keystroke per TCP segment
#   client: a client program, one segment per command
#   other:  non-SMTP traffic
CYCLE = [
    ("typed", "typed-lab.pcapng", 25, 3),
    ("typed", "typed-587.pcapng", 587, 1),
    ("typed", "telnet-char.pcapng", 25, 1),
    ("typed", "typed-backspace.pcapng", 25, 1),
    ("typed", "no-quit.pcapng", 25, 1),
    ("client", "swaks.pcapng", 25, 3),
    ("client", "pipelining.pcapng", 25, 2),
    ("client", "auth.pcapng", 587, 1),
    ("client", "telnet-line.pcapng", 25, 1),
    ("other", "swaks.pcapng", 443, 1),
    ("other", "pipelining.pcapng", 443, 1),
    ("other", "@http", 80, 3),
    ("other", "@dns", 53, 10),
]
CYCLE_PERIOD_NS = 400_000_000          # one cycle of sessions every 0.4 s
START_NS = 1_700_000_000 * 10**9       # 2023-11-14 22:13:20 UTC
SERVER_IP = {25: "172.16.0.25", 587: "172.16.0.25", 443: "172.16.0.43",
             80: "172.16.0.80", 53: "172.16.0.53"}
MAC_CLIENT = bytes.fromhex("020000000001")
MAC_SERVER = bytes.fromhex("020000000002")


def read_pcapng(path):
    """(timestamp ns, Ethernet frame) for each packet of a pcapng file."""
    data = open(path, "rb").read()
    pos = 0
    endian = "<"
    tsres = {}
    linktype = {}
    out = []
    while pos + 12 <= len(data):
        btype, blen = struct.unpack_from(endian + "II", data, pos)
        if btype == 0x0A0D0D0A:
            bom = data[pos + 8:pos + 12]
            endian = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            btype, blen = struct.unpack_from(endian + "II", data, pos)
            tsres.clear()
            linktype.clear()
        elif btype == 1:  # interface description
            iface = len(linktype)
            linktype[iface] = struct.unpack_from(endian + "H", data, pos + 8)[0]
            tsres[iface] = 10**6
            opt = pos + 16
            while opt + 4 <= pos + blen - 4:
                code, olen = struct.unpack_from(endian + "HH", data, opt)
                if code == 0:
                    break
                if code == 9:  # if_tsresol
                    v = data[opt + 4]
                    tsres[iface] = 2 ** (v & 0x7F) if v & 0x80 else 10 ** v
                opt += 4 + ((olen + 3) & ~3)
        elif btype == 6:  # enhanced packet
            iface, hi, lo, caplen = struct.unpack_from(endian + "IIII", data, pos + 8)
            if linktype[iface] != 1:
                sys.exit(f"{path}: only Ethernet captures are supported")
            ticks = (hi << 32) | lo
            ts = ticks * 10**9 // tsres[iface]
            out.append((ts, data[pos + 28:pos + 28 + caplen]))
        pos += blen
    return out


def csum(data):
    """Internet checksum."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip_bytes(dotted):
    return bytes(int(x) for x in dotted.split("."))


def ipv4(src, dst, proto, payload, ident, ttl=64, flags_frag=0x4000):
    """IPv4 header with a correct checksum, followed by payload."""
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident,
                      flags_frag, ttl, proto, 0, src, dst)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def l4_checksum(src, dst, proto, seg):
    return csum(src + dst + struct.pack("!BBH", 0, proto, len(seg)) + seg)


class Template:
    """One recorded TCP session, parsed once."""

    def __init__(self, path):
        pkts = read_pcapng(path)
        t0 = pkts[0][0]
        self.packets = []   # (offset ns, from client, ip id, ttl, frag, tcp header, payload)
        client = None
        for ts, frame in pkts:
            if struct.unpack_from("!H", frame, 12)[0] != 0x0800:
                sys.exit(f"{path}: not IPv4")
            ip = frame[14:]
            ihl = (ip[0] & 0x0F) * 4
            total = struct.unpack_from("!H", ip, 2)[0]
            if ip[9] != 6:
                sys.exit(f"{path}: not TCP")
            src = ip[12:16]
            ident, frag = struct.unpack_from("!HH", ip, 4)
            tcp = ip[ihl:total]
            thl = (tcp[12] >> 4) * 4
            if client is None:
                client = (src, struct.unpack_from("!H", tcp, 0)[0])
            from_client = (src, struct.unpack_from("!H", tcp, 0)[0]) == client
            self.packets.append((ts - t0, from_client, ident, ip[8], frag,
                                 tcp[:thl], tcp[thl:]))
        self.duration = self.packets[-1][0]


def tcp_session(tpl, k, server_port, rng):
    """Yields (offset ns, frame) for copy k of a template."""
    cip = struct.pack("!I", 0x0A000000 + k)
    sip = ip_bytes(SERVER_IP[server_port])
    cport = 20000 + k % 40000
    dc = rng.getrandbits(32)   # added to the client's sequence numbers
    ds = rng.getrandbits(32)   # added to the server's sequence numbers
    for off, from_client, ident, ttl, frag, th, payload in tpl.packets:
        seq, ack = struct.unpack_from("!II", th, 4)
        flags = th[13]
        if from_client:
            src, dst, sp, dp = cip, sip, cport, server_port
            seq = (seq + dc) & 0xFFFFFFFF
            if flags & 0x10:
                ack = (ack + ds) & 0xFFFFFFFF
            eth = MAC_SERVER + MAC_CLIENT
        else:
            src, dst, sp, dp = sip, cip, server_port, cport
            seq = (seq + ds) & 0xFFFFFFFF
            if flags & 0x10:
                ack = (ack + dc) & 0xFFFFFFFF
            eth = MAC_CLIENT + MAC_SERVER
        hdr = struct.pack("!HHII", sp, dp, seq, ack) + th[12:16] + b"\0\0" + th[18:]
        seg = hdr + payload
        c = l4_checksum(src, dst, 6, seg)
        seg = seg[:16] + struct.pack("!H", c) + seg[18:]
        yield off, eth + b"\x08\x00" + ipv4(src, dst, 6, seg, ident, ttl, frag)


def synth_tcp(k, server_port, exchanges, rng):
    """A synthetic TCP session: handshake, (offset, from client, payload)
    exchanges, each segment ACKed, FIN from both sides."""
    cip = struct.pack("!I", 0x0A000000 + k)
    sip = ip_bytes(SERVER_IP[server_port])
    cport = 20000 + k % 40000
    seq = {True: rng.getrandbits(32), False: rng.getrandbits(32)}
    ident = {True: rng.getrandbits(16), False: rng.getrandbits(16)}
    pkts = []

    def seg(off, from_client, flags, payload=b""):
        s = seq[from_client]
        a = seq[not from_client] if flags & 0x10 else 0
        if from_client:
            src, dst, sp, dp, eth = cip, sip, cport, server_port, MAC_SERVER + MAC_CLIENT
        else:
            src, dst, sp, dp, eth = sip, cip, server_port, cport, MAC_CLIENT + MAC_SERVER
        hdr = struct.pack("!HHIIBBHHH", sp, dp, s, a, 0x50, flags, 65535, 0, 0)
        body = hdr + payload
        c = l4_checksum(src, dst, 6, body)
        body = body[:16] + struct.pack("!H", c) + body[18:]
        pkts.append((off, eth + b"\x08\x00" + ipv4(src, dst, 6, body, ident[from_client])))
        ident[from_client] = (ident[from_client] + 1) & 0xFFFF
        seq[from_client] = (s + len(payload) + (1 if flags & 0x03 else 0)) & 0xFFFFFFFF

    seg(0, True, 0x02)
    seg(30_000, False, 0x12)
    seg(60_000, True, 0x10)
    t = 60_000
    for gap, from_client, payload in exchanges:
        t += gap
        seg(t, from_client, 0x18, payload)
        t += 40_000
        seg(t, not from_client, 0x10)
    t += 1_000_000
    seg(t, True, 0x11)
    seg(t + 30_000, False, 0x11)
    seg(t + 60_000, True, 0x10)
    return pkts


def http_session(k, rng):
    body = (b"<html><body>bench page %d</body></html>\n" % k) * (1 + k % 4)
    req = (b"GET /page/%d HTTP/1.1\r\nHost: www.lab.example\r\n"
           b"User-Agent: smtplab-bench\r\nAccept: */*\r\n\r\n" % k)
    resp = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)) + body
    return synth_tcp(k, 80, [(200_000, True, req), (3_000_000, False, resp)], rng)


def dns_pair(k, rng):
    """A DNS A query and its answer."""
    cip = struct.pack("!I", 0x0A000000 + k)
    sip = ip_bytes(SERVER_IP[53])
    cport = 1024 + rng.randrange(64000)
    txid = rng.getrandbits(16)
    qname = b"".join(bytes([len(p)]) + p for p in
                     (b"host%d" % (k % 5000), b"lab", b"example")) + b"\0"
    question = qname + struct.pack("!HH", 1, 1)
    query = struct.pack("!HHHHHH", txid, 0x0100, 1, 0, 0, 0) + question
    answer = (struct.pack("!HHHHHH", txid, 0x8180, 1, 1, 0, 0) + question
              + struct.pack("!HHHIH", 0xC00C, 1, 1, 300, 4)
              + struct.pack("!I", 0xAC100000 + k % 65536))
    out = []
    for off, src, dst, sp, dp, eth, msg in (
            (0, cip, sip, cport, 53, MAC_SERVER + MAC_CLIENT, query),
            (250_000, sip, cip, 53, cport, MAC_CLIENT + MAC_SERVER, answer)):
        udp = struct.pack("!HHHH", sp, dp, 8 + len(msg), 0) + msg
        c = l4_checksum(src, dst, 17, udp) or 0xFFFF
        udp = udp[:6] + struct.pack("!H", c) + udp[8:]
        out.append((off, eth + b"\x08\x00" + ipv4(src, dst, 17, udp, rng.getrandbits(16))))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, required=True, help="at least this many frames")
    ap.add_argument("--out", required=True, help="pcap file to write")
    ap.add_argument("--captures", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                       "..", "captures"))
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    templates = {}
    per_cycle = 0
    sessions_per_cycle = 0
    for kind, name, port, copies in CYCLE:
        if not name.startswith("@") and name not in templates:
            templates[name] = Template(os.path.join(args.captures, name))
        n = {"@http": 10, "@dns": 2}.get(name) or len(templates[name].packets)
        per_cycle += n * copies
        sessions_per_cycle += copies
    cycles = -(-args.frames // per_cycle)

    rng = random.Random(args.seed)
    gap = CYCLE_PERIOD_NS // sessions_per_cycle
    stats = {"typed": [0, 0], "client": [0, 0], "other": [0, 0]}
    per_template = {}

    def sessions():
        """(start ns, kind, label, packet list) in start order."""
        k = 0
        for c in range(cycles):
            for kind, name, port, copies in CYCLE:
                for _ in range(copies):
                    k += 1
                    start = START_NS + c * CYCLE_PERIOD_NS + (k - 1) % sessions_per_cycle * gap
                    if name == "@http":
                        pk = http_session(k, rng)
                    elif name == "@dns":
                        pk = dns_pair(k, rng)
                    else:
                        pk = list(tcp_session(templates[name], k, port, rng))
                    yield start, kind, f"{name}:{port}", pk

    tmp = args.out + ".tmp"
    sha = hashlib.sha256()
    frames = 0
    with open(tmp, "wb") as f:
        def write(b):
            f.write(b)
            sha.update(b)
        # classic libpcap, nanosecond timestamps, snaplen 262144, Ethernet
        write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))
        heap = []   # (timestamp, session number, index, packets)
        seqno = 0
        src = sessions()
        pending = next(src, None)
        while heap or pending:
            # Start every session due before the earliest queued packet.
            while pending and (not heap or pending[0] <= heap[0][0]):
                start, kind, label, pk = pending
                seqno += 1
                stats[kind][0] += 1
                stats[kind][1] += len(pk)
                per_template[label] = per_template.get(label, 0) + 1
                base = [(start + off, fr) for off, fr in pk]
                heapq.heappush(heap, (base[0][0], seqno, 0, base))
                pending = next(src, None)
            ts, n, i, base = heapq.heappop(heap)
            frame = base[i][1]
            write(struct.pack("<IIII", ts // 10**9, ts % 10**9, len(frame), len(frame)) + frame)
            frames += 1
            if i + 1 < len(base):
                heapq.heappush(heap, (base[i + 1][0], n, i + 1, base))
    os.replace(tmp, args.out)

    smtp_frames = stats["typed"][1] + stats["client"][1]
    print(json.dumps({
        "file": args.out, "frames": frames, "cycles": cycles, "seed": args.seed,
        "frames_per_cycle": per_cycle, "sha256": sha.hexdigest(),
        "typed_sessions": stats["typed"][0], "typed_frames": stats["typed"][1],
        "client_sessions": stats["client"][0], "client_frames": stats["client"][1],
        "other_sessions": stats["other"][0], "other_frames": stats["other"][1],
        "smtp_port_frames": smtp_frames,
        "sessions_per_template": per_template,
    }, indent=1))


if __name__ == "__main__":
    main()
