/* packet-keystroke.c
 * Telnet Keystroke Reassembly: turns the bytes a person typed on an SMTP
 * port (often one keystroke per TCP segment, with telnet commands, CR NUL
 * line ends and erase keys) into the lines the server received and the
 * lines the person meant, and hands every completed line to the built-in
 * SMTP dissector.
 *
 * The first pass keeps, per segment, only the splitter state at its first
 * byte and the line it continues; every pass (the first included) draws by
 * running the splitter again over the segment's own bytes, so a frame's
 * tree is the same whenever and in whatever order it is drawn.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <wireshark.h>
#include <epan/packet.h>
#include <epan/conversation.h>
#include <epan/expert.h>
#include <epan/proto_data.h>
#include <epan/prefs.h>
#include <epan/range.h>
#include <wsutil/str_util.h>
#include <epan/dissectors/packet-tcp.h>

#include "packet-keystroke.h"
#include "keystroke_stream.h"
#include "escape.h"
#include "frame_table.h"

#define KEYSTROKE_TCP_PORTS "25,587"

/* Telnet commands of a segment named in SMTP Lab's message. */
#define KS_TELNET_TEXT_MAX 4

static int proto_keystroke = -1;

static int hf_keystroke_char = -1;
static int hf_keystroke_index = -1;
static int hf_keystroke_interval = -1;
static int hf_keystroke_line_in = -1;
static int hf_keystroke_telnet_command = -1;
static int hf_keystroke_telnet_option = -1;
static int hf_keystroke_line = -1;
static int hf_keystroke_line_edited = -1;
static int hf_keystroke_eol = -1;
static int hf_keystroke_enter = -1;
static int hf_keystroke_count = -1;
static int hf_keystroke_segment = -1;
static int hf_keystroke_backspaces = -1;
static int hf_keystroke_duration = -1;
static int hf_keystroke_chunk = -1;

static gint ett_keystroke = -1;
static gint ett_keystroke_line = -1;
static gint ett_keystroke_segments = -1;
static gint ett_keystroke_telnet = -1;

static expert_field ei_keystroke_retransmission = EI_INIT;
static expert_field ei_keystroke_gap = EI_INIT;
static expert_field ei_keystroke_line_too_long = EI_INIT;
static expert_field ei_keystroke_sb_unterminated = EI_INIT;
static expert_field ei_keystroke_cut_short = EI_INIT;

static dissector_handle_t keystroke_handle;
static dissector_handle_t smtp_handle;
static dissector_table_t tcp_port_table;
static protocol_t *keystroke_protocol;
/* Ports handed back to SMTP while the layer is disabled. */
static wmem_map_t *given_to_smtp;

guint8 keystroke_watched_ports[65536 / 8];

/* The first pass's kss_segment_t of every segment, by frame number (the first
 * TCP layer of a frame; any other in p_add_proto_data): its index in
 * ks_pool, or KS_CLEAN_REF + KS_CLEAN_INDEX(client, layer) for the shared
 * ks_clean records. */
static ft_table_t ks_frames;
static ft_pool_t ks_pool;
#define KS_CLEAN_REF 0xFFFFFE00u
#define KS_CLEAN_INDEX(client, layer) (((client) ? 256u : 0u) + (layer))

/* The key of the frame's keystroke_info_t in its packet-scope proto data,
 * where SMTP Lab's postdissector reads it (keystroke_frame_info). */
#define KS_INFO_KEY 0

static void
ks_set_info(packet_info *pinfo, keystroke_info_t *info)
{
    p_set_proto_data(pinfo->pool, pinfo, proto_keystroke, KS_INFO_KEY, info);
}

typedef struct {
    address sender0;       /* who sends flow[0] */
    guint32 port0;
    kss_flow_t flow[2];
} ks_conv_t;

/* A segment's first-pass record (kss_segment_t) is 80 bytes, one per
 * segment on the SMTP ports, for the whole capture; records of segments
 * that start a line afresh and leave none unfinished (a client program's
 * lines, a server's replies) are one shared record per side (the client's
 * splitter reads BDAT chunks) and layer number. */
static kss_segment_t ks_clean[2 * 256];

/* The connection's state; client: this frame is the client's, so that a
 * new connection knows which direction reads BDAT chunks. */
static ks_conv_t *
ks_get_conv(packet_info *pinfo, gboolean client, conversation_t **conv_out)
{
    conversation_t *conv = find_or_create_conversation(pinfo);
    ks_conv_t *kc = (ks_conv_t *)conversation_get_proto_data(conv, proto_keystroke);

    if (!kc) {
        kc = wmem_new0(wmem_file_scope(), ks_conv_t);
        copy_address_wmem(wmem_file_scope(), &kc->sender0, &pinfo->src);
        kc->port0 = pinfo->srcport;
        kss_flow_init(&kc->flow[0]);
        kss_flow_init(&kc->flow[1]);
        /* flow[0] is this frame's sender's. */
        la_split_set_client(&kc->flow[client ? 0 : 1].split);
        conversation_add_proto_data(conv, proto_keystroke, kc);
    }
    *conv_out = conv;
    return kc;
}

/* The direction of the connection this frame's sender sends. */
static kss_flow_t *
ks_get_flow(packet_info *pinfo, gboolean client, conversation_t **conv_out)
{
    ks_conv_t *kc = ks_get_conv(pinfo, client, conv_out);
    int dir = (pinfo->srcport == kc->port0 && addresses_equal(&pinfo->src, &kc->sender0)) ? 0 : 1;

    return &kc->flow[dir];
}

/* The first pass's record of a segment, for the whole capture; *ref names
 * it in ks_frames. */
static kss_segment_t *
ks_frame_keep(const kss_segment_t *fr, guint32 *ref)
{
    kss_segment_t *kept;

    if (kss_segment_is_clean(fr)) {
        guint32 slot = KS_CLEAN_INDEX(fr->start.client, fr->layer);
        *ref = KS_CLEAN_REF + slot;
        return &ks_clean[slot];
    }
    kept = (kss_segment_t *)ft_pool_add(&ks_pool, ref);
    *kept = *fr;
    return kept;
}

/* The record ks_frames names for frame num, or NULL. */
static kss_segment_t *
ks_frame_get(guint32 num)
{
    guint32 ref = ft_get(&ks_frames, num);

    if (!ref)
        return NULL;
    if (ref >= KS_CLEAN_REF)
        return &ks_clean[ref - KS_CLEAN_REF];
    return (kss_segment_t *)ft_pool_get(&ks_pool, ref);
}

/* The frame's time stamp in nanoseconds. */
static gint64
ks_ns(const packet_info *pinfo)
{
    return (gint64)pinfo->abs_ts.secs * 1000000000 + pinfo->abs_ts.nsecs;
}

/* The direction's first-pass record of this segment, kept for the whole
 * capture; *ref names it in ks_frames. On a segment cut short, no walk. */
static kss_segment_t *
ks_first_pass(packet_info *pinfo, const struct tcpinfo *tcpi, const guint8 *data, guint32 len, gboolean cut,
              gboolean client, conversation_t **conv_out, kss_walk_t *w, la_splitter_t *split_after,
              gboolean *walked, guint32 *ref_out)
{
    kss_flow_t *flow = ks_get_flow(pinfo, client, conv_out);
    kss_segment_t seg;
    kss_seq_t seq;

    memset(&seg, 0, sizeof seg);
    seg.layer = (guint8)pinfo->curr_layer_num;
    seq.known = tcpi != NULL;
    seq.seq = tcpi ? tcpi->seq : 0;
    seq.nxtseq = tcpi ? tcpi->nxtseq : 0;
    if (cut)
        kss_take_cut(flow, seq, &seg);
    else
        *walked = kss_take(wmem_file_scope(), pinfo->pool, flow, seq, data, len, pinfo->num, ks_ns(pinfo),
                           &seg, w, split_after);
    if (*walked && w->bare_cr_frame) {
        /* That segment's last byte was a bare CR: its record says so from
         * now on (its own frame was drawn already in a single pass). */
        kss_segment_t *earlier = ks_frame_get(w->bare_cr_frame);
        if (earlier && earlier->layer == seg.layer)
            earlier->flags |= KSS_F_BARE_CR;
    }
    return ks_frame_keep(&seg, ref_out);
}

/* The telnet commands of a segment, for the SMTP Lab layer's note. */
static void
ks_telnet_summary(packet_info *pinfo, const kss_walk_t *w, keystroke_info_t *info)
{
    wmem_strbuf_t *text;
    guint32 i;

    info->telnet_commands = wmem_array_get_count(w->cmds);
    if (!info->telnet_commands)
        return;
    text = wmem_strbuf_new(pinfo->pool, "");
    for (i = 0; i < info->telnet_commands; i++) {
        const kss_cmd_t *c = (const kss_cmd_t *)wmem_array_index(w->cmds, i);
        if (i < KS_TELNET_TEXT_MAX)
            wmem_strbuf_append(text, esc_telnet_command(pinfo->pool, &c->cmd));
        info->telnet_in_line |= c->in_line;
    }
    if (info->telnet_commands > KS_TELNET_TEXT_MAX)
        wmem_strbuf_append(text, "...");
    info->telnet_text = wmem_strbuf_finalize(text);
}

/* The lines of a segment cut short, read on their own from its captured
 * bytes, the last one ending where the capture does: for the SMTP Lab
 * layer, which would otherwise not know what the segment said. */
static keystroke_info_t *
ks_cut_info(packet_info *pinfo, const guint8 *bytes, guint32 len, gboolean client)
{
    keystroke_info_t *info = wmem_new0(pinfo->pool, keystroke_info_t);
    kss_walk_t w;
    guint32 i;

    kss_cut_lines(pinfo->pool, bytes, len, &w);
    info->lines_known = TRUE;
    info->client = client;
    info->nlines = wmem_array_get_count(w.pieces);
    info->lines = wmem_alloc_array(pinfo->pool, keystroke_line_t, info->nlines ? info->nlines : 1);
    for (i = 0; i < info->nlines; i++) {
        const kss_piece_t *p = (const kss_piece_t *)wmem_array_index(w.pieces, i);
        kss_line_info(pinfo->pool, bytes, p->seg_start, p, client, &info->lines[i]);
    }
    ks_telnet_summary(pinfo, &w, info);
    return info;
}

/* The note on a completed line that was longer than what a line keeps: in
 * the line's subtree, and for the expert tap also without a tree. */
static void
ks_note_line_too_long(tvbuff_t *ltvb, guint32 loff, packet_info *pinfo, proto_tree *line_tree, const kss_piece_t *p,
                      const keystroke_line_t *li)
{
    if (li->dropped)
        proto_tree_add_expert_format(line_tree, pinfo, &ei_keystroke_line_too_long, ltvb, loff,
                                     li->total_len - li->dropped,
                                     "Line of %u bytes: only its first %u bytes and the bytes of this segment are kept",
                                     li->total_len, kss_prefix_kept(p));
}

/* Adds one completed line's subtree. */
static void
ks_draw_line(tvbuff_t *ltvb, guint32 loff, packet_info *pinfo, proto_tree *tree, const kss_piece_t *p,
             const keystroke_line_t *li, gboolean client)
{
    guint32 content = li->raw_len;
    guint32 total = li->total_len - li->dropped;
    const char *edited_str = esc_bytes(pinfo->pool, li->edited, li->edited_len);
    proto_item *ti;
    proto_tree *lt, *st;
    nstime_t duration;
    guint i;

    /* The line's heading is the line as meant (keystroke.line.edited), so
     * that Apply as Column and Prepare as Filter work on it. */
    ti = proto_tree_add_string_format(tree, hf_keystroke_line_edited, ltvb, loff, total, edited_str,
                                      "Line: %s [%s, %u segment%s]", edited_str, la_eol_name(li->eol),
                                      li->segments, plurality(li->segments, "", "s"));
    lt = proto_item_add_subtree(ti, ett_keystroke_line);
    proto_tree_add_string(lt, hf_keystroke_line, ltvb, loff, content, esc_bytes(pinfo->pool, li->raw, content));
    proto_tree_add_string(lt, hf_keystroke_eol, ltvb, loff + content, total - content, la_eol_name(li->eol));
    ti = proto_tree_add_uint(lt, hf_keystroke_count, ltvb, loff, total, li->segments);
    proto_item_set_generated(ti);

    st = proto_tree_add_subtree_format(lt, ltvb, loff, total, ett_keystroke_segments, NULL,
                                       "%u segment%s", li->segments, plurality(li->segments, "", "s"));
    if (p->prefix) {
        for (i = 0; i < wmem_array_get_count(p->prefix->frames); i++) {
            ti = proto_tree_add_uint(st, hf_keystroke_segment, ltvb, loff, total,
                                     *(guint32 *)wmem_array_index(p->prefix->frames, i));
            proto_item_set_generated(ti);
        }
    }
    ti = proto_tree_add_uint(st, hf_keystroke_segment, ltvb, loff, total, pinfo->num);
    proto_item_set_generated(ti);

    ti = proto_tree_add_uint(lt, hf_keystroke_backspaces, ltvb, loff, content, li->backspaces);
    proto_item_set_generated(ti);
    /* A typing time only for a line a person typed in several segments. */
    if (client && p->prefix && p->prefix->count) {
        gint64 ns = ks_ns(pinfo) - p->prefix->first_ns;
        duration.secs = (time_t)(ns / 1000000000);
        duration.nsecs = (int)(ns % 1000000000);
        ti = proto_tree_add_time(lt, hf_keystroke_duration, ltvb, loff, total, &duration);
        proto_item_set_generated(ti);
    }

    ks_note_line_too_long(ltvb, loff, pinfo, lt, p, li);
}

/* A segment's new bytes for keystroke.char: keystrokes (esc_keystrokes,
 * from the telnet state at its start), and the bytes of a BDAT chunk as
 * they are (esc_bytes: no telnet commands in them). */
static const char *
ks_escape_segment(packet_info *pinfo, const kss_segment_t *fr, const kss_walk_t *w, const guint8 *bytes, guint32 len)
{
    guint n = wmem_array_get_count(w->chunks);
    tn_machine_t tn = fr->start.tn;
    wmem_strbuf_t *sb;
    guint32 from = fr->skip;
    guint i;

    if (n == 0)
        return esc_keystrokes(pinfo->pool, &tn, bytes + fr->skip, len - fr->skip);
    sb = wmem_strbuf_new(pinfo->pool, "");
    for (i = 0; i < n; i++) {
        const kss_chunk_t *c = (const kss_chunk_t *)wmem_array_index(w->chunks, i);
        if (c->start > from)
            wmem_strbuf_append(sb, esc_keystrokes(pinfo->pool, &tn, bytes + from, c->start - from));
        wmem_strbuf_append(sb, esc_bytes(pinfo->pool, bytes + c->start, c->end - c->start));
        /* The line after a chunk starts afresh. */
        tn_init(&tn);
        from = c->end;
    }
    if (len > from)
        wmem_strbuf_append(sb, esc_keystrokes(pinfo->pool, &tn, bytes + from, len - from));
    return wmem_strbuf_finalize(sb);
}

/* The bytes of all lines this segment completes, as one buffer: a subset of
 * the segment, or a new data source when the first line began earlier. */
static tvbuff_t *
ks_lines_tvb(tvbuff_t *tvb, packet_info *pinfo, const kss_walk_t *w, const guint8 *bytes, const guint8 **buf_out)
{
    guint32 n;
    gboolean shared;
    const guint8 *buf = kss_lines_bytes(pinfo->pool, w, bytes, &n, &shared);
    tvbuff_t *ltvb;

    *buf_out = buf;
    if (shared)
        return tvb_new_subset_length(tvb, (gint)(buf - bytes), n);
    ltvb = tvb_new_child_real_data(tvb, buf, n, n);
    add_new_data_source(pinfo, ltvb, wmem_array_get_count(w->pieces) > 1 ? "Keystroke lines" : "Keystroke line");
    return ltvb;
}

/* Hands the completed lines (and BDAT chunk bytes) to the built-in SMTP
 * dissector, which must not ask TCP for more data: the lines are whole. */
static void
ks_call_smtp(tvbuff_t *ltvb, packet_info *pinfo, proto_tree *tree)
{
    guint16 saved_can_desegment = pinfo->can_desegment;

    pinfo->can_desegment = 0;
    call_dissector(smtp_handle, ltvb, pinfo, tree);
    pinfo->can_desegment = saved_can_desegment;
}

/* One segment of the connection, from TCP (tcpi: its sequence numbers, or
 * NULL) or from SMTP Lab for a segment TCP withheld. */
static int
ks_dissect(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const struct tcpinfo *tcpi, gboolean client)
{
    guint32 len = tvb_captured_length(tvb);
    const guint8 *bytes = (const guint8 *)tvb_memdup(pinfo->pool, tvb, 0, len);
    gboolean cut = len < tvb_reported_length(tvb);
    kss_segment_t *fr;
    la_splitter_t split;
    kss_walk_t w;
    gboolean walked = FALSE;
    conversation_t *conv = NULL;
    proto_item *ks_item, *ti;
    proto_tree *ks_tree;
    tn_machine_t tn;
    guint32 npieces, i, pos_in_line = 0;
    wmem_strbuf_t *meant;
    const char *chars;
    keystroke_info_t *info;

    if (len == 0)
        return 0;

    /* TCP inside an ICMP error: a copy of bytes sent before, not new
     * keystrokes. Leave the lines alone and let SMTP show it as it would. */
    if (pinfo->flags.in_error_pkt)
        return call_dissector(smtp_handle, tvb, pinfo, tree);

    if (!PINFO_FD_VISITED(pinfo)) {
        guint32 ref;
        gboolean first = ft_get(&ks_frames, pinfo->num) == 0;
        fr = ks_first_pass(pinfo, tcpi, bytes, len, cut, client, &conv, &w, &split, &walked, &ref);
        if (first)
            ft_set(&ks_frames, pinfo->num, ref);
        else
            p_add_proto_data(wmem_file_scope(), pinfo, proto_keystroke, pinfo->curr_layer_num, fr);
    } else {
        fr = ks_frame_get(pinfo->num);
        if (fr && fr->layer != (guint8)pinfo->curr_layer_num)
            fr = (kss_segment_t *)p_get_proto_data(wmem_file_scope(), pinfo, proto_keystroke, pinfo->curr_layer_num);
    }

    ks_item = proto_tree_add_item(tree, proto_keystroke, tvb, 0, -1, ENC_NA);
    ks_tree = proto_item_add_subtree(ks_item, ett_keystroke);

    if (!fr) {
        /* Not seen by the first pass (the TCP dissector did not hand it
         * to us then): show the bytes, claim nothing. */
        tn_init(&tn);
        proto_tree_add_string(ks_tree, hf_keystroke_char, tvb, 0, len, esc_keystrokes(pinfo->pool, &tn, bytes, len));
        return len;
    }

    /* A segment cut short by the capture's snapshot length: no keystrokes
     * are drawn, SMTP shows it as it would without us (TCP does not
     * reassemble cut segments either), and its lines go to SMTP Lab. */
    if (fr->flags & KSS_F_CUT) {
        if (fr->skip >= len) {
            info = wmem_new0(pinfo->pool, keystroke_info_t);
            info->client = client;
        } else {
            info = ks_cut_info(pinfo, bytes, len, client);
        }
        info->conversation = conv;
        ks_set_info(pinfo, info);
        proto_tree_add_expert(ks_tree, pinfo, &ei_keystroke_cut_short, tvb, 0, len);
        return call_dissector(smtp_handle, tvb, pinfo, tree);
    }

    col_set_str(pinfo->cinfo, COL_PROTOCOL, "Keystroke");
    if (fr->skip >= len) {
        info = wmem_new0(pinfo->pool, keystroke_info_t);
        info->client = client;
        info->conversation = conv;
        ks_set_info(pinfo, info);
        col_add_fstr(pinfo->cinfo, COL_INFO, "%s: [retransmitted keystrokes]", client ? "C" : "S");
        proto_tree_add_expert(ks_tree, pinfo, &ei_keystroke_retransmission, tvb, 0, len);
        return len;
    }

    /* The first pass has just read the segment: its reading is the same. */
    if (!walked) {
        split = fr->start;
        kss_walk(pinfo->pool, &split, fr->line, bytes, len, fr->skip, &w);
    }
    npieces = wmem_array_get_count(w.pieces);

    /* The escaped keystrokes: for the tree, and for the Info column of a
     * segment that completes no line (SMTP writes the others'). */
    if (ks_tree || npieces == 0)
        chars = ks_escape_segment(pinfo, fr, &w, bytes, len);
    else
        chars = NULL;
    ti = proto_tree_add_string(ks_tree, hf_keystroke_char, tvb, fr->skip, len - fr->skip, chars);
    if (fr->flags & KSS_F_RETRANS)
        expert_add_info(pinfo, ti, &ei_keystroke_retransmission);
    if (fr->flags & KSS_F_GAP)
        expert_add_info(pinfo, ti, &ei_keystroke_gap);
    /* Counted from the segment with the line's first typed byte: a segment
     * of telnet commands only, before it, has no index (0). */
    if (fr->start.data || npieces > 0 || split.data) {
        pos_in_line = fr->start.line_pos - (fr->line ? fr->line->typed_at : 0) + 1;
        ti = proto_tree_add_uint(ks_tree, hf_keystroke_index, tvb, fr->skip, 1, pos_in_line);
        proto_item_set_generated(ti);
    }
    if (fr->line && fr->start.data) {
        nstime_t interval;
        interval.secs = (time_t)(fr->interval_ns / 1000000000);
        interval.nsecs = (int)(fr->interval_ns % 1000000000);
        ti = proto_tree_add_time(ks_tree, hf_keystroke_interval, tvb, fr->skip, len - fr->skip, &interval);
        proto_item_set_generated(ti);
    }

    info = wmem_new0(pinfo->pool, keystroke_info_t);
    info->conversation = conv;
    info->lines_known = TRUE;
    info->client = client;
    info->seq_known = tcpi != NULL;
    info->seq = tcpi ? tcpi->seq : 0;
    info->continues_line = fr->line != NULL;
    info->leaves_line = la_split_in_line(&split);
    info->chunk_bytes = w.chunk_bytes;
    if (fr->tail) {
        info->open_raw = fr->tail->bytes;
        info->open_raw_len = MIN(fr->tail->stored, split.line_pos);
    }
    ks_telnet_summary(pinfo, &w, info);
    ks_set_info(pinfo, info);

    for (i = 0; i < wmem_array_get_count(w.cmds); i++) {
        const kss_cmd_t *c = (const kss_cmd_t *)wmem_array_index(w.cmds, i);
        guint32 start = (c->end - fr->skip > c->cmd.length) ? c->end - c->cmd.length : fr->skip;
        proto_tree *tt;

        tt = proto_tree_add_subtree(ks_tree, tvb, start, c->end - start, ett_keystroke_telnet, NULL,
                                    esc_telnet_command(pinfo->pool, &c->cmd));
        proto_tree_add_string(tt, hf_keystroke_telnet_command, tvb, start, c->end - start,
                              esc_telnet_command_name(pinfo->pool, c->cmd.cmd));
        if (c->cmd.option >= 0)
            proto_tree_add_string(tt, hf_keystroke_telnet_option, tvb, start, c->end - start,
                                  esc_telnet_option(pinfo->pool, (guint8)c->cmd.option));
    }
    if (w.sb_aborted)
        proto_tree_add_expert(ks_tree, pinfo, &ei_keystroke_sb_unterminated, tvb, fr->skip, len - fr->skip);
    for (i = 0; ks_tree && i < wmem_array_get_count(w.chunks); i++) {
        const kss_chunk_t *c = (const kss_chunk_t *)wmem_array_index(w.chunks, i);
        proto_tree_add_uint(ks_tree, hf_keystroke_chunk, tvb, c->start, c->end - c->start, c->end - c->start);
    }

    /* Enter presses that ended no line, on the frame of their last byte:
     * a CR NUL's NUL, a bare CR (known once the next byte is seen). A
     * server's CR inside a reply line is no key press. */
    for (i = 0; client && i < wmem_array_get_count(w.enters); i++) {
        const kss_enter_t *e = (const kss_enter_t *)wmem_array_index(w.enters, i);
        guint32 n = (e->sent == LA_EOL_CRNUL && !e->earlier) ? 2 : 1;
        if (info->leaves_line && (npieces == 0 || e->end > w.tail_start))
            info->enters_open++;
        if (e->sent == LA_EOL_CR && e->earlier)
            continue;
        if (e->sent == LA_EOL_CRNUL)
            info->enters_crnul++;
        else
            info->enters_cr++;
        ti = proto_tree_add_string(ks_tree, hf_keystroke_enter, tvb, e->end - n, n, la_eol_name(e->sent));
        proto_item_set_generated(ti);
    }
    if (client && (fr->flags & KSS_F_BARE_CR)) {
        info->enters_cr++;
        ti = proto_tree_add_string(ks_tree, hf_keystroke_enter, tvb, len - 1, 1, la_eol_name(LA_EOL_CR));
        proto_item_set_generated(ti);
    }
    if (walked && client)
        info->bare_cr_frame = w.bare_cr_frame;

    if (fr->tail && fr->tail->completed_in && fr->tail->completed_in != pinfo->num) {
        ti = proto_tree_add_uint(ks_tree, hf_keystroke_line_in, tvb, 0, 0, fr->tail->completed_in);
        proto_item_set_generated(ti);
    }
    if (fr->tail && split.line_pos > LA_MAX_LINE)
        proto_tree_add_expert_format(ks_tree, pinfo, &ei_keystroke_line_too_long, tvb, w.tail_start, len - w.tail_start,
                                     "Line of more than %u bytes without a line end: only its first %u bytes are kept",
                                     LA_MAX_LINE, LA_MAX_LINE);

    if (npieces == 0 && w.chunk_bytes) {
        /* BDAT chunk bytes only (and maybe the start of a line): SMTP,
         * which read the BDAT command, reads them as the chunk's. */
        const kss_chunk_t *c0 = (const kss_chunk_t *)wmem_array_index(w.chunks, 0);
        const kss_chunk_t *cn = (const kss_chunk_t *)wmem_array_index(w.chunks, wmem_array_get_count(w.chunks) - 1);
        ks_call_smtp(tvb_new_subset_length(tvb, c0->start, cn->end - c0->start), pinfo, tree);
        return len;
    }
    if (npieces == 0) {
        if (pos_in_line)
            col_add_fstr(pinfo->cinfo, COL_INFO, "%s: keystroke \"%s\" (%u)", client ? "C" : "S", chars, pos_in_line);
        else
            col_add_fstr(pinfo->cinfo, COL_INFO, "%s: keystroke \"%s\"", client ? "C" : "S", chars);
        return len;
    }

    {
        const guint8 *ltvb_bytes;
        tvbuff_t *ltvb = ks_lines_tvb(tvb, pinfo, &w, bytes, &ltvb_bytes);
        info->nlines = npieces;
        info->lines = wmem_alloc_array(pinfo->pool, keystroke_line_t, npieces);
        meant = wmem_strbuf_new(pinfo->pool, "");
        for (i = 0; i < npieces; i++) {
            const kss_piece_t *p = (const kss_piece_t *)wmem_array_index(w.pieces, i);
            keystroke_line_t *li = &info->lines[i];
            guint32 loff = kss_piece_offset(&w, i);

            kss_line_info(pinfo->pool, ltvb_bytes, loff, p, client, li);
            if (ks_tree)
                ks_draw_line(ltvb, loff, pinfo, ks_tree, p, li, client);
            else
                ks_note_line_too_long(ltvb, loff, pinfo, NULL, p, li);
            if (li->edited_len != li->raw_len || (li->raw_len && memcmp(li->edited, li->raw, li->raw_len) != 0))
                wmem_strbuf_append_printf(meant, " [meant: %s]", esc_bytes(pinfo->pool, li->edited, li->edited_len));
        }
        ks_call_smtp(ltvb, pinfo, tree);
        if (wmem_strbuf_get_len(meant))
            col_append_str(pinfo->cinfo, COL_INFO, wmem_strbuf_get_str(meant));
    }
    return len;
}

static int
dissect_keystroke(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    return ks_dissect(tvb, pinfo, tree, (const struct tcpinfo *)data, pinfo->destport == pinfo->match_uint);
}

const keystroke_info_t *
keystroke_withheld(tvbuff_t *payload, packet_info *pinfo, proto_tree *tree, gboolean client, guint32 seq)
{
    struct tcpinfo tcpi;
    guint32 saved_match = pinfo->match_uint;
    guint32 len = tvb_reported_length(payload);
    gboolean first = !PINFO_FD_VISITED(pinfo);

    if (!proto_is_protocol_enabled(keystroke_protocol) || len == 0)
        return NULL;
    memset(&tcpi, 0, sizeof tcpi);
    tcpi.seq = seq;
    tcpi.nxtseq = seq + len;
    if (first) {
        conversation_t *conv;
        kss_seq_t s = { TRUE, seq, seq + len };
        if (!kss_has_new_bytes(ks_get_flow(pinfo, client, &conv), s))
            return NULL;
    }
    /* SMTP, called for the lines, tells requests by the port matched. */
    pinfo->match_uint = client ? pinfo->destport : pinfo->srcport;
    ks_dissect(payload, pinfo, tree, first ? &tcpi : NULL, client);
    pinfo->match_uint = saved_match;
    return keystroke_frame_info(pinfo);
}

gboolean
keystroke_took_withheld(packet_info *pinfo)
{
    const kss_segment_t *fr = ks_frame_get(pinfo->num);

    return fr && fr->layer == (guint8)pinfo->curr_layer_num;
}

const keystroke_info_t *
keystroke_frame_info(packet_info *pinfo)
{
    return (const keystroke_info_t *)p_get_proto_data(pinfo->pool, pinfo, proto_keystroke, KS_INFO_KEY);
}

/* Notes a port TCP hands to the keystroke layer: by the port preference or
 * by Decode As, which both fill TCP's port table. */
static void
keystroke_note_port(const gchar *table_name _U_, ftenum_t selector_type _U_, gpointer key, gpointer value,
                    gpointer user_data _U_)
{
    guint32 port = GPOINTER_TO_UINT(key);

    if (port <= G_MAXUINT16 && dtbl_entry_get_handle((dtbl_entry_t *)value) == keystroke_handle)
        keystroke_watched_ports[port >> 3] |= (guint8)(1u << (port & 7));
}

/* At the start of every dissection: a disabled keystroke layer gives its
 * ports back to the built-in SMTP dissector (else they would show as data),
 * and takes them again once enabled. Only ports it gave away are taken
 * back, so an explicit Decode As to SMTP stays. */
static void
keystroke_init(void)
{
    gboolean enabled = proto_is_protocol_enabled(keystroke_protocol);
    range_t *ports = prefs_get_range_value("keystroke", "tcp.port");
    guint i;
    guint32 port;

    ft_init(&ks_frames, wmem_file_scope());
    ft_pool_init(&ks_pool, wmem_file_scope(), sizeof(kss_segment_t));
    for (i = 0; i < G_N_ELEMENTS(ks_clean); i++) {
        memset(&ks_clean[i], 0, sizeof ks_clean[i]);
        la_split_init(&ks_clean[i].start);
        if (i >= 256)
            la_split_set_client(&ks_clean[i].start);
        ks_clean[i].layer = (guint8)(i & 0xff);
    }
    memset(keystroke_watched_ports, 0, sizeof keystroke_watched_ports);
    if (!ports || !tcp_port_table)
        return;
    for (i = 0; i < ports->nranges; i++) {
        for (port = ports->ranges[i].low; port <= ports->ranges[i].high && port <= G_MAXUINT16; port++) {
            dissector_handle_t current = dissector_get_uint_handle(tcp_port_table, port);
            if (!enabled && current == keystroke_handle) {
                dissector_add_uint("tcp.port", port, smtp_handle);
                wmem_map_insert(given_to_smtp, GUINT_TO_POINTER(port), GUINT_TO_POINTER(1));
            } else if (enabled && current == smtp_handle && wmem_map_remove(given_to_smtp, GUINT_TO_POINTER(port))) {
                dissector_add_uint("tcp.port", port, keystroke_handle);
            }
        }
    }
    if (enabled)
        dissector_table_foreach("tcp.port", keystroke_note_port, NULL);
}

void
proto_register_keystroke(void)
{
    static hf_register_info hf[] = {
        { &hf_keystroke_char,
          { "Keystrokes", "keystroke.char", FT_STRING, BASE_NONE, NULL, 0x0,
            "This segment's bytes, escaped for display", HFILL } },
        { &hf_keystroke_index,
          { "Position in line", "keystroke.index", FT_UINT32, BASE_DEC, NULL, 0x0,
            "1-based position of this segment's first byte in its line, from the segment with its first typed byte", HFILL } },
        { &hf_keystroke_interval,
          { "Time since previous keystroke", "keystroke.interval", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
            "Time since the previous keystroke of the same line", HFILL } },
        { &hf_keystroke_line_in,
          { "Line completed in", "keystroke.line_in", FT_FRAMENUM, BASE_NONE, NULL, 0x0,
            "The frame that completes the line this segment is part of", HFILL } },
        { &hf_keystroke_telnet_command,
          { "Telnet command", "keystroke.telnet.command", FT_STRING, BASE_NONE, NULL, 0x0,
            "A telnet command (IAC sequence) sent on an SMTP port", HFILL } },
        { &hf_keystroke_telnet_option,
          { "Telnet option", "keystroke.telnet.option", FT_STRING, BASE_NONE, NULL, 0x0,
            "The option of a telnet WILL, WONT, DO, DONT or SB command", HFILL } },
        { &hf_keystroke_line,
          { "Line as received", "keystroke.line", FT_STRING, BASE_NONE, NULL, 0x0,
            "The complete line exactly as the server received it, escaped, without its line ending", HFILL } },
        { &hf_keystroke_line_edited,
          { "Line as meant", "keystroke.line.edited", FT_STRING, BASE_NONE, NULL, 0x0,
            "The line with BS, DEL, telnet EC and EL applied and telnet commands removed (the heading of each line)", HFILL } },
        { &hf_keystroke_eol,
          { "Line ending", "keystroke.eol", FT_STRING, BASE_NONE, NULL, 0x0,
            "How the line ended: CRLF or LF", HFILL } },
        { &hf_keystroke_enter,
          { "Enter that ended no line", "keystroke.enter", FT_STRING, BASE_NONE, NULL, 0x0,
            "An Enter press that sent CR NUL or a bare CR: the server reads a line up to LF, so it ended nothing", HFILL } },
        { &hf_keystroke_count,
          { "Segment count", "keystroke.count", FT_UINT32, BASE_DEC, NULL, 0x0,
            "How many segments carried the line", HFILL } },
        { &hf_keystroke_segment,
          { "Segment", "keystroke.segment", FT_FRAMENUM, BASE_NONE, NULL, 0x0,
            "A frame that carried part of the line", HFILL } },
        { &hf_keystroke_backspaces,
          { "Erase keystrokes", "keystroke.backspaces", FT_UINT32, BASE_DEC, NULL, 0x0,
            "Erase keystrokes in the line (BS, DEL, telnet EC)", HFILL } },
        { &hf_keystroke_duration,
          { "Typing time", "keystroke.duration", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
            "Time from the first keystroke of a line the client sent in several segments to its end", HFILL } },
        { &hf_keystroke_chunk,
          { "BDAT chunk bytes", "keystroke.chunk", FT_UINT32, BASE_DEC, NULL, 0x0,
            "Bytes of this segment that belong to a BDAT chunk (RFC 3030): the message's bytes, in no line", HFILL } },
    };

    static gint *ett[] = {
        &ett_keystroke,
        &ett_keystroke_line,
        &ett_keystroke_segments,
        &ett_keystroke_telnet,
    };

    static ei_register_info ei[] = {
        { &ei_keystroke_retransmission,
          { "keystroke.retransmission", PI_SEQUENCE, PI_NOTE,
            "Retransmitted keystrokes: bytes already received in an earlier segment, not counted again", EXPFILL } },
        { &ei_keystroke_gap,
          { "keystroke.gap", PI_SEQUENCE, PI_WARN,
            "Bytes before this segment were not captured: the line may lack keystrokes", EXPFILL } },
        { &ei_keystroke_line_too_long,
          { "keystroke.line_too_long", PI_PROTOCOL, PI_WARN,
            "Line longer than 65536 bytes: only its first 65536 bytes are kept", EXPFILL } },
        { &ei_keystroke_sb_unterminated,
          { "keystroke.telnet.sb_unterminated", PI_MALFORMED, PI_WARN,
            "Telnet subnegotiation (IAC SB) without IAC SE within 1024 bytes: read as data from here on", EXPFILL } },
        { &ei_keystroke_cut_short,
          { "keystroke.cut_short", PI_SEQUENCE, PI_WARN,
            "Segment cut short by the capture's snapshot length: its bytes are read on their own, "
            "not as keystrokes of a line, and the next segment starts a new line", EXPFILL } },
    };

    expert_module_t *expert_keystroke;

    proto_keystroke = proto_register_protocol("Telnet Keystroke Reassembly", "Keystroke", "keystroke");
    keystroke_protocol = find_protocol_by_id(proto_keystroke);
    given_to_smtp = wmem_map_new(wmem_epan_scope(), g_direct_hash, g_direct_equal);
    register_init_routine(keystroke_init);
    proto_register_field_array(proto_keystroke, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    expert_keystroke = expert_register_protocol(proto_keystroke);
    expert_register_field_array(expert_keystroke, ei, array_length(ei));

    keystroke_handle = register_dissector("keystroke", dissect_keystroke, proto_keystroke);
}

void
proto_reg_handoff_keystroke(void)
{
    smtp_handle = find_dissector_add_dependency("smtp", proto_keystroke);
    dissector_add_uint_range_with_preference("tcp.port", KEYSTROKE_TCP_PORTS, keystroke_handle);
    tcp_port_table = find_dissector_table("tcp.port");
}
