"""The grader's files: CSV for a gradebook (one row per student) and JSON
with everything.

SPDX-License-Identifier: GPL-2.0-or-later
"""
import csv
import json

from .grading import ACTIVITIES, MAX_SCORE


def diag_text(counts):
    return '; '.join(n if c == 1 else '%s x%d' % (n, c) for n, c in sorted(counts.items()))


def write_csv(path, rows):
    with open(path, 'w', newline='', encoding='utf-8') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(['student', 'id', 'status'] + ['activity %d' % n for n, _, _ in ACTIVITIES] +
                   ['score (of %d)' % MAX_SCORE, 'complete', 'diagnoses', 'file', 'submissions', 'message'])
        for r in rows:
            acts = ['' if r['activities'][str(n)] is None else int(r['activities'][str(n)]) for n, _, _ in ACTIVITIES]
            w.writerow([r['student'], r['student_id'], r['status']] + acts +
                       ['' if r['score'] is None else r['score'],
                        '' if r['complete'] is None else ('yes' if r['complete'] else 'no'),
                        diag_text(r['diagnoses']), r['input'], r['submissions'], r['message']])


def write_json(path, doc):
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(doc, f, ensure_ascii=False, indent=1, sort_keys=False)
        f.write('\n')
