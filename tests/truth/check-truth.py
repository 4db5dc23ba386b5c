#!/usr/bin/python3
"""Checks one capture's truth list (tests/truth/<capture>.truth): facts a
person verified in the packets, asserted apart from the golden snapshots.

Each fact is checked in up to four views of what the plugin says:
  live fields     tshark -2 -T fields with the plugin, now
  live report     tshark -2 -q -z smtplab,report,json, now
  snapshot fields the golden <name>.2pass file (the columns it has)
  snapshot report the golden <name>.json file
A fact fails when any view that can tell contradicts it, so a golden file
regenerated with a wrong answer fails here too. A fact marked pending is
reported by name and does not fail; a pending fact that every view now
confirms fails, so that its mark is removed. README.md in this folder
describes the format.

Usage: check-truth.py <build dir> <truth file> <capture> <expected dir>
SPDX-License-Identifier: GPL-2.0-or-later
"""
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, '..', 'tshark', 'tshark-as-user.sh')
SERVER_PORTS = {'25', '587'}
# The report's checklist key of each stage marker.
CHECKLIST = {'handshake': 'handshake', 'banner': 'banner', 'helo': 'helo',
             'helo_reply': 'helo-reply', 'quit': 'quit', 'quit_reply': 'quit-reply'}
AGG = '|'


class TruthError(Exception):
    """A truth list that cannot be read: the test fails."""


def tshark(build, *args):
    """Runs tshark with the plugin through the checked runner; its failure fails the test."""
    proc = subprocess.run([RUNNER, build] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, errors='surrogateescape')
    if proc.returncode != 0:
        raise TruthError('tshark %s failed (exit %d): %s' % (' '.join(args), proc.returncode, proc.stderr.strip()))
    return proc.stdout


def frames(text):
    """'4 6 8' or 'none' -> a set of frame numbers."""
    words = text.split()
    if words == ['none']:
        return set()
    try:
        return {int(w) for w in words}
    except ValueError:
        raise TruthError('not a frame list: %r' % text)


class View:
    """What one source says. A member left None means: this view cannot tell."""

    def __init__(self, name):
        self.name = name
        self.client_lines = None   # frame -> [line as received, ...]
        self.line_frames = None    # frames completing client lines
        self.request_in = None     # reply frame -> set of command frames
        self.response_in = None    # command frame -> set of reply frames
        self.report_cmds = None    # [(frame, received, reply_frame or None)]
        self.experts = None        # expert item name -> set of frames
        self.commands = None       # frame -> [smtp.req.command, ...]
        self.complete = None       # bool


def split_agg(value):
    return value.split(AGG) if value != '' else []


def fields_view(name, text, expert_names):
    """A view from -T fields -E header=y output (live, or a golden .2pass file)."""
    rows = text.splitlines()
    if not rows:
        raise TruthError('%s: no output' % name)
    head = rows[0].split('\t')
    col = {h: i for i, h in enumerate(head)}
    v = View(name)
    table = [r.split('\t') for r in rows[1:]]

    def get(row, f):
        return row[col[f]] if col.get(f) is not None and col[f] < len(row) else ''

    def client(row):
        if 'tcp.dstport' in col:
            return get(row, 'tcp.dstport') in SERVER_PORTS
        return get(row, 'tcp.srcport') not in SERVER_PORTS and get(row, 'tcp.srcport') != ''
    if 'keystroke.eol' in col:
        v.line_frames = {int(get(r, 'frame.number')) for r in table if get(r, 'keystroke.eol') and client(r)}
    if 'keystroke.line' in col:
        v.client_lines = {int(get(r, 'frame.number')): split_agg(get(r, 'keystroke.line'))
                          for r in table if get(r, 'keystroke.eol') and client(r)}
    if 'smtplab.request_in' in col:
        v.request_in = {int(get(r, 'frame.number')): {int(x) for x in split_agg(get(r, 'smtplab.request_in'))}
                        for r in table}
        v.response_in = {int(get(r, 'frame.number')): {int(x) for x in split_agg(get(r, 'smtplab.response_in'))}
                         for r in table}
    if 'smtp.req.command' in col:
        v.commands = {int(get(r, 'frame.number')): split_agg(get(r, 'smtp.req.command'))
                      for r in table if get(r, 'smtp.req.command')}
    if 'smtplab.complete' in col:
        v.complete = any('1' in split_agg(get(r, 'smtplab.complete')) for r in table)
    if all(n in col for n in expert_names):
        v.experts = {n: {int(get(r, 'frame.number')) for r in table if get(r, n)} for n in expert_names}
    return v


def report_view(name, text, expert_names):
    """A view from the JSON report (-z smtplab,report,json): one session a line."""
    v = View(name)
    v.report_cmds = []
    markers = {}
    diags = {n: set() for n in expert_names if n.startswith('smtplab.diag.')}
    complete = False
    for line in text.splitlines():
        if not line.startswith('{'):
            continue
        s = json.loads(line)
        complete = complete or s.get('complete') is True
        for marker, key in CHECKLIST.items():
            at = s.get('checklist', {}).get(key)
            if isinstance(at, list):
                at = at[-1] if at else None
            if at is not None:
                markers.setdefault('smtplab.stage.' + marker, set()).add(at)
        for c in s.get('commands', []):
            v.report_cmds.append((c['frame'], c['received'], c.get('reply_frame')))
        for d in s.get('diagnoses', []):
            diags.setdefault(d['name'], set()).add(d['frame'])
    v.complete = complete
    # The report names only the smtplab markers and diagnoses.
    v.experts = dict(diags)
    for marker in CHECKLIST:
        v.experts['smtplab.stage.' + marker] = markers.get('smtplab.stage.' + marker, set())
    return v


def unquote(text):
    """The text of a fact: between the first and the last double quote."""
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise TruthError('expected a "quoted" text: %r' % text)
    return text[1:-1]


class Fact:
    def __init__(self, lineno, text, pending):
        self.lineno, self.text, self.pending = lineno, text, pending
        words = text.split(None, 1)
        self.kind = words[0]
        self.rest = words[1] if len(words) > 1 else ''

    def __str__(self):
        return self.text


def parse(path, expert_names):
    facts = []
    for lineno, raw in enumerate(open(path, encoding='utf-8'), 1):
        line = raw.rstrip('\n')
        if not line.strip() or line.lstrip().startswith('#'):
            continue
        fact, sep, pending = line.partition(' | pending ')
        pending = pending.strip() if sep else None
        if sep and not pending:
            raise TruthError('%s:%d: a pending mark needs its reason' % (path, lineno))
        f = Fact(lineno, fact.strip(), pending)
        if f.kind not in CHECKS:
            raise TruthError('%s:%d: unknown fact %r' % (path, lineno, f.kind))
        if f.kind in ('marker', 'diag', 'expert'):
            name = f.rest.split()[0] if f.rest.split() else ''
            full = {'marker': 'smtplab.stage.', 'diag': 'smtplab.diag.', 'expert': 'keystroke.'}[f.kind] + name
            if full not in expert_names:
                raise TruthError('%s:%d: %s is no expert item the plugin registers' % (path, lineno, full))
        facts.append(f)
    stated = {(f.kind, f.rest.split()[0] if f.kind in ('marker',) else None) for f in facts}
    missing = [m for m in CHECKLIST if ('marker', m) not in stated]
    for kind in ('lines', 'complete'):
        if (kind, None) not in stated:
            missing.append(kind)
    if missing:
        raise TruthError('%s: the list must state every marker, lines and complete; missing: %s'
                         % (path, ', '.join(missing)))
    return facts


# Each check returns (verdict, what the view says): True, False, or None
# where the view cannot tell.
def check_lines(f, v):
    if v.line_frames is None:
        return None, ''
    want = frames(f.rest)
    return v.line_frames == want, ' '.join(map(str, sorted(v.line_frames))) or 'none'


def check_line(f, v):
    num, _, text = f.rest.partition(' ')
    num, text = int(num), unquote(text)
    if v.client_lines is not None:
        got = v.client_lines.get(num, [])
        return text in got, repr(got)
    if v.report_cmds is not None:
        got = [r for (fr, r, _) in v.report_cmds if fr == num]
        # The report lists command lines, not message lines: it tells only when it lists this one.
        return (True, repr(got)) if text in got else (None, '')
    return None, ''


def _reply_parts(rest):
    m = re.fullmatch(r'(\d+)\s*->\s*(none|\d+)(?:\s+(".*"))?', rest.strip())
    if not m:
        raise TruthError('reply: expected "R -> F [\\"line\\"]" or "R -> none": %r' % rest)
    return int(m.group(1)), (None if m.group(2) == 'none' else int(m.group(2))), \
        (unquote(m.group(3)) if m.group(3) else None)


def check_reply(f, v):
    reply, cmd, text = _reply_parts(f.rest)
    if v.request_in is not None:
        got = v.request_in.get(reply, set())
        if cmd is None:
            return got == set(), 'request_in %s' % sorted(got)
        back = v.response_in.get(cmd, set())
        return cmd in got and reply in back, 'request_in %s, response_in of %d %s' % (sorted(got), cmd, sorted(back))
    if v.report_cmds is not None:
        if cmd is None:
            got = [(fr, r) for (fr, r, rf) in v.report_cmds if rf == reply]
            return got == [], repr(got)
        got = [rf for (fr, r, rf) in v.report_cmds if fr == cmd and (text is None or r == text)]
        if not got:
            return None, ''
        return all(rf == reply for rf in got), 'reply_frame %s' % got
    return None, ''


def check_noreply(f, v):
    num, _, text = f.rest.partition(' ')
    num, text = int(num), (unquote(text) if text.strip() else None)
    if v.report_cmds is not None:
        got = [rf for (fr, r, rf) in v.report_cmds if fr == num and (text is None or r == text)]
        if got:
            return all(rf is None for rf in got), 'reply_frame %s' % got
    if v.response_in is not None and (text is None or len((v.client_lines or {}).get(num, [])) <= 1):
        got = v.response_in.get(num, set())
        return got == set(), 'response_in %s' % sorted(got)
    return None, ''


def check_expert(prefix):
    def check(f, v):
        words = f.rest.split(None, 1)
        name = prefix + words[0]
        if v.experts is None or name not in v.experts:
            return None, ''
        want = frames(words[1] if len(words) > 1 else '')
        got = v.experts[name]
        return got == want, ' '.join(map(str, sorted(got))) or 'none'
    return check


def check_commands(f, v):
    if v.commands is None:
        return None, ''
    want = {}
    if f.rest.strip() != 'none':
        for item in f.rest.split():
            num, _, verbs = item.partition(':')
            want[int(num)] = verbs.split(',')
    got = {k: [c.lower() for c in cs] for k, cs in v.commands.items()}
    return got == {k: [c.lower() for c in cs] for k, cs in want.items()}, \
        ' '.join('%d:%s' % (k, ','.join(c)) for k, c in sorted(got.items())) or 'none'


def check_complete(f, v):
    if f.rest not in ('yes', 'no'):
        raise TruthError('complete: yes or no, not %r' % f.rest)
    if v.complete is None:
        return None, ''
    return v.complete == (f.rest == 'yes'), 'yes' if v.complete else 'no'


CHECKS = {'lines': check_lines, 'line': check_line, 'reply': check_reply, 'noreply': check_noreply,
          'marker': check_expert('smtplab.stage.'), 'diag': check_expert('smtplab.diag.'),
          'expert': check_expert('keystroke.'), 'commands': check_commands, 'complete': check_complete}


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__.split('\n\n')[-1].strip())
    build, truth, cap, expdir = sys.argv[1:]
    name = os.path.splitext(os.path.basename(cap))[0]
    try:
        registered = [l.split('\t') for l in tshark(build, '-G', 'fields').splitlines()]
        expert_names = [r[2] for r in registered if len(r) > 3 and r[0] == 'F' and r[3] == 'FT_NONE'
                        and re.match(r'(smtplab\.(stage|diag)|keystroke)\.', r[2])]
        facts = parse(truth, expert_names)
        # Expert items the list does not name appear on no frame.
        named = {({'marker': 'smtplab.stage.', 'diag': 'smtplab.diag.', 'expert': 'keystroke.'}[f.kind]
                  + f.rest.split()[0]) for f in facts if f.kind in ('marker', 'diag', 'expert')}
        for n in expert_names:
            if n not in named:
                kind = 'diag' if n.startswith('smtplab.diag.') else 'expert'
                short = n.split('.', 2)[2] if kind == 'diag' else n[len('keystroke.'):]
                facts.append(Fact(0, '%s %s none' % (kind, short), None))
        fields = ['frame.number', 'tcp.srcport', 'tcp.dstport', 'keystroke.line', 'keystroke.eol',
                  'smtp.req.command', 'smtplab.request_in', 'smtplab.response_in', 'smtplab.complete'] + expert_names
        args = ['-n', '-2', '-r', cap, '-T', 'fields', '-E', 'header=y', '-E', 'occurrence=a',
                '-E', 'aggregator=' + AGG]
        for fld in fields:
            args += ['-e', fld]
        views = [fields_view('live fields', tshark(build, *args), expert_names),
                 report_view('live report', tshark(build, '-n', '-2', '-q', '-z', 'smtplab,report,json', '-r', cap),
                             expert_names)]
        for suffix, make in (('2pass', fields_view), ('json', report_view)):
            path = os.path.join(expdir, '%s.%s' % (name, suffix))
            if not os.path.exists(path):
                raise TruthError('no snapshot %s' % path)
            views.append(make('snapshot ' + suffix, open(path, encoding='utf-8', errors='surrogateescape').read(),
                              expert_names))
    except TruthError as e:
        print('not ok - %s' % e)
        print('0 passed, 1 failed')
        sys.exit(1)

    passed = failed = 0
    pending = []
    for f in facts:
        try:
            results = [(v.name,) + CHECKS[f.kind](f, v) for v in views]
        except (TruthError, ValueError) as e:
            failed += 1
            print('not ok - line %d: %s: %s' % (f.lineno, f, e))
            continue
        told = [(n, ok, got) for (n, ok, got) in results if ok is not None]
        wrong = [(n, got) for (n, ok, got) in told if not ok]
        where = ('line %d: ' % f.lineno) if f.lineno else '(not named: none) '
        if not told:
            failed += 1
            print('not ok - %s%s: no view can tell' % (where, f))
        elif f.pending is None and wrong:
            failed += 1
            print('not ok - %s%s' % (where, f))
            for n, got in wrong:
                print('    %s says: %s' % (n, got))
        elif f.pending is None:
            passed += 1
            print('ok - %s%s' % (where, f))
        elif not wrong:
            failed += 1
            print('not ok - %s%s: marked pending (%s), but every view now says so: remove the mark'
                  % (where, f, f.pending))
        else:
            pending.append(f)
            print('pending - %s%s: %s' % (where, f, f.pending))
            for n, got in wrong:
                print('    %s says: %s' % (n, got))
    if pending:
        print('%d pending: %s' % (len(pending), '; '.join('line %d' % f.lineno for f in pending)))
    print('%d passed, %d failed' % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
