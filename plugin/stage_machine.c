/* stage_machine.c
 * The SMTP Lab stage machine: stages, command-reply matching, markers and
 * diagnoses for the frames of one TCP connection.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "stage_machine.h"

#include <string.h>

#include "escape.h"
#include "frame_table.h"
#include "line_assembly.h"

typedef enum {
    SM_MODE_COMMANDS = 0,
    SM_MODE_MESSAGE,  /* after 354: message lines up to the lone "." */
    SM_MODE_BDAT,     /* inside a BDAT chunk */
    SM_MODE_TLS       /* after STARTTLS and its 220 */
} sm_mode_t;

/* Direction indexes. */
#define SM_CLIENT 0
#define SM_SERVER 1

/* Commands quoted in messages are cut to this many bytes. */
#define SM_QUOTE_MAX 60

/* The frames that sent data, SYN or FIN in one direction, by the relative
 * sequence number just past them: sorted, in capture order almost always
 * appended at the end. 8 bytes a frame (a wmem_tree node took 64). */
typedef struct {
    guint32 end;
    guint32 id;                   /* the frame's record in the store */
} sm_sent_t;

typedef struct {
    sm_sent_t *v;
    guint32 n, cap;
} sm_sent_list_t;

/* The records of a capture's frames. Records, lines and extras are named
 * by their index in their pool (from 1), so that a frame record needs no
 * pointer. */
struct sm_store {
    wmem_allocator_t *scope;
    ft_table_t by_num;            /* frame number -> record index */
    ft_pool_t frames;             /* sm_frame_t */
    ft_pool_t lines;              /* guint8: the stage of a line, SM_ST_NONE until complete */
    ft_pool_t extras;             /* sm_extra_t */
    ft_pool_t convs;              /* sm_conv_t * */
};

/* What few frames have: markers, diagnoses, command-reply links. */
typedef struct {
    sm_note_t *notes;
    sm_link_t *links;
} sm_extra_t;

struct sm_conv {
    wmem_allocator_t *scope;
    sm_store_t *store;
    guint32 id;                   /* index in store->convs */
    nstime_t now;                 /* time of the frame being processed */
    guint16 server_port;
    gboolean base_known[2];
    guint32 base[2];              /* sequence number before the first byte */
    sm_sent_list_t sent[2];       /* frames that carried data, SYN or FIN, by relative end */
    guint32 last_sent[2];         /* the frame that sent last (record index), 0: none yet */
    guint32 open[2];              /* the line being typed (index in store->lines), 0 between lines */
    sm_frame_t *syn;
    sm_frame_t *synack;
    guint32 syn_count;
    nstime_t syn_ts;
    gboolean handshake_done;
    gboolean refused;
    gboolean closed;
    gboolean quit_sent;
    gboolean banner_done;
    gboolean auth_continues;      /* a 334 asked for an AUTH response line */
    guint8 mode;                  /* sm_mode_t */
    guint64 bdat_left;
    sm_exchange_t *queue_head;    /* commands waiting for their reply, oldest first */
    sm_exchange_t *queue_tail;
    sm_exchange_t *in_reply;      /* the exchange whose multi-line reply goes on */
    guint8 progress;
    guint8 last_stage;
    guint32 first_frame;
    guint32 lab_frame[SM_LAB_STAGES]; /* where each lab stage was first reached */
    sm_frame_t *amended;          /* an earlier frame the last sm_process gave a note, or NULL */
};

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

/* A lab stage reached at frame f; the first time is kept for reports. */
static void
sm_seen(sm_conv_t *c, const sm_frame_t *f, sm_stage_t lab_stage)
{
    guint i = lab_stage - SM_ST_HANDSHAKE;

    c->progress |= (guint8)(1u << i);
    if (!c->lab_frame[i])
        c->lab_frame[i] = f->num;
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
    ft_pool_init(&s->lines, scope, sizeof(guint8));
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

const sm_note_t *
sm_frame_notes(const sm_store_t *store, const sm_frame_t *f)
{
    return f->extra ? ((const sm_extra_t *)ft_pool_get(&store->extras, f->extra))->notes : NULL;
}

const sm_link_t *
sm_frame_links(const sm_store_t *store, const sm_frame_t *f)
{
    return f->extra ? ((const sm_extra_t *)ft_pool_get(&store->extras, f->extra))->links : NULL;
}

/* The first index whose end is >= key. */
static guint32
sm_sent_search(const sm_sent_list_t *l, guint32 key)
{
    guint32 lo = 0, hi = l->n;

    while (lo < hi) {
        guint32 mid = lo + (hi - lo) / 2;
        if (l->v[mid].end < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Records frame f as sending up to key; a frame recorded before with the
 * same end is replaced, as a retransmission replaces what it repeats. */
static void
sm_sent_insert(sm_conv_t *c, sm_sent_list_t *l, guint32 key, guint32 id)
{
    guint32 i;

    if (l->n && l->v[l->n - 1].end < key) {
        i = l->n;
    } else {
        i = sm_sent_search(l, key);
        if (i < l->n && l->v[i].end == key) {
            l->v[i].id = id;
            return;
        }
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = (sm_sent_t *)wmem_realloc(c->scope, l->v, l->cap * sizeof(sm_sent_t));
    }
    if (i < l->n)
        memmove(&l->v[i + 1], &l->v[i], (l->n - i) * sizeof(sm_sent_t));
    l->v[i].end = key;
    l->v[i].id = id;
    l->n++;
}

/* The frame that sent up to exactly key, or 0. */
static guint32
sm_sent_lookup(const sm_sent_list_t *l, guint32 key)
{
    guint32 i = sm_sent_search(l, key);

    return (i < l->n && l->v[i].end == key) ? l->v[i].id : 0;
}

/* The frame with the largest end <= key, or 0. */
static guint32
sm_sent_lookup_le(const sm_sent_list_t *l, guint32 key)
{
    guint32 i;

    if (l->n && l->v[l->n - 1].end <= key)
        return l->v[l->n - 1].id;
    i = sm_sent_search(l, key);
    if (i < l->n && l->v[i].end == key)
        return l->v[i].id;
    return i ? l->v[i - 1].id : 0;
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

/* What a reply answers, for messages: the command quoted, or the
 * connection (the banner), or no command. */
static char *
sm_exchange_what(wmem_allocator_t *scope, const sm_exchange_t *ex)
{
    if (ex->cmd_text)
        return wmem_strdup_printf(scope, "\"%s\"", ex->cmd_text);
    return wmem_strdup(scope, ex->stage == SM_ST_BANNER ? "the connection" : "no command");
}

const char *
sm_note_text(const sm_note_t *n, guint32 num, wmem_allocator_t *scope)
{
    const sm_exchange_t *ex = n->u.ex;

    switch (n->kind) {
    case SM_MARK_HANDSHAKE:
        return wmem_strdup_printf(scope,
            "Activity 3: TCP three-way handshake complete: SYN (frame %u), SYN/ACK (frame %u), ACK (frame %u)",
            n->u.frames[0], n->u.frames[1], num);
    case SM_MARK_BANNER:
        return wmem_strdup_printf(scope, "Activity 4: the server's %u greeting (banner)%s", ex->code,
            ex->code == 220 ? ": service ready, the client may send HELO or EHLO" : "");
    case SM_MARK_HELO:
        return wmem_strdup_printf(scope, "Activity 5: the client greets the server with \"%s\" (%u segment%s)",
            ex->cmd_text, ex->segments, ex->segments == 1 ? "" : "s");
    case SM_MARK_HELO_REPLY: {
        char *what = sm_exchange_what(NULL, ex);
        char *text = wmem_strdup_printf(scope, "Activity 6: the server answers %s with %u%s", what, ex->code,
            ex->code / 100 == 2 ? " (accepted)" : "");
        wmem_free(NULL, what);
        return text;
    }
    case SM_MARK_QUIT:
        return wmem_strdup_printf(scope, "Activity 7: the client ends the session with \"%s\" (%u segment%s)",
            ex->cmd_text, ex->segments, ex->segments == 1 ? "" : "s");
    case SM_MARK_QUIT_REPLY:
        return wmem_strdup_printf(scope, "Activity 8: the server answers QUIT with %u%s", ex->code,
            ex->code == 221 ? " (closing): the connection closes next" : "");
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
    case SM_ST_AUTH: case SM_ST_BDAT: case SM_ST_UNKNOWN:
        return (sm_stage_t)(cmd_stage + 1);
    default:
        return SM_ST_UNKNOWN_REPLY;
    }
}

/* The note on a frame whose client bytes hold telnet commands. An SMTP
 * server reads their bytes as characters: inside a line typed so far (telnet's
 * Ctrl+] send ...), or at the start of the next one (option negotiation). */
static char *
sm_telnet_text(sm_conv_t *c, const sm_packet_t *pkt)
{
    const char *s = pkt->telnet_commands == 1 ? "" : "s";
    const char *names = pkt->telnet_text ? pkt->telnet_text : "";

    if (pkt->telnet_in_line)
        return wmem_strdup_printf(c->scope,
            "Telnet command%s %s sent in the middle of a line: the SMTP server does not speak telnet and reads "
            "the bytes as part of this line, which it will not understand. telnet sends them for Ctrl+] send, "
            "a mode change or a window resize; if the line gets an error reply, type it again", s, names);
    return wmem_strdup_printf(c->scope,
        "Telnet command%s %s sent to an SMTP server, which does not speak telnet: the bytes become the start of "
        "the next line it reads, which it will not understand. telnet sends them after Ctrl+] mode character "
        "(Ctrl+] mode line goes back); plink -telnet and busybox telnet send them at connect: use plink -raw or "
        "nc -C instead", s, names);
}

static sm_exchange_t *
sm_push(sm_conv_t *c, sm_frame_t *f, const sm_packet_t *pkt, sm_stage_t stage, char *text, const sm_line_in_t *l)
{
    sm_exchange_t *ex = wmem_new0(c->scope, sm_exchange_t);
    guint32 crnul, cr;

    ex->stage = stage;
    ex->cmd_frame = f->num;
    ex->cmd_ts = pkt->ts;
    ex->cmd_text = text;
    ex->raw_text = sm_quote(c->scope, l->raw, l->raw_len);
    /* Most lines are received as meant: keep one copy. */
    if (strcmp(ex->raw_text, text) == 0) {
        wmem_free(c->scope, ex->raw_text);
        ex->raw_text = text;
    }
    ex->segments = l->segments;
    /* A CR inside a line is an Enter press that ended nothing. */
    ex->enters = la_count_enters(l->raw, l->raw_len, TRUE, &crnul, &cr) > 0;
    /* Telnet bytes the server read as characters of the line. */
    ex->telnet = esc_line_telnet_commands(c->scope, l->raw, l->raw_len, 4);
    if (c->queue_tail)
        c->queue_tail->next = ex;
    else
        c->queue_head = ex;
    c->queue_tail = ex;
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

/* The first close of the connection (FIN or RST). */
static void
sm_closing(sm_conv_t *c, sm_frame_t *f, gboolean from_client)
{
    if (c->closed)
        return;
    c->closed = TRUE;
    sm_seen(c, f, SM_ST_TEARDOWN);
    /* After STARTTLS the commands are encrypted: QUIT cannot be seen. */
    /* A client may close right after QUIT, before the 221 arrives: a QUIT
     * left unanswered is no_reply's business. */
    if (c->handshake_done && c->mode != SM_MODE_TLS && !c->quit_sent)
        sm_note(c, f, SM_DIAG_NO_QUIT, wmem_strdup_printf(c->scope,
            "The %s closed the connection without QUIT: a session ends with QUIT and the server's 221 reply",
            from_client ? "client" : "server"));
}

/* Enter presses that ended no line: the server has received no line end
 * and still waits for LF. A bare CR is known once the byte after it comes,
 * so when it ended an earlier segment the note goes to that frame. */
static void
sm_enter_notes(sm_conv_t *c, sm_frame_t *f, const sm_packet_t *pkt)
{
    static const char crnul[] =
        "Enter sent CR NUL (telnet character mode), which ends no line: the server reads a line up to LF, so it "
        "has received no line end yet and what is typed next joins this line. In telnet press Ctrl+] and type "
        "\"toggle crlf\", or use line mode (\"mode line\")";
    static const char bare_cr[] =
        "Enter sent a bare CR, which ends no line: the server reads a line up to LF, so it has received no line "
        "end yet and what is typed next joins this line. With socat add the crnl option "
        "(socat -,raw,echo=0,crnl TCP:host:25), with nc use nc -C, or press Ctrl+J to send the LF";
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
    if (l->backspaces)
    {
        char *raw = sm_quote(NULL, l->raw, l->raw_len);
        char *edited = sm_quote(NULL, l->edited, l->edited_len);
        sm_note(c, f, SM_DIAG_EDITING, wmem_strdup_printf(c->scope,
            "%u erase keystroke%s sent: the server receives \"%s\", not \"%s\". Type the line again without corrections",
            l->backspaces, l->backspaces == 1 ? "" : "s", raw, edited));
        wmem_free(NULL, raw);
        wmem_free(NULL, edited);
    }
}

/* A command line (or the command after a BDAT chunk): its stage. */
static sm_stage_t
sm_command_line(sm_conv_t *c, sm_frame_t *f, const sm_packet_t *pkt, const sm_line_in_t *l,
                const guint8 *text, size_t len)
{
    size_t param;
    sp_command_t cmd = sp_parse_command(text, len, &param);
    sm_stage_t stage = sm_command_stage(cmd);
    char *quote = sm_quote(c->scope, text, len);
    sm_exchange_t *ex = sm_push(c, f, pkt, stage, quote, l);

    switch (cmd) {
    case SP_CMD_HELO:
    case SP_CMD_EHLO:
        sm_seen(c, f, SM_ST_HELO);
        sm_mark(c, f, SM_MARK_HELO, ex);
        if (param >= len)
            sm_note(c, f, SM_DIAG_HELO_NO_DOMAIN, wmem_strdup_printf(c->scope,
                "%s without a domain: RFC 5321 requires the client's name, as in \"%s lab.example\"; "
                "servers may answer 501", sp_command_name(cmd), sp_command_name(cmd)));
        break;
    case SP_CMD_QUIT:
        c->quit_sent = TRUE;
        sm_seen(c, f, SM_ST_QUIT);
        sm_mark(c, f, SM_MARK_QUIT, ex);
        break;
    case SP_CMD_BDAT: {
        guint64 size;
        gboolean last;
        if (sp_parse_bdat(text + param, len - param, &size, &last) && size > 0) {
            c->mode = SM_MODE_BDAT;
            c->bdat_left = size;
        }
        break;
    }
    default:
        break;
    }
    return stage;
}

static sm_stage_t
sm_client_line(sm_conv_t *c, sm_frame_t *f, const sm_packet_t *pkt, const sm_line_in_t *l)
{
    if (c->mode == SM_MODE_BDAT) {
        size_t skip;
        if (c->bdat_left >= l->total_len) {
            c->bdat_left -= l->total_len;
            if (c->bdat_left == 0)
                c->mode = SM_MODE_COMMANDS;
            return SM_ST_BDAT;
        }
        /* The chunk ends inside this line: what follows is a command. */
        skip = (size_t)c->bdat_left;
        c->bdat_left = 0;
        c->mode = SM_MODE_COMMANDS;
        if (skip >= l->raw_len)
            return SM_ST_BDAT;
        return sm_command_line(c, f, pkt, l, l->raw + skip, l->raw_len - skip);
    }

    sm_typing_notes(c, f, l);

    if (c->mode == SM_MODE_MESSAGE) {
        if (l->edited_len == 1 && l->edited[0] == '.') {
            sm_push(c, f, pkt, SM_ST_MESSAGE, wmem_strdup(c->scope, "."), l);
            c->mode = SM_MODE_COMMANDS;
        }
        return SM_ST_MESSAGE;
    }
    if (c->auth_continues) {
        c->auth_continues = FALSE;
        sm_push(c, f, pkt, SM_ST_AUTH, wmem_strdup(c->scope, "(AUTH response)"), l);
        return SM_ST_AUTH;
    }
    return sm_command_line(c, f, pkt, l, l->edited, l->edited_len);
}

/* The note on a negative reply: the reply, then its cause where the line
 * shows one (bytes the person did not mean the server to read), then what
 * to do. */
static char *
sm_error_reply_text(sm_conv_t *c, const sm_exchange_t *ex, const sp_reply_t *r, const char *enh, const char *text,
                    const char *what)
{
    const char *cause = "";

    if (ex->enters)
        cause = ": an Enter in the line sent CR NUL or a bare CR, which ends no line, so the server read what was "
                "typed before and after it as one line";
    else if (ex->telnet)
        cause = wmem_strdup_printf(c->scope, ": the line holds the telnet command bytes %s, which the server read "
                                   "as characters of the command", ex->telnet);
    return wmem_strdup_printf(c->scope, "%s negative reply %u%s to %s: \"%s\"%s%s",
                              r->code < 500 ? "Transient" : "Permanent", r->code, enh, what, text, cause,
                              r->code < 500 ? ": the server may accept it later"
                                            : ": correct the command before sending it again");
}

/* Diagnoses and session changes that a final reply line brings. */
static void
sm_final_reply(sm_conv_t *c, sm_frame_t *f, sm_exchange_t *ex, const sp_reply_t *r, const sm_line_in_t *l)
{
    ex->reply_frame = f->num;
    ex->reply_ts = c->now;
    ex->code = r->code;

    switch (ex->stage) {
    case SM_ST_BANNER:
        c->banner_done = TRUE;
        sm_seen(c, f, SM_ST_BANNER);
        sm_mark(c, f, SM_MARK_BANNER, ex);
        break;
    case SM_ST_HELO:
        sm_seen(c, f, SM_ST_HELO_REPLY);
        sm_mark(c, f, SM_MARK_HELO_REPLY, ex);
        break;
    case SM_ST_QUIT:
        sm_seen(c, f, SM_ST_QUIT_REPLY);
        sm_mark(c, f, SM_MARK_QUIT_REPLY, ex);
        break;
    case SM_ST_DATA:
        if (r->code == 354)
            c->mode = SM_MODE_MESSAGE;
        break;
    case SM_ST_STARTTLS:
        if (r->code == 220)
            c->mode = SM_MODE_TLS;
        break;
    case SM_ST_AUTH:
        if (r->code == 334)
            c->auth_continues = TRUE;
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
        char *what = sm_exchange_what(NULL, ex);
        gboolean starttls = r->code == 530 &&
            ((r->has_enhanced && r->enh_subject == 7 && r->enh_detail == 0) ||
             g_strstr_len(text, -1, "STARTTLS") || g_strstr_len(text, -1, "starttls"));
        if (starttls)
            sm_note(c, f, SM_DIAG_STARTTLS_REQUIRED, wmem_strdup_printf(c->scope,
                "The server demands STARTTLS before %s (%u%s: \"%s\"): send STARTTLS, then EHLO again over TLS, "
                "for example with openssl s_client -starttls smtp", what, r->code, enh, text));
        else
            sm_note(c, f, SM_DIAG_ERROR_REPLY, sm_error_reply_text(c, ex, r, enh, text, what));
        wmem_free(NULL, enh);
        wmem_free(NULL, text);
        wmem_free(NULL, what);
    }
}

static sm_stage_t
sm_server_line(sm_conv_t *c, sm_frame_t *f, const sm_line_in_t *l)
{
    sp_reply_t r;
    gboolean ok = sp_parse_reply(l->raw, l->raw_len, &r);
    sm_exchange_t *ex = c->in_reply;

    if (!ex) {
        /* The server speaks first: its first reply is the banner (220, or
         * 554 for "no service"), unless the capture began later. A line
         * that is no reply (HTTP, TLS, noise) is no banner. */
        if (!c->banner_done && ok && (c->syn || r.code == 220 || r.code == 554)) {
            ex = wmem_new0(c->scope, sm_exchange_t);
            ex->stage = SM_ST_BANNER;
        } else {
            c->banner_done = TRUE;
            ex = sm_pop(c);
        }
        if (!ex) {
            /* A reply that answers no command (421 on a timeout, say). */
            ex = wmem_new0(c->scope, sm_exchange_t);
            ex->stage = SM_ST_UNKNOWN;
        }
        c->in_reply = ex;
    }
    sm_link(c, f, ex, FALSE);
    if (!ok || r.last) {
        c->in_reply = NULL;
        if (!ok) {
            ex->reply_frame = f->num;
            ex->reply_ts = c->now;
        } else {
            sm_final_reply(c, f, ex, &r, l);
        }
    }
    return sm_reply_stage(ex->stage);
}

/* The stage a line being typed is heading for. */
static sm_stage_t
sm_guess(sm_conv_t *c, int dir, const sm_packet_t *pkt)
{
    if (dir == SM_SERVER) {
        sm_exchange_t *ex = c->in_reply ? c->in_reply : c->queue_head;
        if (!c->in_reply && !c->banner_done)
            return SM_ST_BANNER;
        return ex ? sm_reply_stage(ex->stage) : SM_ST_UNKNOWN_REPLY;
    }
    switch (c->mode) {
    case SM_MODE_MESSAGE: return SM_ST_MESSAGE;
    case SM_MODE_BDAT:    return SM_ST_BDAT;
    default: break;
    }
    if (c->auth_continues)
        return SM_ST_AUTH;
    return sm_command_stage(sp_guess_command(pkt->open_prefix, pkt->open_prefix_len));
}

static guint32
sm_rel(const sm_conv_t *c, int dir, guint32 seq)
{
    return seq - c->base[dir];
}

static void
sm_payload(sm_conv_t *c, sm_frame_t *f, const sm_packet_t *pkt, int dir)
{
    guint32 i;
    sm_stage_t first = SM_ST_NONE;

    if (c->mode == SM_MODE_TLS) {
        f->role = SM_ROLE_DATA;
        f->stage = SM_ST_TLS;
        return;
    }
    if (!pkt->lines_known) {
        /* Bytes the keystroke layer did not read: a retransmission takes
         * the stage of the segment it repeats, anything else (out of
         * order, say) that of the data sent last in its direction. */
        f->role = SM_ROLE_DATA;
        f->ref = sm_sent_lookup(&c->sent[dir], sm_rel(c, dir, pkt->seq + pkt->payload_len));
        if (!f->ref)
            f->ref = c->last_sent[dir];
        if (!f->ref)
            f->stage = c->last_stage ? c->last_stage : SM_ST_UNKNOWN;
        return;
    }

    if (dir == SM_CLIENT)
        sm_enter_notes(c, f, pkt);
    if (dir == SM_CLIENT && pkt->telnet_commands)
        sm_note(c, f, SM_DIAG_TELNET_NEGOTIATION, sm_telnet_text(c, pkt));

    for (i = 0; i < pkt->nlines; i++) {
        sm_stage_t st = dir == SM_CLIENT ? sm_client_line(c, f, pkt, &pkt->lines[i])
                                         : sm_server_line(c, f, &pkt->lines[i]);
        /* Only a line begun in earlier frames is pointed at (by them). */
        if (i == 0 && pkt->continues_line && c->open[dir])
            *(guint8 *)ft_pool_get(&c->store->lines, c->open[dir]) = (guint8)st;
        if (i == 0)
            first = st;
    }
    if (pkt->nlines)
        c->open[dir] = 0;

    if (pkt->nlines) {
        f->stage = (guint8)first;
        f->role = dir == SM_CLIENT ? SM_ROLE_LINE : SM_ROLE_REPLY;
    } else {
        /* Part of a command being typed; inside a message or a BDAT chunk
         * it is part of the content instead. */
        f->role = (dir == SM_CLIENT && c->mode == SM_MODE_COMMANDS) ? SM_ROLE_KEYSTROKE : SM_ROLE_DATA;
    }
    if (pkt->leaves_line) {
        if (!(pkt->nlines == 0 && pkt->continues_line && c->open[dir]))
            ft_pool_add(&c->store->lines, &c->open[dir]);
        if (!pkt->nlines) {
            f->ref = c->open[dir];
            f->has_line = 1;
            f->guess = (guint8)sm_guess(c, dir, pkt);
        }
    }
    if (!pkt->nlines && !pkt->leaves_line)
        f->stage = c->last_stage ? c->last_stage : SM_ST_UNKNOWN;
}

/* A single SYN without any answer yet. */
static gboolean
sm_syn_unanswered(const sm_conv_t *c)
{
    return c->syn && !c->synack && !c->refused && c->syn_count == 1;
}

sm_frame_t *
sm_process(sm_conv_t *c, const sm_packet_t *pkt)
{
    guint32 id;
    sm_frame_t *f = (sm_frame_t *)ft_pool_add(&c->store->frames, &id);
    int dir = pkt->from_client ? SM_CLIENT : SM_SERVER;
    int other = 1 - dir;
    gboolean syn = (pkt->flags & SM_TH_SYN) != 0;
    gboolean ack = (pkt->flags & SM_TH_ACK) != 0;

    gboolean syn_unanswered = sm_syn_unanswered(c);

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

    if (syn || !c->base_known[dir]) {
        c->base[dir] = syn ? pkt->seq : pkt->seq - 1;
        c->base_known[dir] = TRUE;
    }

    if (pkt->flags & SM_TH_RST) {
        f->role = SM_ROLE_RST;
        f->stage = SM_ST_TEARDOWN;
        if (c->syn && !c->synack && !c->refused && !pkt->from_client) {
            c->refused = TRUE;
            c->closed = TRUE;
            sm_seen(c, f, SM_ST_TEARDOWN);
            sm_note(c, f, SM_DIAG_PORT_BLOCKED, wmem_strdup_printf(c->scope,
                "Connection refused: the server answered the SYN to port %u (frame %u) with RST. Nothing accepts "
                "connections on that port, or a firewall rejects them; port 25 is often blocked by ISPs: "
                "try port 587", c->server_port, c->syn->num));
        } else {
            sm_closing(c, f, pkt->from_client);
        }
    } else if (syn && !ack) {
        f->role = SM_ROLE_SYN;
        f->stage = SM_ST_HANDSHAKE;
        if (c->syn && !c->synack) {
            nstime_t d;
            if (++c->syn_count == 2) {
                nstime_delta(&d, &pkt->ts, &c->syn_ts);
                sm_note(c, f, SM_DIAG_PORT_BLOCKED, wmem_strdup_printf(c->scope,
                    "No answer to the SYN to port %u: sent again %.1f s after frame %u. A firewall drops it; "
                    "port 25 is often blocked by ISPs: try port 587",
                    c->server_port, nstime_to_sec(&d), c->syn->num));
            }
        } else if (!c->syn) {
            c->syn = f;
            c->syn_count = 1;
            c->syn_ts = pkt->ts;
        }
        sm_sent_insert(c, &c->sent[dir], 1, id);
    } else if (syn) {
        f->role = SM_ROLE_SYN_ACK;
        f->stage = SM_ST_HANDSHAKE;
        if (!c->synack)
            c->synack = f;
        sm_sent_insert(c, &c->sent[dir], 1, id);
    } else {
        if (pkt->from_client && ack && c->synack && !c->handshake_done && c->base_known[SM_SERVER] &&
            sm_rel(c, SM_SERVER, pkt->ack) >= 1) {
            sm_note_t *n;
            c->handshake_done = TRUE;
            sm_seen(c, f, SM_ST_HANDSHAKE);
            n = sm_note_add(c, f, SM_MARK_HANDSHAKE);
            n->u.frames[0] = c->syn ? c->syn->num : 0;
            n->u.frames[1] = c->synack->num;
        }
        if (pkt->payload_len > 0) {
            sm_payload(c, f, pkt, dir);
            sm_sent_insert(c, &c->sent[dir], sm_rel(c, dir, pkt->seq) + pkt->payload_len +
                           ((pkt->flags & SM_TH_FIN) ? 1 : 0), id);
            if (pkt->flags & SM_TH_FIN)
                sm_closing(c, f, pkt->from_client);
        } else if (pkt->flags & SM_TH_FIN) {
            f->role = SM_ROLE_FIN;
            f->stage = SM_ST_TEARDOWN;
            sm_sent_insert(c, &c->sent[dir], sm_rel(c, dir, pkt->seq) + 1, id);
            sm_closing(c, f, pkt->from_client);
        } else {
            f->role = SM_ROLE_ACK;
            if (ack && c->base_known[other])
                f->ref = sm_sent_lookup_le(&c->sent[other], sm_rel(c, other, pkt->ack));
            if (!f->ref)
                f->stage = c->last_stage ? c->last_stage : SM_ST_UNKNOWN;
        }
    }
    if (pkt->payload_len > 0 || (pkt->flags & (SM_TH_SYN | SM_TH_FIN)))
        c->last_sent[dir] = id;

    if (c->progress == SM_PROGRESS_ALL && f->progress_before != SM_PROGRESS_ALL)
        f->completes = 1;
    if (syn_unanswered && !sm_syn_unanswered(c))
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
            guint8 line_stage = *(const guint8 *)ft_pool_get(&store->lines, f->ref);
            return (sm_stage_t)(line_stage ? line_stage : (f->guess ? f->guess : SM_ST_UNKNOWN));
        }
        f = sm_frame_by_id(store, f->ref);
    }
    return SM_ST_UNKNOWN;
}

void
sm_final_notes(const sm_store_t *store, const sm_frame_t *f, wmem_allocator_t *scope, sm_note_cb cb, void *user)
{
    const sm_conv_t *c = sm_frame_conv(store, f);
    const sm_link_t *l;

    for (l = sm_frame_links(store, f); l; l = l->next) {
        if (l->request && l->ex->reply_frame == 0 && c->mode != SM_MODE_TLS)
            cb(SM_DIAG_NO_REPLY, wmem_strdup_printf(scope, "No reply to \"%s\" in this capture%s", l->ex->cmd_text,
                l->ex->enters ? ": an Enter in it sent CR NUL or a bare CR, which ends no line" : ""), user);
    }
    if (c->syn == f && !c->synack && !c->refused && c->syn_count == 1)
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
    return conv->syn ? conv->syn->num : 0;
}

guint32
sm_conv_synack_frame(const sm_conv_t *conv)
{
    return conv->synack ? conv->synack->num : 0;
}

guint32
sm_conv_first_frame(const sm_conv_t *conv)
{
    return conv->first_frame;
}

gboolean
sm_conv_in_tls(const sm_conv_t *conv)
{
    return conv->mode == SM_MODE_TLS;
}

gboolean
sm_conv_refused(const sm_conv_t *conv)
{
    return conv->refused;
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

const char *
sm_note_name(sm_note_kind_t kind)
{
    static const char *const names[SM_NOTE_COUNT] = {
        "stage.handshake", "stage.banner", "stage.helo", "stage.helo_reply", "stage.quit", "stage.quit_reply",
        "diag.port_blocked", "diag.cr_nul", "diag.editing", "diag.telnet_negotiation", "diag.helo_no_domain",
        "diag.starttls_required", "diag.error_reply", "diag.no_reply", "diag.no_quit", "diag.bare_cr",
    };
    return kind < SM_NOTE_COUNT ? names[kind] : "";
}
