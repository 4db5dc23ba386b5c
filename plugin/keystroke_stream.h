/* keystroke_stream.h
 * One direction of a TCP connection as the keystroke layer reads it, with
 * no epan dependency: which bytes of a segment are new (TCP sequence
 * numbers: retransmissions, gaps, segments cut short by the capture), the
 * line being typed across segments, and what the line splitter finds in
 * one segment.
 *
 * The first pass (kss_take) keeps, per segment, the state at its first new
 * byte (kss_segment_t); any pass reads the segment again from that state
 * (kss_walk) and finds the same, so a frame's lines are the same whenever
 * and in whatever order it is drawn.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KEYSTROKE_STREAM_H
#define KEYSTROKE_STREAM_H

#include <glib.h>
#include <wsutil/wmem/wmem.h>

#include "line_assembly.h"

/* Frame numbers kept per line for keystroke.segment; the count goes on. */
#define KSS_MAX_SEGMENTS 65536

/* A line whose bytes arrive in more than one segment. */
typedef struct {
    guint8 *bytes;         /* the bytes of the segments before the completing one, at most LA_MAX_LINE */
    guint32 stored;
    guint32 capacity;      /* bytes allocated */
    wmem_array_t *frames;  /* guint32 frame numbers of those segments (at most KSS_MAX_SEGMENTS) */
    guint32 count;         /* how many segments those were */
    guint32 completed_in;  /* the frame that completes the line; 0 until it is seen */
    gint64 first_ns;       /* time of its first keystroke, ns */
    guint32 typed_at;      /* position in the line of the first segment that carried a typed byte; segments
                              before it held telnet commands only and are not counted in frames, count,
                              first_ns */
} kss_line_t;

/* One direction of a connection, as the first pass has read it so far. */
typedef struct {
    la_splitter_t split;
    kss_line_t *pending;   /* the line not yet ended, NULL between lines */
    gint64 last_ns;        /* time of the pending line's last keystroke */
    guint32 next_seq;
    gboolean seq_known;
    guint32 cr_frame;      /* the segment that ended with a CR whose next byte is still to come, or 0 */
} kss_flow_t;

#define KSS_F_RETRANS 0x01 /* some leading bytes were seen before */
#define KSS_F_GAP     0x02 /* bytes before this segment are missing */
#define KSS_F_CUT     0x04 /* the capture cut the segment short */
#define KSS_F_BARE_CR 0x08 /* the segment's last byte is a CR that the next byte showed to end nothing */

/* What the first pass keeps of one segment, for the whole capture. */
typedef struct {
    la_splitter_t start;   /* splitter state at the first new byte */
    guint32 skip;          /* leading bytes already seen */
    guint8 flags;
    guint8 layer;          /* the caller's layer number (low byte) */
    kss_line_t *line;      /* the line the segment continues, NULL at a line start */
    kss_line_t *tail;      /* the line the segment leaves unfinished, or NULL */
    gint64 interval_ns;    /* since the previous keystroke of `line` */
} kss_segment_t;

/* A line completed in a segment. */
typedef struct {
    guint32 seg_start;     /* its bytes in this segment: [seg_start, seg_end) */
    guint32 seg_end;
    kss_line_t *prefix;    /* its earlier bytes, or NULL */
    guint32 prefix_len;    /* bytes of the line before this segment */
    la_eol_t eol;
    guint32 content_len;
    guint32 total_len;
} kss_piece_t;

/* A telnet command of a segment. */
typedef struct {
    guint32 end;           /* offset just past the command's last byte */
    tn_command_t cmd;
    gboolean in_line;      /* data bytes of its line came before it */
} kss_cmd_t;

/* An Enter press that ended no line: CR NUL, or a bare CR. */
typedef struct {
    guint32 end;           /* offset just past its last byte in this segment (0: the CR ended an earlier one) */
    la_eol_t sent;         /* LA_EOL_CRNUL or LA_EOL_CR */
    gboolean earlier;      /* its CR was the last byte of an earlier segment */
} kss_enter_t;

/* Bytes of a BDAT chunk in a segment: [start, end). */
typedef struct {
    guint32 start;
    guint32 end;
} kss_chunk_t;

/* Everything one run of the splitter over a segment found. */
typedef struct {
    wmem_array_t *pieces;  /* kss_piece_t */
    wmem_array_t *cmds;    /* kss_cmd_t */
    wmem_array_t *enters;  /* kss_enter_t */
    wmem_array_t *chunks;  /* kss_chunk_t, in order */
    guint32 tail_start;    /* first byte of the unfinished line, when there is one */
    gboolean sb_aborted;
    guint32 chunk_bytes;   /* bytes of BDAT chunks (the sum of chunks): in no line */
    guint32 bare_cr_frame; /* kss_take only: the earlier segment whose final CR this one showed to be
                              a bare CR (its record then gets KSS_F_BARE_CR), or 0 */
} kss_walk_t;

/* The TCP sequence numbers of a segment, when TCP gave them. */
typedef struct {
    gboolean known;
    guint32 seq;
    guint32 nxtseq;
} kss_seq_t;

/* A line completed in a segment, as the server received it and as meant. */
typedef struct {
    const guint8 *raw;       /* as the server received it, ending excluded */
    guint32 raw_len;
    const guint8 *edited;    /* as the person meant it */
    guint32 edited_len;
    guint32 total_len;       /* bytes of the line, ending included */
    guint32 dropped;         /* bytes over the line limit that were not kept */
    la_eol_t eol;
    guint32 backspaces;
    guint32 segments;
} keystroke_line_t;

/* A direction at its start; for the client's, la_split_set_client(&flow->split)
 * then says that BDAT chunks are read in it. */
void kss_flow_init(kss_flow_t *flow);

/* Runs the splitter over data[skip..len) from state *split, which it
 * advances; `line` is the line the segment continues. */
void kss_walk(wmem_allocator_t *scope, la_splitter_t *split, kss_line_t *line,
              const guint8 *data, guint32 len, guint32 skip, kss_walk_t *w);

/* First pass over a whole segment of the flow: works out which bytes are
 * new, fills *seg (the state to keep), and moves the flow past the segment,
 * keeping the unfinished line's bytes in `keep` (file scope). When it read
 * the segment it returns TRUE, with *w that reading (in `scratch`) and
 * *split_after the splitter state after it; w->bare_cr_frame names an
 * earlier segment that ended with a CR which ended nothing. */
gboolean kss_take(wmem_allocator_t *keep, wmem_allocator_t *scratch, kss_flow_t *flow, kss_seq_t seq,
                  const guint8 *data, guint32 len, guint32 frame, gint64 ts_ns,
                  kss_segment_t *seg, kss_walk_t *w, la_splitter_t *split_after);

/* TRUE when the segment may carry bytes the flow has not read (always when
 * either sequence number is unknown). */
gboolean kss_has_new_bytes(const kss_flow_t *flow, kss_seq_t seq);

/* First pass over a segment the capture cut short: the bytes it lacks may
 * end the line being typed, so that line is dropped and the next segment
 * starts a new one; its sequence numbers are not taken, so the next
 * segment follows missing bytes. A cut retransmission of bytes already
 * read changes nothing (seg->skip is then G_MAXUINT32). */
void kss_take_cut(kss_flow_t *flow, kss_seq_t seq, kss_segment_t *seg);

/* TRUE for the record of a segment that starts a line afresh and leaves
 * none unfinished, from a fresh state: such records can be shared by the
 * segments of one side (the state says whose stream it splits). */
gboolean kss_segment_is_clean(const kss_segment_t *seg);

/* Bytes of a piece's line kept from earlier segments. */
guint32 kss_prefix_kept(const kss_piece_t *p);

/* The bytes of all lines a segment completes, as one buffer (in scope):
 * the kept bytes of the first line's earlier segments, then the segment's
 * bytes to the end of its last line, or of the BDAT chunk bytes after it
 * (chunk bytes between lines included, as the server received them:
 * kss_piece_offset). *shared is TRUE when that is a part
 * of data itself (the first line began in this segment). */
const guint8 *kss_lines_bytes(wmem_allocator_t *scope, const kss_walk_t *w, const guint8 *data,
                              guint32 *len_out, gboolean *shared);

/* Where piece i of w starts in the buffer of kss_lines_bytes: BDAT chunk
 * bytes may lie between two lines. */
guint32 kss_piece_offset(const kss_walk_t *w, guint i);

/* One completed line from the buffer of kss_lines_bytes at offset off:
 * what the server received, what was meant (edits applied when client). */
void kss_line_info(wmem_allocator_t *scope, const guint8 *buf, guint32 off, const kss_piece_t *p,
                   gboolean client, keystroke_line_t *out);

/* The lines of a segment cut short, read on their own from its captured
 * bytes, the last one ending where the capture does (eol LA_EOL_NONE). */
void kss_cut_lines(wmem_allocator_t *scope, const guint8 *data, guint32 len, kss_walk_t *w);

#endif /* KEYSTROKE_STREAM_H */
