/* fuzz_stage_machine.c
 * libFuzzer target for the SMTP Lab stage machine (stage_machine.c), fed
 * the way the dissectors feed it: each packet's payload goes through a line
 * splitter per direction (as the keystroke layer does), and the completed
 * lines, the line left open and the telnet commands go to sm_process.
 * Afterwards every frame is read back as the dissector draws it (stage,
 * role, notes, links, final notes, progress) and checked.
 *
 * Input: two bytes of server port, then packets, each
 *   u8  control: 0x80 from the client; 0x17 the TCP flags FIN, SYN, RST,
 *       ACK; 0x08 the keystroke layer did not read the payload (lines
 *       unknown); 0x20 sequence and acknowledgement adjustments follow the
 *       payload; 0x40 the payload was not captured (length only)
 *   u16 payload length (big endian), then the payload bytes
 *   [i8 seq adjustment, i8 ack adjustment]  when 0x20
 *   u8  milliseconds since the previous packet
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "fuzz_check.h"
#include "fuzz_pool.h"
#include "line_assembly.h"
#include "stage_machine.h"

/* Bytes of an open line kept, as the keystroke layer keeps up to 64 KiB. */
#define FZ_LINE_MAX 4096
#define FZ_GUESS_BYTES 64
#define FZ_MAX_FRAMES 4096

typedef struct {
    la_splitter_t split;
    GByteArray *pending;   /* bytes of the line not yet ended (at most FZ_LINE_MAX) */
    guint32 pending_segments;
    guint32 next_seq;
} flow_t;

typedef struct {
    const guint8 *p;
    size_t left;
} reader_t;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static guint
rd_u8(reader_t *r)
{
    if (!r->left)
        return 0;
    r->left--;
    return *r->p++;
}

/* What the keystroke layer would report for one payload. */
static void
read_lines(flow_t *fl, const guint8 *pl, size_t len, gboolean client, sm_packet_t *pkt)
{
    GArray *lines = g_array_new(FALSE, TRUE, sizeof(sm_line_in_t));
    GString *tn = g_string_new(NULL);
    size_t pos = 0, start = 0;
    la_event_t ev;

    pkt->continues_line = la_split_in_line(&fl->split);
    while (la_split_next(&fl->split, pl, len, &pos, &ev)) {
        if (ev.kind == LA_EV_TELNET) {
            pkt->telnet_commands++;
            if (tn->len < 200)
                g_string_append_printf(tn, "<IAC %u>", ev.tn.cmd);
        } else if (ev.kind == LA_EV_ENTER) {
            /* An Enter that ended no line: CR NUL, or a bare CR. */
            if (ev.eol == LA_EOL_CRNUL)
                pkt->enters_crnul++;
            else
                pkt->enters_cr++;
        } else if (ev.kind == LA_EV_LINE) {
            sm_line_in_t l;
            la_edit_t ed;
            guint8 *raw;
            size_t rlen;

            /* The line: what was kept of earlier segments, then this one's. */
            g_byte_array_append(fl->pending, pl + start, (guint)(pos - start));
            rlen = MIN((size_t)ev.content_len, (size_t)fl->pending->len);
            raw = (guint8 *)wmem_memdup(pool, fl->pending->data, rlen ? rlen : 1);
            la_edit_line(pool, raw, rlen, client, &ed);
            memset(&l, 0, sizeof l);
            l.raw = raw;
            l.raw_len = rlen;
            l.edited = ed.text;
            l.edited_len = ed.len;
            l.total_len = ev.total_len;
            l.backspaces = ed.backspaces;
            l.segments = fl->pending_segments + 1;
            g_array_append_val(lines, l);
            g_byte_array_set_size(fl->pending, 0);
            fl->pending_segments = 0;
            start = pos;
        }
    }
    pkt->leaves_line = la_split_in_line(&fl->split);
    if (pkt->leaves_line) {
        size_t keep = MIN(len - start, (size_t)(FZ_LINE_MAX - MIN(fl->pending->len, FZ_LINE_MAX)));
        la_edit_t ed;
        g_byte_array_append(fl->pending, pl + start, (guint)keep);
        fl->pending_segments++;
        la_edit_line(pool, fl->pending->data, MIN(fl->pending->len, FZ_GUESS_BYTES), client, &ed);
        pkt->open_prefix = ed.text;
        pkt->open_prefix_len = ed.len;
    }
    pkt->nlines = lines->len;
    if (lines->len)
        pkt->lines = (const sm_line_in_t *)wmem_memdup(pool, lines->data, lines->len * sizeof(sm_line_in_t));
    pkt->telnet_text = pkt->telnet_commands ? wmem_strdup(pool, tn->str) : NULL;
    g_array_free(lines, TRUE);
    g_string_free(tn, TRUE);
}

typedef struct {
    guint32 nframes;
    guint calls;
} final_t;

static void
final_note(sm_note_kind_t kind, const char *text, void *user)
{
    final_t *fin = (final_t *)user;

    FUZZ_CHECK(kind < SM_NOTE_COUNT);
    FUZZ_CHECK(text != NULL && strlen(text) > 0);
    FUZZ_CHECK(sm_note_name(kind) != NULL);
    fin->calls++;
}

/* Reads one frame back as the dissector draws it. */
static void
check_frame(const sm_store_t *store, const sm_frame_t *f, guint32 nframes)
{
    const sm_note_t *n;
    const sm_link_t *l;
    sm_stage_t st = sm_frame_stage(store, f);
    final_t fin = { nframes, 0 };

    FUZZ_CHECK(f->num >= 1 && f->num <= nframes);
    FUZZ_CHECK(st < SM_ST_COUNT && st != SM_ST_NONE);
    FUZZ_CHECK(sm_stage_name(st) != NULL && sm_stage_name(st)[0] != '\0');
    FUZZ_CHECK(f->role <= SM_ROLE_DATA && f->role != SM_ROLE_NONE);
    FUZZ_CHECK(sm_role_name((sm_role_t)f->role)[0] != '\0');
    FUZZ_CHECK(sm_stage_activity(st) <= 8);
    FUZZ_CHECK((f->progress & ~SM_PROGRESS_ALL) == 0);
    FUZZ_CHECK(sm_progress_string(pool, f->progress) != NULL);
    FUZZ_CHECK(sm_store_frame(store, f->num) == f);
    for (n = sm_frame_notes(store, f); n; n = n->next) {
        const char *text = sm_note_text(n, f->num, pool);
        FUZZ_CHECK(n->kind < SM_NOTE_COUNT);
        FUZZ_CHECK(text != NULL && strlen(text) > 0);
    }
    for (l = sm_frame_links(store, f); l; l = l->next) {
        FUZZ_CHECK(l->ex != NULL);
        FUZZ_CHECK(l->ex->cmd_frame <= nframes && l->ex->reply_frame <= nframes);
        if (l->request) {
            FUZZ_CHECK(l->ex->cmd_frame == f->num);
            FUZZ_CHECK(l->ex->cmd_text != NULL);
            if (l->ex->reply_frame)
                FUZZ_CHECK(l->ex->reply_frame >= f->num);
        } else {
            FUZZ_CHECK(l->ex->cmd_frame <= f->num);
        }
        if (l->ex->cmd_text)
            (void)strlen(l->ex->cmd_text);
    }
    sm_final_notes(store, f, pool, final_note, &fin);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader_t rd = { data, size };
    flow_t fl[2];
    sm_store_t *store;
    sm_conv_t *conv;
    sm_frame_t **frames;
    guint32 nframes = 0, i;
    guint16 server_port;
    nstime_t ts = { 1700000000, 0 };
    int d;

    server_port = (guint16)(rd_u8(&rd) << 8);
    server_port |= (guint16)rd_u8(&rd);
    store = sm_store_new(pool);
    conv = sm_conv_new(store, server_port);
    frames = g_new0(sm_frame_t *, FZ_MAX_FRAMES);
    for (d = 0; d < 2; d++) {
        la_split_init(&fl[d].split);
        fl[d].pending = g_byte_array_new();
        fl[d].pending_segments = 0;
        fl[d].next_seq = d ? 5000 : 1000;
    }

    while (rd.left > 0 && nframes < FZ_MAX_FRAMES) {
        guint ctl = rd_u8(&rd);
        size_t len = rd_u8(&rd) << 8;
        sm_packet_t pkt;
        const guint8 *pl;
        size_t have;
        int dir = (ctl & 0x80) ? 0 : 1;

        len |= rd_u8(&rd);
        memset(&pkt, 0, sizeof pkt);
        pkt.num = ++nframes;
        pkt.from_client = dir == 0;
        pkt.flags = (guint8)(ctl & 0x17);
        pkt.payload_len = (guint32)len;
        if (ctl & 0x40) {
            pl = NULL;
            have = 0;
        } else {
            have = MIN(len, rd.left);
            pl = rd.p;
            rd.p += have;
            rd.left -= have;
            pkt.payload_len = (guint32)have;
        }
        pkt.seq = fl[dir].next_seq;
        pkt.ack = fl[1 - dir].next_seq;
        if (ctl & 0x20) {
            pkt.seq += (guint32)(gint8)rd_u8(&rd);
            pkt.ack += (guint32)(gint8)rd_u8(&rd);
        }
        if (!(ctl & 0x10))
            pkt.ack = 0;
        nstime_set_zero(&pkt.ts);
        ts.nsecs += (int)rd_u8(&rd) * 1000000;
        while (ts.nsecs >= 1000000000) {
            ts.nsecs -= 1000000000;
            ts.secs++;
        }
        pkt.ts = ts;
        if (pl && have > 0 && !(ctl & 0x08) && !(pkt.flags & (SM_TH_SYN | SM_TH_RST))) {
            pkt.lines_known = TRUE;
            read_lines(&fl[dir], pl, have, dir == 0, &pkt);
        }
        if ((guint32)(pkt.seq + pkt.payload_len - fl[dir].next_seq) < 0x80000000u)
            fl[dir].next_seq = pkt.seq + pkt.payload_len + ((pkt.flags & (SM_TH_SYN | SM_TH_FIN)) ? 1 : 0);

        frames[nframes - 1] = sm_process(conv, &pkt);
        FUZZ_CHECK(frames[nframes - 1] != NULL && frames[nframes - 1]->num == pkt.num);
        check_frame(store, frames[nframes - 1], nframes);
    }

    /* Later passes: every frame again, with what needs the whole capture. */
    for (i = 0; i < nframes; i++)
        check_frame(store, frames[i], nframes);
    (void)sm_conv_complete(conv);
    for (i = SM_ST_HANDSHAKE; i <= SM_ST_TEARDOWN; i++)
        FUZZ_CHECK(sm_conv_lab_frame(conv, (sm_stage_t)i) <= nframes);
    FUZZ_CHECK(sm_conv_syn_frame(conv) <= nframes && sm_conv_synack_frame(conv) <= nframes);
    FUZZ_CHECK(sm_conv_first_frame(conv) <= nframes);
    FUZZ_CHECK((sm_conv_progress(conv) & ~SM_PROGRESS_ALL) == 0);

    for (d = 0; d < 2; d++)
        g_byte_array_free(fl[d].pending, TRUE);
    g_free(frames);
    wmem_free_all(pool);
    return 0;
}
