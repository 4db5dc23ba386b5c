#!/usr/bin/env python3
"""Checks smtplab-grade's output for the generated class against the truth
lists of the bundled captures (tests/truth/<capture>.truth, facts a person
verified from the bytes): for every student whose file is an unchanged
bundled capture, the graded connection's checklist frames are the truth's
markers, its diagnoses are the truth's (name and frame), its 'complete' is
the truth's, and the CSV's activity columns and score follow from them.
Captures with several connections: the graded one's frames must be among
the truth's, and its diagnoses among the truth's.

Usage: check-truth.py GRADES.json GRADES.csv MANIFEST.json TRUTH_DIR
SPDX-License-Identifier: GPL-2.0-or-later
"""
import csv
import json
import os
import sys

MARKERS = {'handshake': 'handshake', 'banner': 'banner', 'helo': 'helo', 'helo_reply': 'helo-reply',
           'quit': 'quit', 'quit_reply': 'quit-reply'}
ACT = {'3': ['handshake'], '4': ['banner'], '5': ['helo'], '6': ['helo_reply'], '7': ['quit'],
       '8': ['quit_reply']}


def read_truth(path):
    t = {'marker': {}, 'diag': {}, 'complete': None}
    for line in open(path, encoding='utf-8'):
        w = line.split()
        if not w or w[0].startswith('#'):
            continue
        if w[0] == 'marker':
            t['marker'][w[1]] = set() if w[2:] == ['none'] else {int(x) for x in w[2:]}
        elif w[0] == 'diag':
            t['diag'][w[1]] = set() if w[2:] == ['none'] else {int(x) for x in w[2:]}
        elif w[0] == 'complete':
            t['complete'] = w[1] == 'yes'
    return t


def main():
    grades, rows_csv, manifest, truth_dir = sys.argv[1:5]
    doc = json.load(open(grades, encoding='utf-8'))
    rows = {(r['student'], r['id']): r for r in csv.DictReader(open(rows_csv, encoding='utf-8'))}
    inputs = {r['input'].split(':', 1)[1]: r for r in doc['inputs']}
    errors, checked = [], 0
    for m in json.load(open(manifest, encoding='utf-8')):
        if not m['source'] or m['transform'] not in (None, 'gzip'):
            continue
        member = ('%s_%s_assignsubmission_file_/%s' % (m['student'], m['id'], m['file'])) if m['id'] else m['file']
        rec = inputs[member]
        t = read_truth(os.path.join(truth_dir, m['source'] + '.truth'))
        who = '%s (%s)' % (m['student'], m['source'])
        sess = next(s for s in rec['sessions'] if s['session'] == rec['graded_session'])
        single = len(rec['sessions']) == 1
        for marker, key in MARKERS.items():
            got = sess['checklist'][key]
            got = got[-1] if isinstance(got, list) else got
            want = t['marker'][marker]
            if (got is None) != (not want) or (got is not None and got not in want):
                errors.append('%s: marker %s: graded %s, truth %s' % (who, marker, got, sorted(want) or 'none'))
        got_d = {}
        for d in sess['diagnoses']:
            got_d.setdefault(d['name'].split('.')[-1], set()).add(d['frame'])
        for name, frames in got_d.items():
            want = t['diag'].get(name, set())
            if not frames <= want:
                errors.append('%s: diagnosis %s at %s, truth %s' % (who, name, sorted(frames), sorted(want) or 'none'))
        if single:
            for name, want in t['diag'].items():
                if want and got_d.get(name, set()) != want:
                    errors.append('%s: diagnosis %s: truth %s, graded %s' % (who, name, sorted(want),
                                                                             sorted(got_d.get(name, set()))))
            if t['complete'] is not None and sess['complete'] != t['complete']:
                errors.append('%s: complete %s, truth %s' % (who, sess['complete'], t['complete']))
        row = rows[(m['student'], m['id'])]
        if row['file'] != rec['input'] and 'duplicate_of' not in rec:
            errors.append('%s: the CSV row grades %s' % (who, row['file']))
        if 'duplicate_of' in rec:
            checked += 1
            continue
        score = 0
        for n, markers in ACT.items():
            done = all(t['marker'][mk] if single else (sess['checklist'][MARKERS[mk]] is not None) for mk in markers)
            if n == '8':
                done = done and sess['checklist']['teardown'] is not None
            score += done
            if row['activity %s' % n] != str(int(bool(done))):
                errors.append('%s: CSV activity %s = %s, truth %d' % (who, n, row['activity %s' % n], done))
        if row['score (of 6)'] != str(score):
            errors.append('%s: CSV score %s, truth %d' % (who, row['score (of 6)'], score))
        checked += 1
    for e in errors:
        print('check-truth: ' + e)
    print('check-truth: %d submissions checked against their truth lists, %d disagreements' % (checked, len(errors)))
    return 1 if errors or checked < 40 else 0


if __name__ == '__main__':
    sys.exit(main())
