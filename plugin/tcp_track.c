/* tcp_track.c
 * The TCP side of one connection: handshake, first close, refused or
 * unanswered SYN, and the sequence-number-to-frame map.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tcp_track.h"

#include <string.h>

void
tt_init(tt_conn_t *t, wmem_allocator_t *scope)
{
    memset(t, 0, sizeof *t);
    t->scope = scope;
}

static guint32
tt_rel(const tt_conn_t *t, int dir, guint32 seq)
{
    return seq - t->base[dir];
}

/* The first index whose end is >= key. */
static guint32
tt_search(const tt_sent_list_t *l, guint32 key)
{
    guint32 lo = 0, hi = l->n;

    while (lo < hi) {
        guint32 mid = lo + (hi - lo) / 2;
        if (l->v[mid].end < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Records frame id as sending up to key; a frame recorded before with the
 * same end is replaced, as a retransmission replaces what it repeats. */
static void
tt_insert(tt_conn_t *t, tt_sent_list_t *l, guint32 key, guint32 id)
{
    guint32 i;

    if (l->n && l->v[l->n - 1].end < key) {
        i = l->n;
    } else {
        i = tt_search(l, key);
        if (i < l->n && l->v[i].end == key) {
            l->v[i].id = id;
            return;
        }
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = (tt_sent_t *)wmem_realloc(t->scope, l->v, l->cap * sizeof(tt_sent_t));
    }
    if (i < l->n)
        memmove(&l->v[i + 1], &l->v[i], (l->n - i) * sizeof(tt_sent_t));
    l->v[i].end = key;
    l->v[i].id = id;
    l->n++;
}

gboolean
tt_syn_unanswered(const tt_conn_t *t)
{
    return t->syn_num && !t->synack_num && !t->refused && t->syn_count == 1 && !t->client_acked;
}

guint
tt_segment(tt_conn_t *t, int dir, guint8 flags, guint32 seq, guint32 ack, guint32 payload_len, guint32 num,
           const nstime_t *ts)
{
    (void)payload_len;
    gboolean syn = (flags & TT_TH_SYN) != 0;
    gboolean unanswered = tt_syn_unanswered(t);
    guint ev = 0;

    t->frames[dir]++;
    if (dir == TT_CLIENT && (flags & TT_TH_ACK) && !syn)
        t->client_acked = TRUE;
    if (syn || !t->base_known[dir]) {
        t->base[dir] = syn ? seq : seq - 1;
        t->base_known[dir] = TRUE;
    }
    if (dir == TT_CLIENT && (flags & TT_TH_ACK) && !syn) {
        guint32 rel;
        /* Without the server's frames, its numbers start at the client's
         * first ACK (which acknowledges the SYN/ACK, or data before it). */
        if (!t->base_known[TT_SERVER]) {
            t->base[TT_SERVER] = ack - 1;
            t->base_known[TT_SERVER] = TRUE;
            t->client_ack = 1;
        }
        rel = tt_rel(t, TT_SERVER, ack);
        if ((gint32)(rel - t->client_ack) > 0) {
            if (t->frames[TT_SERVER] == 0)
                ev |= TT_EV_ACK_UNSEEN;
            t->client_ack = rel;
        }
    }

    if (flags & TT_TH_RST) {
        ev |= TT_EV_RST;
        if (t->syn_num && !t->synack_num && !t->refused && dir == TT_SERVER) {
            t->refused = TRUE;
            ev |= TT_EV_REFUSED;
        }
    } else if (syn && !(flags & TT_TH_ACK)) {
        ev |= TT_EV_SYN;
        if (!t->syn_num) {
            t->syn_num = num;
            t->syn_count = 1;
            t->syn_ts = *ts;
        } else if (!t->synack_num && ++t->syn_count == 2) {
            ev |= TT_EV_SYN_AGAIN;
        }
    } else if (syn) {
        ev |= TT_EV_SYN_ACK;
        if (!t->synack_num)
            t->synack_num = num;
        /* The client answers the last SYN/ACK it received. */
        if (!t->handshake_done)
            t->open_ts = *ts;
    } else {
        if (dir == TT_CLIENT && (flags & TT_TH_ACK) && t->synack_num && !t->handshake_done &&
            t->base_known[TT_SERVER] && tt_rel(t, TT_SERVER, ack) >= 1) {
            t->handshake_done = TRUE;
            t->open_ts = *ts;
            ev |= TT_EV_HANDSHAKE;
        }
        if (flags & TT_TH_FIN)
            ev |= TT_EV_FIN;
    }
    if ((ev & (TT_EV_RST | TT_EV_FIN)) && !t->closed) {
        t->closed = TRUE;
        ev |= TT_EV_CLOSE;
    }
    if (unanswered && !tt_syn_unanswered(t))
        ev |= TT_EV_ANSWERS;
    return ev;
}

void
tt_sent(tt_conn_t *t, int dir, guint8 flags, guint32 seq, guint32 payload_len, guint32 id)
{
    if (flags & TT_TH_RST)
        return;
    if (flags & TT_TH_SYN)
        tt_insert(t, &t->sent[dir], 1, id);
    else if (payload_len > 0 || (flags & TT_TH_FIN))
        tt_insert(t, &t->sent[dir], tt_rel(t, dir, seq) + payload_len + ((flags & TT_TH_FIN) ? 1 : 0), id);
    if (payload_len > 0 || (flags & (TT_TH_SYN | TT_TH_FIN)))
        t->last_sent[dir] = id;
}

guint32
tt_data_frame(const tt_conn_t *t, int dir, guint32 seq, guint32 len)
{
    const tt_sent_list_t *l = &t->sent[dir];
    guint32 key = tt_rel(t, dir, seq + len);
    guint32 i = tt_search(l, key);

    if (i < l->n && l->v[i].end == key)
        return l->v[i].id;
    return t->last_sent[dir];
}

guint32
tt_acked_frame(const tt_conn_t *t, int dir, guint32 ack)
{
    const tt_sent_list_t *l = &t->sent[dir];
    guint32 key, i;

    if (!t->base_known[dir])
        return 0;
    key = tt_rel(t, dir, ack);
    /* The frame with the largest end <= key. */
    if (l->n && l->v[l->n - 1].end <= key)
        return l->v[l->n - 1].id;
    i = tt_search(l, key);
    if (i < l->n && l->v[i].end == key)
        return l->v[i].id;
    return i ? l->v[i - 1].id : 0;
}

double
tt_since_syn(const tt_conn_t *t, const nstime_t *ts)
{
    nstime_t d;

    nstime_delta(&d, ts, &t->syn_ts);
    return nstime_to_sec(&d);
}

double
tt_since_open(const tt_conn_t *t, const nstime_t *ts)
{
    nstime_t d;

    nstime_delta(&d, ts, &t->open_ts);
    return nstime_to_sec(&d);
}

gboolean
tt_one_direction(const tt_conn_t *t)
{
    if (t->frames[TT_SERVER] == 0)
        return t->client_acked;
    return t->frames[TT_CLIENT] == 0;
}
