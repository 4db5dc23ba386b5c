"""The lab network, built from inside a user namespace.

smtplab-lab runs this module under `unshare --user --map-root-user --net
--mount --pid --fork --kill-child --mount-proc`: here we are root of a user
namespace the student owns, so we may configure these namespaces and
capture in them, and nothing else. It builds

    student.lab 192.0.2.10  eth0 ===== veth ===== eth0  192.0.2.25 mail.lab
    (this network namespace: the        (a child network namespace: the
     student's shell, telnet, dumpcap)    mail server, ports 25 and 587)

(192.0.2.0/24 is TEST-NET-1, documentation only: it is never routed
outside), names both hosts in a private /etc/hosts (a bind mount, seen only
in this mount namespace), starts the mail server and dumpcap, and writes the
capture (pcapng) to stdout, which smtplab-lab reads. It writes "READY" to
<work>/network.ready once dumpcap captures. SIGTERM or SIGINT ends it:
dumpcap is stopped first (so that the capture file is complete), then the
server. We are the pid namespace's first process: when we exit, every
process left in it (the student's shells and telnets too) is killed.

SPDX-License-Identifier: GPL-2.0-or-later
"""
import argparse
import os
import signal
import subprocess
import sys
import time

STUDENT_ADDR = '192.0.2.10'
MAIL_ADDR = '192.0.2.25'
PREFIX = 24
HOSTS = ('127.0.0.1\tlocalhost\n'
         '::1\tlocalhost ip6-localhost ip6-loopback\n'
         '%s\tstudent.lab student\n'
         '%s\tmail.lab mail\n') % (STUDENT_ADDR, MAIL_ADDR)
CAPTURE_FILTER = 'tcp port 25 or tcp port 587'
SMTP_PORT = 25


class NetworkError(Exception):
    pass


def log(msg):
    print('network: %s' % msg, file=sys.stderr, flush=True)


def run(cmd, what):
    """A configuration command; its output goes to our log, never to stdout (the capture)."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        raise NetworkError('%s failed: %s: %s' % (what, ' '.join(cmd), p.stdout.decode(errors='replace').strip()))


def in_netns(pid, script, what):
    run(['nsenter', '--net=/proc/%d/ns/net' % pid, 'sh', '-ec', script], what)


def wait_file(path, word, proc, secs, what):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            with open(path, errors='replace') as f:
                if word in f.read():
                    return
        except FileNotFoundError:
            pass
        if proc.poll() is not None:
            raise NetworkError('%s ended (exit %s) before it was ready' % (what, proc.returncode))
        time.sleep(0.05)
    raise NetworkError('%s was not ready within %d s' % (what, secs))


def build(args, server_cmd):
    """The two hosts and the link; returns the server process (waiting for "go" on its stdin)."""
    run(['ip', 'link', 'set', 'lo', 'up'], 'loopback up')
    # The mail host: its own network namespace. It waits on stdin until its
    # interface has its address, then starts the server.
    server = subprocess.Popen(['unshare', '--net', '--', 'sh', '-c', 'read go && exec "$@"', 'sh'] + server_cmd,
                              stdin=subprocess.PIPE, stdout=open(os.path.join(args.work, 'server.out'), 'wb'),
                              stderr=subprocess.STDOUT)
    # Its network namespace exists once unshare has exec'd sh.
    end = time.monotonic() + 5
    own = os.readlink('/proc/self/ns/net')
    while True:
        try:
            if os.readlink('/proc/%d/ns/net' % server.pid) != own and \
                    open('/proc/%d/comm' % server.pid).read().strip() == 'sh':
                break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > end:
            raise NetworkError('could not start the mail host (unshare --net)')
        time.sleep(0.02)
    run(['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'mail0', 'netns', str(server.pid)],
        'the link between the two hosts (veth)')
    # No tail-loss probes: on a link this fast they retransmit segments that
    # were never lost (as tests/captures/record.sh does on loopback).
    mail = ['ip link set lo up', 'ip link set mail0 name eth0',
            'ip addr add %s/%d dev eth0' % (MAIL_ADDR, PREFIX), 'ip link set eth0 up',
            'echo 0 > /proc/sys/net/ipv4/tcp_early_retrans']
    if args.scenario == 'blocked':
        # A firewall that drops every SYN to port 25 without an answer: a
        # routing rule, read before the local table, that blackholes TCP
        # to port 25 (iproute2 only: no netfilter or tc module needed).
        mail += ['ip rule add pref 5 ipproto tcp dport %d blackhole' % SMTP_PORT,
                 'ip rule add pref 10 lookup local', 'ip rule del pref 0']
    in_netns(server.pid, '\n'.join(mail), 'configuring the mail host')
    run(['sh', '-ec', 'ip addr add %s/%d dev eth0; ip link set eth0 up; '
         'echo 0 > /proc/sys/net/ipv4/tcp_early_retrans' % (STUDENT_ADDR, PREFIX)],
        "configuring the student's host")
    hosts = os.path.join(args.work, 'hosts')
    with open(hosts, 'w') as f:
        f.write(HOSTS)
    run(['mount', '--bind', hosts, '/etc/hosts'], 'naming mail.lab (a private /etc/hosts)')
    return server


def end(proc, signum):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signum)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main(argv=None):
    ap = argparse.ArgumentParser(prog='smtplab_lab.network', description=__doc__.split('\n\n')[0])
    ap.add_argument('--work', required=True)
    ap.add_argument('--server', required=True, help='the mail server command, one argument per --server')
    ap.add_argument('--scenario', default='normal')
    args, rest = ap.parse_known_args(argv)
    server_cmd = [args.server] + [a for a in rest if a != '--']

    stopping = []

    def stop(signum, frame):
        stopping.append(signum)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, stop)

    server = dumpcap = None
    rc = 0
    try:
        server = build(args, server_cmd)
        server.stdin.write(b'go\n')
        server.stdin.close()
        wait_file(os.path.join(args.work, 'server.ready'), 'READY', server, 15, 'the mail server')
        log('mail.lab %s: server ready (%s)' % (MAIL_ADDR, args.scenario))
        # The capture, on the student's interface, as a student captures it.
        dumpcap = subprocess.Popen(['dumpcap', '-i', 'eth0', '-f', CAPTURE_FILTER, '-w', '-'],
                                   stdin=subprocess.DEVNULL, stdout=sys.stdout.buffer,
                                   stderr=open(os.path.join(args.work, 'dumpcap.log'), 'wb'))
        wait_file(os.path.join(args.work, 'dumpcap.log'), 'Capturing on', dumpcap, 15, 'dumpcap')
        with open(os.path.join(args.work, 'network.ready'), 'w') as f:
            f.write('READY\n')
        log('capturing on eth0 (%s)' % CAPTURE_FILTER)
        while not stopping:
            for p, what in ((dumpcap, 'dumpcap'), (server, 'the mail server')):
                if p.poll() is not None:
                    raise NetworkError('%s ended (exit %s)' % (what, p.returncode))
            time.sleep(0.1)
        log('stopping (signal %d)' % stopping[0])
    except NetworkError as e:
        log('ERROR: %s' % e)
        rc = 1
    finally:
        # dumpcap first, with SIGINT: it writes its last packets and ends the file.
        end(dumpcap, signal.SIGINT)
        end(server, signal.SIGTERM)
    return rc


if __name__ == '__main__':
    sys.exit(main())
