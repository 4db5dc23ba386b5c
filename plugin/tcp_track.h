/* tcp_track.h
 * The TCP side of one connection for the SMTP Lab stage machine: the
 * three-way handshake, the first close, a refused or unanswered SYN, which
 * frames were seen in each direction, and the map from sequence numbers to
 * the frames that sent them (what a pure ACK acknowledges, what a
 * retransmission repeats). No epan dependency; frames are named by the
 * caller's 32-bit ids.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TCP_TRACK_H
#define TCP_TRACK_H

#include <glib.h>
#include <wsutil/nstime.h>
#include <wsutil/wmem/wmem.h>

/* TCP flags, as in the TCP header. */
#define TT_TH_FIN 0x01
#define TT_TH_SYN 0x02
#define TT_TH_RST 0x04
#define TT_TH_ACK 0x10

/* Directions. */
#define TT_CLIENT 0
#define TT_SERVER 1

/* What one segment did to the connection (tt_segment). */
#define TT_EV_SYN        0x001 /* a SYN without ACK */
#define TT_EV_SYN_AGAIN  0x002 /* ... the first one sent again, still unanswered */
#define TT_EV_SYN_ACK    0x004 /* a SYN/ACK */
#define TT_EV_HANDSHAKE  0x008 /* the client's ACK of the SYN/ACK: the handshake is complete */
#define TT_EV_RST        0x010 /* a RST */
#define TT_EV_REFUSED    0x020 /* ... the server's answer to the SYN */
#define TT_EV_FIN        0x040 /* a FIN */
#define TT_EV_CLOSE      0x080 /* the connection's first FIN or RST */
#define TT_EV_ANSWERS    0x100 /* the SYN, unanswered so far, is answered (or sent again) here */
#define TT_EV_ACK_UNSEEN 0x200 /* the client acknowledges server bytes further than before, and no server
                                * frame is in the capture so far: a reply it lacks */

/* The frames that sent data, SYN or FIN in one direction, by the relative
 * sequence number just past them: sorted, in capture order almost always
 * appended at the end. 8 bytes a frame. */
typedef struct {
    guint32 end;
    guint32 id;
} tt_sent_t;

typedef struct {
    tt_sent_t *v;
    guint32 n, cap;
} tt_sent_list_t;

typedef struct {
    wmem_allocator_t *scope;
    gboolean base_known[2];
    guint32 base[2];              /* sequence number before the first byte */
    tt_sent_list_t sent[2];
    guint32 last_sent[2];         /* the frame that sent last, 0: none yet */
    guint32 frames[2];            /* frames seen per direction */
    gboolean client_acked;        /* the client sent a segment with ACK: the server answered it */
    guint32 client_ack;           /* the furthest server byte the client acknowledged (relative) */
    guint32 syn_num, synack_num;  /* frame numbers of the first SYN and SYN/ACK, 0: none */
    guint32 syn_count;
    nstime_t syn_ts;
    nstime_t open_ts;             /* when the connection opened: the client's ACK that completed the
                                   * handshake, before it the last SYN/ACK (valid once synack_num) */
    gboolean handshake_done;
    gboolean refused;
    gboolean closed;
} tt_conn_t;

void tt_init(tt_conn_t *t, wmem_allocator_t *scope);

/* Takes the next segment in capture order (frame num, the caller's id);
 * returns its TT_EV_* events. */
guint tt_segment(tt_conn_t *t, int dir, guint8 flags, guint32 seq, guint32 ack, guint32 payload_len, guint32 num,
                 const nstime_t *ts);

/* Records the segment as the last to send data, SYN or FIN in dir (after
 * tt_segment and the caller's own use of the lookups below). */
void tt_sent(tt_conn_t *t, int dir, guint8 flags, guint32 seq, guint32 payload_len, guint32 id);

/* The frame that sent exactly the bytes up to seq + len before (the segment
 * a retransmission repeats), else the frame that sent last in dir, or 0. */
guint32 tt_data_frame(const tt_conn_t *t, int dir, guint32 seq, guint32 len);

/* The frame whose data an ACK number acknowledges in direction dir (the
 * sender of the data), or 0. */
guint32 tt_acked_frame(const tt_conn_t *t, int dir, guint32 ack);

/* A single SYN without any answer yet (a client ACK shows an answer the
 * capture lacks). */
gboolean tt_syn_unanswered(const tt_conn_t *t);

/* Seconds between the first SYN and ts. */
double tt_since_syn(const tt_conn_t *t, const nstime_t *ts);

/* Seconds between the opening of the connection (open_ts) and ts. */
double tt_since_open(const tt_conn_t *t, const nstime_t *ts);

/* TRUE when, in the whole capture, frames of only one direction were seen
 * although the connection was open: the client's ACKs or the server's
 * frames show it (a SYN sent again and again alone is no such capture). */
gboolean tt_one_direction(const tt_conn_t *t);

#endif /* TCP_TRACK_H */
