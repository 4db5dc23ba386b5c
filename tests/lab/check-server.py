#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Checks the lab's mail server (plugin/lab/smtplab_lab/server.py) over raw
sockets, one server run per scenario, on 127.0.0.1 and two free high ports.

  check-server.py [--verbose]

Every reply line is compared byte for byte with postfix's text (or
aiosmtpd's where the lab keeps it), each --log is checked to hold the lines
received as bytes, and each server must exit 0 on SIGTERM.  Also: bad
arguments exit 2, a port in use or an unreadable certificate exit 1.
Prints what it checked; exits 0 when all passed, 1 with the scenario and
the expected and received line otherwise.  Needs /usr/bin/python3 with
python3-aiosmtpd (the server's interpreter); takes about 12 s.
"""

import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, '..', '..', 'plugin', 'lab', 'smtplab_lab',
                      'server.py')
PYTHON = '/usr/bin/python3'
HOST = '127.0.0.1'
TIMEOUT = 5.0       # every socket operation, every wait for the server
QUEUED = re.compile(rb'250 2\.0\.0 Ok: queued as [0-9A-F]{12}\r\n')
MUST_STARTTLS = '530 5.7.0 Must issue a STARTTLS command first'
VERBOSE = '--verbose' in sys.argv[1:]


class Failure(Exception):
    pass


def note(text):
    print(text, flush=True)


def free_ports(count):
    """count distinct ports nobody listens on now (the kernel's high ones)."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind((HOST, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class Server:
    """One run of server.py; stop() checks it exits 0 on SIGTERM."""

    def __init__(self, scenario, workdir, *extra, name=None):
        self.scenario = name or scenario        # in messages and file names
        self.smtp_port, self.sub_port = free_ports(2)
        self.log = os.path.join(workdir, self.scenario + '.log')
        ready = os.path.join(workdir, self.scenario + '.ready')
        self.proc = subprocess.Popen(
            [PYTHON, SERVER, '--addr', HOST, '--scenario', scenario,
             '--smtp-port', str(self.smtp_port),
             '--submission-port', str(self.sub_port),
             '--ready-file', ready, '--log', self.log, *extra],
            stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + TIMEOUT
        while not os.path.exists(ready):
            if self.proc.poll() is not None:
                raise Failure('%s: server exited %d before READY: %s'
                              % (self.scenario, self.proc.returncode,
                                 self.proc.stderr.read().decode().strip()))
            if time.monotonic() > deadline:
                raise Failure('%s: no READY from the server in %g s'
                              % (self.scenario, TIMEOUT))
            time.sleep(0.02)
        with open(ready) as f:
            if f.read() != 'READY\n':
                raise Failure('%s: --ready-file does not hold READY'
                              % self.scenario)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            raise Failure('%s: server still running %g s after SIGTERM'
                          % (self.scenario, TIMEOUT))
        errors = self.proc.stderr.read().decode().strip()
        if status != 0 or errors:
            raise Failure('%s: server exited %d after SIGTERM; stderr: %s'
                          % (self.scenario, status, errors or '(empty)'))
        note('  %-12s SIGTERM -> exit 0, nothing on stderr' % self.scenario)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stderr.close()

    def check_log(self, *received):
        """The log holds a "recv b'...'" event for each line, in this order."""
        with open(self.log, encoding='utf-8') as f:
            text = f.read()
        at = 0
        for line in received:
            want = ' recv %r\n' % line
            found = text.find(want, at)
            if found < 0:
                raise Failure('%s: log %s: expected the event "%s" (after '
                              'offset %d), not found'
                              % (self.scenario, self.log, want.strip(), at))
            at = found + len(want)
        note('  %-12s log holds the %d lines received as bytes, in order'
             % (self.scenario, len(received)))


class Client:
    """One SMTP connection read line by line, every reply checked exactly."""

    def __init__(self, scenario, port, greeting='220 mail.lab ESMTP'):
        self.scenario = scenario
        self.port = port
        self.sent = '(connect)'
        self.buf = b''
        self.sock = socket.create_connection((HOST, port), timeout=TIMEOUT)
        if greeting:
            self.expect(greeting)

    def close(self):
        self.sock.close()

    def fail(self, expected, got):
        raise Failure('%s: port %d, after %s: expected %s, got %s'
                      % (self.scenario, self.port, self.sent, expected, got))

    def line(self):
        while b'\n' not in self.buf:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                self.fail('a line', 'nothing in %g s (have %r)'
                          % (TIMEOUT, self.buf))
            if not data:
                self.fail('a line', 'end of connection (have %r)' % self.buf)
            self.buf += data
        line, _, self.buf = self.buf.partition(b'\n')
        return line + b'\n'

    def expect(self, expected):
        """expected: the reply line's text (without CR LF) or a bytes regex."""
        got = self.line()
        if isinstance(expected, re.Pattern):
            ok = expected.fullmatch(got)
            shown = expected.pattern
        else:
            ok = got == expected.encode() + b'\r\n'
            shown = repr(expected.encode() + b'\r\n')
        if not ok:
            self.fail(shown, repr(got))
        if VERBOSE:
            note('    %s' % got.decode().rstrip())
        return got

    def send(self, data):
        self.sent = repr(data)
        self.sock.sendall(data)

    def cmd(self, command, *replies, end=b'\r\n'):
        """Sends command, checks each reply line; prints one line."""
        self.send(command.encode() + end)
        got = [self.expect(r) for r in replies]
        note('  %-12s %-5d %-26s -> %s' % (
            self.scenario, self.port, repr(command.encode() + end),
            (got[0].decode().rstrip() + (' (+%d lines)' % (len(got) - 1)
                                         if len(got) > 1 else ''))
            if got else '-'))
        return got

    def ehlo(self, name, starttls):
        """EHLO with aiosmtpd's extensions, STARTTLS offered or not."""
        lines = ['250-mail.lab', '250-SIZE 33554432', '250-8BITMIME']
        if starttls:
            lines.append('250-STARTTLS')
        return self.cmd(('EHLO ' + name).rstrip(), *lines, '250 HELP')

    def expect_eof(self):
        if self.buf:
            self.fail('end of connection', 'more bytes %r' % self.buf)
        try:
            data = self.sock.recv(4096)
        except socket.timeout:
            self.fail('end of connection', 'nothing in %g s' % TIMEOUT)
        except ConnectionResetError:
            data = b''
        if data:
            self.fail('end of connection', repr(data))
        note('  %-12s %-5d connection closed by the server'
             % (self.scenario, self.port))

    def starttls(self):
        """STARTTLS, then a TLS handshake without verification."""
        self.cmd('STARTTLS', '220 2.0.0 Ready to start TLS')
        if self.buf:
            self.fail('nothing after 220', repr(self.buf))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:
            self.sock = ctx.wrap_socket(self.sock, server_hostname='mail.lab')
        except (ssl.SSLError, OSError) as error:
            self.fail('a TLS handshake', repr(error))
        cert = self.sock.getpeercert(binary_form=True)
        if b'mail.lab' not in cert:
            self.fail('a certificate for mail.lab', 'one without that name')
        note('  %-12s %-5d TLS handshake done: %s, certificate names mail.lab'
             % (self.scenario, self.port, self.sock.version()))


def mail_transaction(c):
    """MAIL, relay denied, RCPT to the lab, DATA, the queued reply."""
    c.cmd('MAIL FROM:<student@mail.lab>', '250 2.1.0 Ok')
    c.cmd('RCPT TO:<friend@example.com>',
          '554 5.7.1 <friend@example.com>: Relay access denied')
    c.cmd('RCPT TO:<teacher@mail.lab>', '250 2.1.5 Ok')
    c.cmd('rcpt to:<a@lab>', '250 2.1.5 Ok')
    c.cmd('Rcpt To:<b@pc7.lab>', '250 2.1.5 Ok')
    c.cmd('DATA', '354 End data with <CR><LF>.<CR><LF>')
    c.cmd('Subject: lab\r\n\r\nHello.\r\n..leading dot\r\n.', QUEUED)


def check_normal(workdir):
    s = Server('normal', workdir)
    try:
        c = Client('normal', s.smtp_port)
        c.cmd('helo', '250 mail.lab')
        c.cmd('HeLo student', '250 mail.lab')
        mail_transaction(c)
        c.cmd('RSET', '250 2.0.0 Ok')
        c.cmd('noop', '250 2.0.0 Ok', end=b'\n')       # a line may end at LF
        c.ehlo('', starttls=False)
        c.cmd('RCPT TO:<teacher@mail.lab>', '503 Error: need MAIL command')
        c.cmd('XYZZY', '500 Error: command "XYZZY" not recognized')
        c.cmd('mail from:<x@lab>', '250 2.1.0 Ok', end=b'\n')
        c.cmd('rcpt to:<y@lab>', '250 2.1.5 Ok', end=b'\n')
        c.cmd('data', '354 End data with <CR><LF>.<CR><LF>', end=b'\n')
        c.cmd('bare LF body\n.', QUEUED, end=b'\n')
        c.cmd('QUIT', '221 2.0.0 Bye')
        c.expect_eof()
        c.close()

        c = Client('normal', s.sub_port)
        c.ehlo('', starttls=True)
        c.cmd('helo', '250 mail.lab')
        for command in ('MAIL FROM:<student@mail.lab>',
                        'RCPT TO:<teacher@mail.lab>', 'DATA', 'AUTH PLAIN',
                        'VRFY teacher'):
            c.cmd(command, MUST_STARTTLS)
        c.cmd('RSET', '250 2.0.0 Ok')
        c.cmd('NOOP', '250 2.0.0 Ok')
        c.starttls()
        c.cmd('EHLO pc7.lab', '250-mail.lab', '250-SIZE 33554432',
              '250-8BITMIME', '250-AUTH LOGIN PLAIN', '250 HELP')
        mail_transaction(c)
        c.cmd('QUIT', '221 2.0.0 Bye')
        c.close()
        s.stop()
        s.check_log(b'helo\r\n', b'HeLo student\r\n', b'..leading dot\r\n',
                    b'.\r\n', b'noop\n', b'EHLO\r\n', b'bare LF body\n',
                    b'.\n', b'QUIT\r\n', b'EHLO\r\n', b'STARTTLS\r\n',
                    b'EHLO pc7.lab\r\n', b'QUIT\r\n')
    finally:
        s.kill()


def check_blocked(workdir):
    s = Server('blocked', workdir)
    try:
        c = Client('blocked', s.smtp_port)     # listens as normal
        c.cmd('helo', '250 mail.lab')
        t = Client('blocked', s.sub_port)
        t.starttls()
        s.stop()                                # with both still open
        c.expect_eof()
        c.close()
        t.close()
    finally:
        s.kill()


def check_refused(workdir):
    s = Server('refused', workdir)
    try:
        try:
            socket.create_connection((HOST, s.smtp_port),
                                     timeout=TIMEOUT).close()
        except ConnectionRefusedError:
            note('  %-12s %-5d connection refused' % ('refused', s.smtp_port))
        else:
            raise Failure('refused: port %d: expected connection refused, '
                          'got a connection' % s.smtp_port)
        c = Client('refused', s.sub_port)
        c.cmd('EHLO pc7.lab', '250-mail.lab', '250-SIZE 33554432',
              '250-8BITMIME', '250-STARTTLS', '250 HELP')
        c.close()
        s.stop()
    finally:
        s.kill()


def check_starttls(workdir):
    s = Server('starttls', workdir)
    try:
        c = Client('starttls', s.smtp_port)
        c.ehlo('pc7.lab', starttls=True)
        c.cmd('MAIL FROM:<student@mail.lab>', MUST_STARTTLS)
        c.starttls()
        c.cmd('helo', '250 mail.lab')
        mail_transaction(c)
        c.cmd('QUIT', '221 2.0.0 Bye')
        c.close()
        s.stop()
        s.check_log(b'MAIL FROM:<student@mail.lab>\r\n', b'STARTTLS\r\n',
                    b'helo\r\n', b'QUIT\r\n')
    finally:
        s.kill()


def check_strict_helo(workdir):
    s = Server('strict-helo', workdir)
    try:
        c = Client('strict-helo', s.smtp_port)
        c.cmd('MAIL FROM:<student@mail.lab>',
              '503 5.5.1 Error: send HELO/EHLO first')
        c.cmd('helo', '501 Syntax: HELO hostname')
        c.cmd('ehlo', '501 Syntax: EHLO hostname')
        c.cmd('helo student', '504 5.5.2 <student>: Helo command rejected: '
              'need fully-qualified hostname')
        c.cmd('EHLO student', '504 5.5.2 <student>: Helo command rejected: '
              'need fully-qualified hostname')
        c.cmd('MAIL FROM:<student@mail.lab>',
              '503 5.5.1 Error: send HELO/EHLO first')
        c.cmd('helo [192.0.2.10]', '250 mail.lab')
        c.ehlo('pc7.student.lab', starttls=False)
        mail_transaction(c)
        c.close()
        c = Client('strict-helo', s.sub_port)   # strict on the SMTP port only
        c.cmd('helo', '250 mail.lab')
        c.close()
        s.stop()
        s.check_log(b'helo\r\n', b'helo student\r\n', b'helo [192.0.2.10]\r\n')
    finally:
        s.kill()


def check_slow(workdir):
    s = Server('slow', workdir, '--delay', '1')
    try:
        start = time.monotonic()
        c = Client('slow', s.smtp_port, greeting=None)
        c.send(b'noop\r\n')                     # typed before the greeting
        c.expect('220 mail.lab ESMTP')
        waited = time.monotonic() - start
        if waited < 1.0:
            raise Failure('slow: greeting after %.3f s, expected >= 1 s'
                          % waited)
        note('  %-12s %-5d greeting after %.2f s' % ('slow', c.port, waited))
        start = time.monotonic()
        c.expect('250 2.0.0 Ok')
        waited = time.monotonic() - start
        if waited < 0.9:
            raise Failure('slow: the NOOP typed ahead answered %.3f s after '
                          'the greeting, expected about 1 s' % waited)
        note('  %-12s %-5d NOOP typed ahead answered %.2f s after the greeting'
             % ('slow', c.port, waited))
        c.send(b'EHLO pc7.lab\r\n')
        start = time.monotonic()
        c.expect('250-mail.lab')
        first = time.monotonic() - start
        c.expect('250-SIZE 33554432')
        second = time.monotonic() - start - first
        if first < 0.9 or second > 0.3:
            raise Failure('slow: EHLO reply: first line after %.3f s '
                          '(expected about 1 s), second after %.3f s more '
                          '(expected at once)' % (first, second))
        note('  %-12s %-5d EHLO: first line after %.2f s, second %.3f s later'
             % ('slow', c.port, first, second))
        c.close()
        s.stop()
        with open(s.log, encoding='utf-8') as f:
            events = [line.partition(' ')[2] for line in f]
        order = [e for e in events if e.startswith('#1 ')][1:3]
        if order != ["#1 recv b'noop\\r\\n'\n",
                     "#1 send b'220 mail.lab ESMTP\\r\\n'\n"]:
            raise Failure('slow: log: expected the NOOP received before the '
                          'greeting was sent, got %r' % order)
        note('  %-12s log: NOOP received before the greeting was sent'
             % 'slow')
    finally:
        s.kill()


def check_idle_timeout(workdir):
    s = Server('idle-timeout', workdir, '--idle-timeout', '2')
    try:
        c = Client('idle-timeout', s.smtp_port)
        c.sent = 'nothing'
        start = time.monotonic()
        c.expect('421 4.4.2 mail.lab Error: timeout exceeded')
        waited = time.monotonic() - start
        if not 1.8 <= waited <= 3.0:
            raise Failure('idle-timeout: 421 after %.3f s of silence, '
                          'expected about 2 s' % waited)
        note('  %-12s %-5d 421 after %.2f s of silence'
             % ('idle-timeout', c.port, waited))
        c.expect_eof()
        c.close()

        c = Client('idle-timeout', s.sub_port)
        for byte in b'noop\r\n':                # one byte every 0.5 s: 3 s
            time.sleep(0.5)
            c.send(bytes([byte]))
        c.expect('250 2.0.0 Ok')
        note('  %-12s %-5d a byte every 0.5 s for 3 s kept it open'
             % ('idle-timeout', c.port))
        c.close()
        s.stop()
        s.check_log(b'noop\r\n')
    finally:
        s.kill()


def run(args, workdir):
    """server.py with args (on free ports) that should make it exit."""
    smtp, sub = free_ports(2)
    args = ['--smtp-port', str(smtp), '--submission-port', str(sub), *args]
    try:
        return subprocess.run([PYTHON, SERVER, *args],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=TIMEOUT,
                              cwd=workdir)
    except subprocess.TimeoutExpired:
        raise Failure('server.py %s: expected it to exit, still running '
                      'after %g s' % (' '.join(args), TIMEOUT))


def check_exit_statuses(workdir):
    for args in (['--scenario', 'nope', '--addr', HOST],
                 ['--addr', 'mail.lab'],
                 ['--addr', HOST, '--delay', '2'],
                 ['--addr', HOST, '--submission-port', '70000']):
        r = run(args, workdir)
        if r.returncode != 2 or b'error:' not in r.stderr:
            raise Failure('arguments %s: expected exit 2 and a message, got '
                          'exit %d, stderr %r'
                          % (args, r.returncode, r.stderr))
        note('  %-12s exit 2: %s' % ('arguments', r.stderr.decode()
                                      .strip().splitlines()[-1]))
    s = Server('normal', workdir, name='port-in-use')
    try:
        r = run(['--addr', HOST, '--smtp-port', str(s.smtp_port)], workdir)
        lines = r.stderr.decode().splitlines()
        if (r.returncode != 1 or len(lines) != 1
                or 'cannot listen' not in lines[0]):
            raise Failure('port in use: expected exit 1 and one line '
                          '"cannot listen ...", got exit %d, stderr %r'
                          % (r.returncode, r.stderr))
        note('  %-12s exit 1: %s' % ('port-in-use', lines[0]))
        s.stop()
    finally:
        s.kill()
    r = run(['--addr', HOST, '--cert', os.path.join(workdir, 'missing.pem')],
            workdir)
    lines = r.stderr.decode().splitlines()
    if r.returncode != 1 or len(lines) != 1 or 'certificate' not in lines[0]:
        raise Failure('missing certificate: expected exit 1 and one line, got '
                      'exit %d, stderr %r' % (r.returncode, r.stderr))
    note('  %-12s exit 1: %s' % ('certificate', lines[0]))


def main():
    if not os.path.exists(PYTHON):
        print('check-server.py: needs %s (with python3-aiosmtpd)' % PYTHON,
              file=sys.stderr)
        return 1
    begin = time.monotonic()
    checks = (check_normal, check_blocked, check_refused, check_starttls,
              check_strict_helo, check_slow, check_idle_timeout,
              check_exit_statuses)
    with tempfile.TemporaryDirectory(prefix='check-server.') as workdir:
        for check in checks:
            note(check.__name__)
            try:
                check(workdir)
            except Failure as failure:
                print('FAIL %s' % failure, file=sys.stderr)
                return 1
            except OSError as error:
                print('FAIL %s: %s' % (check.__name__, error), file=sys.stderr)
                return 1
    note('PASS: %d checks in %.1f s' % (len(checks),
                                        time.monotonic() - begin))
    return 0


if __name__ == '__main__':
    sys.exit(main())
