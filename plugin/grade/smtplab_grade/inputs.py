"""The inputs of a class: files, folders and .zip archives (a course
platform's "download all submissions" layout included) expanded into one
Submission per file, each named by its student.

SPDX-License-Identifier: GPL-2.0-or-later
"""
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from typing import List, Optional

# Moodle's export: "Full Name_12345_assignsubmission_file_/capture.pcapng"
# (also onlinetext, and the older "assignment" spelling).
LMS_FOLDER = re.compile(r'^(?P<name>.+?)_(?P<id>\d+)_assign(?:submission|ment)_[a-z]+_?$')
CAPTURE_SUFFIXES = ('.gz', '.pcapng', '.pcap', '.cap', '.ntar')
# Files an archiver adds that nobody handed in: counted, not graded.
JUNK = re.compile(r'(^|/)(__MACOSX/|\.DS_Store$|Thumbs\.db$|desktop\.ini$)')


@dataclass
class Submission:
    """One file handed in (or one input that could not be expanded)."""
    display: str                 # where it came from: "class.zip:Anna_1_assignsubmission_file_/a.pcapng"
    student: str
    student_id: str = ''
    path: Optional[str] = None   # a readable local file; None when there is none
    status: str = ''             # set here only for inputs that are not files to dissect
    message: str = ''
    notes: List[str] = field(default_factory=list)


# The name smtplab-lab saves a capture under: smtplab-<login>-<YYYYmmdd-HHMMSS>.
LAB_CAPTURE = re.compile(r'^smtplab-(?P<login>.+)-\d{8}-\d{6}$')


def stem(name):
    """The student name a bare file gives: its name without capture suffixes;
    the login, for a capture saved by smtplab-lab."""
    base = os.path.basename(name)
    low = base.lower()
    changed = True
    while changed:
        changed = False
        for suf in CAPTURE_SUFFIXES:
            if low.endswith(suf) and len(low) > len(suf):
                base, low = base[:-len(suf)], low[:-len(suf)]
                changed = True
    m = LAB_CAPTURE.match(base)
    return m.group('login') if m else base


def name_from_path(parts, fallback):
    """(student, id) from the first LMS folder among path parts, else the file name."""
    for p in parts[:-1]:
        m = LMS_FOLDER.match(p)
        if m:
            return m.group('name').strip(), m.group('id')
    if parts:
        m = LMS_FOLDER.match(parts[-1])
        if m:
            return m.group('name').strip(), m.group('id')
    return stem(parts[-1] if parts else fallback), ''


def zip_member_name(info):
    """A member's name as its author wrote it: zips without the UTF-8 flag
    store names in cp437 by the standard, but most tools wrote UTF-8."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode('cp437').decode('utf-8')
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


class Expander:
    """Expands inputs into Submissions; zips are unpacked into a private
    temporary folder, removed by close()."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix='smtplab-grade.')
        os.chmod(self.tmp, 0o755)
        self.count = 0
        self.ignored = []        # displays of junk files, for the summary

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def expand(self, inputs):
        subs = []
        for arg in inputs:
            subs.extend(self._one(arg))
        return subs

    def _one(self, arg):
        if os.path.isdir(arg):
            return self._folder(arg)
        if not os.path.exists(arg):
            return [Submission(arg, stem(arg), status='unreadable', message='no such file or folder')]
        if arg.lower().endswith('.zip') or (zipfile.is_zipfile(arg) and not _looks_like_capture(arg)):
            return self._zip(arg, arg, [])
        student, sid = name_from_path([os.path.basename(arg)], arg)
        return [Submission(arg, student, sid, path=arg)]

    def _folder(self, top):
        subs = []
        found = False
        for root, dirs, files in os.walk(top):
            dirs.sort()
            for f in sorted(files):
                found = True
                full = os.path.join(root, f)
                rel = os.path.relpath(full, top)
                parts = rel.split(os.sep)
                if JUNK.search(rel.replace(os.sep, '/')):
                    self.ignored.append(full)
                    continue
                subs.extend(self._file(full, full, parts, f))
        if not found:
            subs.append(Submission(top, stem(os.path.normpath(top)), status='empty',
                                   message='empty folder: no file in it'))
        return subs

    def _file(self, path, display, parts, name):
        """A file found in a folder or a zip: a zip is opened, anything else
        is one submission (what it holds is judged when it is dissected)."""
        if name.lower().endswith('.zip'):
            return self._zip(path, display, parts)
        student, sid = name_from_path(parts, name)
        return [Submission(display, student, sid, path=path)]

    def _zip(self, path, display, outer_parts):
        """A zip's members; outer_parts is where the zip itself sat (its LMS folder)."""
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as e:
            student, sid = name_from_path(outer_parts or [os.path.basename(path)], path)
            return [Submission(display, student, sid, status='corrupt-zip', message='not a readable zip archive: %s' % e)]
        subs = []
        with zf:
            members = [i for i in zf.infolist() if not i.is_dir()]
            for info in members:
                name = zip_member_name(info)
                shown = '%s:%s' % (display, name)
                if JUNK.search(name):
                    self.ignored.append(shown)
                    continue
                parts = [p for p in outer_parts[:-1] + name.split('/') if p]
                self.count += 1
                local = os.path.join(self.tmp, '%05d%s' % (self.count, _suffix(name)))
                try:
                    with zf.open(info) as src, open(local, 'wb') as dst:
                        shutil.copyfileobj(src, dst)
                    os.chmod(local, 0o644)
                except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as e:
                    student, sid = name_from_path(parts, name)
                    subs.append(Submission(shown, student, sid, status='corrupt-zip',
                                           message='could not unpack this member: %s' % e))
                    continue
                subs.extend(self._file(local, shown, parts, name))
        if not subs:
            student, sid = name_from_path(outer_parts or [os.path.basename(path)], path)
            subs.append(Submission(display, student, sid, status='empty-zip',
                                   message='empty zip: no file in it'))
        return subs


def _suffix(name):
    low = name.lower()
    for suf in ('.pcapng.gz', '.pcap.gz', '.zip', '.gz', '.pcapng', '.pcap'):
        if low.endswith(suf):
            return suf
    return ''


def _looks_like_capture(path):
    with open(path, 'rb') as f:
        magic = f.read(4)
    return magic in (b'\x0a\x0d\x0d\x0a', b'\xd4\xc3\xb2\xa1', b'\xa1\xb2\xc3\xd4',
                     b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d')
