/* test_telnet_iac.c
 * Unit tests of the telnet IAC state machine.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>
#include <string.h>

#include "telnet_iac.h"

/* Feeds bytes and writes one letter per byte's class: d data, f literal
 * 0xFF, p part, c command, a aborted subnegotiation, n a byte after IAC
 * that is no command. */
static char *
classes(tn_machine_t *m, const guint8 *b, size_t n, tn_command_t *last)
{
    GString *s = g_string_new(NULL);
    size_t i;

    for (i = 0; i < n; i++) {
        tn_command_t c;
        switch (tn_step(m, b[i], &c)) {
        case TN_DATA: g_string_append_c(s, 'd'); break;
        case TN_DATA_FF: g_string_append_c(s, 'f'); break;
        case TN_PART: g_string_append_c(s, 'p'); break;
        case TN_COMMAND: g_string_append_c(s, 'c'); *last = c; break;
        case TN_SB_ABORTED: g_string_append_c(s, 'a'); break;
        case TN_NOT_COMMAND: g_string_append_c(s, 'n'); break;
        }
    }
    return g_string_free(s, FALSE);
}

static void
test_negotiation(void)
{
    /* IAC DO SUPPRESS-GO-AHEAD, IAC DO ECHO, then "h". */
    const guint8 b[] = { 255, 253, 3, 255, 253, 1, 'h' };
    tn_machine_t m;
    tn_command_t c = { 0, 0, 0 };
    char *s;

    tn_init(&m);
    s = classes(&m, b, sizeof b, &c);
    g_assert_cmpstr(s, ==, "ppcppcd");
    g_assert_cmpuint(c.cmd, ==, TN_DO);
    g_assert_cmpint(c.option, ==, 1);
    g_assert_cmpuint(c.length, ==, 3);
    g_assert_cmpstr(tn_command_name(c.cmd), ==, "DO");
    g_assert_cmpstr(tn_option_name(1), ==, "ECHO");
    g_assert_cmpstr(tn_option_name(3), ==, "Suppress Go Ahead");
    g_assert_cmpstr(tn_option_name(24), ==, "Terminal Type");
    g_assert_null(tn_option_name(200));
    g_free(s);
}

static void
test_split_across_calls(void)
{
    /* The machine's state carries IAC WILL over a segment boundary. */
    const guint8 a[] = { 'x', 255 };
    const guint8 b[] = { 251, 24, 'y' };
    tn_machine_t m;
    tn_command_t c = { 0, 0, 0 };
    char *s1, *s2;

    tn_init(&m);
    s1 = classes(&m, a, sizeof a, &c);
    g_assert_cmpuint(m.state, ==, TN_S_IAC);
    s2 = classes(&m, b, sizeof b, &c);
    g_assert_cmpstr(s1, ==, "dp");
    g_assert_cmpstr(s2, ==, "pcd");
    g_assert_cmpuint(c.cmd, ==, TN_WILL);
    g_assert_cmpint(c.option, ==, 24);
    g_free(s1);
    g_free(s2);
}

static void
test_iac_iac_and_two_byte(void)
{
    /* IAC IAC is a data 0xFF; IAC EC, IAC EL, IAC NOP are two-byte commands. */
    const guint8 b[] = { 255, 255, 255, 247, 255, 248, 255, 241 };
    tn_machine_t m;
    tn_command_t c = { 0, 0, 0 };
    char *s;

    tn_init(&m);
    s = classes(&m, b, sizeof b, &c);
    g_assert_cmpstr(s, ==, "pfpcpcpc");
    g_assert_cmpuint(c.cmd, ==, TN_NOP);
    g_assert_cmpint(c.option, ==, -1);
    g_assert_cmpuint(c.length, ==, 2);
    g_assert_cmpstr(tn_command_name(TN_EC), ==, "EC");
    g_assert_cmpstr(tn_command_name(TN_EL), ==, "EL");
    g_assert_null(tn_command_name(7));
    g_free(s);
}

static void
test_iac_then_no_command(void)
{
    /* IAC 0x5e (8-bit data with an undoubled 0xFF) and IAC CR: no telnet
     * command, both bytes data; IAC SE and IAC AYT are commands. */
    const guint8 b[] = { 255, 0x5e, 'a', 255, '\r', 255, 240, 255, 246 };
    tn_machine_t m;
    tn_command_t c = { 0, 0, 0 };
    char *s;

    tn_init(&m);
    s = classes(&m, b, sizeof b, &c);
    g_assert_cmpstr(s, ==, "pndpnpcpc");
    g_assert_cmpuint(c.cmd, ==, TN_AYT);
    g_assert_cmpuint(m.state, ==, TN_S_DATA);
    g_free(s);
}

static void
test_subnegotiation(void)
{
    /* IAC SB TERMINAL-TYPE IS "vt" IAC IAC IAC SE: one SB command. */
    const guint8 b[] = { 255, 250, 24, 0, 'v', 't', 255, 255, 255, 240, 'z' };
    tn_machine_t m;
    tn_command_t c = { 0, 0, 0 };
    char *s;

    tn_init(&m);
    s = classes(&m, b, sizeof b, &c);
    g_assert_cmpstr(s, ==, "pppppppppcd");
    g_assert_cmpuint(c.cmd, ==, TN_SB);
    g_assert_cmpint(c.option, ==, 24);
    g_assert_cmpuint(c.length, ==, 10);
    g_free(s);
}

static void
test_subnegotiation_unterminated(void)
{
    /* IAC SB and then only data: abandoned after TN_SB_MAX bytes. */
    guint8 b[TN_SB_MAX + 4];
    tn_machine_t m;
    tn_command_t c = { 0, 0, 0 };
    char *s;

    memset(b, 'a', sizeof b);
    b[0] = 255;
    b[1] = 250;
    tn_init(&m);
    s = classes(&m, b, sizeof b, &c);
    g_assert_cmpuint(strlen(s), ==, sizeof b);
    g_assert_cmpint(s[TN_SB_MAX + 2], ==, 'a');
    g_assert_cmpint(s[TN_SB_MAX + 1], ==, 'p');
    g_assert_cmpint(s[TN_SB_MAX + 3], ==, 'd');
    g_assert_cmpuint(m.state, ==, TN_S_DATA);
    g_free(s);
}

static void
test_malformed_sb(void)
{
    /* IAC SB ECHO IAC DO ECHO: the SB is malformed, DO ECHO is read. */
    const guint8 b[] = { 255, 250, 1, 255, 253, 1 };
    tn_machine_t m;
    tn_command_t c = { 0, 0, 0 };
    char *s;

    tn_init(&m);
    s = classes(&m, b, sizeof b, &c);
    g_assert_cmpstr(s, ==, "pppppc");
    g_assert_cmpuint(c.cmd, ==, TN_DO);
    g_assert_cmpint(c.option, ==, 1);
    g_free(s);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/telnet_iac/negotiation", test_negotiation);
    g_test_add_func("/telnet_iac/split_across_calls", test_split_across_calls);
    g_test_add_func("/telnet_iac/iac_iac_and_two_byte", test_iac_iac_and_two_byte);
    g_test_add_func("/telnet_iac/iac_then_no_command", test_iac_then_no_command);
    g_test_add_func("/telnet_iac/subnegotiation", test_subnegotiation);
    g_test_add_func("/telnet_iac/subnegotiation_unterminated", test_subnegotiation_unterminated);
    g_test_add_func("/telnet_iac/malformed_sb", test_malformed_sb);
    return g_test_run();
}
