#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# smtp_server.py: aiosmtpd lab server (hostname lab.example) used by record.sh to record the smtplab test captures.
"""Lab SMTP server for recording captures.

Run with Debian's /usr/bin/python3 (needs python3-aiosmtpd).

  smtp_server.py --mode plain    --port 25 --port 587
  smtp_server.py --mode starttls --port 587 --cert c.pem --key k.pem
  smtp_server.py --mode auth     --port 587
  smtp_server.py --mode plain    --port 25 --log-lines

Listens on 127.0.0.1 and ::1 for every --port.  Accepts any mail and throws
it away.  Writes the word READY (and a newline) to --ready-file once every
listening socket is bound, and exits cleanly on SIGTERM or SIGINT.

--log-lines switches on aiosmtpd's own debug log (logger "mail.log"), with
a millisecond time stamp on every line: each line it read, with its line
end ("_handle_client readline: b'...\\r\\n'"), and each reply it wrote
("<< b'...'").  What the server answers does not change.
"""

import argparse
import asyncio
import logging
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

HOSTNAME = "lab.example"
# Fixed ident so that the banner is "220 lab.example ESMTP aiosmtpd" whatever
# aiosmtpd version is installed.
IDENT = "ESMTP aiosmtpd"
AUTH_USER = b"student"
AUTH_PASSWORD = b"secret"


class AcceptAll:
    """Accept every sender, recipient and message; keep nothing."""

    async def handle_DATA(self, server, session, envelope):
        logging.info("message from %s to %s, %d bytes", envelope.mail_from,
                     envelope.rcpt_tos, len(envelope.content or b""))
        return "250 OK: message accepted"


def lab_authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword)
          and auth_data.login == AUTH_USER
          and auth_data.password == AUTH_PASSWORD)
    logging.info("AUTH %s -> %s", mechanism, "ok" if ok else "rejected")
    return AuthResult(success=ok)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=["plain", "starttls", "auth"], default="plain")
    ap.add_argument("--port", type=int, action="append", required=True)
    ap.add_argument("--addr", action="append",
                    help="listen address (default: 127.0.0.1 and ::1)")
    ap.add_argument("--cert", help="PEM certificate (starttls mode)")
    ap.add_argument("--key", help="PEM private key (starttls mode)")
    ap.add_argument("--ready-file", help="write READY here once listening")
    ap.add_argument("--log-lines", action="store_true",
                    help="log every line read and every reply written, time-stamped")
    args = ap.parse_args()

    if args.log_lines:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(asctime)s.%(msecs)03d smtp_server %(levelname)s %(message)s",
                            datefmt="%H:%M:%S")
        logging.getLogger("mail.log").setLevel(logging.DEBUG)
    else:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="smtp_server %(levelname)s %(message)s")

    kwargs = dict(hostname=HOSTNAME, ident=IDENT)
    if args.mode == "starttls":
        if not (args.cert and args.key):
            ap.error("--mode starttls needs --cert and --key")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        kwargs.update(tls_context=ctx, require_starttls=True)
    elif args.mode == "auth":
        kwargs.update(authenticator=lab_authenticator, auth_require_tls=False)

    addrs = args.addr or ["127.0.0.1", "::1"]
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    handler = AcceptAll()

    def factory():
        return SMTP(handler, loop=loop, **kwargs)

    servers = []
    for port in args.port:
        for addr in addrs:
            srv = loop.run_until_complete(
                loop.create_server(factory, host=addr, port=port,
                                   reuse_address=True))
            servers.append(srv)
            logging.info("listening on [%s]:%d mode=%s", addr, port, args.mode)

    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))

    if args.ready_file:
        with open(args.ready_file, "w") as f:
            f.write("READY\n")

    loop.run_until_complete(stop)
    for srv in servers:
        srv.close()
        loop.run_until_complete(srv.wait_closed())
    loop.close()
    logging.info("stopped")


if __name__ == "__main__":
    main()
