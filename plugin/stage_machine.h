/* stage_machine.h
 * The SMTP Lab stage machine: given the frames of one TCP connection in
 * capture order (TCP flags and sequence numbers, and the lines the keystroke
 * layer completed), says which session stage each frame belongs to, links
 * commands to their replies, and raises the stage markers and diagnoses.
 * No epan dependency: the dissector feeds it and draws what it decided.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef STAGE_MACHINE_H
#define STAGE_MACHINE_H

#include <glib.h>
#include <wsutil/nstime.h>
#include <wsutil/wmem/wmem.h>

#include "smtp_parse.h"
#include "tcp_track.h"

/* Stages: the lab's, in lab order, then the rest. */
typedef enum {
    SM_ST_NONE = 0,
    SM_ST_HANDSHAKE,
    SM_ST_BANNER,
    SM_ST_HELO,
    SM_ST_HELO_REPLY,
    SM_ST_QUIT,
    SM_ST_QUIT_REPLY,
    SM_ST_TEARDOWN,
    SM_ST_MAIL,
    SM_ST_MAIL_REPLY,
    SM_ST_RCPT,
    SM_ST_RCPT_REPLY,
    SM_ST_DATA,
    SM_ST_DATA_REPLY,
    SM_ST_MESSAGE,
    SM_ST_MESSAGE_REPLY,
    SM_ST_RSET,
    SM_ST_RSET_REPLY,
    SM_ST_NOOP,
    SM_ST_NOOP_REPLY,
    SM_ST_VRFY,
    SM_ST_VRFY_REPLY,
    SM_ST_STARTTLS,
    SM_ST_STARTTLS_REPLY,
    SM_ST_AUTH,
    SM_ST_AUTH_REPLY,
    SM_ST_BDAT,
    SM_ST_BDAT_REPLY,
    SM_ST_EXPN,
    SM_ST_EXPN_REPLY,
    SM_ST_HELP,
    SM_ST_HELP_REPLY,
    SM_ST_UNKNOWN,
    SM_ST_UNKNOWN_REPLY,
    SM_ST_TLS,
    SM_ST_COUNT
} sm_stage_t;

#define SM_LAB_STAGES 7 /* SM_ST_HANDSHAKE .. SM_ST_TEARDOWN */
#define SM_PROGRESS_ALL ((1u << SM_LAB_STAGES) - 1)

typedef enum {
    SM_ROLE_NONE = 0,
    SM_ROLE_SYN,
    SM_ROLE_SYN_ACK,
    SM_ROLE_ACK,
    SM_ROLE_KEYSTROKE,
    SM_ROLE_LINE,
    SM_ROLE_REPLY,
    SM_ROLE_FIN,
    SM_ROLE_RST,
    SM_ROLE_DATA
} sm_role_t;

/* Stage markers and diagnoses: one table (sm_note_info) says what each is. */
typedef enum {
    SM_MARK_HANDSHAKE = 0,
    SM_MARK_BANNER,
    SM_MARK_HELO,
    SM_MARK_HELO_REPLY,
    SM_MARK_QUIT,
    SM_MARK_QUIT_REPLY,
    SM_DIAG_PORT_BLOCKED,
    SM_DIAG_CR_NUL,
    SM_DIAG_EDITING,
    SM_DIAG_TELNET_NEGOTIATION,
    SM_DIAG_HELO_NO_DOMAIN,
    SM_DIAG_STARTTLS_REQUIRED,
    SM_DIAG_ERROR_REPLY,
    SM_DIAG_NO_REPLY,
    SM_DIAG_NO_QUIT,
    SM_DIAG_BARE_CR,
    SM_DIAG_MALFORMED_REPLY,
    SM_DIAG_ONE_DIRECTION,
    SM_DIAG_SLOW_REPLY,
    SM_NOTE_COUNT
} sm_note_kind_t;

#define SM_NOTE_IS_DIAG(kind) ((kind) >= SM_DIAG_PORT_BLOCKED)

/* Expert Info groups and severities, named here without epan. */
typedef enum { SM_GROUP_SEQUENCE, SM_GROUP_PROTOCOL, SM_GROUP_SECURITY, SM_GROUP_RESPONSE_CODE, SM_GROUP_MALFORMED } sm_group_t;
typedef enum { SM_SEV_CHAT, SM_SEV_NOTE, SM_SEV_WARN } sm_severity_t;

/* What a marker or diagnosis is, whatever frame it is on. */
typedef struct {
    const char *filter;      /* "smtplab.stage.helo", "smtplab.diag.cr_nul" */
    const char *summary;     /* the expert item's summary */
    guint activity;          /* the lab activity a stage marker marks; 0 for diagnoses */
    sm_group_t group;
    sm_severity_t severity;
} sm_note_info_t;

const sm_note_info_t *sm_note_info(sm_note_kind_t kind);

/* TCP flags, as in the TCP header. */
#define SM_TH_FIN TT_TH_FIN
#define SM_TH_SYN TT_TH_SYN
#define SM_TH_RST TT_TH_RST
#define SM_TH_ACK TT_TH_ACK

/* A line the keystroke layer completed. */
typedef struct {
    const guint8 *raw;      /* as received, ending excluded */
    size_t raw_len;
    const guint8 *edited;   /* as meant */
    size_t edited_len;
    guint32 total_len;      /* bytes of the line, ending included */
    guint32 backspaces;
    guint32 segments;       /* how many segments carried it */
} sm_line_in_t;

/* One frame of the connection, as the dissector saw it. */
typedef struct {
    guint32 num;
    nstime_t ts;
    gboolean from_client;
    guint8 flags;           /* SM_TH_* */
    guint32 seq, ack;       /* as in the header */
    guint32 payload_len;
    /* What the keystroke layer made of the payload (lines_known FALSE when
     * it did not see it: TLS, a retransmission TCP kept to itself). */
    gboolean lines_known;
    gboolean continues_line; /* the first byte continues a line begun earlier */
    guint32 nlines;
    const sm_line_in_t *lines;
    gboolean leaves_line;    /* the segment ends inside a line */
    const guint8 *open_prefix; /* that line as meant so far (its first bytes) */
    size_t open_prefix_len;
    guint32 telnet_commands;
    const char *telnet_text; /* the telnet commands, for messages ("<IAC DO ECHO>") */
    gboolean telnet_in_line; /* one of them came after data bytes of its line */
    guint32 enters_crnul;    /* Enter presses in this frame that sent CR NUL and ended no line */
    guint32 enters_cr;       /* ... that sent a bare CR */
    guint32 bare_cr_frame;   /* an earlier client frame whose final CR this one showed to end nothing */
    guint32 chunk_bytes;     /* bytes of a BDAT chunk (in no line) */
} sm_packet_t;

typedef struct sm_store sm_store_t;
typedef struct sm_conv sm_conv_t;
typedef struct sm_frame sm_frame_t;

/* One command and its reply (or the banner, which answers no command). */
typedef struct sm_exchange {
    sm_stage_t stage;        /* the command's stage (SM_ST_BANNER for the banner) */
    guint32 cmd_frame;       /* frame that completed the command line; 0 for the banner */
    guint32 cmd_id;          /* its record in the store */
    nstime_t cmd_ts;
    char *cmd_text;          /* the command as meant, escaped, for messages */
    char *raw_text;          /* the command as the server received it, escaped */
    guint32 segments;        /* segments that carried the command line */
    gboolean enters;         /* the line holds Enter presses that ended nothing (CR NUL, bare CR) */
    const char *telnet;      /* the telnet commands the line holds ("<IAC AYT>"), or NULL */
    guint32 reply_frame;     /* frame of the final reply line; 0 until seen */
    nstime_t reply_ts;
    guint16 code;
    gboolean success;        /* the reply completed a lab step: 220 banner, 2xx to HELO/EHLO, 221 to QUIT */
    gboolean unread;         /* sent after the server closed the session (421, 521): it read no more */
    gboolean server_seen;    /* the server's side had frames in the capture when the command was sent */
    guint32 dropped;         /* on a 421 or 521: commands waiting (server_seen) that the server now never reads */
    struct sm_exchange *next; /* the queue of commands waiting for a reply */
    struct sm_exchange *all_next; /* the connection's next command */
} sm_exchange_t;

/* A marker or diagnosis. A diagnosis keeps its text; a marker keeps what
 * its text is made of when it is drawn (sm_note_text), which costs less
 * memory than the text. */
typedef struct sm_note {
    sm_note_kind_t kind;
    union {
        char *text;              /* diagnoses */
        const struct sm_exchange *ex; /* markers of a command or reply */
        guint32 frames[2];       /* the handshake marker: the SYN and SYN/ACK frames */
    } u;
    struct sm_note *next;
} sm_note_t;

typedef struct sm_link {
    sm_exchange_t *ex;       /* on a reply frame, also the banner's and unsolicited replies' (cmd_frame 0) */
    gboolean request;        /* TRUE on the command's frame, FALSE on a reply frame */
    struct sm_link *next;
} sm_link_t;

/* What the machine decided for one frame. Kept for every frame of every
 * watched connection, in the store's chunks (never moved), so it is small:
 * 24 bytes, the rest named by 32-bit indexes into the store. Read it with
 * the sm_frame_* functions. */
struct sm_frame {
    guint32 num;
    guint8 role;             /* sm_role_t */
    guint8 stage;            /* sm_stage_t; SM_ST_NONE: see ref */
    guint8 guess;            /* the stage shown while the line is unfinished */
    guint8 progress;         /* lab stages seen so far, bit (stage - 1) */
    guint8 progress_before;  /* the same before this frame */
    guint8 from_client : 1;
    guint8 completes : 1;    /* this frame completes the last lab stage */
    guint8 answers_syn : 1;  /* the first SYN, unanswered so far, is answered (or sent again) here */
    guint8 has_line : 1;     /* ref is a line, not a frame */
    guint32 ref;             /* keystroke frames: the line they are part of; pure ACKs and unread
                              * payload: the frame number whose data it is; 0: none */
    guint32 extra;           /* the frame's notes and links in the store, 0: none */
    guint32 conv;            /* the connection, in the store */
};

/* Where the frames of all connections of a capture are kept. */
sm_store_t *sm_store_new(wmem_allocator_t *scope);

/* The record of frame num (the first one made for it), or NULL. */
sm_frame_t *sm_store_frame(const sm_store_t *store, guint32 num);

/* A new connection; server_port is the SMTP side's port. */
sm_conv_t *sm_conv_new(sm_store_t *store, guint16 server_port);

/* First pass: the machine's decision for the next frame in capture order.
 * The record is kept in the store; the store finds it by frame number
 * unless a record for that number was made before. */
sm_frame_t *sm_process(sm_conv_t *conv, const sm_packet_t *pkt);

/* The stage of a frame, resolved through the line or data it follows. */
sm_stage_t sm_frame_stage(const sm_store_t *store, const sm_frame_t *f);
/* Every stage a frame carries (lines of several stages in one segment):
 * sm_frame_stage's first, then the others in stage order; returns how many
 * (at most max). */
guint sm_frame_stages(const sm_store_t *store, const sm_frame_t *f, sm_stage_t *out, guint max);
sm_conv_t *sm_frame_conv(const sm_store_t *store, const sm_frame_t *f);
/* Markers and diagnoses raised on the first pass; command-reply links. */
const sm_note_t *sm_frame_notes(const sm_store_t *store, const sm_frame_t *f);
const sm_link_t *sm_frame_links(const sm_store_t *store, const sm_frame_t *f);

/* Wireshark writes an expert message into ITEM_LABEL_LENGTH (240) bytes,
 * its NUL included, and cuts what does not fit at 239: every note text is
 * at most this long, one byte less, so that a 239-byte message in tshark's
 * output always means a cut one (the tshark tests fail on it). The quotes
 * in a text (commands, replies, telnet commands) are cut to fit, never its
 * cause or its advice. */
#define SM_TEXT_MAX 238

/* The text of note n of frame num: a diagnosis's own, a marker's made in
 * scope. */
const char *sm_note_text(const sm_note_t *n, guint32 num, wmem_allocator_t *scope);

/* Findings that need the whole capture (draw them only on a later pass):
 * calls cb for each extra diagnosis of frame f. */
typedef void (*sm_note_cb)(sm_note_kind_t kind, const char *text, void *user);
void sm_final_notes(const sm_store_t *store, const sm_frame_t *f, wmem_allocator_t *scope, sm_note_cb cb,
                    void *user);

/* TRUE when the connection went through every lab stage (whole capture). */
gboolean sm_conv_complete(const sm_conv_t *conv);

/* For reports: the frame where a lab stage was first reached (the ACK that
 * completed the handshake, the banner's last line, ..., the first FIN or
 * RST), 0 when it was not; the SYN and SYN/ACK frames; the first frame. */
guint32 sm_conv_lab_frame(const sm_conv_t *conv, sm_stage_t lab_stage);
guint32 sm_conv_syn_frame(const sm_conv_t *conv);
guint32 sm_conv_synack_frame(const sm_conv_t *conv);
guint32 sm_conv_first_frame(const sm_conv_t *conv);
/* The connection's number in the capture: 1, 2, ... in order of first frame. */
guint32 sm_conv_number(const sm_conv_t *conv);
/* Frames of the lines whose attempt at a lab step failed (HELO/EHLO not
 * answered 2xx, QUIT not answered 221): calls cb for each, in order. */
typedef void (*sm_attempt_cb)(const sm_exchange_t *ex, void *user);
void sm_conv_failed_attempts(const sm_conv_t *conv, sm_stage_t lab_stage, sm_attempt_cb cb, void *user);
/* TRUE once STARTTLS was accepted: what follows is TLS. */
gboolean sm_conv_in_tls(const sm_conv_t *conv);
guint8 sm_conv_progress(const sm_conv_t *conv);
/* An earlier frame that the last sm_process of the connection gave a note
 * (a bare CR known once the next byte came), or NULL: for taps that keep
 * the frames with notes. */
const sm_frame_t *sm_conv_amended(const sm_conv_t *conv);

const char *sm_stage_name(sm_stage_t stage);
/* The expert item's name: "smtplab.stage.helo", "smtplab.diag.cr_nul", ... */
const char *sm_note_name(sm_note_kind_t kind);
/* A diagnosis's short name, the value of the smtplab.diag field: "cr_nul". */
const char *sm_diag_name(sm_note_kind_t kind);
const char *sm_role_name(sm_role_t role);
/* The lab activity (3 to 8) that studies a stage, 0 for none. */
guint sm_stage_activity(sm_stage_t stage);
/* "handshake banner helo" for a progress bit set; "" for none. */
char *sm_progress_string(wmem_allocator_t *scope, guint8 progress);

#endif /* STAGE_MACHINE_H */
