/* test_tcp_locate.c
 * Unit tests of finding a TCP header in a frame's bytes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>
#include <string.h>

#include "tcp_locate.h"

static const guint8 src4[4] = { 127, 0, 0, 1 };
static const guint8 dst4[4] = { 127, 0, 0, 2 };

/* An Ethernet frame: IPv4 (total length ip_len) + TCP 41694 -> 25. */
static size_t
frame4(guint8 *b, guint16 ip_len, guint16 frag, guint8 flags)
{
    memset(b, 0, 128);
    b[12] = 0x08; /* ethertype IPv4 */
    b[14] = 0x45;
    b[16] = (guint8)(ip_len >> 8);
    b[17] = (guint8)ip_len;
    b[20] = (guint8)(frag >> 8);
    b[21] = (guint8)frag;
    b[23] = 6;
    memcpy(b + 26, src4, 4);
    memcpy(b + 30, dst4, 4);
    b[34] = 0xa2; b[35] = 0xde;           /* 41694 */
    b[36] = 0x00; b[37] = 25;
    b[38] = 0x11; b[39] = 0x22; b[40] = 0x33; b[41] = 0x44;
    b[42] = 0x55; b[43] = 0x66; b[44] = 0x77; b[45] = 0x88;
    b[46] = 0x80;                          /* 32-byte header */
    b[47] = flags;
    return 14 + ip_len;
}

static void
test_ipv4(void)
{
    guint8 b[128];
    tl_tcp_t t;
    size_t n = frame4(b, 20 + 32 + 1, 0, 0x18);

    g_assert_true(tl_find_tcp(b, n, 4, src4, dst4, 41694, 25, &t));
    g_assert_cmphex(t.seq, ==, 0x11223344);
    g_assert_cmphex(t.ack, ==, 0x55667788);
    g_assert_cmphex(t.flags, ==, 0x18);
    g_assert_cmpuint(t.payload_len, ==, 1);
    g_assert_cmpuint(t.payload_offset, ==, 14 + 20 + 32);

    /* Ethernet padding does not count as payload. */
    n = frame4(b, 20 + 32, 0, 0x10);
    g_assert_true(tl_find_tcp(b, 60 + 20, 4, src4, dst4, 41694, 25, &t));
    g_assert_cmpuint(t.payload_len, ==, 0);

    /* Wrong ports, swapped addresses, a later fragment: not found. */
    g_assert_false(tl_find_tcp(b, n, 4, src4, dst4, 41694, 587, &t));
    g_assert_false(tl_find_tcp(b, n, 4, dst4, src4, 41694, 25, &t));
    n = frame4(b, 20 + 32, 0x0010, 0x10);
    g_assert_false(tl_find_tcp(b, n, 4, src4, dst4, 41694, 25, &t));
    /* Cut short before the TCP header ends. */
    n = frame4(b, 20 + 32, 0, 0x10);
    g_assert_false(tl_find_tcp(b, 40, 4, src4, dst4, 41694, 25, &t));
}

/* IPv4 with options: IHL 6 (a 24-byte header with a Router Alert option,
 * RFC 2113), so the TCP header starts 24 bytes after the IP header. */
static void
test_ipv4_options(void)
{
    guint8 b[128];
    tl_tcp_t t;

    memset(b, 0, sizeof b);
    b[12] = 0x08;                          /* ethertype IPv4 */
    b[14] = 0x46;                          /* version 4, IHL 6 */
    b[17] = 24 + 20 + 2;                   /* total length: IP 24, TCP 20, 2 bytes */
    b[23] = 6;
    memcpy(b + 26, src4, 4);
    memcpy(b + 30, dst4, 4);
    b[34] = 0x94; b[35] = 0x04;            /* Router Alert, length 4, value 0 */
    b[38] = 0xa2; b[39] = 0xde;            /* 41694 */
    b[40] = 0x00; b[41] = 25;
    b[42] = 0x01; b[43] = 0x02; b[44] = 0x03; b[45] = 0x04;
    b[46] = 0x05; b[47] = 0x06; b[48] = 0x07; b[49] = 0x08;
    b[50] = 0x50;                          /* 20-byte header */
    b[51] = 0x18;                          /* PSH ACK */
    b[58] = 'h'; b[59] = 'i';

    g_assert_true(tl_find_tcp(b, 60, 4, src4, dst4, 41694, 25, &t));
    g_assert_cmphex(t.seq, ==, 0x01020304);
    g_assert_cmphex(t.ack, ==, 0x05060708);
    g_assert_cmphex(t.flags, ==, 0x18);
    g_assert_cmpuint(t.payload_len, ==, 2);
    g_assert_cmpuint(t.payload_offset, ==, 58);
}

static void
test_ipv6_with_extension(void)
{
    guint8 b[160];
    guint8 s6[16] = { 0 }, d6[16] = { 0 };
    tl_tcp_t t;
    size_t o = 4; /* a loopback (null) header */

    s6[15] = 1;
    d6[15] = 1;
    memset(b, 0, sizeof b);
    b[o] = 0x60;
    b[o + 4] = 0;
    b[o + 5] = 8 + 20 + 3;   /* payload: hop-by-hop (8) + TCP (20) + 3 bytes */
    b[o + 6] = 0;            /* hop-by-hop options */
    memcpy(b + o + 8, s6, 16);
    memcpy(b + o + 24, d6, 16);
    b[o + 40] = 6;           /* next: TCP */
    b[o + 41] = 0;           /* 8 bytes */
    b[o + 48] = 0x00; b[o + 49] = 25;
    b[o + 50] = 0xa2; b[o + 51] = 0xde;
    b[o + 60] = 0x50;
    b[o + 61] = 0x11;        /* FIN ACK */
    g_assert_true(tl_find_tcp(b, o + 48 + 23, 6, s6, d6, 25, 41694, &t));
    g_assert_cmphex(t.flags, ==, 0x11);
    g_assert_cmpuint(t.payload_len, ==, 3);
    g_assert_cmpuint(t.payload_offset, ==, o + 48 + 20);
    g_assert_false(tl_find_tcp(b, o + 48 + 23, 4, s6, d6, 25, 41694, &t));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/tcp_locate/ipv4", test_ipv4);
    g_test_add_func("/tcp_locate/ipv4_options", test_ipv4_options);
    g_test_add_func("/tcp_locate/ipv6_with_extension", test_ipv6_with_extension);
    return g_test_run();
}
