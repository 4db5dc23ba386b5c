"""The class as one self-contained HTML page (no network, no external
files): a summary chart, a sortable class table, and per student the ladder
of the graded connection as SVG (one arrow per line, coloured by stage as
the "SMTP Lab" profile's colouring rules, diagnoses beside the arrow) and the
typing of each command line.

SPDX-License-Identifier: GPL-2.0-or-later
"""
import html
import os
import re

from .grading import ACTIVITIES, MAX_SCORE, short_diag
from .outputs import diag_text

_here = os.path.dirname(os.path.abspath(__file__))
# The profile's rules: in the source tree, and installed beside this module.
COLORFILTERS = [os.path.join(_here, 'colorfilters'), os.path.join(_here, '..', '..', 'profile', 'colorfilters')]
DIAG_COLOUR = '#a50000'


def stage_colours():
    """{stage: '#rrggbb'} from the profile's colorfilters (one fact, one place)."""
    for path in COLORFILTERS:
        if os.path.exists(path):
            break
    else:
        return {}
    colours = {}
    for line in open(path, encoding='utf-8'):
        m = re.match(r'@[^@]*@smtplab\.stage == "([a-z-]+)"@\[(\d+),(\d+),(\d+)\]', line)
        if m:
            colours[m.group(1)] = '#%02x%02x%02x' % tuple(int(m.group(i)) // 257 for i in (2, 3, 4))
        m = re.match(r'@[^@]*@smtplab\.stage@\[(\d+),(\d+),(\d+)\]', line)
        if m:
            colours[''] = '#%02x%02x%02x' % tuple(int(m.group(i)) // 257 for i in (1, 2, 3))
    return colours


def esc(s):
    return html.escape(str(s), quote=True)


def cut(s, n):
    return s if len(s) <= n else s[:n - 1] + '…'


def ladder_svg(session, colours, uid):
    """The ladder; uid makes its arrowhead's id unique in the page (an id
    shared by all ladders points every arrow at the first ladder's marker,
    which draws nothing when that ladder is hidden)."""
    steps = session['ladder']
    row, top, cx, sx, width = 24, 34, 190, 520, 900
    h = top + row * len(steps) + 10
    out = ['<svg class="ladder" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" '
           'aria-label="ladder of connection %d">' % (width, h, session['session'])]
    out.append('<defs><marker id="ah%s" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
               'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>' % uid)
    out.append('<text x="%d" y="14" text-anchor="middle" class="end">client %s</text>' % (cx, esc(session['client'])))
    out.append('<text x="%d" y="14" text-anchor="middle" class="end">server %s</text>' % (sx, esc(session['server'])))
    out.append('<line x1="%d" y1="20" x2="%d" y2="%d" stroke="#888"/>' % (cx, cx, h - 4))
    out.append('<line x1="%d" y1="20" x2="%d" y2="%d" stroke="#888"/>' % (sx, sx, h - 4))
    for i, s in enumerate(steps):
        y = top + i * row
        fill = colours.get(s['stage'], colours.get('', '#f6f6f6'))
        cls = 'step' + (' diag' if s.get('diagnoses') else '')
        out.append('<g class="%s" data-frame="%d" data-stage="%s">' % (cls, s['frame'], esc(s['stage'])))
        out.append('<rect x="0" y="%d" width="%d" height="%d" fill="%s"/>' % (y - 6, sx + 10, row - 2, fill))
        out.append('<text x="4" y="%d" class="t">%s %s</text>' % (
            y + 8, s['frame'], '' if s['time'] is None else '%.3f s' % s['time']))
        if s['kind'] != 'mark':
            x1, x2 = (cx, sx) if s['dir'] == 'c2s' else (sx, cx)
            dash = ' stroke-dasharray="4 3"' if s['kind'] == 'enter' else ''
            out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333" marker-end="url(#ah%s)"%s/>' % (
                x1, y + 10, x2, y + 10, uid, dash))
            out.append('<text x="%d" y="%d" text-anchor="middle" class="l">%s</text>' % (
                (cx + sx) // 2, y + 6, esc(cut(s['label'], 52))))
        if s.get('diagnoses'):
            out.append('<text x="%d" y="%d" class="d" fill="%s">%s</text>' % (
                sx + 16, y + 10, DIAG_COLOUR, esc(', '.join(s['diagnoses']))))
        out.append('</g>')
    out.append('</svg>')
    return ''.join(out)


def typing_svg(cmd):
    ks = cmd.get('keystrokes') or []
    if len(ks) < 2:
        return ''
    t0, span = ks[0]['time'], max(ks[-1]['time'] - ks[0]['time'], 1e-6)
    width = 640
    out = ['<svg class="typing" xmlns="http://www.w3.org/2000/svg" width="%d" height="30">' % (width + 40)]
    out.append('<line x1="10" y1="22" x2="%d" y2="22" stroke="#bbb"/>' % (width + 10))
    for k in ks:
        x = 10 + (k['time'] - t0) / span * width
        out.append('<circle cx="%.1f" cy="22" r="2.5" fill="#336"/><text x="%.1f" y="14" text-anchor="middle" '
                   'class="k">%s</text>' % (x, x, esc(cut(k['keys'], 4))))
    out.append('</svg>')
    return ''.join(out)


def summary_svg(rows):
    graded = [r for r in rows if r['score'] is not None]
    counts = [(('Activity %d' % n), sum(1 for r in graded if r['activities'][str(n)])) for n, _, _ in ACTIVITIES]
    diags = {}
    for r in graded:
        for d in r['diagnoses']:
            diags[d] = diags.get(d, 0) + 1
    top = sorted(diags.items(), key=lambda kv: (-kv[1], kv[0]))[:8]
    bars = counts + [('', None)] + top
    width, row = 700, 20
    total = max(len(graded), 1)
    out = ['<svg id="summary-chart" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" '
           'aria-label="class summary">' % (width, row * len(bars) + 10)]
    for i, (name, n) in enumerate(bars):
        y = 4 + i * row
        if n is None:
            out.append('<text x="0" y="%d" class="h">students with each diagnosis</text>' % (y + 13))
            continue
        w = 400 * n / total
        colour = '#4a7' if name.startswith('Activity') else DIAG_COLOUR
        out.append('<g class="bar" data-name="%s" data-count="%d"><text x="0" y="%d">%s</text>'
                   '<rect x="180" y="%d" width="%.1f" height="14" fill="%s"/><text x="%.1f" y="%d">%d of %d</text></g>'
                   % (esc(name), n, y + 12, esc(name), y, w, colour, 186 + w, y + 12, n, len(graded)))
    out.append('</svg>')
    return ''.join(out)


CSS = '''body{font:14px sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}th{background:#eee;cursor:pointer}
th.sorted-asc::after{content:" ▲"}th.sorted-desc::after{content:" ▼"}td.y{background:#c8ffc8}td.n{background:#ffc8c8}
.st-ok{color:#262}.bad{color:#a50000}svg text{font:12px sans-serif}svg text.l{font:12px monospace}
svg text.k{font:10px monospace}svg text.end{font-weight:bold}section.student{border-top:2px solid #ccc;margin-top:1.5em}
pre{margin:0}'''

JS = '''document.querySelectorAll("#class th").forEach(function(th, col) {
  th.addEventListener("click", function() {
    var body = document.querySelector("#class tbody");
    var asc = !th.classList.contains("sorted-asc");
    document.querySelectorAll("#class th").forEach(function(o) { o.classList.remove("sorted-asc", "sorted-desc"); });
    th.classList.add(asc ? "sorted-asc" : "sorted-desc");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function(a, b) {
      var x = a.cells[col].getAttribute("data-sort") || a.cells[col].textContent;
      var y = b.cells[col].getAttribute("data-sort") || b.cells[col].textContent;
      var nx = parseFloat(x), ny = parseFloat(y), r;
      if (!isNaN(nx) && !isNaN(ny)) r = nx - ny; else r = x.localeCompare(y);
      return asc ? r : -r;
    });
    rows.forEach(function(r) { body.appendChild(r); });
  });
});'''


def write_html(path, doc):
    colours = stage_colours()
    rows = doc['students']
    recs = {r['input']: r for r in doc['inputs']}
    p = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
         '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
         'script-src \'unsafe-inline\'; img-src data:">',
         '<title>SMTP Lab grades</title><style>%s</style></head><body>' % CSS,
         '<h1>SMTP Lab grades</h1>']
    s = doc['summary']
    p.append('<p id="summary">%d inputs, %d students: %s</p>' % (
        s['inputs'], s['students'], esc(', '.join('%d %s' % (v, k) for k, v in s['by_status'].items()))))
    p.append('<h2>Class summary</h2>' + summary_svg(rows))
    p.append('<h2>Students</h2><table id="class"><thead><tr><th>student</th><th>status</th>')
    p.extend('<th title="%s">act %d</th>' % (esc(what), n) for n, _, what in ACTIVITIES)
    p.append('<th>score</th><th>diagnoses</th><th>message</th></tr></thead><tbody>')
    for i, r in enumerate(rows):
        p.append('<tr data-student="%s"><td><a href="#s%d">%s</a></td><td class="%s">%s</td>' % (
            esc(r['student']), i, esc(r['student']), 'st-ok' if r['status'] == 'ok' else 'bad', esc(r['status'])))
        for n, _, _ in ACTIVITIES:
            v = r['activities'][str(n)]
            p.append('<td class="%s" data-sort="%s">%s</td>' % (
                '' if v is None else ('y' if v else 'n'), '' if v is None else int(v), '' if v is None else ('✔' if v else '✘')))
        p.append('<td data-sort="%s">%s</td><td>%s</td><td>%s</td></tr>' % (
            -1 if r['score'] is None else r['score'], '' if r['score'] is None else '%d/%d' % (r['score'], MAX_SCORE),
            esc(diag_text(r['diagnoses'])), esc(r['message'])))
    p.append('</tbody></table>')
    for i, r in enumerate(rows):
        rec = recs[r['input']]
        p.append('<section class="student" id="s%d" data-student="%s"><h3>%s</h3><p>%s: %s</p>' % (
            i, esc(r['student']), esc(r['student']), esc(r['status']), esc(rec['input'])))
        sess = next((x for x in rec['sessions'] if x['session'] == rec['graded_session']), None)
        if not sess:
            p.append('<p class="bad">%s</p></section>' % esc(r['message']))
            continue
        p.append('<p>connection %d of %d, %d/%d activities, %s</p>' % (
            sess['session'], len(rec['sessions']), sess['score'], MAX_SCORE,
            'complete' if sess['complete'] else 'incomplete'))
        p.append(ladder_svg(sess, colours, 's%d' % i))
        if sess['diagnoses']:
            p.append('<ul class="diagnoses">%s</ul>' % ''.join(
                '<li>frame %d: <b>%s</b>: %s</li>' % (d['frame'], esc(short_diag(d['name'])), esc(d['message']))
                for d in sess['diagnoses']))
        cmds = sess.get('commands', [])
        if cmds:
            p.append('<table class="lines"><tr><th>frame</th><th>line as meant</th><th>as received</th>'
                     '<th>reply</th><th>typing</th></tr>')
            for c in cmds:
                typed = ('%d keystrokes in %.2f s' % (len(c['keystrokes']), c['typing_time'])
                         if c.get('typing_time') is not None else '%d segment(s)' % c['segments'])
                p.append('<tr><td>%d</td><td><pre>%s</pre></td><td><pre>%s</pre></td><td>%s</td><td>%s%s</td></tr>' % (
                    c['frame'], esc(c['meant']), esc(c['received']) if c['received'] != c['meant'] else '',
                    '' if c['reply_code'] is None else '%d after %.3f s' % (c['reply_code'], c['reply_time']),
                    esc(typed), typing_svg(c)))
            p.append('</table>')
        p.append('</section>')
    p.append('<script>%s</script></body></html>\n' % JS)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(''.join(p))
