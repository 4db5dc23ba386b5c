/* tap-smtplab-report.c
 * The per-session report of tshark: `-z smtplab,report` prints one block per
 * TCP connection on the SMTP ports (the lab checklist with frame numbers,
 * each command line as received and as meant with its reply, the diagnoses),
 * and `-z smtplab,report,json` one JSON object per connection and line.
 * Everything is read from the stage machine once the capture has been read,
 * so one pass and two passes print the same report.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>

#include <wireshark.h>
#include <epan/packet.h>
#include <epan/tap.h>
#include <epan/stat_tap_ui.h>
#include <epan/addr_resolv.h>

#include "packet-smtplab.h"
#include "tap-smtplab.h"
#include "escape.h"
#include "ws_compat.h"

typedef struct {
    guint number;               /* 1, 2, ... in order of first frame */
    const sm_store_t *store;
    const sm_conv_t *conv;
    char *client;               /* "127.0.0.1:41694" */
    char *server;
    guint32 last_frame;
    GPtrArray *frames;          /* const sm_frame_t *: frames with links or notes */
} report_session_t;

typedef struct {
    gboolean json;
    GHashTable *by_conv;        /* const sm_conv_t * -> report_session_t * */
    GPtrArray *sessions;
} report_t;

static void
report_session_free(gpointer p)
{
    report_session_t *s = (report_session_t *)p;

    g_free(s->client);
    g_free(s->server);
    g_ptr_array_free(s->frames, TRUE);
    g_free(s);
}

static void
report_reset(void *p)
{
    report_t *r = (report_t *)p;

    g_hash_table_remove_all(r->by_conv);
    g_ptr_array_set_size(r->sessions, 0);
}

static char *
report_endpoint(const address *addr, guint32 port)
{
    char *a = address_to_str(NULL, addr);
    char *e = addr->type == AT_IPv6 ? g_strdup_printf("[%s]:%u", a, port) : g_strdup_printf("%s:%u", a, port);

    wmem_free(NULL, a);
    return e;
}

static tap_packet_status
report_packet(void *p, packet_info *pinfo, epan_dissect_t *edt _U_, const void *data, tap_flags_t flags _U_)
{
    report_t *r = (report_t *)p;
    const smtplab_tap_info_t *tap = (const smtplab_tap_info_t *)data;
    const sm_frame_t *f = tap->frame;
    const sm_conv_t *conv = sm_frame_conv(tap->store, f);
    report_session_t *s = (report_session_t *)g_hash_table_lookup(r->by_conv, conv);

    if (!s) {
        s = g_new0(report_session_t, 1);
        s->number = r->sessions->len + 1;
        s->store = tap->store;
        s->conv = conv;
        s->frames = g_ptr_array_new();
        s->client = report_endpoint(f->from_client ? &pinfo->src : &pinfo->dst,
                                    f->from_client ? pinfo->srcport : pinfo->destport);
        s->server = report_endpoint(f->from_client ? &pinfo->dst : &pinfo->src,
                                    f->from_client ? pinfo->destport : pinfo->srcport);
        g_hash_table_insert(r->by_conv, (gpointer)conv, s);
        g_ptr_array_add(r->sessions, s);
    }
    s->last_frame = pinfo->num;
    if (!tap->whole && sm_conv_amended(conv)) {
        /* In the first pass, an earlier frame got a note now: it goes in frame order. */
        const sm_frame_t *a = sm_conv_amended(conv);
        guint i = s->frames->len;
        while (i > 0 && ((const sm_frame_t *)g_ptr_array_index(s->frames, i - 1))->num >= a->num)
            i--;
        if (i == s->frames->len || g_ptr_array_index(s->frames, i) != a)
            g_ptr_array_insert(s->frames, (gint)i, (gpointer)a);
    }
    /* Frames with links or notes; the first frame too, which may get one
     * from the whole capture (one_direction, port_blocked). */
    if (f->extra || f->num == sm_conv_first_frame(conv))
        g_ptr_array_add(s->frames, (gpointer)f);
    return TAP_PACKET_REDRAW;
}

/* One diagnosis: from the first pass, or from the whole capture. */
typedef struct {
    guint32 frame;
    sm_note_kind_t kind;
    const char *text;
} report_diag_t;

typedef struct {
    GArray *diags;
    guint32 frame;
} report_diag_ctx_t;

static void
report_add_diag(sm_note_kind_t kind, const char *text, void *user)
{
    report_diag_ctx_t *ctx = (report_diag_ctx_t *)user;
    report_diag_t d;

    if (!SM_NOTE_IS_DIAG(kind))
        return;
    d.frame = ctx->frame;
    d.kind = kind;
    d.text = text;
    g_array_append_val(ctx->diags, d);
}

/* The diagnoses of a session, texts in scope (freed with the array's user). */
static GArray *
report_diagnoses(wmem_allocator_t *scope, const report_session_t *s)
{
    report_diag_ctx_t ctx;
    guint i;

    ctx.diags = g_array_new(FALSE, FALSE, sizeof(report_diag_t));
    for (i = 0; i < s->frames->len; i++) {
        const sm_frame_t *f = (const sm_frame_t *)g_ptr_array_index(s->frames, i);
        const sm_note_t *n;
        ctx.frame = f->num;
        for (n = sm_frame_notes(s->store, f); n; n = n->next)
            report_add_diag(n->kind, sm_note_text(n, f->num, scope), &ctx);
        sm_final_notes(s->store, f, scope, report_add_diag, &ctx);
    }
    return ctx.diags;
}


static const struct {
    sm_stage_t stage;
    const char *what;
} report_checklist[] = {
    { SM_ST_HANDSHAKE,  "TCP three-way handshake" },
    { SM_ST_BANNER,     "220 service-ready banner" },
    { SM_ST_HELO,       "HELO or EHLO" },
    { SM_ST_HELO_REPLY, "reply to HELO/EHLO" },
    { SM_ST_QUIT,       "QUIT" },
    { SM_ST_QUIT_REPLY, "reply to QUIT (221)" },
    { SM_ST_TEARDOWN,   "teardown (FIN or RST)" },
};

/* The reply code of the exchange whose final reply is in frame num. */
static guint16
report_code_at(const report_session_t *s, guint32 num)
{
    guint i;

    for (i = 0; i < s->frames->len; i++) {
        const sm_frame_t *f = (const sm_frame_t *)g_ptr_array_index(s->frames, i);
        const sm_link_t *l;
        for (l = sm_frame_links(s->store, f); l; l = l->next) {
            if (!l->request && l->ex->reply_frame == num)
                return l->ex->code;
        }
    }
    return 0;
}

/* The session's command lines (their exchanges), in order. */
static GPtrArray *
report_commands(const report_session_t *s)
{
    GPtrArray *cmds = g_ptr_array_new();
    guint i;

    for (i = 0; i < s->frames->len; i++) {
        const sm_frame_t *f = (const sm_frame_t *)g_ptr_array_index(s->frames, i);
        const sm_link_t *l;
        for (l = sm_frame_links(s->store, f); l; l = l->next) {
            if (l->request)
                g_ptr_array_add(cmds, l->ex);
        }
    }
    return cmds;
}

static double
report_reply_time(const sm_exchange_t *ex)
{
    nstime_t d;

    nstime_delta(&d, &ex->reply_ts, &ex->cmd_ts);
    return nstime_to_sec(&d);
}

/* The failed attempts at a lab step (HELO/EHLO not answered 2xx, QUIT not
 * answered 221): command frames with their reply codes. */
static void
report_add_attempt(const sm_exchange_t *ex, void *user)
{
    g_ptr_array_add((GPtrArray *)user, (gpointer)ex);
}

static GPtrArray *
report_attempts(const sm_conv_t *c, sm_stage_t st)
{
    GPtrArray *a = g_ptr_array_new();

    if (st == SM_ST_HELO || st == SM_ST_QUIT)
        sm_conv_failed_attempts(c, st, report_add_attempt, a);
    return a;
}

/* "; failed attempts: frame 48 (500), frame 60 (no reply)" and the line end. */
static void
report_text_attempts(GString *out, const sm_conv_t *c, sm_stage_t st, guint32 fr)
{
    GPtrArray *a = report_attempts(c, st);
    guint i;

    for (i = 0; i < a->len; i++) {
        const sm_exchange_t *ex = (const sm_exchange_t *)g_ptr_array_index(a, i);
        g_string_append_printf(out, "%s frame %u (", i ? "," : fr ? "; failed attempts:" : "failed attempts:",
                               ex->cmd_frame);
        if (ex->reply_frame)
            g_string_append_printf(out, "%u)", ex->code);
        else
            g_string_append(out, "no reply)");
    }
    g_string_append_c(out, '\n');
    g_ptr_array_free(a, TRUE);
}

static void
report_text(wmem_allocator_t *scope, GString *out, const report_session_t *s)
{
    const sm_conv_t *c = s->conv;
    GArray *diags = report_diagnoses(scope, s);
    GPtrArray *cmds;
    guint i;
    char *progress = sm_progress_string(scope, sm_conv_progress(c));

    g_string_append_printf(out, "Session %u: %s -> %s, frames %u-%u\n", s->number, s->client, s->server,
                           sm_conv_first_frame(c), s->last_frame);
    g_string_append(out, "  Lab checklist:\n");
    for (i = 0; i < G_N_ELEMENTS(report_checklist); i++) {
        sm_stage_t st = report_checklist[i].stage;
        guint32 fr = sm_conv_lab_frame(c, st);
        g_string_append_printf(out, "    [%c] Activity %u  %-26s", fr ? 'x' : ' ', sm_stage_activity(st),
                               report_checklist[i].what);
        if (!fr) {
            g_string_append(out, "missing");
        } else if (st == SM_ST_HANDSHAKE) {
            g_string_append_printf(out, "frames %u, %u, %u", sm_conv_syn_frame(c), sm_conv_synack_frame(c), fr);
        } else if (st == SM_ST_BANNER || st == SM_ST_HELO_REPLY || st == SM_ST_QUIT_REPLY) {
            g_string_append_printf(out, "frame %u (%u)", fr, report_code_at(s, fr));
        } else {
            g_string_append_printf(out, "frame %u", fr);
        }
        report_text_attempts(out, c, st, fr);
    }

    g_string_append(out, "  Command lines:\n");
    cmds = report_commands(s);
    for (i = 0; i < cmds->len; i++) {
        const sm_exchange_t *ex = (const sm_exchange_t *)g_ptr_array_index(cmds, i);
        g_string_append_printf(out, "    frame %u: \"%s\"", ex->cmd_frame, ex->cmd_text);
        if (strcmp(ex->cmd_text, ex->raw_text) != 0)
            g_string_append_printf(out, " (received as \"%s\")", ex->raw_text);
        g_string_append_printf(out, ", %u segment%s", ex->segments, ex->segments == 1 ? "" : "s");
        if (ex->reply_frame)
            g_string_append_printf(out, ", reply %u in frame %u after %.6f s\n", ex->code, ex->reply_frame,
                                   report_reply_time(ex));
        else if (ex->unread)
            g_string_append(out, ", not read: the server had closed the session\n");
        else
            g_string_append(out, ", no reply\n");
    }
    if (!cmds->len)
        g_string_append(out, "    none\n");
    g_ptr_array_free(cmds, TRUE);

    g_string_append(out, "  Diagnoses:\n");
    for (i = 0; i < diags->len; i++) {
        const report_diag_t *d = &g_array_index(diags, report_diag_t, i);
        g_string_append_printf(out, "    frame %u: %s: %s\n", d->frame, sm_note_name(d->kind), d->text);
    }
    if (!diags->len)
        g_string_append(out, "    none\n");
    g_string_append_printf(out, "  Complete: %s (%s)\n\n", sm_conv_complete(c) ? "yes" : "no",
                           *progress ? progress : "no lab stage");
    g_array_free(diags, TRUE);
}

static void
report_json(wmem_allocator_t *scope, GString *out, const report_session_t *s)
{
    const sm_conv_t *c = s->conv;
    GArray *diags = report_diagnoses(scope, s);
    GPtrArray *cmds;
    guint i;

    g_string_append_printf(out, "{\"session\":%u,\"client\":%s,\"server\":%s,", s->number,
                           esc_json(scope, s->client), esc_json(scope, s->server));
    g_string_append_printf(out, "\"first_frame\":%u,\"last_frame\":%u,\"checklist\":{", sm_conv_first_frame(c),
                           s->last_frame);
    for (i = 0; i < G_N_ELEMENTS(report_checklist); i++) {
        sm_stage_t st = report_checklist[i].stage;
        guint32 fr = sm_conv_lab_frame(c, st);
        g_string_append_printf(out, "%s\"%s\":", i ? "," : "", sm_stage_name(st));
        if (!fr)
            g_string_append(out, "null");
        else if (st == SM_ST_HANDSHAKE)
            g_string_append_printf(out, "[%u,%u,%u]", sm_conv_syn_frame(c), sm_conv_synack_frame(c), fr);
        else
            g_string_append_printf(out, "%u", fr);
    }
    g_string_append(out, "},\"failed_attempts\":{");
    for (i = 0; i < 2; i++) {
        sm_stage_t st = i ? SM_ST_QUIT : SM_ST_HELO;
        GPtrArray *a = report_attempts(c, st);
        guint j;
        g_string_append_printf(out, "%s\"%s\":[", i ? "," : "", sm_stage_name(st));
        for (j = 0; j < a->len; j++)
            g_string_append_printf(out, "%s%u", j ? "," : "", ((const sm_exchange_t *)g_ptr_array_index(a, j))->cmd_frame);
        g_string_append_c(out, ']');
        g_ptr_array_free(a, TRUE);
    }
    g_string_append(out, "},\"commands\":[");
    cmds = report_commands(s);
    for (i = 0; i < cmds->len; i++) {
        const sm_exchange_t *ex = (const sm_exchange_t *)g_ptr_array_index(cmds, i);
        g_string_append_printf(out, "%s{\"frame\":%u,\"stage\":\"%s\",\"meant\":%s,\"received\":%s,\"segments\":%u",
                               i ? "," : "", ex->cmd_frame, sm_stage_name(ex->stage), esc_json(scope, ex->cmd_text),
                               esc_json(scope, ex->raw_text), ex->segments);
        if (ex->reply_frame)
            g_string_append_printf(out, ",\"reply_code\":%u,\"reply_frame\":%u,\"reply_time\":%.6f}", ex->code,
                                   ex->reply_frame, report_reply_time(ex));
        else
            g_string_append(out, ",\"reply_code\":null,\"reply_frame\":null,\"reply_time\":null}");
    }
    g_ptr_array_free(cmds, TRUE);
    g_string_append(out, "],\"diagnoses\":[");
    for (i = 0; i < diags->len; i++) {
        const report_diag_t *d = &g_array_index(diags, report_diag_t, i);
        g_string_append_printf(out, "%s{\"frame\":%u,\"name\":\"%s\",\"message\":%s}", i ? "," : "", d->frame,
                               sm_note_name(d->kind), esc_json(scope, d->text));
    }
    g_string_append_printf(out, "],\"complete\":%s}\n", sm_conv_complete(c) ? "true" : "false");
    g_array_free(diags, TRUE);
}

static void
report_draw(void *p)
{
    report_t *r = (report_t *)p;
    GString *out = g_string_new(NULL);
    wmem_allocator_t *scope = wmem_allocator_new(WMEM_ALLOCATOR_SIMPLE);
    guint i;

    if (!r->json)
        g_string_append(out, "\n==================================================================\nSMTP Lab sessions\n\n");
    for (i = 0; i < r->sessions->len; i++) {
        const report_session_t *s = (const report_session_t *)g_ptr_array_index(r->sessions, i);
        if (r->json)
            report_json(scope, out, s);
        else
            report_text(scope, out, s);
    }
    if (!r->json)
        g_string_append_printf(out, "%u session%s\n==================================================================\n",
                               r->sessions->len, r->sessions->len == 1 ? "" : "s");
    fputs(out->str, stdout);
    g_string_free(out, TRUE);
    wmem_destroy_allocator(scope);
}

static void
report_finish(void *p)
{
    report_t *r = (report_t *)p;

    g_hash_table_destroy(r->by_conv);
    g_ptr_array_free(r->sessions, TRUE);
    g_free(r);
}

/* -z smtplab,report[,json][,<display filter>]; FALSE when the listener
 * could not be registered (a bad display filter). */
static gboolean
report_init(const char *opt_arg, void *userdata _U_)
{
    report_t *r = g_new0(report_t, 1);
    const char *rest = opt_arg + strlen("smtplab,report");
    const char *filter = NULL;
    GString *err;

    if (g_str_has_prefix(rest, ",json")) {
        r->json = TRUE;
        rest += strlen(",json");
    }
    if (*rest == ',')
        filter = rest + 1;
    else if (*rest)
        fprintf(stderr, "tshark: invalid -z argument \"%s\": use smtplab,report[,json][,<filter>]\n", opt_arg);
    r->by_conv = g_hash_table_new(g_direct_hash, g_direct_equal);
    r->sessions = g_ptr_array_new_with_free_func(report_session_free);

    err = register_tap_listener("smtplab", r, filter, TL_REQUIRES_NOTHING, report_reset, report_packet, report_draw,
                                report_finish);
    if (err) {
        fprintf(stderr, "tshark: couldn't register the SMTP Lab report: %s\n", err->str);
        g_string_free(err, TRUE);
        report_finish(r);
        return FALSE;
    }
    return TRUE;
}
SMTPLAB_STAT_TAP_INIT_CB(report_init_cb, report_init)

static stat_tap_ui report_ui = {
    REGISTER_STAT_GROUP_GENERIC,
    NULL,
    "smtplab,report",
    report_init_cb,
    0,
    NULL
};

void
register_smtplab_report(void)
{
    register_stat_tap_ui(&report_ui, NULL);
}
