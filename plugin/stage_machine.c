/* stage_machine.c
 * The SMTP Lab stage machine: stages, command-reply matching, markers and
 * diagnoses for the frames of one TCP connection.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "stage_machine.h"

#include <stdio.h>
#include <string.h>

#include "escape.h"
#include "frame_table.h"
#include "line_assembly.h"
#include "tcp_track.h"

/* What the server reads the client's next line as. */
typedef enum {
    SM_DLG_COMMANDS = 0,
    SM_DLG_AUTH_RESPONSE, /* a 334 asked for an AUTH response line */
    SM_DLG_MESSAGE,       /* after DATA: message lines up to the lone "." (taken so from DATA on:
                           * a client may send them before the 354, and a capture may lack the server) */
    SM_DLG_TLS            /* after STARTTLS and its 220: TLS, nothing to read */
} sm_dialogue_t;

/* A reply that begins more than this many seconds after what it answers
 * is slow (smtplab.diag.slow_reply). */
#define SM_SLOW_REPLY_SECS 3

/* Lines quoted in messages and listed in the report are cut to this many
 * bytes (up to 4 times as many once escaped); a message cuts its quotes
 * further to fit in SM_TEXT_MAX (sm_fit). */
#define SM_QUOTE_MAX 60

/* The records of a capture's frames. Records, lines and extras are named
 * by their index in their pool (from 1), so that a frame record needs no
 * pointer. */
struct sm_store {
    wmem_allocator_t *scope;
    ft_table_t by_num;            /* frame number -> record index */
    ft_pool_t frames;             /* sm_frame_t */
    ft_pool_t lines;              /* sm_line_t */
    ft_pool_t extras;             /* sm_extra_t */
    ft_pool_t convs;              /* sm_conv_t * */
};

/* A line typed over several frames: its stage once complete, and until
 * then what it is heading for as far as it has come. */
typedef struct {
    guint8 stage;                 /* SM_ST_NONE until complete */
    guint8 guess;
} sm_line_t;

/* What few frames have: markers, diagnoses, command-reply links, the
 * stages of lines beyond the frame's first. */
typedef struct {
    sm_note_t *notes;
    sm_link_t *links;
    guint64 stages;               /* bit per sm_stage_t */
} sm_extra_t;

struct sm_conv {
    wmem_allocator_t *scope;
    sm_store_t *store;
    guint32 id;                   /* index in store->convs */
    nstime_t now;                 /* time of the frame being processed */
    guint16 server_port;
    tt_conn_t tcp;
    guint32 open[2];              /* the line being typed (index in store->lines), 0 between lines */
    sm_dialogue_t dialogue;
    guint32 replies;              /* reply lines the server sent so far */
    nstime_t client_ts;           /* when the client last sent a byte */
    gboolean client_sent;
    sm_exchange_t *queue_head;    /* commands waiting for their reply, oldest first */
    sm_exchange_t *queue_tail;
    sm_exchange_t *in_reply;      /* the exchange whose multi-line reply goes on */
    sm_exchange_t *commands;      /* every command, in order (through all_next) */
    sm_exchange_t *commands_tail;
    const sm_exchange_t *quit;    /* the first QUIT sent, or NULL */
    gboolean server_gone;         /* the server closed the session with 421 or 521: it reads no more */
    gboolean unseen_greeting;     /* the client's ACKs showed a greeting the capture lacks */
    guint16 greeting_code;        /* 220, 554, or 0 when no greeting was seen */
    nstime_t greeting_ts;         /* when the greeting came */
    const sm_exchange_t *answered; /* the last exchange whose final reply came */
    gboolean helo_done, quit_done;
    guint8 progress;
    guint8 last_stage;
    guint32 first_frame;
    guint32 lab_frame[SM_LAB_STAGES]; /* where each lab stage was first reached */
    sm_frame_t *amended;          /* an earlier frame the last sm_process gave a diagnosis, or NULL */
};

/* Every marker and diagnosis: its name, summary, lab activity, group and
 * severity. The texts of one occurrence are made where it is raised. */
static const sm_note_info_t sm_notes[SM_NOTE_COUNT] = {
    [SM_MARK_HANDSHAKE] = { "smtplab.stage.handshake", "Activity 3: TCP three-way handshake", 3,
                            SM_GROUP_SEQUENCE, SM_SEV_CHAT },
    [SM_MARK_BANNER] = { "smtplab.stage.banner", "Activity 4: service ready (220 banner)", 4,
                         SM_GROUP_SEQUENCE, SM_SEV_CHAT },
    [SM_MARK_HELO] = { "smtplab.stage.helo", "Activity 5: HELO/EHLO", 5, SM_GROUP_SEQUENCE, SM_SEV_CHAT },
    [SM_MARK_HELO_REPLY] = { "smtplab.stage.helo_reply", "Activity 6: reply to HELO/EHLO", 6,
                             SM_GROUP_SEQUENCE, SM_SEV_CHAT },
    [SM_MARK_QUIT] = { "smtplab.stage.quit", "Activity 7: QUIT", 7, SM_GROUP_SEQUENCE, SM_SEV_CHAT },
    [SM_MARK_QUIT_REPLY] = { "smtplab.stage.quit_reply", "Activity 8: 221 closing reply", 8,
                             SM_GROUP_SEQUENCE, SM_SEV_CHAT },
    [SM_DIAG_PORT_BLOCKED] = { "smtplab.diag.port_blocked",
                               "The SMTP port did not accept the connection: try port 587", 0,
                               SM_GROUP_SEQUENCE, SM_SEV_WARN },
    [SM_DIAG_CR_NUL] = { "smtplab.diag.cr_nul",
                         "Enter sent CR NUL, which ends no line: the server still waits for LF", 0,
                         SM_GROUP_PROTOCOL, SM_SEV_WARN },
    [SM_DIAG_EDITING] = { "smtplab.diag.editing", "Erase keystrokes sent: the server receives the raw bytes", 0,
                          SM_GROUP_PROTOCOL, SM_SEV_WARN },
    [SM_DIAG_TELNET_NEGOTIATION] = { "smtplab.diag.telnet_negotiation", "Telnet negotiation sent to an SMTP server",
                                     0, SM_GROUP_PROTOCOL, SM_SEV_WARN },
    [SM_DIAG_HELO_NO_DOMAIN] = { "smtplab.diag.helo_no_domain", "HELO/EHLO without the domain RFC 5321 requires",
                                 0, SM_GROUP_PROTOCOL, SM_SEV_WARN },
    [SM_DIAG_STARTTLS_REQUIRED] = { "smtplab.diag.starttls_required", "The server demands STARTTLS first", 0,
                                    SM_GROUP_SECURITY, SM_SEV_NOTE },
    [SM_DIAG_ERROR_REPLY] = { "smtplab.diag.error_reply", "Negative reply (4xx transient, 5xx permanent)", 0,
                              SM_GROUP_RESPONSE_CODE, SM_SEV_WARN },
    [SM_DIAG_NO_REPLY] = { "smtplab.diag.no_reply", "No reply to this command in the capture", 0,
                           SM_GROUP_SEQUENCE, SM_SEV_WARN },
    [SM_DIAG_NO_QUIT] = { "smtplab.diag.no_quit", "Connection closed without QUIT and 221", 0,
                          SM_GROUP_SEQUENCE, SM_SEV_NOTE },
    [SM_DIAG_BARE_CR] = { "smtplab.diag.bare_cr",
                          "Enter sent a bare CR, which ends no line: the server still waits for LF", 0,
                          SM_GROUP_PROTOCOL, SM_SEV_WARN },
    [SM_DIAG_MALFORMED_REPLY] = { "smtplab.diag.malformed_reply",
                                  "Server line without a reply code: it answers no command", 0,
                                  SM_GROUP_MALFORMED, SM_SEV_WARN },
    [SM_DIAG_ONE_DIRECTION] = { "smtplab.diag.one_direction",
                                "Only one direction of the connection is in the capture", 0,
                                SM_GROUP_SEQUENCE, SM_SEV_NOTE },
    [SM_DIAG_SLOW_REPLY] = { "smtplab.diag.slow_reply", "Slow reply: the server took more than 3 s to answer", 0,
                             SM_GROUP_SEQUENCE, SM_SEV_NOTE },
};

const sm_note_info_t *
sm_note_info(sm_note_kind_t kind)
{
    return &sm_notes[kind < SM_NOTE_COUNT ? kind : SM_DIAG_ERROR_REPLY];
}

const char *
sm_note_name(sm_note_kind_t kind)
{
    return kind < SM_NOTE_COUNT ? sm_notes[kind].filter : "";
}

const char *
sm_diag_name(sm_note_kind_t kind)
{
    return SM_NOTE_IS_DIAG(kind) && kind < SM_NOTE_COUNT ? sm_notes[kind].filter + strlen("smtplab.diag.") : "";
}

static const char *const sm_stage_names[SM_ST_COUNT] = {
    [SM_ST_NONE] = "",
    [SM_ST_HANDSHAKE] = "handshake",
    [SM_ST_BANNER] = "banner",
    [SM_ST_HELO] = "helo",
    [SM_ST_HELO_REPLY] = "helo-reply",
    [SM_ST_QUIT] = "quit",
    [SM_ST_QUIT_REPLY] = "quit-reply",
    [SM_ST_TEARDOWN] = "teardown",
    [SM_ST_MAIL] = "mail",
    [SM_ST_MAIL_REPLY] = "mail-reply",
    [SM_ST_RCPT] = "rcpt",
    [SM_ST_RCPT_REPLY] = "rcpt-reply",
    [SM_ST_DATA] = "data",
    [SM_ST_DATA_REPLY] = "data-reply",
    [SM_ST_MESSAGE] = "message",
    [SM_ST_MESSAGE_REPLY] = "message-reply",
    [SM_ST_RSET] = "rset",
    [SM_ST_RSET_REPLY] = "rset-reply",
    [SM_ST_NOOP] = "noop",
    [SM_ST_NOOP_REPLY] = "noop-reply",
    [SM_ST_VRFY] = "vrfy",
    [SM_ST_VRFY_REPLY] = "vrfy-reply",
    [SM_ST_STARTTLS] = "starttls",
    [SM_ST_STARTTLS_REPLY] = "starttls-reply",
    [SM_ST_AUTH] = "auth",
    [SM_ST_AUTH_REPLY] = "auth-reply",
    [SM_ST_BDAT] = "bdat",
    [SM_ST_BDAT_REPLY] = "bdat-reply",
    [SM_ST_EXPN] = "expn",
    [SM_ST_EXPN_REPLY] = "expn-reply",
    [SM_ST_HELP] = "help",
    [SM_ST_HELP_REPLY] = "help-reply",
    [SM_ST_UNKNOWN] = "unknown",
    [SM_ST_UNKNOWN_REPLY] = "unknown-reply",
    [SM_ST_TLS] = "tls",
};

const char *
sm_stage_name(sm_stage_t stage)
{
    return stage < SM_ST_COUNT ? sm_stage_names[stage] : "";
}

const char *
sm_role_name(sm_role_t role)
{
    switch (role) {
    case SM_ROLE_SYN:       return "syn";
    case SM_ROLE_SYN_ACK:   return "syn-ack";
    case SM_ROLE_ACK:       return "ack";
    case SM_ROLE_KEYSTROKE: return "keystroke";
    case SM_ROLE_LINE:      return "line";
    case SM_ROLE_REPLY:     return "reply";
    case SM_ROLE_FIN:       return "fin";
    case SM_ROLE_RST:       return "rst";
    case SM_ROLE_DATA:      return "data";
    default:                return "";
    }
}

guint
sm_stage_activity(sm_stage_t stage)
{
    switch (stage) {
    case SM_ST_HANDSHAKE:  return 3;
    case SM_ST_BANNER:     return 4;
    case SM_ST_HELO:       return 5;
    case SM_ST_HELO_REPLY: return 6;
    case SM_ST_QUIT:       return 7;
    case SM_ST_QUIT_REPLY: return 8;
    case SM_ST_TEARDOWN:   return 8;
    default:               return 0;
    }
}

char *
sm_progress_string(wmem_allocator_t *scope, guint8 progress)
{
    wmem_strbuf_t *sb = wmem_strbuf_new(scope, "");
    guint i;

    for (i = 0; i < SM_LAB_STAGES; i++) {
        if (progress & (1u << i)) {
            if (wmem_strbuf_get_len(sb))
                wmem_strbuf_append_c(sb, ' ');
            wmem_strbuf_append(sb, sm_stage_name((sm_stage_t)(SM_ST_HANDSHAKE + i)));
        }
    }
    return wmem_strbuf_finalize(sb);
}

/* A lab step done at frame num; the first time is kept for reports. */
static void
sm_seen(sm_conv_t *c, guint32 num, sm_stage_t lab_stage)
{
    guint i = lab_stage - SM_ST_HANDSHAKE;

    c->progress |= (guint8)(1u << i);
    if (!c->lab_frame[i])
        c->lab_frame[i] = num;
}

gboolean
sm_conv_complete(const sm_conv_t *conv)
{
    return (conv->progress & SM_PROGRESS_ALL) == SM_PROGRESS_ALL;
}

sm_store_t *
sm_store_new(wmem_allocator_t *scope)
{
    sm_store_t *s = wmem_new0(scope, sm_store_t);

    s->scope = scope;
    ft_init(&s->by_num, scope);
    ft_pool_init(&s->frames, scope, sizeof(sm_frame_t));
    ft_pool_init(&s->lines, scope, sizeof(sm_line_t));
    ft_pool_init(&s->extras, scope, sizeof(sm_extra_t));
    ft_pool_init(&s->convs, scope, sizeof(sm_conv_t *));
    return s;
}

static sm_frame_t *
sm_frame_by_id(const sm_store_t *s, guint32 id)
{
    return id ? (sm_frame_t *)ft_pool_get(&s->frames, id) : NULL;
}

sm_frame_t *
sm_store_frame(const sm_store_t *s, guint32 num)
{
    return sm_frame_by_id(s, ft_get(&s->by_num, num));
}

sm_conv_t *
sm_conv_new(sm_store_t *store, guint16 server_port)
{
    sm_conv_t *c = wmem_new0(store->scope, sm_conv_t);
    sm_conv_t **slot = (sm_conv_t **)ft_pool_add(&store->convs, &c->id);

    *slot = c;
    c->scope = store->scope;
    c->store = store;
    c->server_port = server_port;
    tt_init(&c->tcp, store->scope);
    return c;
}

sm_conv_t *
sm_frame_conv(const sm_store_t *store, const sm_frame_t *f)
{
    return *(sm_conv_t **)ft_pool_get(&store->convs, f->conv);
}

static sm_extra_t *
sm_extra(sm_conv_t *c, sm_frame_t *f)
{
    if (!f->extra)
        ft_pool_add(&c->store->extras, &f->extra);
    return (sm_extra_t *)ft_pool_get(&c->store->extras, f->extra);
}

static const sm_extra_t *
sm_extra_of(const sm_store_t *store, const sm_frame_t *f)
{
    return f->extra ? (const sm_extra_t *)ft_pool_get(&store->extras, f->extra) : NULL;
}

const sm_note_t *
sm_frame_notes(const sm_store_t *store, const sm_frame_t *f)
{
    const sm_extra_t *x = sm_extra_of(store, f);

    return x ? x->notes : NULL;
}

const sm_link_t *
sm_frame_links(const sm_store_t *store, const sm_frame_t *f)
{
    const sm_extra_t *x = sm_extra_of(store, f);

    return x ? x->links : NULL;
}

static sm_note_t *
sm_note_add(sm_conv_t *c, sm_frame_t *f, sm_note_kind_t kind)
{
    sm_note_t *n = wmem_new0(c->scope, sm_note_t);
    sm_note_t **tail = &sm_extra(c, f)->notes;

    n->kind = kind;
    while (*tail)
        tail = &(*tail)->next;
    *tail = n;
    return n;
}

/* A diagnosis, with its text (in c->scope). */
static void
sm_note(sm_conv_t *c, sm_frame_t *f, sm_note_kind_t kind, char *text)
{
    sm_note_add(c, f, kind)->u.text = text;
}

/* A stage marker of a command or a reply: the text is made at drawing
 * from the exchange. */
static void
sm_mark(sm_conv_t *c, sm_frame_t *f, sm_note_kind_t kind, const sm_exchange_t *ex)
{
    sm_note_add(c, f, kind)->u.ex = ex;
}

/* A message is drafted with a placeholder for each quote in it (a command,
 * a reply's text, telnet commands: as long as the bytes make them), then
 * sm_fit puts the quotes in, cut so that the whole fits in SM_TEXT_MAX
 * bytes: the fixed words, cause and advice, are always whole. */
#define SM_QUOTES 4

typedef struct {
    const char *text[SM_QUOTES];
    guint n;
} sm_quotes_t;

/* Placeholders: bytes that no quote holds (esc_bytes escapes them). */
#define SM_IS_MARK(ch) ((guint8)(ch) >= 1 && (guint8)(ch) <= SM_QUOTES)
static const char *const sm_q_mark[SM_QUOTES] = { "\x01", "\x02", "\x03", "\x04" };
static const char *const sm_q_quoted[SM_QUOTES] = { "\"\x01\"", "\"\x02\"", "\"\x03\"", "\"\x04\"" };

/* A quote's placeholder in a draft; quoted adds the double quotes. */
static const char *
sm_q(sm_quotes_t *qs, const char *text, gboolean quoted)
{
    guint i = qs->n;

    if (i == SM_QUOTES)
        return "";
    qs->text[qs->n++] = text;
    return quoted ? sm_q_quoted[i] : sm_q_mark[i];
}

/* Seconds for messages, "%.1f" up to a million (11 days), then "%.2e":
 * at most 9 characters, whatever the time stamps. */
static char *
sm_seconds(char buf[16], double secs)
{
    snprintf(buf, 16, secs > -1e6 && secs < 1e6 ? "%.1f" : "%.2e", secs);
    return buf;
}

/* What a reply answers, for messages: the command quoted, the connection
 * (the banner), or nothing. */
static const char *
sm_what(sm_quotes_t *qs, const sm_exchange_t *ex)
{
    if (ex->cmd_text && !*ex->cmd_text)
        return "an empty line";
    if (ex->cmd_text)
        return sm_q(qs, ex->cmd_text, TRUE);
    return ex->stage == SM_ST_BANNER ? "the connection" : "no command waiting";
}

/* Appends an escaped text cut to at most cap bytes, at the boundary of an
 * escape ("\xff" is not split), with "..." where it was cut. */
static void
sm_clip(wmem_strbuf_t *sb, const char *text, size_t cap)
{
    size_t len = strlen(text), keep = 0;

    if (len <= cap) {
        wmem_strbuf_append(sb, text);
        return;
    }
    if (cap < 3) {
        wmem_strbuf_append_len(sb, "...", cap);
        return;
    }
    while (keep < len) {
        size_t unit = text[keep] != '\\' ? 1 : text[keep + 1] == 'x' ? 4 : 2;
        if (keep + unit > cap - 3)
            break;
        keep += unit;
    }
    wmem_strbuf_append_len(sb, text, keep);
    wmem_strbuf_append(sb, "...");
}

/* The message of a draft (freed here) with its quotes put in. When they
 * do not all fit, the room left by the fixed words is shared: a quote
 * shorter than its share is whole, the longer ones get equal parts. */
static char *
sm_fit(wmem_allocator_t *scope, const sm_quotes_t *qs, char *draft)
{
    size_t len[SM_QUOTES], cap[SM_QUOTES], fixed = 0, room;
    gboolean cut[SM_QUOTES];
    guint i, ncut = 0;
    gboolean settled;
    wmem_strbuf_t *sb;
    const char *p;

    for (p = draft; *p; p++) {
        if (!SM_IS_MARK(*p))
            fixed++;
    }
    room = fixed < SM_TEXT_MAX ? SM_TEXT_MAX - fixed : 0;
    for (i = 0; i < qs->n; i++) {
        len[i] = cap[i] = strlen(qs->text[i]);
        cut[i] = TRUE;
        ncut++;
    }
    do {
        settled = FALSE;
        for (i = 0; i < qs->n; i++) {
            if (cut[i] && len[i] <= room / ncut) {
                cut[i] = FALSE;
                room -= len[i];
                ncut--;
                settled = TRUE;
            }
        }
    } while (settled && ncut);
    for (i = 0; i < qs->n; i++) {
        if (cut[i])
            cap[i] = room / ncut;
    }

    sb = wmem_strbuf_new(scope, "");
    for (p = draft; *p; p++) {
        if (SM_IS_MARK(*p) && (guint)*p <= qs->n)
            sm_clip(sb, qs->text[*p - 1], cap[*p - 1]);
        else
            wmem_strbuf_append_c(sb, *p);
    }
    wmem_free(NULL, draft);
    return wmem_strbuf_finalize(sb);
}

const char *
sm_note_text(const sm_note_t *n, guint32 num, wmem_allocator_t *scope)
{
    const sm_exchange_t *ex = n->u.ex;
    sm_quotes_t qs = { { NULL }, 0 };

    switch (n->kind) {
    case SM_MARK_HANDSHAKE:
        return wmem_strdup_printf(scope,
            "Activity 3: TCP three-way handshake complete: SYN (frame %u), SYN/ACK (frame %u), ACK (frame %u)",
            n->u.frames[0], n->u.frames[1], num);
    case SM_MARK_BANNER:
        return wmem_strdup_printf(scope,
            "Activity 4: the server's 220 greeting (banner): service ready, the client may send HELO or EHLO");
    case SM_MARK_HELO:
        return sm_fit(scope, &qs, wmem_strdup_printf(NULL,
            "Activity 5: the client greets the server with %s (%u segment%s), accepted with %u in frame %u",
            sm_q(&qs, ex->cmd_text, TRUE), ex->segments, ex->segments == 1 ? "" : "s", ex->code,
            ex->reply_frame));
    case SM_MARK_HELO_REPLY:
        return sm_fit(scope, &qs, wmem_strdup_printf(NULL, "Activity 6: the server accepts %s (frame %u) with %u",
            sm_q(&qs, ex->cmd_text, TRUE), ex->cmd_frame, ex->code));
    case SM_MARK_QUIT:
        return sm_fit(scope, &qs, wmem_strdup_printf(NULL,
            "Activity 7: the client ends the session with %s (%u segment%s), answered 221 in frame %u",
            sm_q(&qs, ex->cmd_text, TRUE), ex->segments, ex->segments == 1 ? "" : "s", ex->reply_frame));
    case SM_MARK_QUIT_REPLY:
        return wmem_strdup_printf(scope,
            "Activity 8: the server answers QUIT (frame %u) with 221 (closing): the connection closes next",
            ex->cmd_frame);
    default:
        return n->u.text;
    }
}

static void
sm_link(sm_conv_t *c, sm_frame_t *f, sm_exchange_t *ex, gboolean request)
{
    sm_link_t **tail = &sm_extra(c, f)->links;
    sm_link_t *l;

    for (l = *tail; l; l = l->next) {
        if (l->ex == ex && l->request == request)
            return;
    }
    l = wmem_new0(c->scope, sm_link_t);
    l->ex = ex;
    l->request = request;
    while (*tail)
        tail = &(*tail)->next;
    *tail = l;
}

/* A quotation of a line for messages, escaped and cut short. */
static char *
sm_quote(wmem_allocator_t *scope, const guint8 *text, size_t len)
{
    char *q = esc_bytes(scope, text, MIN(len, SM_QUOTE_MAX));
    char *cut;

    if (len <= SM_QUOTE_MAX)
        return q;
    cut = wmem_strdup_printf(scope, "%s...", q);
    wmem_free(scope, q);
    return cut;
}

static sm_stage_t
sm_command_stage(sp_command_t cmd)
{
    switch (cmd) {
    case SP_CMD_HELO:
    case SP_CMD_EHLO:     return SM_ST_HELO;
    case SP_CMD_MAIL:     return SM_ST_MAIL;
    case SP_CMD_RCPT:     return SM_ST_RCPT;
    case SP_CMD_DATA:     return SM_ST_DATA;
    case SP_CMD_RSET:     return SM_ST_RSET;
    case SP_CMD_NOOP:     return SM_ST_NOOP;
    case SP_CMD_VRFY:     return SM_ST_VRFY;
    case SP_CMD_QUIT:     return SM_ST_QUIT;
    case SP_CMD_STARTTLS: return SM_ST_STARTTLS;
    case SP_CMD_AUTH:     return SM_ST_AUTH;
    case SP_CMD_BDAT:     return SM_ST_BDAT;
    case SP_CMD_EXPN:     return SM_ST_EXPN;
    case SP_CMD_HELP:     return SM_ST_HELP;
    default:              return SM_ST_UNKNOWN;
    }
}

/* The stage of the reply to an exchange of this stage. */
static sm_stage_t
sm_reply_stage(sm_stage_t cmd_stage)
{
    switch (cmd_stage) {
    case SM_ST_BANNER:
        return SM_ST_BANNER;
    case SM_ST_HELO: case SM_ST_QUIT: case SM_ST_MAIL: case SM_ST_RCPT: case SM_ST_DATA:
    case SM_ST_MESSAGE: case SM_ST_RSET: case SM_ST_NOOP: case SM_ST_VRFY: case SM_ST_STARTTLS:
    case SM_ST_AUTH: case SM_ST_BDAT: case SM_ST_EXPN: case SM_ST_HELP: case SM_ST_UNKNOWN:
        return (sm_stage_t)(cmd_stage + 1);
    default:
        return SM_ST_UNKNOWN_REPLY;
    }
}

/* TRUE when frame f itself carries stage st. */
static gboolean
sm_frame_has_stage(const sm_store_t *store, const sm_frame_t *f, sm_stage_t st)
{
    const sm_extra_t *x = sm_extra_of(store, f);

    return f->stage == st || (x && (x->stages & (G_GUINT64_CONSTANT(1) << st)));
}

/* The frame carries a line (or chunk bytes) of this stage. */
static void
sm_frame_add_stage(sm_conv_t *c, sm_frame_t *f, sm_stage_t st)
{
    if (!f->stage)
        f->stage = (guint8)st;
    else if (f->stage != st)
        sm_extra(c, f)->stages |= G_GUINT64_CONSTANT(1) << st;
}

/* The note on a frame whose client bytes hold telnet commands. An SMTP
 * server reads their bytes as characters: inside a line typed so far (telnet's
 * Ctrl+] send ...), or at the start of the next one (option negotiation). */
static char *
sm_telnet_text(sm_conv_t *c, const sm_packet_t *pkt)
{
    gboolean one = pkt->telnet_commands == 1;
    sm_quotes_t qs = { { NULL }, 0 };
    const char *names = sm_q(&qs, pkt->telnet_text ? pkt->telnet_text : "", FALSE);

    if (pkt->telnet_in_line)
        return sm_fit(c->scope, &qs, wmem_strdup_printf(NULL,
            "Telnet command%s %s inside a line (from telnet's Ctrl+] send, a mode change or a window resize): the "
            "SMTP server reads the bytes as part of the line. If it gets an error reply, type it again",
            one ? "" : "s", names));
    return sm_fit(c->scope, &qs, wmem_strdup_printf(NULL,
        "Telnet command%s %s start%s the next line the server reads. telnet sends them after Ctrl+] mode "
        "character (mode line goes back), plink -telnet, busybox telnet at connect: use plink -raw or nc -C",
        one ? "" : "s", names, one ? "s" : ""));
}

static sm_exchange_t *
sm_push(sm_conv_t *c, sm_frame_t *f, guint32 id, const sm_packet_t *pkt, sm_stage_t stage, char *text,
        const sm_line_in_t *l)
{
    sm_exchange_t *ex = wmem_new0(c->scope, sm_exchange_t);
    guint32 crnul, cr;

    ex->stage = stage;
    ex->cmd_frame = f->num;
    ex->cmd_id = id;
    ex->cmd_ts = pkt->ts;
    ex->cmd_text = text;
    ex->raw_text = sm_quote(c->scope, l->raw, l->raw_len);
    /* Most lines are received as meant: keep one copy. */
    if (strcmp(ex->raw_text, text) == 0) {
        wmem_free(c->scope, ex->raw_text);
        ex->raw_text = text;
    }
    ex->segments = l->segments;
    ex->unread = c->server_gone;
    ex->server_seen = c->tcp.frames[TT_SERVER] > 0;
    /* A CR inside a line is an Enter press that ended nothing. */
    ex->enters = la_count_enters(l->raw, l->raw_len, TRUE, &crnul, &cr) > 0;
    /* Telnet bytes the server read as characters of the line. */
    ex->telnet = esc_line_telnet_commands(c->scope, l->raw, l->raw_len, 4);
    if (c->queue_tail)
        c->queue_tail->next = ex;
    else
        c->queue_head = ex;
    c->queue_tail = ex;
    if (c->commands_tail)
        c->commands_tail->all_next = ex;
    else
        c->commands = ex;
    c->commands_tail = ex;
    sm_link(c, f, ex, TRUE);
    return ex;
}

static sm_exchange_t *
sm_pop(sm_conv_t *c)
{
    sm_exchange_t *ex = c->queue_head;

    if (ex) {
        c->queue_head = ex->next;
        if (!c->queue_head)
            c->queue_tail = NULL;
        ex->next = NULL;
    }
    return ex;
}

/* The first close of the connection (FIN or RST, not the RST that refuses
 * it): a session ends with QUIT and 221; say who closed it, and after what. */
static void
sm_closing(sm_conv_t *c, sm_frame_t *f, gboolean from_client)
{
    const sm_exchange_t *last = c->answered;

    sm_seen(c, f->num, SM_ST_TEARDOWN);
    /* After STARTTLS the commands are encrypted: QUIT cannot be seen. A
     * capture with no client frame cannot tell. A client may close right
     * after QUIT, before the 221 arrives: a QUIT left unanswered is
     * no_reply's business. */
    if (!c->tcp.handshake_done || c->dialogue == SM_DLG_TLS || (c->quit && !c->quit->unread) ||
        !c->tcp.frames[TT_CLIENT])
        return;
    if (from_client) {
        sm_note(c, f, SM_DIAG_NO_QUIT, wmem_strdup(c->scope,
            "The client closed the connection without sending QUIT: a session ends with QUIT and the server's 221 "
            "reply. Type QUIT and wait for the 221 before closing"));
    } else if (!c->replies) {
        sm_note(c, f, SM_DIAG_NO_QUIT, wmem_strdup(c->scope,
            "The server closed the connection without a greeting: it accepted the TCP connection but sent no "
            "220 banner, so no SMTP session took place. The service is not taking mail now: try again later, or "
            "another server"));
    } else if (last) {
        sm_quotes_t qs = { { NULL }, 0 };
        const char *what = last->cmd_text || last->stage == SM_ST_BANNER ? sm_what(&qs, last) : NULL;
        sm_note(c, f, SM_DIAG_NO_QUIT, sm_fit(c->scope, &qs, wmem_strdup_printf(NULL,
            "The server closed the connection after its %u reply (frame %u)%s%s, without a QUIT read: the "
            "server ended the session, and that reply says why",
            last->code, last->reply_frame, what ? " to " : "", what ? what : "")));
    } else {
        sm_note(c, f, SM_DIAG_NO_QUIT, wmem_strdup(c->scope,
            "The server closed the connection without a QUIT read: the server ended the session"));
    }
}

/* Enter presses that ended no line: the server has received no line end
 * and still waits for LF. A bare CR is known once the next byte comes,
 * so when it ended an earlier segment the note goes to that frame. */
static void
sm_enter_notes(sm_conv_t *c, sm_frame_t *f, const sm_packet_t *pkt)
{
    static const char crnul[] =
        "Enter sent CR NUL (telnet character mode), which ends no line: the server reads a line up to LF, so "
        "what is typed next joins this line. In telnet press Ctrl+] and type \"toggle crlf\", or use line mode "
        "(\"mode line\")";
    static const char bare_cr[] =
        "Enter sent a bare CR, which ends no line: the server reads a line up to LF, so what is typed next joins "
        "this line. With socat add the crnl option (socat -,raw,echo=0,crnl TCP:host:25), with nc use nc -C, or "
        "press Ctrl+J (LF)";
    guint32 i;

    for (i = 0; i < pkt->enters_crnul; i++)
        sm_note(c, f, SM_DIAG_CR_NUL, (char *)crnul);
    for (i = 0; i < pkt->enters_cr; i++)
        sm_note(c, f, SM_DIAG_BARE_CR, (char *)bare_cr);
    if (pkt->bare_cr_frame) {
        sm_frame_t *earlier = sm_store_frame(c->store, pkt->bare_cr_frame);
        if (earlier && sm_frame_conv(c->store, earlier) == c) {
            sm_note(c, earlier, SM_DIAG_BARE_CR, (char *)bare_cr);
            c->amended = earlier;
        }
    }
}

/* The diagnoses a client line earns whatever it is. */
static void
sm_typing_notes(sm_conv_t *c, sm_frame_t *f, const sm_line_in_t *l)
{
    if (l->backspaces) {
        char *raw = sm_quote(NULL, l->raw, l->raw_len);
        char *edited = sm_quote(NULL, l->edited, l->edited_len);
        sm_quotes_t qs = { { NULL }, 0 };
        const char *raw_q = sm_q(&qs, raw, TRUE);
        sm_note(c, f, SM_DIAG_EDITING, sm_fit(c->scope, &qs, wmem_strdup_printf(NULL,
            "%u erase keystroke%s sent: the server receives %s, not %s. Type the line again without corrections",
            l->backspaces, l->backspaces == 1 ? "" : "s", raw_q, sm_q(&qs, edited, TRUE))));
        wmem_free(NULL, raw);
        wmem_free(NULL, edited);
    }
}

/* A command line: its stage is the command the person meant (a failed
 * attempt keeps it); what it does to the session is the command the server
 * read. */
static sm_stage_t
sm_command_line(sm_conv_t *c, sm_frame_t *f, guint32 id, const sm_packet_t *pkt, const sm_line_in_t *l)
{
    size_t param, got_param;
    /* An Enter that ended no line (CR NUL, bare CR) ended the command the
     * person meant: its verb is what came before. */
    const guint8 *cr = l->edited_len ? (const guint8 *)memchr(l->edited, '\r', l->edited_len) : NULL;
    size_t meant_len = cr ? (size_t)(cr - l->edited) : l->edited_len;
    sp_command_t meant = sp_parse_command(l->edited, meant_len, &param);
    gboolean as_meant = l->raw_len == l->edited_len && (!l->raw_len || memcmp(l->raw, l->edited, l->raw_len) == 0);
    sp_command_t got = as_meant ? meant : sp_parse_command(l->raw, l->raw_len, &got_param);
    sm_stage_t stage = sm_command_stage(meant);
    sm_exchange_t *ex = sm_push(c, f, id, pkt, stage, sm_quote(c->scope, l->edited, l->edited_len), l);

    if (as_meant && !cr)
        got_param = param;
    else if (as_meant)
        got = sp_parse_command(l->raw, l->raw_len, &got_param);
    switch (got) {
    case SP_CMD_HELO:
    case SP_CMD_EHLO:
        if (got_param >= l->raw_len)
            sm_note(c, f, SM_DIAG_HELO_NO_DOMAIN, wmem_strdup_printf(c->scope,
                "%s without a domain: RFC 5321 requires the client's name, as in \"%s lab.example\"; "
                "servers may answer 501", sp_command_name(got), sp_command_name(got)));
        break;
    case SP_CMD_QUIT:
        if (!c->quit)
            c->quit = ex;
        break;
    case SP_CMD_DATA:
        /* The message follows; the reply to DATA says whether it was taken. */
        c->dialogue = SM_DLG_MESSAGE;
        break;
    default:
        break;
    }
    return stage;
}

static sm_stage_t
sm_client_line(sm_conv_t *c, sm_frame_t *f, guint32 id, const sm_packet_t *pkt, const sm_line_in_t *l)
{
    sm_typing_notes(c, f, l);

    switch (c->dialogue) {
    case SM_DLG_MESSAGE:
        /* The server ends the message at the line it receives as ".". */
        if (l->raw_len == 1 && l->raw[0] == '.') {
            sm_push(c, f, id, pkt, SM_ST_MESSAGE, wmem_strdup(c->scope, "."), l);
            c->dialogue = SM_DLG_COMMANDS;
        }
        return SM_ST_MESSAGE;
    case SM_DLG_AUTH_RESPONSE:
        c->dialogue = SM_DLG_COMMANDS;
        sm_push(c, f, id, pkt, SM_ST_AUTH, wmem_strdup(c->scope, "(AUTH response)"), l);
        return SM_ST_AUTH;
    default:
        return sm_command_line(c, f, id, pkt, l);
    }
}

/* TRUE when text holds word, in any case. */
static gboolean
sm_has_word(const char *text, const char *word)
{
    char *low = g_ascii_strdown(text, -1);
    gboolean has = strstr(low, word) != NULL;

    g_free(low);
    return has;
}

/* The note on a negative reply: what the reply means, its cause where the
 * line shows one (bytes the person did not mean the server to read), and
 * what to do, by what the reply means (RFC 5321 section 4.2, RFC 3463).
 * The reply's text and the command are quotes (sm_fit). */
static char *
sm_error_reply_text(sm_conv_t *c, const sm_exchange_t *ex, const sp_reply_t *r, const char *enh, const char *text)
{
    guint16 code = r->code;
    gboolean address = r->has_enhanced && r->enh_subject == 1;
    gboolean policy = (r->has_enhanced && r->enh_subject == 7) || code == 530 || (code == 553 && !address);
    sm_quotes_t qs = { { NULL }, 0 };
    const char *said = sm_q(&qs, text, TRUE);
    /* The line as the server received it, for replies to a line it could not read. */
    const char *raw = ex->raw_text ? ex->raw_text : "";
    char *draft;

    if (code == 421 || code == 521) {
        /* The server ends the session: at a timeout, a shutdown, too many errors. */
        const char *what = ex->cmd_text ? sm_what(&qs, ex) : NULL;
        GString *g = g_string_new(NULL);
        char secs[16];
        g_string_printf(g, "The server closes the session: %u%s %s %s%s", code, enh, said,
                        what ? "to " : "(no command waiting)", what ? what : "");
        if (code == 521) {
            g_string_append_printf(g, ": it reads no more commands. %s",
                                   r->has_enhanced && r->enh_subject == 5
                                       ? "It could not read that line: type the command as RFC 5321 spells it, "
                                         "then connect again"
                                       : "It does not take mail here: use another server");
        } else {
            /* Silent since its last byte, or since the greeting when it sent none. */
            if (c->client_sent || c->greeting_code == 220) {
                nstime_t idle;
                nstime_delta(&idle, &c->now, c->client_sent ? &c->client_ts : &c->greeting_ts);
                g_string_append_printf(g, ", after %s s of client silence%s", sm_seconds(secs, nstime_to_sec(&idle)),
                                       c->client_sent ? "" : " since the greeting");
            }
            if (sm_has_word(text, "timeout") || sm_has_word(text, "timed out"))
                g_string_append(g, ": it waited too long for a command. Connect again and type each line without "
                                   "long pauses");
            else
                g_string_append(g, ". Connect again later and start over");
        }
        draft = wmem_strdup(NULL, g->str);
        g_string_free(g, TRUE);
    } else if (ex->stage == SM_ST_BANNER) {
        draft = wmem_strdup_printf(NULL, "The server refuses the session at its greeting: %u%s %s: it takes no mail "
                                   "from this client (by its address, or it is not in service). Use another server "
                                   "or network", code, enh, said);
    } else if (c->greeting_code == 554) {
        draft = wmem_strdup_printf(NULL, "The server refuses %s: %u%s %s: it refused this client at its greeting (554) "
                                   "and takes nothing from it. Use another server or network",
                                   sm_what(&qs, ex), code, enh, said);
    } else if (!ex->cmd_text) {
        draft = wmem_strdup_printf(NULL, "%s negative reply %u%s with no command waiting: %s: it answers no line of "
                                   "the capture (one sent before the capture began, or bytes that ended no line)",
                                   code < 500 ? "Transient" : "Permanent", code, enh, said);
    } else if (ex->enters) {
        draft = wmem_strdup_printf(NULL, "The server could not read %s: %u%s %s: an Enter in it sent CR NUL or a bare "
                                   "CR, which ends no line. Type the line again with Enter sending CR LF",
                                   sm_q(&qs, raw, TRUE), code, enh, said);
    } else if (ex->telnet) {
        draft = wmem_strdup_printf(NULL, "The server could not read %s: %u%s %s: it read the telnet bytes %s as "
                                   "characters. Type the line again without them (nc -C and plink -raw send none)",
                                   sm_q(&qs, raw, TRUE), code, enh, said, sm_q(&qs, ex->telnet, FALSE));
    } else if (ex->stage == SM_ST_MESSAGE) {
        draft = wmem_strdup_printf(NULL, "The server refused the message (%u%s %s after its end \".\")%s", code, enh,
                                   said,
                                   code < 500 ? ": it may take it later: send it again in a while"
                                              : ": it will not deliver it; the reply says why (content, size, sender, "
                                                "recipients or policy)");
    } else if (policy) {
        const char *todo = sm_has_word(text, "relay")
            ? "the server does not relay mail to other domains: send to an address the server itself takes mail for"
            : "authenticate first (AUTH, after STARTTLS where the server requires it), or use a server that accepts "
              "mail from you";
        draft = wmem_strdup_printf(NULL, "The server refuses %s by its policy: %u%s %s: %s", sm_what(&qs, ex), code,
                                   enh, said, todo);
    } else if (code == 504) {
        /* "Command parameter not implemented": postfix's 504 5.5.2 "need
         * fully-qualified hostname", an unknown AUTH mechanism. */
        const char *as_in = ex->stage == SM_ST_HELO ? ", as in \"HELO lab.example\""
                            : ex->stage == SM_ST_MAIL ? ", as in \"MAIL FROM:<you@lab.example>\""
                            : ex->stage == SM_ST_RCPT ? ", as in \"RCPT TO:<you@lab.example>\"" : "";
        draft = wmem_strdup_printf(NULL, "The server refuses the argument of %s: %u%s %s: type the command again with "
                                   "what the reply asks for%s",
                                   sm_what(&qs, ex), code, enh, said, as_in);
    } else if (code == 502 ||
               /* A standard verb, received as typed, that the server does not know. */
               (code == 500 && ex->stage != SM_ST_UNKNOWN && ex->raw_text == ex->cmd_text &&
                (sm_has_word(text, "not recognized") || sm_has_word(text, "unrecognized") ||
                 sm_has_word(text, "not implemented") || sm_has_word(text, "unknown command")))) {
        draft = wmem_strdup_printf(NULL, "The server does not offer %s: %u%s %s: it leaves the command out or has it "
                                   "disabled (RFC 5321 lets servers refuse VRFY, EXPN and HELP); go on without it",
                                   sm_what(&qs, ex), code, enh, said);
    } else if (code == 500 || code == 501) {
        draft = wmem_strdup_printf(NULL, "The server could not read %s: %u%s %s. Type the command again as RFC 5321 "
                                   "spells it, as in \"HELO lab.example\", \"MAIL FROM:<you@lab.example>\"",
                                   sm_q(&qs, raw, TRUE), code, enh, said);
    } else if (code == 503) {
        draft = wmem_strdup_printf(NULL, "Command out of sequence: %u%s %s to %s. Send the steps in order: HELO or "
                                   "EHLO, MAIL FROM, RCPT TO, DATA", code, enh, said, sm_what(&qs, ex));
    } else if (code == 550 || code == 551 || code == 552 || code == 553) {
        draft = wmem_strdup_printf(NULL, "The server refuses %s: %u%s %s: check the address (or size) the reply names",
                                   sm_what(&qs, ex), code, enh, said);
    } else if (code < 500) {
        draft = wmem_strdup_printf(NULL, "Transient negative reply %u%s to %s: %s: the server may accept it later; "
                                   "send it again in a while", code, enh, sm_what(&qs, ex), said);
    } else {
        draft = wmem_strdup_printf(NULL, "Permanent negative reply %u%s to %s: %s: the server will not accept it as "
                                   "sent; the reply says why", code, enh, sm_what(&qs, ex), said);
    }
    return sm_fit(c->scope, &qs, draft);
}

/* A lab step done: its markers, and the stages it completes. */
static void
sm_step_done(sm_conv_t *c, sm_frame_t *f, sm_exchange_t *ex, sm_note_kind_t cmd_mark, sm_note_kind_t reply_mark,
             sm_stage_t cmd_stage)
{
    sm_frame_t *cmd = sm_frame_by_id(c->store, ex->cmd_id);

    if (cmd) {
        sm_mark(c, cmd, cmd_mark, ex);
        sm_seen(c, cmd->num, cmd_stage);
    }
    sm_mark(c, f, reply_mark, ex);
    sm_seen(c, f->num, (sm_stage_t)(cmd_stage + 1));
}

/* Diagnoses and session changes that a final reply line brings. */
static void
sm_final_reply(sm_conv_t *c, sm_frame_t *f, sm_exchange_t *ex, const sp_reply_t *r, const sm_line_in_t *l)
{
    ex->reply_frame = f->num;
    ex->reply_ts = c->now;
    ex->code = r->code;
    ex->unread = FALSE;
    c->answered = ex;
    if (r->code == 421 || r->code == 521) {
        /* The server closes the session: what the client sent after the
         * line this answers, it never reads. */
        sm_exchange_t *q;
        c->server_gone = TRUE;
        for (q = c->queue_head; q; q = q->next) {
            q->unread = TRUE;
            if (q->server_seen)
                ex->dropped++;
        }
        c->queue_head = c->queue_tail = NULL;
    }

    switch (ex->stage) {
    case SM_ST_BANNER:
        c->greeting_code = r->code;
        c->greeting_ts = c->now;
        if (r->code == 220) {
            ex->success = TRUE;
            sm_seen(c, f->num, SM_ST_BANNER);
            sm_mark(c, f, SM_MARK_BANNER, ex);
        }
        break;
    case SM_ST_HELO:
        /* The step is done once, by the first HELO/EHLO the server accepts. */
        ex->success = r->code / 100 == 2;
        if (ex->success && !c->helo_done) {
            c->helo_done = TRUE;
            sm_step_done(c, f, ex, SM_MARK_HELO, SM_MARK_HELO_REPLY, SM_ST_HELO);
        }
        break;
    case SM_ST_QUIT:
        ex->success = r->code == 221;
        if (ex->success && !c->quit_done) {
            c->quit_done = TRUE;
            sm_step_done(c, f, ex, SM_MARK_QUIT, SM_MARK_QUIT_REPLY, SM_ST_QUIT);
        }
        break;
    case SM_ST_DATA:
        /* DATA refused: the lines after it were commands after all (the
         * ones still to come are). */
        if (r->code != 354 && c->dialogue == SM_DLG_MESSAGE)
            c->dialogue = SM_DLG_COMMANDS;
        break;
    case SM_ST_STARTTLS:
        if (r->code == 220)
            c->dialogue = SM_DLG_TLS;
        break;
    case SM_ST_AUTH:
        if (r->code == 334)
            c->dialogue = SM_DLG_AUTH_RESPONSE;
        break;
    default:
        break;
    }

    if (r->code >= 400) {
        /* Pieces of the message, freed at the end. */
        char *enh = r->has_enhanced
            ? wmem_strdup_printf(NULL, " %u.%u.%u", r->enh_class, r->enh_subject, r->enh_detail)
            : wmem_strdup(NULL, "");
        char *text = sm_quote(NULL, l->raw + MIN(r->text, l->raw_len), l->raw_len - MIN(r->text, l->raw_len));
        gboolean starttls = r->code == 530 &&
            ((r->has_enhanced && r->enh_subject == 7 && r->enh_detail == 0) || sm_has_word(text, "starttls"));
        if (starttls) {
            sm_quotes_t qs = { { NULL }, 0 };
            const char *what = sm_what(&qs, ex);
            sm_note(c, f, SM_DIAG_STARTTLS_REQUIRED, sm_fit(c->scope, &qs, wmem_strdup_printf(NULL,
                "The server demands STARTTLS before %s (%u%s: %s): send STARTTLS, then EHLO again over TLS, "
                "for example with openssl s_client -starttls smtp", what, r->code, enh, sm_q(&qs, text, TRUE))));
        } else {
            sm_note(c, f, SM_DIAG_ERROR_REPLY, sm_error_reply_text(c, ex, r, enh, text));
        }
        wmem_free(NULL, enh);
        wmem_free(NULL, text);
    }
}

/* The exchange a reply line that begins a reply answers: the greeting (220
 * or 554, the server's first words, unless the capture began later and a
 * command waits), else the oldest command waiting, else none. */
static sm_exchange_t *
sm_answered_by(sm_conv_t *c, const sp_reply_t *r)
{
    sm_exchange_t *ex;

    if (c->replies == 0 && (r->code == 220 || r->code == 554) && (!c->queue_head || c->tcp.syn_num)) {
        ex = wmem_new0(c->scope, sm_exchange_t);
        ex->stage = SM_ST_BANNER;
        return ex;
    }
    ex = sm_pop(c);
    if (!ex) {
        /* A reply with no command waiting (421 at a timeout, say). */
        ex = wmem_new0(c->scope, sm_exchange_t);
        ex->stage = SM_ST_UNKNOWN;
    }
    return ex;
}

/* On the frame of a reply's first line: the server took more than
 * SM_SLOW_REPLY_SECS to begin it, after the command line it answers, or
 * (the greeting) after the handshake the capture holds. A reply that
 * answers no command (a 421 at a timeout) is not late for anything. */
static void
sm_slow_reply(sm_conv_t *c, sm_frame_t *f, const sm_exchange_t *ex)
{
    sm_quotes_t qs = { { NULL }, 0 };
    char secs[16];
    double took;

    if (ex->cmd_frame) {
        nstime_t d;
        nstime_delta(&d, &c->now, &ex->cmd_ts);
        took = nstime_to_sec(&d);
        if (took > SM_SLOW_REPLY_SECS)
            sm_note(c, f, SM_DIAG_SLOW_REPLY, sm_fit(c->scope, &qs, wmem_strdup_printf(NULL,
                "The server took %s s to answer %s (frame %u): servers may delay replies on purpose (tarpitting "
                "against spam) or be busy. Wait for each reply before you type the next line",
                sm_seconds(secs, took), sm_what(&qs, ex), ex->cmd_frame)));
    } else if (ex->stage == SM_ST_BANNER && c->tcp.synack_num && c->tcp.frames[TT_CLIENT]) {
        /* The SYN/ACK and a client frame: both sides of the opening. */
        took = tt_since_open(&c->tcp, &c->now);
        if (took > SM_SLOW_REPLY_SECS)
            sm_note(c, f, SM_DIAG_SLOW_REPLY, wmem_strdup_printf(c->scope,
                "The server took %s s after the connection opened to send its greeting: servers may delay it on "
                "purpose (against clients that talk first) or be busy. Wait for the 220 before you type",
                sm_seconds(secs, took)));
    }
}

static sm_stage_t
sm_server_line(sm_conv_t *c, sm_frame_t *f, const sm_line_in_t *l)
{
    sp_reply_t r;
    sm_exchange_t *ex;
    gboolean first;

    if (!sp_parse_reply(l->raw, l->raw_len, &r)) {
        /* No reply code: a piece of a reply split by a bare LF, or not SMTP.
         * It answers nothing; a reply it interrupts goes on. */
        char *q = sm_quote(NULL, l->raw, l->raw_len);
        sm_quotes_t qs = { { NULL }, 0 };
        sm_note(c, f, SM_DIAG_MALFORMED_REPLY, sm_fit(c->scope, &qs, wmem_strdup_printf(NULL,
            "Server line without a reply code: %s. It answers no command: it is a piece of a reply that a bare "
            "LF split (a server echoing the client's bytes can do that), or the port does not speak SMTP",
            sm_q(&qs, q, TRUE))));
        wmem_free(NULL, q);
        return c->in_reply ? sm_reply_stage(c->in_reply->stage) : SM_ST_UNKNOWN_REPLY;
    }
    ex = c->in_reply;
    first = !ex;
    if (first)
        ex = c->in_reply = sm_answered_by(c, &r);
    c->replies++;
    sm_link(c, f, ex, FALSE);
    if (r.last) {
        c->in_reply = NULL;
        sm_final_reply(c, f, ex, &r, l);
    }
    if (first)
        sm_slow_reply(c, f, ex);
    return sm_reply_stage(ex->stage);
}

/* The stage a line being typed is heading for. */
static sm_stage_t
sm_guess(sm_conv_t *c, int dir, const sm_packet_t *pkt)
{
    if (dir == TT_SERVER) {
        const sm_exchange_t *ex = c->in_reply ? c->in_reply : c->queue_head;
        if (!c->in_reply && !c->replies && !c->queue_head)
            return SM_ST_BANNER;
        return ex ? sm_reply_stage(ex->stage) : SM_ST_UNKNOWN_REPLY;
    }
    switch (c->dialogue) {
    case SM_DLG_MESSAGE:        return SM_ST_MESSAGE;
    case SM_DLG_AUTH_RESPONSE:  return SM_ST_AUTH;
    default:                    return sm_command_stage(sp_guess_command(pkt->open_prefix, pkt->open_prefix_len));
    }
}

/* The stage of a reply the capture lacks, which the client's ACK shows it
 * received: the greeting first (after a handshake), then the reply to the
 * oldest command waiting; after the client's FIN, the server's. */
static sm_stage_t
sm_unseen_reply(sm_conv_t *c)
{
    sm_exchange_t *ex;

    /* Once the client has closed, what it acknowledges is the server's FIN. */
    if (c->tcp.closed)
        return SM_ST_TEARDOWN;
    if (!c->unseen_greeting && c->tcp.syn_num) {
        c->unseen_greeting = TRUE;
        return SM_ST_BANNER;
    }
    c->unseen_greeting = TRUE;
    ex = sm_pop(c);
    return ex ? sm_reply_stage(ex->stage) : SM_ST_UNKNOWN_REPLY;
}

static void
sm_payload(sm_conv_t *c, sm_frame_t *f, guint32 id, const sm_packet_t *pkt, int dir)
{
    guint32 i;

    if (c->dialogue == SM_DLG_TLS) {
        f->role = SM_ROLE_DATA;
        f->stage = SM_ST_TLS;
        return;
    }
    if (!pkt->lines_known) {
        /* Bytes the keystroke layer did not read: a retransmission takes
         * the stage of the segment it repeats, anything else (out of
         * order, say) that of the data sent last in its direction. */
        f->role = SM_ROLE_DATA;
        f->ref = tt_data_frame(&c->tcp, dir, pkt->seq, pkt->payload_len);
        if (!f->ref)
            f->stage = c->last_stage ? c->last_stage : SM_ST_UNKNOWN;
        return;
    }

    if (dir == TT_CLIENT) {
        c->client_ts = pkt->ts;
        c->client_sent = TRUE;
        sm_enter_notes(c, f, pkt);
        if (pkt->telnet_commands)
            sm_note(c, f, SM_DIAG_TELNET_NEGOTIATION, sm_telnet_text(c, pkt));
        /* Chunk bytes come right after their BDAT line, or first in the segment. */
        if (pkt->chunk_bytes && !pkt->nlines)
            sm_frame_add_stage(c, f, SM_ST_BDAT);
    }

    for (i = 0; i < pkt->nlines; i++) {
        sm_stage_t st = dir == TT_CLIENT ? sm_client_line(c, f, id, pkt, &pkt->lines[i])
                                         : sm_server_line(c, f, &pkt->lines[i]);
        /* Only a line begun in earlier frames is pointed at (by them). */
        if (i == 0 && pkt->continues_line && c->open[dir])
            ((sm_line_t *)ft_pool_get(&c->store->lines, c->open[dir]))->stage = (guint8)st;
        sm_frame_add_stage(c, f, st);
    }
    if (pkt->nlines && pkt->chunk_bytes)
        sm_frame_add_stage(c, f, SM_ST_BDAT);
    if (pkt->nlines)
        c->open[dir] = 0;

    if (pkt->nlines)
        f->role = dir == TT_CLIENT ? SM_ROLE_LINE : SM_ROLE_REPLY;
    else if (pkt->chunk_bytes)
        f->role = SM_ROLE_DATA;
    else
        f->role = dir == TT_CLIENT ? SM_ROLE_KEYSTROKE : SM_ROLE_REPLY;
    if (pkt->leaves_line) {
        if (!(pkt->nlines == 0 && pkt->continues_line && c->open[dir]))
            ft_pool_add(&c->store->lines, &c->open[dir]);
        if (!pkt->nlines && !pkt->chunk_bytes) {
            f->ref = c->open[dir];
            f->has_line = 1;
            f->guess = (guint8)sm_guess(c, dir, pkt);
            /* A line never completed shows, on all its frames, the stage
             * its last bytes head for. */
            ((sm_line_t *)ft_pool_get(&c->store->lines, c->open[dir]))->guess = f->guess;
        }
    }
    if (!f->stage && !f->has_line)
        f->stage = c->last_stage ? c->last_stage : SM_ST_UNKNOWN;
}

sm_frame_t *
sm_process(sm_conv_t *c, const sm_packet_t *pkt)
{
    guint32 id;
    sm_frame_t *f = (sm_frame_t *)ft_pool_add(&c->store->frames, &id);
    int dir = pkt->from_client ? TT_CLIENT : TT_SERVER;
    guint ev;
    char secs[16];

    c->now = pkt->ts;
    c->amended = NULL;
    f->num = pkt->num;
    f->from_client = pkt->from_client ? 1 : 0;
    f->progress_before = c->progress;
    f->conv = c->id;
    if (!ft_get(&c->store->by_num, pkt->num))
        ft_set(&c->store->by_num, pkt->num, id);
    if (!c->first_frame)
        c->first_frame = pkt->num;

    ev = tt_segment(&c->tcp, dir, pkt->flags, pkt->seq, pkt->ack, pkt->payload_len, pkt->num, &pkt->ts);
    if (ev & TT_EV_RST) {
        f->role = SM_ROLE_RST;
        f->stage = SM_ST_TEARDOWN;
        if (ev & TT_EV_REFUSED) {
            sm_seen(c, f->num, SM_ST_TEARDOWN);
            sm_note(c, f, SM_DIAG_PORT_BLOCKED, wmem_strdup_printf(c->scope,
                "Connection refused: the server answered the SYN to port %u (frame %u) with RST. Nothing accepts "
                "connections on that port, or a firewall rejects them; port 25 is often blocked by ISPs: "
                "try port 587", c->server_port, c->tcp.syn_num));
        } else if (ev & TT_EV_CLOSE) {
            sm_closing(c, f, pkt->from_client);
        }
    } else if (ev & TT_EV_SYN) {
        f->role = SM_ROLE_SYN;
        f->stage = SM_ST_HANDSHAKE;
        if (ev & TT_EV_SYN_AGAIN)
            sm_note(c, f, SM_DIAG_PORT_BLOCKED, wmem_strdup_printf(c->scope,
                "No answer to the SYN to port %u: sent again %s s after frame %u. A firewall drops it; "
                "port 25 is often blocked by ISPs: try port 587",
                c->server_port, sm_seconds(secs, tt_since_syn(&c->tcp, &pkt->ts)), c->tcp.syn_num));
    } else if (ev & TT_EV_SYN_ACK) {
        f->role = SM_ROLE_SYN_ACK;
        f->stage = SM_ST_HANDSHAKE;
    } else {
        /* A reply the capture lacks comes before the client's next lines. */
        sm_stage_t unseen = (ev & TT_EV_ACK_UNSEEN) ? sm_unseen_reply(c) : SM_ST_NONE;
        if (ev & TT_EV_HANDSHAKE) {
            sm_note_t *n;
            sm_seen(c, f->num, SM_ST_HANDSHAKE);
            n = sm_note_add(c, f, SM_MARK_HANDSHAKE);
            n->u.frames[0] = c->tcp.syn_num;
            n->u.frames[1] = c->tcp.synack_num;
        }
        if (pkt->payload_len > 0) {
            sm_payload(c, f, id, pkt, dir);
            if ((ev & TT_EV_FIN) && !f->has_line)
                sm_frame_add_stage(c, f, SM_ST_TEARDOWN);
        } else if (ev & TT_EV_FIN) {
            f->role = SM_ROLE_FIN;
            f->stage = SM_ST_TEARDOWN;
        } else {
            f->role = SM_ROLE_ACK;
            if (pkt->flags & TT_TH_ACK)
                f->ref = tt_acked_frame(&c->tcp, 1 - dir, pkt->ack);
            if (f->ref && sm_frame_has_stage(c->store, sm_frame_by_id(c->store, f->ref), SM_ST_TEARDOWN)) {
                /* The ACK of a FIN (that came with data) is teardown's. */
                f->ref = 0;
                f->stage = SM_ST_TEARDOWN;
            }
            if (!f->ref && !f->stage && unseen)
                f->stage = (guint8)unseen;
            if (!f->ref && !f->stage)
                f->stage = c->last_stage ? c->last_stage : SM_ST_UNKNOWN;
        }
        if (ev & TT_EV_CLOSE)
            sm_closing(c, f, pkt->from_client);
    }
    tt_sent(&c->tcp, dir, pkt->flags, pkt->seq, pkt->payload_len, id);

    if (c->progress == SM_PROGRESS_ALL && f->progress_before != SM_PROGRESS_ALL)
        f->completes = 1;
    if (ev & TT_EV_ANSWERS)
        f->answers_syn = 1;
    f->progress = c->progress;
    c->last_stage = (guint8)sm_frame_stage(c->store, f);
    return f;
}

sm_stage_t
sm_frame_stage(const sm_store_t *store, const sm_frame_t *f)
{
    guint depth;

    for (depth = 0; f && depth < 8; depth++) {
        if (f->stage)
            return (sm_stage_t)f->stage;
        if (f->has_line) {
            const sm_line_t *line = (const sm_line_t *)ft_pool_get(&store->lines, f->ref);
            if (line->stage)
                return (sm_stage_t)line->stage;
            if (line->guess && line->guess != SM_ST_UNKNOWN)
                return (sm_stage_t)line->guess;
            return (sm_stage_t)(f->guess ? f->guess : SM_ST_UNKNOWN);
        }
        f = sm_frame_by_id(store, f->ref);
    }
    return SM_ST_UNKNOWN;
}

guint
sm_frame_stages(const sm_store_t *store, const sm_frame_t *f, sm_stage_t *out, guint max)
{
    const sm_extra_t *x;
    guint n = 0, st, depth;

    if (max == 0)
        return 0;
    out[n++] = sm_frame_stage(store, f);
    /* An ACK or a retransmission has the stages of the frame it follows. */
    for (depth = 0; f && !f->stage && !f->has_line && f->ref && depth < 8; depth++)
        f = sm_frame_by_id(store, f->ref);
    if (!f || f->has_line)
        return n;
    x = sm_extra_of(store, f);
    if (!x || !x->stages)
        return n;
    for (st = SM_ST_NONE + 1; st < SM_ST_COUNT && n < max; st++) {
        if (x->stages & (G_GUINT64_CONSTANT(1) << st))
            out[n++] = (sm_stage_t)st;
    }
    return n;
}

void
sm_final_notes(const sm_store_t *store, const sm_frame_t *f, wmem_allocator_t *scope, sm_note_cb cb, void *user)
{
    const sm_conv_t *c = sm_frame_conv(store, f);
    const tt_conn_t *t = &c->tcp;
    gboolean one_side = tt_one_direction(t);
    const sm_link_t *l;

    /* A capture filter on one direction ("dst port 25" keeps the client's side) is the usual cause. */
    if (f->num == c->first_frame && one_side)
        cb(SM_DIAG_ONE_DIRECTION, wmem_strdup_printf(scope,
            "Only the %s's side is captured (%u frames): %s, nor a note that needs %s. Capture both directions, on "
            "the client or server: filter \"tcp port %u\", not \"%s port %u\"",
            t->frames[TT_CLIENT] ? "client" : "server", t->frames[TT_CLIENT] ? t->frames[TT_CLIENT]
                                                                                : t->frames[TT_SERVER],
            t->frames[TT_CLIENT] ? "no reply (greeting, closing) can be shown"
                                 : "no command can be shown, nor which one a reply answers",
            t->frames[TT_CLIENT] ? "one" : "them", c->server_port, t->frames[TT_CLIENT] ? "dst" : "src",
            c->server_port), user);
    if (one_side)
        return;
    for (l = sm_frame_links(store, f); l; l = l->next) {
        sm_quotes_t qs = { { NULL }, 0 };
        if (!l->request || l->ex->reply_frame || l->ex->unread || c->dialogue == SM_DLG_TLS)
            continue;
        if (l->ex->enters)
            cb(SM_DIAG_NO_REPLY, sm_fit(scope, &qs, wmem_strdup_printf(NULL, "No reply to %s in this capture: an "
                "Enter in it sent CR NUL or a bare CR, which ends no line, so the server is still waiting for the "
                "line's end. Press Ctrl+J (LF), or set the client to send CR LF", sm_what(&qs, l->ex))), user);
        else
            cb(SM_DIAG_NO_REPLY, sm_fit(scope, &qs, wmem_strdup_printf(NULL, "No reply to %s in this capture: the "
                "capture ends, or the connection closes, before the server answers. Wait for each reply before the "
                "next line, and keep capturing until it comes", sm_what(&qs, l->ex))), user);
    }
    if (f->num == t->syn_num && tt_syn_unanswered(t))
        cb(SM_DIAG_PORT_BLOCKED, wmem_strdup_printf(scope,
            "The SYN to port %u got no answer in this capture. A firewall may drop it; port 25 is often "
            "blocked by ISPs: try port 587", c->server_port), user);
}

guint32
sm_conv_lab_frame(const sm_conv_t *conv, sm_stage_t lab_stage)
{
    if (lab_stage < SM_ST_HANDSHAKE || lab_stage > SM_ST_TEARDOWN)
        return 0;
    return conv->lab_frame[lab_stage - SM_ST_HANDSHAKE];
}

guint32
sm_conv_syn_frame(const sm_conv_t *conv)
{
    return conv->tcp.syn_num;
}

guint32
sm_conv_synack_frame(const sm_conv_t *conv)
{
    return conv->tcp.synack_num;
}

guint32
sm_conv_first_frame(const sm_conv_t *conv)
{
    return conv->first_frame;
}

guint32
sm_conv_number(const sm_conv_t *conv)
{
    return conv->id;
}

gboolean
sm_conv_in_tls(const sm_conv_t *conv)
{
    return conv->dialogue == SM_DLG_TLS;
}

const sm_frame_t *
sm_conv_amended(const sm_conv_t *conv)
{
    return conv->amended;
}

guint8
sm_conv_progress(const sm_conv_t *conv)
{
    return conv->progress;
}

void
sm_conv_failed_attempts(const sm_conv_t *conv, sm_stage_t lab_stage, sm_attempt_cb cb, void *user)
{
    const sm_exchange_t *ex;

    for (ex = conv->commands; ex; ex = ex->all_next) {
        if (ex->stage == lab_stage && !ex->success)
            cb(ex, user);
    }
}
