/* fuzz_keystroke_stream.c
 * libFuzzer target for one direction's stream as the keystroke layer reads
 * it (keystroke_stream.c): segments sent in order, again (whole or partly,
 * with new bytes), after a hole, or cut short by the capture.
 *
 * Input: a byte of segment operations per segment, then the stream. Each
 * operation byte gives the segment's length (low 5 bits, 1-32) and what
 * happens to it (high 3 bits: in order, a repeat of earlier bytes with new
 * ones, a hole before it, cut short). Every segment taken must walk again
 * from its kept state to the same lines and the same state after it, every
 * line's parts must fit in its buffer, and every line is edited.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "fuzz_check.h"
#include "fuzz_pool.h"
#include "keystroke_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The lines of a walk, checked and flattened for comparison. */
static GString *
lines_text(wmem_allocator_t *scope, const kss_walk_t *w, const guint8 *seg, guint32 len)
{
    GString *out = g_string_new(NULL);
    guint32 n, loff = 0, i;
    gboolean shared;
    const guint8 *buf;

    if (wmem_array_get_count(w->pieces) == 0)
        return out;
    buf = kss_lines_bytes(scope, w, seg, &n, &shared);
    for (i = 0; i < wmem_array_get_count(w->pieces); i++) {
        const kss_piece_t *p = (const kss_piece_t *)wmem_array_index(w->pieces, i);
        keystroke_line_t li;
        FUZZ_CHECK(p->seg_start <= p->seg_end && p->seg_end <= len);
        FUZZ_CHECK(p->content_len <= p->total_len);
        kss_line_info(scope, buf, loff, p, TRUE, &li);
        FUZZ_CHECK(loff + li.raw_len <= n);
        FUZZ_CHECK(li.edited_len <= li.raw_len);
        FUZZ_CHECK(li.dropped <= li.total_len);
        g_string_append_len(out, (const char *)li.raw, li.raw_len);
        g_string_append_printf(out, "|%d|%u\n", li.eol, li.segments);
        loff += li.total_len - li.dropped;
    }
    return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wmem_allocator_t *keep, *scratch;
    kss_flow_t flow;
    size_t nops, k, off = 0;
    const guint32 base = 0xFFFFFF00u;  /* sequence numbers wrap during the stream */
    guint32 frame = 0;

    if (size < 2)
        return 0;
    nops = MIN((size_t)(data[0] & 0x3f) + 1, size - 1);
    data++;
    size--;
    if (nops >= size)
        return 0;
    keep = wmem_allocator_new(WMEM_ALLOCATOR_SIMPLE);
    scratch = pool;
    kss_flow_init(&flow);

    /* off: the stream offset of the next new byte; its sequence number is base + off. */
    for (k = 0; k < nops; k++) {
        const guint8 *stream = data + nops;
        size_t total = size - nops;
        guint op = data[k] >> 5;
        guint32 back = 0, len;
        kss_segment_t seg;
        kss_walk_t w, again;
        la_splitter_t after, split;
        kss_seq_t s;

        if (op == 3)
            off = MIN(off + 7, total);                  /* a hole: these bytes were not captured */
        if (op == 1 || op == 2)
            back = MIN((guint32)off, (guint32)op * 3);  /* sent again from `back` bytes before */
        if (off >= total)
            break;
        len = MIN((guint32)(data[k] & 0x1f) + 1, (guint32)(total - off + back));
        memset(&seg, 0, sizeof seg);
        frame++;
        s.known = op != 7;
        s.seq = base + (guint32)off - back;
        s.nxtseq = s.seq + len;
        if (op == 4) {
            kss_take_cut(&flow, s, &seg);
            FUZZ_CHECK(seg.flags & KSS_F_CUT);
        } else if (kss_take(keep, scratch, &flow, s, stream + off - back, len, frame, (gint64)frame * 1000, &seg,
                            &w, &after)) {
            GString *a, *b;
            FUZZ_CHECK(seg.skip < len);
            a = lines_text(scratch, &w, stream + off - back, len);
            split = seg.start;
            kss_walk(scratch, &split, seg.line, stream + off - back, len, seg.skip, &again);
            b = lines_text(scratch, &again, stream + off - back, len);
            FUZZ_CHECK(a->len == b->len && memcmp(a->str, b->str, a->len) == 0);
            FUZZ_CHECK(memcmp(&split, &after, sizeof split) == 0);
            FUZZ_CHECK(!seg.tail || seg.tail == flow.pending);
            g_string_free(a, TRUE);
            g_string_free(b, TRUE);
        } else {
            FUZZ_CHECK(seg.skip >= len);
        }
        off += len - back;
        wmem_free_all(scratch);
    }
    wmem_free_all(scratch);
    wmem_destroy_allocator(keep);
    return 0;
}
