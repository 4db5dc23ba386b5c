/* packet-keystroke.h
 * Telnet Keystroke Reassembly: its registration, and what it tells the
 * SMTP Lab layer about the frame being dissected.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef PACKET_KEYSTROKE_H
#define PACKET_KEYSTROKE_H

#include <epan/packet.h>

#include "keystroke_stream.h"

/* What the keystroke layer made of this frame's payload (pinfo->pool). */
typedef struct {
    gboolean lines_known;    /* FALSE when every byte was a retransmission */
    gboolean client;
    gboolean seq_known;      /* seq is TCP's sequence number of the segment (relative when TCP's are) */
    guint32 seq;
    gboolean continues_line; /* the first new byte continues a line begun earlier */
    gboolean leaves_line;    /* the segment ends inside a line */
    const guint8 *open_raw;  /* that line's bytes so far */
    guint32 open_raw_len;
    guint32 nlines;
    keystroke_line_t *lines;
    guint32 chunk_bytes;     /* bytes of this segment that belong to a BDAT chunk (not in any line) */
    guint32 telnet_commands;
    const char *telnet_text; /* "<IAC DO Suppress Go Ahead><IAC DO ECHO>" (the first few) */
    gboolean telnet_in_line; /* one of them came after data bytes of its line */
    guint32 enters_crnul;    /* Enter presses of this frame that sent CR NUL and ended no line */
    guint32 enters_cr;       /* ... that sent a bare CR (with two passes also a CR ending the segment) */
    guint32 bare_cr_frame;   /* first pass: an earlier frame whose final CR this one showed to be bare */
    guint32 enters_open;     /* Enter presses that ended no line, became known in this frame (in every pass:
                                a bare CR once the byte after it is seen) and are in the line it leaves
                                unfinished */
    void *conversation;      /* first pass: the frame's conversation_t, found already */
} keystroke_info_t;

/* The keystroke layer's account of the frame being dissected, or NULL when
 * it did not dissect it: kept in the frame's packet-scope proto data
 * (p_set_proto_data(pinfo->pool, ...)), so valid until the end of the
 * frame's dissection and never seen by another frame. */
const keystroke_info_t *keystroke_frame_info(packet_info *pinfo);

/* A segment on a watched port that TCP did not hand to port dissectors
 * (a retransmission or an out-of-order segment, with TCP's preference
 * tcp.no_subdissector_on_error): read like any other when it carries bytes
 * the keystroke layer has not read yet (first pass; seq: TCP's sequence
 * number of its first byte, in the numbering TCP gives the other segments),
 * and in a later pass when keystroke_took_withheld says the first pass read
 * it (seq unused). Returns the frame's keystroke_frame_info, or NULL when
 * the layer leaves the segment to TCP. */
const keystroke_info_t *keystroke_withheld(tvbuff_t *payload, packet_info *pinfo, proto_tree *tree, gboolean client,
                                           guint32 seq);

/* TRUE when the first pass read this frame (through keystroke_withheld,
 * when TCP did not hand it over): a later pass reads it again. */
gboolean keystroke_took_withheld(packet_info *pinfo);

/* The TCP ports the keystroke layer (and so SMTP Lab) watches: the port
 * preference (default 25,587) and any port given to it with Decode As;
 * none while the layer is disabled. Read from TCP's port table at the start
 * of every dissection (the GUI redissects after Decode As or a preference
 * change), then one bit a port. */
extern guint8 keystroke_watched_ports[65536 / 8];

static inline gboolean
keystroke_port_watched(guint32 port)
{
    return port <= G_MAXUINT16 && (keystroke_watched_ports[port >> 3] & (1u << (port & 7))) != 0;
}

void proto_register_keystroke(void);
void proto_reg_handoff_keystroke(void);

#endif /* PACKET_KEYSTROKE_H */
