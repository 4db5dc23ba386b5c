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
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/smtp_parse/commands", test_commands);
    g_test_add_func("/smtp_parse/guess", test_guess);
    g_test_add_func("/smtp_parse/replies", test_replies);
    g_test_add_func("/smtp_parse/bdat", test_bdat);
    return g_test_run();
}
