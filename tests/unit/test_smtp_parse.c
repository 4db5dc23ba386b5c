/* test_smtp_parse.c
 * Unit tests of SMTP command and reply reading.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>
#include <string.h>

#include "smtp_parse.h"

#define U(s) ((const guint8 *)(s)), strlen(s)

static void
test_commands(void)
{
    size_t param = 99;

    g_assert_cmpint(sp_parse_command(U("helo lab.example"), &param), ==, SP_CMD_HELO);
    g_assert_cmpuint(param, ==, 5);
    g_assert_cmpint(sp_parse_command(U("EHLO"), &param), ==, SP_CMD_EHLO);
    g_assert_cmpuint(param, ==, 4);
    g_assert_cmpint(sp_parse_command(U("ehlo   "), &param), ==, SP_CMD_EHLO);
    g_assert_cmpuint(param, ==, 7);
    g_assert_cmpint(sp_parse_command(U("MAIL FROM:<a@b>"), NULL), ==, SP_CMD_MAIL);
    g_assert_cmpint(sp_parse_command(U("StartTLS"), NULL), ==, SP_CMD_STARTTLS);
    g_assert_cmpint(sp_parse_command(U("QUITX"), NULL), ==, SP_CMD_UNKNOWN);
    g_assert_cmpint(sp_parse_command(U("HELP"), NULL), ==, SP_CMD_HELP);
    g_assert_cmpint(sp_parse_command(U("expn root"), NULL), ==, SP_CMD_EXPN);
    g_assert_cmpint(sp_parse_command(U("HELPX"), NULL), ==, SP_CMD_UNKNOWN);
    g_assert_cmpint(sp_parse_command(U(""), NULL), ==, SP_CMD_UNKNOWN);
    g_assert_cmpstr(sp_command_name(SP_CMD_RCPT), ==, "RCPT");
    g_assert_cmpstr(sp_command_name(SP_CMD_UNKNOWN), ==, "unknown");
}

static void
test_guess(void)
{
    g_assert_cmpint(sp_guess_command(U("h")), ==, SP_CMD_HELO);
    g_assert_cmpint(sp_guess_command(U("e")), ==, SP_CMD_EHLO);
    g_assert_cmpint(sp_guess_command(U("q")), ==, SP_CMD_QUIT);
    g_assert_cmpint(sp_guess_command(U("QUI")), ==, SP_CMD_QUIT);
    /* RCPT and RSET both start with R. */
    g_assert_cmpint(sp_guess_command(U("r")), ==, SP_CMD_UNKNOWN);
    g_assert_cmpint(sp_guess_command(U("rs")), ==, SP_CMD_RSET);
    g_assert_cmpint(sp_guess_command(U("hek")), ==, SP_CMD_UNKNOWN);
    g_assert_cmpint(sp_guess_command(U("")), ==, SP_CMD_UNKNOWN);
    g_assert_cmpint(sp_guess_command(U("helo lab")), ==, SP_CMD_HELO);
    g_assert_cmpint(sp_guess_command(U("quitx")), ==, SP_CMD_UNKNOWN);
}

static void
test_replies(void)
{
    sp_reply_t r;

    g_assert_true(sp_parse_reply(U("220 lab.example ESMTP"), &r));
    g_assert_cmpuint(r.code, ==, 220);
    g_assert_true(r.last);
    g_assert_false(r.has_enhanced);
    g_assert_cmpuint(r.text, ==, 4);

    g_assert_true(sp_parse_reply(U("250-SIZE 33554432"), &r));
    g_assert_cmpuint(r.code, ==, 250);
    g_assert_false(r.last);

    g_assert_true(sp_parse_reply(U("554 5.5.4 Invalid command"), &r));
    g_assert_cmpuint(r.code, ==, 554);
    g_assert_true(r.has_enhanced);
    g_assert_cmpuint(r.enh_class, ==, 5);
    g_assert_cmpuint(r.enh_subject, ==, 5);
    g_assert_cmpuint(r.enh_detail, ==, 4);
    g_assert_cmpuint(r.text, ==, 10);

    g_assert_true(sp_parse_reply(U("530 5.7.0 Must issue a STARTTLS command first"), &r));
    g_assert_cmpuint(r.enh_subject, ==, 7);
    g_assert_cmpuint(r.enh_detail, ==, 0);

    /* A bare code is a final line; "250 2.0" is not an enhanced code. */
    g_assert_true(sp_parse_reply(U("250"), &r));
    g_assert_true(r.last);
    g_assert_true(sp_parse_reply(U("250 2.0 ok"), &r));
    g_assert_false(r.has_enhanced);

    g_assert_false(sp_parse_reply(U("hello"), &r));
    g_assert_false(sp_parse_reply(U("25"), &r));
    g_assert_false(sp_parse_reply(U("2500 x"), &r));
    g_assert_false(sp_parse_reply(U("150 x"), &r));
    g_assert_false(sp_parse_reply(U("650 x"), &r));
}

/* A BDAT command's parameter (after "BDAT "), through the reader the line
 * splitter uses. */
static gboolean
sp_parse_bdat(const guint8 *param, size_t len, guint64 *size, gboolean *last)
{
    sp_bdat_reader_t r;
    const char *verb = "BDAT ";
    size_t i;

    sp_bdat_init(&r);
    for (i = 0; verb[i]; i++)
        sp_bdat_step(&r, (guint8)verb[i]);
    for (i = 0; i < len; i++)
        sp_bdat_step(&r, param[i]);
    return sp_bdat_done(&r, size, last);
}

static void
test_bdat(void)
{
    guint64 size;
    gboolean last;

    g_assert_true(sp_parse_bdat(U("86 LAST"), &size, &last));
    g_assert_cmpuint(size, ==, 86);
    g_assert_true(last);
    g_assert_true(sp_parse_bdat(U("1000"), &size, &last));
    g_assert_cmpuint(size, ==, 1000);
    g_assert_false(last);
    g_assert_false(sp_parse_bdat(U("x"), &size, &last));
    g_assert_false(sp_parse_bdat(U("99999999999999999999999"), &size, &last));
    g_assert_true(sp_parse_bdat(U("18446744073709551609"), &size, &last));
    g_assert_cmpuint(size, ==, G_GUINT64_CONSTANT(18446744073709551609));
    /* Strict after the size: postfix answers 521 and reads no chunk. */
    g_assert_false(sp_parse_bdat(U("1234 SCRAMBLE"), &size, &last));
    g_assert_false(sp_parse_bdat(U("1234 LASTX"), &size, &last));
    g_assert_false(sp_parse_bdat(U("1234 LAS"), &size, &last));
    g_assert_false(sp_parse_bdat(U("1234x"), &size, &last));
    g_assert_false(sp_parse_bdat(U("12 34"), &size, &last));
    g_assert_false(sp_parse_bdat(U("+12"), &size, &last));
    g_assert_false(sp_parse_bdat(U("12\tLAST"), &size, &last));
    g_assert_false(sp_parse_bdat(U(""), &size, &last));
    g_assert_false(sp_parse_bdat(U("  "), &size, &last));
    /* Words split at runs of spaces, as servers split them; LAST in any case. */
    g_assert_true(sp_parse_bdat(U("0  last  "), &size, &last));
    g_assert_cmpuint(size, ==, 0);
    g_assert_true(last);
    g_assert_true(sp_parse_bdat(U("7 "), &size, &last));
    g_assert_cmpuint(size, ==, 7);
    g_assert_false(last);
}

/* Feeds a whole line to the byte-at-a-time reader. */
static gboolean
bdat_line(const char *line, guint64 *size, gboolean *last)
{
    sp_bdat_reader_t r;
    size_t i;

    sp_bdat_init(&r);
    for (i = 0; line[i]; i++)
        sp_bdat_step(&r, (guint8)line[i]);
    return sp_bdat_done(&r, size, last);
}

static void
test_bdat_reader(void)
{
    guint64 size;
    gboolean last;

    g_assert_true(bdat_line("BDAT 4404 LAST", &size, &last));
    g_assert_cmpuint(size, ==, 4404);
    g_assert_true(last);
    g_assert_true(bdat_line("bdat 10", &size, &last));
    g_assert_cmpuint(size, ==, 10);
    g_assert_false(last);
    g_assert_true(bdat_line("BdAt   3   LaSt ", &size, &last));
    g_assert_cmpuint(size, ==, 3);
    g_assert_true(last);
    g_assert_false(bdat_line("BDAT 1234 SCRAMBLE", &size, &last));
    g_assert_false(bdat_line("BDAT", &size, &last));
    g_assert_false(bdat_line("BDAT ", &size, &last));
    g_assert_false(bdat_line("BDAT10", &size, &last));
    g_assert_false(bdat_line(" BDAT 10", &size, &last));
    g_assert_false(bdat_line("BDATX 10", &size, &last));
    g_assert_false(bdat_line("DATA", &size, &last));
    g_assert_false(bdat_line("BDAT 10\r", &size, &last));
    g_assert_false(bdat_line("BDAT 10 LAST\xff\xf1", &size, &last));
    g_assert_false(bdat_line("BDAT 10 LAST LAST", &size, &last));
    /* The same rule as sp_parse_bdat, after sp_parse_command's parameter. */
    {
        const char *line = "BDAT  12 LAST";
        size_t param;
        guint64 s2;
        gboolean l2;
        g_assert_cmpint(sp_parse_command(U(line), &param), ==, SP_CMD_BDAT);
        g_assert_true(sp_parse_bdat((const guint8 *)line + param, strlen(line) - param, &s2, &l2));
        g_assert_true(bdat_line(line, &size, &last));
        g_assert_cmpuint(s2, ==, size);
        g_assert_true(l2 == last);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/smtp_parse/commands", test_commands);
    g_test_add_func("/smtp_parse/guess", test_guess);
    g_test_add_func("/smtp_parse/replies", test_replies);
    g_test_add_func("/smtp_parse/bdat", test_bdat);
    g_test_add_func("/smtp_parse/bdat_reader", test_bdat_reader);
    return g_test_run();
}
