/* escape.c
 * How keystrokes and lines are written for display and for filters.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "escape.h"
#include "ws_compat.h"

#include <string.h>

static void
esc_byte(wmem_strbuf_t *sb, guint8 b)
{
    switch (b) {
    case '\r': wmem_strbuf_append(sb, "\\r"); break;
    case '\n': wmem_strbuf_append(sb, "\\n"); break;
    case '\t': wmem_strbuf_append(sb, "\\t"); break;
    case '\0': wmem_strbuf_append(sb, "\\0"); break;
    case '\b': wmem_strbuf_append(sb, "\\b"); break;
    case '\\': wmem_strbuf_append(sb, "\\\\"); break;
    default:
        if (b >= 0x20 && b < 0x7f)
            wmem_strbuf_append_c(sb, (gchar)b);
        else
            wmem_strbuf_append_printf(sb, "\\x%02x", b);
        break;
    }
}

/* A byte written as it is. */
static inline gboolean
esc_plain(guint8 b)
{
    return b >= 0x20 && b < 0x7f && b != '\\';
}

/* Bytes from buf[i] on that are written as they are. */
static size_t
esc_plain_run(const guint8 *buf, size_t i, size_t len)
{
    size_t j = i;

    while (j < len && esc_plain(buf[j]))
        j++;
    return j - i;
}

char *
esc_bytes(wmem_allocator_t *scope, const guint8 *buf, size_t len)
{
    wmem_strbuf_t *sb;
    size_t i, run = esc_plain_run(buf, 0, len);

    if (run == len)
        return wmem_strndup(scope, (const char *)buf, len);
    sb = wmem_strbuf_new_sized(scope, len + 16);
    for (i = 0; i < len;) {
        run = esc_plain_run(buf, i, len);
        if (run) {
            wmem_strbuf_append_len(sb, (const char *)buf + i, run);
            i += run;
        } else {
            esc_byte(sb, buf[i++]);
        }
    }
    return wmem_strbuf_finalize(sb);
}

char *
esc_telnet_command_name(wmem_allocator_t *scope, guint8 cmd)
{
    const char *name = tn_command_name(cmd);

    return name ? wmem_strdup(scope, name) : wmem_strdup_printf(scope, "0x%02x", cmd);
}

char *
esc_telnet_option(wmem_allocator_t *scope, guint8 option)
{
    const char *name = tn_option_name(option);

    return name ? wmem_strdup(scope, name) : wmem_strdup_printf(scope, "Option %u", option);
}

static void
esc_append_command(wmem_strbuf_t *sb, const tn_command_t *cmd)
{
    const char *name = tn_command_name(cmd->cmd);

    wmem_strbuf_append(sb, "<IAC ");
    if (name)
        wmem_strbuf_append(sb, name);
    else
        wmem_strbuf_append_printf(sb, "0x%02x", cmd->cmd);
    if (cmd->option >= 0) {
        const char *opt = tn_option_name((guint8)cmd->option);
        if (opt)
            wmem_strbuf_append_printf(sb, " %s", opt);
        else
            wmem_strbuf_append_printf(sb, " Option %d", cmd->option);
    }
    wmem_strbuf_append_c(sb, '>');
}

char *
esc_line_telnet_commands(wmem_allocator_t *scope, const guint8 *buf, size_t len, guint max)
{
    wmem_strbuf_t *sb;
    tn_machine_t tn;
    guint n = 0;
    size_t i;

    if (len == 0 || !memchr(buf, TN_IAC, len))
        return NULL;
    sb = wmem_strbuf_new(scope, "");
    tn_init(&tn);
    for (i = 0; i < len; i++) {
        tn_command_t cmd;
        if (tn_step(&tn, buf[i], &cmd) != TN_COMMAND)
            continue;
        if (n++ == max) {
            wmem_strbuf_append(sb, "...");
            break;
        }
        esc_append_command(sb, &cmd);
    }
    if (n == 0) {
        wmem_strbuf_destroy(sb);
        return NULL;
    }
    return wmem_strbuf_finalize(sb);
}

char *
esc_telnet_command(wmem_allocator_t *scope, const tn_command_t *cmd)
{
    wmem_strbuf_t *sb = wmem_strbuf_new(scope, "");

    esc_append_command(sb, cmd);
    return wmem_strbuf_finalize(sb);
}

char *
esc_keystrokes(wmem_allocator_t *scope, tn_machine_t *tn, const guint8 *buf, size_t len)
{
    wmem_strbuf_t *sb = wmem_strbuf_new_sized(scope, len + 16);
    size_t i;

    for (i = 0; i < len; i++) {
        tn_command_t cmd;
        /* Plain text between telnet commands goes in one piece. */
        if (tn->state == TN_S_DATA && esc_plain(buf[i])) {
            size_t run = esc_plain_run(buf, i, len);
            wmem_strbuf_append_len(sb, (const char *)buf + i, run);
            i += run - 1;
            continue;
        }
        if (buf[i] == '\n') {
            /* A LF ends the line even inside a command, and the telnet
             * machine starts afresh (line_assembly.c). */
            tn_init(tn);
            esc_byte(sb, buf[i]);
            continue;
        }
        switch (tn_step(tn, buf[i], &cmd)) {
        case TN_DATA:
            if (buf[i] == 0x08)
                wmem_strbuf_append(sb, "<BS>");
            else if (buf[i] == 0x7f)
                wmem_strbuf_append(sb, "<DEL>");
            else
                esc_byte(sb, buf[i]);
            break;
        case TN_DATA_FF:
            esc_byte(sb, 0xff);
            break;
        case TN_NOT_COMMAND:
            esc_byte(sb, 0xff);
            esc_byte(sb, buf[i]);
            break;
        case TN_COMMAND:
            esc_append_command(sb, &cmd);
            break;
        case TN_SB_ABORTED:
            wmem_strbuf_append(sb, "<IAC SB ... unterminated>");
            break;
        case TN_PART:
            break;
        }
    }

    /* A command that goes on in the next segment. */
    switch (tn->state) {
    case TN_S_IAC:
        wmem_strbuf_append(sb, "<IAC ...>");
        break;
    case TN_S_OPTION:
        wmem_strbuf_append_printf(sb, "<IAC %s ...>", tn_command_name(tn->cmd));
        break;
    case TN_S_SB:
    case TN_S_SB_IAC:
        if (tn->sb_have_opt) {
            const char *opt = tn_option_name(tn->sb_opt);
            if (opt)
                wmem_strbuf_append_printf(sb, "<IAC SB %s ...>", opt);
            else
                wmem_strbuf_append_printf(sb, "<IAC SB Option %u ...>", tn->sb_opt);
        } else {
            wmem_strbuf_append(sb, "<IAC SB ...>");
        }
        break;
    default:
        break;
    }
    return wmem_strbuf_finalize(sb);
}

char *
esc_json(wmem_allocator_t *scope, const char *s)
{
    wmem_strbuf_t *sb = wmem_strbuf_new(scope, "\"");

    for (; *s; s++) {
        guint8 b = (guint8)*s;
        if (b == '"' || b == '\\')
            wmem_strbuf_append_printf(sb, "\\%c", b);
        else if (b < 0x20)
            wmem_strbuf_append_printf(sb, "\\u%04x", b);
        else
            wmem_strbuf_append_c(sb, (gchar)b);
    }
    wmem_strbuf_append_c(sb, '"');
    return wmem_strbuf_finalize(sb);
}
