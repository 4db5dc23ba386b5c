/* tcp_locate.c
 * Finds the TCP header of a known segment in a frame's bytes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tcp_locate.h"

#include <string.h>

static guint16
tl_u16(const guint8 *p)
{
    return (guint16)((p[0] << 8) | p[1]);
}

static guint32
tl_u32(const guint8 *p)
{
    return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
}

/* Reads the TCP header at t; ip_payload is the IP layer's payload length
 * counted from t (0 when unknown). */
static gboolean
tl_read_tcp(const guint8 *buf, size_t len, size_t t, guint16 sport, guint16 dport, guint32 ip_payload, tl_tcp_t *out)
{
    guint32 thl;

    if (t + 20 > len || tl_u16(buf + t) != sport || tl_u16(buf + t + 2) != dport)
        return FALSE;
    thl = (guint32)(buf[t + 12] >> 4) * 4;
    if (thl < 20)
        return FALSE;
    out->seq = tl_u32(buf + t + 4);
    out->ack = tl_u32(buf + t + 8);
    out->flags = buf[t + 13];
    out->payload_offset = (guint32)(t + thl);
    out->len_from_ip = ip_payload >= thl;
    if (out->len_from_ip)
        out->payload_len = ip_payload - thl;
    else
        out->payload_len = (len > t + thl) ? (guint32)(len - t - thl) : 0;
    return TRUE;
}

static gboolean
tl_try_ipv4(const guint8 *buf, size_t len, size_t o, const guint8 *src, const guint8 *dst,
            guint16 sport, guint16 dport, tl_tcp_t *out)
{
    size_t ihl;
    guint32 total;

    if ((buf[o] >> 4) != 4 || buf[o + 9] != 6)
        return FALSE;
    ihl = (size_t)(buf[o] & 0x0f) * 4;
    if (ihl < 20 || o + ihl + 20 > len)
        return FALSE;
    if (memcmp(buf + o + 12, src, 4) != 0 || memcmp(buf + o + 16, dst, 4) != 0)
        return FALSE;
    if ((tl_u16(buf + o + 6) & 0x1fff) != 0)
        return FALSE; /* a later fragment: no TCP header here */
    total = tl_u16(buf + o + 2);
    return tl_read_tcp(buf, len, o + ihl, sport, dport, total > ihl ? (guint32)(total - ihl) : 0, out);
}

static gboolean
tl_try_ipv6(const guint8 *buf, size_t len, size_t o, const guint8 *src, const guint8 *dst,
            guint16 sport, guint16 dport, tl_tcp_t *out)
{
    guint8 nh;
    size_t p;
    guint32 plen;
    int hops;

    if ((buf[o] >> 4) != 6 || o + 40 > len)
        return FALSE;
    if (memcmp(buf + o + 8, src, 16) != 0 || memcmp(buf + o + 24, dst, 16) != 0)
        return FALSE;
    plen = tl_u16(buf + o + 4);
    nh = buf[o + 6];
    p = o + 40;
    /* Hop-by-hop, routing and destination options may come first. */
    for (hops = 0; nh != 6 && hops < 8; hops++) {
        size_t ext;
        if (nh != 0 && nh != 43 && nh != 60)
            return FALSE;
        if (p + 8 > len)
            return FALSE;
        ext = ((size_t)buf[p + 1] + 1) * 8;
        nh = buf[p];
        p += ext;
    }
    if (nh != 6)
        return FALSE;
    return tl_read_tcp(buf, len, p, sport, dport,
                       (plen > p - o - 40) ? (guint32)(plen - (p - o - 40)) : 0, out);
}

static gboolean
tl_try(const guint8 *buf, size_t len, size_t o, int family, const guint8 *src, const guint8 *dst,
       guint16 sport, guint16 dport, tl_tcp_t *out)
{
    return family == 4 ? tl_try_ipv4(buf, len, o, src, dst, sport, dport, out)
                       : tl_try_ipv6(buf, len, o, src, dst, sport, dport, out);
}

gboolean
tl_find_tcp_hint(const guint8 *buf, size_t len, int family, const guint8 *src, const guint8 *dst,
                 guint16 sport, guint16 dport, size_t *hint, tl_tcp_t *out)
{
    size_t o, end;
    size_t hdr = family == 4 ? 40 : 60;

    if (len > TL_SCAN_MAX)
        len = TL_SCAN_MAX;
    if (len < hdr)
        return FALSE;
    end = len - hdr;
    /* Frames of one capture mostly have the same link layer: the offset
     * that matched last time is tried first (and checked like any other). */
    if (hint && *hint <= end && tl_try(buf, len, *hint, family, src, dst, sport, dport, out))
        return TRUE;
    for (o = 0; o <= end; o++) {
        if (tl_try(buf, len, o, family, src, dst, sport, dport, out)) {
            if (hint)
                *hint = o;
            return TRUE;
        }
    }
    return FALSE;
}

gboolean
tl_find_tcp(const guint8 *buf, size_t len, int family, const guint8 *src, const guint8 *dst,
            guint16 sport, guint16 dport, tl_tcp_t *out)
{
    return tl_find_tcp_hint(buf, len, family, src, dst, sport, dport, NULL, out);
}
