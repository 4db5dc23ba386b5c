/* smtp_parse.h
 * Reading SMTP commands (RFC 5321 section 4.1) and replies (section 4.2,
 * enhanced status codes of RFC 3463) from one line. No epan dependency.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SMTP_PARSE_H
#define SMTP_PARSE_H

#include <glib.h>

typedef enum {
    SP_CMD_UNKNOWN = 0,
    SP_CMD_HELO,
    SP_CMD_EHLO,
    SP_CMD_MAIL,
    SP_CMD_RCPT,
    SP_CMD_DATA,
    SP_CMD_RSET,
    SP_CMD_NOOP,
    SP_CMD_VRFY,
    SP_CMD_QUIT,
    SP_CMD_STARTTLS,
    SP_CMD_AUTH,
    SP_CMD_BDAT,
    SP_CMD_EXPN,
    SP_CMD_HELP
} sp_command_t;

/* The command a line starts with (case-insensitive, up to a space or the
 * end); *param is set to the offset of its parameter (after spaces). */
sp_command_t sp_parse_command(const guint8 *line, size_t len, size_t *param);

/* The command that a partly typed line can only become, or SP_CMD_UNKNOWN
 * when the prefix is empty or fits several (HELO and HELP both start "hel":
 * "hel" guesses HELO: EXPN and HELP, seldom typed, are not guessed). */
sp_command_t sp_guess_command(const guint8 *prefix, size_t len);

/* "HELO", "STARTTLS", ... ; "unknown" for SP_CMD_UNKNOWN. */
const char *sp_command_name(sp_command_t cmd);

typedef struct {
    guint16 code;        /* 200..599 */
    gboolean last;       /* "250 " or "250" ends the reply; "250-" goes on */
    gboolean has_enhanced;
    guint8 enh_class;    /* 2, 4 or 5 */
    guint16 enh_subject;
    guint16 enh_detail;
    size_t text;         /* offset of the text after the code (and enhanced code) */
} sp_reply_t;

/* Reads a reply line: three digits, the first 2 to 5, then a space, a
 * hyphen or the end. Returns FALSE when the line is not a reply line. */
gboolean sp_parse_reply(const guint8 *line, size_t len, sp_reply_t *out);

/* A BDAT command line (RFC 3030: "BDAT" SP chunk-size [SP "LAST"], verb
 * and LAST in any case), read one byte at a time, so that a line splitter
 * can tell a BDAT line over any segmentation without keeping its bytes.
 * As servers split a command into words (postfix, Exim), a run of spaces
 * separates the words and may follow the last; anything else after the
 * size ("BDAT 1234 SCRAMBLE"), a size that overflows 64 bits, or any other
 * byte (a telnet command, a CR that ends no line) makes the line no BDAT
 * command: the server answers a syntax error and reads no chunk. */
typedef struct {
    guint8 state;  /* where in the grammar the bytes so far are (smtp_parse.c), or SP_BDAT_NOT */
    guint64 size;  /* the chunk size read so far */
} sp_bdat_reader_t;

/* The reader's state once the line can no longer be a BDAT command. */
#define SP_BDAT_NOT 0xFF

/* TRUE while the bytes read may still be a BDAT command: no need to read
 * further bytes once FALSE. */
static inline gboolean
sp_bdat_possible(const sp_bdat_reader_t *r)
{
    return r->state != SP_BDAT_NOT;
}

/* At the start of a line. */
void sp_bdat_init(sp_bdat_reader_t *r);

/* Reads the line's next byte (its ending excluded). */
void sp_bdat_step(sp_bdat_reader_t *r, guint8 b);

/* TRUE when the bytes read are a whole valid BDAT command line, with its
 * chunk size and whether LAST ends it. */
gboolean sp_bdat_done(const sp_bdat_reader_t *r, guint64 *size, gboolean *last);

#endif /* SMTP_PARSE_H */
