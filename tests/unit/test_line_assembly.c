/* test_line_assembly.c
 * Unit tests of line splitting over any segmentation and of line editing.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>
#include <string.h>

#include "line_assembly.h"
#include "escape.h"

/* Splits a stream given as segments and returns every event as text:
 * "L<eol>:<content_len>/<total_len>" for lines, "E<sent>:<CR position>" for
 * Enter presses that end no line, "T<cmd>" for telnet commands ("T<cmd>+"
 * when data bytes of its line came before it), each
 * followed by "@<segment>". */
static char *
split_segments(const char *const *segs, const size_t *lens, guint nseg)
{
    GString *out = g_string_new(NULL);
    la_splitter_t s;
    guint k;

    la_split_init(&s);
    for (k = 0; k < nseg; k++) {
        size_t pos = 0;
        la_event_t ev;
        while (la_split_next(&s, (const guint8 *)segs[k], lens[k], &pos, &ev)) {
            if (out->len)
                g_string_append_c(out, ' ');
            if (ev.kind == LA_EV_LINE)
                g_string_append_printf(out, "L%s:%u/%u@%u", la_eol_name(ev.eol), ev.content_len, ev.total_len, k);
            else if (ev.kind == LA_EV_ENTER)
                g_string_append_printf(out, "E%s:%u@%u", la_eol_name(ev.eol), ev.content_len, k);
            else if (ev.kind == LA_EV_TELNET)
                g_string_append_printf(out, "T%s%s@%u", tn_command_name(ev.tn.cmd), ev.in_line ? "+" : "", k);
            else
                g_string_append_printf(out, "A@%u", k);
        }
    }
    if (la_split_in_line(&s))
        g_string_append_printf(out, " open:%u", s.line_pos);
    return g_string_free(out, FALSE);
}

static char *
split_one_byte_each(const char *stream, size_t n)
{
    const char **segs = g_new(const char *, n);
    size_t *lens = g_new(size_t, n);
    char *r;
    size_t i;

    for (i = 0; i < n; i++) {
        segs[i] = stream + i;
        lens[i] = 1;
    }
    r = split_segments(segs, lens, (guint)n);
    g_free(segs);
    g_free(lens);
    return r;
}

static void
test_one_byte_segments_crlf(void)
{
    const char stream[] = "helo lab.example\r\nquit\r\n";
    char *r = split_one_byte_each(stream, sizeof stream - 1);

    g_assert_cmpstr(r, ==, "LCRLF:16/18@17 LCRLF:4/6@23");
    g_free(r);
}

static void
test_several_lines_one_segment(void)
{
    const char *segs[] = { "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nhel" };
    size_t lens[] = { strlen(segs[0]) };
    char *r = split_segments(segs, lens, 1);

    g_assert_cmpstr(r, ==, "LCRLF:15/17@0 LCRLF:13/15@0 LCRLF:4/6@0 open:3");
    g_free(r);
}

static void
test_line_endings(void)
{
    /* Only LF ends a line. CR NUL (telnet character mode) and a bare CR
     * (which the next byte reveals) are Enter presses inside the line: the
     * server reads "helo x\r\0quit" up to the bare LF, then "noop\rrset". */
    const char *segs[] = { "helo x\r", "", "\0quit\n", "noop\rrset\r\n" };
    size_t lens[] = { 7, 0, 6, 11 };
    char *r = split_segments(segs, lens, 4);

    g_assert_cmpstr(r, ==, "ECR NUL:6@2 LLF:12/13@2 ECR:4@3 LCRLF:9/11@3");
    g_free(r);
}

static void
test_cr_at_segment_end(void)
{
    /* The CR ends one segment; its LF, or another byte, starts the next. */
    const char *a[] = { "noop\r", "\n" };
    size_t al[] = { 5, 1 };
    const char *b[] = { "noop\r", "x\r\n" };
    size_t bl[] = { 5, 3 };
    char *r = split_segments(a, al, 2);

    g_assert_cmpstr(r, ==, "LCRLF:4/6@1");
    g_free(r);
    r = split_segments(b, bl, 2);
    g_assert_cmpstr(r, ==, "ECR:4@1 LCRLF:6/8@1");
    g_free(r);
}

static void
test_telnet_in_stream(void)
{
    /* Debian telnet in character mode: negotiation, then Enter as CR NUL,
     * which ends no line; an IAC split over two segments; a telnet command
     * whose option byte is 13 (a CR) does not end the line, but one whose
     * option byte is 10 does: the server ends the line at any LF; "toggle
     * crlf" then sends CR LF, which ends a line too. */
    const char *segs[] = { "\xff\xfd\x03\xff\xfd\x01", "h", "i\xff", "\xfb\x0d", "\xff\xfd\x0a", "\r\0", "q", "\r\n" };
    size_t lens[] = { 6, 1, 2, 2, 3, 2, 1, 2 };
    char *r = split_segments(segs, lens, 8);

    g_assert_cmpstr(r, ==, "TDO@0 TDO@0 TWILL+@3 LLF:13/14@4 ECR NUL:0@5 LCRLF:3/5@7");
    g_free(r);
}

static void
test_telnet_inside_line(void)
{
    /* telnet's Ctrl+] send ayt after "helo lab.": the command is in the
     * line. IAC 0x5e is no command: two data bytes. IAC CR LF: the CR is
     * data, so CR LF ends the line. Negotiation before any data is not in
     * a line, even after other commands. */
    const char *segs[] = { "helo lab.", "\xff\xf6", "example\r\n", "\xff\xfb\x03\xff\xfd\x01x\xff^\r\n",
                           "y\xff\r\n" };
    size_t lens[] = { 9, 2, 9, 11, 4 };
    la_edit_t ed;
    wmem_allocator_t *a = wmem_allocator_new(WMEM_ALLOCATOR_STRICT);
    char *r = split_segments(segs, lens, 5);

    g_assert_cmpstr(r, ==, "TAYT+@1 LCRLF:18/20@2 TWILL@3 TDO@3 LCRLF:9/11@3 LCRLF:2/4@4");
    g_free(r);
    {
        /* An unterminated IAC SB holding "quit" CR LF: the server reads a
         * line ended by CR LF, and the CR is no Enter press. */
        const char *sb[] = { "\xff\xfa\x18quit\r\n" };
        size_t sblen[] = { 9 };
        r = split_segments(sb, sblen, 1);
        g_assert_cmpstr(r, ==, "LCRLF:7/9@0");
    }
    la_edit_line(a, (const guint8 *)"x\xff^", 3, TRUE, &ed);
    g_assert_cmpmem(ed.text, ed.len, "x\xff^", 3);
    g_assert_cmpuint(ed.telnet_commands, ==, 0);
    la_edit_line(a, (const guint8 *)"helo lab.\xff\xf6" "example", 18, TRUE, &ed);
    g_assert_cmpmem(ed.text, ed.len, "helo lab.example", 16);
    g_assert_cmpuint(ed.telnet_commands, ==, 1);
    g_assert_cmpstr(esc_line_telnet_commands(a, (const guint8 *)"helo lab.\xff\xf6" "example", 18, 4), ==, "<IAC AYT>");
    g_assert_cmpstr(esc_line_telnet_commands(a, (const guint8 *)"\xff\xf6\xff\xf3\xff\xf1", 6, 2), ==,
                    "<IAC AYT><IAC BRK>...");
    g_assert_null(esc_line_telnet_commands(a, (const guint8 *)"x\xff^\xff\xff", 5, 4));
    /* Only IAC before a command byte (240-254) names a command, with its
     * option as the telnet machine reads it: IAC 0x5e, IAC 0xef, and IAC
     * 0x5e ending a subnegotiation, are data. */
    g_assert_null(esc_line_telnet_commands(a, (const guint8 *)"\xff\xef\xff\x5e", 4, 4));
    g_assert_cmpstr(esc_line_telnet_commands(a, (const guint8 *)"\xff\x5e\xff\xfb\x01\xff\xfa\x18\x00\xff\xf0", 11, 4),
                    ==, "<IAC WILL ECHO><IAC SB Terminal Type>");
    g_assert_null(esc_line_telnet_commands(a, (const guint8 *)"\xff\xfa\x18\xff\x5e", 5, 4));
    g_assert_null(esc_line_telnet_commands(a, (const guint8 *)"", 0, 4));
    wmem_destroy_allocator(a);
    g_free(r);
}

/* Enter presses that ended no line, counted in a line's bytes: a CR inside
 * a telnet command (IAC DO option 13) is none; a CR at the end is a bare CR
 * in a complete line, and not known yet in an open one. */
/* The client's stream split in segments cut at a and b: its events as
 * "L<content_len>/<total_len>", "C<n>" (consecutive chunk events merged),
 * "T<cmd>", "E<sent>", with no segment numbers. */
static char *
split_client(const char *stream, size_t n, size_t a, size_t b)
{
    GString *out = g_string_new(NULL);
    size_t cuts[4] = { 0, a, b, n }, k;
    guint64 chunk = 0;
    la_splitter_t s;

    la_split_init(&s);
    la_split_set_client(&s);
    for (k = 0; k < 3; k++) {
        size_t pos = 0, len = cuts[k + 1] - cuts[k];
        la_event_t ev;
        while (la_split_next(&s, (const guint8 *)stream + cuts[k], len, &pos, &ev)) {
            if (ev.kind == LA_EV_CHUNK) {
                chunk += ev.total_len;
                continue;
            }
            if (chunk)
                g_string_append_printf(out, "C%" G_GUINT64_FORMAT " ", chunk);
            chunk = 0;
            if (ev.kind == LA_EV_LINE)
                g_string_append_printf(out, "L%u/%u ", ev.content_len, ev.total_len);
            else if (ev.kind == LA_EV_TELNET)
                g_string_append_printf(out, "T%s ", tn_command_name(ev.tn.cmd));
            else if (ev.kind == LA_EV_ENTER)
                g_string_append_printf(out, "E%s ", la_eol_name(ev.eol));
        }
    }
    if (chunk)
        g_string_append_printf(out, "C%" G_GUINT64_FORMAT " ", chunk);
    if (s.chunk_left)
        g_string_append_printf(out, "left:%" G_GUINT64_FORMAT, s.chunk_left);
    return g_string_free(out, FALSE);
}

/* The same events over every segmentation in three pieces. */
static void
check_client(const char *stream, size_t n, const char *expected)
{
    size_t a, b;

    for (a = 0; a <= n; a++) {
        for (b = a; b <= n; b++) {
            char *r = split_client(stream, n, a, b);
            if (strcmp(r, expected) != 0)
                g_error("cut at %zu and %zu: \"%s\", expected \"%s\"", a, b, r, expected);
            g_free(r);
        }
    }
}

static void
test_bdat_chunk(void)
{
    /* A segment may hold the end of "BDAT 10 LAST\r\n", the 10 chunk bytes
     * (a LF and telnet command bytes among them) and the next command. */
    static const char s1[] = "BDAT 10 LAST\r\nab\r\n\xff\xf6" "cdefQUIT\r\n";
    /* Bare LF, case, runs of spaces; a chunk of 0 bytes. */
    static const char s2[] = "bdat  2  last \nxybdat 0\r\nNOOP\n";
    /* No chunk after a syntax error, a CR NUL or a telnet command in the
     * line: the server read no valid BDAT command. */
    static const char s3[] = "BDAT 2 SCRAMBLE\r\nBDAT 2\r\0\r\nBDAT 2\xff\xf1\r\nBDAT 2\r\r\n";
    /* A chunk that runs past the end of what was sent. */
    static const char s4[] = "BDAT 99\r\n0123";

    check_client(s1, sizeof s1 - 1, "L12/14 C10 L4/6 ");
    check_client(s2, sizeof s2 - 1, "L14/15 C2 L6/8 L4/5 ");
    check_client(s3, sizeof s3 - 1, "L15/17 ECR NUL L8/10 TNOP L8/10 ECR L7/9 ");
    check_client(s4, sizeof s4 - 1, "L7/9 C4 left:95");
}

static void
test_count_enters(void)
{
    guint32 crnul, cr;

    g_assert_cmpuint(la_count_enters((const guint8 *)"quit\r\0quit", 10, TRUE, &crnul, &cr), ==, 1);
    g_assert_cmpuint(crnul, ==, 1);
    g_assert_cmpuint(la_count_enters((const guint8 *)"a\rb\r", 4, FALSE, &crnul, &cr), ==, 1);
    g_assert_cmpuint(cr, ==, 1);
    g_assert_cmpuint(la_count_enters((const guint8 *)"a\rb\r", 4, TRUE, &crnul, &cr), ==, 2);
    g_assert_cmpuint(la_count_enters((const guint8 *)"\xff\xfd\rhelo", 7, TRUE, &crnul, &cr), ==, 0);
    g_assert_cmpuint(la_count_enters((const guint8 *)"\xff\rx", 3, TRUE, &crnul, &cr), ==, 1);
    g_assert_cmpuint(la_count_enters((const guint8 *)"", 0, TRUE, &crnul, &cr), ==, 0);
}

static void
test_edit_backspaces(void)
{
    const char raw[] = "hekk\b\blo lab.example";
    la_edit_t ed;
    wmem_allocator_t *a = wmem_allocator_new(WMEM_ALLOCATOR_STRICT);

    la_edit_line(a, (const guint8 *)raw, sizeof raw - 1, TRUE, &ed);
    g_assert_cmpuint(ed.len, ==, 16);
    g_assert_cmpmem(ed.text, ed.len, "helo lab.example", 16);
    g_assert_cmpuint(ed.backspaces, ==, 2);
    g_assert_cmpstr(esc_bytes(a, (const guint8 *)raw, sizeof raw - 1), ==, "hekk\\b\\blo lab.example");
    wmem_destroy_allocator(a);
}

static void
test_edit_del_ec_el_and_iac(void)
{
    /* quix DEL t; telnet EC; telnet EL; IAC IAC; negotiation dropped. */
    const guint8 raw1[] = { 'q', 'u', 'i', 'x', 0x7f, 't' };
    const guint8 raw2[] = { 255, 253, 1, 'n', 'o', 'o', 'x', 255, 247, 'p' };
    const guint8 raw3[] = { 'g', 'a', 'r', 'b', 255, 248, 'r', 's', 'e', 't', 255, 255 };
    const guint8 raw4[] = { 0x08, 0x08, 'a' };
    la_edit_t ed;
    wmem_allocator_t *a = wmem_allocator_new(WMEM_ALLOCATOR_STRICT);

    la_edit_line(a, raw1, sizeof raw1, TRUE, &ed);
    g_assert_cmpmem(ed.text, ed.len, "quit", 4);
    g_assert_cmpuint(ed.backspaces, ==, 1);

    la_edit_line(a, raw2, sizeof raw2, TRUE, &ed);
    g_assert_cmpmem(ed.text, ed.len, "noop", 4);
    g_assert_cmpuint(ed.backspaces, ==, 1);
    g_assert_cmpuint(ed.telnet_commands, ==, 2);

    la_edit_line(a, raw3, sizeof raw3 - 2, TRUE, &ed);
    g_assert_cmpmem(ed.text, ed.len, "rset", 4);
    g_assert_cmpuint(ed.backspaces, ==, 0);
    g_assert_cmpuint(ed.line_erases, ==, 1);
    /* A literal 0xFF (IAC IAC, a typed byte that is no UTF-8) is still
     * typing: the erase applies. */
    la_edit_line(a, raw3, sizeof raw3, TRUE, &ed);
    g_assert_cmpmem(ed.text, ed.len, "rset\xff", 5);
    g_assert_cmpuint(ed.line_erases, ==, 1);
    g_assert_cmpuint(ed.telnet_commands, ==, 1);

    /* A server's line is not typed: its BS stays, telnet commands go. */
    la_edit_line(a, raw2, sizeof raw2, FALSE, &ed);
    g_assert_cmpmem(ed.text, ed.len, "nooxp", 5);
    g_assert_cmpuint(ed.backspaces, ==, 0);
    la_edit_line(a, (const guint8 *)"a\bc", 3, FALSE, &ed);
    g_assert_cmpmem(ed.text, ed.len, "a\bc", 3);

    /* Erasing at the start of a line erases nothing but still counts. */
    la_edit_line(a, raw4, sizeof raw4, TRUE, &ed);
    g_assert_cmpmem(ed.text, ed.len, "a", 1);
    g_assert_cmpuint(ed.backspaces, ==, 2);
    wmem_destroy_allocator(a);
}

static void
test_edit_utf8(void)
{
    /* "caf" + e-acute (2 bytes) + BS + "e": one BS erases the whole character. */
    const guint8 raw[] = { 'c', 'a', 'f', 0xc3, 0xa9, 0x08, 'e' };
    la_edit_t ed;
    wmem_allocator_t *a = wmem_allocator_new(WMEM_ALLOCATOR_STRICT);

    la_edit_line(a, raw, sizeof raw, TRUE, &ed);
    g_assert_cmpmem(ed.text, ed.len, "cafe", 4);
    wmem_destroy_allocator(a);
}

static void
test_edit_only_typed_text(void)
{
    /* Typed: UTF-8 (a 3-byte euro sign), TAB, an arrow key's ESC sequence,
     * an Enter's CR NUL and a bare CR, BS, DEL, with telnet commands among
     * them. */
    const guint8 typed[] = { 'a', 0xe2, 0x82, 0xac, '\t', 0x1b, '[', 'D', '\r', 0, 'b', '\r', 'c',
                             255, 241, 0x08, 'x', 0x7f, 'y' };
    /* Binary data: more than two bytes that are no UTF-8 (the start of
     * sv_smtp-errors' junk line, with a BS in it), a NUL without CR. */
    const guint8 junk1[] = { 'g', '\t', 0xe4, 'Y', 0xe9, 'X', 'H', 0xcf, 0xfe, '?', 0x08, 'c' };
    const guint8 junk2[] = { 'a', 0x80, 'b', 0x81, 0x82, 0x7f };
    const guint8 junk3[] = { 'a', 'b', 0x08, 0xe2, 0x82, 0xff, 0x90 };
    const guint8 junk4[] = { 'a', 0, 'b', 0x08, 255, 241 };
    la_edit_t ed;
    wmem_allocator_t *a = wmem_allocator_new(WMEM_ALLOCATOR_STRICT);

    g_assert_true(la_typed_text((const guint8 *)"", 0));
    g_assert_true(la_typed_text((const guint8 *)"h\xc3\xa9\b\x7f", 5));
    g_assert_false(la_typed_text((const guint8 *)"\0", 1));
    /* A few bytes that are no UTF-8 are typing (IAC IAC's 0xFF, Latin-1 é),
     * and so are Ctrl keys (Ctrl+C); more are not. */
    g_assert_true(la_typed_text((const guint8 *)"\xff", 1));
    g_assert_true(la_typed_text((const guint8 *)"caf\xe9 \x03", 6));
    g_assert_true(la_typed_text((const guint8 *)"\xc0\x80", 2));
    g_assert_false(la_typed_text((const guint8 *)"\xc0\x80\xc0", 3));

    la_edit_line(a, typed, sizeof typed, TRUE, &ed);
    g_assert_cmpmem(ed.text, ed.len, "a\xe2\x82\xac\t\x1b[D\r\0b\ry", 13);
    g_assert_cmpuint(ed.backspaces, ==, 2);
    g_assert_cmpuint(ed.telnet_commands, ==, 1);

    la_edit_line(a, junk1, sizeof junk1, TRUE, &ed);
    g_assert_cmpmem(ed.text, ed.len, junk1, sizeof junk1);
    g_assert_cmpuint(ed.backspaces, ==, 0);
    la_edit_line(a, junk2, sizeof junk2, TRUE, &ed);
    g_assert_cmpmem(ed.text, ed.len, junk2, sizeof junk2);
    g_assert_cmpuint(ed.backspaces, ==, 0);
    la_edit_line(a, junk3, sizeof junk3, TRUE, &ed);
    g_assert_cmpmem(ed.text, ed.len, junk3, sizeof junk3);
    g_assert_cmpuint(ed.backspaces, ==, 0);
    /* Telnet commands are still dropped (and counted), none applied. */
    la_edit_line(a, junk4, sizeof junk4, TRUE, &ed);
    g_assert_cmpmem(ed.text, ed.len, "a\0b\b", 4);
    g_assert_cmpuint(ed.backspaces, ==, 0);
    g_assert_cmpuint(ed.telnet_commands, ==, 1);
    wmem_destroy_allocator(a);
}

static void
test_escape_keystrokes(void)
{
    wmem_allocator_t *a = wmem_allocator_new(WMEM_ALLOCATOR_STRICT);
    tn_machine_t tn;
    const guint8 neg[] = { 255, 253, 3, 255, 253, 1 };
    const guint8 keys[] = { 0x08, 0x7f, '\r', '\0', '\\', 0x1b, 0xff, 0xff };
    const guint8 half[] = { 'x', 255, 253 };
    const guint8 rest[] = { 24 };
    const guint8 stray[] = { 'x', 255, 0x5e, 255, 253, '\n', 'y' };

    tn_init(&tn);
    g_assert_cmpstr(esc_keystrokes(a, &tn, neg, sizeof neg), ==, "<IAC DO Suppress Go Ahead><IAC DO ECHO>");
    g_assert_cmpstr(esc_keystrokes(a, &tn, keys, sizeof keys), ==, "<BS><DEL>\\r\\0\\\\\\x1b\\xff");
    g_assert_cmpstr(esc_keystrokes(a, &tn, half, sizeof half), ==, "x<IAC DO ...>");
    g_assert_cmpstr(esc_keystrokes(a, &tn, rest, sizeof rest), ==, "<IAC DO Terminal Type>");
    /* IAC 0x5e is two data bytes; a LF cuts the command it falls in. */
    g_assert_cmpstr(esc_keystrokes(a, &tn, stray, sizeof stray), ==, "x\\xff^\\ny");
    g_assert_cmpstr(esc_bytes(a, (const guint8 *)"a\tb\n\x7f\xff", 6), ==, "a\\tb\\n\\x7f\\xff");
    wmem_destroy_allocator(a);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/line_assembly/one_byte_segments_crlf", test_one_byte_segments_crlf);
    g_test_add_func("/line_assembly/several_lines_one_segment", test_several_lines_one_segment);
    g_test_add_func("/line_assembly/line_endings", test_line_endings);
    g_test_add_func("/line_assembly/cr_at_segment_end", test_cr_at_segment_end);
    g_test_add_func("/line_assembly/telnet_in_stream", test_telnet_in_stream);
    g_test_add_func("/line_assembly/telnet_inside_line", test_telnet_inside_line);
    g_test_add_func("/line_assembly/bdat_chunk", test_bdat_chunk);
    g_test_add_func("/line_assembly/count_enters", test_count_enters);
    g_test_add_func("/line_assembly/edit_backspaces", test_edit_backspaces);
    g_test_add_func("/line_assembly/edit_del_ec_el_and_iac", test_edit_del_ec_el_and_iac);
    g_test_add_func("/line_assembly/edit_utf8", test_edit_utf8);
    g_test_add_func("/line_assembly/edit_only_typed_text", test_edit_only_typed_text);
    g_test_add_func("/escape/keystrokes", test_escape_keystrokes);
    return g_test_run();
}
