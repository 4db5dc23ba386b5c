/* packet-smtplab.c
 * SMTP Lab: for every frame of a TCP connection on the SMTP ports (SYN,
 * pure ACKs, keystrokes, lines, replies, FIN, RST) the session stage it
 * belongs to, the lab activity that studies it, the command-reply links,
 * and expert items that mark each stage and explain what went wrong.
 *
 * A postdissector, because frames without payload reach no port dissector.
 * It asks for no fields (wanted hfids would make tshark build a tree for
 * every frame): it reads the flags and numbers of the TCP header itself,
 * on the first pass only, and only for frames on the SMTP ports. The stage
 * machine (stage_machine.c) decides; this file feeds it and draws.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <wireshark.h>
#include <epan/packet.h>
#include <epan/conversation.h>
#include <epan/expert.h>
#include <epan/proto_data.h>
#include <epan/address.h>
#include <epan/tap.h>
#include <wsutil/utf8_entities.h>

#include "escape.h"
#include "packet-smtplab.h"
#include "packet-keystroke.h"
#include "stage_machine.h"
#include "tap-smtplab.h"
#include "tcp_locate.h"

/* Bytes of an unfinished line read to guess the command being typed. */
#define SMTPLAB_GUESS_BYTES 64

static int proto_smtplab = -1;
static int proto_icmp = -1;
static int proto_icmpv6 = -1;
static int proto_tcp = -1;

static int hf_smtplab_stage = -1;
static int hf_smtplab_role = -1;
static int hf_smtplab_activity = -1;
static int hf_smtplab_response_in = -1;
static int hf_smtplab_request_in = -1;
static int hf_smtplab_time = -1;
static int hf_smtplab_progress = -1;
static int hf_smtplab_complete = -1;

static gint ett_smtplab = -1;

/* The markers and diagnoses, registered from the stage machine's table. */
static expert_field ei_smtplab_notes[SM_NOTE_COUNT];
static int hf_smtplab_diag = -1;

static dissector_handle_t smtplab_handle;
static int smtplab_tap = -1;

/* The stage machine's records of the capture's frames. */
static sm_store_t *smtplab_store;

/* Where the IP header of the last frame was found (tl_find_tcp_hint). */
static size_t smtplab_ip_offset;

/* smtplab.progress of every set of lab stages, made once. */
static const char *smtplab_progress_text[SM_PROGRESS_ALL + 1];

/* What smtplab keeps per connection. */
typedef struct {
    sm_conv_t *sm;
    address client;
    guint32 client_port;
    /* Per direction (client, server): the frame's TCP sequence number less
     * the one TCP gives the keystroke layer (relative numbers or not), for
     * segments TCP withholds from it. */
    guint32 seq_delta[2];
    gboolean seq_delta_known[2];
} smtplab_conv_t;

/* The payload of a segment TCP did not hand to the keystroke layer, read
 * by it when it carries new bytes (keystroke_withheld). */
static const keystroke_info_t *
smtplab_withheld(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const tl_tcp_t *th, gboolean client,
                 guint32 seq)
{
    gint avail = tvb_captured_length_remaining(tvb, th->payload_offset);
    /* No IP length (TSO, a jumbogram): the payload runs to the frame's end. */
    guint32 plen = th->len_from_ip ? th->payload_len : (guint32)tvb_reported_length_remaining(tvb, th->payload_offset);
    tvbuff_t *payload;

    if (avail <= 0 || plen == 0)
        return NULL;
    payload = tvb_new_subset_length_caplen(tvb, th->payload_offset, MIN((guint32)avail, plen), plen);
    return keystroke_withheld(payload, pinfo, tree, client, seq);
}

/* TRUE when TCP was the last protocol before SMTP Lab: it handed the
 * payload to no dissector, as with a retransmission or an out-of-order
 * segment under tcp.no_subdissector_on_error (SMTP with the keystroke layer
 * disabled did get it; TLS after STARTTLS may leave TCP last too, while it
 * reassembles, so the caller leaves TLS alone). */
static gboolean
smtplab_tcp_withheld(packet_info *pinfo)
{
    wmem_list_frame_t *fr;
    int last = -1;

    for (fr = wmem_list_head(pinfo->layers); fr; fr = wmem_list_frame_next(fr)) {
        int id = GPOINTER_TO_INT(wmem_list_frame_data(fr));
        if (id != proto_smtplab)
            last = id;
    }
    return last == proto_tcp;
}

/* The frame's TCP header, found in its bytes; FALSE when it is not a TCP
 * segment over IPv4 or IPv6 between the frame's addresses and ports. */
static gboolean
smtplab_find_tcp(tvbuff_t *tvb, packet_info *pinfo, tl_tcp_t *th)
{
    guint32 len = MIN(tvb_captured_length(tvb), TL_SCAN_MAX);
    int family;

    if (pinfo->src.type == AT_IPv4 && pinfo->dst.type == AT_IPv4)
        family = 4;
    else if (pinfo->src.type == AT_IPv6 && pinfo->dst.type == AT_IPv6)
        family = 6;
    else
        return FALSE;
    return tl_find_tcp_hint(tvb_get_ptr(tvb, 0, len), len, family, (const guint8 *)pinfo->src.data,
                            (const guint8 *)pinfo->dst.data, (guint16)pinfo->srcport, (guint16)pinfo->destport,
                            &smtplab_ip_offset, th);
}

/* TRUE when the frame is an ICMP error quoting a TCP header. */
static gboolean
smtplab_in_icmp(packet_info *pinfo)
{
    wmem_list_frame_t *fr;

    for (fr = wmem_list_head(pinfo->layers); fr; fr = wmem_list_frame_next(fr)) {
        int id = GPOINTER_TO_INT(wmem_list_frame_data(fr));
        if (id == proto_icmp || id == proto_icmpv6)
            return TRUE;
    }
    return FALSE;
}

/* The side that listens on an SMTP port is the server. */
static guint32
smtplab_server_port(packet_info *pinfo, guint8 flags)
{
    gboolean src = keystroke_port_watched(pinfo->srcport);
    gboolean dst = keystroke_port_watched(pinfo->destport);

    if ((flags & (SM_TH_SYN | SM_TH_ACK)) == SM_TH_SYN)
        return pinfo->destport;
    if ((flags & (SM_TH_SYN | SM_TH_ACK)) == (SM_TH_SYN | SM_TH_ACK))
        return pinfo->srcport;
    if (dst && !src)
        return pinfo->destport;
    if (src && !dst)
        return pinfo->srcport;
    return MIN(pinfo->srcport, pinfo->destport);
}

/* First pass: reads the TCP header and the keystroke layer's lines, and
 * hands them to the stage machine. NULL when the frame is not ours. */
static sm_frame_t *
smtplab_first_pass(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree)
{
    tl_tcp_t th;
    conversation_t *conv;
    smtplab_conv_t *sc;
    sm_packet_t pkt;
    const keystroke_info_t *ki;
    sm_line_in_t *lines = NULL;
    guint32 i;
    int dir;

    if (smtplab_in_icmp(pinfo) || !smtplab_find_tcp(tvb, pinfo, &th))
        return NULL;

    /* The keystroke layer has found the conversation of a segment with
     * payload already; only the others are looked up here. */
    ki = keystroke_frame_info(pinfo);
    conv = ki && ki->conversation ? (conversation_t *)ki->conversation : find_conversation_pinfo(pinfo, 0);
    if (!conv)
        return NULL;
    sc = (smtplab_conv_t *)conversation_get_proto_data(conv, proto_smtplab);
    if (!sc) {
        guint32 server_port = smtplab_server_port(pinfo, th.flags);
        gboolean to_server = pinfo->destport == server_port;
        sc = wmem_new0(wmem_file_scope(), smtplab_conv_t);
        sc->sm = sm_conv_new(smtplab_store, (guint16)server_port);
        copy_address_wmem(wmem_file_scope(), &sc->client, to_server ? &pinfo->src : &pinfo->dst);
        sc->client_port = to_server ? pinfo->srcport : pinfo->destport;
        conversation_add_proto_data(conv, proto_smtplab, sc);
    }

    memset(&pkt, 0, sizeof pkt);
    pkt.num = pinfo->num;
    pkt.ts = pinfo->abs_ts;
    pkt.from_client = pinfo->srcport == sc->client_port && addresses_equal(&pinfo->src, &sc->client);
    pkt.flags = th.flags;
    pkt.seq = th.seq;
    pkt.ack = th.ack;
    pkt.payload_len = th.payload_len;

    dir = pkt.from_client ? 0 : 1;
    if (ki && ki->seq_known) {
        sc->seq_delta[dir] = th.seq - ki->seq;
        sc->seq_delta_known[dir] = TRUE;
    } else if (!ki && th.payload_len > 0 && sc->seq_delta_known[dir] && !sm_conv_in_tls(sc->sm) &&
               smtplab_tcp_withheld(pinfo)) {
        ki = smtplab_withheld(tvb, pinfo, tree, &th, pkt.from_client, th.seq - sc->seq_delta[dir]);
    }

    if (ki && ki->lines_known && pkt.payload_len > 0) {
        pkt.lines_known = TRUE;
        pkt.continues_line = ki->continues_line;
        pkt.leaves_line = ki->leaves_line;
        pkt.telnet_commands = ki->telnet_commands;
        pkt.telnet_text = ki->telnet_text;
        pkt.telnet_in_line = ki->telnet_in_line;
        pkt.enters_crnul = ki->enters_crnul;
        pkt.enters_cr = ki->enters_cr;
        pkt.bare_cr_frame = ki->bare_cr_frame;
        pkt.chunk_bytes = ki->chunk_bytes;
        pkt.nlines = ki->nlines;
        if (ki->nlines)
            lines = wmem_alloc_array(pinfo->pool, sm_line_in_t, ki->nlines);
        for (i = 0; i < ki->nlines; i++) {
            const keystroke_line_t *kl = &ki->lines[i];
            lines[i].raw = kl->raw;
            lines[i].raw_len = kl->raw_len;
            lines[i].edited = kl->edited;
            lines[i].edited_len = kl->edited_len;
            lines[i].total_len = kl->total_len;
            lines[i].backspaces = kl->backspaces;
            lines[i].segments = kl->segments;
        }
        pkt.lines = lines;
        if (ki->leaves_line && ki->open_raw) {
            la_edit_t ed;
            la_edit_line(pinfo->pool, ki->open_raw, MIN(ki->open_raw_len, SMTPLAB_GUESS_BYTES), ki->client, &ed);
            /* A CR waiting for its LF ends the line, it is not typed text. */
            while (ed.len && ed.text[ed.len - 1] == '\r')
                ed.len--;
            pkt.open_prefix = ed.text;
            pkt.open_prefix_len = ed.len;
        }
    }
    return sm_process(sc->sm, &pkt);
}

typedef struct {
    proto_tree *tree;
    packet_info *pinfo;
    tvbuff_t *tvb;
} smtplab_draw_t;

static void
smtplab_add_note(sm_note_kind_t kind, const char *text, void *user)
{
    smtplab_draw_t *d = (smtplab_draw_t *)user;

    if (SM_NOTE_IS_DIAG(kind)) {
        proto_item *ti = proto_tree_add_string(d->tree, hf_smtplab_diag, d->tvb, 0, 0, sm_diag_name(kind));
        proto_item_set_generated(ti);
    }
    proto_tree_add_expert_format(d->tree, d->pinfo, &ei_smtplab_notes[kind], d->tvb, 0, 0, "%s", text);
}

/* Wireshark's SMTP calls a client line it cannot read as a command a "DATA
 * fragment". Before DATA it is a command line, which the server reads and
 * answers as one: the Info column shows it as received, as SMTP shows the
 * commands it knows, keeping the keystroke layer's "[meant: ...]". */
#define SMTPLAB_INFO_LINE 64 /* bytes of a line shown in the Info column */

static void
smtplab_command_info(packet_info *pinfo, const sm_frame_t *f, sm_stage_t stage)
{
    static const char fragment[] = "C: DATA fragment";
    const keystroke_info_t *ki;
    const char *info, *meant;
    wmem_strbuf_t *sb;
    guint i;

    if (!f->from_client || f->role != SM_ROLE_LINE || stage == SM_ST_MESSAGE || stage == SM_ST_TLS)
        return;
    info = col_get_text(pinfo->cinfo, COL_INFO);
    if (!info || strncmp(info, fragment, sizeof fragment - 1) != 0)
        return;
    ki = keystroke_frame_info(pinfo);
    if (!ki || !ki->nlines)
        return;
    sb = wmem_strbuf_new(pinfo->pool, "C: ");
    for (i = 0; i < ki->nlines; i++) {
        const keystroke_line_t *kl = &ki->lines[i];
        if (i)
            wmem_strbuf_append(sb, " | ");
        /* A command line is short: a longer one (binary data, a line
         * run on) is cut. */
        wmem_strbuf_append(sb, esc_bytes(pinfo->pool, kl->raw, MIN(kl->raw_len, SMTPLAB_INFO_LINE)));
        if (kl->raw_len > SMTPLAB_INFO_LINE)
            wmem_strbuf_append(sb, UTF8_HORIZONTAL_ELLIPSIS);
    }
    meant = strstr(info, " [meant: ");
    if (meant)
        wmem_strbuf_append(sb, meant);
    col_add_str(pinfo->cinfo, COL_INFO, wmem_strbuf_get_str(sb));
}

static int
dissect_smtplab(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data _U_)
{
    sm_frame_t *f;
    sm_stage_t stage;
    proto_item *ti;
    proto_tree *st;
    const sm_note_t *n;
    const sm_link_t *l;
    guint activity, last_activity, i, nstages;
    sm_stage_t stages[8];
    smtplab_draw_t d;

    /* Leave every other frame at once. */
    if (pinfo->ptype != PT_TCP ||
        !(keystroke_port_watched(pinfo->srcport) || keystroke_port_watched(pinfo->destport)))
        return 0;

    f = sm_store_frame(smtplab_store, pinfo->num);
    if (!f) {
        if (PINFO_FD_VISITED(pinfo))
            return 0;
        f = smtplab_first_pass(tvb, pinfo, tree);
        if (!f)
            return 0;
    } else if (keystroke_took_withheld(pinfo) && !keystroke_frame_info(pinfo)) {
        /* A segment TCP withheld that the keystroke layer read in the
         * first pass: read again, for its tree and its lines. The frame
         * table is asked first: most frames (ACKs) have no record there,
         * while the proto data is a list walk. */
        tl_tcp_t th;
        if (smtplab_find_tcp(tvb, pinfo, &th))
            smtplab_withheld(tvb, pinfo, tree, &th, f->from_client, 0);
    }

    nstages = sm_frame_stages(smtplab_store, f, stages, G_N_ELEMENTS(stages));
    stage = stages[0];
    smtplab_command_info(pinfo, f, stage);
    ti = proto_tree_add_item(tree, proto_smtplab, tvb, 0, 0, ENC_NA);
    proto_item_append_text(ti, ": %s", sm_stage_name(stage));
    for (i = 1; i < nstages; i++)
        proto_item_append_text(ti, " + %s", sm_stage_name(stages[i]));
    proto_item_append_text(ti, ", %s", sm_role_name((sm_role_t)f->role));
    st = proto_item_add_subtree(ti, ett_smtplab);

    /* One item per stage the frame carries, and per lab activity. */
    for (i = 0; i < nstages; i++) {
        ti = proto_tree_add_string(st, hf_smtplab_stage, tvb, 0, 0, sm_stage_name(stages[i]));
        proto_item_set_generated(ti);
    }
    ti = proto_tree_add_string(st, hf_smtplab_role, tvb, 0, 0, sm_role_name((sm_role_t)f->role));
    proto_item_set_generated(ti);
    for (i = 0, last_activity = 0; i < nstages; i++) {
        activity = sm_stage_activity(stages[i]);
        if (activity && activity != last_activity) {
            ti = proto_tree_add_uint(st, hf_smtplab_activity, tvb, 0, 0, activity);
            proto_item_set_generated(ti);
            last_activity = activity;
        }
    }

    for (l = sm_frame_links(smtplab_store, f); l; l = l->next) {
        if (l->request) {
            if (l->ex->reply_frame) {
                ti = proto_tree_add_uint(st, hf_smtplab_response_in, tvb, 0, 0, l->ex->reply_frame);
                proto_item_set_generated(ti);
            }
        } else if (l->ex->cmd_frame) {
            nstime_t delta;
            ti = proto_tree_add_uint(st, hf_smtplab_request_in, tvb, 0, 0, l->ex->cmd_frame);
            proto_item_set_generated(ti);
            nstime_delta(&delta, &pinfo->abs_ts, &l->ex->cmd_ts);
            ti = proto_tree_add_time(st, hf_smtplab_time, tvb, 0, 0, &delta);
            proto_item_set_generated(ti);
        }
    }

    if (f->progress & SM_PROGRESS_ALL) {
        ti = proto_tree_add_string(st, hf_smtplab_progress, tvb, 0, 0,
                                   smtplab_progress_text[f->progress & SM_PROGRESS_ALL]);
        proto_item_set_generated(ti);
    }
    if (PINFO_FD_VISITED(pinfo)) {
        ti = proto_tree_add_boolean(st, hf_smtplab_complete, tvb, 0, 0, sm_conv_complete(sm_frame_conv(smtplab_store, f)));
        proto_item_set_generated(ti);
    }

    d.tree = st;
    d.pinfo = pinfo;
    d.tvb = tvb;
    for (n = sm_frame_notes(smtplab_store, f); n; n = n->next)
        smtplab_add_note(n->kind, sm_note_text(n, f->num, pinfo->pool), &d);
    if (PINFO_FD_VISITED(pinfo))
        sm_final_notes(smtplab_store, f, pinfo->pool, smtplab_add_note, &d);

    if (have_tap_listener(smtplab_tap)) {
        smtplab_tap_info_t *tap = wmem_new(pinfo->pool, smtplab_tap_info_t);
        tap->store = smtplab_store;
        tap->frame = f;
        tap->stage = stage;
        tap->ks = keystroke_frame_info(pinfo);
        tap->whole = PINFO_FD_VISITED(pinfo); /* taps run after the frame is marked visited */
        tap_queue_packet(smtplab_tap, pinfo, tap);
    }
    return tvb_captured_length(tvb);
}

static void
smtplab_init(void)
{
    smtplab_store = sm_store_new(wmem_file_scope());
}

void
proto_register_smtplab(void)
{
    static hf_register_info hf[] = {
        { &hf_smtplab_stage,
          { "Stage", "smtplab.stage", FT_STRING, BASE_NONE, NULL, 0x0,
            "The session stage this frame belongs to", HFILL } },
        { &hf_smtplab_role,
          { "Role", "smtplab.role", FT_STRING, BASE_NONE, NULL, 0x0,
            "This frame's part in the stage", HFILL } },
        { &hf_smtplab_activity,
          { "Lab activity", "smtplab.activity", FT_UINT32, BASE_DEC, NULL, 0x0,
            "The lab activity (3 to 8) that studies this frame", HFILL } },
        { &hf_smtplab_response_in,
          { "Reply in", "smtplab.response_in", FT_FRAMENUM, BASE_NONE, FRAMENUM_TYPE(FT_FRAMENUM_RESPONSE), 0x0,
            "The frame with the server's final reply to this command", HFILL } },
        { &hf_smtplab_request_in,
          { "Command in", "smtplab.request_in", FT_FRAMENUM, BASE_NONE, FRAMENUM_TYPE(FT_FRAMENUM_REQUEST), 0x0,
            "The frame that completed the command this reply answers", HFILL } },
        { &hf_smtplab_time,
          { "Reply time", "smtplab.time", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
            "Time since the command line was completed", HFILL } },
        { &hf_smtplab_progress,
          { "Lab stages so far", "smtplab.progress", FT_STRING, BASE_NONE, NULL, 0x0,
            "The lab stages seen so far in this connection, in lab order", HFILL } },
        { &hf_smtplab_diag,
          { "Diagnosis", "smtplab.diag", FT_STRING, BASE_NONE, NULL, 0x0,
            "A diagnosis of this frame, by name (cr_nul, error_reply, ...): one item per diagnosis", HFILL } },
        { &hf_smtplab_complete,
          { "Lab session complete", "smtplab.complete", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
            "The connection went through every lab stage, handshake to teardown (needs two passes)", HFILL } },
    };

    static gint *ett[] = {
        &ett_smtplab,
    };

    /* Filled from the stage machine's table of notes. */
    static ei_register_info ei[SM_NOTE_COUNT];
    static const int groups[] = {
        [SM_GROUP_SEQUENCE] = PI_SEQUENCE, [SM_GROUP_PROTOCOL] = PI_PROTOCOL, [SM_GROUP_SECURITY] = PI_SECURITY,
        [SM_GROUP_RESPONSE_CODE] = PI_RESPONSE_CODE, [SM_GROUP_MALFORMED] = PI_MALFORMED,
    };
    static const int severities[] = { [SM_SEV_CHAT] = PI_CHAT, [SM_SEV_NOTE] = PI_NOTE, [SM_SEV_WARN] = PI_WARN };

    expert_module_t *expert_smtplab;
    guint i;

    for (i = 0; i <= SM_PROGRESS_ALL; i++)
        smtplab_progress_text[i] = sm_progress_string(wmem_epan_scope(), (guint8)i);
    for (i = 0; i < SM_NOTE_COUNT; i++) {
        const sm_note_info_t *info = sm_note_info((sm_note_kind_t)i);
        ei_register_info r = { &ei_smtplab_notes[i],
                               { info->filter, groups[info->group], severities[info->severity], info->summary,
                                 EXPFILL } };
        ei_smtplab_notes[i] = (expert_field)EI_INIT;
        ei[i] = r;
    }

    proto_smtplab = proto_register_protocol("SMTP Lab", "SMTP Lab", "smtplab");
    proto_register_field_array(proto_smtplab, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    expert_smtplab = expert_register_protocol(proto_smtplab);
    expert_register_field_array(expert_smtplab, ei, array_length(ei));

    smtplab_handle = register_dissector("smtplab", dissect_smtplab, proto_smtplab);
    register_postdissector(smtplab_handle);
    smtplab_tap = register_tap("smtplab");
    register_init_routine(smtplab_init);
#ifdef SMTPLAB_HAVE_SEQUENCE_ANALYSIS
    register_smtplab_flow(proto_smtplab);
#endif
}

void
proto_reg_handoff_smtplab(void)
{
    proto_icmp = proto_get_id_by_filter_name("icmp");
    proto_icmpv6 = proto_get_id_by_filter_name("icmpv6");
    proto_tcp = proto_get_id_by_filter_name("tcp");
}
