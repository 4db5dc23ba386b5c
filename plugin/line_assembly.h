/* line_assembly.h
 * Splits the byte stream of one direction of a connection into lines, over
 * any segmentation, and works out what a typed line meant once its erase
 * keystrokes and telnet commands are applied. No epan dependency.
 *
 * A line ends where an SMTP server ends it: at LF (CR LF, or a bare LF).
 * An Enter press that sends CR NUL (telnet character mode) or a bare CR
 * (a raw terminal) ends nothing: its bytes stay in the line, and the
 * splitter reports it as an Enter event.
 *
 * In the client's stream, a line the server reads as a valid BDAT command
 * (RFC 3030, smtp_parse.h) is followed by its chunk: that many bytes, read
 * by the server as they are, in no line and with no telnet command in
 * them. The command after the chunk starts just past its last byte.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef LINE_ASSEMBLY_H
#define LINE_ASSEMBLY_H

#include <glib.h>
#include <wsutil/wmem/wmem.h>

#include "smtp_parse.h"
#include "telnet_iac.h"

/* The most bytes of one line that are kept; the rest is counted, not kept. */
#define LA_MAX_LINE 65536

/* How a line ended (CRLF, LF), or what an Enter press that ended no line
 * sent (CR NUL, CR). */
typedef enum {
    LA_EOL_NONE = 0,
    LA_EOL_CRLF,
    LA_EOL_CRNUL,
    LA_EOL_LF,
    LA_EOL_CR
} la_eol_t;

/* The splitter's whole state: small and copyable. */
typedef struct {
    tn_machine_t tn;
    guint8 cr;           /* the last data byte was a CR: the next one says whether it ends the line */
    guint8 data;         /* the current line holds a data byte (not only telnet commands) */
    guint8 cr_in_cmd;    /* the last byte was a CR inside a telnet command */
    guint32 line_pos;    /* bytes of the current line consumed so far */
    guint32 content_len; /* line_pos at the pending CR */
    guint8 client;       /* the client's stream: a BDAT command line is followed by its chunk */
    sp_bdat_reader_t bdat; /* the current line read as a BDAT command (client's stream only) */
    guint64 chunk_left;  /* bytes of a BDAT chunk still to come */
} la_splitter_t;

typedef enum {
    LA_EV_TELNET,      /* a telnet command was completed */
    LA_EV_SB_ABORTED,  /* a subnegotiation without IAC SE was abandoned */
    LA_EV_LINE,        /* a line was completed */
    LA_EV_ENTER,       /* a CR NUL or a bare CR that ends no line */
    LA_EV_CHUNK        /* bytes of a BDAT chunk (client's stream only) */
} la_event_kind_t;

typedef struct {
    la_event_kind_t kind;
    tn_command_t tn;     /* LA_EV_TELNET */
    gboolean in_line;    /* LA_EV_TELNET: the line held data bytes before the command */
    la_eol_t eol;        /* LA_EV_LINE: CRLF or LF; LA_EV_ENTER: CR NUL or CR */
    guint32 content_len; /* LA_EV_LINE: bytes of the line before its ending;
                            LA_EV_ENTER: the CR's position in the line (0-based) */
    guint32 total_len;   /* LA_EV_LINE: bytes of the line, ending included;
                            LA_EV_CHUNK: bytes of the chunk consumed */
} la_event_t;

/* A splitter of a server's stream, at its start. */
void la_split_init(la_splitter_t *s);

/* Says that s splits the client's stream, where BDAT chunks are read. */
void la_split_set_client(la_splitter_t *s);

/* TRUE when s is as la_split_init leaves it (whichever side it splits):
 * between lines, outside a chunk, with nothing pending. */
gboolean la_split_is_fresh(const la_splitter_t *s);

/* Scans buf[*pos..len); stops after the next event and returns TRUE, with
 * *pos just past the bytes consumed, or returns FALSE at the end of buf.
 * A bare CR is reported (LA_EV_ENTER) when the byte after it is seen, which
 * is then not yet consumed; a CR at the end of buf waits for that byte.
 * The bytes of a BDAT chunk in buf are one LA_EV_CHUNK event. */
gboolean la_split_next(la_splitter_t *s, const guint8 *buf, size_t len, size_t *pos, la_event_t *ev);

/* TRUE while the splitter is inside a line (some of its bytes consumed). */
gboolean la_split_in_line(const la_splitter_t *s);

/* The Enter presses that ended no line in a line's bytes (its ending
 * excluded): data CRs followed by NUL (*crnul) or by anything else (*cr);
 * a CR inside a telnet command is none. A CR that is the last byte counts
 * as a bare CR when the line is complete (the CR of its ending followed),
 * and not at all while the line goes on (its next byte is still to come).
 * Returns *crnul + *cr. */
guint32 la_count_enters(const guint8 *raw, size_t len, gboolean complete, guint32 *crnul, guint32 *cr);

/* Bytes of the line ending. */
guint32 la_eol_length(la_eol_t eol);

/* "CRLF", "LF", "CR NUL", "CR"; NULL for LA_EOL_NONE. */
const char *la_eol_name(la_eol_t eol);

/* A line as the person meant it. */
typedef struct {
    guint8 *text;          /* edited bytes (not NUL-terminated), allocated in scope */
    guint32 len;
    guint32 backspaces;    /* BS, DEL and telnet EC */
    guint32 line_erases;   /* telnet EL */
    guint32 telnet_commands;
} la_edit_t;

/* TRUE when a line's data bytes (telnet commands dropped) can be text a
 * person typed: valid UTF-8 (printable, or C0 bytes that Ctrl keys send:
 * TAB, ESC of the arrow keys, the erase keys BS and DEL, Ctrl+C), with at
 * most two bytes that are no UTF-8 (a Latin-1 letter, IAC IAC's 0xFF), and
 * no NUL but the one of an Enter that sent CR NUL. Binary data (random
 * bytes, a table of numbers) is no typing. */
gboolean la_typed_text(const guint8 *data, size_t len);

/* Drops telnet commands from a line's bytes (its ending excluded) and, when
 * typed is TRUE and the rest is typed text (la_typed_text), applies BS,
 * DEL, telnet EC and EL; an erase removes one whole UTF-8 character. Lines
 * a server sent are not typed, and binary data is no typing: their BS and
 * DEL bytes stay, and no erase is counted. */
void la_edit_line(wmem_allocator_t *scope, const guint8 *raw, size_t len, gboolean typed, la_edit_t *out);

#endif /* LINE_ASSEMBLY_H */
