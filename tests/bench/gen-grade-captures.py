#!/usr/bin/env python3
"""Makes N lab-sized captures for grade-bench.sh from the bundled ones:
capture i is source i mod len(sources), every packet's time moved on by
i seconds (microsecond units; a nanosecond-resolution pcapng moves by i
milliseconds), so no two files are byte-identical while each dissects
like its source. Prints one "file<TAB>source" line per capture.

Usage: gen-grade-captures.py N OUT_DIR SOURCE...
SPDX-License-Identifier: GPL-2.0-or-later
"""
import os
import struct
import sys


def shift_pcap(data, secs):
    end = '<' if data[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
    out, pos = bytearray(data), 24
    while pos + 16 <= len(out):
        ts, = struct.unpack_from(end + 'I', out, pos)
        struct.pack_into(end + 'I', out, pos, (ts + secs) & 0xffffffff)
        incl, = struct.unpack_from(end + 'I', out, pos + 8)
        pos += 16 + incl
    return bytes(out)


def shift_pcapng(data, secs):
    out, pos, end = bytearray(data), 0, '<'
    while pos + 12 <= len(out):
        btype, = struct.unpack_from('<I', out, pos)
        if btype == 0x0A0D0D0A:   # section header: its byte-order magic
            end = '<' if out[pos + 8:pos + 12] == b'\x4d\x3c\x2b\x1a' else '>'
        blen, = struct.unpack_from(end + 'I', out, pos + 4)
        if btype == 6 and pos + 20 <= len(out):   # enhanced packet block
            hi, lo = struct.unpack_from(end + 'II', out, pos + 12)
            ts = ((hi << 32) | lo) + secs * 1000000
            struct.pack_into(end + 'II', out, pos + 12, ts >> 32, ts & 0xffffffff)
        if blen < 12:
            break
        pos += blen
    return bytes(out)


def main():
    n, out_dir, sources = int(sys.argv[1]), sys.argv[2], sorted(sys.argv[3:])
    os.makedirs(out_dir, exist_ok=True)
    blobs = [open(s, 'rb').read() for s in sources]
    for i in range(n):
        k = i % len(sources)
        src, data = sources[k], blobs[k]
        shift = shift_pcapng if data[:4] == b'\x0a\x0d\x0d\x0a' else shift_pcap
        ext = '.pcapng' if shift is shift_pcapng else '.pcap'
        name = os.path.join(out_dir, 'c%04d-%s%s' % (i, os.path.splitext(os.path.basename(src))[0], ext))
        with open(name, 'wb') as f:
            f.write(shift(data, i + 1))
        print('%s\t%s' % (name, src))


if __name__ == '__main__':
    main()
