"""The lab as text, live (smtplab-lab --text): what tshark with the
smtplab plugin says of each frame, one row per step, as it happens.

tshark reads the capture from a pipe in one pass (-l -T json) and prints a
JSON object per frame; this module turns those into rows:

    frame  time  stage        who                     what
        4  0.002 banner       mail.lab:25 -> student  220 mail.lab ESMTP
                 + Activity 4: the server's 220 greeting (banner): ...
       21  3.480 helo         student -> mail.lab:25  helo
                 ! helo_no_domain: HELO without a domain: ...

A row for the TCP control frames (SYN, FIN, RST), each completed line
(what the server received, and what the person meant when it differs),
each reply, and any frame that carries a stage marker (+) or a diagnosis
(!). Keystrokes and ACKs get no row of their own.

SPDX-License-Identifier: GPL-2.0-or-later
"""
import codecs
import json
import os

ROLES_SHOWN = {'syn', 'syn-ack', 'fin', 'rst', 'line', 'reply', 'data'}
HEADER = '%6s %7s  %-14s %-24s %s' % ('frame', 'time', 'stage', 'who', 'what')


def _pairs(pairs):
    """A JSON object keeping every value of a repeated key (tshark repeats
    keys such as _ws.expert and smtplab.stage): a list of them."""
    d = {}
    for k, v in pairs:
        if k not in d:
            d[k] = v
        else:
            if not isinstance(d[k], list):
                d[k] = [d[k]]
            d[k].append(v)
    return d


def _values(v):
    if isinstance(v, list):
        return v
    return [v]


def find(tree, key):
    """Every value of key anywhere in tree, in order."""
    out = []
    if isinstance(tree, dict):
        for k, v in tree.items():
            if k == key:
                out.extend(_values(v))
            else:
                for x in _values(v):
                    out.extend(find(x, key))
    elif isinstance(tree, list):
        for x in tree:
            out.extend(find(x, key))
    return out


def first(tree, key, default=''):
    v = find(tree, key)
    return v[0] if v else default


def notes(layer):
    """(kind, name, message) of each expert item of the smtplab layer:
    kind '+' for a stage marker, '!' for a diagnosis."""
    out = []
    for ex in find(layer, '_ws.expert'):
        if not isinstance(ex, dict):
            continue
        msg = first(ex, '_ws.expert.message')
        for k in ex:
            if k.startswith('smtplab.diag.'):
                out.append(('!', k[len('smtplab.diag.'):], msg))
            elif k.startswith('smtplab.stage.'):
                out.append(('+', k[len('smtplab.stage.'):], msg))
    return out


def row(pkt, names):
    """The lines printed for one frame (maybe none); names: address -> the
    name shown ("student", "mail.lab")."""
    layers = pkt.get('_source', {}).get('layers', {})
    lab = layers.get('smtplab')
    if isinstance(lab, list):
        lab = lab[0]
    if not isinstance(lab, dict):
        return []
    role = first(lab, 'smtplab.role')
    stages = [s for s in find(lab, 'smtplab.stage') if isinstance(s, str)]
    marks = notes(lab)
    if role not in ROLES_SHOWN and not marks:
        return []
    frame = first(layers.get('frame', {}), 'frame.number')
    t = first(layers.get('frame', {}), 'frame.time_relative', '0')
    ipl = layers.get('ip', layers.get('ipv6', {}))
    src = first(ipl, 'ip.src') or first(ipl, 'ipv6.src')
    dst = first(ipl, 'ip.dst') or first(ipl, 'ipv6.dst')
    tcp = layers.get('tcp', {})
    sport = first(tcp, 'tcp.srcport')
    dport = first(tcp, 'tcp.dstport')
    server_side = dport if dport in ('25', '587') else sport
    a = names.get(src, src) + (':' + sport if sport == server_side else '')
    b = names.get(dst, dst) + (':' + dport if dport == server_side and sport != server_side else '')
    who = '%s -> %s' % (a, b)
    more = []                           # a frame's further lines, one row each
    if role in ('line', 'reply'):
        ks = layers.get('keystroke', {})
        lines = [x for x in find(ks, 'keystroke.line') if isinstance(x, str)]
        meant = first(ks, 'keystroke.line.edited')
        what, more = (lines[0], lines[1:]) if lines else (meant, [])
        if role == 'line' and meant and meant != what:
            what += '   (meant: %s)' % meant
        took = first(lab, 'smtplab.time')
        if role == 'reply' and took:
            what += '   [after %.1f s]' % float(took)
    elif role == 'keystroke':
        what = 'keystroke %s' % first(layers.get('keystroke', {}), 'keystroke.char')
    elif role == 'data':
        what = '(%s bytes)' % first(tcp, 'tcp.len', '?')
    else:
        what = ', '.join(n for f, n in (('tcp.flags.syn', 'SYN'), ('tcp.flags.reset', 'RST'),
                                        ('tcp.flags.fin', 'FIN'), ('tcp.flags.ack', 'ACK'))
                         if first(tcp, f) in ('1', 'True', 'true'))
    out = ['%6s %7.3f  %-14s %-24s %s' % (frame, float(t), ' '.join(stages) or '-', who, what)]
    out += ['%6s %7s  %-14s %-24s %s' % ('', '', '', '', x) for x in more]
    for kind, name, msg in marks:
        out.append('%16s %s %s' % ('', kind, msg if kind == '+' else '%s: %s' % (name, msg)))
    return out


def follow(stream, write, names):
    """Reads tshark -T json output from stream and writes each frame's rows
    with write(text) as soon as the frame's object is complete. tshark -l
    flushes each frame, but writes the newline after a frame's closing
    brace only with the next frame: so the stream is read as it comes, not
    line by line, and a pending "  }" ends the frame."""
    decoder = codecs.getincrementaldecoder('utf-8')(errors='replace')
    fd = stream.fileno()
    pending, buf = '', None

    def take(line):
        nonlocal buf
        if line == '  {':
            buf = [line]
        elif buf is not None:
            buf.append(line)
            if line in ('  }', '  },'):
                text = '\n'.join(buf).rstrip(',')
                buf = None
                try:
                    pkt = json.loads(text, object_pairs_hook=_pairs)
                except ValueError:
                    return
                for r in row(pkt, names):
                    write(r + '\n')
    while True:
        data = os.read(fd, 65536)
        if not data:
            break
        lines = (pending + decoder.decode(data)).split('\n')
        pending = lines.pop()
        for line in lines:
            take(line)
        if buf is not None and pending == '  }':
            take(pending)
            pending = ''
    if pending:
        take(pending)
