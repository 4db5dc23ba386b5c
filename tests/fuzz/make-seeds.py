#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Seed corpora for the libFuzzer targets, taken from the test captures.
Stdlib only.

  make-seeds.py OUTDIR CAPTURE...

Writes OUTDIR/<target>/<name> for the four targets (see targets/*.c for
the input formats):
  fuzz_line_assembly   each direction's byte stream of each SMTP
                       connection (first 2 KiB), after two seed bytes
  fuzz_stage_machine   each connection's packets, encoded as the target
                       reads them (first 6 KiB)
  fuzz_smtp_parse      distinct command and reply lines
  fuzz_tcp_locate      a SYN, a data frame and a FIN of each connection,
                       with the addresses and ports to look for
Reads classic pcap and pcapng with Ethernet (VLAN tags too), BSD loopback
or raw IP frames.  The committed corpora (tests/fuzz/corpus) were written
by this script; run it again after adding captures.
"""

import hashlib
import os
import struct
import sys

SMTP_PORTS = (25, 587)


def packets(path):
    """(linktype, frame bytes) of every packet of a pcap or pcapng file."""
    data = open(path, "rb").read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = "<" if magic[0] in (0xD4, 0x4D) else ">"
        link = struct.unpack_from(e + "I", data, 20)[0]
        pos = 24
        while pos + 16 <= len(data):
            incl = struct.unpack_from(e + "I", data, pos + 8)[0]
            yield link, data[pos + 16:pos + 16 + incl]
            pos += 16 + incl
        return
    e, pos, links = "<", 0, []
    while pos + 12 <= len(data):
        btype = struct.unpack_from(e + "I", data, pos)[0]
        if btype == 0x0A0D0D0A:
            e = "<" if data[pos + 8:pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            links = []
        blen = struct.unpack_from(e + "I", data, pos + 4)[0]
        if btype == 1:
            links.append(struct.unpack_from(e + "H", data, pos + 8)[0])
        elif btype == 6:
            iface, _, _, caplen = struct.unpack_from(e + "IIII", data, pos + 8)
            yield links[iface], data[pos + 28:pos + 28 + caplen]
        pos += max(blen, 12)


def ip_offset(link, frame):
    """Offset of the IP header in a frame, or None."""
    if link == 1:
        off, etype = 14, struct.unpack_from("!H", frame, 12)[0] if len(frame) >= 14 else 0
        while etype in (0x8100, 0x88A8) and len(frame) >= off + 4:
            etype = struct.unpack_from("!H", frame, off + 2)[0]
            off += 4
        return off if etype in (0x0800, 0x86DD) else None
    if link == 0:
        return 4
    if link in (101, 228, 229):
        return 0
    return None


def tcp_segment(link, frame):
    """(family, src, dst, sport, dport, seq, ack, flags, payload, ip offset)
    of a TCP segment, or None."""
    o = ip_offset(link, frame)
    if o is None or len(frame) < o + 20:
        return None
    v = frame[o] >> 4
    if v == 4:
        ihl = (frame[o] & 15) * 4
        total = struct.unpack_from("!H", frame, o + 2)[0]
        if frame[o + 9] != 6 or struct.unpack_from("!H", frame, o + 6)[0] & 0x1FFF:
            return None
        src, dst, t, end = frame[o + 12:o + 16], frame[o + 16:o + 20], o + ihl, o + total
        fam = 4
    elif v == 6 and len(frame) >= o + 40 and frame[o + 6] == 6:
        plen = struct.unpack_from("!H", frame, o + 4)[0]
        src, dst, t, end = frame[o + 8:o + 24], frame[o + 24:o + 40], o + 40, o + 40 + plen
        fam = 6
    else:
        return None
    if len(frame) < t + 20:
        return None
    sport, dport, seq, ack = struct.unpack_from("!HHII", frame, t)
    thl = (frame[t + 12] >> 4) * 4
    return fam, src, dst, sport, dport, seq, ack, frame[t + 13], frame[t + thl:min(end, len(frame))], o


def connections(path):
    """The SMTP connections of a capture: key -> list of (from client,
    segment, frame)."""
    conns = {}
    for link, frame in packets(path):
        s = tcp_segment(link, frame)
        if s is None:
            continue
        fam, src, dst, sport, dport, *_ = s
        if dport in SMTP_PORTS:
            key, client = (src, sport, dst, dport), True
        elif sport in SMTP_PORTS:
            key, client = (dst, dport, src, sport), False
        else:
            continue
        conns.setdefault(key, []).append((client, s, frame))
    return conns


def write(outdir, target, name, data):
    d = os.path.join(outdir, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main(argv):
    outdir, caps = argv[1], argv[2:]
    lines_seen = set()
    for cap in caps:
        base = os.path.basename(cap).rsplit(".", 1)[0]
        for k, (key, segs) in enumerate(sorted(connections(cap).items(), key=lambda kv: kv[0][1])):
            name = f"{base}-{k}"
            streams = {True: b"", False: b""}
            enc = struct.pack("!H", key[3])
            for client, s, frame in segs:
                fam, src, dst, sport, dport, seq, ack, flags, payload, o = s
                streams[client] += payload
                if len(enc) < 6144:
                    ctl = (0x80 if client else 0) | (flags & 0x17)
                    enc += struct.pack("!BH", ctl, len(payload)) + payload + b"\x28"
            for client in (True, False):
                if streams[client]:
                    write(outdir, "fuzz_line_assembly", f"{name}-{'c' if client else 's'}",
                          bytes([1 if client else 0, 7]) + streams[client][:2048])
                for line in streams[client].split(b"\n")[:40]:
                    line = line.rstrip(b"\r")
                    if 0 < len(line) <= 200 and line not in lines_seen:
                        lines_seen.add(line)
                        h = hashlib.sha1(line).hexdigest()[:12]
                        write(outdir, "fuzz_smtp_parse", h, line)
            write(outdir, "fuzz_stage_machine", name, enc)
            picks = {}
            for client, s, frame in segs:
                flags, payload = s[7], s[8]
                kind = "syn" if flags & 0x02 else "fin" if flags & 0x05 else "data" if payload else None
                if kind and kind not in picks:
                    picks[kind] = (s, frame)
            for kind, (s, frame) in picks.items():
                fam, src, dst, sport, dport = s[:5]
                hdr = bytes([0 if fam == 4 else 1]) + src + dst + struct.pack("!HH", sport, dport)
                write(outdir, "fuzz_tcp_locate", f"{name}-{kind}", hdr + frame[:600])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
