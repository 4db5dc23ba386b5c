/* tap-smtplab-tree.c
 * The SMTP Lab statistics tree: Statistics → SMTP Lab in Wireshark, and
 * `tshark -q -z smtplab,tree`. Sessions complete or not, frames per lab
 * stage (in lab order) and per other stage, final replies by class,
 * diagnoses by what they say.
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
#include <epan/stats_tree_priv.h>

#include "packet-smtplab.h"
#include "tap-smtplab.h"

static const char st_str_sessions[] = "Sessions";
static const char st_str_lab[] = "Frames by lab stage";
static const char st_str_other[] = "Frames in other stages";
static const char st_str_replies[] = "Final replies by class";
static const char st_str_diags[] = "Diagnoses";

/* Rows that Wireshark keeps in lab order: it sorts "range" rows by their
 * range, ascending, whichever column and direction the view sorts by (the
 * default statistics preferences st_sort_rng_nameonly and
 * st_sort_rng_fixorder). stats_tree's range rows take their range from the
 * number their name starts with and are counted by a value inside it,
 * which cannot tell "8 quit-reply" from "8 teardown"; so these are plain
 * rows given a range of their own rank (stats_tree_priv.h), counted by
 * name. Their value is the frame number, so that Min and Max show the
 * first and last frame of the stage; a reply class's value is the code. */
static gchar st_lab_buf[SM_LAB_STAGES][32];
static const char *st_lab_names[SM_LAB_STAGES];
static const char *const st_reply_names[] = { "2xx positive", "3xx intermediate", "4xx transient negative",
                                              "5xx permanent negative" };

static int st_node_lab = -1;
static int st_node_other = -1;
static int st_node_diags = -1;
static int st_node_replies = -1;
static int st_node_sessions = -1;

/* Adds the rows NAMES under PARENT_ID, kept in this order. */
static void
smtplab_stats_ordered_rows(stats_tree *st, int parent_id, const char *const *names, guint n)
{
    stat_node *parent = (stat_node *)g_ptr_array_index(st->parents, parent_id);
    guint i;

    for (i = 0; i < n; i++) {
        stat_node *row;
        stats_tree_create_node(st, names[i], parent_id, STAT_DT_INT, FALSE);
        row = (stat_node *)g_hash_table_lookup(parent->hash, names[i]);
        row->rng = g_new(range_pair_t, 1);
        row->rng->floor = row->rng->ceil = (gint)i;
    }
}

static void
smtplab_stats_tree_init(stats_tree *st)
{
    /* Sessions and the lab stages first, whichever way the view sorts. */
    st_node_sessions = stats_tree_create_node(st, st_str_sessions, 0, STAT_DT_INT, TRUE);
    stat_node_set_flags(st, st_str_sessions, 0, FALSE, ST_FLG_SORT_TOP);
    st_node_lab = stats_tree_create_node(st, st_str_lab, 0, STAT_DT_INT, TRUE);
    stat_node_set_flags(st, st_str_lab, 0, FALSE, ST_FLG_SORT_TOP);
    smtplab_stats_ordered_rows(st, st_node_lab, st_lab_names, SM_LAB_STAGES);
    st_node_other = stats_tree_create_node(st, st_str_other, 0, STAT_DT_INT, TRUE);
    st_node_replies = stats_tree_create_node(st, st_str_replies, 0, STAT_DT_INT, TRUE);
    smtplab_stats_ordered_rows(st, st_node_replies, st_reply_names, G_N_ELEMENTS(st_reply_names));
    st_node_diags = stats_tree_create_node(st, st_str_diags, 0, STAT_DT_INT, TRUE);
}

/* Adds n (negative to correct) to a diagnosis and to the Diagnoses total. */
static void
smtplab_stats_diag(stats_tree *st, sm_note_kind_t kind, int n)
{
    increase_stat_node(st, st_str_diags, 0, FALSE, n);
    increase_stat_node(st, sm_note_info(kind)->summary, st_node_diags, FALSE, n);
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

/* The row of a reply code's class; NULL for a code of no class RFC 5321
 * defines (which the reply parser does not take as a code). */
static const char *
smtplab_reply_class(guint16 code)
{
    guint cls = code / 100u;
    return cls >= 2 && cls <= 5 ? st_reply_names[cls - 2] : NULL;
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
    guint i;
    gboolean other = FALSE;
    const char *cls;
    const sm_note_t *n;
    const sm_link_t *l;

    /* A frame that carries lines of several stages counts under each. */
    tick_stat_node(st, st_str_lab, 0, FALSE);
    for (i = 0; i < nstages; i++) {
        if (stages[i] >= SM_ST_HANDSHAKE && stages[i] <= SM_ST_TEARDOWN)
            avg_stat_node_add_value_int(st, st_lab_names[stages[i] - SM_ST_HANDSHAKE], st_node_lab, FALSE,
                                        (gint)f->num);
        else
            other = TRUE;
    }
    if (other) {
        tick_stat_node(st, st_str_other, 0, FALSE);
        for (i = 0; i < nstages; i++) {
            if (stages[i] > SM_ST_TEARDOWN || stages[i] == SM_ST_NONE)
                tick_stat_node(st, stages[i] ? sm_stage_name(stages[i]) : "no stage", st_node_other, FALSE);
        }
    }

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
            if ((cls = smtplab_reply_class(l->ex->code)) != NULL)
                avg_stat_node_add_value_int(st, cls, st_node_replies, FALSE, l->ex->code);
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
    guint i;

    for (i = 0; i < SM_LAB_STAGES; i++) {
        sm_stage_t stage = (sm_stage_t)(SM_ST_HANDSHAKE + i);
        snprintf(st_lab_buf[i], sizeof st_lab_buf[i], "%u %s", sm_stage_activity(stage), sm_stage_name(stage));
        st_lab_names[i] = st_lab_buf[i];
    }
    stats_tree_register_plugin("smtplab", "smtplab", "SMTP Lab", 0,
                               smtplab_stats_tree_packet, smtplab_stats_tree_init, NULL);
}
