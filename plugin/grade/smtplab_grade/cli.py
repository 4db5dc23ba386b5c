"""The smtplab-grade command: reads the inputs, grades every capture in
parallel (one tshark per capture, -j at a time), writes the outputs and
prints a summary that counts every input.

SPDX-License-Identifier: GPL-2.0-or-later
"""
import argparse
import os
import shlex
import sys
from concurrent.futures import ThreadPoolExecutor

from . import VERSION, dissect, grading, html, inputs, outputs
from .progress import Progress

OUTPUTS = ('csv', 'json', 'html')
STATUS_ORDER = ['ok', 'duplicate', 'smtp-other-port', 'no-smtp', 'truncated', 'corrupt', 'not-a-capture',
                'empty-file', 'empty-zip', 'corrupt-zip', 'empty', 'unreadable', 'error']


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog='smtplab-grade',
        description='Grade a class of SMTP lab captures: files, folders and .zip archives (a course '
                    'platform\'s "download all submissions" zip as it is) in; a CSV for the gradebook, '
                    'JSON with everything, an HTML page out.',
        epilog='Exit status: 0 when every input was read, 1 when some could not be (not a capture, '
               'corrupt, truncated, empty zip...), 2 when nothing could be graded (usage, tshark without '
               'the smtplab plugin).')
    p.add_argument('inputs', nargs='+', metavar='INPUT', help='capture file (pcap, pcapng, .gz), folder or .zip')
    p.add_argument('-o', '--output', default='smtplab-grades', metavar='DIR',
                   help='folder for the outputs (default: %(default)s)')
    for o in OUTPUTS:
        p.add_argument('--' + o, action='store_true', help='write grades.%s (default: every output)' % o)
    p.add_argument('-j', '--jobs', type=int, default=os.cpu_count() or 1, metavar='N',
                   help='captures read in parallel (default: the number of cores, %(default)s)')
    p.add_argument('--port', action='append', default=[], metavar='PORT',
                   help='grade SMTP on this TCP port too (besides 25 and 587); repeat or give a list: 2525,1025')
    p.add_argument('--tshark', default=os.environ.get('SMTPLAB_TSHARK', 'tshark'), metavar='CMD',
                   help='the tshark command, split like a shell would (default: $SMTPLAB_TSHARK or tshark)')
    p.add_argument('--progress', choices=('auto', 'always', 'never'), default='auto',
                   help='progress bar on stderr (default auto: only on a terminal)')
    p.add_argument('--version', action='version', version='smtplab-grade ' + VERSION)
    a = p.parse_args(argv)
    ports = []
    for item in a.port:
        for x in item.split(','):
            if not x.strip().isdigit() or not 0 < int(x) < 65536:
                p.error('--port: not a TCP port: %r' % x)
            ports.append(int(x))
    a.ports = sorted(set(ports))
    a.outputs = [o for o in OUTPUTS if getattr(a, o)] or list(OUTPUTS)
    if a.jobs < 1:
        p.error('-j must be at least 1')
    return a


def summary(records, ignored):
    counts = {}
    for r in records:
        st = 'duplicate' if 'duplicate_of' in r else r['status']
        counts[st] = counts.get(st, 0) + 1
    if ignored:
        counts['ignored'] = len(ignored)
    order = STATUS_ORDER + ['ignored']
    return {'inputs': len(records) + len(ignored),
            'students': len({(r['student'].casefold(), r['student_id']) for r in records}),
            'by_status': {k: counts[k] for k in sorted(counts, key=lambda k: order.index(k) if k in order else 99)},
            'ignored': ignored}


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    tshark = shlex.split(a.tshark)
    ok, why = dissect.has_plugin(tshark)
    if not ok:
        print('smtplab-grade: ' + why, file=sys.stderr)
        return 2
    exp = inputs.Expander()
    try:
        subs = exp.expand(a.inputs)
        prog = Progress(len(subs), {'auto': None, 'always': True, 'never': False}[a.progress])
        with ThreadPoolExecutor(max_workers=a.jobs) as pool:
            futures = [pool.submit(grading.grade_one, s, tshark, a.ports) for s in subs]
            records = []
            for f in futures:
                records.append(f.result())
                prog.step()
        prog.close()
        ignored = list(exp.ignored)
    finally:
        exp.close()
    grading.mark_duplicates(records)
    rows = grading.student_rows(records)
    summ = summary(records, ignored)
    doc = {'tool': 'smtplab-grade', 'version': VERSION, 'ports': sorted(set(dissect.DEFAULT_PORTS) | set(a.ports)),
           'activities': {str(n): what for n, _, what in grading.ACTIVITIES}, 'max_score': grading.MAX_SCORE,
           'summary': summ, 'students': rows, 'inputs': records}
    os.makedirs(a.output, exist_ok=True)
    written = []
    if 'csv' in a.outputs:
        written.append(os.path.join(a.output, 'grades.csv'))
        outputs.write_csv(written[-1], rows)
    if 'json' in a.outputs:
        written.append(os.path.join(a.output, 'grades.json'))
        outputs.write_json(written[-1], doc)
    if 'html' in a.outputs:
        written.append(os.path.join(a.output, 'grades.html'))
        html.write_html(written[-1], doc)
    unread = [r for r in records if r['status'] in grading.UNREAD]
    for r in records:
        if r['status'] not in ('ok',) or 'duplicate_of' in r:
            print('%s: %s: %s' % (r['input'], 'duplicate' if 'duplicate_of' in r else r['status'],
                                  '; '.join(m for m in [r['message']] + r['notes'] if m)))
    print('%d inputs, %d students: %s' % (summ['inputs'], summ['students'],
                                          ', '.join('%d %s' % (v, k) for k, v in summ['by_status'].items())))
    print('wrote ' + ', '.join(written))
    if unread:
        print('%d input%s could not be read completely' % (len(unread), '' if len(unread) == 1 else 's'))
        return 1
    return 0
