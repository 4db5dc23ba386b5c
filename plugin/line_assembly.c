/* line_assembly.c
 * Line splitting over any segmentation (lines end at CRLF or LF; CR NUL and
 * bare CR are Enter presses inside a line; telnet commands anywhere) and
 * line editing (BS, DEL, telnet EC and EL); in the client's stream, the
 * bytes of a BDAT chunk after its command line.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "line_assembly.h"

#include <string.h>

/* Bytes that are no UTF-8 a typed line may hold. */
#define LA_TYPED_ODD_MAX 2

void
la_split_init(la_splitter_t *s)
{
    tn_init(&s->tn);
    s->cr = 0;
    s->cr_in_cmd = 0;
    s->data = 0;
    s->line_pos = 0;
    s->content_len = 0;
    s->client = 0;
    sp_bdat_init(&s->bdat);
    s->chunk_left = 0;
}

void
la_split_set_client(la_splitter_t *s)
{
    s->client = 1;
}

gboolean
la_split_is_fresh(const la_splitter_t *s)
{
    sp_bdat_reader_t fresh;

    sp_bdat_init(&fresh);
    return !s->cr && !s->cr_in_cmd && !s->data && !s->line_pos && !s->content_len && !s->chunk_left &&
           s->bdat.state == fresh.state && s->bdat.size == fresh.size && s->tn.state == TN_S_DATA && !s->tn.cmd &&
           !s->tn.sb_opt && !s->tn.sb_have_opt && !s->tn.sb_len;
}

gboolean
la_split_in_line(const la_splitter_t *s)
{
    return s->line_pos > 0;
}

/* Reports the end of the current line and starts the next one, with the
 * telnet machine afresh: a LF ends a line even inside a telnet command.
 * After a valid BDAT command line of the client, its chunk comes first. */
static void
la_end_line(la_splitter_t *s, la_eol_t eol, guint32 content_len, la_event_t *ev)
{
    guint64 size;
    gboolean last;

    if (s->client && sp_bdat_done(&s->bdat, &size, &last))
        s->chunk_left = size;
    sp_bdat_init(&s->bdat);
    tn_init(&s->tn);
    ev->kind = LA_EV_LINE;
    ev->eol = eol;
    ev->content_len = content_len;
    ev->total_len = s->line_pos;
    s->cr = 0;
    s->cr_in_cmd = 0;
    s->data = 0;
    s->line_pos = 0;
    s->content_len = 0;
}

/* Reads a byte of the client's current line (the server reads telnet
 * command bytes as characters too) as part of a BDAT command. */
static inline void
la_read_bdat(la_splitter_t *s, guint8 b)
{
    if (s->client && sp_bdat_possible(&s->bdat))
        sp_bdat_step(&s->bdat, b);
}

gboolean
la_split_next(la_splitter_t *s, const guint8 *buf, size_t len, size_t *pos, la_event_t *ev)
{
    while (*pos < len) {
        guint8 b = buf[*pos];
        tn_command_t cmd;
        tn_class_t cls;

        if (s->chunk_left) {
            /* Chunk bytes are the message's, as they are: no lines, no
             * telnet commands, no keystrokes. */
            guint64 n = MIN(s->chunk_left, (guint64)(len - *pos));
            *pos += (size_t)n;
            s->chunk_left -= n;
            ev->kind = LA_EV_CHUNK;
            ev->total_len = (guint32)n;
            return TRUE;
        }

        if (s->cr) {
            /* The byte after a CR says whether it ends the line: only a LF
             * does. After CR NUL, or a bare CR, the line goes on. */
            s->cr = 0;
            ev->kind = LA_EV_ENTER;
            ev->content_len = s->content_len;
            if (b == '\n') {
                (*pos)++;
                s->line_pos++;
                la_end_line(s, LA_EOL_CRLF, s->content_len, ev);
                return TRUE;
            }
            /* The CR is a byte of the line, as the server reads it. */
            la_read_bdat(s, '\r');
            if (b == '\0') {
                (*pos)++;
                s->line_pos++;
                la_read_bdat(s, b);
                ev->eol = LA_EOL_CRNUL;
                return TRUE;
            }
            ev->eol = LA_EOL_CR;
            return TRUE;
        }

        (*pos)++;
        s->line_pos++;
        if (b == '\n') {
            /* The server ends the line at any LF, even one a telnet client
             * meant as part of a command: that command is cut there. */
            gboolean crlf = s->cr_in_cmd;
            la_end_line(s, crlf ? LA_EOL_CRLF : LA_EOL_LF, s->line_pos - 1 - (crlf ? 1 : 0), ev);
            return TRUE;
        }
        /* A CR waits for the next byte to say whether it ends the line. */
        if (b != '\r')
            la_read_bdat(s, b);
        /* A CR inside a telnet command is no Enter, but with a LF after it
         * the server sees CR LF. */
        s->cr_in_cmd = b == '\r' && (s->tn.state == TN_S_OPTION || s->tn.state == TN_S_SB);
        cls = tn_step(&s->tn, b, &cmd);
        switch (cls) {
        case TN_DATA:
        case TN_NOT_COMMAND:
            s->data = 1;
            if (b == '\r') {
                s->cr = 1;
                s->content_len = s->line_pos - 1;
            }
            break;
        case TN_COMMAND:
            ev->kind = LA_EV_TELNET;
            ev->tn = cmd;
            ev->in_line = s->data;
            return TRUE;
        case TN_SB_ABORTED:
            ev->kind = LA_EV_SB_ABORTED;
            return TRUE;
        case TN_DATA_FF:
            s->data = 1;
            break;
        case TN_PART:
            break;
        }
    }
    return FALSE;
}

guint32
la_count_enters(const guint8 *raw, size_t len, gboolean complete, guint32 *crnul, guint32 *cr)
{
    tn_machine_t tn;
    size_t i;

    *crnul = *cr = 0;
    /* Most lines hold no CR: no need to read their telnet commands. */
    if (len == 0 || !memchr(raw, '\r', len))
        return 0;
    tn_init(&tn);
    for (i = 0; i < len; i++) {
        tn_command_t cmd;
        tn_class_t cls = tn_step(&tn, raw[i], &cmd);
        if (raw[i] != '\r' || (cls != TN_DATA && cls != TN_NOT_COMMAND))
            continue;
        if (i + 1 < len && raw[i + 1] == '\0')
            (*crnul)++;
        else if (i + 1 < len || complete)
            (*cr)++;
    }
    return *crnul + *cr;
}

guint32
la_eol_length(la_eol_t eol)
{
    switch (eol) {
    case LA_EOL_CRLF:
    case LA_EOL_CRNUL:
        return 2;
    case LA_EOL_LF:
    case LA_EOL_CR:
        return 1;
    default:
        return 0;
    }
}

const char *
la_eol_name(la_eol_t eol)
{
    switch (eol) {
    case LA_EOL_CRLF:  return "CRLF";
    case LA_EOL_LF:    return "LF";
    case LA_EOL_CRNUL: return "CR NUL";
    case LA_EOL_CR:    return "CR";
    default:           return NULL;
    }
}

/* Removes the last character: a whole UTF-8 sequence when the erased bytes
 * end one, else one byte. */
static void
la_erase_char(la_edit_t *out)
{
    guint32 n;

    if (out->len == 0)
        return;
    n = out->len - 1;
    if ((out->text[n] & 0xC0) == 0x80) {
        guint32 m = n;
        while (m > 0 && (out->text[m] & 0xC0) == 0x80 && n - m < 3)
            m--;
        if ((out->text[m] & 0xC0) == 0xC0)
            n = m;
    }
    out->len = n;
}

gboolean
la_typed_text(const guint8 *data, size_t len)
{
    size_t i = 0;
    guint odd = 0;

    while (i < len) {
        guint8 b = data[i];
        if (b >= 0x80) {
            /* A whole, valid UTF-8 character; a byte that is none may be a
             * letter of a Latin-1 keyboard (or IAC IAC's 0xFF): a few are
             * typing, more are binary data. */
            gunichar c = g_utf8_get_char_validated((const gchar *)data + i, (gssize)(len - i));
            if (c == (gunichar)-1 || c == (gunichar)-2) {
                if (++odd > LA_TYPED_ODD_MAX)
                    return FALSE;
                i++;
                continue;
            }
            i += (size_t)g_utf8_skip[b];
            continue;
        }
        /* Ctrl keys send C0 bytes; only NUL comes from no key, but from an
         * Enter that sent CR NUL. */
        if (b == '\0' && !(i > 0 && data[i - 1] == '\r'))
            return FALSE;
        i++;
    }
    return TRUE;
}

/* A line's data bytes into out, its telnet commands dropped and counted;
 * with edits, BS, DEL, telnet EC and EL applied. */
static void
la_walk_line(const guint8 *raw, size_t len, gboolean edits, la_edit_t *out)
{
    tn_machine_t tn;
    size_t i;

    out->len = 0;
    out->backspaces = 0;
    out->line_erases = 0;
    out->telnet_commands = 0;
    tn_init(&tn);
    for (i = 0; i < len; i++) {
        tn_command_t cmd;
        switch (tn_step(&tn, raw[i], &cmd)) {
        case TN_DATA:
            if (edits && (raw[i] == 0x08 || raw[i] == 0x7f)) {
                out->backspaces++;
                la_erase_char(out);
            } else {
                out->text[out->len++] = raw[i];
            }
            break;
        case TN_DATA_FF:
            out->text[out->len++] = 0xff;
            break;
        case TN_NOT_COMMAND:
            /* The IAC before it was data, and so is this byte. */
            out->text[out->len++] = 0xff;
            out->text[out->len++] = raw[i];
            break;
        case TN_COMMAND:
            out->telnet_commands++;
            if (edits && cmd.cmd == TN_EC) {
                out->backspaces++;
                la_erase_char(out);
            } else if (edits && cmd.cmd == TN_EL) {
                out->line_erases++;
                out->len = 0;
            }
            break;
        case TN_PART:
        case TN_SB_ABORTED:
            break;
        }
    }
}

void
la_edit_line(wmem_allocator_t *scope, const guint8 *raw, size_t len, gboolean typed, la_edit_t *out)
{
    out->text = (guint8 *)wmem_alloc(scope, len ? len : 1);
    /* Most lines hold no IAC (0xFF), BS or DEL: nothing to drop or apply. */
    if (len == 0 || (!memchr(raw, 0xff, len) && !memchr(raw, 0x08, len) && !memchr(raw, 0x7f, len))) {
        if (len)
            memcpy(out->text, raw, len);
        out->len = (guint32)len;
        out->backspaces = out->line_erases = out->telnet_commands = 0;
        return;
    }
    la_walk_line(raw, len, FALSE, out);
    /* Erases are keystrokes only where a person typed. */
    if (typed && la_typed_text(out->text, out->len))
        la_walk_line(raw, len, TRUE, out);
}
