/* keystroke_stream.c
 * One direction of a connection as the keystroke layer reads it: new bytes
 * by TCP sequence number, the line being typed across segments, and the
 * splitter's reading of one segment.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "keystroke_stream.h"

void
kss_flow_init(kss_flow_t *flow)
{
    memset(flow, 0, sizeof *flow);
    la_split_init(&flow->split);
}

void
kss_walk(wmem_allocator_t *scope, la_splitter_t *split, kss_line_t *line,
         const guint8 *data, guint32 len, guint32 skip, kss_walk_t *w)
{
    size_t pos = skip;
    guint32 line_start = skip;
    guint32 prefix_len = split->line_pos;
    la_event_t ev;

    w->pieces = wmem_array_new(scope, sizeof(kss_piece_t));
    w->cmds = wmem_array_new(scope, sizeof(kss_cmd_t));
    w->enters = wmem_array_new(scope, sizeof(kss_enter_t));
    w->chunks = wmem_array_new(scope, sizeof(kss_chunk_t));
    w->sb_aborted = FALSE;
    w->chunk_bytes = 0;
    w->bare_cr_frame = 0;

    while (la_split_next(split, data, len, &pos, &ev)) {
        if (ev.kind == LA_EV_TELNET) {
            kss_cmd_t c;
            c.end = (guint32)pos;
            c.cmd = ev.tn;
            c.in_line = ev.in_line;
            wmem_array_append_one(w->cmds, c);
        } else if (ev.kind == LA_EV_SB_ABORTED) {
            w->sb_aborted = TRUE;
        } else if (ev.kind == LA_EV_CHUNK) {
            /* Chunk bytes follow a line's end: the next line starts after them. */
            kss_chunk_t c;
            c.start = (guint32)pos - ev.total_len;
            c.end = (guint32)pos;
            wmem_array_append_one(w->chunks, c);
            w->chunk_bytes += ev.total_len;
            line_start = (guint32)pos;
        } else if (ev.kind == LA_EV_ENTER) {
            kss_enter_t e;
            e.end = (guint32)pos;
            e.sent = ev.eol;
            /* The CR is in this segment unless it precedes the line's first byte here. */
            e.earlier = line_start == skip && ev.content_len < prefix_len;
            wmem_array_append_one(w->enters, e);
        } else {
            kss_piece_t p;
            p.seg_start = line_start;
            p.seg_end = (guint32)pos;
            p.prefix = line;
            p.prefix_len = prefix_len;
            p.eol = ev.eol;
            p.content_len = ev.content_len;
            p.total_len = ev.total_len;
            wmem_array_append_one(w->pieces, p);
            line_start = (guint32)pos;
            line = NULL;
            prefix_len = 0;
        }
    }
    w->tail_start = line_start;
}

/* Which leading bytes of a segment were received before, and whether bytes
 * before it are missing (those of a BDAT chunk are counted off it); moves
 * the flow's next sequence number on. */
static void
kss_sequence(kss_flow_t *flow, kss_seq_t seq, guint32 len, kss_segment_t *seg)
{
    if (!seq.known)
        return;
    if (flow->seq_known) {
        gint32 d = (gint32)(seq.seq - flow->next_seq);
        if (d < 0) {
            seg->skip = ((guint32)-d >= len) ? len : (guint32)-d;
            seg->flags |= KSS_F_RETRANS;
        } else if (d > 0) {
            seg->flags |= KSS_F_GAP;
            flow->split.chunk_left -= MIN(flow->split.chunk_left, (guint64)d);
        }
    }
    if (!flow->seq_known || (gint32)(seq.nxtseq - flow->next_seq) > 0) {
        flow->next_seq = seq.nxtseq;
        flow->seq_known = TRUE;
    }
}

/* Keeps the bytes data[from..len) of the line the segment leaves
 * unfinished, up to LA_MAX_LINE, and, once the line holds a typed byte
 * (typed), the segment's frame number. */
static kss_line_t *
kss_keep_tail(wmem_allocator_t *keep, kss_line_t *line, const guint8 *data, guint32 from, guint32 len,
              guint32 frame, gint64 ts_ns, gboolean typed)
{
    guint32 n = len - from;

    if (!line) {
        line = wmem_new0(keep, kss_line_t);
        line->frames = wmem_array_new(keep, sizeof(guint32));
    }
    if (line->stored < LA_MAX_LINE && n > 0) {
        guint32 add = MIN(n, LA_MAX_LINE - line->stored);
        if (line->stored + add > line->capacity) {
            /* Doubling: a line typed a byte a segment is not copied each time. */
            guint32 cap = line->capacity ? line->capacity : 16;
            while (cap < line->stored + add)
                cap *= 2;
            cap = MIN(cap, LA_MAX_LINE);
            line->bytes = (guint8 *)wmem_realloc(keep, line->bytes, cap);
            line->capacity = cap;
        }
        memcpy(line->bytes + line->stored, data + from, add);
        line->stored += add;
    }
    /* Telnet commands only so far (negotiation at connect): in the bytes,
     * not among the line's typed segments. */
    if (!typed)
        return line;
    if (line->count == 0)
        line->first_ns = ts_ns;
    if (line->count < KSS_MAX_SEGMENTS)
        wmem_array_append_one(line->frames, frame);
    line->count++;
    return line;
}

gboolean
kss_take(wmem_allocator_t *keep, wmem_allocator_t *scratch, kss_flow_t *flow, kss_seq_t seq,
         const guint8 *data, guint32 len, guint32 frame, gint64 ts_ns,
         kss_segment_t *seg, kss_walk_t *w, la_splitter_t *split_after)
{
    guint i;

    kss_sequence(flow, seq, len, seg);
    seg->start = flow->split;
    seg->line = flow->pending;
    if (seg->skip >= len)
        return FALSE;

    if (flow->pending && flow->split.data)
        seg->interval_ns = ts_ns - flow->last_ns;
    else if (flow->pending)
        /* Telnet commands only so far: the typing may start here. */
        flow->pending->typed_at = seg->start.line_pos;
    flow->last_ns = ts_ns;

    kss_walk(scratch, &flow->split, flow->pending, data, len, seg->skip, w);
    *split_after = flow->split;
    for (i = 0; i < wmem_array_get_count(w->enters); i++) {
        const kss_enter_t *e = (const kss_enter_t *)wmem_array_index(w->enters, i);
        if (e->earlier && e->sent == LA_EOL_CR)
            w->bare_cr_frame = flow->cr_frame;
    }
    flow->cr_frame = flow->split.cr ? frame : 0;

    for (i = 0; i < wmem_array_get_count(w->pieces); i++) {
        kss_piece_t *p = (kss_piece_t *)wmem_array_index(w->pieces, i);
        if (p->prefix)
            p->prefix->completed_in = frame;
    }

    if (la_split_in_line(&flow->split)) {
        kss_line_t *line = wmem_array_get_count(w->pieces) ? NULL : flow->pending;
        flow->pending = kss_keep_tail(keep, line, data, w->tail_start, len, frame, ts_ns, flow->split.data);
        seg->tail = flow->pending;
    } else {
        flow->pending = NULL;
    }
    return TRUE;
}

gboolean
kss_has_new_bytes(const kss_flow_t *flow, kss_seq_t seq)
{
    return !seq.known || !flow->seq_known || (gint32)(seq.nxtseq - flow->next_seq) > 0;
}

void
kss_take_cut(kss_flow_t *flow, kss_seq_t seq, kss_segment_t *seg)
{
    gboolean client;

    seg->flags = KSS_F_CUT;
    if (seq.known && flow->seq_known && (gint32)(seq.nxtseq - flow->next_seq) <= 0) {
        seg->skip = G_MAXUINT32;
        return;
    }
    client = flow->split.client;
    la_split_init(&flow->split);
    if (client)
        la_split_set_client(&flow->split);
    flow->pending = NULL;
    flow->cr_frame = 0;
}

gboolean
kss_segment_is_clean(const kss_segment_t *seg)
{
    return !seg->line && !seg->tail && !seg->skip && !seg->flags && !seg->interval_ns && la_split_is_fresh(&seg->start);
}

guint32
kss_prefix_kept(const kss_piece_t *p)
{
    if (!p->prefix)
        return 0;
    return MIN(p->prefix_len, p->prefix->stored);
}

const guint8 *
kss_lines_bytes(wmem_allocator_t *scope, const kss_walk_t *w, const guint8 *data, guint32 *len_out,
                gboolean *shared)
{
    guint n = wmem_array_get_count(w->pieces);
    guint nc = wmem_array_get_count(w->chunks);
    const kss_piece_t *first = (const kss_piece_t *)wmem_array_index(w->pieces, 0);
    const kss_piece_t *last = (const kss_piece_t *)wmem_array_index(w->pieces, n - 1);
    guint32 kept = kss_prefix_kept(first);
    guint32 end = last->seg_end;
    guint32 seg_len;
    guint8 *buf;

    if (nc)
        end = MAX(end, ((const kss_chunk_t *)wmem_array_index(w->chunks, nc - 1))->end);
    seg_len = end - first->seg_start;

    if (!first->prefix) {
        *shared = TRUE;
        *len_out = seg_len;
        return data + first->seg_start;
    }
    buf = (guint8 *)wmem_alloc(scope, kept + seg_len ? kept + seg_len : 1);
    if (kept)
        memcpy(buf, first->prefix->bytes, kept);
    memcpy(buf + kept, data + first->seg_start, seg_len);
    *shared = FALSE;
    *len_out = kept + seg_len;
    return buf;
}

guint32
kss_piece_offset(const kss_walk_t *w, guint i)
{
    const kss_piece_t *first = (const kss_piece_t *)wmem_array_index(w->pieces, 0);
    const kss_piece_t *p = (const kss_piece_t *)wmem_array_index(w->pieces, i);

    if (i == 0)
        return 0;
    return kss_prefix_kept(first) + p->seg_start - first->seg_start;
}

void
kss_line_info(wmem_allocator_t *scope, const guint8 *buf, guint32 off, const kss_piece_t *p,
              gboolean client, keystroke_line_t *out)
{
    guint32 kept = kss_prefix_kept(p);
    la_edit_t ed;

    /* The kept bytes of the line before this segment, then this segment's
     * bytes up to the line ending (which may have begun in a dropped byte). */
    out->raw_len = MIN(p->content_len, kept) + (p->content_len > p->prefix_len ? p->content_len - p->prefix_len : 0);
    out->raw = (const guint8 *)wmem_memdup(scope, buf + off, out->raw_len);
    out->total_len = p->total_len;
    out->dropped = p->prefix_len - kept;
    out->eol = p->eol;
    out->segments = (p->prefix ? p->prefix->count : 0) + 1;
    la_edit_line(scope, out->raw, out->raw_len, client, &ed);
    out->edited = ed.text;
    out->edited_len = ed.len;
    out->backspaces = ed.backspaces;
}

void
kss_cut_lines(wmem_allocator_t *scope, const guint8 *data, guint32 len, kss_walk_t *w)
{
    la_splitter_t split;

    la_split_init(&split);
    kss_walk(scope, &split, NULL, data, len, 0, w);
    if (la_split_in_line(&split)) {
        kss_piece_t tail;
        memset(&tail, 0, sizeof tail);
        tail.seg_start = w->tail_start;
        tail.seg_end = len;
        tail.eol = LA_EOL_NONE;
        tail.content_len = split.cr ? split.content_len : split.line_pos;
        tail.total_len = split.line_pos;
        wmem_array_append_one(w->pieces, tail);
    }
}
