#!/usr/bin/env python3
"""Makes a generated class for smtplab-grade's test: a zip laid out as a
course platform's "download all submissions" export (one folder
"Name_12345_assignsubmission_file_" per submission), built from the bundled
captures, with every kind of bad input a class hands in. Beside the zip, a
manifest says which capture each student's file came from (for
check-truth.py). Deterministic: the same bytes on every run.

Usage: make-class.py OUT.zip MANIFEST.json CAPTURES_DIR SHARED_CAPTURES_DIR
SPDX-License-Identifier: GPL-2.0-or-later
"""
import gzip
import json
import os
import struct
import sys
import zipfile

# (student, file name in the submission, source, transform); the source is a
# bundled capture name or None for a made-up file.
CLASS = [
    ('Anna Müller', 'lab.pcapng', 'typed-lab', None),
    ('José Álvarez', 'smtp lab.pcapng', 'typed-587', None),
    ('Zoë O\'Brien', 'capture.pcapng', 'typed-ipv6', None),
    ('Łukasz Nowak', 'nc.pcapng', 'nc-crlf', None),
    ('Søren Kierkegaard', 'telnet.pcapng', 'telnet-line', None),
    ('Chloé Dubois', 'busybox.pcapng', 'busybox-telnet-line', None),
    ('李雷', 'lab.pcapng', 'plink-raw', None),
    ('Nguyễn Văn An', 'swaks.pcapng', 'swaks', None),
    ('Ahmed Hassan', 'pipelining.pcapng', 'pipelining', None),
    ('Beatriz Costa', 'auth.pcapng', 'auth', None),
    ('Carlos Pérez', 'expn.pcapng', 'expn-help', None),
    ('Dana Levi', 'relay.pcapng', 'relay-denied', None),
    ('Emil Nilsson', 'starttls.pcapng', 'starttls-587', None),
    ('Fatima Zahra', 'typos.pcapng', 'typed-backspace', None),
    ('Gábor Kovács', 'errors.pcapng', 'typed-errors', None),
    ('Hiroshi Tanaka', 'lfcr.pcapng', 'typed-bare-lf-cr', None),
    ('Ingrid Berg', 'toggle.pcapng', 'telnet-char-toggle-crlf', None),
    ('Jamal Wright', 'ctrlj.pcapng', 'socat-raw-ctrl-j', None),
    ('Katarzyna Wójcik', 'bare cr.pcapng', 'socat-raw-bare-cr', None),
    ('Liam O Connor', 'bare-lf.pcapng', 'nc-bare-lf', None),
    ('María José Núñez', 'charmode.pcapng', 'telnet-char', None),
    ('Nikolai Petrov', 'del.pcapng', 'busybox-telnet-char-del', None),
    ('Olivia Smith', 'noquit.pcapng', 'no-quit', None),
    ('Pedro Santos', 'refused.pcapng', 'refused', None),
    ('Quinn Taylor', 'blocked.pcapng', 'syn-unanswered', None),
    ('Rania Haddad', 'g554.pcapng', 'greeting-554', None),
    ('Sven Larsson', 'idle.pcapng', 'idle-timeout', None),
    ('Tomás Ruiz', 'client.pcapng', 'client-only', None),
    ('Uma Patel', 'server.pcapng', 'server-only', None),
    ('Viktor Horváth', 'plink.pcapng', 'plink-telnet', None),
    ('Wen Li', 'ayt.pcapng', 'telnet-send-ayt', None),
    ('Xavier Dupont', 'brk.pcapng', 'telnet-send-brk', None),
    ('Yasmin Aziz', 'after.pcapng', 'after-greeting', None),
    ('Zeynep Yılmaz', 'after-tls.pcapng', 'after-greeting-starttls', None),
    ('Aoife Byrne', 'pq.pcapng', 'pipelined-quit', None),
    ('Bruno Silva', 'bdat.pcapng', 'bdat-bad-syntax', None),
    ('Cem Demir', 'zeek.pcap', 'zeek_smtp', None),                       # two connections
    ('Dmitri Ivanov', 'errors.pcap', 'sv_smtp-errors', None),
    ('Elena Rossi', 'submission.pcap', 'arkime_smtp-rcpt-553_587', None),
    ('Farid Karimi', 'midstream.pcap', 'protolens_smtp-midstream', None),
    ('Greta Schön', 'lab.pcapng.gz', 'typed-lab', 'gzip'),
    ('Hannah Klein', 'first try.pcapng', 'telnet-char', None),          # duplicate: two submissions
    ('Hannah Klein', 'second try.pcapng', 'typed-lab', None),
    ('Ivan Horvat', 'copy.pcapng', 'typed-backspace', None),            # the same file as Fatima Zahra
    ('Julia Nowak', 'broken.pcapng', 'typed-errors', 'corrupt'),
    ('Kofi Mensah', 'cut.pcapng', 'typed-backspace', 'truncate'),
    ('Lena Fischer', 'capture.pcapng', None, 'not-a-capture'),
    ('Mateo García', 'capture.pcap', None, 'empty'),
    ('Noor Ali', 'web.pcap', None, 'no-smtp'),
    ('Oskar Lindqvist', 'port2525.pcapng', 'typed-lab', 'port2525'),
    ('Paula Andrés', 'nothing.zip', None, 'empty-zip'),
]
ROOT_FILE = ('Rui Sousa.pcapng', 'typed-lab')   # no folder: the student comes from the file name


def source_path(name, captures, shared):
    for d, ext in ((captures, '.pcapng'), (shared, '.pcap')):
        p = os.path.join(d, name + ext)
        if os.path.exists(p):
            return p
    raise SystemExit('make-class: no capture %s' % name)


def pcapng_rewrite_port(data, old, new):
    """The pcapng with TCP port old changed to new (Ethernet, IPv4 or IPv6;
    checksums are left, Wireshark does not check them by default)."""
    out = bytearray(data)
    off = 0
    while off + 12 <= len(out):
        btype, blen = struct.unpack_from('<II', out, off)
        if blen < 12:
            break
        if btype == 6:                              # enhanced packet block
            pkt = off + 28
            eth_type = struct.unpack_from('>H', out, pkt + 12)[0]
            if eth_type == 0x0800:
                ip = pkt + 14
                l4 = ip + (out[ip] & 0x0f) * 4
                proto = out[ip + 9]
            elif eth_type == 0x86dd:
                ip = pkt + 14
                l4 = ip + 40
                proto = out[ip + 6]
            else:
                proto = None
            if proto == 6:
                for p in (l4, l4 + 2):
                    if struct.unpack_from('>H', out, p)[0] == old:
                        struct.pack_into('>H', out, p, new)
        off += blen
    return bytes(out)


def no_smtp_pcap():
    """A small pcap with DNS over UDP and an HTTP request over TCP: no SMTP."""
    def eth_ip(proto, payload, src, dst):
        ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
                         bytes(src), bytes(dst))
        return b'\x02\x00\x00\x00\x00\x02' + b'\x02\x00\x00\x00\x00\x01' + b'\x08\x00' + ip + payload
    c, s, dns = [10, 0, 0, 2], [10, 0, 0, 80], [10, 0, 0, 53]
    query = (struct.pack('>HHHHHH', 0x1234, 0x0100, 1, 0, 0, 0) + b'\x03www\x07example\x03com\x00'
             + struct.pack('>HH', 1, 1))
    udp = struct.pack('>HHHH', 40000, 53, 8 + len(query), 0) + query

    def tcp(sport, dport, seq, ack, flags, payload=b''):
        return struct.pack('>HHIIBBHHH', sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    get = b'GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n'
    pkts = [eth_ip(17, udp, c, dns), eth_ip(6, tcp(40001, 80, 0, 0, 0x02), c, s),
            eth_ip(6, tcp(80, 40001, 0, 1, 0x12), s, c), eth_ip(6, tcp(40001, 80, 1, 1, 0x10), c, s),
            eth_ip(6, tcp(40001, 80, 1, 1, 0x18, get), c, s)]
    out = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
    for i, p in enumerate(pkts):
        out += struct.pack('<IIII', 1700000000 + i, 0, len(p), len(p)) + p
    return out


def content(src, transform, captures, shared):
    data = open(source_path(src, captures, shared), 'rb').read() if src else b''
    if transform is None:
        return data
    if transform == 'gzip':
        return gzip.compress(data, mtime=0)
    if transform == 'corrupt':      # the trailing length of the block in the middle zeroed
        out = bytearray(data)
        off = 0
        while off + 12 <= len(out):
            blen = struct.unpack_from('<I', out, off + 4)[0]
            if off + blen > len(out) // 2:
                struct.pack_into('<I', out, off + blen - 4, 0)
                break
            off += blen
        return bytes(out)
    if transform == 'truncate':     # cut in the middle of a packet
        return data[:len(data) // 2 + 3]
    if transform == 'not-a-capture':
        return b'My lab report: I typed helo and quit, see the screenshot.\n'
    if transform == 'empty':
        return b''
    if transform == 'no-smtp':
        return no_smtp_pcap()
    if transform == 'port2525':
        return pcapng_rewrite_port(data, 25, 2525)
    raise SystemExit('make-class: unknown transform %s' % transform)


def main():
    out_zip, manifest_path, captures, shared = sys.argv[1:5]
    manifest = []
    ids = {}        # one id (one folder) per student, as the platform exports it
    with zipfile.ZipFile(out_zip, 'w', zipfile.ZIP_DEFLATED) as z:
        for student, fname, src, transform in CLASS:
            sid = ids.setdefault(student, 100001 + len(ids))
            folder = '%s_%d_assignsubmission_file_' % (student, sid)
            info = zipfile.ZipInfo('%s/%s' % (folder, fname), date_time=(2024, 3, 1, 12, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            if transform == 'empty-zip':
                inner = os.path.join(os.path.dirname(out_zip), '.empty.zip')
                with zipfile.ZipFile(inner, 'w'):
                    pass
                data = open(inner, 'rb').read()
                os.unlink(inner)
            else:
                data = content(src, transform, captures, shared)
            z.writestr(info, data)
            manifest.append({'student': student, 'id': str(sid), 'file': fname, 'source': src,
                             'transform': transform})
        info = zipfile.ZipInfo(ROOT_FILE[0], date_time=(2024, 3, 1, 12, 0, 0))
        z.writestr(info, content(ROOT_FILE[1], None, captures, shared))
        manifest.append({'student': 'Rui Sousa', 'id': '', 'file': ROOT_FILE[0], 'source': ROOT_FILE[1],
                         'transform': None})
        info = zipfile.ZipInfo('__MACOSX/._Rui Sousa.pcapng', date_time=(2024, 3, 1, 12, 0, 0))
        z.writestr(info, b'\x00\x05\x16\x07')
    with open(manifest_path, 'w', encoding='utf-8') as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
