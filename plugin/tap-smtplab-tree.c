/* tap-smtplab-tree.c
 * The SMTP Lab statistics tree: Statistics → SMTP Lab in Wireshark, and
 * `tshark -q -z smtplab,tree`. Frames per stage and per lab activity,
 * diagnoses by name, final replies by class, sessions complete or not.
 *
 * In one pass, what needs the whole capture (a command never answered, a
 * SYN never answered, a session that ends complete) is counted as it stands
 * and corrected when the frame that settles it comes; in two passes (the
 * tap runs on the second) it is known from the start. The totals agree.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>

#include <wireshark.h>
#include <epan/packet.h>
#include <epan/stats_tree.h>

#include "packet-smtplab.h"
#include "tap-smtplab.h"

static const char st_str_stages[] = "Frames by stage";
static const char st_str_activities[] = "Frames by lab activity";
static const char st_str_diags[] = "Diagnoses";
static const char st_str_replies[] = "Final replies by class";
static const char st_str_sessions[] = "Sessions";

static int st_node_stages = -1;
static int st_node_activities = -1;
static int st_node_diags = -1;
static int st_node_replies = -1;
static int st_node_sessions = -1;

static void
smtplab_stats_tree_init(stats_tree *st)
{
    st_node_stages = stats_tree_create_node(st, st_str_stages, 0, STAT_DT_INT, TRUE);
    st_node_activities = stats_tree_create_node(st, st_str_activities, 0, STAT_DT_INT, TRUE);
    st_node_diags = stats_tree_create_node(st, st_str_diags, 0, STAT_DT_INT, TRUE);
    st_node_replies = stats_tree_create_node(st, st_str_replies, 0, STAT_DT_INT, TRUE);
    st_node_sessions = stats_tree_create_node(st, st_str_sessions, 0, STAT_DT_INT, TRUE);
}

/* Adds n (negative to correct) to a diagnosis and to the Diagnoses total. */
static void
smtplab_stats_diag(stats_tree *st, sm_note_kind_t kind, int n)
{
    increase_stat_node(st, st_str_diags, 0, FALSE, n);
    increase_stat_node(st, sm_note_name(kind), st_node_diags, FALSE, n);
}

static void
smtplab_stats_session(stats_tree *st, const char *state, int n)
{
    increase_stat_node(st, st_str_sessions, 0, FALSE, n);
    increase_stat_node(st, state, st_node_sessions, FALSE, n);
}

static void
smtplab_stats_final_note(sm_note_kind_t kind, const char *text _U_, void *user)
{
    smtplab_stats_diag((stats_tree *)user, kind, 1);
}

static const char *
smtplab_reply_class(guint16 code)
{
    switch (code / 100) {
    case 2:  return "2xx positive";
    case 3:  return "3xx intermediate";
    case 4:  return "4xx transient negative";
    case 5:  return "5xx permanent negative";
    default: return "not a reply code";
    }
}

static tap_packet_status
smtplab_stats_tree_packet(stats_tree *st, packet_info *pinfo, epan_dissect_t *edt _U_, const void *p,
                          tap_flags_t flags _U_)
{
    const smtplab_tap_info_t *tap = (const smtplab_tap_info_t *)p;
    const sm_frame_t *f = tap->frame;
    const sm_conv_t *conv = sm_frame_conv(tap->store, f);
    const sm_link_t *links = sm_frame_links(tap->store, f);
    gboolean whole = tap->whole;
    sm_stage_t stages[8];
    guint nstages = sm_frame_stages(tap->store, f, stages, G_N_ELEMENTS(stages));
    guint i, activity, last_activity = 0;
    const sm_note_t *n;
    const sm_link_t *l;

    /* A frame that carries lines of several stages counts under each. */
    tick_stat_node(st, st_str_stages, 0, FALSE);
    for (i = 0; i < nstages; i++)
        tick_stat_node(st, sm_stage_name(stages[i]), st_node_stages, FALSE);
    tick_stat_node(st, st_str_activities, 0, FALSE);
    for (i = 0; i < nstages; i++) {
        activity = sm_stage_activity(stages[i]);
        if (activity && activity != last_activity) {
            char name[32];
            snprintf(name, sizeof name, "Activity %u", activity);
            tick_stat_node(st, name, st_node_activities, FALSE);
            last_activity = activity;
        }
    }
    if (!last_activity)
        tick_stat_node(st, "outside the lab", st_node_activities, FALSE);

    for (n = sm_frame_notes(tap->store, f); n; n = n->next) {
        if (SM_NOTE_IS_DIAG(n->kind))
            smtplab_stats_diag(st, n->kind, 1);
    }
    /* In one pass: a bare CR at the end of an earlier frame, known now. */
    if (!whole && sm_conv_amended(conv))
        smtplab_stats_diag(st, SM_DIAG_BARE_CR, 1);
    if (whole) {
        sm_final_notes(tap->store, f, pinfo->pool, smtplab_stats_final_note, st);
    } else {
        /* As it stands: a command not answered yet (while the server's side
         * is in the capture), a SYN not answered yet. */
        for (l = links; l; l = l->next) {
            if (l->request && l->ex->server_seen)
                smtplab_stats_diag(st, SM_DIAG_NO_REPLY, 1);
            else if (!l->request && l->ex->cmd_frame && l->ex->reply_frame == f->num && l->ex->server_seen)
                smtplab_stats_diag(st, SM_DIAG_NO_REPLY, -1);
            /* A 421 or 521: the commands still waiting will never be read. */
            if (!l->request && l->ex->reply_frame == f->num && l->ex->dropped)
                smtplab_stats_diag(st, SM_DIAG_NO_REPLY, -(int)l->ex->dropped);
        }
        if (f->num == sm_conv_syn_frame(conv))
            smtplab_stats_diag(st, SM_DIAG_PORT_BLOCKED, 1);
        if (f->answers_syn)
            smtplab_stats_diag(st, SM_DIAG_PORT_BLOCKED, -1);
    }

    for (l = links; l; l = l->next) {
        if (!l->request && l->ex->reply_frame == f->num) {
            tick_stat_node(st, st_str_replies, 0, FALSE);
            tick_stat_node(st, smtplab_reply_class(l->ex->code), st_node_replies, FALSE);
        }
    }

    if (f->num == sm_conv_first_frame(conv))
        smtplab_stats_session(st, (whole && sm_conv_complete(conv)) ? "complete" : "incomplete", 1);
    if (!whole && f->completes) {
        smtplab_stats_session(st, "incomplete", -1);
        smtplab_stats_session(st, "complete", 1);
    }
    return TAP_PACKET_REDRAW;
}

void
register_smtplab_stats_tree(void)
{
    stats_tree_register_plugin("smtplab", "smtplab", "SMTP Lab", 0,
                               smtplab_stats_tree_packet, smtplab_stats_tree_init, NULL);
}
