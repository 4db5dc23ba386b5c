/* tap-smtplab-flow.c
 * The "SMTP Lab" flow graph (Statistics → Flow Graph in Wireshark, and
 * `tshark -q -z flow,smtplab,standard`): the session as a ladder a student
 * can read. The handshake, each typed line as one arrow ("helo lab.example
 * (18 keystrokes)") instead of one per keystroke, each reply with its code,
 * and the teardown; keystrokes and the ACKs between them are left out.
 *
 * It listens to the "smtplab" tap, which SMTP Lab feeds only for the frames
 * of connections on its ports. The items are Wireshark's to free
 * (sequence_analysis_list_free: g_free of frame_label, time_str, comment,
 * free_address of the addresses), so everything in them is g_malloc'ed.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <wireshark.h>
#include <epan/packet.h>
#include <epan/tap.h>
#include <epan/address.h>
#include <epan/to_str.h>
#include <epan/sequence_analysis.h>

#include "packet-smtplab.h"
#include "tap-smtplab.h"
#include "escape.h"

/* Lines of one frame named on its arrow; more are counted. */
#define FLOW_LINES_MAX 3

/* The line style of the arrow of an Enter press that ended no line (so
 * that a later arrow of the line it ends up in can find it). */
#define FLOW_STYLE_ENTER 2

/* " [2 Enters sent CR NUL, which ends no line]" when the line holds such
 * presses: the server read what was typed before and after them as one. */
static void
flow_append_enters(GString *label, const guint8 *raw, guint32 len, gboolean complete)
{
    guint32 crnul, cr;

    if (la_count_enters(raw, len, complete, &crnul, &cr) == 0)
        return;
    g_string_append_printf(label, " [%u Enter%s sent %s, which ends no line]", crnul + cr, crnul + cr == 1 ? "" : "s",
                           cr == 0 ? "CR NUL" : crnul == 0 ? "a bare CR" : "CR NUL or a bare CR");
}

/* A line as meant, escaped, with its keystrokes when it was typed and its
 * ending when it is not CRLF (a server waits for CRLF: the reason when no
 * reply follows). */
static void
flow_append_line(GString *label, const keystroke_line_t *l)
{
    char *text = esc_bytes(NULL, l->edited, l->edited_len);
    gboolean odd_eol = l->eol != LA_EOL_CRLF && l->eol != LA_EOL_NONE;

    g_string_append(label, text);
    if (l->segments > 1 && odd_eol)
        g_string_append_printf(label, " (%u keystrokes, %s)", l->segments, la_eol_name(l->eol));
    else if (l->segments > 1)
        g_string_append_printf(label, " (%u keystrokes)", l->segments);
    else if (odd_eol)
        g_string_append_printf(label, " (%s)", la_eol_name(l->eol));
    wmem_free(NULL, text);
}

/* The text on the frame's arrow (g_malloc'ed), or NULL to leave it out. */
static gchar *
flow_label(const smtplab_tap_info_t *tap)
{
    const sm_frame_t *f = tap->frame;
    const keystroke_info_t *ks = tap->ks;
    sm_stage_t stages[8];
    GString *label;
    guint32 i;

    switch ((sm_role_t)f->role) {
    case SM_ROLE_SYN:     return g_strdup("SYN");
    case SM_ROLE_SYN_ACK: return g_strdup("SYN, ACK");
    case SM_ROLE_FIN:     return g_strdup("FIN");
    case SM_ROLE_RST:     return g_strdup("RST");
    case SM_ROLE_ACK:
        /* Only the ACKs that belong to the handshake and the teardown. */
        if (tap->stage == SM_ST_HANDSHAKE || tap->stage == SM_ST_TEARDOWN)
            return g_strdup("ACK");
        return NULL;
    case SM_ROLE_DATA:
        return tap->stage == SM_ST_TLS ? g_strdup("TLS") : NULL;
    case SM_ROLE_LINE:
    case SM_ROLE_REPLY:
        break;
    default:
        return NULL;
    }
    if (!ks || !ks->nlines)
        return NULL;
    /* The message is not the lab's subject: its lines are counted (unless
     * the frame carries a command too). */
    if (tap->stage == SM_ST_MESSAGE && sm_frame_stages(tap->store, f, stages, G_N_ELEMENTS(stages)) == 1)
        return g_strdup_printf("message (%u line%s)", ks->nlines, ks->nlines == 1 ? "" : "s");
    label = g_string_new(NULL);
    if (f->role == SM_ROLE_REPLY) {
        /* A reply: its first line, code included; a multi-line reply in
         * one segment says how many lines it has. */
        flow_append_line(label, &ks->lines[0]);
        if (ks->nlines > 1)
            g_string_append_printf(label, " (%u lines)", ks->nlines);
        return g_string_free(label, FALSE);
    }
    /* Command lines: one, or a few pipelined in one segment. */
    for (i = 0; i < ks->nlines && i < FLOW_LINES_MAX; i++) {
        if (i)
            g_string_append(label, " / ");
        flow_append_line(label, &ks->lines[i]);
        flow_append_enters(label, ks->lines[i].raw, ks->lines[i].raw_len, TRUE);
    }
    if (ks->nlines > FLOW_LINES_MAX)
        g_string_append_printf(label, " / ... (%u lines)", ks->nlines);
    return g_string_free(label, FALSE);
}

/* The comment at the right of the arrow: the lab activity and stage, and
 * for lines and replies the whole label again (tshark's text ladder cuts
 * an arrow's label to the width between two nodes). */
static gchar *
flow_comment(const smtplab_tap_info_t *tap, const gchar *label)
{
    sm_stage_t stages[8];
    guint n = sm_frame_stages(tap->store, tap->frame, stages, G_N_ELEMENTS(stages));
    guint activity = 0, i;
    GString *stage = g_string_new(NULL);
    gboolean text = tap->frame->role == SM_ROLE_LINE || tap->frame->role == SM_ROLE_REPLY;
    gchar *out;

    /* Lines of several stages in one frame: every stage, the first lab
     * activity among them ("Activity 8, message-reply + quit-reply"). */
    for (i = 0; i < n; i++) {
        g_string_append_printf(stage, "%s%s", i ? " + " : "", sm_stage_name(stages[i]));
        if (!activity)
            activity = sm_stage_activity(stages[i]);
    }
    if (activity)
        out = text ? g_strdup_printf("Activity %u, %s: %s", activity, stage->str, label)
                   : g_strdup_printf("Activity %u, %s", activity, stage->str);
    else
        out = text ? g_strdup_printf("%s: %s", stage->str, label) : g_strdup(stage->str);
    g_string_free(stage, TRUE);
    return out;
}

/* One node per side even when client and server share an address (a lab
 * on localhost): then the nodes are "address:port". */
static void
flow_split_nodes(seq_analysis_item_t *sai)
{
    address *ends[2] = { &sai->src_addr, &sai->dst_addr };
    guint16 ports[2] = { sai->port_src, sai->port_dst };
    int i;

    if (!addresses_equal(&sai->src_addr, &sai->dst_addr))
        return;
    for (i = 0; i < 2; i++) {
        char *addr = address_to_str(NULL, ends[i]);
        gchar *node = ends[i]->type == AT_IPv6 ? g_strdup_printf("[%s]:%u", addr, ports[i])
                                               : g_strdup_printf("%s:%u", addr, ports[i]);
        address tmp;

        set_address(&tmp, AT_STRINGZ, (int)strlen(node) + 1, node);
        free_address(ends[i]);
        copy_address(ends[i], &tmp);
        g_free(node);
        wmem_free(NULL, addr);
    }
}

/* The arrow of a frame whose Enter press ended no line: the line so far, as
 * meant (as the other arrows show lines). Until a line end comes, the
 * server has read nothing. */
static gchar *
flow_enter_label(const keystroke_info_t *ks)
{
    GString *label = g_string_new(NULL);
    la_edit_t ed;
    char *text;

    la_edit_line(NULL, ks->open_raw, ks->open_raw_len, TRUE, &ed);
    /* A CR waiting for its next byte is not known to be an Enter yet. */
    while (ed.len && ed.text[ed.len - 1] == '\r')
        ed.len--;
    text = esc_bytes(NULL, ed.text, ed.len);
    g_string_append(label, text);
    wmem_free(NULL, text);
    wmem_free(NULL, ed.text);
    flow_append_enters(label, ks->open_raw, ks->open_raw_len, FALSE);
    g_string_append(label, " (no line end yet)");
    return g_string_free(label, FALSE);
}

/* A line has ended: the arrows of the Enter presses inside it go (it shows
 * them itself). They are the connection's Enter arrows since its last
 * client line. */
static void
flow_hide_enters(seq_analysis_info_t *sainfo, guint16 conv_num, packet_info *pinfo)
{
    GList *l;

    for (l = g_queue_peek_tail_link(sainfo->items); l; l = l->prev) {
        seq_analysis_item_t *sai = (seq_analysis_item_t *)l->data;
        if (sai->conv_num != conv_num || sai->port_src != pinfo->srcport || sai->port_dst != pinfo->destport)
            continue;
        if (sai->line_style != FLOW_STYLE_ENTER)
            break;
        sai->display = FALSE;
    }
}

static guint16
flow_conv_num(const smtplab_tap_info_t *tap)
{
    return (guint16)sm_conv_number(sm_frame_conv(tap->store, tap->frame));
}

static seq_analysis_item_t *
flow_add_item(packet_info *pinfo, seq_analysis_info_t *sainfo, const smtplab_tap_info_t *tap, gchar *label,
              gchar *comment, guint style)
{
    seq_analysis_item_t *sai = sequence_analysis_create_sai_with_addresses(pinfo, sainfo);

    if (!sai) {
        g_free(label);
        g_free(comment);
        return NULL;
    }
    sai->frame_number = pinfo->num;
    sai->port_src = (guint16)pinfo->srcport;
    sai->port_dst = (guint16)pinfo->destport;
    flow_split_nodes(sai);
    sai->frame_label = label;
    sai->comment = comment;
    sai->line_style = style;
    /* Sessions told apart by their number (1, 2, ... in order of first
     * frame), 16 bits in Wireshark's item: the same after 65535 sessions. */
    sai->conv_num = flow_conv_num(tap);
    sai->display = TRUE;
    /* The row's colours are the packet list's: the profile's colour per stage. */
    sequence_analysis_use_color_filter(pinfo, sai);
    g_queue_push_tail(sainfo->items, sai);
    return sai;
}

static tap_packet_status
smtplab_seq_analysis_packet(void *p, packet_info *pinfo, epan_dissect_t *edt _U_, const void *data,
                            tap_flags_t flags _U_)
{
    seq_analysis_info_t *sainfo = (seq_analysis_info_t *)p;
    const smtplab_tap_info_t *tap = (const smtplab_tap_info_t *)data;
    const keystroke_info_t *ks = tap->ks;
    gchar *label = flow_label(tap);
    gboolean enter = ks && ks->client && ks->enters_open && ks->leaves_line && ks->open_raw;

    if (label && tap->frame->role == SM_ROLE_LINE && tap->frame->from_client)
        flow_hide_enters(sainfo, flow_conv_num(tap), pinfo);
    if (label)
        flow_add_item(pinfo, sainfo, tap, label, flow_comment(tap, label), 1);
    if (enter) {
        /* Shown alone until the line it is in ends (or at the end). */
        gchar *text = flow_enter_label(ks);
        flow_add_item(pinfo, sainfo, tap, text,
                      g_strdup_printf("%s: Enter sent no LF, so the server has not received a line end: %s",
                                      sm_stage_name(tap->stage), text),
                      FLOW_STYLE_ENTER);
    }
    if (!label && !enter)
        return TAP_PACKET_DONT_REDRAW;
    return TAP_PACKET_REDRAW;
}

void
register_smtplab_flow(int proto_smtplab)
{
    register_seq_analysis("smtplab", "SMTP Lab", proto_smtplab, NULL, TL_REQUIRES_NOTHING,
                          smtplab_seq_analysis_packet);
}
