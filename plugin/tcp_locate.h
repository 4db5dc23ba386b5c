/* tcp_locate.h
 * Finds, in the bytes of a whole frame, the TCP header of a segment whose
 * addresses and ports are known, and reads its flags and numbers. The SMTP
 * Lab postdissector uses it for frames without payload, which no port
 * dissector sees, instead of asking for TCP's fields (that would make
 * tshark build a protocol tree for every frame). No epan dependency.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TCP_LOCATE_H
#define TCP_LOCATE_H

#include <glib.h>

/* How far into a frame the TCP header is looked for. */
#define TL_SCAN_MAX 512

typedef struct {
    guint32 seq;
    guint32 ack;
    guint8 flags;          /* FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, ... */
    guint32 payload_len;   /* from the IP length; what was captured when that says 0 */
    guint32 payload_offset; /* where the payload starts in the frame's bytes */
    gboolean len_from_ip;  /* payload_len comes from the IP length (else from the bytes scanned) */
} tl_tcp_t;

/* family 4 (addresses of 4 bytes) or 6 (16 bytes). Returns FALSE when no
 * IP header with these addresses carrying TCP with these ports is found
 * (IP fragments included: only the first fragment has the TCP header). */
gboolean tl_find_tcp(const guint8 *buf, size_t len, int family, const guint8 *src, const guint8 *dst,
                     guint16 sport, guint16 dport, tl_tcp_t *out);

/* The same, trying offset *hint first; *hint becomes the offset where the
 * header was found by the scan. The result is the same as tl_find_tcp's
 * whenever the header at *hint is the first match, as with one link layer. */
gboolean tl_find_tcp_hint(const guint8 *buf, size_t len, int family, const guint8 *src, const guint8 *dst,
                          guint16 sport, guint16 dport, size_t *hint, tl_tcp_t *out);

#endif /* TCP_LOCATE_H */
