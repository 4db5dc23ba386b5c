"""What the lab needs of this machine, and how to get what is missing.

check() returns (what is missing, the command that fixes it) pairs; an
empty list means the lab can start.

SPDX-License-Identifier: GPL-2.0-or-later
"""
import os
import re
import shutil
import subprocess
import sys

APT = 'sudo apt install '


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def userns_problem():
    """Why a normal user cannot make a user and network namespace here, or None."""
    try:
        p = subprocess.run(['unshare', '--user', '--map-root-user', '--net', '--mount', '--pid', '--fork',
                            '--mount-proc', sys.executable, '-c', ''], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return ('unshare could not run: %s' % e, APT + 'util-linux')
    if p.returncode == 0:
        return None
    said = p.stderr.decode(errors='replace').strip().splitlines()
    said = said[-1].replace('unshare: ', '', 1) if said else 'exit %d' % p.returncode
    if _read('/proc/sys/kernel/unprivileged_userns_clone') == '0':
        return ('user namespaces are disabled for normal users (kernel.unprivileged_userns_clone = 0; '
                'unshare: %s)' % said,
                'sudo sysctl -w kernel.unprivileged_userns_clone=1  (to keep it: echo '
                'kernel.unprivileged_userns_clone=1 | sudo tee /etc/sysctl.d/50-smtplab-lab.conf)')
    if _read('/proc/sys/user/max_user_namespaces') == '0':
        return ('user namespaces are disabled (user.max_user_namespaces = 0; unshare: %s)' % said,
                'sudo sysctl -w user.max_user_namespaces=15000')
    if _read('/proc/sys/kernel/apparmor_restrict_unprivileged_userns') == '1':
        return ('AppArmor forbids user namespaces to unconfined programs '
                '(kernel.apparmor_restrict_unprivileged_userns = 1; unshare: %s)' % said,
                'sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0')
    return ('unshare cannot make a user and network namespace: %s' % said,
            'run the lab where user namespaces are allowed (not inside a container that forbids them)')


def plugin_problem(tshark):
    try:
        p = subprocess.run(tshark + ['-G', 'plugins'], capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return ('tshark could not run (%s): %s' % (' '.join(tshark), e), APT + 'tshark')
    if p.returncode == 0 and re.search(rb'^smtplab\.so\s', p.stdout, re.M):
        return None
    return ('tshark does not load the smtplab plugin (%s -G plugins)' % ' '.join(tshark),
            'bash cmake/setup.sh demo  (in the smtplab source folder: builds and installs the plugin)')


def has_profile(tshark, name):
    """Whether Wireshark has the "SMTP Lab" profile (personal or global)."""
    try:
        p = subprocess.run(tshark + ['-G', 'folders'], capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return False
    for line in p.stdout.decode(errors='replace').splitlines():
        m = re.match(r'(Personal|Global) configuration:\s*(.*)', line)
        if m and os.path.isdir(os.path.join(m.group(2).strip(), 'profiles', name)):
            return True
    return False


def check(args):
    problems = []
    for cmd, pkg in (('unshare', 'util-linux'), ('nsenter', 'util-linux'), ('ip', 'iproute2'),
                     ('dumpcap', 'wireshark-common'), ('telnet', 'telnet')):
        if not shutil.which(cmd):
            problems.append(('%s is missing' % cmd, APT + pkg))
    if subprocess.run([sys.executable, '-c', 'import aiosmtpd'], capture_output=True).returncode != 0:
        problems.append(('the mail server needs aiosmtpd for %s' % sys.executable, APT + 'python3-aiosmtpd'))
    if shutil.which('unshare'):
        p = userns_problem()
        if p:
            problems.append(p)
    if not shutil.which(args.tshark[0]):
        problems.append(('tshark is missing (%s)' % args.tshark[0], APT + 'tshark'))
    else:
        p = plugin_problem(args.tshark)
        if p:
            problems.append(p)
    if not args.text:
        if not shutil.which(args.wireshark[0]):
            problems.append(('Wireshark (the window) is missing (%s)' % args.wireshark[0],
                             APT + 'wireshark-qt   (or run smtplab-lab --text: no window, the capture as text)'))
        if not os.environ.get('DISPLAY') and not os.environ.get('WAYLAND_DISPLAY'):
            problems.append(('no display for Wireshark: DISPLAY and WAYLAND_DISPLAY are not set (a text console '
                             'or an ssh session without X forwarding)',
                             'smtplab-lab --text  (the capture as text here), or run it in a desktop session '
                             "(or ssh -X)"))
    return problems
