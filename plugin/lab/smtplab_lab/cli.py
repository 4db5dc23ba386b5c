"""The smtplab-lab command: the SMTP lab on a practice mail server in a
private network, captured live, no root needed.

    smtplab-lab [--text] [--scenario NAME] ...   start the lab (Ctrl+C ends it)
    smtplab-lab shell [COMMAND...]               a shell (or COMMAND) in the running lab's network

SPDX-License-Identifier: GPL-2.0-or-later
"""
import argparse
import ctypes
import datetime
import getpass
import json
import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from . import live, network, prereq

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIOS = {
    'normal': 'a public mail server: port 25 open, port 587 wants STARTTLS first (the default)',
    'blocked': 'port 25 blocked on the way: every SYN to port 25 is dropped without an answer (587 works)',
    'refused': 'port 25 refused: nothing listens there, the server answers the SYN with RST (587 works)',
    'starttls': 'port 25 requires STARTTLS before MAIL, as port 587 does (530 5.7.0)',
    'strict-helo': 'HELO or EHLO without a fully-qualified domain is rejected (501, 504)',
    'slow': 'the server answers every command (and greets) only after --delay seconds',
    'idle-timeout': 'the server closes the session with 421 after --idle-timeout seconds without a keystroke',
}
PROFILE = 'SMTP Lab'


def say(msg=''):
    print(msg, flush=True)


def err(msg):
    print('smtplab-lab: ' + msg, file=sys.stderr, flush=True)


def state_path():
    """Where the running lab is recorded, for `smtplab-lab shell`."""
    rt = os.environ.get('XDG_RUNTIME_DIR')
    if rt and os.path.isdir(rt) and os.access(rt, os.W_OK):
        return os.path.join(rt, 'smtplab-lab.json')
    return os.path.join(tempfile.gettempdir(), 'smtplab-lab-%d.json' % os.getuid())


def read_state(alive=True):
    """The running lab's record (the network's first process, its work
    folder), or None; with alive=False also a record whose lab is gone.
    Only a file of our own counts (it may be in a shared /tmp)."""
    try:
        fd = os.open(state_path(), os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd) as f:
            if os.fstat(f.fileno()).st_uid != os.getuid():
                return None
            st = json.load(f)
        if alive:
            os.kill(st['pid'], 0)
        return st
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_state(st):
    path = state_path()
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, 'w') as f:
        json.dump(st, f)


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog='smtplab-lab',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description='Do the SMTP lab anywhere: a practice mail server (mail.lab, ports 25 and 587) in a '
                    'private network that only you and this command see, captured live in Wireshark '
                    '(or, with --text, shown here as text) with the SMTP Lab profile. No root, no mail '
                    'account, nothing leaves this machine. When it ends (Ctrl+C here, or close Wireshark) '
                    'the capture is saved for handing in, named with your login and the time.',
        epilog='Scenarios (--scenario):\n' + '\n'.join('  %-13s %s' % kv for kv in SCENARIOS.items()) +
               '\n\nIn the lab network: `smtplab-lab shell`, then `telnet mail.lab 25`.\n'
               'Exit status: 0 when the capture was saved, 1 when the lab failed, 2 for bad arguments or '
               'a machine that cannot run the lab (the message says what is missing and how to fix it).')
    p.add_argument('--text', action='store_true',
                   help='no Wireshark window: print every step here as it happens (tshark with the plugin)')
    p.add_argument('--scenario', choices=list(SCENARIOS), default='normal', metavar='NAME',
                   help='how the mail server behaves: ' + ', '.join(SCENARIOS) + ' (default: %(default)s)')
    p.add_argument('--delay', type=float, default=4.0, metavar='SECONDS',
                   help='slow scenario: seconds before each reply (default: %(default)s)')
    p.add_argument('--idle-timeout', type=float, default=20.0, metavar='SECONDS',
                   help='idle-timeout scenario: seconds of silence before the 421 (default: %(default)s)')
    p.add_argument('--save-dir', default='.', metavar='DIR',
                   help='folder for the saved capture (default: the current folder)')
    p.add_argument('--no-terminal', action='store_true',
                   help='open no terminal window for telnet; only print the command')
    p.add_argument('--server-log', metavar='FILE',
                   help="also save the mail server's log (every line it read, every reply) here")
    p.add_argument('--tshark', default=os.environ.get('SMTPLAB_TSHARK', 'tshark'), metavar='CMD',
                   help='the tshark command, split like a shell would (default: $SMTPLAB_TSHARK or tshark)')
    p.add_argument('--wireshark', default=os.environ.get('SMTPLAB_WIRESHARK', 'wireshark'), metavar='CMD',
                   help='the Wireshark command (default: $SMTPLAB_WIRESHARK or wireshark)')
    a = p.parse_args(argv)
    if a.delay < 0 or a.idle_timeout <= 0:
        p.error('--delay must be 0 or more, --idle-timeout more than 0')
    if not os.path.isdir(a.save_dir) or not os.access(a.save_dir, os.W_OK):
        p.error('--save-dir %s: not a folder you can write to' % a.save_dir)
    a.tshark = shlex.split(a.tshark)
    a.wireshark = shlex.split(a.wireshark)
    if not a.tshark or not a.wireshark:
        p.error('--tshark and --wireshark need a command')
    return a


def die_on_parent_death():
    """In a child, before exec: be killed when smtplab-lab dies, however it dies."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def child_pid(pid, secs=10):
    """The child of pid (unshare's child: the network's first process)."""
    end = time.monotonic() + secs
    while time.monotonic() < end:
        for d in os.listdir('/proc'):
            if not d.isdigit():
                continue
            try:
                with open('/proc/%s/stat' % d) as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat[stat.rindex(')') + 2:].split()[1]) == pid:
                return int(d)
        time.sleep(0.02)
    return None


class Lab:
    def __init__(self, args):
        self.a = args
        self.work = tempfile.mkdtemp(prefix='smtplab-lab.', dir=os.path.dirname(state_path()))
        self.started = datetime.datetime.now()
        self.capture = os.path.join(self.work, 'capture.pcapng')
        self.net = self.inner = self.viewer = self.terminal = None
        self.printer = None
        self.feed = None            # where the live stream goes (the viewer), or None
        self.stopping = threading.Event()

    # The network: unshare, and network.py inside it.
    def start_network(self):
        a = self.a
        server = [sys.executable, os.path.join(HERE, 'server.py'), '--addr', network.MAIL_ADDR,
                  '--scenario', a.scenario, '--ready-file', os.path.join(self.work, 'server.ready'),
                  '--log', os.path.join(self.work, 'server.log')]
        if a.scenario == 'slow':
            server += ['--delay', str(a.delay)]
        elif a.scenario == 'idle-timeout':
            server += ['--idle-timeout', str(a.idle_timeout)]
        cmd = ['unshare', '--user', '--map-root-user', '--net', '--mount', '--pid', '--fork', '--kill-child',
               '--mount-proc', '--', sys.executable, '-m', 'smtplab_lab.network', '--work', self.work,
               '--scenario', a.scenario, '--server', server[0], '--'] + server[1:]
        env = dict(os.environ, PYTHONPATH=os.path.dirname(HERE), PYTHONDONTWRITEBYTECODE='1')
        self.net = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=open(os.path.join(self.work, 'network.log'), 'wb'), env=env,
                                    start_new_session=True, preexec_fn=die_on_parent_death)
        self.inner = child_pid(self.net.pid)
        ready = os.path.join(self.work, 'network.ready')
        end = time.monotonic() + 30
        while not os.path.exists(ready):
            if self.net.poll() is not None or time.monotonic() > end:
                raise LabError('the lab network did not start', self.log_tail())
            time.sleep(0.05)
        write_state({'pid': self.inner, 'work': self.work, 'scenario': a.scenario})

    def tail(self, name, n):
        """The last n lines of one of the lab's logs."""
        try:
            with open(os.path.join(self.work, name), errors='replace') as f:
                return [ln for ln in f.read().splitlines() if ln.strip()][-n:]
        except OSError:
            return []

    def log_tail(self):
        return '\n'.join('  %s: %s' % (name, ln)
                         for name in ('network.log', 'server.out', 'server.log', 'dumpcap.log')
                         for ln in self.tail(name, 8))

    # The stream: dumpcap's pcapng, to the file and to the viewer.
    def tee(self):
        """Everything goes to the file; to the viewer too, from the start
        (a pcapng stream is unreadable without its first blocks): what came
        before the viewer opened its pipe is sent to it first."""
        early = bytearray()
        sending = False
        fd = self.net.stdout.fileno()
        with open(self.capture, 'wb') as out:
            while True:
                # Until the viewer has the first blocks, wait for data 0.2 s at
                # most: they must reach it when it opens its pipe, not with the
                # first packet (Wireshark shows no capture until it has them).
                if not sending and not select.select([fd], [], [], 0.2)[0]:
                    chunk = b''
                else:
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        break
                out.write(chunk)
                out.flush()
                feed = self.feed
                if feed is None:
                    if not sending:
                        early += chunk
                    continue
                try:
                    if not sending:
                        chunk, early, sending = bytes(early) + chunk, None, True
                    feed.write(chunk)
                    feed.flush()
                except (BrokenPipeError, OSError, ValueError):
                    self.feed = None   # the viewer is gone: the file goes on
        feed, self.feed = self.feed, None
        if feed is not None:
            try:
                feed.close()
            except OSError:
                pass

    def start_text_viewer(self):
        profile = ['-C', PROFILE] if self.a.profile else []
        cmd = self.a.tshark + profile + ['-l', '-n', '-r', '-', '-T', 'json', '-J', 'frame ip ipv6 tcp keystroke smtplab']
        self.viewer = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=open(os.path.join(self.work, 'tshark.log'), 'wb'),
                                       start_new_session=True, preexec_fn=die_on_parent_death)
        self.feed = self.viewer.stdin
        names = {network.STUDENT_ADDR: 'student', network.MAIL_ADDR: 'mail.lab'}
        say(live.HEADER)
        self.printer = threading.Thread(target=live.follow, args=(self.viewer.stdout, self.write, names),
                                        daemon=True)
        self.printer.start()

    def write(self, text):
        sys.stdout.write(text)
        sys.stdout.flush()

    def start_gui_viewer(self):
        fifo = os.path.join(self.work, 'lab-eth0')
        os.mkfifo(fifo, 0o600)
        cmd = self.a.wireshark + ['-k', '-i', fifo]
        if self.a.profile:
            cmd += ['-C', PROFILE]
        self.viewer = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                       stdout=open(os.path.join(self.work, 'wireshark.log'), 'wb'),
                                       stderr=subprocess.STDOUT, start_new_session=True,
                                       preexec_fn=die_on_parent_death)

        def open_fifo():
            # Blocks until Wireshark's dumpcap opens the pipe.
            try:
                f = open(fifo, 'wb')
            except OSError:
                return
            if self.stopping.is_set():
                f.close()
            else:
                self.feed = f
        threading.Thread(target=open_fifo, daemon=True).start()

    def open_terminal(self):
        term = shutil.which('x-terminal-emulator') or shutil.which('xterm')
        if self.a.no_terminal or self.a.text or not term:
            return False
        me = os.path.abspath(sys.argv[0])
        self.terminal = subprocess.Popen([term, '-e', me, 'shell'], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                         start_new_session=True)
        return True

    def run(self):
        a = self.a
        tee = threading.Thread(target=self.tee, daemon=True)
        self.start_network()
        opened = self.open_terminal()
        scen = '' if a.scenario == 'normal' else ' Scenario: %s (%s).' % (a.scenario, SCENARIOS[a.scenario])
        say('smtplab-lab: the lab network is up: mail.lab (%s, ports 25 and 587), and you as student.lab '
            '(%s).%s' % (network.MAIL_ADDR, network.STUDENT_ADDR, scen))
        if opened:
            say('smtplab-lab: a terminal window opened in the lab network: type  telnet mail.lab 25')
        else:
            say('smtplab-lab: in another terminal, run  smtplab-lab shell  and there type  telnet mail.lab 25')
        say('smtplab-lab: end the lab with Ctrl+C here%s; the capture is then saved in %s'
            % ('' if a.text else ' or by closing Wireshark (Quit without Saving)', os.path.abspath(a.save_dir)))
        if a.text:
            self.start_text_viewer()
        else:
            self.start_gui_viewer()
        tee.start()
        viewer_gone = False
        while not self.stopping.is_set():
            if self.net.poll() is not None:
                raise LabError('the lab network stopped (exit %s)' % self.net.returncode, self.log_tail())
            if self.viewer.poll() is not None:
                if not a.text:
                    break               # Wireshark closed: the lab ends
                if not viewer_gone:
                    viewer_gone = True
                    err('the live view stopped (tshark exit %s); the capture goes on: %s'
                        % (self.viewer.returncode, ' | '.join(self.tail('tshark.log', 3))))
            self.stopping.wait(0.2)
        tee.join(0)
        return self.finish(tee)

    def stop_network(self):
        if self.inner:
            try:
                os.kill(self.inner, signal.SIGTERM)
            except OSError:
                pass
        try:
            self.net.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.net.kill()
            self.net.wait()

    def finish(self, tee):
        self.stopping.set()
        self.stop_network()
        tee.join(10)
        if self.viewer is not None:
            if self.a.text:
                try:
                    self.viewer.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.viewer.terminate()
                if self.printer:
                    self.printer.join(10)
            elif self.viewer.poll() is None:
                self.viewer.terminate()
        if self.terminal is not None and self.terminal.poll() is None:
            self.terminal.terminate()
        return self.save()

    def save(self):
        login = re.sub(r'[^A-Za-z0-9._-]', '_', getpass.getuser()) or 'student'
        name = 'smtplab-%s-%s.pcapng' % (login, self.started.strftime('%Y%m%d-%H%M%S'))
        dest = os.path.join(self.a.save_dir, name)
        shutil.copyfile(self.capture, dest)
        if self.a.server_log:
            shutil.copyfile(os.path.join(self.work, 'server.log'), self.a.server_log)
        dest = os.path.abspath(dest)
        say('smtplab-lab: saved %d packets to %s' % (count_packets(dest), dest))
        say('smtplab-lab: hand this file in; check it first with:  smtplab-grade %s' % shlex.quote(dest))
        return 0

    def cleanup(self):
        try:
            st = read_state(alive=False)
            if st and st.get('work') == self.work:
                os.unlink(state_path())
        except OSError:
            pass
        shutil.rmtree(self.work, ignore_errors=True)


class LabError(Exception):
    def __init__(self, msg, detail=''):
        Exception.__init__(self, msg)
        self.detail = detail


def count_packets(path):
    """Packets (Enhanced Packet Blocks) in a pcapng file."""
    n = 0
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError:
        return 0
    if len(data) < 12 or data[:4] != b'\x0a\x0d\x0d\x0a':
        return 0
    order = 'little' if data[8:12] == b'\x4d\x3c\x2b\x1a' else 'big'
    off = 0
    while off + 12 <= len(data):
        btype = int.from_bytes(data[off:off + 4], order)
        blen = int.from_bytes(data[off + 4:off + 8], order)
        if blen < 12 or off + blen > len(data):
            break
        if btype in (6, 3):
            n += 1
        off += blen
    return n


def shell(argv):
    st = read_state()
    if st is None:
        err('no lab is running: start one with  smtplab-lab  (or smtplab-lab --text)')
        return 2
    pid = str(st['pid'])
    cmd = ['nsenter', '--target', pid, '--user', '--net', '--mount', '--pid', '--preserve-credentials',
           '--wd=' + os.getcwd(), '--']
    if argv:
        cmd += argv
    else:
        rc = os.path.join(st['work'], 'shellrc')
        if not os.path.exists(rc):
            with open(rc, 'w') as f:
                f.write('[ -f ~/.bashrc ] && . ~/.bashrc\n'
                        "PS1='(smtplab lab) \\w $ '\n"
                        'echo "You are in the lab network, as student.lab (%s). The mail server is mail.lab (%s)."\n'
                        'echo "Type:  telnet mail.lab 25     (then helo, and quit). exit leaves this shell;"\n'
                        'echo "it ends when the lab ends (the terminal then says Killed)."\n'
                        % (network.STUDENT_ADDR, network.MAIL_ADDR))
        cmd += ['bash', '--rcfile', rc, '-i'] if shutil.which('bash') else ['sh', '-i']
    # When the lab ends, every process in its network ends with it: this
    # shell too (the terminal says "Killed").
    try:
        os.execvp(cmd[0], cmd)
    except OSError as e:
        err('cannot enter the lab network: %s' % e)
        return 1


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ['shell']:
        return shell(argv[1:])
    a = parse_args(argv)
    problems = prereq.check(a)
    if problems:
        err('this machine cannot run the lab yet:')
        for what, fix in problems:
            print('  - %s\n      fix: %s' % (what, fix), file=sys.stderr)
        return 2
    other = read_state()
    if other:
        err('a lab is already running (%s): end it first (Ctrl+C in its window); '
            'to use it, run  smtplab-lab shell' % other.get('work'))
        return 2
    a.profile = prereq.has_profile(a.tshark, PROFILE)
    lab = Lab(a)
    got = []
    prev = {s: signal.signal(s, lambda signum, frame: (got.append(signum), lab.stopping.set()))
            for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        return lab.run()
    except LabError as e:
        err('%s' % e)
        if e.detail:
            print(e.detail, file=sys.stderr)
        lab.stopping.set()
        if lab.net is not None and lab.net.poll() is None:
            lab.stop_network()
        return 1
    finally:
        for s, h in prev.items():
            signal.signal(s, h)
        lab.cleanup()
