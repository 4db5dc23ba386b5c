#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# server.py: the practice mail server "mail.lab" of the SMTP lab.
#
# mail.lab.pem, beside this file, holds a LAB-ONLY certificate and its private
# key, public on purpose: never use it for anything real.  It was made with
#   openssl req -x509 -newkey rsa:2048 -noenc -days 36525 -subj /CN=mail.lab \
#       -addext subjectAltName=DNS:mail.lab -keyout - -out - > mail.lab.pem
"""The practice mail server "mail.lab" for the SMTP lab.

It answers like a public MX and submission server (texts modelled on
postfix), accepts mail for mail.lab, lab and *.lab, refuses to relay
anything else, and throws every message away.  Needs aiosmtpd: run it with
Debian's /usr/bin/python3 (package python3-aiosmtpd).

Listens on every --addr, on the SMTP port and the submission port.  The
submission port always requires STARTTLS before MAIL, RCPT, DATA, AUTH,
VRFY and EXPN (530 5.7.0).  HELO and EHLO without a name are accepted
(students type just "helo"), except on the SMTP port of strict-helo.

scenarios:
  normal        as above
  blocked       as normal (the lab's network drops the SYNs, not the server)
  refused       no listener on the SMTP port, so the kernel answers RST
  starttls      the SMTP port too offers and requires STARTTLS
  strict-helo   the SMTP port wants HELO/EHLO first, with a fully-qualified
                name or an address literal (501, 504, 503 as postfix)
  slow          the first line of every reply, the greeting included, waits
                --delay seconds (default 4); the rest of a multi-line reply
                follows at once; commands typed meanwhile are kept
  idle-timeout  after --idle-timeout seconds (default 20) without a byte
                from the client: "421 4.4.2 <hostname> Error: timeout
                exceeded" and close (the other scenarios do so after 300 s)

The log (--log, default stderr) has one line per event, time-stamped in UTC
to the millisecond: listeners, connections (peer and local address), every
line received and every reply line sent (the repr of their exact bytes,
line end included; after STARTTLS the decrypted bytes), TLS, closes.

exit status: 0 after SIGTERM or SIGINT, 1 when a port cannot be bound or
the certificate cannot be read, 2 on bad arguments.
"""

import argparse
import asyncio
import asyncio.sslproto
import functools
import ipaddress
import itertools
import logging
import os
import secrets
import signal
import ssl
import sys
import time
from dataclasses import dataclass
from typing import Optional

try:
    from aiosmtpd.smtp import SMTP, TLSSetupException, syntax
except ImportError:
    sys.exit('server.py: needs aiosmtpd: run it with /usr/bin/python3 '
             '(Debian package python3-aiosmtpd)')

SCENARIOS = ('normal', 'blocked', 'refused', 'starttls', 'strict-helo',
             'slow', 'idle-timeout')
DEFAULT_DELAY = 4.0
DEFAULT_IDLE_TIMEOUT = 20.0
# Idle timeout of every scenario but idle-timeout (postfix's smtpd_timeout).
LONG_IDLE_TIMEOUT = 300.0
# aiosmtpd's own timeout, kept out of the way of ours (one year).
AIOSMTPD_TIMEOUT = 365 * 24 * 3600
DEFAULT_CERT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            'mail.lab.pem')

# Commands that work before STARTTLS where STARTTLS is required.
PRE_TLS_VERBS = frozenset({'HELO', 'EHLO', 'NOOP', 'RSET', 'QUIT', 'HELP',
                           'STARTTLS'})

# Replies that are not aiosmtpd's (postfix's texts).
GREETING_IDENT = 'ESMTP'
OK = '250 2.0.0 Ok'
MAIL_OK = '250 2.1.0 Ok'
RCPT_OK = '250 2.1.5 Ok'
RELAY_DENIED = '554 5.7.1 <{address}>: Relay access denied'
QUEUED = '250 2.0.0 Ok: queued as {queue_id}'
BYE = '221 2.0.0 Bye'
MUST_STARTTLS = '530 5.7.0 Must issue a STARTTLS command first'
READY_FOR_TLS = '220 2.0.0 Ready to start TLS'
TLS_ACTIVE = '554 5.5.1 Error: TLS already active'
HELO_SYNTAX = '501 Syntax: {verb} hostname'
HELO_NOT_FQDN = ('504 5.5.2 <{name}>: Helo command rejected: '
                 'need fully-qualified hostname')
HELO_FIRST = '503 5.5.1 Error: send HELO/EHLO first'
IDLE_TIMEOUT = '421 4.4.2 {hostname} Error: timeout exceeded'

log = logging.getLogger('smtplab_lab.server')


@dataclass(frozen=True)
class Policy:
    """How the connections to one listening port behave."""
    port_name: str                          # 'smtp' or 'submission'
    hostname: str
    tls_context: Optional[ssl.SSLContext]   # set: STARTTLS offered, required
    strict_helo: bool
    reply_delay: float                      # seconds before each reply
    idle_timeout: float


def is_fqdn_or_literal(name):
    """True for "pc.example" or "[192.0.2.10]", false for "student"."""
    if name.startswith('[') and name.endswith(']'):
        return True
    return '.' in name.rstrip('.')


def is_lab_recipient(address, hostname):
    """True when mail for this address stays here: no domain, the server's
    own name, lab or anything under .lab."""
    if '@' not in address:
        return True
    domain = address.rpartition('@')[2].rstrip('.').lower()
    return domain in (hostname.lower(), 'lab') or domain.endswith('.lab')


class LabHandler:
    """aiosmtpd hooks: postfix's replies, relaying only to the lab."""

    async def handle_MAIL(self, server, session, envelope, address, options):
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return MAIL_OK

    async def handle_RCPT(self, server, session, envelope, address, options):
        if not is_lab_recipient(address, server.hostname):
            return RELAY_DENIED.format(address=address)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return RCPT_OK

    async def handle_DATA(self, server, session, envelope):
        queue_id = secrets.token_hex(6).upper()
        server.event('queued as %s: from <%s> to %s, %d bytes (thrown away)',
                     queue_id, envelope.mail_from,
                     ', '.join('<%s>' % r for r in envelope.rcpt_tos),
                     len(envelope.content))
        return QUEUED.format(queue_id=queue_id)

    async def handle_RSET(self, server, session, envelope):
        return OK

    async def handle_NOOP(self, server, session, envelope, arg):
        return OK

    async def handle_QUIT(self, server, session, envelope):
        return BYE


class LabSMTP(SMTP):
    """One connection: aiosmtpd with the lab's HELO policy, postfix's
    STARTTLS requirement, slow replies, an idle timer and the event log."""

    def __init__(self, policy, conn_id, connections, loop):
        super().__init__(LabHandler(), hostname=policy.hostname,
                         ident=GREETING_IDENT, tls_context=policy.tls_context,
                         timeout=AIOSMTPD_TIMEOUT, loop=loop)
        self.policy = policy
        self.conn_id = conn_id
        self.connections = connections     # the open ones, to close at exit
        self._received = b''        # bytes of a line not yet ended
        self._reply_goes_on = False  # the last line sent was a "250-" one
        self._idle_timer = None
        if policy.tls_context:
            # aiosmtpd's own require_starttls lets neither HELO nor RSET
            # through and says 530 without 5.7.0: gate its methods instead.
            for verb, method in list(self._smtp_methods.items()):
                if verb not in PRE_TLS_VERBS:
                    self._smtp_methods[verb] = self._after_starttls(method)

    def event(self, fmt, *args):
        log.info('#%d ' + fmt, self.conn_id, *args)

    # --- transport: connections, received bytes, the idle timer ---

    def connection_made(self, transport):
        after_starttls = self._original_transport is not None
        super().connection_made(transport)
        if after_starttls:
            self._received = b''    # aiosmtpd drops unencrypted leftovers too
            tls = transport.get_extra_info('ssl_object')
            self.event('TLS established: %s %s', tls.version(),
                       tls.cipher()[0])
            self._restart_idle_timer()
        else:
            self.connections.add(self)
            peer = transport.get_extra_info('peername')
            local = transport.get_extra_info('sockname')
            self.event('connect from [%s]:%d to [%s]:%d (%s port)', peer[0],
                       peer[1], local[0], local[1], self.policy.port_name)

    def data_received(self, data):
        self._restart_idle_timer()          # any byte, even a keystroke
        self._received += data
        while True:
            end = self._received.find(b'\n')
            if end < 0:
                break
            self.event('recv %r', self._received[:end + 1])
            self._received = self._received[end + 1:]
        super().data_received(data)

    def connection_lost(self, error):
        if self._received:
            self.event('recv %r (no line end)', self._received)
            self._received = b''
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        self.event('closed%s', ' (%s)' % (str(error) or type(error).__name__)
                   if error else '')
        self.connections.discard(self)
        super().connection_lost(error)

    def _restart_idle_timer(self):
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        self._idle_timer = self.loop.call_later(self.policy.idle_timeout,
                                                self._idle_timed_out)

    def _idle_timed_out(self):
        if self.transport is None:
            return
        line = IDLE_TIMEOUT.format(hostname=self.hostname).encode() + b'\r\n'
        self.event('no byte for %g s', self.policy.idle_timeout)
        self.event('send %r', line)
        self._writer.write(line)
        self.transport.close()

    # --- replies ---

    async def push(self, status):
        """Sends one reply line; in a slow scenario the first line of each
        reply waits policy.reply_delay seconds."""
        line = status.encode() if isinstance(status, str) else status
        if self.policy.reply_delay and not self._reply_goes_on:
            await asyncio.sleep(self.policy.reply_delay)
        self._reply_goes_on = line[3:4] == b'-'
        self.event('send %r', line + b'\r\n')
        if self._idle_timer is None:
            self._restart_idle_timer()      # the greeting: start counting
        await super().push(line)

    async def handle_exception(self, error):
        # A failed TLS handshake (a student typing on after STARTTLS) is one
        # event, not aiosmtpd's traceback; aiosmtpd then closes.
        if isinstance(error, TLSSetupException):
            self.event('TLS handshake failed: %s', error.__cause__)
            return None
        return await super().handle_exception(error)

    def _after_starttls(self, method):
        """The command's method, answering 530 until STARTTLS is done."""
        @functools.wraps(method)
        async def gated(arg):
            if self._tls_protocol is None:
                await self.push(MUST_STARTTLS)
            else:
                await method(arg)
        return gated

    async def _helo_refused(self, verb, name):
        """Postfix's smtpd_helo_required and reject_non_fqdn_helo_hostname,
        on a strict-helo port: answers and returns True when refused."""
        if not self.policy.strict_helo:
            return False
        if not name:
            await self.push(HELO_SYNTAX.format(verb=verb))
        elif not is_fqdn_or_literal(name):
            await self.push(HELO_NOT_FQDN.format(name=name))
        else:
            return False
        return True

    async def check_helo_needed(self, helo='HELO'):
        # A HELO without a name leaves host_name '' (aiosmtpd's: None).
        if self.session.host_name is not None:
            return False
        if self.policy.strict_helo:
            await self.push(HELO_FIRST)
            return True
        return await super().check_helo_needed(helo)

    async def _greeted(self, verb, hostname):
        """HELO or EHLO: False when refused, else the session starts anew."""
        if await self._helo_refused(verb, hostname):
            return False
        self._set_rset_state()
        self.session.extended_smtp = verb == 'EHLO'
        self.session.host_name = hostname or ''
        return True

    @syntax('HELO hostname')
    async def smtp_HELO(self, hostname):
        if await self._greeted('HELO', hostname):
            await self.push('250 ' + self.hostname)

    @syntax('EHLO hostname')
    async def smtp_EHLO(self, hostname):
        if not await self._greeted('EHLO', hostname):
            return
        # aiosmtpd's list of extensions.
        lines = ['250-' + self.hostname]
        if self.data_size_limit:
            lines.append('250-SIZE %d' % self.data_size_limit)
        if not self._decode_data:
            lines.append('250-8BITMIME')
        if self.tls_context and not self._tls_protocol:
            lines.append('250-STARTTLS')
        if not self._auth_require_tls or self._tls_protocol:
            lines.append('250-AUTH ' + ' '.join(sorted(self._auth_methods)))
        lines.append('250 HELP')
        for line in lines:
            await self.push(line)

    @syntax('STARTTLS', when='tls_context')
    async def smtp_STARTTLS(self, arg):
        # aiosmtpd 1.4.3's, with postfix's texts.
        if self._tls_protocol is not None:
            await self.push(TLS_ACTIVE)
            return
        if arg or not self.tls_context:
            await super().smtp_STARTTLS(arg)    # 501 or 454
            return
        await self.push(READY_FOR_TLS)
        waiter = self.loop.create_future()
        self._tls_protocol = asyncio.sslproto.SSLProtocol(
            self.loop, self, self.tls_context, waiter, server_side=True)
        self._original_transport = self.transport
        self._original_transport.set_protocol(self._tls_protocol)
        self.transport = self._tls_protocol._app_transport
        self._tls_protocol.connection_made(self._original_transport)
        try:
            await waiter
        except asyncio.CancelledError:
            raise
        except Exception as error:
            raise TLSSetupException() from error

    @syntax('DATA')
    async def smtp_DATA(self, arg):
        # aiosmtpd's, but a line may end at LF alone, as postfix allows (a
        # student's nc sends no CR) and a long line is kept, not refused.
        if await self.check_helo_needed():
            return
        if not self.envelope.rcpt_tos:
            await self.push('503 Error: need RCPT command')
            return
        if arg:
            await self.push('501 Syntax: DATA')
            return
        await self.push('354 End data with <CR><LF>.<CR><LF>')
        lines = []
        size = 0
        line_start = True
        while True:
            try:
                chunk = await self._reader.readuntil(b'\n')
            except asyncio.LimitOverrunError as error:
                chunk = await self._reader.read(error.consumed)
            if line_start and chunk in (b'.\r\n', b'.\n'):
                break
            if line_start and chunk.startswith(b'.'):
                chunk = chunk[1:]
            line_start = chunk.endswith(b'\n')
            size += len(chunk)
            if not self.data_size_limit or size <= self.data_size_limit:
                lines.append(chunk)
        if self.data_size_limit and size > self.data_size_limit:
            self._set_post_data_state()
            await self.push('552 Error: Too much mail data')
            return
        self.envelope.content = b''.join(lines)
        self.envelope.original_content = self.envelope.content
        status = await self._call_handler_hook('DATA')
        self._set_post_data_state()
        await self.push(status)


def policies(args, tls_context):
    """{port: Policy} for the chosen scenario."""
    scenario = args.scenario
    delay = args.delay if scenario == 'slow' else 0.0
    idle = (args.idle_timeout if scenario == 'idle-timeout'
            else LONG_IDLE_TIMEOUT)
    result = {}
    if scenario != 'refused':
        result[args.smtp_port] = Policy(
            'smtp', args.hostname,
            tls_context if scenario == 'starttls' else None,
            scenario == 'strict-helo', delay, idle)
    result[args.submission_port] = Policy(
        'submission', args.hostname, tls_context, False, delay, idle)
    return result


async def serve(args, tls_context):
    """Listens until SIGTERM or SIGINT; returns the exit status."""
    loop = asyncio.get_running_loop()
    conn_ids = itertools.count(1)
    connections = set()

    def factory(policy):
        return lambda: LabSMTP(policy, next(conn_ids), connections, loop)

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    listeners = []
    try:
        for port, policy in policies(args, tls_context).items():
            for addr in args.addr:
                try:
                    listeners.append(await loop.create_server(
                        factory(policy), host=addr, port=port,
                        reuse_address=True))
                except OSError as error:
                    return fail('cannot listen on [%s]:%d: %s' % (
                        addr, port,
                        os.strerror(error.errno) if error.errno else error))
                log.info('listening on [%s]:%d (%s port), scenario %s', addr,
                         port, policy.port_name, args.scenario)
        if args.scenario == 'refused':
            log.info('no listener on port %d (scenario refused)',
                     args.smtp_port)
        if args.ready_file:
            try:
                with open(args.ready_file + '.tmp', 'w') as ready:
                    ready.write('READY\n')
                os.replace(args.ready_file + '.tmp', args.ready_file)
            except OSError as error:
                return fail('cannot write --ready-file: %s' % error)
        await stop.wait()
        log.info('stopping: closing %d listeners and %d connections',
                 len(listeners), len(connections))
        return 0
    finally:
        for listener in listeners:
            listener.close()
        for conn in list(connections):
            if conn.transport is not None:
                conn.transport.close()
        await asyncio.sleep(0)


def fail(message):
    """Reports a fatal error on stderr (and in --log); returns exit status 1."""
    print('server.py: %s' % message, file=sys.stderr)
    if any(isinstance(h, logging.FileHandler) for h in log.handlers):
        log.error('%s', message)
    return 1


def parse_args(argv):
    def port(text):
        value = int(text)
        if not 1 <= value <= 65535:
            raise ValueError(text)
        return value
    port.__name__ = 'port'

    def seconds(text):
        value = float(text)
        if not 0 < value < 86400:
            raise ValueError(text)
        return value
    seconds.__name__ = 'seconds'

    ap = argparse.ArgumentParser(
        prog='server.py', description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--addr', action='append', required=True, metavar='ADDR',
                    help='IPv4 or IPv6 address to listen on (repeatable)')
    ap.add_argument('--hostname', default='mail.lab',
                    help='name in the greeting and replies (default mail.lab)')
    ap.add_argument('--scenario', choices=SCENARIOS, default='normal',
                    help='default normal')
    ap.add_argument('--delay', type=seconds, metavar='SECONDS',
                    help='slow only: wait before each reply (default %g)'
                    % DEFAULT_DELAY)
    ap.add_argument('--idle-timeout', type=seconds, metavar='SECONDS',
                    help='idle-timeout only: close after this silence '
                    '(default %g)' % DEFAULT_IDLE_TIMEOUT)
    ap.add_argument('--smtp-port', type=port, default=25, metavar='PORT',
                    help='default 25')
    ap.add_argument('--submission-port', type=port, default=587,
                    metavar='PORT', help='default 587')
    ap.add_argument('--cert', default=DEFAULT_CERT, metavar='PEM',
                    help='certificate, and its key unless --key '
                    '(default: mail.lab.pem beside server.py)')
    ap.add_argument('--key', metavar='PEM',
                    help='private key (default: in the --cert file)')
    ap.add_argument('--ready-file', metavar='FILE',
                    help='write READY and a newline here once every socket '
                    'is bound')
    ap.add_argument('--log', metavar='FILE',
                    help='event log, appended to (default stderr)')
    args = ap.parse_args(argv)

    for addr in args.addr:
        try:
            ipaddress.ip_address(addr)
        except ValueError:
            ap.error('--addr %r is not an IPv4 or IPv6 address' % addr)
    if args.smtp_port == args.submission_port:
        ap.error('--smtp-port and --submission-port are both %d'
                 % args.smtp_port)
    if not args.hostname or any(c.isspace() for c in args.hostname):
        ap.error('--hostname %r: want one word such as mail.lab'
                 % args.hostname)
    if args.delay is not None and args.scenario != 'slow':
        ap.error('--delay is for --scenario slow')
    if args.idle_timeout is not None and args.scenario != 'idle-timeout':
        ap.error('--idle-timeout is for --scenario idle-timeout')
    if args.delay is None:
        args.delay = DEFAULT_DELAY
    if args.idle_timeout is None:
        args.idle_timeout = DEFAULT_IDLE_TIMEOUT
    return args


def setup_logging(path):
    """Our events to path (or stderr); aiosmtpd's own only when ERROR+ (its
    warnings repeat what our events already say)."""
    handler = (logging.FileHandler(path, encoding='utf-8') if path
               else logging.StreamHandler(sys.stderr))
    formatter = logging.Formatter('%(asctime)s.%(msecs)03dZ %(message)s',
                                  datefmt='%Y-%m-%dT%H:%M:%S')
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger('mail.log').setLevel(logging.ERROR)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def main(argv=None):
    args = parse_args(argv)
    try:
        setup_logging(args.log)
    except OSError as error:
        print('server.py: cannot open --log: %s' % error, file=sys.stderr)
        return 1
    tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        tls_context.load_cert_chain(args.cert, args.key)
    except (OSError, ssl.SSLError) as error:
        return fail('cannot read certificate %s%s: %s'
                    % (args.cert, ' / key %s' % args.key if args.key else '',
                       error))
    status = asyncio.run(serve(args, tls_context))
    if status == 0:
        log.info('stopped')
    return status


if __name__ == '__main__':
    sys.exit(main())
