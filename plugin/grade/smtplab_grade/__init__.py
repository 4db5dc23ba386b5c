"""smtplab-grade: grades a class's SMTP lab captures with tshark and the
smtplab plugin.

SPDX-License-Identifier: GPL-2.0-or-later
"""
VERSION = '0.1.0'
