/* test_keystroke_stream.c
 * Unit tests of one direction's stream as the keystroke layer reads it:
 * new bytes by TCP sequence number, lines across segments, the state kept
 * per segment and the same reading on every pass.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>
#include <string.h>

#include "keystroke_stream.h"
#include "escape.h"

typedef struct {
    wmem_allocator_t *keep;
    wmem_allocator_t *scratch;
    kss_flow_t flow;
    guint32 seq;      /* next sequence number the sender uses */
    guint32 frame;
    gint64 ns;
} stream_t;

static void
stream_init(stream_t *st)
{
    st->keep = wmem_allocator_new(WMEM_ALLOCATOR_STRICT);
    st->scratch = wmem_allocator_new(WMEM_ALLOCATOR_STRICT);
    kss_flow_init(&st->flow);
    st->seq = 1000;
    st->frame = 0;
    st->ns = 0;
}

static void
stream_free(stream_t *st)
{
    wmem_destroy_allocator(st->scratch);
    wmem_destroy_allocator(st->keep);
}

/* The lines one segment completes, as "raw/edited/eol/segments" joined by
 * " | ", read from its walk; "" when none. */
static char *
lines_of(stream_t *st, const kss_walk_t *w, const guint8 *data, gboolean client)
{
    GString *out = g_string_new(NULL);
    guint32 n, i;
    gboolean shared;
    const guint8 *buf;

    if (wmem_array_get_count(w->pieces) == 0)
        return g_string_free(out, FALSE);
    buf = kss_lines_bytes(st->scratch, w, data, &n, &shared);
    for (i = 0; i < wmem_array_get_count(w->pieces); i++) {
        const kss_piece_t *p = (const kss_piece_t *)wmem_array_index(w->pieces, i);
        keystroke_line_t li;
        kss_line_info(st->scratch, buf, kss_piece_offset(w, i), p, client, &li);
        g_string_append_printf(out, "%s%s/%s/%s/%u", i ? " | " : "",
                               esc_bytes(st->scratch, li.raw, li.raw_len),
                               esc_bytes(st->scratch, li.edited, li.edited_len), la_eol_name(li.eol), li.segments);
    }
    return g_string_free(out, FALSE);
}

/* Sends one segment of `len` bytes at sequence number `seq` (the next
 * expected one when seq is 0) through the first pass; checks that walking
 * it again from the kept state gives the same lines; returns the lines. */
static char *
send_at(stream_t *st, guint32 seq, const char *bytes, guint32 len, kss_segment_t *seg_out)
{
    kss_segment_t seg;
    kss_walk_t w, again;
    la_splitter_t after, split;
    kss_seq_t s;
    char *first, *second;

    memset(&seg, 0, sizeof seg);
    s.known = TRUE;
    s.seq = seq ? seq : st->seq;
    s.nxtseq = s.seq + len;
    if (s.nxtseq - st->seq < 0x80000000u)
        st->seq = MAX(st->seq, s.nxtseq);
    st->frame++;
    st->ns += 40000000;
    if (!kss_take(st->keep, st->scratch, &st->flow, s, (const guint8 *)bytes, len, st->frame, st->ns, &seg, &w, &after)) {
        if (seg_out)
            *seg_out = seg;
        return g_strdup("(nothing new)");
    }
    first = lines_of(st, &w, (const guint8 *)bytes, TRUE);
    split = seg.start;
    kss_walk(st->scratch, &split, seg.line, (const guint8 *)bytes, len, seg.skip, &again);
    second = lines_of(st, &again, (const guint8 *)bytes, TRUE);
    g_assert_cmpstr(first, ==, second);
    g_assert_cmpmem(&split, sizeof split, &after, sizeof after);
    g_free(second);
    if (seg_out)
        *seg_out = seg;
    return first;
}

static char *
type_in(stream_t *st, const char *text)
{
    return send_at(st, 0, text, (guint32)strlen(text), NULL);
}

static void
test_typed_line_one_byte_a_segment(void)
{
    stream_t st;
    const char *typed = "helo lab.example\r\n";
    kss_segment_t seg;
    char *r = NULL;
    size_t i;

    stream_init(&st);
    for (i = 0; typed[i]; i++) {
        g_free(r);
        r = send_at(&st, 0, typed + i, 1, &seg);
        if (typed[i + 1]) {
            g_assert_cmpstr(r, ==, "");
            g_assert_nonnull(seg.tail);
        }
        g_assert_cmpuint(seg.start.line_pos, ==, i);
        if (i > 0) {
            g_assert_nonnull(seg.line);
            g_assert_cmpint(seg.interval_ns, ==, 40000000);
        }
    }
    g_assert_cmpstr(r, ==, "helo lab.example/helo lab.example/CRLF/18");
    g_assert_null(seg.tail);
    g_assert_cmpuint(seg.line->completed_in, ==, 18);
    g_assert_cmpuint(seg.line->count, ==, 17);
    g_assert_cmpuint(wmem_array_get_count(seg.line->frames), ==, 17);
    g_assert_cmpint(seg.line->first_ns, ==, 40000000);
    g_assert_null(st.flow.pending);
    g_free(r);
    stream_free(&st);
}

static void
test_backspaces_as_received_and_meant(void)
{
    stream_t st;
    char *r;

    stream_init(&st);
    g_free(type_in(&st, "hekk\b\b"));
    r = type_in(&st, "lo lab.example\r\n");
    g_assert_cmpstr(r, ==, "hekk\\b\\blo lab.example/helo lab.example/CRLF/2");
    g_free(r);
    stream_free(&st);
}

static void
test_several_lines_and_a_tail(void)
{
    stream_t st;
    kss_segment_t seg;
    char *r;

    stream_init(&st);
    r = send_at(&st, 0, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDA", 34, &seg);
    g_assert_cmpstr(r, ==, "MAIL FROM:<a@b>/MAIL FROM:<a@b>/CRLF/1 | RCPT TO:<c@d>/RCPT TO:<c@d>/CRLF/1");
    g_assert_nonnull(seg.tail);
    g_assert_cmpuint(seg.tail->stored, ==, 2);
    g_free(r);
    r = type_in(&st, "TA\r\n");
    g_assert_cmpstr(r, ==, "DATA/DATA/CRLF/2");
    g_free(r);
    stream_free(&st);
}

static void
test_retransmission_whole(void)
{
    stream_t st;
    kss_segment_t seg;
    char *r;

    stream_init(&st);
    g_free(type_in(&st, "helo"));
    r = send_at(&st, 1000, "helo", 4, &seg);
    g_assert_cmpstr(r, ==, "(nothing new)");
    g_assert_cmpuint(seg.skip, ==, 4);
    g_assert_cmpuint(seg.flags, ==, KSS_F_RETRANS);
    g_free(r);
    r = type_in(&st, " x\r\n");
    g_assert_cmpstr(r, ==, "helo x/helo x/CRLF/2");
    g_free(r);
    stream_free(&st);
}

static void
test_retransmission_with_new_bytes(void)
{
    stream_t st;
    kss_segment_t seg;
    char *r;

    stream_init(&st);
    g_free(type_in(&st, "helo "));
    {
        /* Whether a segment TCP withheld is worth reading. */
        kss_seq_t old_bytes = { TRUE, 1002, 1005 }, new_bytes = { TRUE, 1002, 1010 }, unknown = { FALSE, 0, 0 };
        g_assert_false(kss_has_new_bytes(&st.flow, old_bytes));
        g_assert_true(kss_has_new_bytes(&st.flow, new_bytes));
        g_assert_true(kss_has_new_bytes(&st.flow, unknown));
    }
    /* Sent again from "lo ", with "lab\r\n" new. */
    r = send_at(&st, 1002, "lo lab\r\n", 8, &seg);
    g_assert_cmpuint(seg.skip, ==, 3);
    g_assert_cmpuint(seg.flags, ==, KSS_F_RETRANS);
    g_assert_cmpstr(r, ==, "helo lab/helo lab/CRLF/2");
    g_free(r);
    stream_free(&st);
}

/* telnet's Ctrl+] send ayt after "helo lab.": the command is inside the
 * line, the line as received keeps its bytes, the line as meant drops
 * them; negotiation before any typing is not inside a line. */
static void
test_telnet_command_in_line(void)
{
    stream_t st;
    kss_segment_t seg;
    kss_walk_t w;
    la_splitter_t after;
    kss_seq_t s = { TRUE, 0, 0 };
    const guint8 neg[] = { 0xff, 0xfd, 0x03 };
    const guint8 ayt[] = { 0xff, 0xf6 };
    char *r;

    stream_init(&st);
    s.seq = st.seq;
    s.nxtseq = st.seq += 3;
    memset(&seg, 0, sizeof seg);
    g_assert_true(kss_take(st.keep, st.scratch, &st.flow, s, neg, 3, ++st.frame, 0, &seg, &w, &after));
    g_assert_cmpuint(wmem_array_get_count(w.cmds), ==, 1);
    g_assert_false(((const kss_cmd_t *)wmem_array_index(w.cmds, 0))->in_line);
    g_free(type_in(&st, "helo lab."));
    s.seq = st.seq;
    s.nxtseq = st.seq += 2;
    memset(&seg, 0, sizeof seg);
    g_assert_true(kss_take(st.keep, st.scratch, &st.flow, s, ayt, 2, ++st.frame, 0, &seg, &w, &after));
    g_assert_cmpuint(wmem_array_get_count(w.cmds), ==, 1);
    g_assert_true(((const kss_cmd_t *)wmem_array_index(w.cmds, 0))->in_line);
    /* The negotiation segment is in the line's bytes, not among its typed
     * segments: three count, from the first typed byte (position 3). */
    g_assert_cmpuint(seg.line->typed_at, ==, 3);
    g_assert_cmpint(seg.line->first_ns, ==, 40000000); /* "helo lab.", not the negotiation at 0 */
    g_assert_cmpuint(seg.line->count, ==, 2); /* "helo lab." and the IAC AYT */
    r = type_in(&st, "example\r\n");
    g_assert_cmpstr(r, ==, "\\xff\\xfd\\x03helo lab.\\xff\\xf6example/helo lab.example/CRLF/3");
    g_free(r);
    stream_free(&st);
}

static void
test_gap(void)
{
    stream_t st;
    kss_segment_t seg;
    char *r;

    stream_init(&st);
    g_free(type_in(&st, "he"));
    /* "lo" was never captured. */
    r = send_at(&st, 1004, " lab\r\n", 6, &seg);
    g_assert_cmpuint(seg.flags, ==, KSS_F_GAP);
    g_assert_cmpuint(seg.skip, ==, 0);
    g_assert_cmpstr(r, ==, "he lab/he lab/CRLF/2");
    g_free(r);
    stream_free(&st);
}

static void
test_cut_short(void)
{
    stream_t st;
    kss_segment_t seg;
    kss_seq_t s = { TRUE, 1002, 1010 };
    char *r;

    stream_init(&st);
    g_free(type_in(&st, "he"));
    memset(&seg, 0, sizeof seg);
    kss_take_cut(&st.flow, s, &seg);
    g_assert_cmpuint(seg.flags, ==, KSS_F_CUT);
    g_assert_null(st.flow.pending);
    g_assert_false(la_split_in_line(&st.flow.split));
    /* Its sequence numbers were not taken: the next segment follows missing bytes. */
    r = send_at(&st, 1010, "quit\r\n", 6, &seg);
    g_assert_cmpuint(seg.flags, ==, KSS_F_GAP);
    g_assert_cmpstr(r, ==, "quit/quit/CRLF/1");
    g_free(r);
    /* A cut copy of bytes already read changes nothing. */
    memset(&seg, 0, sizeof seg);
    s.seq = 1010;
    s.nxtseq = 1016;
    kss_take_cut(&st.flow, s, &seg);
    g_assert_cmpuint(seg.skip, ==, G_MAXUINT32);
    stream_free(&st);
}

static void
test_cut_lines(void)
{
    wmem_allocator_t *pool = wmem_allocator_new(WMEM_ALLOCATOR_STRICT);
    const char *bytes = "RCPT TO:<a@b>\r\nDAT";
    kss_walk_t w;
    const kss_piece_t *tail;

    kss_cut_lines(pool, (const guint8 *)bytes, 18, &w);
    g_assert_cmpuint(wmem_array_get_count(w.pieces), ==, 2);
    tail = (const kss_piece_t *)wmem_array_index(w.pieces, 1);
    g_assert_cmpint(tail->eol, ==, LA_EOL_NONE);
    g_assert_cmpuint(tail->seg_start, ==, 15);
    g_assert_cmpuint(tail->content_len, ==, 3);
    wmem_destroy_allocator(pool);
}

static void
test_line_over_the_limit(void)
{
    stream_t st;
    guint32 n = LA_MAX_LINE + 100;
    char *big = g_malloc(n);
    kss_segment_t seg;
    kss_walk_t w;
    la_splitter_t after;
    kss_seq_t s = { TRUE, 0, 0 };
    keystroke_line_t li;
    const guint8 *buf;
    guint32 len;
    gboolean shared;

    stream_init(&st);
    memset(big, 'a', n);
    memset(&seg, 0, sizeof seg);
    s.seq = st.seq;
    s.nxtseq = st.seq + n;
    g_assert_true(kss_take(st.keep, st.scratch, &st.flow, s, (const guint8 *)big, n, 1, 1, &seg, &w, &after));
    g_assert_cmpuint(st.flow.pending->stored, ==, LA_MAX_LINE);
    memset(&seg, 0, sizeof seg);
    s.seq = s.nxtseq;
    s.nxtseq += 3;
    g_assert_true(kss_take(st.keep, st.scratch, &st.flow, s, (const guint8 *)"b\r\n", 3, 2, 2, &seg, &w, &after));
    buf = kss_lines_bytes(st.scratch, &w, (const guint8 *)"b\r\n", &len, &shared);
    g_assert_false(shared);
    kss_line_info(st.scratch, buf, 0, (const kss_piece_t *)wmem_array_index(w.pieces, 0), TRUE, &li);
    g_assert_cmpuint(li.total_len, ==, n + 3);
    g_assert_cmpuint(li.dropped, ==, 100);
    g_assert_cmpuint(li.raw_len, ==, LA_MAX_LINE + 1);
    g_assert_cmpuint(li.raw[LA_MAX_LINE], ==, 'b');
    g_free(big);
    stream_free(&st);
}

static void
test_clean_segments(void)
{
    stream_t st;
    kss_segment_t seg;

    stream_init(&st);
    g_free(send_at(&st, 0, "250 OK\r\n", 8, &seg));
    g_assert_true(kss_segment_is_clean(&seg));
    g_free(send_at(&st, 0, "250-a\r\n250", 10, &seg));
    g_assert_false(kss_segment_is_clean(&seg));
    g_free(send_at(&st, 0, " b\r\n", 4, &seg));
    g_assert_false(kss_segment_is_clean(&seg));
    stream_free(&st);
}

/* The BDAT chunk bytes of the last segment sent, from its walk again. */
static guint32
chunk_of(stream_t *st, const kss_segment_t *seg, const char *bytes, guint32 len)
{
    la_splitter_t split = seg->start;
    kss_walk_t w;

    kss_walk(st->scratch, &split, seg->line, (const guint8 *)bytes, len, seg->skip, &w);
    return w.chunk_bytes;
}

static void
test_bdat_chunk(void)
{
    stream_t st;
    kss_segment_t seg;
    char *r;
    const char s1[] = "MAIL FROM:<a@b>\r\nBDAT 10 LAST\r\n01\n34";
    const char s2[] = "\xff\xf6" "789QUIT\r\nBDAT 3\r\n";
    const char s3[] = "a\nbBDAT 2 SCRAMBLE\r\n";
    const char s4[] = "xy\r\n";

    stream_init(&st);
    la_split_set_client(&st.flow.split);
    /* The chunk's LF ends no line; the command after it starts at its end. */
    r = send_at(&st, 0, s1, sizeof s1 - 1, &seg);
    g_assert_cmpstr(r, ==, "MAIL FROM:<a@b>/MAIL FROM:<a@b>/CRLF/1 | BDAT 10 LAST/BDAT 10 LAST/CRLF/1");
    g_assert_cmpuint(chunk_of(&st, &seg, s1, sizeof s1 - 1), ==, 5);
    g_free(r);
    /* Telnet command bytes in a chunk are the message's. */
    r = send_at(&st, 0, s2, sizeof s2 - 1, &seg);
    g_assert_cmpstr(r, ==, "QUIT/QUIT/CRLF/1 | BDAT 3/BDAT 3/CRLF/1");
    g_assert_cmpuint(chunk_of(&st, &seg, s2, sizeof s2 - 1), ==, 5);
    g_free(r);
    /* A refused BDAT (syntax error) is followed by no chunk. */
    r = send_at(&st, 0, s3, sizeof s3 - 1, &seg);
    g_assert_cmpstr(r, ==, "BDAT 2 SCRAMBLE/BDAT 2 SCRAMBLE/CRLF/1");
    g_assert_cmpuint(chunk_of(&st, &seg, s3, sizeof s3 - 1), ==, 3);
    g_free(r);
    r = send_at(&st, 0, s4, sizeof s4 - 1, &seg);
    g_assert_cmpstr(r, ==, "xy/xy/CRLF/1");
    g_assert_true(kss_segment_is_clean(&seg));
    g_free(r);
    stream_free(&st);
}

static void
test_bdat_chunk_gap_and_server(void)
{
    stream_t st;
    kss_segment_t seg;
    char *r;

    /* Missing chunk bytes are counted off the chunk. */
    stream_init(&st);
    la_split_set_client(&st.flow.split);
    r = type_in(&st, "BDAT 8\r\nab");
    g_assert_cmpstr(r, ==, "BDAT 8/BDAT 8/CRLF/1");
    g_free(r);
    r = send_at(&st, st.seq + 4, "ghQUIT\r\n", 8, &seg);
    g_assert_true(seg.flags & KSS_F_GAP);
    g_assert_cmpstr(r, ==, "QUIT/QUIT/CRLF/1");
    g_free(r);
    stream_free(&st);

    /* A server's stream reads no chunk. */
    stream_init(&st);
    r = type_in(&st, "BDAT 2\r\nab\r\n");
    g_assert_cmpstr(r, ==, "BDAT 2/BDAT 2/CRLF/1 | ab/ab/CRLF/1");
    g_free(r);
    stream_free(&st);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/keystroke_stream/typed_line_one_byte_a_segment", test_typed_line_one_byte_a_segment);
    g_test_add_func("/keystroke_stream/backspaces", test_backspaces_as_received_and_meant);
    g_test_add_func("/keystroke_stream/several_lines_and_a_tail", test_several_lines_and_a_tail);
    g_test_add_func("/keystroke_stream/retransmission_whole", test_retransmission_whole);
    g_test_add_func("/keystroke_stream/retransmission_with_new_bytes", test_retransmission_with_new_bytes);
    g_test_add_func("/keystroke_stream/telnet_command_in_line", test_telnet_command_in_line);
    g_test_add_func("/keystroke_stream/gap", test_gap);
    g_test_add_func("/keystroke_stream/cut_short", test_cut_short);
    g_test_add_func("/keystroke_stream/cut_lines", test_cut_lines);
    g_test_add_func("/keystroke_stream/line_over_the_limit", test_line_over_the_limit);
    g_test_add_func("/keystroke_stream/clean_segments", test_clean_segments);
    g_test_add_func("/keystroke_stream/bdat_chunk", test_bdat_chunk);
    g_test_add_func("/keystroke_stream/bdat_chunk_gap_and_server", test_bdat_chunk_gap_and_server);
    return g_test_run();
}
