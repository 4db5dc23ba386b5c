/* fuzz_line_assembly.c
 * libFuzzer target for the keystroke layer's pure logic: the line splitter
 * with its telnet IAC machine (la_split_next), line editing (la_edit_line)
 * and escaping (esc_*).
 *
 * Input: two bytes that seed the segmentation (the low bit of the first
 * also says whether the lines were typed), then the byte stream. The stream
 * is split once as a whole and once in the segments the seed draws; both
 * must give the same events at the same stream offsets, every byte must
 * belong to exactly one line, the telnet state after the escaped segments
 * must be the splitter's, and every line is edited and escaped.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "escape.h"
#include "fuzz_check.h"
#include "fuzz_pool.h"
#include "line_assembly.h"

typedef struct {
    la_event_kind_t kind;
    size_t offset;      /* stream offset just past the bytes consumed */
    la_eol_t eol;
    guint32 content_len;
    guint32 total_len;
    tn_command_t tn;
} rec_t;

/* Whether the splitter reads the client's side (BDAT chunks), this input. */
static gboolean fuzz_client;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Splits stream[0..len) in segments of the given lengths (summing to len);
 * returns the events, and the splitter and escaping state at the end. */
static GArray *
split(const guint8 *stream, size_t len, const size_t *segs, size_t nsegs, la_splitter_t *s, tn_machine_t *tn)
{
    GArray *recs = g_array_new(FALSE, TRUE, sizeof(rec_t));
    size_t base = 0, k;

    la_split_init(s);
    if (fuzz_client)
        la_split_set_client(s);
    tn_init(tn);
    for (k = 0; k < nsegs; k++) {
        size_t pos = 0, before;
        la_event_t ev;
        char *keys;

        for (;;) {
            before = pos;
            memset(&ev, 0, sizeof ev);
            if (!la_split_next(s, stream + base, segs[k], &pos, &ev))
                break;
            FUZZ_CHECK(pos >= before && pos <= segs[k]);
            /* A chunk comes in as many events as segments carry it: one
             * record, ending where its last bytes do. */
            if (ev.kind == LA_EV_CHUNK && recs->len &&
                g_array_index(recs, rec_t, recs->len - 1).kind == LA_EV_CHUNK &&
                g_array_index(recs, rec_t, recs->len - 1).offset == base + before) {
                g_array_index(recs, rec_t, recs->len - 1).offset = base + pos;
                continue;
            }
            rec_t r;
            memset(&r, 0, sizeof r);
            r.kind = ev.kind;
            r.offset = base + pos;
            if (ev.kind == LA_EV_LINE) {
                r.eol = ev.eol;
                r.content_len = ev.content_len;
                r.total_len = ev.total_len;
            } else if (ev.kind == LA_EV_TELNET) {
                r.tn = ev.tn;
            }
            g_array_append_val(recs, r);
        }
        FUZZ_CHECK(pos == segs[k]);
        /* The segment as shown in keystroke.char. */
        keys = esc_keystrokes(pool, tn, stream + base, segs[k]);
        FUZZ_CHECK(keys != NULL);
        base += segs[k];
    }
    FUZZ_CHECK(base == len);
    return recs;
}

static void
check_line(const guint8 *raw, size_t len, gboolean typed)
{
    la_edit_t ed;
    char *esc_raw, *esc_ed;

    la_edit_line(pool, raw, len, typed, &ed);
    FUZZ_CHECK(ed.len <= len);
    FUZZ_CHECK(ed.backspaces <= len && ed.telnet_commands <= len);
    if (!typed)
        FUZZ_CHECK(ed.backspaces == 0 && ed.line_erases == 0);
    esc_raw = esc_bytes(pool, raw, len);
    esc_ed = esc_bytes(pool, ed.text, ed.len);
    FUZZ_CHECK(strlen(esc_raw) >= len && strlen(esc_raw) <= 4 * len);
    FUZZ_CHECK(strlen(esc_ed) >= ed.len && strlen(esc_ed) <= 4 * (size_t)ed.len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const guint8 *stream;
    size_t len, *segs, nsegs = 0, left, whole[1], i, consumed = 0, line_start = 0;
    unsigned seed;
    gboolean typed;
    la_splitter_t s1, s2;
    tn_machine_t tn1, tn2;
    GArray *a, *b;

    if (size < 2)
        return 0;
    typed = data[0] & 1;
    fuzz_client = (data[0] & 2) != 0;
    seed = (unsigned)data[0] << 8 | data[1];
    stream = data + 2;
    len = size - 2;

    /* Segment lengths: mostly one to four bytes (typing), sometimes long. */
    segs = g_new(size_t, len + 1);
    for (left = len; left > 0; left -= segs[nsegs++]) {
        unsigned r = fuzz_rand(&seed);
        size_t n = (r & 0x30) ? 1 + (r & 3) : 1 + (r >> 8) % 600;
        segs[nsegs] = MIN(n, left);
    }

    whole[0] = len;
    a = split(stream, len, whole, 1, &s1, &tn1);
    b = split(stream, len, segs, nsegs, &s2, &tn2);

    /* The same events wherever the segments end. */
    FUZZ_CHECK(a->len == b->len);
    for (i = 0; i < a->len; i++) {
        const rec_t *x = &g_array_index(a, rec_t, i), *y = &g_array_index(b, rec_t, i);
        FUZZ_CHECK(x->kind == y->kind && x->offset == y->offset);
        FUZZ_CHECK(x->eol == y->eol && x->content_len == y->content_len && x->total_len == y->total_len);
        FUZZ_CHECK(x->tn.cmd == y->tn.cmd && x->tn.option == y->tn.option && x->tn.length == y->tn.length);
    }
    FUZZ_CHECK(s1.cr == s2.cr && s1.line_pos == s2.line_pos && s1.content_len == s2.content_len);
    FUZZ_CHECK(s1.tn.state == s2.tn.state && s1.tn.cmd == s2.tn.cmd && s1.tn.sb_len == s2.tn.sb_len);

    /* Escaping ran the same telnet machine over the same bytes. */
    FUZZ_CHECK(tn2.state == s2.tn.state && tn2.sb_len == s2.tn.sb_len && tn2.sb_have_opt == s2.tn.sb_have_opt);

    /* Every byte is in exactly one line; each line is edited and escaped. */
    for (i = 0; i < a->len; i++) {
        const rec_t *x = &g_array_index(a, rec_t, i);
        if (x->kind == LA_EV_TELNET) {
            char *t = esc_telnet_command(pool, &x->tn);
            FUZZ_CHECK(t[0] == '<' && t[strlen(t) - 1] == '>');
            esc_telnet_command_name(pool, x->tn.cmd);
            if (x->tn.option >= 0)
                esc_telnet_option(pool, (guint8)x->tn.option);
            continue;
        }
        if (x->kind == LA_EV_CHUNK) {
            /* BDAT chunk bytes, between two lines. */
            FUZZ_CHECK(fuzz_client && x->offset > line_start);
            consumed += x->offset - line_start;
            line_start = x->offset;
            continue;
        }
        if (x->kind != LA_EV_LINE)
            continue;
        FUZZ_CHECK(x->total_len > 0 && x->content_len <= x->total_len);
        FUZZ_CHECK(x->total_len - x->content_len == la_eol_length(x->eol));
        FUZZ_CHECK(la_eol_name(x->eol) != NULL);
        FUZZ_CHECK(x->offset == line_start + x->total_len);
        check_line(stream + line_start, x->content_len, typed);
        consumed += x->total_len;
        line_start = x->offset;
    }
    FUZZ_CHECK(consumed + s1.line_pos == len);
    FUZZ_CHECK(la_split_in_line(&s1) == (s1.line_pos > 0));
    if (la_split_in_line(&s1))
        check_line(stream + line_start, len - line_start, typed);

    g_array_free(a, TRUE);
    g_array_free(b, TRUE);
    g_free(segs);
    wmem_free_all(pool);
    return 0;
}
