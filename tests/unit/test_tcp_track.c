/* test_tcp_track.c
 * Unit tests of the TCP side of a connection: handshake, close, SYN
 * answers, the sequence-number-to-frame map, one-direction captures.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>

#include "tcp_track.h"

static nstime_t
at(double s)
{
    nstime_t t;

    t.secs = (time_t)s;
    t.nsecs = (int)((s - (double)t.secs) * 1e9);
    return t;
}

static void
test_handshake_and_map(void)
{
    wmem_allocator_t *a = wmem_allocator_new(WMEM_ALLOCATOR_STRICT);
    tt_conn_t t;
    nstime_t ts = at(1), acked = at(2), later = at(3.5);

    tt_init(&t, a);
    g_assert_cmpuint(tt_segment(&t, TT_CLIENT, TT_TH_SYN, 1000, 0, 0, 1, &ts), ==, TT_EV_SYN);
    tt_sent(&t, TT_CLIENT, TT_TH_SYN, 1000, 0, 1);
    g_assert_true(tt_syn_unanswered(&t));
    g_assert_cmpuint(tt_segment(&t, TT_SERVER, TT_TH_SYN | TT_TH_ACK, 5000, 1001, 0, 2, &ts), ==,
                     TT_EV_SYN_ACK | TT_EV_ANSWERS);
    tt_sent(&t, TT_SERVER, TT_TH_SYN | TT_TH_ACK, 5000, 0, 2);
    g_assert_cmpfloat(tt_since_open(&t, &later), ==, 2.5);
    g_assert_cmpuint(tt_segment(&t, TT_CLIENT, TT_TH_ACK, 1001, 5001, 0, 3, &acked), ==, TT_EV_HANDSHAKE);
    tt_sent(&t, TT_CLIENT, TT_TH_ACK, 1001, 0, 3);
    /* The connection opened with the client's ACK (the SYN/ACK before it). */
    g_assert_cmpfloat(tt_since_open(&t, &later), ==, 1.5);
    /* The server's banner (frame 4, 32 bytes) and the client's ACK of it. */
    g_assert_cmpuint(tt_segment(&t, TT_SERVER, TT_TH_ACK, 5001, 1001, 32, 4, &ts), ==, 0);
    tt_sent(&t, TT_SERVER, TT_TH_ACK, 5001, 32, 4);
    g_assert_cmpuint(tt_acked_frame(&t, TT_SERVER, 5033), ==, 4);
    g_assert_cmpuint(tt_acked_frame(&t, TT_SERVER, 5001), ==, 2);
    /* A retransmission of the banner names the frame it repeats. */
    g_assert_cmpuint(tt_data_frame(&t, TT_SERVER, 5001, 32), ==, 4);
    g_assert_cmpuint(tt_segment(&t, TT_CLIENT, TT_TH_FIN | TT_TH_ACK, 1001, 5033, 0, 5, &ts), ==,
                     TT_EV_FIN | TT_EV_CLOSE);
    g_assert_cmpuint(tt_segment(&t, TT_SERVER, TT_TH_FIN | TT_TH_ACK, 5033, 1002, 0, 6, &ts), ==, TT_EV_FIN);
    g_assert_false(tt_one_direction(&t));
    wmem_destroy_allocator(a);
}

static void
test_refused_and_again(void)
{
    wmem_allocator_t *a = wmem_allocator_new(WMEM_ALLOCATOR_STRICT);
    tt_conn_t t;
    nstime_t t1 = at(1), t2 = at(4.5);

    tt_init(&t, a);
    tt_segment(&t, TT_CLIENT, TT_TH_SYN, 1000, 0, 0, 1, &t1);
    g_assert_cmpuint(tt_segment(&t, TT_CLIENT, TT_TH_SYN, 1000, 0, 0, 2, &t2), ==, TT_EV_SYN | TT_EV_SYN_AGAIN |
                     TT_EV_ANSWERS);
    g_assert_cmpfloat(tt_since_syn(&t, &t2), ==, 3.5);
    g_assert_cmpuint(tt_segment(&t, TT_SERVER, TT_TH_RST | TT_TH_ACK, 0, 1001, 0, 3, &t2), ==,
                     TT_EV_RST | TT_EV_REFUSED | TT_EV_CLOSE);
    g_assert_false(tt_one_direction(&t));
    wmem_destroy_allocator(a);
}

static void
test_one_direction(void)
{
    wmem_allocator_t *a = wmem_allocator_new(WMEM_ALLOCATOR_STRICT);
    tt_conn_t t;
    nstime_t ts = at(1);

    /* SYNs alone: a blocked port, not half a capture. */
    tt_init(&t, a);
    tt_segment(&t, TT_CLIENT, TT_TH_SYN, 1000, 0, 0, 1, &ts);
    g_assert_false(tt_one_direction(&t));
    /* The client's ACK shows an answer the capture lacks. */
    g_assert_cmpuint(tt_segment(&t, TT_CLIENT, TT_TH_ACK, 1001, 5001, 0, 2, &ts), ==, TT_EV_ANSWERS);
    g_assert_true(tt_one_direction(&t));
    g_assert_false(tt_syn_unanswered(&t));
    /* Its ACK of bytes the capture lacks: a reply not in it. */
    g_assert_cmpuint(tt_segment(&t, TT_CLIENT, TT_TH_ACK, 1001, 5033, 0, 3, &ts), ==, TT_EV_ACK_UNSEEN);
    /* The server's side alone. */
    tt_init(&t, a);
    tt_segment(&t, TT_SERVER, TT_TH_SYN | TT_TH_ACK, 5000, 1001, 0, 1, &ts);
    g_assert_true(tt_one_direction(&t));
    wmem_destroy_allocator(a);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/tcp_track/handshake_and_map", test_handshake_and_map);
    g_test_add_func("/tcp_track/refused_and_again", test_refused_and_again);
    g_test_add_func("/tcp_track/one_direction", test_one_direction);
    return g_test_run();
}
