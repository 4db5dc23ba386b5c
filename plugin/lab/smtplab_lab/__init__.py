# SPDX-License-Identifier: GPL-2.0-or-later
"""smtplab_lab: the private network students use for the SMTP lab.

server.py is the practice mail server "mail.lab" that the lab's network
runs; see its --help.
"""

VERSION = '1.0'
