/* tap-smtplab-flow.c
 * The "SMTP Lab" flow graph (Statistics → Flow Graph in Wireshark, and
 * `tshark -q -z flow,smtplab,standard`): the session as a ladder a student
 * can read. The handshake, each typed line as one arrow ("helo lab.example
 * (18 keystrokes)") instead of one per keystroke, each reply with its code,
 * and the teardown; keystrokes and the ACKs between them are left out.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <wireshark.h>
#include <epan/packet.h>
#include <epan/tap.h>
#include <epan/sequence_analysis.h>

#include "packet-smtplab.h"
#include "tap-smtplab.h"
#include "escape.h"

/* Lines of one frame named on its arrow; more are counted. */
#define FLOW_LINES_MAX 3

static gchar *
flow_label(const smtplab_tap_info_t *tap)
{
    const sm_frame_t *f = tap->frame;
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
    case SM_ROLE_LINE:
    case SM_ROLE_REPLY:
        break;
    case SM_ROLE_DATA:
        return tap->stage == SM_ST_TLS ? g_strdup("TLS") : NULL;
    default:
        return NULL;
    }
    if (!tap->ks || !tap->ks->nlines)
        return NULL;
    label = g_string_new(NULL);
    for (i = 0; i < tap->ks->nlines && i < FLOW_LINES_MAX; i++) {
        const keystroke_line_t *l = &tap->ks->lines[i];
        char *text = esc_bytes(NULL, l->edited, l->edited_len);
        g_string_append_printf(label, "%s%s", i ? " / " : "", text);
        if (l->segments > 1)
            g_string_append_printf(label, " (%u keystrokes)", l->segments);
        wmem_free(NULL, text);
    }
    if (tap->ks->nlines > FLOW_LINES_MAX)
        g_string_append_printf(label, " / ... (%u lines)", tap->ks->nlines);
    return g_string_free(label, FALSE);
}

static tap_packet_status
smtplab_seq_analysis_packet(void *p, packet_info *pinfo, epan_dissect_t *edt _U_, const void *data,
                            tap_flags_t flags _U_)
{
    seq_analysis_info_t *sainfo = (seq_analysis_info_t *)p;
    const smtplab_tap_info_t *tap = (const smtplab_tap_info_t *)data;
    gchar *label = flow_label(tap);
    seq_analysis_item_t *sai;

    if (!label)
        return TAP_PACKET_DONT_REDRAW;
    sai = sequence_analysis_create_sai_with_addresses(pinfo, sainfo);
    if (!sai) {
        g_free(label);
        return TAP_PACKET_DONT_REDRAW;
    }
    sai->frame_number = pinfo->num;
    sai->port_src = (guint16)pinfo->srcport;
    sai->port_dst = (guint16)pinfo->destport;
    sai->frame_label = label;
    if (sm_stage_activity(tap->stage))
        sai->comment = g_strdup_printf("Activity %u: %s", sm_stage_activity(tap->stage), sm_stage_name(tap->stage));
    else
        sai->comment = g_strdup(sm_stage_name(tap->stage));
    sai->line_style = 1;
    sai->conv_num = (guint16)sm_conv_first_frame(tap->frame->conv);
    sai->display = TRUE;
    g_queue_push_tail(sainfo->items, sai);
    return TAP_PACKET_REDRAW;
}

void
register_smtplab_flow(int proto_smtplab)
{
    register_seq_analysis("smtplab", "SMTP Lab", proto_smtplab, NULL, TL_REQUIRES_NOTHING,
                          smtplab_seq_analysis_packet);
}
