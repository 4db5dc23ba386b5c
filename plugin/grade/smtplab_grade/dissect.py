"""Runs tshark with the smtplab plugin on one capture and reads what it
says: the plugin's per-connection report (-z smtplab,report,json: checklist,
lines as meant and as received, replies, times, diagnoses) and, per frame,
the fields the report does not hold (each keystroke's time, every line with
its direction for the ladder, the protocols for captures without SMTP).
One tshark per capture, not one long-lived sharkd per worker: sharkd 4.0
cannot run the report tap (tests/bench/README.md, "smtplab-grade").

SPDX-License-Identifier: GPL-2.0-or-later
"""
import json
import os
import subprocess
from dataclasses import dataclass, field
from typing import List

FIELDS = ['frame.number', 'frame.time_relative', 'tcp.stream', 'ip.src', 'ipv6.src',
          'tcp.srcport', 'tcp.dstport', 'udp.srcport', 'udp.dstport', 'frame.protocols',
          'smtplab.stage', 'smtplab.role', 'keystroke.char', 'keystroke.interval',
          'keystroke.line_in', 'keystroke.line', 'keystroke.enter', 'tcp.flags.syn', 'tcp.flags.ack']
SEP = '\x1f'   # between the values of a field that occurs several times in a frame
DEFAULT_PORTS = (25, 587)
# Link and network layers: not what a capture "has" when it has no SMTP.
CARRIERS = {'eth', 'ethertype', 'ip', 'ipv6', 'sll', 'null', 'loop', 'vlan', 'frame', 'raw',
            'tcp', 'udp', 'data', 'ppp', 'pppoe', 'wlan', 'radiotap', 'llc', 'arp'}


@dataclass
class Frame:
    num: int
    time: float
    stream: int          # -1 when not TCP
    src: str
    srcport: int
    dstport: int
    protocols: str
    stages: List[str]
    role: str
    chars: List[str]
    interval: str
    line_in: List[int]
    lines: List[str]
    enters: List[str]
    udp: tuple
    syn_only: bool


@dataclass
class Dissection:
    rc: int
    stderr: str
    sessions: list = field(default_factory=list)     # the report's objects
    frames: List[Frame] = field(default_factory=list)


def _split(v):
    return v.split(SEP) if v else []


def _int(v, default=-1):
    try:
        return int(v.split(SEP)[0])
    except (ValueError, AttributeError):
        return default


def parse(text):
    """The report's JSON lines and the field rows of tshark's stdout."""
    sessions, frames = [], []
    for line in text.splitlines():
        if line.startswith('{'):
            sessions.append(json.loads(line))
            continue
        cols = line.split('\t')
        if len(cols) != len(FIELDS) or not cols[0].isdigit():
            continue
        c = dict(zip(FIELDS, cols))
        frames.append(Frame(
            num=int(c['frame.number']), time=float(c['frame.time_relative'] or 0),
            stream=_int(c['tcp.stream']), src=(c['ip.src'] or c['ipv6.src']).split(SEP)[0],
            srcport=_int(c['tcp.srcport']), dstport=_int(c['tcp.dstport']),
            protocols=c['frame.protocols'], stages=_split(c['smtplab.stage']),
            role=c['smtplab.role'].split(SEP)[0] if c['smtplab.role'] else '',
            chars=_split(c['keystroke.char']), interval=c['keystroke.interval'].split(SEP)[0],
            line_in=[int(x) for x in _split(c['keystroke.line_in']) if x.isdigit()],
            lines=_split(c['keystroke.line']), enters=_split(c['keystroke.enter']),
            udp=(_int(c['udp.srcport']), _int(c['udp.dstport'])),
            syn_only=c['tcp.flags.syn'] in ('1', 'True') and c['tcp.flags.ack'] in ('0', 'False')))
    return sessions, frames


def ports_pref(ports):
    return 'keystroke.tcp.port:' + ','.join(str(p) for p in sorted(set(DEFAULT_PORTS) | set(ports)))


def run(tshark, path, ports=(), timeout=600):
    """One tshark over one capture: its report and its fields."""
    cmd = list(tshark) + ['-n', '-2', '-o', ports_pref(ports), '-T', 'fields', '-E', 'occurrence=a',
                          '-E', 'aggregator=' + SEP, '-E', 'quote=n']
    for f in FIELDS:
        cmd += ['-e', f]
    cmd += ['-z', 'smtplab,report,json', '-r', path]
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return Dissection(rc=-1, stderr='tshark took longer than %d s' % timeout)
    except OSError as e:
        return Dissection(rc=-1, stderr='could not run %s: %s' % (cmd[0], e))
    out = p.stdout.decode('utf-8', 'replace')
    d = Dissection(rc=p.returncode, stderr=p.stderr.decode('utf-8', 'replace'))
    try:
        d.sessions, d.frames = parse(out)
    except (ValueError, KeyError) as e:
        d.rc = d.rc or -1
        d.stderr += '\nunreadable tshark output: %s' % e
    return d


def smtp_elsewhere(tshark, path, ports=()):
    """TCP ports (not graded ones) from which a server sent an SMTP greeting."""
    flt = '(tcp.payload[0:4] == "220 " || tcp.payload[0:4] == "220-")'
    cmd = list(tshark) + ['-n', '-r', path, '-Y', flt, '-T', 'fields', '-e', 'tcp.srcport']
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=600, stdin=subprocess.DEVNULL)
    except (subprocess.TimeoutExpired, OSError):
        return []
    graded = set(DEFAULT_PORTS) | set(ports)
    found = {int(x) for x in p.stdout.decode('utf-8', 'replace').split() if x.isdigit()}
    return sorted(found - graded)


def has_plugin(tshark):
    """Whether this tshark loads smtplab (and why not, when it does not)."""
    try:
        p = subprocess.run(list(tshark) + ['-G', 'plugins'], capture_output=True, timeout=120,
                           stdin=subprocess.DEVNULL)
    except (subprocess.TimeoutExpired, OSError) as e:
        return False, 'could not run %s: %s' % (tshark[0], e)
    if b'smtplab' in p.stdout:
        return True, ''
    why = 'tshark (%s) does not load the smtplab plugin' % ' '.join(tshark)
    if os.geteuid() == 0:
        why += ('; as root Wireshark ignores personal plugin folders: install smtplab system-wide '
                '(cmake -DSMTPLAB_SYSTEM_INSTALL=ON, or the .deb), or run smtplab-grade as a normal user')
    return False, why


def read_error(d):
    """(status, message) for a capture tshark could not read completely, or None."""
    err = d.stderr
    first = next((l for l in err.splitlines() if l.strip()), '')
    if "isn't a capture file in a format" in err or 'unknown file format' in err.lower():
        return 'not-a-capture', 'not a capture file (tshark: %s)' % _tail(first)
    if 'cut short in the middle of a packet' in err:
        return 'truncated', 'cut short in the middle of a packet; graded the frames before'
    if 'damaged or corrupt' in err:
        return 'corrupt', 'damaged capture (%s); graded the frames before the damage' % _tail(' '.join(err.split('\n')[1:2]).strip(' ()') or 'damaged')
    if d.rc != 0:
        return 'error', 'tshark failed (exit %d): %s' % (d.rc, _tail(first) or 'no message')
    return None


def _tail(line):
    """tshark's message without the temporary path it names."""
    if 'The file "' in line:
        head, _, rest = line.partition('The file "')
        _, _, rest = rest.partition('" ')
        return ('the file ' + rest).strip()
    return line.replace('tshark: ', '').strip()


def describe_other(frames):
    """What a capture without SMTP holds: its protocols and its servers' ports."""
    protos, tcp_ports, udp_ports = {}, set(), set()
    for f in frames:
        for p in f.protocols.split(':'):
            if p and p not in CARRIERS and p not in ('keystroke', 'smtp'):
                protos[p] = protos.get(p, 0) + 1
        if f.syn_only and f.dstport >= 0:
            tcp_ports.add(f.dstport)
        if f.udp[0] >= 0:
            udp_ports.add(min(f.udp))
    if not tcp_ports:   # no SYN captured: the lower port of each TCP frame
        tcp_ports = {min(f.srcport, f.dstport) for f in frames if f.srcport >= 0}
    return {'frames': len(frames), 'protocols': sorted(protos, key=lambda p: (-protos[p], p)),
            'tcp_ports': sorted(tcp_ports), 'udp_ports': sorted(udp_ports)}
