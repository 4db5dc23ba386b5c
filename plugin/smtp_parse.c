/* smtp_parse.c
 * Reading SMTP commands and replies from one line.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "smtp_parse.h"

#include <string.h>

/* The verbs; a partly typed line is guessed only among the guessed ones
 * (EXPN and HELP are seldom typed, and would make "e" and "hel" fit two). */
static const struct {
    const char *name;
    sp_command_t cmd;
    gboolean guessed;
} sp_commands[] = {
    { "HELO", SP_CMD_HELO, TRUE },
    { "EHLO", SP_CMD_EHLO, TRUE },
    { "MAIL", SP_CMD_MAIL, TRUE },
    { "RCPT", SP_CMD_RCPT, TRUE },
    { "DATA", SP_CMD_DATA, TRUE },
    { "RSET", SP_CMD_RSET, TRUE },
    { "NOOP", SP_CMD_NOOP, TRUE },
    { "VRFY", SP_CMD_VRFY, TRUE },
    { "QUIT", SP_CMD_QUIT, TRUE },
    { "STARTTLS", SP_CMD_STARTTLS, TRUE },
    { "AUTH", SP_CMD_AUTH, TRUE },
    { "BDAT", SP_CMD_BDAT, TRUE },
    { "EXPN", SP_CMD_EXPN, FALSE },
    { "HELP", SP_CMD_HELP, FALSE },
};

sp_command_t
sp_parse_command(const guint8 *line, size_t len, size_t *param)
{
    size_t w = 0, p;
    guint i;

    while (w < len && line[w] != ' ')
        w++;
    p = w;
    while (p < len && line[p] == ' ')
        p++;
    if (param)
        *param = p;
    for (i = 0; i < G_N_ELEMENTS(sp_commands); i++) {
        if (strlen(sp_commands[i].name) == w &&
            g_ascii_strncasecmp((const char *)line, sp_commands[i].name, w) == 0)
            return sp_commands[i].cmd;
    }
    return SP_CMD_UNKNOWN;
}

sp_command_t
sp_guess_command(const guint8 *prefix, size_t len)
{
    sp_command_t found = SP_CMD_UNKNOWN;
    guint i, n = 0;

    if (len == 0)
        return SP_CMD_UNKNOWN;
    /* A whole first word decides by itself. */
    if (memchr(prefix, ' ', len))
        return sp_parse_command(prefix, len, NULL);
    for (i = 0; i < G_N_ELEMENTS(sp_commands); i++) {
        size_t nl = strlen(sp_commands[i].name);
        if (sp_commands[i].guessed && len <= nl && g_ascii_strncasecmp((const char *)prefix, sp_commands[i].name, len) == 0) {
            found = sp_commands[i].cmd;
            n++;
        }
    }
    return n == 1 ? found : SP_CMD_UNKNOWN;
}

const char *
sp_command_name(sp_command_t cmd)
{
    guint i;

    for (i = 0; i < G_N_ELEMENTS(sp_commands); i++) {
        if (sp_commands[i].cmd == cmd)
            return sp_commands[i].name;
    }
    return "unknown";
}

/* Reads up to three digits at *p; FALSE when there are none. */
static gboolean
sp_number(const guint8 *line, size_t len, size_t *p, guint16 *out)
{
    size_t start = *p;
    guint v = 0;

    while (*p < len && *p - start < 3 && g_ascii_isdigit(line[*p]))
        v = v * 10 + (guint)(line[(*p)++] - '0');
    *out = (guint16)v;
    return *p > start;
}

gboolean
sp_parse_reply(const guint8 *line, size_t len, sp_reply_t *out)
{
    size_t p;

    memset(out, 0, sizeof *out);
    if (len < 3 || line[0] < '2' || line[0] > '5' || !g_ascii_isdigit(line[1]) || !g_ascii_isdigit(line[2]))
        return FALSE;
    if (len > 3 && line[3] != ' ' && line[3] != '-')
        return FALSE;
    out->code = (guint16)((line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0'));
    out->last = len == 3 || line[3] == ' ';
    p = len > 3 ? 4 : 3;
    out->text = p;

    /* An enhanced status code: class.subject.detail, class matching the reply. */
    if (p + 5 <= len && (line[p] == '2' || line[p] == '4' || line[p] == '5') && line[p + 1] == '.') {
        size_t q = p + 2;
        guint16 subject, detail;
        if (sp_number(line, len, &q, &subject) && q < len && line[q] == '.') {
            q++;
            if (sp_number(line, len, &q, &detail) && (q == len || line[q] == ' ')) {
                out->has_enhanced = TRUE;
                out->enh_class = (guint8)(line[p] - '0');
                out->enh_subject = subject;
                out->enh_detail = detail;
                while (q < len && line[q] == ' ')
                    q++;
                out->text = q;
            }
        }
    }
    return TRUE;
}

/* The states of sp_bdat_reader_t: how much of
 * "BDAT" 1*SP 1*DIGIT [1*SP "LAST"] *SP has been read. */
enum {
    SP_BDAT_VERB = 0,                   /* 0 to 3 letters of "BDAT" read */
    SP_BDAT_VERB_END = 4,               /* "BDAT": a space must follow */
    SP_BDAT_SIZE_START,                 /* "BDAT ": spaces, then a digit */
    SP_BDAT_SIZE,                       /* in the size (a whole command) */
    SP_BDAT_AFTER_SIZE,                 /* spaces after the size (a whole command) */
    SP_BDAT_LAST_WORD,                  /* + 1 to 3: letters of "LAST" read */
    SP_BDAT_LAST = SP_BDAT_LAST_WORD + 4 /* "LAST" and spaces after it (a whole command) */
};                                      /* then SP_BDAT_NOT (smtp_parse.h): no BDAT command */

void
sp_bdat_init(sp_bdat_reader_t *r)
{
    r->state = SP_BDAT_VERB;
    r->size = 0;
}

void
sp_bdat_step(sp_bdat_reader_t *r, guint8 b)
{
    guint8 st = r->state;
    guint8 up = (guint8)g_ascii_toupper(b);

    if (st < SP_BDAT_VERB_END) {
        r->state = up == (guint8)"BDAT"[st] ? st + 1 : SP_BDAT_NOT;
    } else if (st == SP_BDAT_VERB_END) {
        r->state = b == ' ' ? SP_BDAT_SIZE_START : SP_BDAT_NOT;
    } else if (st == SP_BDAT_SIZE_START || st == SP_BDAT_SIZE) {
        if (b == ' ' && st == SP_BDAT_SIZE_START)
            return;
        if (b == ' ') {
            r->state = SP_BDAT_AFTER_SIZE;
        } else if (g_ascii_isdigit(b) && r->size <= (G_MAXUINT64 - 9) / 10) {
            r->size = r->size * 10 + (guint64)(b - '0');
            r->state = SP_BDAT_SIZE;
        } else {
            r->state = SP_BDAT_NOT;
        }
    } else if (st == SP_BDAT_AFTER_SIZE) {
        if (b != ' ')
            r->state = up == 'L' ? SP_BDAT_LAST_WORD + 1 : SP_BDAT_NOT;
    } else if (st > SP_BDAT_LAST_WORD && st < SP_BDAT_LAST) {
        r->state = up == (guint8)"LAST"[st - SP_BDAT_LAST_WORD] ? st + 1 : SP_BDAT_NOT;
    } else if (st == SP_BDAT_LAST) {
        if (b != ' ')
            r->state = SP_BDAT_NOT;
    }
}

gboolean
sp_bdat_done(const sp_bdat_reader_t *r, guint64 *size, gboolean *last)
{
    if (r->state != SP_BDAT_SIZE && r->state != SP_BDAT_AFTER_SIZE && r->state != SP_BDAT_LAST)
        return FALSE;
    *size = r->size;
    *last = r->state == SP_BDAT_LAST;
    return TRUE;
}
