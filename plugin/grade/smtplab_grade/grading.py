"""From one capture's dissection to its grade: each SMTP connection's lab
activities (3-8), the best connection, the lines with their keystrokes and
the ladder of the session; then one row per student.

SPDX-License-Identifier: GPL-2.0-or-later
"""
import hashlib
import os
import unicodedata

from . import dissect

# Lab activity -> the report's checklist stages that make it done.
ACTIVITIES = [
    (3, ('handshake',), 'TCP three-way handshake'),
    (4, ('banner',), '220 banner'),
    (5, ('helo',), 'HELO or EHLO accepted'),
    (6, ('helo-reply',), 'reply to HELO/EHLO'),
    (7, ('quit',), 'QUIT'),
    (8, ('quit-reply', 'teardown'), '221 reply and teardown'),
]
MAX_SCORE = len(ACTIVITIES)
# Statuses of inputs that could not be read completely: the exit status is 1.
UNREAD = {'not-a-capture', 'corrupt', 'truncated', 'unreadable', 'empty-file', 'empty-zip', 'corrupt-zip',
          'empty', 'error'}


def short_diag(name):
    return name[len('smtplab.diag.'):] if name.startswith('smtplab.diag.') else name


def activities(session):
    """{3: True, ...} for one connection of the report."""
    cl = session.get('checklist', {})
    return {n: all(cl.get(st) is not None for st in stages) for n, stages, _ in ACTIVITIES}


def _endpoint(text):
    """("127.0.0.1", 41694) from "127.0.0.1:41694" or "[::1]:41694"."""
    host, _, port = text.rpartition(':')
    return host.strip('[]'), int(port)


def _enrich(session, frames):
    """Adds to one report connection: its TCP stream, activities, score, the
    keystrokes of each command line, and the ladder."""
    by_num = {f.num: f for f in frames}
    first = by_num.get(session['first_frame'])
    stream = first.stream if first else -1
    chost, cport = _endpoint(session['client'])
    mine = [f for f in frames if f.stream == stream and stream >= 0]

    def from_client(f):
        return f.srcport == cport and (f.src == chost or not f.src)

    acts = activities(session)
    session['tcp_stream'] = stream
    session['activities'] = {str(n): done for n, done in acts.items()}
    session['score'] = sum(acts.values())
    keys = {}
    for f in mine:
        if f.chars and f.line_in and from_client(f):
            for ln in set(f.line_in):
                keys.setdefault(ln, []).append({'frame': f.num, 'time': round(f.time, 6),
                                                'keys': ''.join(f.chars)})
    for c in session.get('commands', []):
        ks = keys.get(c['frame'], [])
        c['keystrokes'] = ks
        c['typing_time'] = round(ks[-1]['time'] - ks[0]['time'], 6) if len(ks) > 1 else None
    diags = {}
    for d in session.get('diagnoses', []):
        diags.setdefault(d['frame'], []).append(short_diag(d['name']))
    ladder = []
    for f in mine:
        c2s = from_client(f)
        base = {'frame': f.num, 'time': round(f.time, 6), 'dir': 'c2s' if c2s else 's2c'}
        if f.role in ('syn', 'syn-ack', 'fin', 'rst') or (f.role == 'ack' and f.stages == ['handshake']):
            ladder.append(dict(base, kind=f.role, stage=f.stages[0] if f.stages else '',
                               label=f.role.upper().replace('-', ', ')))
        for i, line in enumerate(f.lines):
            st = f.stages[i] if len(f.stages) == len(f.lines) else (f.stages[0] if f.stages else '')
            ladder.append(dict(base, kind='line', stage=st, label=line))
        for e in f.enters:
            ladder.append(dict(base, kind='enter', stage=f.stages[0] if f.stages else '', label='Enter: ' + e))
    seen = set()
    for step in ladder:
        if step['frame'] in diags and step['frame'] not in seen:
            step['diagnoses'] = diags[step['frame']]
            seen.add(step['frame'])
    for fr in sorted(set(diags) - seen):   # a diagnosis on a frame with no arrow: its own mark
        f = by_num.get(fr)
        ladder.append({'frame': fr, 'time': round(f.time, 6) if f else None,
                       'dir': 'c2s' if f and from_client(f) else 's2c', 'kind': 'mark',
                       'stage': f.stages[0] if f and f.stages else '', 'label': '', 'diagnoses': diags[fr]})
    ladder.sort(key=lambda s: s['frame'])
    session['ladder'] = ladder
    return session


def best_session(sessions):
    """The connection to grade: most activities, then complete, then fewest
    diagnoses, then the first."""
    if not sessions:
        return None
    return max(sessions, key=lambda s: (s['score'], s.get('complete', False), -len(s.get('diagnoses', [])),
                                        -s['session']))


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def grade_one(sub, tshark, ports):
    """The record of one input (a dict, as the JSON output holds it)."""
    rec = {'input': sub.display, 'student': sub.student, 'student_id': sub.student_id,
           'status': sub.status, 'message': sub.message, 'notes': list(sub.notes), 'sha256': None,
           'sessions': [], 'graded_session': None, 'score': None}
    if sub.status:
        return rec
    try:
        rec['sha256'] = sha256(sub.path)
        size = os.path.getsize(sub.path)
    except OSError as e:
        rec.update(status='unreadable', message='cannot read the file: %s' % e.strerror)
        return rec
    if size == 0:
        rec.update(status='empty-file', message='empty file (0 bytes): not a capture')
        return rec
    d = dissect.run(tshark, sub.path, ports)
    err = dissect.read_error(d)
    if err and err[0] in ('not-a-capture', 'error'):
        rec.update(status=err[0], message=err[1])
        return rec
    sessions = [_enrich(s, d.frames) for s in d.sessions]
    rec['sessions'] = sessions
    rec['frames'] = len(d.frames)
    if err:
        rec.update(status=err[0], message=err[1])
    if not sessions:
        other = dissect.describe_other(d.frames)
        rec['contents'] = other
        elsewhere = dissect.smtp_elsewhere(tshark, sub.path, ports) if d.frames else []
        if elsewhere:
            plist = ', '.join(str(p) for p in elsewhere)
            rec['smtp_ports'] = elsewhere
            msg = ('SMTP on TCP port %s, not graded: graded ports are %s; run again with %s' %
                   (plist, ', '.join(str(p) for p in sorted(set(dissect.DEFAULT_PORTS) | set(ports))),
                    ' '.join('--port %d' % p for p in elsewhere)))
            status = 'smtp-other-port'
        elif not d.frames:
            msg, status = 'no packets in the capture', 'no-smtp'
        else:
            msg = 'no SMTP on TCP ports %s: %d frames' % (
                ', '.join(str(p) for p in sorted(set(dissect.DEFAULT_PORTS) | set(ports))), other['frames'])
            if other['protocols']:
                msg += '; protocols ' + ', '.join(other['protocols'][:8])
            if other['tcp_ports']:
                msg += '; TCP ports ' + ', '.join(str(p) for p in other['tcp_ports'][:10])
            if other['udp_ports']:
                msg += '; UDP ports ' + ', '.join(str(p) for p in other['udp_ports'][:10])
            status = 'no-smtp'
        if rec['status']:
            rec['message'] += '; ' + msg
        else:
            rec.update(status=status, message=msg)
        return rec
    best = best_session(sessions)
    rec['graded_session'] = best['session']
    rec['score'] = best['score']
    if not rec['status']:
        rec['status'] = 'ok'
    if len(sessions) > 1:
        rec['notes'].append('%d SMTP connections: graded connection %d (%s), the others: %s' % (
            len(sessions), best['session'], best['client'],
            ', '.join('%d (%d/%d)' % (s['session'], s['score'], MAX_SCORE) for s in sessions if s is not best)))
    return rec


def mark_duplicates(records):
    """Several inputs of one student: the best is graded, the others are
    'duplicate'; identical files handed in by different students are noted."""
    by_student = {}
    for r in records:
        by_student.setdefault((r['student'].casefold(), r['student_id']), []).append(r)
    for recs in by_student.values():
        graded = [r for r in recs if r['score'] is not None]
        if len(recs) < 2:
            continue
        best = max(graded, key=lambda r: (r['score'], r['status'] == 'ok', r['input'])) if graded else None
        for r in recs:
            r['notes'].append('%d submissions by this student' % len(recs))
            if best is not None and r is not best:
                r['duplicate_of'] = best['input']
                r['notes'].append('not counted: the best submission is %s' % best['input'])
    by_hash = {}
    for r in records:
        if r['sha256']:
            by_hash.setdefault(r['sha256'], []).append(r)
    for recs in by_hash.values():
        names = sorted({r['student'] for r in recs})
        if len(names) > 1:
            for r in recs:
                others = [n for n in names if n != r['student']]
                r['notes'].append('same file as handed in by ' + ', '.join(others))


def sort_key(name):
    """Names in alphabetical order whatever their accents: Gábor before Greta."""
    plain = ''.join(c for c in unicodedata.normalize('NFKD', name) if not unicodedata.combining(c))
    return (plain.casefold(), name)


def student_rows(records):
    """One row per student: the counted submission's grade."""
    rows = {}
    for r in records:
        key = (r['student'].casefold(), r['student_id'])
        rows.setdefault(key, []).append(r)
    out = []
    for key in sorted(rows, key=lambda k: (sort_key(rows[k][0]['student']), k[1])):
        recs = rows[key]
        counted = [r for r in recs if 'duplicate_of' not in r]
        r = counted[0] if counted else recs[0]
        best = next((s for s in r['sessions'] if s['session'] == r['graded_session']), None)
        diag_counts = {}
        if best:
            for d in best['diagnoses']:
                n = short_diag(d['name'])
                diag_counts[n] = diag_counts.get(n, 0) + 1
        out.append({
            'student': r['student'], 'student_id': r['student_id'], 'input': r['input'],
            'submissions': len(recs), 'status': r['status'],
            'activities': {str(n): (best['activities'][str(n)] if best else None) for n, _, _ in ACTIVITIES},
            'score': r['score'], 'complete': best['complete'] if best else None,
            'diagnoses': diag_counts, 'message': '; '.join([m for m in [r['message']] + r['notes'] if m]),
        })
    return out
