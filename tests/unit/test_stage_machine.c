/* test_stage_machine.c
 * Unit tests of the SMTP Lab stage machine on made-up connections.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>
#include <string.h>

#include "stage_machine.h"

/* A connection being made up, frame by frame. */
typedef struct {
    wmem_allocator_t *a;
    sm_store_t *st;
    sm_conv_t *c;
    guint32 num;
    guint32 next[2];   /* next sequence number: client, server */
    double t;
    gint64 at_ms;      /* when not -1: the next frame's time, exactly, in milliseconds */
    GPtrArray *frames;
    guint32 enters_crnul, enters_cr, bare_cr_frame, chunk_bytes; /* for the next frame sent */
    const char *telnet_text;                        /* for the next frame sent, when not negotiation */
    gboolean telnet_in_line;
} sess_t;

static void
sess_init_port(sess_t *s, guint16 port)
{
    memset(s, 0, sizeof *s);
    s->a = wmem_allocator_new(WMEM_ALLOCATOR_STRICT);
    s->st = sm_store_new(s->a);
    s->c = sm_conv_new(s->st, port);
    s->num = 0;
    s->next[0] = 1000;
    s->next[1] = 5000;
    s->t = 0;
    s->at_ms = -1;
    s->frames = g_ptr_array_new();
}

static void
sess_init(sess_t *s)
{
    sess_init_port(s, 25);
}

static void
sess_free(sess_t *s)
{
    g_ptr_array_free(s->frames, TRUE);
    wmem_destroy_allocator(s->a);
}

/* Sends one frame; lines/nlines and the keystroke flags describe payload. */
static sm_frame_t *
sess_send(sess_t *s, gboolean client, guint8 flags, guint32 len, const sm_line_in_t *lines, guint32 nlines,
          gboolean continues, gboolean leaves, const char *prefix, guint32 telnet)
{
    sm_packet_t p;
    int d = client ? 0 : 1;
    sm_frame_t *f;

    memset(&p, 0, sizeof p);
    p.num = ++s->num;
    nstime_set_zero(&p.ts);
    if (s->at_ms >= 0) {
        s->t = (double)s->at_ms / 1000;
        p.ts.secs = (time_t)(s->at_ms / 1000);
        p.ts.nsecs = (int)(s->at_ms % 1000) * 1000000;
        s->at_ms = -1;
    } else {
        s->t += 0.1;
        p.ts.secs = (time_t)s->t;
        p.ts.nsecs = (int)((s->t - (double)(time_t)s->t) * 1e9);
    }
    p.from_client = client;
    p.flags = flags;
    p.seq = s->next[d];
    p.ack = (flags & SM_TH_ACK) ? s->next[1 - d] : 0;
    p.payload_len = len;
    p.lines_known = len > 0;
    p.lines = lines;
    p.nlines = nlines;
    p.continues_line = continues;
    p.leaves_line = leaves;
    p.open_prefix = (const guint8 *)prefix;
    p.open_prefix_len = prefix ? strlen(prefix) : 0;
    p.telnet_commands = telnet;
    p.telnet_text = telnet ? (s->telnet_text ? s->telnet_text : "<IAC DO Suppress Go Ahead><IAC DO ECHO>") : NULL;
    p.telnet_in_line = s->telnet_in_line;
    s->telnet_text = NULL;
    s->telnet_in_line = FALSE;
    p.enters_crnul = s->enters_crnul;
    p.enters_cr = s->enters_cr;
    p.bare_cr_frame = s->bare_cr_frame;
    p.chunk_bytes = s->chunk_bytes;
    s->enters_crnul = s->enters_cr = s->bare_cr_frame = s->chunk_bytes = 0;
    s->next[d] += len + ((flags & (SM_TH_SYN | SM_TH_FIN)) ? 1 : 0);
    f = sm_process(s->c, &p);
    g_assert_cmpuint(f->num, ==, p.num);
    g_ptr_array_add(s->frames, f);
    return f;
}

static sm_line_in_t
mkline(const char *raw, const char *edited, guint32 backspaces, guint32 segments)
{
    sm_line_in_t l;

    l.raw = (const guint8 *)raw;
    l.raw_len = strlen(raw);
    l.edited = (const guint8 *)(edited ? edited : raw);
    l.edited_len = strlen(edited ? edited : raw);
    l.total_len = (guint32)l.raw_len + 2;
    l.backspaces = backspaces;
    l.segments = segments;
    return l;
}

static sm_frame_t *
sess_line(sess_t *s, gboolean client, const char *text, gboolean continues)
{
    sm_line_in_t *l = wmem_new(s->a, sm_line_in_t);

    *l = mkline(text, NULL, 0, 1);
    return sess_send(s, client, SM_TH_ACK, continues ? 2 : l->total_len, l, 1, continues, FALSE, NULL, 0);
}

static sm_frame_t *
sess_key(sess_t *s, const char *so_far, gboolean continues)
{
    return sess_send(s, TRUE, SM_TH_ACK, 1, NULL, 0, continues, TRUE, so_far, 0);
}

static sm_frame_t *
sess_ack(sess_t *s, gboolean client)
{
    return sess_send(s, client, SM_TH_ACK, 0, NULL, 0, FALSE, FALSE, NULL, 0);
}

static void
sess_handshake(sess_t *s)
{
    sess_send(s, TRUE, SM_TH_SYN, 0, NULL, 0, FALSE, FALSE, NULL, 0);
    sess_send(s, FALSE, SM_TH_SYN | SM_TH_ACK, 0, NULL, 0, FALSE, FALSE, NULL, 0);
    sess_ack(s, TRUE);
}

/* "stage/role" of every frame, space separated. */
static char *
sess_stages(sess_t *s)
{
    GString *g = g_string_new(NULL);
    guint i;

    for (i = 0; i < s->frames->len; i++) {
        const sm_frame_t *f = (const sm_frame_t *)g_ptr_array_index(s->frames, i);
        g_string_append_printf(g, "%s%s/%s", i ? " " : "", sm_stage_name(sm_frame_stage(s->st, f)),
                               sm_role_name((sm_role_t)f->role));
    }
    return g_string_free(g, FALSE);
}

/* The kinds of the notes of frame n (1-based), as numbers. */
static char *
frame_notes(sess_t *s, guint n)
{
    const sm_frame_t *f = (const sm_frame_t *)g_ptr_array_index(s->frames, n - 1);
    GString *g = g_string_new(NULL);
    const sm_note_t *note;

    for (note = sm_frame_notes(s->st, f); note; note = note->next)
        g_string_append_printf(g, "%s%d", g->len ? "," : "", note->kind);
    return g_string_free(g, FALSE);
}

static const char *
frame_note_text(sess_t *s, guint n, sm_note_kind_t kind)
{
    const sm_frame_t *f = (const sm_frame_t *)g_ptr_array_index(s->frames, n - 1);
    const sm_note_t *note;

    for (note = sm_frame_notes(s->st, f); note; note = note->next) {
        if (note->kind == kind)
            return sm_note_text(note, f->num, s->a);
    }
    return NULL;
}

static sm_frame_t *
frame(sess_t *s, guint n)
{
    return (sm_frame_t *)g_ptr_array_index(s->frames, n - 1);
}

static const sm_link_t *
links(sess_t *s, guint n)
{
    return sm_frame_links(s->st, frame(s, n));
}

static void
collect_note(sm_note_kind_t kind, const char *text, void *user)
{
    GString *g = (GString *)user;

    g_string_append_printf(g, "%s%d:%s", g->len ? "|" : "", kind, text);
}

static char *
final_notes(sess_t *s, guint n)
{
    GString *g = g_string_new(NULL);

    sm_final_notes(s->st, frame(s, n), s->a, collect_note, g);
    return g_string_free(g, FALSE);
}

static void
test_typed_lab(void)
{
    sess_t s;
    char *st, *n;

    sess_init(&s);
    sess_handshake(&s);                                  /* 1-3 */
    sess_line(&s, FALSE, "220 lab.example ESMTP", FALSE); /* 4 */
    sess_ack(&s, TRUE);                                  /* 5 */
    sess_key(&s, "h", FALSE);                            /* 6 */
    sess_ack(&s, FALSE);                                 /* 7 */
    sess_key(&s, "he", TRUE);                            /* 8 */
    sess_ack(&s, FALSE);                                 /* 9 */
    sess_line(&s, TRUE, "helo lab.example", TRUE);       /* 10 */
    sess_ack(&s, FALSE);                                 /* 11 */
    sess_line(&s, FALSE, "250 lab.example", FALSE);      /* 12 */
    sess_ack(&s, TRUE);                                  /* 13 */
    sess_key(&s, "q", FALSE);                            /* 14 */
    sess_line(&s, TRUE, "quit", TRUE);                   /* 15 */
    sess_line(&s, FALSE, "221 Bye", FALSE);              /* 16 */
    sess_send(&s, FALSE, SM_TH_FIN | SM_TH_ACK, 0, NULL, 0, FALSE, FALSE, NULL, 0); /* 17 */
    sess_ack(&s, TRUE);                                  /* 18 */
    sess_send(&s, TRUE, SM_TH_FIN | SM_TH_ACK, 0, NULL, 0, FALSE, FALSE, NULL, 0);  /* 19 */
    sess_ack(&s, FALSE);                                 /* 20 */

    st = sess_stages(&s);
    g_assert_cmpstr(st, ==,
        "handshake/syn handshake/syn-ack handshake/ack banner/reply banner/ack "
        "helo/keystroke helo/ack helo/keystroke helo/ack helo/line helo/ack helo-reply/reply helo-reply/ack "
        "quit/keystroke quit/line quit-reply/reply teardown/fin teardown/ack teardown/fin teardown/ack");
    g_free(st);

    /* One marker per lab stage, on its key frame; no diagnosis. */
    n = frame_notes(&s, 3);  g_assert_cmpstr(n, ==, "0"); g_free(n);
    n = frame_notes(&s, 4);  g_assert_cmpstr(n, ==, "1"); g_free(n);
    n = frame_notes(&s, 10); g_assert_cmpstr(n, ==, "2"); g_free(n);
    n = frame_notes(&s, 12); g_assert_cmpstr(n, ==, "3"); g_free(n);
    n = frame_notes(&s, 15); g_assert_cmpstr(n, ==, "4"); g_free(n);
    n = frame_notes(&s, 16); g_assert_cmpstr(n, ==, "5"); g_free(n);
    n = frame_notes(&s, 17); g_assert_cmpstr(n, ==, ""); g_free(n);
    g_assert_cmpstr(frame_note_text(&s, 3, SM_MARK_HANDSHAKE), ==,
        "Activity 3: TCP three-way handshake complete: SYN (frame 1), SYN/ACK (frame 2), ACK (frame 3)");

    /* Links, progress, completeness. */
    g_assert_nonnull(links(&s, 10));
    g_assert_true(links(&s, 10)->request);
    g_assert_cmpuint(links(&s, 10)->ex->reply_frame, ==, 12);
    g_assert_false(links(&s, 12)->request);
    g_assert_cmpuint(links(&s, 12)->ex->cmd_frame, ==, 10);
    /* The banner answers no command: its link has no command frame. */
    g_assert_nonnull(links(&s, 4));
    g_assert_false(links(&s, 4)->request);
    g_assert_cmpuint(links(&s, 4)->ex->cmd_frame, ==, 0);
    g_assert_cmpuint(links(&s, 4)->ex->code, ==, 220);
    n = sm_progress_string(s.a, frame(&s, 12)->progress);
    g_assert_cmpstr(n, ==, "handshake banner helo helo-reply");
    n = sm_progress_string(s.a, frame(&s, 20)->progress);
    g_assert_cmpstr(n, ==, "handshake banner helo helo-reply quit quit-reply teardown");
    g_assert_true(sm_conv_complete(s.c));
    g_assert_cmpuint(sm_stage_activity(sm_frame_stage(s.st, frame(&s, 7))), ==, 5);
    g_assert_cmpuint(sm_stage_activity(sm_frame_stage(s.st, frame(&s, 19))), ==, 8);
    g_assert_cmpuint(sm_stage_activity(SM_ST_MAIL), ==, 0);
    n = final_notes(&s, 10); g_assert_cmpstr(n, ==, ""); g_free(n);

    /* What reports read: where each lab stage was reached, and when the
     * session became complete. */
    g_assert_cmpuint(sm_conv_syn_frame(s.c), ==, 1);
    g_assert_cmpuint(sm_conv_synack_frame(s.c), ==, 2);
    g_assert_cmpuint(sm_conv_first_frame(s.c), ==, 1);
    g_assert_cmpuint(sm_conv_lab_frame(s.c, SM_ST_HANDSHAKE), ==, 3);
    g_assert_cmpuint(sm_conv_lab_frame(s.c, SM_ST_BANNER), ==, 4);
    g_assert_cmpuint(sm_conv_lab_frame(s.c, SM_ST_HELO), ==, 10);
    g_assert_cmpuint(sm_conv_lab_frame(s.c, SM_ST_HELO_REPLY), ==, 12);
    g_assert_cmpuint(sm_conv_lab_frame(s.c, SM_ST_QUIT), ==, 15);
    g_assert_cmpuint(sm_conv_lab_frame(s.c, SM_ST_QUIT_REPLY), ==, 16);
    g_assert_cmpuint(sm_conv_lab_frame(s.c, SM_ST_TEARDOWN), ==, 17);
    g_assert_cmpuint(sm_conv_lab_frame(s.c, SM_ST_MAIL), ==, 0);
    g_assert_false(frame(&s, 16)->completes);
    g_assert_true(frame(&s, 17)->completes);
    g_assert_false(frame(&s, 18)->completes);
    g_assert_cmpstr(links(&s, 10)->ex->raw_text, ==, "helo lab.example");
    g_assert_cmpuint(links(&s, 10)->ex->segments, ==, 1);
    g_assert_cmpuint(links(&s, 10)->ex->code, ==, 250);
    sess_free(&s);
}

static void
test_guess_then_intent(void)
{
    sess_t s;
    sm_line_in_t l = mkline("hekk\b\blo lab.example", "helo lab.example", 2, 7);
    char *n;

    sess_init(&s);
    sess_handshake(&s);
    sess_line(&s, FALSE, "220 x", FALSE);      /* 4 */
    sess_key(&s, "h", FALSE);                  /* 5 */
    sess_key(&s, "hek", TRUE);                 /* 6 */
    sess_ack(&s, FALSE);                       /* 7: acks frame 6 */
    /* Before the line ends: the guesses of the moment. */
    g_assert_cmpstr(sm_stage_name(sm_frame_stage(s.st, frame(&s, 5))), ==, "helo");
    g_assert_cmpstr(sm_stage_name(sm_frame_stage(s.st, frame(&s, 6))), ==, "unknown");
    g_assert_cmpstr(sm_stage_name(sm_frame_stage(s.st, frame(&s, 7))), ==, "unknown");
    sess_send(&s, TRUE, SM_TH_ACK, 2, &l, 1, TRUE, FALSE, NULL, 0); /* 8 */
    /* After: every frame of the line, and the ACKs, take its intent. */
    g_assert_cmpstr(sm_stage_name(sm_frame_stage(s.st, frame(&s, 5))), ==, "helo");
    g_assert_cmpstr(sm_stage_name(sm_frame_stage(s.st, frame(&s, 6))), ==, "helo");
    g_assert_cmpstr(sm_stage_name(sm_frame_stage(s.st, frame(&s, 7))), ==, "helo");
    n = frame_notes(&s, 8);
    g_assert_cmpstr(n, ==, "8"); /* editing; no marker: the server refuses the line (below) */
    g_free(n);
    g_assert_cmpstr(frame_note_text(&s, 8, SM_DIAG_EDITING), ==,
        "2 erase keystrokes sent: the server receives \"hekk\\b\\blo lab.example\", not \"helo lab.example\". "
        "Type the line again without corrections");
    sess_line(&s, FALSE, "500 Error: command \"HEKK\b\bLO\" not recognized", FALSE); /* 9 */
    g_assert_cmpstr(sm_stage_name(sm_frame_stage(s.st, frame(&s, 9))), ==, "helo-reply");
    g_assert_nonnull(frame_note_text(&s, 9, SM_DIAG_ERROR_REPLY));
    g_assert_true(g_str_has_prefix(frame_note_text(&s, 9, SM_DIAG_ERROR_REPLY),
                                   "The server could not read \"hekk\\b\\blo lab.example\": 500"));
    sess_free(&s);
}

static void
test_refused(void)
{
    sess_t s;
    char *st;

    sess_init(&s);
    sess_send(&s, TRUE, SM_TH_SYN, 0, NULL, 0, FALSE, FALSE, NULL, 0);
    sess_send(&s, FALSE, SM_TH_RST | SM_TH_ACK, 0, NULL, 0, FALSE, FALSE, NULL, 0);
    st = sess_stages(&s);
    g_assert_cmpstr(st, ==, "handshake/syn teardown/rst");
    g_free(st);
    g_assert_cmpstr(frame_note_text(&s, 2, SM_DIAG_PORT_BLOCKED), ==,
        "Connection refused: the server answered the SYN to port 25 (frame 1) with RST. Nothing accepts "
        "connections on that port, or a firewall rejects them; port 25 is often blocked by ISPs: try port 587");
    g_assert_null(frame_note_text(&s, 2, SM_DIAG_NO_QUIT));
    g_assert_true(frame(&s, 2)->answers_syn);
    g_assert_cmpstr(sm_note_name(SM_DIAG_PORT_BLOCKED), ==, "smtplab.diag.port_blocked");
    g_assert_cmpstr(sm_note_name(SM_MARK_HELO_REPLY), ==, "smtplab.stage.helo_reply");
    g_assert_cmpstr(sm_diag_name(SM_DIAG_PORT_BLOCKED), ==, "port_blocked");
    g_assert_cmpstr(sm_diag_name(SM_MARK_HELO_REPLY), ==, "");
    st = final_notes(&s, 1);
    g_assert_cmpstr(st, ==, "");
    g_free(st);
    sess_free(&s);
}

static void
test_syn_unanswered(void)
{
    sess_t s;
    char *n;

    /* One SYN only: known at the end of the capture. */
    sess_init(&s);
    sess_send(&s, TRUE, SM_TH_SYN, 0, NULL, 0, FALSE, FALSE, NULL, 0);
    n = frame_notes(&s, 1);
    g_assert_cmpstr(n, ==, "");
    g_free(n);
    n = final_notes(&s, 1);
    g_assert_cmpstr(n, ==, "6:The SYN to port 25 got no answer in this capture. A firewall may drop it; "
                           "port 25 is often blocked by ISPs: try port 587");
    g_free(n);
    sess_free(&s);

    /* Sent again: known at once. */
    sess_init(&s);
    sess_send(&s, TRUE, SM_TH_SYN, 0, NULL, 0, FALSE, FALSE, NULL, 0);
    s.next[0]--;
    s.t += 0.9;
    sess_send(&s, TRUE, SM_TH_SYN, 0, NULL, 0, FALSE, FALSE, NULL, 0);
    g_assert_cmpstr(frame_note_text(&s, 2, SM_DIAG_PORT_BLOCKED), ==,
        "No answer to the SYN to port 25: sent again 1.0 s after frame 1. A firewall drops it; "
        "port 25 is often blocked by ISPs: try port 587");
    n = final_notes(&s, 1);
    g_assert_cmpstr(n, ==, "");
    g_free(n);
    g_assert_false(frame(&s, 1)->answers_syn);
    g_assert_true(frame(&s, 2)->answers_syn);
    sess_free(&s);
}

static void
test_pipelining_and_message(void)
{
    sess_t s;
    sm_line_in_t three[3];
    sm_frame_t *f;
    const sm_link_t *l;
    char *st;

    three[0] = mkline("MAIL FROM:<a@b>", NULL, 0, 1);
    three[1] = mkline("RCPT TO:<c@d>", NULL, 0, 1);
    three[2] = mkline("DATA", NULL, 0, 1);
    sess_init(&s);
    sess_handshake(&s);
    sess_line(&s, FALSE, "220 x", FALSE);                         /* 4 */
    sess_line(&s, TRUE, "EHLO lab.example", FALSE);               /* 5 */
    sess_line(&s, FALSE, "250-x", FALSE);                         /* 6 */
    sess_line(&s, FALSE, "250 PIPELINING", FALSE);                /* 7 */
    f = sess_send(&s, TRUE, SM_TH_ACK, 40, three, 3, FALSE, FALSE, NULL, 0); /* 8 */
    sess_line(&s, FALSE, "250 OK", FALSE);                        /* 9 */
    sess_line(&s, FALSE, "250 OK", FALSE);                        /* 10 */
    sess_line(&s, FALSE, "354 go ahead", FALSE);                  /* 11 */
    sess_line(&s, TRUE, "Subject: hi", FALSE);                    /* 12 */
    sess_line(&s, TRUE, "QUIT", FALSE);                           /* 13: message text, not a command */
    sess_line(&s, TRUE, ".", FALSE);                              /* 14 */
    sess_ack(&s, FALSE);                                          /* 15 */
    sess_line(&s, FALSE, "250 OK queued", FALSE);                 /* 16 */
    sess_line(&s, TRUE, "QUIT", FALSE);                           /* 17 */
    sess_line(&s, FALSE, "221 Bye", FALSE);                       /* 18 */

    st = sess_stages(&s);
    g_assert_cmpstr(st, ==,
        "handshake/syn handshake/syn-ack handshake/ack banner/reply helo/line helo-reply/reply helo-reply/reply "
        "mail/line mail-reply/reply rcpt-reply/reply data-reply/reply message/line message/line message/line "
        "message/ack message-reply/reply quit/line quit-reply/reply");
    g_free(st);
    /* The multi-line EHLO reply ends in frame 7. */
    g_assert_cmpuint(links(&s, 5)->ex->reply_frame, ==, 7);
    g_assert_cmpuint(links(&s, 6)->ex->cmd_frame, ==, 5);
    /* Three commands in one frame, answered in order. */
    l = sm_frame_links(s.st, f);
    g_assert_cmpuint(l->ex->reply_frame, ==, 9);
    g_assert_cmpuint(l->next->ex->reply_frame, ==, 10);
    g_assert_cmpuint(l->next->next->ex->reply_frame, ==, 11);
    g_assert_null(l->next->next->next);
    g_assert_cmpuint(links(&s, 14)->ex->reply_frame, ==, 16);
    g_assert_cmpuint(links(&s, 17)->ex->reply_frame, ==, 18);
    sess_free(&s);
}

static void
test_starttls(void)
{
    sess_t s;
    sm_line_in_t *l;
    char *st;

    sess_init(&s);
    sess_handshake(&s);
    sess_line(&s, FALSE, "220 x", FALSE);                                          /* 4 */
    sess_line(&s, TRUE, "ehlo lab.example", FALSE);                                /* 5 */
    sess_line(&s, FALSE, "250 STARTTLS", FALSE);                                   /* 6 */
    sess_line(&s, TRUE, "mail from:<a@b>", FALSE);                                 /* 7 */
    sess_line(&s, FALSE, "530 5.7.0 Must issue a STARTTLS command first", FALSE);  /* 8 */
    sess_line(&s, TRUE, "starttls", FALSE);                                        /* 9 */
    sess_line(&s, FALSE, "220 Ready to start TLS", FALSE);                         /* 10 */
    l = NULL;
    sess_send(&s, TRUE, SM_TH_ACK, 300, l, 0, FALSE, FALSE, NULL, 0);              /* 11: ClientHello */
    sess_ack(&s, FALSE);                                                           /* 12 */
    sess_send(&s, FALSE, SM_TH_FIN | SM_TH_ACK, 0, NULL, 0, FALSE, FALSE, NULL, 0); /* 13 */
    st = sess_stages(&s);
    g_assert_cmpstr(st, ==,
        "handshake/syn handshake/syn-ack handshake/ack banner/reply helo/line helo-reply/reply mail/line "
        "mail-reply/reply starttls/line starttls-reply/reply tls/data tls/ack teardown/fin");
    g_free(st);
    g_assert_cmpstr(frame_note_text(&s, 8, SM_DIAG_STARTTLS_REQUIRED), ==,
        "The server demands STARTTLS before \"mail from:<a@b>\" (530 5.7.0: \"Must issue a STARTTLS command "
        "first\"): send STARTTLS, then EHLO again over TLS, for example with openssl s_client -starttls smtp");
    g_assert_null(frame_note_text(&s, 8, SM_DIAG_ERROR_REPLY));
    /* QUIT would be inside TLS: no no_quit. */
    g_assert_null(frame_note_text(&s, 13, SM_DIAG_NO_QUIT));
    sess_free(&s);
}

static void
test_typing_diagnoses(void)
{
    sess_t s;
    sm_line_in_t telnet = mkline("\xff\xfd\x01helo lab.example", "helo lab.example", 0, 3);
    sm_line_in_t bare = mkline("HELO", NULL, 0, 1);
    char *n;

    sess_init(&s);
    sess_handshake(&s);
    sess_line(&s, FALSE, "220 x", FALSE);                                  /* 4 */
    sess_send(&s, TRUE, SM_TH_ACK, 6, NULL, 0, FALSE, TRUE, "", 2);        /* 5: IAC DO SGA, IAC DO ECHO */
    sess_send(&s, TRUE, SM_TH_ACK, 2, &telnet, 1, TRUE, FALSE, NULL, 0);   /* 6 */
    sess_send(&s, TRUE, SM_TH_ACK, 6, &bare, 1, FALSE, FALSE, NULL, 0);    /* 7 */
    sess_send(&s, TRUE, SM_TH_FIN | SM_TH_ACK, 0, NULL, 0, FALSE, FALSE, NULL, 0); /* 8 */
    n = frame_notes(&s, 5); g_assert_cmpstr(n, ==, "9"); g_free(n);
    g_assert_cmpstr(frame_note_text(&s, 5, SM_DIAG_TELNET_NEGOTIATION), ==,
        "Telnet commands <IAC DO Suppress Go Ahead><IAC DO ECHO> start the next line the server reads. telnet sends "
        "them after Ctrl+] mode character (mode line goes back), plink -telnet, busybox telnet at connect: use "
        "plink -raw or nc -C");
    /* No reply: no helo marker (a marker marks the step done). */
    n = frame_notes(&s, 6); g_assert_cmpstr(n, ==, ""); g_free(n);
    n = frame_notes(&s, 7); g_assert_cmpstr(n, ==, "10"); g_free(n);
    g_assert_cmpstr(frame_note_text(&s, 7, SM_DIAG_HELO_NO_DOMAIN), ==,
        "HELO without a domain: RFC 5321 requires the client's name, as in \"HELO lab.example\"; "
        "servers may answer 501");
    n = frame_notes(&s, 8); g_assert_cmpstr(n, ==, "14"); g_free(n);
    g_assert_cmpstr(frame_note_text(&s, 8, SM_DIAG_NO_QUIT), ==,
        "The client closed the connection without sending QUIT: a session ends with QUIT and the server's 221 "
        "reply. Type QUIT and wait for the 221 before closing");
    n = final_notes(&s, 6);
    g_assert_cmpstr(n, ==, "13:No reply to \"helo lab.example\" in this capture: the capture ends, or the "
                           "connection closes, before the server answers. Wait for each reply before the next line, "
                           "and keep capturing until it comes");
    g_free(n);
    /* The stage of the keystroke frame 5 follows its line. */
    g_assert_cmpstr(sm_stage_name(sm_frame_stage(s.st, frame(&s, 5))), ==, "helo");
    g_assert_false(sm_conv_complete(s.c));
    sess_free(&s);
}

/* Enter presses that end no line: CR NUL on its frame, a bare CR on the
 * frame it ends once the next byte shows it; the line they are in is one
 * line to the server, and its 500 says why. */
static void
test_enter_diagnoses(void)
{
    sess_t s;
    sm_line_in_t joined = mkline("quit\r\0quit", NULL, 0, 3);
    char *n;

    joined.raw_len = joined.edited_len = 10;  /* past the NUL */
    joined.total_len = 12;

    sess_init(&s);
    sess_handshake(&s);
    sess_line(&s, FALSE, "220 x", FALSE);                                  /* 4 */
    s.enters_crnul = 1;
    sess_send(&s, TRUE, SM_TH_ACK, 6, NULL, 0, FALSE, TRUE, "quit\r", 0);  /* 5: quit CR NUL */
    sess_send(&s, TRUE, SM_TH_ACK, 4, NULL, 0, TRUE, TRUE, "quit\r", 0);   /* 6: quit */
    sess_send(&s, TRUE, SM_TH_ACK, 2, &joined, 1, TRUE, FALSE, NULL, 0);   /* 7: CR LF */
    sess_line(&s, FALSE, "500 Error: command \"QUIT\r\" not recognized", FALSE); /* 8 */
    sess_send(&s, TRUE, SM_TH_ACK, 2, NULL, 0, FALSE, TRUE, "x", 0);       /* 9: "x" CR */
    s.bare_cr_frame = 9;
    sess_send(&s, TRUE, SM_TH_ACK, 1, NULL, 0, TRUE, TRUE, "x", 0);        /* 10: "y" */
    n = frame_notes(&s, 5); g_assert_cmpstr(n, ==, "7"); g_free(n);
    g_assert_cmpstr(frame_note_text(&s, 5, SM_DIAG_CR_NUL), ==,
        "Enter sent CR NUL (telnet character mode), which ends no line: the server reads a line up to LF, so what "
        "is typed next joins this line. In telnet press Ctrl+] and type \"toggle crlf\", or use line mode "
        "(\"mode line\")");
    g_assert_cmpstr(frame_note_text(&s, 8, SM_DIAG_ERROR_REPLY), ==,
        "The server could not read \"quit\\r\\0quit\": 500 \"Error: command \"QUIT\\r\" not recognized\": an Enter "
        "in it sent CR NUL or a bare CR, which ends no line. Type the line again with Enter sending CR LF");
    n = frame_notes(&s, 9); g_assert_cmpstr(n, ==, "15"); g_free(n);
    g_assert_cmpstr(frame_note_text(&s, 9, SM_DIAG_BARE_CR), ==,
        "Enter sent a bare CR, which ends no line: the server reads a line up to LF, so what is typed next joins "
        "this line. With socat add the crnl option (socat -,raw,echo=0,crnl TCP:host:25), with nc use nc -C, or "
        "press Ctrl+J (LF)");
    n = frame_notes(&s, 10); g_assert_cmpstr(n, ==, ""); g_free(n);
    g_assert_true(sm_conv_amended(s.c) == frame(&s, 9));
    sess_free(&s);
}

/* telnet's Ctrl+] send ayt in the middle of "helo lab.example": the note
 * on the frame says the bytes are part of this line, and the 500 to the
 * line names them as its cause. */
static void
test_telnet_inside_line(void)
{
    sess_t s;
    sm_line_in_t helo = mkline("helo lab.\xff\xf6" "example", "helo lab.example", 0, 3);
    char *n;

    sess_init(&s);
    sess_handshake(&s);
    sess_line(&s, FALSE, "220 x", FALSE);                                        /* 4 */
    sess_send(&s, TRUE, SM_TH_ACK, 9, NULL, 0, FALSE, TRUE, "helo lab.", 0);     /* 5 */
    s.telnet_text = "<IAC AYT>";
    s.telnet_in_line = TRUE;
    sess_send(&s, TRUE, SM_TH_ACK, 2, NULL, 0, TRUE, TRUE, "helo lab.", 1);      /* 6: IAC AYT */
    sess_send(&s, TRUE, SM_TH_ACK, 9, &helo, 1, TRUE, FALSE, NULL, 0);           /* 7: example CR LF */
    sess_line(&s, FALSE, "500 5.5.2 Error: command not recognized", FALSE);     /* 8 */
    n = frame_notes(&s, 6); g_assert_cmpstr(n, ==, "9"); g_free(n);
    g_assert_cmpstr(frame_note_text(&s, 6, SM_DIAG_TELNET_NEGOTIATION), ==,
        "Telnet command <IAC AYT> inside a line (from telnet's Ctrl+] send, a mode change or a window resize): the "
        "SMTP server reads the bytes as part of the line. If it gets an error reply, type it again");
    g_assert_cmpstr(frame_note_text(&s, 8, SM_DIAG_ERROR_REPLY), ==,
        "The server could not read \"helo lab.\\xff\\xf6example\": 500 5.5.2 \"Error: command not recognized\": it "
        "read the telnet bytes <IAC AYT> as characters. Type the line again without them (nc -C and plink -raw send "
        "none)");
    sess_free(&s);
}

static void
test_bdat(void)
{
    sess_t s;
    sm_line_in_t quit = mkline("QUIT", NULL, 0, 1);
    sm_stage_t stages[4];
    char *st;

    sess_init(&s);
    sess_handshake(&s);
    sess_line(&s, FALSE, "220 x", FALSE);          /* 4 */
    sess_line(&s, TRUE, "BDAT 5 LAST", FALSE);     /* 5 */
    s.chunk_bytes = 5;
    sess_send(&s, TRUE, SM_TH_ACK, 11, &quit, 1, FALSE, FALSE, NULL, 0); /* 6: 5 bytes of chunk, then QUIT */
    sess_line(&s, FALSE, "250 OK", FALSE);         /* 7 */
    sess_line(&s, FALSE, "221 Bye", FALSE);        /* 8 */
    st = sess_stages(&s);
    g_assert_cmpstr(st, ==, "handshake/syn handshake/syn-ack handshake/ack banner/reply bdat/line "
                            "quit/line bdat-reply/reply quit-reply/reply");
    g_free(st);
    /* Frame 6 carries a chunk and a command: both stages. */
    g_assert_cmpuint(sm_frame_stages(s.st, frame(&s, 6), stages, 4), ==, 2);
    g_assert_cmpint(stages[0], ==, SM_ST_QUIT);
    g_assert_cmpint(stages[1], ==, SM_ST_BDAT);
    g_assert_cmpuint(sm_frame_stages(s.st, frame(&s, 5), stages, 4), ==, 1);
    sess_free(&s);
}

static void
test_midstream_and_unsolicited(void)
{
    sess_t s;
    char *st;

    /* A capture that starts after the banner: no handshake, no marker. */
    sess_init(&s);
    sess_ack(&s, FALSE);                            /* 1: nothing to follow yet */
    sess_line(&s, FALSE, "421 timeout", FALSE);     /* 2: answers no command, and is no banner */
    sess_line(&s, TRUE, "NOOP", FALSE);             /* 3 */
    sess_line(&s, FALSE, "250 OK", FALSE);          /* 4 */
    sess_ack(&s, TRUE);                             /* 5 */
    st = sess_stages(&s);
    g_assert_cmpstr(st, ==, "unknown/ack unknown-reply/reply noop/line noop-reply/reply noop-reply/ack");
    g_free(st);
    g_assert_cmpstr(frame_note_text(&s, 2, SM_DIAG_ERROR_REPLY), ==,
        "The server closes the session: 421 \"timeout\" (no command waiting): it waited too long for a command. "
        "Connect again and type each line without long pauses");
    g_assert_null(frame_note_text(&s, 5, SM_DIAG_NO_QUIT));
    sess_free(&s);

    /* A client that never typed: its silence counts from the greeting. */
    sess_init(&s);
    sess_handshake(&s);                             /* 1-3 */
    s.at_ms = 1000;
    sess_line(&s, FALSE, "220 mail.lab ESMTP", FALSE);  /* 4 */
    s.at_ms = 5250;
    sess_line(&s, FALSE, "421 4.4.2 mail.lab Error: timeout exceeded", FALSE); /* 5 */
    g_assert_cmpstr(frame_note_text(&s, 5, SM_DIAG_ERROR_REPLY), ==,
        "The server closes the session: 421 4.4.2 \"mail.lab Error: timeout exceeded\" (no command waiting), after "
        "4.2 s of client silence since the greeting: it waited too long for a command. Connect again and type each "
        "line without long pauses");
    sess_free(&s);

    /* Started after the handshake but before the banner. */
    sess_init(&s);
    sess_line(&s, FALSE, "220-lab.example", FALSE); /* 1 */
    sess_line(&s, FALSE, "220 ready", FALSE);       /* 2 */
    st = sess_stages(&s);
    g_assert_cmpstr(st, ==, "banner/reply banner/reply");
    g_free(st);
    g_assert_nonnull(frame_note_text(&s, 2, SM_MARK_BANNER));
    sess_free(&s);
}

/* A server that answers late (tarpitting, a greeting delay): more than 3 s
 * (strictly) from the handshake to the greeting, or from a command line to
 * the first line of its reply, on that line's frame. */
static void
test_slow_reply(void)
{
    static const char *const took[] = {
        "The server took 3.5 s after the connection opened to send its greeting: servers may delay it on purpose "
        "(against clients that talk first) or be busy. Wait for the 220 before you type",
        "The server took 3.5 s to answer \"HELO lab.example\" (frame 6): servers may delay replies on purpose "
        "(tarpitting against spam) or be busy. Wait for each reply before you type the next line",
    };
    sess_t s;
    char *n;

    sess_init(&s);
    sess_send(&s, TRUE, SM_TH_SYN, 0, NULL, 0, FALSE, FALSE, NULL, 0);             /* 1 */
    sess_send(&s, FALSE, SM_TH_SYN | SM_TH_ACK, 0, NULL, 0, FALSE, FALSE, NULL, 0); /* 2 */
    s.at_ms = 1000;
    sess_ack(&s, TRUE);                                       /* 3: the handshake complete at 1.0 s */
    s.at_ms = 4500;
    sess_line(&s, FALSE, "220 lab.example ESMTP", FALSE);    /* 4: 3.5 s later */
    sess_ack(&s, TRUE);                                       /* 5 */
    s.at_ms = 5000;
    sess_line(&s, TRUE, "HELO lab.example", FALSE);           /* 6 */
    s.at_ms = 8500;
    sess_line(&s, FALSE, "250 lab.example", FALSE);           /* 7: 3.5 s later */
    s.at_ms = 9000;
    sess_line(&s, TRUE, "NOOP", FALSE);                       /* 8 */
    s.at_ms = 12000;
    sess_line(&s, FALSE, "250 OK", FALSE);                    /* 9: 3.0 s later, not more */
    s.at_ms = 13000;
    sess_line(&s, TRUE, "EHLO lab.example", FALSE);           /* 10 */
    s.at_ms = 16001;
    sess_line(&s, FALSE, "250-lab.example", FALSE);           /* 11: its first line 3.001 s later */
    s.at_ms = 20000;
    sess_line(&s, FALSE, "250 SIZE 1000", FALSE);             /* 12: the same reply goes on */
    s.at_ms = 40000;
    sess_line(&s, FALSE, "421 4.4.2 timeout", FALSE);         /* 13: no command waits: not late */
    n = frame_notes(&s, 4); g_assert_cmpstr(n, ==, "1,18"); g_free(n);
    g_assert_cmpstr(frame_note_text(&s, 4, SM_DIAG_SLOW_REPLY), ==, took[0]);
    n = frame_notes(&s, 7); g_assert_cmpstr(n, ==, "3,18"); g_free(n);
    g_assert_cmpstr(frame_note_text(&s, 7, SM_DIAG_SLOW_REPLY), ==, took[1]);
    n = frame_notes(&s, 9); g_assert_cmpstr(n, ==, ""); g_free(n);
    n = frame_notes(&s, 11); g_assert_cmpstr(n, ==, "18"); g_free(n);
    g_assert_true(g_str_has_prefix(frame_note_text(&s, 11, SM_DIAG_SLOW_REPLY),
                                   "The server took 3.0 s to answer \"EHLO lab.example\" (frame 10): "));
    n = frame_notes(&s, 12); g_assert_cmpstr(n, ==, ""); g_free(n);
    n = frame_notes(&s, 13); g_assert_cmpstr(n, ==, "12"); g_free(n);
    g_assert_cmpstr(sm_diag_name(SM_DIAG_SLOW_REPLY), ==, "slow_reply");
    g_assert_cmpint(sm_note_info(SM_DIAG_SLOW_REPLY)->severity, ==, SM_SEV_NOTE);
    g_assert_cmpint(sm_note_info(SM_DIAG_SLOW_REPLY)->group, ==, SM_GROUP_SEQUENCE);
    sess_free(&s);

    /* A greeting exactly 3.0 s after the handshake is not slow. */
    sess_init(&s);
    sess_send(&s, TRUE, SM_TH_SYN, 0, NULL, 0, FALSE, FALSE, NULL, 0);             /* 1 */
    sess_send(&s, FALSE, SM_TH_SYN | SM_TH_ACK, 0, NULL, 0, FALSE, FALSE, NULL, 0); /* 2 */
    s.at_ms = 1000;
    sess_ack(&s, TRUE);                                       /* 3 */
    s.at_ms = 4000;
    sess_line(&s, FALSE, "220 lab.example ESMTP", FALSE);    /* 4 */
    n = frame_notes(&s, 4); g_assert_cmpstr(n, ==, "1"); g_free(n);
    sess_free(&s);

    /* Without the client's ACK, from the SYN/ACK: the last one sent. */
    sess_init(&s);
    sess_send(&s, TRUE, SM_TH_SYN, 0, NULL, 0, FALSE, FALSE, NULL, 0);             /* 1 */
    sess_send(&s, FALSE, SM_TH_SYN | SM_TH_ACK, 0, NULL, 0, FALSE, FALSE, NULL, 0); /* 2 */
    s.next[1]--;
    s.at_ms = 1000;
    sess_send(&s, FALSE, SM_TH_SYN | SM_TH_ACK, 0, NULL, 0, FALSE, FALSE, NULL, 0); /* 3: sent again */
    s.at_ms = 4500;
    sess_line(&s, FALSE, "220 lab.example ESMTP", FALSE);    /* 4 */
    g_assert_cmpstr(frame_note_text(&s, 4, SM_DIAG_SLOW_REPLY), ==, took[0]);
    sess_free(&s);

    /* No handshake in the capture (it starts later), or only the server's
     * side of it: nothing to time the greeting from. */
    sess_init(&s);
    s.at_ms = 9000;
    sess_line(&s, FALSE, "220 lab.example ESMTP", FALSE);    /* 1 */
    n = frame_notes(&s, 1); g_assert_cmpstr(n, ==, "1"); g_free(n);
    sess_free(&s);
    sess_init(&s);
    sess_send(&s, FALSE, SM_TH_SYN | SM_TH_ACK, 0, NULL, 0, FALSE, FALSE, NULL, 0); /* 1 */
    s.at_ms = 9000;
    sess_line(&s, FALSE, "220 lab.example ESMTP", FALSE);    /* 2 */
    n = frame_notes(&s, 2); g_assert_cmpstr(n, ==, "1"); g_free(n);
    sess_free(&s);
}

/* Several lines in one frame, each its own line. */
static sm_frame_t *
sess_lines(sess_t *s, gboolean client, const char *const *texts, guint32 n)
{
    sm_line_in_t *l = wmem_alloc_array(s->a, sm_line_in_t, n);
    guint32 i, len = 0;

    for (i = 0; i < n; i++) {
        l[i] = mkline(texts[i], NULL, 0, 1);
        len += l[i].total_len;
    }
    return sess_send(s, client, SM_TH_ACK, len, l, n, FALSE, FALSE, NULL, 0);
}

static void
attempt_frames(const sm_exchange_t *ex, void *user)
{
    g_string_append_printf((GString *)user, "%s%u", ((GString *)user)->len ? "," : "", ex->cmd_frame);
}

static char *
failed_attempts(sess_t *s, sm_stage_t st)
{
    GString *g = g_string_new(NULL);

    sm_conv_failed_attempts(s->c, st, attempt_frames, g);
    return g_string_free(g, FALSE);
}

/* A stage marker marks the step done: failed attempts keep their stage and
 * get none; the first success gets them, once. */
static void
test_markers_on_success(void)
{
    sess_t s;
    sm_line_in_t typo = mkline("quix\x7ft", "quit", 1, 5);
    char *n;

    sess_init(&s);
    sess_handshake(&s);
    sess_line(&s, FALSE, "220 x", FALSE);                                /* 4 */
    sess_line(&s, TRUE, "helo", FALSE);                                  /* 5 */
    sess_line(&s, FALSE, "501 Syntax: HELO hostname", FALSE);            /* 6 */
    sess_line(&s, TRUE, "helo lab.example", FALSE);                      /* 7 */
    sess_line(&s, FALSE, "250 x", FALSE);                                /* 8 */
    sess_line(&s, TRUE, "helo again.example", FALSE);                    /* 9 */
    sess_line(&s, FALSE, "250 x", FALSE);                                /* 10 */
    sess_send(&s, TRUE, SM_TH_ACK, 8, &typo, 1, FALSE, FALSE, NULL, 0);  /* 11 */
    sess_line(&s, FALSE, "500 5.5.2 Error: command not recognized", FALSE); /* 12 */
    g_assert_cmpstr(sm_stage_name(sm_frame_stage(s.st, frame(&s, 11))), ==, "quit");
    g_assert_cmpstr(sm_stage_name(sm_frame_stage(s.st, frame(&s, 12))), ==, "quit-reply");
    g_assert_false(sm_conv_complete(s.c));
    sess_line(&s, TRUE, "quit", FALSE);                                  /* 13 */
    sess_line(&s, FALSE, "221 Bye", FALSE);                              /* 14 */
    sess_send(&s, FALSE, SM_TH_FIN | SM_TH_ACK, 0, NULL, 0, FALSE, FALSE, NULL, 0); /* 15 */
    n = frame_notes(&s, 5); g_assert_cmpstr(n, ==, "10"); g_free(n);   /* helo_no_domain only */
    n = frame_notes(&s, 6); g_assert_cmpstr(n, ==, "12"); g_free(n);   /* error_reply only */
    n = frame_notes(&s, 7); g_assert_cmpstr(n, ==, "2"); g_free(n);
    n = frame_notes(&s, 8); g_assert_cmpstr(n, ==, "3"); g_free(n);
    n = frame_notes(&s, 9); g_assert_cmpstr(n, ==, ""); g_free(n);    /* once per connection */
    n = frame_notes(&s, 10); g_assert_cmpstr(n, ==, ""); g_free(n);
    n = frame_notes(&s, 11); g_assert_cmpstr(n, ==, "8"); g_free(n);  /* editing */
    n = frame_notes(&s, 12); g_assert_cmpstr(n, ==, "12"); g_free(n);
    n = frame_notes(&s, 13); g_assert_cmpstr(n, ==, "4"); g_free(n);
    n = frame_notes(&s, 14); g_assert_cmpstr(n, ==, "5"); g_free(n);
    g_assert_cmpstr(frame_note_text(&s, 7, SM_MARK_HELO), ==,
        "Activity 5: the client greets the server with \"helo lab.example\" (1 segment), accepted with 250 in frame 8");
    g_assert_cmpstr(frame_note_text(&s, 8, SM_MARK_HELO_REPLY), ==,
        "Activity 6: the server accepts \"helo lab.example\" (frame 7) with 250");
    g_assert_cmpstr(frame_note_text(&s, 14, SM_MARK_QUIT_REPLY), ==,
        "Activity 8: the server answers QUIT (frame 13) with 221 (closing): the connection closes next");
    g_assert_cmpuint(sm_conv_lab_frame(s.c, SM_ST_HELO), ==, 7);
    g_assert_cmpuint(sm_conv_lab_frame(s.c, SM_ST_HELO_REPLY), ==, 8);
    g_assert_cmpuint(sm_conv_lab_frame(s.c, SM_ST_QUIT), ==, 13);
    g_assert_cmpuint(sm_conv_lab_frame(s.c, SM_ST_QUIT_REPLY), ==, 14);
    n = failed_attempts(&s, SM_ST_HELO); g_assert_cmpstr(n, ==, "5"); g_free(n);
    n = failed_attempts(&s, SM_ST_QUIT); g_assert_cmpstr(n, ==, "11"); g_free(n);
    /* The 500 to the typo says what the server received. */
    g_assert_cmpstr(frame_note_text(&s, 12, SM_DIAG_ERROR_REPLY), ==,
        "The server could not read \"quix\\x7ft\": 500 5.5.2 \"Error: command not recognized\". Type the command "
        "again as RFC 5321 spells it, as in \"HELO lab.example\", \"MAIL FROM:<you@lab.example>\"");
    g_assert_true(sm_conv_complete(s.c));
    g_assert_true(frame(&s, 15)->completes);
    sess_free(&s);
}

/* DATA, the message and "." in one segment before the 354: the message
 * lines are message lines, "." is answered by the 250 after the 354. */
static void
test_data_before_354(void)
{
    static const char *const burst[] = { "DATA", "This is a test", "." };
    static const char *const replies[] = { "354 go ahead", "250 2.0.0 Ok: queued" };
    sess_t s;
    char *n;

    sess_init(&s);
    sess_handshake(&s);
    sess_line(&s, FALSE, "220 x", FALSE);            /* 4 */
    sess_lines(&s, TRUE, burst, 3);                  /* 5 */
    sess_line(&s, FALSE, "354 go ahead", FALSE);     /* 6 */
    sess_line(&s, FALSE, "250 2.0.0 Ok: queued", FALSE); /* 7 */
    sess_lines(&s, TRUE, burst, 3);                  /* 8: again, both replies in one frame */
    sess_lines(&s, FALSE, replies, 2);               /* 9 */
    sess_send(&s, TRUE, SM_TH_FIN | SM_TH_ACK, 0, NULL, 0, FALSE, FALSE, NULL, 0); /* 10 */
    g_assert_cmpuint(links(&s, 6)->ex->cmd_frame, ==, 5);
    g_assert_cmpstr(links(&s, 6)->ex->cmd_text, ==, "DATA");
    g_assert_cmpuint(links(&s, 7)->ex->cmd_frame, ==, 5);
    g_assert_cmpstr(links(&s, 7)->ex->cmd_text, ==, ".");
    g_assert_cmpstr(sm_stage_name(sm_frame_stage(s.st, frame(&s, 7))), ==, "message-reply");
    n = final_notes(&s, 5); g_assert_cmpstr(n, ==, ""); g_free(n);
    n = final_notes(&s, 8); g_assert_cmpstr(n, ==, ""); g_free(n);
    g_assert_cmpuint(links(&s, 9)->next->ex->cmd_frame, ==, 8);
    sess_free(&s);
}

/* A capture that starts after the greeting: the first reply answers the
 * first command, and a STARTTLS answered 220 switches to TLS. */
static void
test_after_greeting(void)
{
    sess_t s;
    char *st;

    sess_init(&s);
    sess_line(&s, TRUE, "EHLO lab.example", FALSE);      /* 1 */
    sess_line(&s, FALSE, "250 x", FALSE);                /* 2 */
    sess_line(&s, TRUE, "STARTTLS", FALSE);              /* 3 */
    sess_line(&s, FALSE, "220 2.0.0 Ready to start TLS", FALSE); /* 4 */
    sess_send(&s, TRUE, SM_TH_ACK, 300, NULL, 0, FALSE, FALSE, NULL, 0); /* 5 */
    st = sess_stages(&s);
    g_assert_cmpstr(st, ==, "helo/line helo-reply/reply starttls/line starttls-reply/reply tls/data");
    g_free(st);
    g_assert_cmpuint(links(&s, 2)->ex->cmd_frame, ==, 1);
    g_assert_null(frame_note_text(&s, 2, SM_MARK_BANNER));
    g_assert_nonnull(frame_note_text(&s, 2, SM_MARK_HELO_REPLY));
    g_assert_true(sm_conv_in_tls(s.c));
    sess_free(&s);
}

/* A server line without a reply code answers nothing, even inside a reply. */
static void
test_malformed_reply(void)
{
    static const char *const split[] = { "500 5.5.1 Command unrecognized: \"x", "1+l\x07\"", "500 5.5.1 y" };
    sess_t s;
    char *n;

    sess_init(&s);
    sess_handshake(&s);
    sess_line(&s, FALSE, "220 x", FALSE);              /* 4 */
    sess_line(&s, TRUE, "x", FALSE);                   /* 5 */
    sess_line(&s, TRUE, "y", FALSE);                   /* 6 */
    sess_lines(&s, FALSE, split, 3);                   /* 7 */
    sess_line(&s, TRUE, "DATA", FALSE);                /* 8 */
    sess_line(&s, FALSE, "250-first", FALSE);          /* 9 */
    sess_line(&s, FALSE, "no code", FALSE);            /* 10 */
    sess_line(&s, FALSE, "250 last", FALSE);           /* 11 */
    g_assert_cmpuint(links(&s, 5)->ex->reply_frame, ==, 7);
    g_assert_cmpuint(links(&s, 6)->ex->reply_frame, ==, 7);
    n = frame_notes(&s, 7); g_assert_cmpstr(n, ==, "12,16,12"); g_free(n);
    g_assert_cmpstr(frame_note_text(&s, 7, SM_DIAG_MALFORMED_REPLY), ==,
        "Server line without a reply code: \"1+l\\x07\"\". It answers no command: it is a piece of a reply that a "
        "bare LF split (a server echoing the client's bytes can do that), or the port does not speak SMTP");
    g_assert_null(links(&s, 10));
    g_assert_cmpstr(sm_stage_name(sm_frame_stage(s.st, frame(&s, 10))), ==, "data-reply");
    g_assert_cmpuint(links(&s, 8)->ex->reply_frame, ==, 11);
    sess_free(&s);
}

/* Only the client's side captured: the connection was accepted (its ACKs
 * say so), the message follows DATA, and nothing needs the server's side. */
static void
test_one_direction(void)
{
    static const char *const msg[] = { "Subject: x", "", "body", "." };
    sess_t s;
    char *n;

    sess_init(&s);
    sess_send(&s, TRUE, SM_TH_SYN, 0, NULL, 0, FALSE, FALSE, NULL, 0); /* 1 */
    s.next[1]++;                                                        /* the SYN/ACK, not captured */
    sess_ack(&s, TRUE);                                                 /* 2 */
    sess_line(&s, TRUE, "ehlo lab.example", FALSE);                     /* 3 */
    sess_line(&s, TRUE, "data", FALSE);                                 /* 4 */
    sess_lines(&s, TRUE, msg, 4);                                       /* 5 */
    sess_line(&s, TRUE, "quit", FALSE);                                 /* 6 */
    sess_send(&s, TRUE, SM_TH_FIN | SM_TH_ACK, 0, NULL, 0, FALSE, FALSE, NULL, 0); /* 7 */
    g_assert_cmpstr(sm_stage_name(sm_frame_stage(s.st, frame(&s, 5))), ==, "message");
    g_assert_cmpstr(sm_stage_name(sm_frame_stage(s.st, frame(&s, 6))), ==, "quit");
    n = final_notes(&s, 1);
    g_assert_cmpstr(n, ==, "17:Only the client's side is captured (7 frames): no reply (greeting, closing) can be "
                           "shown, nor a note that needs one. Capture both directions, on the client or server: "
                           "filter \"tcp port 25\", not \"dst port 25\"");
    g_free(n);
    n = final_notes(&s, 3); g_assert_cmpstr(n, ==, ""); g_free(n);
    n = frame_notes(&s, 3); g_assert_cmpstr(n, ==, ""); g_free(n);
    n = frame_notes(&s, 7); g_assert_cmpstr(n, ==, ""); g_free(n);
    g_assert_false(sm_conv_complete(s.c));
    sess_free(&s);

    /* Only SYNs: the port is blocked, not half captured. */
    sess_init(&s);
    sess_send(&s, TRUE, SM_TH_SYN, 0, NULL, 0, FALSE, FALSE, NULL, 0);
    n = final_notes(&s, 1);
    g_assert_true(g_str_has_prefix(n, "6:The SYN to port 25 got no answer"));
    g_free(n);
    sess_free(&s);
}

/* A reply and the next one in one segment: a stage item for each. */
static void
test_several_stages(void)
{
    static const char *const quit_after_dot[] = { ".", "QUIT" };
    static const char *const both[] = { "250 2.0.0 Ok: queued", "221 2.0.0 Bye" };
    sess_t s;
    sm_stage_t stages[4];

    sess_init(&s);
    sess_handshake(&s);
    sess_line(&s, FALSE, "220 x", FALSE);        /* 4 */
    sess_line(&s, TRUE, "DATA", FALSE);          /* 5 */
    sess_line(&s, FALSE, "354 go ahead", FALSE); /* 6 */
    sess_lines(&s, TRUE, quit_after_dot, 2);     /* 7 */
    sess_lines(&s, FALSE, both, 2);              /* 8 */
    g_assert_cmpuint(sm_frame_stages(s.st, frame(&s, 7), stages, 4), ==, 2);
    g_assert_cmpint(stages[0], ==, SM_ST_MESSAGE);
    g_assert_cmpint(stages[1], ==, SM_ST_QUIT);
    g_assert_cmpuint(sm_frame_stages(s.st, frame(&s, 8), stages, 4), ==, 2);
    g_assert_cmpint(stages[0], ==, SM_ST_MESSAGE_REPLY);
    g_assert_cmpint(stages[1], ==, SM_ST_QUIT_REPLY);
    g_assert_nonnull(frame_note_text(&s, 8, SM_MARK_QUIT_REPLY));
    g_assert_nonnull(frame_note_text(&s, 7, SM_MARK_QUIT));
    sess_free(&s);
}

/* What a refusal means decides the advice. */
static void
test_advice(void)
{
    sess_t s;

    sess_init(&s);
    sess_handshake(&s);
    sess_line(&s, FALSE, "220 x", FALSE);                                       /* 4 */
    sess_line(&s, TRUE, "EXPN root", FALSE);                                    /* 5 */
    sess_line(&s, FALSE, "502 5.5.1 EXPN command disabled", FALSE);             /* 6 */
    sess_line(&s, TRUE, "RCPT TO:<b@elsewhere.example>", FALSE);                /* 7 */
    sess_line(&s, FALSE, "554 5.7.1 <b@elsewhere.example>: Relay access denied", FALSE); /* 8 */
    sess_line(&s, TRUE, "MAIL FROM:<a@b>", FALSE);                              /* 9 */
    sess_line(&s, FALSE, "553 5.7.1 not logged in", FALSE);                     /* 10 */
    sess_line(&s, TRUE, "RCPT TO:<a@b>", FALSE);                                /* 11 */
    sess_line(&s, FALSE, "503 5.5.1 Error: need MAIL command", FALSE);          /* 12 */
    g_assert_cmpstr(sm_stage_name(sm_frame_stage(s.st, frame(&s, 5))), ==, "expn");
    g_assert_cmpstr(sm_stage_name(sm_frame_stage(s.st, frame(&s, 6))), ==, "expn-reply");
    g_assert_cmpstr(frame_note_text(&s, 6, SM_DIAG_ERROR_REPLY), ==,
        "The server does not offer \"EXPN root\": 502 5.5.1 \"EXPN command disabled\": it leaves the command out or "
        "has it disabled (RFC 5321 lets servers refuse VRFY, EXPN and HELP); go on without it");
    g_assert_cmpstr(frame_note_text(&s, 8, SM_DIAG_ERROR_REPLY), ==,
        "The server refuses \"RCPT TO:<b@elsewhere.example>\" by its policy: 554 5.7.1 \"<b@elsewhere.example>: "
        "Relay access denied\": the server does not relay mail to other domains: send to an address the server "
        "itself takes mail for");
    g_assert_true(g_str_has_prefix(frame_note_text(&s, 10, SM_DIAG_ERROR_REPLY),
        "The server refuses \"MAIL FROM:<a@b>\" by its policy: 553 5.7.1 \"not logged in\": authenticate first"));
    g_assert_true(g_str_has_prefix(frame_note_text(&s, 12, SM_DIAG_ERROR_REPLY), "Command out of sequence: 503"));
    /* 504 refuses an argument of a command the server offers. */
    sess_line(&s, TRUE, "helo student", FALSE);                                 /* 13 */
    sess_line(&s, FALSE, "504 5.5.2 <student>: Helo command rejected: need fully-qualified hostname", FALSE); /* 14 */
    sess_line(&s, TRUE, "AUTH FOO", FALSE);                                     /* 15 */
    sess_line(&s, FALSE, "504 5.5.4 Unrecognized authentication type", FALSE);  /* 16 */
    g_assert_cmpstr(frame_note_text(&s, 14, SM_DIAG_ERROR_REPLY), ==,
        "The server refuses the argument of \"helo student\": 504 5.5.2 \"<student>: Helo command rejected: need "
        "fully-qualified hostn...\": type the command again with what the reply asks for, as in \"HELO "
        "lab.example\"");
    g_assert_cmpstr(frame_note_text(&s, 16, SM_DIAG_ERROR_REPLY), ==,
        "The server refuses the argument of \"AUTH FOO\": 504 5.5.4 \"Unrecognized authentication type\": type the "
        "command again with what the reply asks for");
    sess_free(&s);
}

/* Every marker and diagnosis whole in Wireshark: an expert message is
 * written into ITEM_LABEL_LENGTH (240) bytes with its NUL, so Wireshark keeps
 * 239 and cuts the rest, in the GUI and in tshark's _ws.expert.message. A
 * 239-byte text cannot be told from a cut one: a text must be shorter. */
#define LABEL_KEEPS 239

typedef struct {
    sm_note_kind_t kind;
    char *text;
} text_t;

static void
add_text(sm_note_kind_t kind, const char *text, void *user)
{
    text_t t;

    t.kind = kind;
    t.text = g_strdup(text);
    g_array_append_val((GArray *)user, t);
}

/* Every note of every frame of the session, those of a second pass too. */
static void
sess_texts(sess_t *s, GArray *out)
{
    guint i;

    for (i = 0; i < s->frames->len; i++) {
        const sm_frame_t *f = (const sm_frame_t *)g_ptr_array_index(s->frames, i);
        const sm_note_t *n;
        for (n = sm_frame_notes(s->st, f); n; n = n->next)
            add_text(n->kind, sm_note_text(n, f->num, s->a), out);
        sm_final_notes(s->st, f, s->a, add_text, out);
    }
    sess_free(s);
}

/* The longest texts: frame numbers of 10 digits, port 65535. */
static void
sess_init_worst(sess_t *s)
{
    sess_init_port(s, 65535);
    s->num = 999999999;
}

/* prefix, then 70 bytes of fill: more than messages quote (60 bytes), each
 * written as 4 characters ("\x81"). */
static const char *
worst(sess_t *s, const char *prefix, guint8 fill)
{
    char *t = (char *)wmem_alloc(s->a, strlen(prefix) + 71);
    size_t n = strlen(prefix);

    memcpy(t, prefix, n);
    memset(t + n, fill, 70);
    t[n + 70] = '\0';
    return t;
}

/* A command line as typed (edited) and as received (raw), carried by
 * 4294967295 segments, and its reply. */
static void
sess_exchange(sess_t *s, const char *raw, const char *edited, const char *reply)
{
    sm_line_in_t *l = wmem_new(s->a, sm_line_in_t);

    *l = mkline(raw, edited, 0, G_MAXUINT32);
    sess_send(s, TRUE, SM_TH_ACK, l->total_len, l, 1, FALSE, FALSE, NULL, 0);
    if (reply)
        sess_line(s, FALSE, reply, FALSE);
}

static void
sess_fin(sess_t *s, gboolean client)
{
    sess_send(s, client, SM_TH_FIN | SM_TH_ACK, 0, NULL, 0, FALSE, FALSE, NULL, 0);
}

/* Quotes of 60 bytes that each escape to 4 characters: a command (0x81), a
 * line as received (0x82), a reply's text (0x83), a line without a code
 * (0x84), a line as meant (0x85); telnet commands with the longest names. */
#define CMD(p) worst(&s, p, 0x81)
#define RAW(p) worst(&s, p, 0x82)
#define REPLY(p) worst(&s, p, 0x83)
#define TELNET_LONGEST "<IAC WONT Output Carriage-Return Disposition>"

/* Drives the stage machine to every text it writes, with the longest
 * variable parts, into out. */
static void
worst_case_texts(GArray *out)
{
    sess_t s;
    sm_line_in_t *l;
    char *iacs;
    guint i;

    /* The lab: every marker. */
    sess_init_worst(&s);
    sess_handshake(&s);
    sess_line(&s, FALSE, "220 x", FALSE);
    sess_exchange(&s, CMD("helo "), NULL, "250 x");
    sess_exchange(&s, CMD("quit "), NULL, "221 x");
    sess_texts(&s, out);

    /* The port: refused, a SYN sent again (time stamps far apart), a SYN
     * never answered. */
    sess_init_worst(&s);
    sess_send(&s, TRUE, SM_TH_SYN, 0, NULL, 0, FALSE, FALSE, NULL, 0);
    sess_send(&s, FALSE, SM_TH_RST | SM_TH_ACK, 0, NULL, 0, FALSE, FALSE, NULL, 0);
    sess_texts(&s, out);
    sess_init_worst(&s);
    s.t = 9.2e18;
    sess_send(&s, TRUE, SM_TH_SYN, 0, NULL, 0, FALSE, FALSE, NULL, 0);
    s.next[0]--;
    s.t = 0;
    sess_send(&s, TRUE, SM_TH_SYN, 0, NULL, 0, FALSE, FALSE, NULL, 0);
    sess_texts(&s, out);
    sess_init_worst(&s);
    sess_send(&s, TRUE, SM_TH_SYN, 0, NULL, 0, FALSE, FALSE, NULL, 0);
    sess_texts(&s, out);

    /* Typing: Enter presses, telnet commands, erase keys, HELO and EHLO
     * without a domain, lines never answered, the client closing. */
    sess_init_worst(&s);
    sess_handshake(&s);
    sess_line(&s, FALSE, "220 x", FALSE);
    s.enters_crnul = 1;
    s.enters_cr = 1;
    sess_key(&s, "x", FALSE);
    s.telnet_text = TELNET_LONGEST TELNET_LONGEST TELNET_LONGEST TELNET_LONGEST "...";
    sess_send(&s, TRUE, SM_TH_ACK, 15, NULL, 0, TRUE, TRUE, "x", 5);
    s.telnet_text = TELNET_LONGEST TELNET_LONGEST TELNET_LONGEST TELNET_LONGEST "...";
    s.telnet_in_line = TRUE;
    sess_send(&s, TRUE, SM_TH_ACK, 15, NULL, 0, TRUE, TRUE, "x", 5);
    s.telnet_text = TELNET_LONGEST;
    sess_send(&s, TRUE, SM_TH_ACK, 3, NULL, 0, TRUE, TRUE, "x", 1);
    l = wmem_new(s.a, sm_line_in_t);
    *l = mkline(RAW(""), worst(&s, "", 0x85), G_MAXUINT32, G_MAXUINT32);
    sess_send(&s, TRUE, SM_TH_ACK, 2, l, 1, TRUE, FALSE, NULL, 0);
    sess_exchange(&s, "HELO", NULL, NULL);
    sess_exchange(&s, "EHLO", NULL, NULL);
    sess_exchange(&s, worst(&s, CMD(""), '\r'), NULL, NULL);
    sess_fin(&s, TRUE);
    sess_texts(&s, out);

    /* Negative replies, with enhanced codes of 10 characters (" 5.999.999"). */
    sess_init_worst(&s);
    sess_handshake(&s);
    sess_line(&s, FALSE, "220 x", FALSE);
    sess_exchange(&s, CMD("MAIL FROM:"), NULL, REPLY("530 5.999.999 starttls"));
    sess_exchange(&s, worst(&s, RAW(""), '\r'), "x", REPLY("500 5.999.999 "));
    iacs = (char *)wmem_alloc(s.a, 3 * 30 + 1);
    for (i = 0; i < 30; i++)
        memcpy(iacs + 3 * i, "\xff\xfc\x0c", 3); /* IAC WONT Output Horizontal Tab Disposition */
    iacs[90] = '\0';
    sess_exchange(&s, iacs, "x", REPLY("500 5.999.999 "));
    sess_exchange(&s, "DATA", NULL, "354 go ahead");
    sess_exchange(&s, ".", NULL, REPLY("554 5.999.999 "));
    sess_exchange(&s, "DATA", NULL, "354 go ahead");
    sess_exchange(&s, ".", NULL, REPLY("451 4.999.999 "));
    sess_exchange(&s, CMD("RCPT TO:"), NULL, REPLY("554 5.7.999 relay"));
    sess_exchange(&s, CMD("MAIL FROM:"), NULL, REPLY("553 5.7.999 "));
    sess_exchange(&s, CMD("EXPN "), NULL, REPLY("502 5.999.999 "));
    sess_exchange(&s, CMD("MAIL "), NULL, REPLY("501 5.999.999 "));
    sess_exchange(&s, CMD("RCPT TO:"), NULL, REPLY("503 5.999.999 "));
    sess_exchange(&s, CMD("RCPT TO:"), NULL, REPLY("550 5.999.999 "));
    sess_exchange(&s, CMD("VRFY "), NULL, REPLY("451 4.999.999 "));
    sess_exchange(&s, CMD("VRFY "), NULL, REPLY("554 5.999.999 "));
    sess_line(&s, FALSE, REPLY("500 5.999.999 "), FALSE);
    sess_line(&s, FALSE, REPLY("451 4.999.999 "), FALSE);
    sess_line(&s, FALSE, worst(&s, "", 0x84), FALSE);
    sess_texts(&s, out);

    /* 421 and 521 close the session: to a command or to none, at a
     * timeout (after the longest silence) or not; then the server's FIN. */
    for (i = 0; i < 6; i++) {
        static const char *const code[] = { "421 4.999.999 timeout", "421 4.999.999 timeout", "421 4.999.999 ",
                                            "421 4.999.999 ", "521 5.5.999 ", "521 5.999.999 " };
        sess_init_worst(&s);
        sess_handshake(&s);
        sess_line(&s, FALSE, "220 x", FALSE);
        s.t = 9.2e18;
        sess_exchange(&s, CMD("NOOP "), NULL, i % 2 ? "250 x" : NULL);
        s.t = 0;
        sess_line(&s, FALSE, REPLY(code[i]), FALSE);
        sess_fin(&s, FALSE);
        sess_texts(&s, out);
    }

    /* A 421 to a client that never typed: its silence since the greeting. */
    sess_init_worst(&s);
    sess_handshake(&s);
    s.t = 0;
    sess_line(&s, FALSE, "220 x", FALSE);
    s.t = 9.2e18;
    sess_line(&s, FALSE, REPLY("421 4.999.999 timeout"), FALSE);
    sess_fin(&s, FALSE);
    sess_texts(&s, out);

    /* 504: an argument refused, after each command that names an example. */
    for (i = 0; i < 4; i++) {
        static const char *const verb[] = { "HELO ", "MAIL FROM:", "RCPT TO:", "AUTH " };
        sess_init_worst(&s);
        sess_handshake(&s);
        sess_line(&s, FALSE, "220 x", FALSE);
        if (i == 2)
            sess_exchange(&s, CMD("MAIL FROM:"), NULL, "250 x");
        sess_exchange(&s, CMD(verb[i]), NULL, REPLY("504 5.999.999 "));
        sess_texts(&s, out);
    }

    /* A greeting that refuses the session, and what the server refuses
     * after it. */
    sess_init_worst(&s);
    sess_handshake(&s);
    sess_line(&s, FALSE, REPLY("554 5.999.999 "), FALSE);
    sess_exchange(&s, CMD("MAIL FROM:"), NULL, REPLY("550 5.999.999 "));
    sess_texts(&s, out);

    /* The server closes: without a greeting, after the greeting, inside a
     * reply. */
    sess_init_worst(&s);
    sess_handshake(&s);
    sess_fin(&s, FALSE);
    sess_texts(&s, out);
    sess_init_worst(&s);
    sess_handshake(&s);
    sess_line(&s, FALSE, "220 x", FALSE);
    sess_fin(&s, FALSE);
    sess_texts(&s, out);
    sess_init_worst(&s);
    sess_handshake(&s);
    sess_line(&s, FALSE, "220-x", FALSE);
    sess_fin(&s, FALSE);
    sess_texts(&s, out);

    /* A server that answers late: the greeting (time stamps far apart),
     * then a command. */
    sess_init_worst(&s);
    sess_handshake(&s);
    s.t = 9.2e18;
    sess_line(&s, FALSE, "220 x", FALSE);
    s.t = 0;
    sess_exchange(&s, CMD("helo "), NULL, NULL);
    s.t = 9.2e18;
    sess_line(&s, FALSE, "250 x", FALSE);
    sess_texts(&s, out);

    /* One direction captured: the client's, the server's. */
    sess_init_worst(&s);
    sess_send(&s, TRUE, SM_TH_SYN, 0, NULL, 0, FALSE, FALSE, NULL, 0);
    s.next[1]++;
    sess_ack(&s, TRUE);
    sess_exchange(&s, CMD("helo "), NULL, NULL);
    sess_texts(&s, out);
    sess_init_worst(&s);
    sess_line(&s, FALSE, "220 x", FALSE);
    sess_line(&s, FALSE, "250 x", FALSE);
    sess_texts(&s, out);
}

/* Each text the stage machine writes: what it ends with (its advice, whole)
 * and the quotes it must keep something of (at least 5 escaped bytes, or
 * the start of a telnet command). */
static const struct {
    sm_note_kind_t kind;
    const char *tail;
    const char *keeps;
} expected_texts[] = {
    { SM_MARK_HANDSHAKE, "ACK (frame 1000000002)", "" },
    { SM_MARK_BANNER, "the client may send HELO or EHLO", "" },
    { SM_MARK_HELO, "accepted with 250 in frame 1000000005", "\x81" },
    { SM_MARK_HELO_REPLY, "(frame 1000000004) with 250", "\x81" },
    { SM_MARK_QUIT, "answered 221 in frame 1000000007", "\x81" },
    { SM_MARK_QUIT_REPLY, "with 221 (closing): the connection closes next", "" },
    { SM_DIAG_PORT_BLOCKED, "with RST. Nothing accepts connections on that port, or a firewall rejects them; port 25 is "
                            "often blocked by ISPs: try port 587", "" },
    { SM_DIAG_PORT_BLOCKED, "s after frame 1000000000. A firewall drops it; port 25 is often blocked by ISPs: try "
                            "port 587", "" },
    { SM_DIAG_PORT_BLOCKED, "got no answer in this capture. A firewall may drop it; port 25 is often blocked by ISPs: "
                            "try port 587", "" },
    { SM_DIAG_CR_NUL, "In telnet press Ctrl+] and type \"toggle crlf\", or use line mode (\"mode line\")", "" },
    { SM_DIAG_BARE_CR, "with nc use nc -C, or press Ctrl+J (LF)", "" },
    { SM_DIAG_TELNET_NEGOTIATION, "at connect: use plink -raw or nc -C", "<" },
    { SM_DIAG_TELNET_NEGOTIATION, "If it gets an error reply, type it again", "<" },
    { SM_DIAG_EDITING, "Type the line again without corrections", "\x82\x85" },
    { SM_DIAG_HELO_NO_DOMAIN, "as in \"HELO lab.example\"; servers may answer 501", "" },
    { SM_DIAG_HELO_NO_DOMAIN, "as in \"EHLO lab.example\"; servers may answer 501", "" },
    { SM_DIAG_STARTTLS_REQUIRED, "send STARTTLS, then EHLO again over TLS, for example with openssl s_client "
                                 "-starttls smtp", "\x81\x83" },
    { SM_DIAG_ERROR_REPLY, "an Enter in it sent CR NUL or a bare CR, which ends no line. Type the line again with "
                           "Enter sending CR LF", "\x82\x83" },
    { SM_DIAG_ERROR_REPLY, "as characters. Type the line again without them (nc -C and plink -raw send none)",
      "\xff\x83<" },
    { SM_DIAG_ERROR_REPLY, "\".\"): it will not deliver it; the reply says why (content, size, sender, recipients or "
                           "policy)", "\x83" },
    { SM_DIAG_ERROR_REPLY, "\".\"): it may take it later: send it again in a while", "\x83" },
    { SM_DIAG_ERROR_REPLY, "the server does not relay mail to other domains: send to an address the server itself "
                           "takes mail for", "\x81\x83" },
    { SM_DIAG_ERROR_REPLY, "authenticate first (AUTH, after STARTTLS where the server requires it), or use a server "
                           "that accepts mail from you", "\x81\x83" },
    { SM_DIAG_ERROR_REPLY, "(RFC 5321 lets servers refuse VRFY, EXPN and HELP); go on without it", "\x81\x83" },
    { SM_DIAG_ERROR_REPLY, "Type the command again as RFC 5321 spells it, as in \"HELO lab.example\", "
                           "\"MAIL FROM:<you@lab.example>\"", "\x81\x83" },
    { SM_DIAG_ERROR_REPLY, "Send the steps in order: HELO or EHLO, MAIL FROM, RCPT TO, DATA", "\x81\x83" },
    { SM_DIAG_ERROR_REPLY, "check the address (or size) the reply names", "\x81\x83" },
    { SM_DIAG_ERROR_REPLY, "the server may accept it later; send it again in a while", "\x81\x83" },
    { SM_DIAG_ERROR_REPLY, "the server will not accept it as sent; the reply says why", "\x81\x83" },
    { SM_DIAG_ERROR_REPLY, "it answers no line of the capture (one sent before the capture began, or bytes that ended "
                           "no line)", "\x83" },
    { SM_DIAG_ERROR_REPLY, "s of client silence: it waited too long for a command. Connect again and type each line "
                           "without long pauses", "\x81\x83" },
    { SM_DIAG_ERROR_REPLY, "(no command waiting), after -9.20e+18 s of client silence: it waited too long for a "
                           "command. Connect again and type each line without long pauses", "\x83" },
    { SM_DIAG_ERROR_REPLY, "s of client silence. Connect again later and start over", "\x81\x83" },
    { SM_DIAG_ERROR_REPLY, "it reads no more commands. It could not read that line: type the command as RFC 5321 "
                           "spells it, then connect again", "\x81\x83" },
    { SM_DIAG_ERROR_REPLY, "(no command waiting): it reads no more commands. It does not take mail here: use another "
                           "server", "\x83" },
    { SM_DIAG_ERROR_REPLY, "it takes no mail from this client (by its address, or it is not in service). Use another "
                           "server or network", "\x83" },
    { SM_DIAG_ERROR_REPLY, "it refused this client at its greeting (554) and takes nothing from it. Use another server "
                           "or network", "\x81\x83" },
    { SM_DIAG_NO_REPLY, "Wait for each reply before the next line, and keep capturing until it comes", "\x85" },
    { SM_DIAG_NO_REPLY, "Press Ctrl+J (LF), or set the client to send CR LF", "\x81" },
    { SM_DIAG_NO_QUIT, "Type QUIT and wait for the 221 before closing", "" },
    { SM_DIAG_NO_QUIT, "The service is not taking mail now: try again later, or another server", "" },
    { SM_DIAG_NO_QUIT, "to the connection, without a QUIT read: the server ended the session, and that reply says "
                       "why", "" },
    { SM_DIAG_NO_QUIT, "without a QUIT read: the server ended the session, and that reply says why", "\x81" },
    { SM_DIAG_NO_QUIT, "The server closed the connection without a QUIT read: the server ended the session", "" },
    { SM_DIAG_MALFORMED_REPLY, "(a server echoing the client's bytes can do that), or the port does not speak SMTP",
      "\x84" },
    { SM_DIAG_ONE_DIRECTION, "not \"dst port 65535\"", "" },
    { SM_DIAG_ONE_DIRECTION, "not \"src port 65535\"", "" },
    { SM_DIAG_SLOW_REPLY, "s after the connection opened to send its greeting: servers may delay it on purpose "
                          "(against clients that talk first) or be busy. Wait for the 220 before you type", "" },
    { SM_DIAG_SLOW_REPLY, "(frame 1000000004): servers may delay replies on purpose (tarpitting against spam) or be "
                          "busy. Wait for each reply before you type the next line", "\x81" },
};

/* TRUE when text keeps at least 5 escaped bytes of each quote named in keeps. */
static gboolean
keeps_quotes(const char *text, const char *keeps)
{
    for (; *keeps; keeps++) {
        char *five;
        gboolean has;
        if (*keeps == '<') {
            has = strstr(text, "<IAC WONT Output") != NULL;
        } else {
            five = g_strdup_printf("\\x%02x\\x%02x\\x%02x\\x%02x\\x%02x", (guint8)*keeps, (guint8)*keeps,
                                   (guint8)*keeps, (guint8)*keeps, (guint8)*keeps);
            /* The telnet bytes of a line: IAC WONT, then the option. */
            if ((guint8)*keeps == 0xff)
                strcpy(five, "\\xff\\xfc\\x0c\\xff\\xfc");
            has = strstr(text, five) != NULL;
            g_free(five);
        }
        if (!has)
            return FALSE;
    }
    return TRUE;
}

static void
test_texts_fit(void)
{
    GArray *texts = g_array_new(FALSE, FALSE, sizeof(text_t));
    gboolean kinds[SM_NOTE_COUNT] = { FALSE };
    guint i, j, too_long = 0, longest[SM_NOTE_COUNT] = { 0 };

    worst_case_texts(texts);

    /* None is cut: each is shorter than what Wireshark keeps. The
     * one-direction note counts frames: up to 10 digits. */
    for (i = 0; i < texts->len; i++) {
        const text_t *t = &g_array_index(texts, text_t, i);
        size_t len = strlen(t->text);
        if (t->kind == SM_DIAG_ONE_DIRECTION) {
            const char *count = strchr(t->text, '(');
            g_assert_nonnull(count);
            len += 10 - strspn(count + 1, "0123456789");
        }
        if (len >= LABEL_KEEPS) {
            g_test_message("cut by Wireshark (%zu bytes): %s", len, t->text);
            too_long++;
        }
        g_test_message("%3zu %s: %s", len, sm_note_name(t->kind), t->text);
        kinds[t->kind] = TRUE;
        longest[t->kind] = MAX(longest[t->kind], (guint)len);
    }
    for (i = 0; i < SM_NOTE_COUNT; i++)
        g_test_message("%-32s longest %u bytes", sm_note_name((sm_note_kind_t)i), longest[i]);
    g_assert_cmpuint(too_long, ==, 0);

    /* Every kind was written, and every text whole: its advice at its end,
     * and something of each quote in it. */
    for (i = 0; i < SM_NOTE_COUNT; i++) {
        if (!kinds[i])
            g_test_message("never written: %s", sm_note_name((sm_note_kind_t)i));
        g_assert_true(kinds[i]);
    }
    for (j = 0; j < G_N_ELEMENTS(expected_texts); j++) {
        gboolean found = FALSE;
        for (i = 0; i < texts->len && !found; i++) {
            const text_t *t = &g_array_index(texts, text_t, i);
            found = t->kind == expected_texts[j].kind && g_str_has_suffix(t->text, expected_texts[j].tail) &&
                    keeps_quotes(t->text, expected_texts[j].keeps);
        }
        if (!found)
            g_test_message("no %s text ends \"%s\" keeping its quotes", sm_note_name(expected_texts[j].kind),
                           expected_texts[j].tail);
        g_assert_true(found);
    }
    for (i = 0; i < texts->len; i++)
        g_free(g_array_index(texts, text_t, i).text);
    g_array_free(texts, TRUE);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/stage_machine/typed_lab", test_typed_lab);
    g_test_add_func("/stage_machine/guess_then_intent", test_guess_then_intent);
    g_test_add_func("/stage_machine/refused", test_refused);
    g_test_add_func("/stage_machine/syn_unanswered", test_syn_unanswered);
    g_test_add_func("/stage_machine/pipelining_and_message", test_pipelining_and_message);
    g_test_add_func("/stage_machine/starttls", test_starttls);
    g_test_add_func("/stage_machine/typing_diagnoses", test_typing_diagnoses);
    g_test_add_func("/stage_machine/enter_diagnoses", test_enter_diagnoses);
    g_test_add_func("/stage_machine/telnet_inside_line", test_telnet_inside_line);
    g_test_add_func("/stage_machine/bdat", test_bdat);
    g_test_add_func("/stage_machine/midstream_and_unsolicited", test_midstream_and_unsolicited);
    g_test_add_func("/stage_machine/markers_on_success", test_markers_on_success);
    g_test_add_func("/stage_machine/data_before_354", test_data_before_354);
    g_test_add_func("/stage_machine/after_greeting", test_after_greeting);
    g_test_add_func("/stage_machine/malformed_reply", test_malformed_reply);
    g_test_add_func("/stage_machine/one_direction", test_one_direction);
    g_test_add_func("/stage_machine/several_stages", test_several_stages);
    g_test_add_func("/stage_machine/advice", test_advice);
    g_test_add_func("/stage_machine/slow_reply", test_slow_reply);
    g_test_add_func("/stage_machine/texts_fit", test_texts_fit);
    return g_test_run();
}
